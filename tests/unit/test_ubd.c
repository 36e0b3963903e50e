/* The ubd driver end to end through io_uring, on temporary image files: options,
 * plain and COW reads and writes, read-only, discard, locks, refusals with their
 * messages, many requests in flight, and COW files shared with real UML. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_sched.h"
#include "kernel/blkdev.h"
#include "ubd/cow.h"
#include "ubd/ubd.h"
#include "uml_fixture.h"

#define SECTOR 512

static char dir[64];

static char *tmp(const char *name)
{
	static char bufs[4][256];
	static int i;
	char *p = bufs[i++ % 4];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static uint8_t pattern(uint64_t off, int seed)
{
	return (uint8_t)(off * 7 + off / SECTOR * 13 + seed);
}

static void fill(uint8_t *buf, size_t len, uint64_t off, int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(off + i, seed);
}

static void make_file(const char *path, size_t len, int seed)
{
	uint8_t *buf = malloc(len + 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	fill(buf, len, 0, seed);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
}

static void set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = {{t, 0}, {t, 0}};

	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static time_t mtime_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mtime;
}

/* stderr into a file, to check the one-line messages. */
static int saved_stderr = -1;
static char errbuf[8192];

static void capture(void)
{
	int fd = open(tmp("stderr"), O_RDWR | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

static const char *captured(void)
{
	int fd = open(tmp("stderr"), O_RDONLY);
	ssize_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	n = read(fd, errbuf, sizeof(errbuf) - 1);
	close(fd);
	errbuf[n > 0 ? n : 0] = 0;
	return errbuf;
}

static int lines(const char *s)
{
	int n = 0;

	while ((s = strchr(s, '\n')))
		n++, s++;
	return n;
}

/* Boot with one option; expect failure and check the single line it printed. */
static void boot_fails(const char *key, const char *value, const char *needle)
{
	const char *err;
	int r;

	capture();
	r = ubd_setup(key, value);
	if (!r)
		r = ubd_init();
	err = captured();
	assert_int_equal(r, -1);
	if (!strstr(err, needle) || lines(err) != 1 || strncmp(err, "vmlinux: ", 9))
		fail_msg("expected one line with \"%s\", got: %s", needle, err);
	ubd_shutdown();
}

static struct blkdev *boot(const char *key, const char *value)
{
	assert_int_equal(ubd_setup(key, value), 0);
	assert_int_equal(ubd_init(), 0);
	return blk_lookup("ubda");
}

/* "<dir>/cow.img,<dir>/base.img" */
static const char *cow_option(void)
{
	static char val[600];

	snprintf(val, sizeof(val), "%s,%s", tmp("cow.img"), tmp("base.img"));
	return val;
}

/* Requests submitted without waiting, to have many in flight. */
struct batch {
	struct waitq wq;
	int n, done, failed;
};

static void batch_done(struct bio *b)
{
	struct batch *bt = b->priv;

	bt->failed += b->result != 0;
	bt->done++;
	wake_up(&bt->wq);
}

static void submit(struct blkdev *d, struct bio *b, struct batch *bt, enum bio_op op, uint64_t off,
		   void *buf, size_t len)
{
	*b = (struct bio){
	    .op = op, .off = off, .len = len, .buf = buf, .done = batch_done, .priv = bt};
	bt->n++;
	d->ops->submit(d, b);
}

static void batch_wait(struct batch *bt)
{
	wait_event(&bt->wq, bt->done == bt->n, false, 0);
	assert_int_equal(bt->failed, 0);
}

/* --- options ------------------------------------------------------------------- */

static void test_setup_options(void **state)
{
	static const struct {
		const char *key, *value, *needle;
	} bad[] = {
	    {"ubd16", "a.img", "not a ubd device"},
	    {"ubdq", "a.img", "not a ubd device"},
	    {"ubd", "a.img", "not a ubd device"},
	    {"ubd100", "a.img", "not a ubd device"},
	    {"ubd2x", "a.img", "unknown flag 'x'"},
	    {"ubd3d", "cow.img,base.img", "'d' flag"},
	    {"ubd4", "", "no image file"},
	    {"ubd4", ",base.img", "no image file"},
	    {"ubd5", "a,b,c", "too many file names"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err;

		capture();
		assert_int_equal(ubd_setup(bad[i].key, bad[i].value), -1);
		err = captured();
		if (!strstr(err, bad[i].needle) || lines(err) != 1)
			fail_msg("%s=%s: expected \"%s\", got: %s", bad[i].key, bad[i].value,
				 bad[i].needle, err);
	}
	assert_int_equal(ubd_setup("ubd0", "a.img"), 0);
	assert_int_equal(ubd_setup("ubdb", "b.img"), 0);
	assert_int_equal(ubd_setup("ubd15rsdct", "p.img"), 0);
	assert_int_equal(ubd_setup("ubdc", "cow.img,"), 0); /* empty backing: none, as UML */
	capture();
	assert_int_equal(ubd_setup("ubda", "again.img"), -1); /* ubda is ubd0 */
	assert_non_null(strstr(captured(), "vmlinux: ubd0: device given twice"));
	ubd_shutdown();
	assert_int_equal(ubd_setup("ubd0", "a.img"), 0); /* forgotten at shutdown */
}

/* --- plain images ---------------------------------------------------------------- */

static void test_plain_rw(void **state)
{
	const size_t size = (1 << 20) + 1000; /* the last sector is partial */
	uint8_t wbuf[3 * SECTOR], rbuf[3 * SECTOR], host[3 * SECTOR];
	struct blkdev *d;
	int fd;

	make_file(tmp("disk.img"), size, 1);
	d = boot("ubd0", tmp("disk.img"));
	assert_non_null(d);
	assert_string_equal(d->name, "ubda");
	assert_ptr_equal(blk_lookup("/dev/ubda"), d);
	assert_ptr_equal(blk_lookup_dev(98, 0), d);
	assert_ptr_equal(blk_next(NULL), d);
	assert_null(blk_next(d));
	assert_int_equal(d->size, (1 << 20) + 1024);
	assert_false(d->readonly);
	assert_false(d->no_discard);

	fill(wbuf, sizeof(wbuf), 0, 99);
	assert_int_equal(blk_rw(d, BIO_WRITE, 5 * SECTOR, wbuf, sizeof(wbuf)), 0);
	assert_int_equal(blk_rw(d, BIO_READ, 5 * SECTOR, rbuf, sizeof(rbuf)), 0);
	assert_memory_equal(rbuf, wbuf, sizeof(wbuf));
	assert_int_equal(blk_rw(d, BIO_FLUSH, 0, NULL, 0), 0);
	fd = open(tmp("disk.img"), O_RDONLY);
	assert_int_equal(pread(fd, host, sizeof(host), 5 * SECTOR), (ssize_t)sizeof(host));
	close(fd);
	assert_memory_equal(host, wbuf, sizeof(wbuf));

	/* Untouched sectors read as the file; past its end, as zeros. */
	assert_int_equal(blk_rw(d, BIO_READ, 0, rbuf, SECTOR), 0);
	fill(host, SECTOR, 0, 1);
	assert_memory_equal(rbuf, host, SECTOR);
	assert_int_equal(blk_rw(d, BIO_READ, (1 << 20), rbuf, 2 * SECTOR), 0);
	fill(host, 1000, 1 << 20, 1);
	assert_memory_equal(rbuf, host, 1000);
	for (int i = 1000; i < 2 * SECTOR; i++)
		assert_int_equal(rbuf[i], 0);

	assert_int_equal(blk_rw(d, BIO_READ, 100, rbuf, SECTOR), -EINVAL);
	assert_int_equal(blk_rw(d, BIO_READ, 0, rbuf, 100), -EINVAL);
	assert_int_equal(blk_rw(d, BIO_READ, d->size, rbuf, SECTOR), -EIO);
	assert_int_equal(blk_rw(d, BIO_WRITE, d->size - SECTOR, wbuf, 2 * SECTOR), -EIO);
	assert_int_equal(blk_rw(d, BIO_READ, d->size, rbuf, 0), 0);

	ubd_shutdown();
	assert_null(blk_lookup("ubda"));
	/* A device held after shutdown fails cleanly. */
	assert_int_equal(blk_rw(d, BIO_READ, 0, rbuf, SECTOR), -ENXIO);
}

static void test_two_devices_close_all(void **state)
{
	struct blkdev *a, *c;
	uint8_t buf[SECTOR];

	make_file(tmp("a.img"), 64 * SECTOR, 1);
	make_file(tmp("c.img"), 64 * SECTOR, 2);
	assert_int_equal(ubd_setup("ubdc", tmp("c.img")), 0);
	assert_int_equal(ubd_setup("ubd0", tmp("a.img")), 0);
	assert_int_equal(ubd_init(), 0);
	a = blk_lookup("ubda");
	c = blk_lookup("ubdc");
	assert_non_null(a);
	assert_non_null(c);
	assert_int_equal(c->major, 98);
	assert_int_equal(c->minor, 32);
	assert_ptr_equal(blk_next(NULL), a);
	assert_ptr_equal(blk_next(a), c);
	assert_int_equal(blk_rw(c, BIO_READ, 0, buf, SECTOR), 0);
	assert_int_equal(buf[3], pattern(3, 2));
	fill(buf, SECTOR, 0, 50);
	assert_int_equal(blk_rw(a, BIO_WRITE, 0, buf, SECTOR), 0);
	/* The kernel's shutdown path: every device closed, the registry empty. */
	blk_close_all();
	assert_null(blk_next(NULL));
	ubd_shutdown();
}

static void test_read_only(void **state)
{
	uint8_t buf[SECTOR];
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	struct blkdev *d;
	int fd;

	make_file(tmp("ro.img"), 64 * SECTOR, 3);
	d = boot("ubd0r", tmp("ro.img"));
	assert_true(d->readonly);
	assert_int_equal(blk_rw(d, BIO_READ, SECTOR, buf, SECTOR), 0);
	assert_int_equal(buf[0], pattern(SECTOR, 3));
	assert_int_equal(blk_rw(d, BIO_WRITE, 0, buf, SECTOR), -EROFS);
	assert_int_equal(blk_rw(d, BIO_DISCARD, 0, NULL, SECTOR), -EROFS);
	assert_int_equal(blk_rw(d, BIO_FLUSH, 0, NULL, 0), 0);
	/* A read lock: others may read the image too, not write it. */
	fd = open(tmp("ro.img"), O_RDWR);
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
	fl.l_type = F_WRLCK;
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), -1);
	close(fd);
	ubd_shutdown();
}

static void test_sync_flag(void **state)
{
	char link[300], target[512], want[512], line[256];
	bool found = false;
	struct dirent *e;
	DIR *fds;

	make_file(tmp("sync.img"), 64 * SECTOR, 4);
	boot("ubd0s", tmp("sync.img"));
	assert_non_null(realpath(tmp("sync.img"), want));
	/* The image's host descriptor carries O_DSYNC. */
	fds = opendir("/proc/self/fd");
	while ((e = readdir(fds))) {
		ssize_t n;
		FILE *f;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (strcmp(target, want))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fdinfo/%s", e->d_name);
		f = fopen(link, "r");
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "flags:", 6)) {
				assert_true(strtoul(line + 6, NULL, 8) & O_DSYNC);
				found = true;
			}
		}
		fclose(f);
	}
	closedir(fds);
	assert_true(found);
	ubd_shutdown();
}

