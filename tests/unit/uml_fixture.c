/* The COW fixture made by real UML: see uml_fixture.h. */
#include "uml_fixture.h"
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *fixture_desc(const char *key)
{
	static char val[4096];
	char line[4200];
	size_t n = strlen(key);
	FILE *f = fopen(FIXTURES "uml_cow.desc", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, n) && line[n] == '=') {
			line[strcspn(line, "\n")] = 0;
			strcpy(val, line + n + 1);
			fclose(f);
			return val;
		}
	}
	fail_msg("uml_cow.desc has no %s", key);
	return NULL;
}

void fixture_gunzip(const char *gz, const char *to)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "gzip -dc %s > %s", gz, to);
	assert_int_equal(system(cmd), 0);
}

uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	fstat(fd, &st);
	buf = malloc(st.st_size + 1);
	assert_int_equal(pread(fd, buf, st.st_size, 0), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}
