/* Opening a ubd image: a plain file, or a UML COW file over a read-only backing file
 * (created when missing). Everything a user can get wrong is caught here, at boot,
 * with one line that names the file and the problem. */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "ubd_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, off + done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (!r)
			break;
		done += r;
	}
	return done;
}

static int pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done, off + done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		done += r;
	}
	return 0;
}

/* st_size is 0 for a block device: ask the device. */
static int file_size(int fd, const struct stat *st, uint64_t *size)
{
	if (S_ISBLK(st->st_mode))
		return ioctl(fd, BLKGETSIZE64, size);
	*size = st->st_size;
	return 0;
}

static int stat_fd(struct ubd_dev *d, int fd, const char *name, struct stat *st, uint64_t *size)
{
	if (fstat(fd, st) || file_size(fd, st, size))
		return ubd_err(d, "%s: %s", name, strerror(errno));
	/* A directory opens read-only without complaint, but is no disk. */
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
		return ubd_err(d, "%s: %s", name,
			       S_ISDIR(st->st_mode) ? "is a directory"
						    : "not a regular file or block device");
	return 0;
}

/* Which open unit of ours holds this file, if any: a clearer message than a lock
 * conflict with "another instance". */
static int used_by(int fd)
{
	struct stat st, o;

	if (fstat(fd, &st))
		return -1;
	for (int i = 0; i < UBD_MAX; i++) {
		const struct ubd_dev *u = &ubd_devs[i];

		if (!u->open)
			continue;
		if ((!fstat(u->fd, &o) && o.st_dev == st.st_dev && o.st_ino == st.st_ino) ||
		    (u->bfd >= 0 && !fstat(u->bfd, &o) && o.st_dev == st.st_dev &&
		     o.st_ino == st.st_ino))
			return i;
	}
	return -1;
}

/* OFD locks belong to the open file, not to the process: a second open conflicts
 * even within one process, and they conflict with the POSIX locks real UML takes. */
static int lock(struct ubd_dev *d, int fd, const char *name, bool write)
{
	struct flock fl = {.l_type = write ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET};

	if (d->shared || !fcntl(fd, F_OFD_SETLK, &fl))
		return 0;
	if (errno == EAGAIN || errno == EACCES) {
		int other = used_by(fd);

		if (other >= 0)
			return ubd_err(d, "%s is already used by ubd%d", name, other);
		return ubd_err(d, "%s is in use by another instance (locked)", name);
	}
	return ubd_err(d, "cannot lock %s: %s (ubd%dc= skips locking)", name, strerror(errno),
		       d->unit);
}

/* The path UML stores: its directory resolved to an absolute path, the last
 * component kept as given (a symlinked base stays a symlink, as in UML). */
static int absolutize(const char *path, char out[COW_PATH_LEN])
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int n;

	if (!slash) {
		if (!getcwd(dir, sizeof(dir)))
			return -errno;
	} else {
		char *part = slash == path ? strdup("/") : strndup(path, slash - path);
		char *r = part ? realpath(part, dir) : NULL;

		free(part);
		if (!r)
			return part ? -errno : -ENOMEM;
	}
	n = snprintf(out, COW_PATH_LEN, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
		     slash ? slash + 1 : path);
	return n < 0 || n >= COW_PATH_LEN ? -ENAMETOOLONG : 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The header names the backing file. Another one on the command line is taken, as
 * UML does, when it has the recorded size and mtime (the base was moved or copied);
 * the header is then rewritten to name it. */