static void test_discard(void **state)
{
	static uint8_t buf[256 << 10];
	struct stat before, after;
	struct blkdev *d;
	int fd;

	make_file(tmp("trim.img"), 1 << 20, 5);
	stat(tmp("trim.img"), &before);
	d = boot("ubd0", tmp("trim.img"));
	assert_int_equal(blk_rw(d, BIO_DISCARD, 256 << 10, NULL, 256 << 10), 0);
	assert_int_equal(blk_rw(d, BIO_READ, 256 << 10, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	/* A hole in the host file, same size. */
	stat(tmp("trim.img"), &after);
	assert_int_equal(after.st_size, before.st_size);
	assert_true(after.st_blocks < before.st_blocks);
	fd = open(tmp("trim.img"), O_RDONLY);
	assert_int_equal(lseek(fd, 0, SEEK_HOLE), 256 << 10);
	close(fd);
	ubd_shutdown();

	/* 't': no TRIM. */
	d = boot("ubd0t", tmp("trim.img"));
	assert_true(d->no_discard);
	assert_int_equal(blk_rw(d, BIO_DISCARD, 0, NULL, SECTOR), -EOPNOTSUPP);
	ubd_shutdown();
}

static void test_lock_conflict(void **state)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	int fd;

	make_file(tmp("locked.img"), 64 * SECTOR, 6);
	make_file(tmp("base.img"), 64 * SECTOR, 7);
	/* Another instance (any other open file) cannot even read-lock it. */
	boot("ubd0", tmp("locked.img"));
	fd = open(tmp("locked.img"), O_RDWR);
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), -1);
	ubd_shutdown();
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0); /* released at shutdown */
	fl.l_type = F_WRLCK;
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);

	/* Held by someone else: refused with one line, unless shared ('c'). */
	boot_fails("ubd0", tmp("locked.img"), "locked.img is in use by another instance (locked)");
	boot_fails("ubd0r", tmp("locked.img"), "is in use by another instance (locked)");
	boot("ubd0c", tmp("locked.img"));
	ubd_shutdown();
	close(fd);

	/* Twice in one instance: named. */
	assert_int_equal(ubd_setup("ubd0", tmp("locked.img")), 0);
	boot_fails("ubd1", tmp("locked.img"), "locked.img is already used by ubd0");

	/* A base in use read-write: no COW on it, and no stray COW file left. */
	fd = open(tmp("base.img"), O_RDWR);
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
	boot_fails("ubd0", cow_option(), "base.img is in use by another instance (locked)");
	assert_int_equal(access(tmp("cow.img"), F_OK), -1);
	close(fd);
}

