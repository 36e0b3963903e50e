/* The ubd driver's life: open every configured unit at boot and register it as
 * block device ubda..ubdp (major 98, minor 16 * unit, as UML); close each cleanly
 * at shutdown. */
#include "ubd.h"
#include "ubd_int.h"

bool ubd_booted;
static unsigned nopen;

static void close_dev(struct ubd_dev *d)
{
	if (!d->open)
		return;
	/* New requests fail from here on; those in flight finish. */
	d->open = false;
	ubd_drain(d);
	ubd_close_image(d);
	blk_unregister(&d->blk);
	if (!--nopen)
		ubd_io_stop();
}

static void ubd_close(struct blkdev *b)
{
	close_dev(b->priv);
}

static const struct blkdev_ops ubd_ops = {.submit = ubd_submit, .close = ubd_close};

static int open_dev(struct ubd_dev *d)
{
	int r;

	if (ubd_open_image(d))
		return -1;
	snprintf(d->blk.name, sizeof(d->blk.name), "ubd%c", 'a' + d->unit);
	d->blk.major = UBD_MAJOR;
	d->blk.minor = d->unit << UBD_SHIFT;
	d->blk.readonly = d->ro; /* also when the file turned out not writable */
	d->blk.no_discard = d->no_trim;
	d->blk.ops = &ubd_ops;
	d->blk.priv = d;
	d->busy = 0;
	waitq_init(&d->idle);
	d->bm_writing = false;
	d->bm_lo = UINT64_MAX;
	d->bm_hi = 0;
	list_init(&d->bm_wait);
	list_init(&d->bm_busy);
	d->open = true;
	nopen++;
	r = blk_register(&d->blk);
	if (r)
		return ubd_err(d, "cannot register %s: %s", d->blk.name, strerror(-r));
	return 0;
}

int ubd_init(void)
{
	bool any = false;

	for (int i = 0; i < UBD_MAX; i++)
		any |= ubd_devs[i].configured && !ubd_devs[i].open;
	ubd_booted = true;
	if (!any)
		return 0;
	if (ubd_io_start())
		return -1;
	for (int i = 0; i < UBD_MAX; i++) {
		struct ubd_dev *d = &ubd_devs[i];

		if (d->configured && !d->open && open_dev(d))
			goto fail;
	}
	return 0;
fail:
	for (int i = 0; i < UBD_MAX; i++)
		close_dev(&ubd_devs[i]);
	ubd_io_stop();
	return -1;
}

void ubd_shutdown(void)
{
	for (int i = 0; i < UBD_MAX; i++)
		close_dev(&ubd_devs[i]);
	ubd_io_stop();
	/* Forget the command line too, so a later boot (a unit test) starts afresh.
	 * The blkdev stays intact: a pointer kept to it gets -ENXIO, not a crash. */
	for (int i = 0; i < UBD_MAX; i++) {
		struct ubd_dev *d = &ubd_devs[i];

		free(d->file);
		free(d->backing);
		d->file = d->backing = NULL;
		d->configured = d->ro = d->sync = d->no_cow = d->shared = d->no_trim = false;
	}
	ubd_booted = false;
}