static int pick_backing(struct ubd_dev *d)
{
	struct cow_header *h = &d->hdr;
	char path[COW_PATH_LEN];
	uint8_t buf[COW_HEADER_SIZE];
	struct stat st;
	int r;

	if (!d->backing || !strcmp(d->backing, h->backing_file) ||
	    same_file(d->backing, h->backing_file))
		return 0;
	if (stat(d->backing, &st))
		return ubd_err(d, "backing file %s: %s", d->backing, strerror(errno));
	if (cow_check_backing(h, st.st_size, st.st_mtime) != COW_OK)
		return ubd_err(d, "%s: COW file of backing file %s, not of %s", d->file,
			       h->backing_file, d->backing);
	r = absolutize(d->backing, path);
	if (r)
		return ubd_err(d, "backing file %s: %s", d->backing, strerror(-r));
	strcpy(h->backing_file, path);
	if (d->ro)
		return 0;
	cow_encode(h, buf);
	if (pwrite_full(d->fd, buf, sizeof(buf), 0))
		return ubd_err(d, "%s: cannot rewrite the COW header: %s", d->file,
			       strerror(errno));
	return 0;
}

static int load_bitmap(struct ubd_dev *d, uint64_t cow_size)
{
	ssize_t n;

	cow_layout(&d->hdr, &d->lay);
	if (cow_size < d->lay.bitmap_offset + d->lay.bitmap_len)
		return ubd_err(
		    d, "%s: truncated COW file (%" PRIu64 " bytes, its bitmap ends at %" PRIu64 ")",
		    d->file, cow_size, d->lay.bitmap_offset + d->lay.bitmap_len);
	d->bitmap = malloc(d->lay.bitmap_len + 1);
	if (!d->bitmap)
		return ubd_err(d, "%s: no memory for the COW bitmap", d->file);
	n = pread_full(d->fd, d->bitmap, d->lay.bitmap_len, d->lay.bitmap_offset);
	if (n < 0 || (uint64_t)n != d->lay.bitmap_len)
		return ubd_err(d, "%s: cannot read the COW bitmap: %s", d->file,
			       n < 0 ? strerror(errno) : "short read");
	d->cow = true;
	d->blk.size = ROUND_UP(d->hdr.size, (uint64_t)COW_SECTOR);
	return 0;
}

static int open_cow(struct ubd_dev *d, uint64_t cow_size)
{
	const char *path = d->hdr.backing_file;
	struct stat st;
	uint64_t size;

	if (pick_backing(d))
		return -1;
	/* The backing file is shared by every instance and never written. */
	d->bfd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->bfd < 0)
		return ubd_err(d, "%s: backing file %s: %s", d->file, path, strerror(errno));
	if (stat_fd(d, d->bfd, path, &st, &size))
		return -1;
	switch (cow_check_backing(&d->hdr, size, st.st_mtime)) {
	case COW_SIZE_CHANGED:
		return ubd_err(d,
			       "%s: backing file %s changed size since the COW file was made "
			       "(%" PRIu64 " bytes, the COW header says %" PRIu64 ")",
			       d->file, path, size, d->hdr.size);
	case COW_MTIME_CHANGED:
		return ubd_err(d,
			       "%s: backing file %s was modified since the COW file was made "
			       "(mtime %" PRIu32 ", the COW header says %" PRIu32 ")",
			       d->file, path, (uint32_t)st.st_mtime, d->hdr.mtime);
	default:
		break;
	}
	if (lock(d, d->bfd, path, false))
		return -1;
	return load_bitmap(d, cow_size);
}