static void test_missing_files(void **state)
{
	char val[600];

	boot_fails("ubd0", tmp("nope.img"), "nope.img: No such file or directory");
	boot_fails("ubd0", dir, "s a directory");
	boot_fails("ubd0r", dir, "is a directory");
	make_file(tmp("plain.img"), 64 * SECTOR, 8);
	snprintf(val, sizeof(val), "%s,%s", tmp("plain.img"), tmp("plain.img"));
	boot_fails("ubd0", val, "plain.img: not a COW file");
	snprintf(val, sizeof(val), "%s,%s", tmp("new.cow"), tmp("nobase.img"));
	boot_fails("ubd0", val, "nobase.img: No such file or directory");
	assert_int_equal(access(tmp("new.cow"), F_OK), -1);
	boot_fails("ubd0r", val, "a read-only device cannot create its COW file");
}

/* --- COW ------------------------------------------------------------------------ */

/* 64 KiB base, and a COW file with sectors 10-12 written. */
static void make_cow(void)
{
	uint8_t buf[3 * SECTOR];
	struct blkdev *d;

	make_file(tmp("base.img"), 128 * SECTOR, 9);
	set_mtime(tmp("base.img"), 1600000000);
	d = boot("ubd0", cow_option());
	fill(buf, sizeof(buf), 10 * SECTOR, 77);
	assert_int_equal(blk_rw(d, BIO_WRITE, 10 * SECTOR, buf, sizeof(buf)), 0);
	ubd_shutdown();
}

