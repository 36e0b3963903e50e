/* Inside the ubd driver: one struct per unit, shared by the option parser (setup.c),
 * the image opener (image.c), the request path (io.c) and the glue (ubd.c). */
#ifndef UBD_INT_H
#define UBD_INT_H

#include "../kernel/blkdev.h"
#include "../kernel/sched.h"
#include "cow.h"

#define UBD_MAX 16
#define UBD_MAJOR 98
#define UBD_SHIFT 4 /* minor = unit << 4, as UML */

struct ubd_dev {
	struct blkdev blk;
	int unit;

	/* From the command line: ubd<N>[r][s][d][c][t]=file[,backing] */
	bool configured;
	char *file;    /* the image, or the COW file */
	char *backing; /* the backing file named on the command line, or NULL */
	bool ro, sync, no_cow, shared, no_trim;

	/* Open state. */
	bool open;
	int fd;	 /* the image or the COW file */
	int bfd; /* the backing file (read-only), -1 without COW */
	bool cow;
	struct cow_header hdr;
	struct cow_layout lay;
	uint8_t *bitmap; /* in memory, always at least what is on disk */
	bool written;	 /* something was written since open: flush at close */
	bool bm_stale;	 /* a bitmap write failed: rewrite it all at close */

	/* Requests, all touched by the kernel thread only. */
	unsigned busy;	       /* bios accepted and not yet completed */
	struct waitq idle;     /* woken when busy drops to 0 */
	bool bm_writing;       /* a bitmap write is in flight */
	uint64_t bm_lo, bm_hi; /* bitmap sectors changed and not yet being written */
	struct list bm_wait;   /* requests whose bits wait for the next bitmap write */
	struct list bm_busy;   /* requests whose bits the running bitmap write carries */
};

extern struct ubd_dev ubd_devs[UBD_MAX];
/* Set by ubd_init(), cleared by ubd_shutdown(). */
extern bool ubd_booted;

/* image.c: open, validate, lock (or create the COW file); prints one line and
 * returns -1 on failure. Close flushes and releases everything. */
int ubd_open_image(struct ubd_dev *d);
void ubd_close_image(struct ubd_dev *d);

/* io.c: the io_uring ring and its reaper thread; requests. */
int ubd_io_start(void);
void ubd_io_stop(void);
void ubd_submit(struct blkdev *b, struct bio *bio);
/* Wait until every request of d has completed (task or scheduler context). */
void ubd_drain(struct ubd_dev *d);

/* "vmlinux: ubd<N>: <message>" on stderr; returns -1. */
int ubd_err(const struct ubd_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
