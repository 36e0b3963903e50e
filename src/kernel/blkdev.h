/* The block interface: how the kernel (the filesystem glue) talks to a block driver.
 * src/ubd/ registers devices here; the kernel knows nothing of image files or COW. */
#ifndef BLKDEV_H
#define BLKDEV_H

#include "kernel.h"

enum bio_op { BIO_READ, BIO_WRITE, BIO_FLUSH, BIO_DISCARD };

/* One request. The driver calls done() in scheduler context (never from its own I/O
 * thread directly: it uses kevent_post()) with result 0 or a negative errno. */
struct bio {
	enum bio_op op;
	uint64_t off; /* bytes, multiple of 512 */
	size_t len;   /* bytes, multiple of 512 */
	void *buf;
	int result;
	void (*done)(struct bio *b);
	void *priv;
	struct list link; /* free for the driver's use while in flight */
};

struct blkdev;
struct blkdev_ops {
	void (*submit)(struct blkdev *d, struct bio *b);
	/* Clean detach at shutdown: all requests completed and flushed. */
	void (*close)(struct blkdev *d);
};

struct blkdev {
	char name[16];	 /* "ubda" */
	uint64_t size;	 /* bytes */
	bool readonly;	 /* writes fail with -EROFS */
	bool no_discard; /* BIO_DISCARD is refused with -EOPNOTSUPP */
	unsigned major, minor;
	const struct blkdev_ops *ops;
	void *priv;
	struct list link;
};

int blk_register(struct blkdev *d);
/* Remove a device (its driver is closing it); harmless if not registered. */
void blk_unregister(struct blkdev *d);
/* By name ("ubda", "/dev/ubda") or NULL. */
struct blkdev *blk_lookup(const char *name);
struct blkdev *blk_lookup_dev(unsigned major, unsigned minor);
/* Iterate over registered devices (for devtmpfs, /proc/partitions). */
struct blkdev *blk_next(struct blkdev *prev);

/* Submit one request and sleep the calling task until it completes. Task context only. */
int blk_rw(struct blkdev *d, enum bio_op op, uint64_t off, void *buf, size_t len);
/* Close every device (shutdown), after the filesystems are unmounted. */
void blk_close_all(void);

#endif