static void check_cow_reads(struct blkdev *d)
{
	uint8_t buf[8 * SECTOR], want[8 * SECTOR];

	/* Sectors 8-15: 8, 9 and 13-15 from the base, 10-12 from the COW file. */
	assert_int_equal(blk_rw(d, BIO_READ, 8 * SECTOR, buf, sizeof(buf)), 0);
	fill(want, sizeof(want), 8 * SECTOR, 9);
	fill(want + 2 * SECTOR, 3 * SECTOR, 10 * SECTOR, 77);
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_cow(void **state)
{
	uint8_t buf[2 * SECTOR], w[3 * SECTOR], *base, *after, *cow, hdr[COW_HEADER_SIZE];
	size_t base_len, after_len, cow_len;
	struct cow_header h;
	struct cow_layout l;
	char abs[512];
	struct blkdev *d;
	struct stat st;

	make_file(tmp("base.img"), 128 * SECTOR, 9);
	set_mtime(tmp("base.img"), 1600000000);
	base = slurp(tmp("base.img"), &base_len);
	d = boot("ubd0", cow_option());
	assert_int_equal(d->size, 128 * SECTOR);
	assert_int_equal(blk_rw(d, BIO_READ, 0, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, base, sizeof(buf));
	fill(w, sizeof(w), 10 * SECTOR, 77);
	assert_int_equal(blk_rw(d, BIO_WRITE, 10 * SECTOR, w, sizeof(w)), 0);
	check_cow_reads(d);
	fill(buf, sizeof(buf), 126 * SECTOR, 78); /* the last two sectors */
	assert_int_equal(blk_rw(d, BIO_WRITE, 126 * SECTOR, buf, sizeof(buf)), 0);
	assert_int_equal(blk_rw(d, BIO_FLUSH, 0, NULL, 0), 0);
	ubd_shutdown();

	/* The base is untouched, byte for byte and in its mtime. */
	after = slurp(tmp("base.img"), &after_len);
	assert_int_equal(after_len, base_len);
	assert_memory_equal(after, base, base_len);
	assert_int_equal(mtime_of(tmp("base.img")), 1600000000);

	/* The COW file: UML's header, the bits, the data where UML puts it; sparse. */
	cow = slurp(tmp("cow.img"), &cow_len);
	assert_int_equal(cow_decode(cow, cow_len, &h), COW_OK);
	assert_non_null(realpath(tmp("base.img"), abs));
	assert_string_equal(h.backing_file, abs);
	assert_int_equal(h.size, 128 * SECTOR);
	assert_int_equal(h.mtime, 1600000000);
	cow_header_init(&h, abs, 128 * SECTOR, 1600000000);
	cow_encode(&h, hdr);
	assert_memory_equal(cow, hdr, COW_HEADER_SIZE);
	cow_layout(&h, &l);
	assert_int_equal(cow_len, l.data_offset + 128 * SECTOR);
	for (int s = 0; s < 128; s++)
		assert_int_equal(cow_test_bit(cow + l.bitmap_offset, s),
				 (s >= 10 && s <= 12) || s >= 126);
	fill(buf, SECTOR, 11 * SECTOR, 77);
	assert_memory_equal(cow + l.data_offset + 11 * SECTOR, buf, SECTOR);
	stat(tmp("cow.img"), &st);
	assert_true(st.st_blocks * 512 < st.st_size);
	free(base);
	free(after);
	free(cow);
}

static void test_cow_reopen(void **state)
{
	uint8_t buf[SECTOR];
	struct blkdev *d;

	make_cow();
	/* From the header alone. */
	d = boot("ubd0", tmp("cow.img"));
	check_cow_reads(d);
	fill(buf, SECTOR, 0, 5);
	assert_int_equal(blk_rw(d, BIO_WRITE, 20 * SECTOR, buf, SECTOR), 0);
	ubd_shutdown();
	/* With the base named again, and read-only. */
	d = boot("ubd0r", cow_option());
	check_cow_reads(d);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(blk_rw(d, BIO_READ, 20 * SECTOR, buf, SECTOR), 0);
	assert_int_equal(buf[1], pattern(1, 5));
	ubd_shutdown();
	/* 'd': the COW file as a plain image, header and all. */
	d = boot("ubd0d", tmp("cow.img"));
	assert_int_equal(blk_rw(d, BIO_READ, 0, buf, SECTOR), 0);
	assert_memory_equal(buf, "OOOM", 4);
	ubd_shutdown();
}

static void test_cow_refusals(void **state)
{
	char moved[600];

	make_cow();
	set_mtime(tmp("base.img"), 1600000001);
	boot_fails("ubd0", tmp("cow.img"), "was modified since the COW file was made");
	boot_fails("ubd0", cow_option(), "was modified since the COW file was made");
	set_mtime(tmp("base.img"), 1600000000);
	assert_int_equal(truncate(tmp("base.img"), 129 * SECTOR), 0);
	set_mtime(tmp("base.img"), 1600000000);
	boot_fails("ubd0", tmp("cow.img"), "changed size since the COW file was made");
	assert_int_equal(truncate(tmp("base.img"), 128 * SECTOR), 0);
	set_mtime(tmp("base.img"), 1600000000);
	boot("ubd0", tmp("cow.img"));
	ubd_shutdown();

	/* The base gone: named in the message. */
	assert_int_equal(rename(tmp("base.img"), tmp("gone.img")), 0);
	boot_fails("ubd0", tmp("cow.img"), "base.img: No such file or directory");
	/* Another file with the base's size and mtime: taken, and the header now names
	 * it (UML does the same when a base has moved). */
	snprintf(moved, sizeof(moved), "%s,%s", tmp("cow.img"), tmp("gone.img"));
	check_cow_reads(boot("ubd0", moved));
	ubd_shutdown();
	check_cow_reads(boot("ubd0", tmp("cow.img")));
	ubd_shutdown();
	/* A different base entirely: refused. */
	make_file(tmp("other.img"), 128 * SECTOR, 3);
	snprintf(moved, sizeof(moved), "%s,%s", tmp("cow.img"), tmp("other.img"));
	boot_fails("ubd0", moved, "COW file of backing file");

	/* Cut short: the header, then the bitmap, missing. */
	assert_int_equal(truncate(tmp("cow.img"), 8192), 0);
	boot_fails("ubd0", tmp("cow.img"), "truncated COW file");
	assert_int_equal(truncate(tmp("cow.img"), 100), 0);
	boot_fails("ubd0", tmp("cow.img"), "truncated COW file");
}

static void test_cow_discard(void **state)
{
	uint8_t buf[4 * SECTOR];
	struct blkdev *d;

	make_cow();
	d = boot("ubd0", tmp("cow.img"));
	/* Sectors 9-12: 10-12 were in the COW file and read as zeros now; 9 was the
	 * base's and still is. The base is not written. */
	assert_int_equal(blk_rw(d, BIO_DISCARD, 9 * SECTOR, NULL, 4 * SECTOR), 0);
	assert_int_equal(blk_rw(d, BIO_READ, 9 * SECTOR, buf, sizeof(buf)), 0);
	assert_int_equal(buf[5], pattern(9 * SECTOR + 5, 9));
	for (int i = SECTOR; i < 4 * SECTOR; i++)
		assert_int_equal(buf[i], 0);
	ubd_shutdown();
	assert_int_equal(mtime_of(tmp("base.img")), 1600000000);
}

/* --- many requests ----------------------------------------------------------------- */

/* More requests than the ring holds, on an 8 MiB COW device whose bitmap spans
 * four bitmap sectors: everything lands, and exactly the written bits are set. */
static void test_many_in_flight(void **state)
{
	enum { N = 600 };
	static struct bio bios[N];
	static uint8_t bufs[N][SECTOR], rbuf[SECTOR];
	struct batch bt = {.n = 0};
	struct cow_header h;
	struct cow_layout l;
	struct blkdev *d;
	uint8_t *cow;
	size_t len;

	waitq_init(&bt.wq);
	make_file(tmp("base.img"), 8 << 20, 11);
	d = boot("ubd0", cow_option());
	for (int i = 0; i < N; i++) {
		uint64_t s = (uint64_t)i * 27 % (16384 - 1);

		fill(bufs[i], SECTOR, s * SECTOR, 100);
		submit(d, &bios[i], &bt, BIO_WRITE, s * SECTOR, bufs[i], SECTOR);
	}
	batch_wait(&bt);
	for (int i = 0; i < N; i += 37) {
		uint64_t s = (uint64_t)i * 27 % (16384 - 1);

		assert_int_equal(blk_rw(d, BIO_READ, s * SECTOR, rbuf, SECTOR), 0);
		assert_memory_equal(rbuf, bufs[i], SECTOR);
	}
	/* Reads too, mixed: every sector read back in one go. */
	bt = (struct batch){.n = 0};
	waitq_init(&bt.wq);
	for (int i = 0; i < N; i++)
		submit(d, &bios[i], &bt, BIO_READ, (uint64_t)i * SECTOR, bufs[i], SECTOR);
	batch_wait(&bt);
	ubd_shutdown();

	cow = slurp(tmp("cow.img"), &len);
	assert_int_equal(cow_decode(cow, len, &h), COW_OK);
	cow_layout(&h, &l);
	assert_int_equal(l.bitmap_len, 2048);
	for (uint64_t s = 0; s < 16384; s++) {
		bool want = false;

		for (int i = 0; i < N && !want; i++)
			want = (uint64_t)i * 27 % (16384 - 1) == s;
		assert_int_equal(cow_test_bit(cow + l.bitmap_offset, s), want);
	}
	free(cow);
}

/* Shutdown from outside any task (the scheduler has stopped) still completes
 * what is in flight. */
static void test_shutdown_without_task(void **state)
{
	enum { N = 64 };
	static struct bio bios[N];
	static uint8_t bufs[N][SECTOR];
	struct batch bt = {.n = 0};
	struct blkdev *d;
	uint8_t rbuf[SECTOR];

	waitq_init(&bt.wq);
	make_file(tmp("disk.img"), N * SECTOR, 12);
	d = boot("ubd0", tmp("disk.img"));
	for (int i = 0; i < N; i++) {
		fill(bufs[i], SECTOR, i * SECTOR, 55);
		submit(d, &bios[i], &bt, BIO_WRITE, i * SECTOR, bufs[i], SECTOR);
	}
	current = NULL;
	ubd_shutdown();
	current = fake_task;
	assert_int_equal(bt.done, N);
	assert_int_equal(bt.failed, 0);
	fake_sched_run_posted(); /* a reap() posted meanwhile finds nothing */
	d = boot("ubd0", tmp("disk.img"));
	assert_int_equal(blk_rw(d, BIO_READ, 7 * SECTOR, rbuf, SECTOR), 0);
	assert_memory_equal(rbuf, bufs[7], SECTOR);
	ubd_shutdown();
}

/* --- real UML ----------------------------------------------------------------------- */

/* Read the whole COW device: every sector must be the COW file's where its bit is
 * set and the base's elsewhere. Returns whether the marker UML's init wrote is in
 * a sector of the COW file (the base has it too, inside the init binary). */
static bool check_device(struct blkdev *d, const char *cow_path, const uint8_t *base,
			 const char *marker)
{
	size_t cow_len;
	uint8_t *cow = slurp(cow_path, &cow_len), *all = malloc(d->size);
	struct cow_header h;
	struct cow_layout l;
	bool found = false;

	assert_int_equal(cow_decode(cow, cow_len, &h), COW_OK);
	cow_layout(&h, &l);
	assert_int_equal(blk_rw(d, BIO_READ, 0, all, d->size), 0);
	for (uint64_t s = 0; s < d->size / SECTOR; s++) {
		bool in_cow = cow_test_bit(cow + l.bitmap_offset, s);
		const uint8_t *want = in_cow ? cow + l.data_offset + s * SECTOR : base + s * SECTOR;

		assert_memory_equal(all + s * SECTOR, want, SECTOR);
		if (in_cow && memmem(want, SECTOR, marker, strlen(marker)))
			found = true;
	}
	free(all);
	free(cow);
	return found;
}

static void test_uml_made_cow(void **state)
{
	char marker[64], val[600];
	uint8_t *base, *after;
	size_t base_len, after_len;
	struct blkdev *d;

	snprintf(marker, sizeof(marker), "%s", fixture_desc("marker"));
	fixture_gunzip(FIXTURES "uml_base.img.gz", tmp("base.img"));
	fixture_gunzip(FIXTURES "uml.cow.gz", tmp("uml.cow"));
	set_mtime(tmp("base.img"), strtoll(fixture_desc("mtime"), NULL, 10));
	base = slurp(tmp("base.img"), &base_len);
	/* The header names the base where the script made it; ours is elsewhere with
	 * the same size and mtime. */
	snprintf(val, sizeof(val), "%s,%s", tmp("uml.cow"), tmp("base.img"));
	d = boot("ubd0", val);
	assert_int_equal(d->size, base_len);
	assert_true(check_device(d, tmp("uml.cow"), base, marker));
	ubd_shutdown();
	after = slurp(tmp("base.img"), &after_len);
	assert_memory_equal(after, base, base_len);
	free(after);
	free(base);
}

/* The other way: a COW file we create, booted by real UML, read back by us. */
static void test_uml_boots_our_cow(void **state)
{
	char cmd[2048], val[600], marker[64];
	uint8_t *base, *after;
	size_t base_len, after_len;
	struct blkdev *d;

	if (access("/usr/bin/linux.uml", X_OK)) {
		print_message("linux.uml not installed: skipped\n");
		skip();
	}
	snprintf(marker, sizeof(marker), "%s", fixture_desc("marker"));
	fixture_gunzip(FIXTURES "uml_base.img.gz", tmp("base.img"));
	set_mtime(tmp("base.img"), strtoll(fixture_desc("mtime"), NULL, 10));
	base = slurp(tmp("base.img"), &base_len);
	snprintf(val, sizeof(val), "%s,%s", tmp("ours.cow"), tmp("base.img"));
	d = boot("ubd0", val);
	assert_false(check_device(d, tmp("ours.cow"), base, marker));
	ubd_shutdown();

	/* UML's init writes the marker through our COW file. UML would refuse a header
	 * it disagrees with ("mtime mismatch", "Size mismatch"). */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && timeout 60 setarch $(uname -m) -R linux.uml ubd0=ours.cow "
		 "root=/dev/ubda rw mem=64M init=/sbin/init con=null con0=fd:0,fd:1 "
		 "</dev/null >uml.log 2>&1",
		 dir);
	if (system(cmd))
		print_message("linux.uml exited non-zero; see its log\n");
	d = boot("ubd0", tmp("ours.cow"));
	if (!check_device(d, tmp("ours.cow"), base, marker)) {
		snprintf(cmd, sizeof(cmd), "tail -5 %s/uml.log >&2", dir);
		(void)!system(cmd);
		fail_msg("UML did not write through our COW file");
	}
	ubd_shutdown();
	after = slurp(tmp("base.img"), &after_len);
	assert_memory_equal(after, base, base_len);
	free(base);
	free(after);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/test_ubd.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	ubd_shutdown(); /* after a failed assertion too */
	current = fake_task;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_setup_options),
	    T(test_plain_rw),
	    T(test_two_devices_close_all),
	    T(test_read_only),
	    T(test_sync_flag),
	    T(test_discard),
	    T(test_lock_conflict),
	    T(test_missing_files),
	    T(test_cow),
	    T(test_cow_reopen),
	    T(test_cow_refusals),
	    T(test_cow_discard),
	    T(test_many_in_flight),
	    T(test_shutdown_without_task),
	    T(test_uml_made_cow),
	    T(test_uml_boots_our_cow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