static int create_cow(struct ubd_dev *d)
{
	char path[COW_PATH_LEN];
	uint8_t buf[COW_HEADER_SIZE];
	struct stat st;
	uint64_t size;
	int r;

	if (d->ro)
		return ubd_err(d, "%s: %s (a read-only device cannot create its COW file)", d->file,
			       strerror(ENOENT));
	r = absolutize(d->backing, path);
	if (r)
		return ubd_err(d, "backing file %s: %s", d->backing, strerror(-r));
	d->bfd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->bfd < 0)
		return ubd_err(d, "backing file %s: %s", d->backing, strerror(errno));
	/* Lock before creating, so a base in use read-write leaves no stray COW file. */
	if (stat_fd(d, d->bfd, d->backing, &st, &size) || lock(d, d->bfd, d->backing, false))
		return -1;
	cow_header_init(&d->hdr, path, size, st.st_mtime); /* absolutize() checked the length */
	cow_layout(&d->hdr, &d->lay);

	d->fd =
	    open(d->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | (d->sync ? O_DSYNC : 0), 0644);
	if (d->fd < 0)
		return ubd_err(d, "cannot create COW file %s: %s", d->file, strerror(errno));
	if (lock(d, d->fd, d->file, true))
		goto unlink;
	/* Sparse, as UML makes it: the bitmap and the data read as zeros until written. */
	cow_encode(&d->hdr, buf);
	if (pwrite_full(d->fd, buf, sizeof(buf), 0) ||
	    ftruncate(d->fd, d->lay.data_offset + size)) {
		ubd_err(d, "cannot write COW file %s: %s", d->file, strerror(errno));
		goto unlink;
	}
	if (!load_bitmap(d, d->lay.data_offset + size))
		return 0;
unlink:
	unlink(d->file);
	return -1;
}

static int open_image(struct ubd_dev *d)
{
	int flags = (d->ro ? O_RDONLY : O_RDWR | (d->sync ? O_DSYNC : 0)) | O_CLOEXEC;
	uint8_t buf[COW_HEADER_SIZE];
	struct stat st;
	uint64_t size;
	enum cow_err e;
	ssize_t n;

	d->fd = open(d->file, flags);
	if (d->fd < 0 && errno == ENOENT && d->backing)
		return create_cow(d);
	/* As UML: an image we may not write is used read-only. */
	if (d->fd < 0 && !d->ro && (errno == EACCES || errno == EROFS || errno == EPERM)) {
		d->fd = open(d->file, O_RDONLY | O_CLOEXEC);
		if (d->fd >= 0) {
			d->ro = true;
			fprintf(stderr, "vmlinux: ubd%d: %s is not writable, using it read-only\n",
				d->unit, d->file);
		}
	}
	if (d->fd < 0)
		return ubd_err(d, "%s: %s", d->file, strerror(errno));
	if (stat_fd(d, d->fd, d->file, &st, &size) || lock(d, d->fd, d->file, !d->ro))
		return -1;
	if (!d->no_cow) {
		n = pread_full(d->fd, buf, sizeof(buf), 0);
		if (n < 0)
			return ubd_err(d, "%s: %s", d->file, strerror(errno));
		e = cow_decode(buf, n, &d->hdr);
		if (e == COW_OK)
			return open_cow(d, size);
		if (e != COW_NOT_COW)
			return ubd_err(d, "%s: %s", d->file, cow_strerror(e));
		if (d->backing)
			return ubd_err(d, "%s: not a COW file, but a backing file (%s) was given",
				       d->file, d->backing);
	}
	d->blk.size = ROUND_UP(size, (uint64_t)COW_SECTOR);
	return 0;
}

static void release(struct ubd_dev *d)
{
	if (d->fd >= 0)
		close(d->fd); /* drops the OFD locks */
	if (d->bfd >= 0)
		close(d->bfd);
	free(d->bitmap);
	d->fd = d->bfd = -1;
	d->bitmap = NULL;
	d->cow = false;
}

int ubd_open_image(struct ubd_dev *d)
{
	d->fd = d->bfd = -1;
	d->bitmap = NULL;
	d->cow = d->written = d->bm_stale = false;
	if (!open_image(d))
		return 0;
	release(d);
	return -1;
}

void ubd_close_image(struct ubd_dev *d)
{
	/* Every bit was written when its request completed, unless a write failed. */
	if (d->cow && d->bm_stale &&
	    pwrite_full(d->fd, d->bitmap, d->lay.bitmap_len, d->lay.bitmap_offset))
		ubd_err(d, "%s: cannot write the COW bitmap: %s", d->file, strerror(errno));
	if ((d->written || d->bm_stale) && fdatasync(d->fd))
		ubd_err(d, "%s: flush failed: %s", d->file, strerror(errno));
	release(d);
}
