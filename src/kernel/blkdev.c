/* The block device registry and the synchronous request helper. Drivers (src/ubd/)
 * register devices here; filesystems find them by name or by device number. */
#include "blkdev.h"
#include "sched.h"

/* Sorted by (major, minor), the order /proc/partitions lists them in. */
static struct list devices = LIST_INIT(devices);

static bool before(const struct blkdev *a, const struct blkdev *b)
{
	return a->major < b->major || (a->major == b->major && a->minor < b->minor);
}

int blk_register(struct blkdev *d)
{
	struct list *pos = &devices;

	if (!d->name[0] || !d->ops || !d->ops->submit)
		return -EINVAL;
	if (blk_lookup(d->name) || blk_lookup_dev(d->major, d->minor))
		return -EEXIST;
	list_for_each(it, &devices)
	{
		if (before(d, list_entry(it, struct blkdev, link))) {
			pos = it;
			break;
		}
	}
	list_add_tail(&d->link, pos);
	return 0;
}

void blk_unregister(struct blkdev *d)
{
	/* A device never registered may have a zeroed link; list_del() of an
	 * unlinked (self-pointing) entry is a no-op. */
	if (d->link.next)
		list_del(&d->link);
}

struct blkdev *blk_lookup(const char *name)
{
	if (!strncmp(name, "/dev/", 5))
		name += 5;
	list_for_each(it, &devices)
	{
		struct blkdev *d = list_entry(it, struct blkdev, link);

		if (!strcmp(d->name, name))
			return d;
	}
	return NULL;
}

struct blkdev *blk_lookup_dev(unsigned major, unsigned minor)
{
	list_for_each(it, &devices)
	{
		struct blkdev *d = list_entry(it, struct blkdev, link);

		if (d->major == major && d->minor == minor)
			return d;
	}
	return NULL;
}

struct blkdev *blk_next(struct blkdev *prev)
{
	struct list *next = prev ? prev->link.next : devices.next;

	return next == &devices ? NULL : list_entry(next, struct blkdev, link);
}

struct blk_wait {
	struct waitq wq;
	bool done;
};

static void blk_rw_done(struct bio *b)
{
	struct blk_wait *w = b->priv;

	w->done = true;
	wake_up(&w->wq);
}

int blk_rw(struct blkdev *d, enum bio_op op, uint64_t off, void *buf, size_t len)
{
	struct blk_wait w = {.done = false};
	struct bio b = {
	    .op = op,
	    .off = off,
	    .len = len,
	    .buf = buf,
	    .done = blk_rw_done,
	    .priv = &w,
	};

	waitq_init(&w.wq);
	list_init(&b.link);
	d->ops->submit(d, &b);
	/* Uninterruptible: the bio and the buffer must outlive the request. */
	wait_event(&w.wq, w.done, false, 0);
	return b.result;
}

void blk_close_all(void)
{
	while (!list_empty(&devices)) {
		struct blkdev *d = list_entry(devices.next, struct blkdev, link);

		/* Unlink first: close may free or reuse the device. */
		list_del(&d->link);
		if (d->ops->close)
			d->ops->close(d);
	}
}
