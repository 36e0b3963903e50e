/* Block devices backed by image files for the ext tests: each request is done with
 * pread/pwrite before submit returns, so blk_rw() never sleeps. */
#define _GNU_SOURCE
#include "fake_ext_env.h"
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <unistd.h>

struct fake_blk {
	struct blkdev dev;
	int fd;
};

static struct fake_blk *blks[4];

static int image_rw(struct fake_blk *b, struct bio *bio)
{
	switch (bio->op) {
	case BIO_READ:
		return pread(b->fd, bio->buf, bio->len, bio->off) == (ssize_t)bio->len ? 0 : -EIO;
	case BIO_WRITE:
		if (b->dev.readonly)
			return -EROFS;
		return pwrite(b->fd, bio->buf, bio->len, bio->off) == (ssize_t)bio->len ? 0 : -EIO;
	case BIO_FLUSH:
		return fdatasync(b->fd) ? -EIO : 0;
	case BIO_DISCARD:
		return -EOPNOTSUPP;
	}
	return -EINVAL;
}

static void image_submit(struct blkdev *d, struct bio *bio)
{
	assert_true(bio->off % 512 == 0 && bio->len % 512 == 0);
	bio->result = image_rw(container_of(d, struct fake_blk, dev), bio);
	bio->done(bio);
}

static const struct blkdev_ops image_ops = {.submit = image_submit};

struct blkdev *fake_blk_add(const char *name, const char *path, bool readonly)
{
	for (size_t k = 0; k < ARRAY_SIZE(blks); k++) {
		if (blks[k])
			continue;
		int fd = open(path, readonly ? O_RDONLY : O_RDWR);
		assert_true(fd >= 0);
		struct fake_blk *b = xzalloc(sizeof(*b));
		snprintf(b->dev.name, sizeof(b->dev.name), "%s", name);
		b->dev.size = lseek(fd, 0, SEEK_END);
		b->dev.readonly = readonly;
		b->dev.major = 98;
		b->dev.minor = k * 16;
		b->dev.ops = &image_ops;
		b->fd = fd;
		assert_int_equal(blk_register(&b->dev), 0);
		blks[k] = b;
		return &b->dev;
	}
	fail_msg("too many fake block devices");
	return NULL;
}

void fake_blk_remove_all(void)
{
	for (size_t k = 0; k < ARRAY_SIZE(blks); k++) {
		if (blks[k]) {
			blk_unregister(&blks[k]->dev);
			close(blks[k]->fd);
			free(blks[k]);
			blks[k] = NULL;
		}
	}
}
