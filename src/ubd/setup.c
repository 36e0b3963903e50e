/* The ubd command line, as UML takes it: ubd<N>[r][s][d][c][t]=file[,backing]
 * where N is 0-15 or a-p. */
#include "ubd.h"
#include "ubd_int.h"

#include <ctype.h>

struct ubd_dev ubd_devs[UBD_MAX];

int ubd_err(const struct ubd_dev *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmlinux: ubd%d: ", d->unit);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int parse_unit(const char **p)
{
	const char *s = *p;

	if (isdigit((unsigned char)*s)) {
		int n = 0;

		/* At most two digits, so "ubd1000000000000" cannot overflow. */
		while (isdigit((unsigned char)*s) && s - *p < 2)
			n = n * 10 + (*s++ - '0');
		if (isdigit((unsigned char)*s) || n >= UBD_MAX)
			return -1;
		*p = s;
		return n;
	}
	if (*s >= 'a' && *s < 'a' + UBD_MAX) {
		*p = s + 1;
		return *s - 'a';
	}
	return -1;
}

int ubd_setup(const char *key, const char *value)
{
	const char *p = key + 3;
	struct ubd_dev *d;
	const char *comma;
	int unit;

	if (strncmp(key, "ubd", 3) || (unit = parse_unit(&p)) < 0) {
		fprintf(stderr, "vmlinux: %s: not a ubd device (ubd0-ubd15 or ubda-ubdp)\n", key);
		return -1;
	}
	d = &ubd_devs[unit];
	d->unit = unit;
	if (ubd_booted)
		return ubd_err(d, "devices cannot be added after boot (not supported yet)");
	if (d->configured)
		return ubd_err(d, "device given twice on the command line");
	d->ro = d->sync = d->no_cow = d->shared = d->no_trim = false;
	for (; *p; p++) {
		switch (*p) {
		case 'r':
			d->ro = true;
			break;
		case 's':
			d->sync = true;
			break;
		case 'd':
			d->no_cow = true;
			break;
		case 'c':
			d->shared = true;
			break;
		case 't':
			d->no_trim = true;
			break;
		default:
			return ubd_err(d, "unknown flag '%c' in \"%s\" (flags are r, s, d, c, t)",
				       *p, key);
		}
	}
	if (!value || !*value || *value == ',')
		return ubd_err(d, "no image file given (%s=<file>[,<backing file>])", key);
	comma = strchr(value, ',');
	if (comma && strchr(comma + 1, ','))
		return ubd_err(d,
			       "too many file names in \"%s\" (serial numbers are not "
			       "supported)",
			       value);
	if (comma && !comma[1])
		comma = NULL; /* "cow.img," : no backing file, as UML */
	if (comma && d->no_cow)
		return ubd_err(d, "the 'd' flag (never COW) does not take a backing file");

	d->file = comma ? strndup(value, comma - value) : strdup(value);
	d->backing = comma ? strdup(comma + 1) : NULL;
	if (!d->file || (comma && !d->backing)) {
		free(d->file);
		free(d->backing);
		d->file = d->backing = NULL;
		return ubd_err(d, "out of memory");
	}
	d->configured = true;
	return 0;
}
