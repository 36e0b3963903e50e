/* The ubd request path. The kernel thread turns each bio into host operations and
 * gives them to one io_uring without blocking; the block I/O host thread (the
 * reaper) waits for completions and hands them back with kevent_post(); the kernel
 * thread then finishes them (continues short transfers, persists COW bits) and
 * calls bio->done. The done list is all the two threads share. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "ubd_int.h"

#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>

#define UBD_DEPTH 128	      /* ring entries: host operations in flight at once */
#define UBD_MAX_IO (1u << 30) /* per read or write; the rest continues as a short transfer */

struct ubd_req;

/* One host operation: a piece of a request, or a bitmap write. */
struct ubd_op {
	struct list link;    /* queued, or on the done list */
	struct ubd_req *req; /* NULL for a bitmap write */
	struct ubd_dev *dev;
	uint8_t opcode; /* IORING_OP_* */
	int fd;
	char *buf;
	uint64_t off, len; /* what is left to transfer */
	int res;	   /* the completion's result, set by the reaper */
};

struct ubd_req {
	struct bio *bio;
	struct ubd_dev *dev;
	struct list link; /* on dev->bm_wait or dev->bm_busy */
	unsigned left;	  /* operations not finished */
	int err;
	struct ubd_op ops[];
};

static struct io_uring ring;
static bool ring_up;
static pthread_t reaper;
/* Kernel thread only. */
static struct list queued = LIST_INIT(queued); /* waiting for room in the ring */
static unsigned inflight;		       /* operations the ring holds */
/* Shared with the reaper. */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static struct list done = LIST_INIT(done);

static void list_splice_tail(struct list *from, struct list *to)
{
	if (list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	list_init(from);
}

static void reap(void *unused);

static void *reaper_main(void *unused)
{
	bool stop = false;

	while (!stop) {
		struct list got = LIST_INIT(got);
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		bool was_empty;
		int r = io_uring_wait_cqe(&ring, &cqe);

		if (r == -EINTR)
			continue;
		if (r < 0) {
			/* Cannot happen with the CQ never overfilled; do not hang. */
			fprintf(stderr, "vmlinux: ubd: io_uring_wait_cqe: %s\n", strerror(-r));
			exit(1);
		}
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			struct ubd_op *op = io_uring_cqe_get_data(cqe);

			n++;
			if (!op) {
				stop = true;
				continue;
			}
			op->res = cqe->res;
			list_add_tail(&op->link, &got);
		}
		io_uring_cq_advance(&ring, n);
		if (list_empty(&got))
			continue;
		pthread_mutex_lock(&done_lock);
		was_empty = list_empty(&done);
		list_splice_tail(&got, &done);
		pthread_cond_broadcast(&done_cond);
		pthread_mutex_unlock(&done_lock);
		/* A non-empty list already has a reap() coming, which takes it all. */
		if (was_empty)
			kevent_post(reap, NULL);
	}
	return NULL;
}

static void submit(void)
{
	int r;

	/* Without IORING_ENTER_GETEVENTS this only queues: what would block goes to
	 * the host's io-wq workers, not to the kernel thread. */
	while ((r = io_uring_submit(&ring)) == -EINTR)
		;
	/* Entries that did not go stay in the SQ; the next submit takes them. */
	if (r < 0)
		fprintf(stderr, "vmlinux: ubd: io_uring_submit: %s\n", strerror(-r));
}

static void prep(struct io_uring_sqe *sqe, struct ubd_op *op)
{
	unsigned n = op->len > UBD_MAX_IO ? UBD_MAX_IO : op->len;

	switch (op->opcode) {
	case IORING_OP_READ:
		io_uring_prep_read(sqe, op->fd, op->buf, n, op->off);
		break;
	case IORING_OP_WRITE:
		io_uring_prep_write(sqe, op->fd, op->buf, n, op->off);
		break;
	case IORING_OP_FSYNC:
		io_uring_prep_fsync(sqe, op->fd, IORING_FSYNC_DATASYNC);
		break;
	case IORING_OP_FALLOCATE:
		io_uring_prep_fallocate(sqe, op->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					op->off, op->len);
		break;
	}
	io_uring_sqe_set_data(sqe, op);
}

/* Move queued operations into the ring while it has room. Never more than
 * UBD_DEPTH in flight, so the completion queue (twice as deep) cannot overflow. */
static void kick(void)
{
	unsigned n = 0;

	while (!list_empty(&queued) && inflight < UBD_DEPTH) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct ubd_op *op;

		if (!sqe)
			break;
		op = list_entry(queued.next, struct ubd_op, link);
		list_del(&op->link);
		prep(sqe, op);
		inflight++;
		n++;
	}
	if (n)
		submit();
}

static void queue(struct ubd_op *op)
{
	list_add_tail(&op->link, &queued);
}

static void req_end(struct ubd_req *req)
{
	struct bio *bio = req->bio;
	struct ubd_dev *d = req->dev;

	bio->result = req->err;
	free(req);
	d->busy--;
	bio->done(bio);
	if (!d->busy)
		wake_up(&d->idle);
}

static void fail_waiters(struct list *reqs, int err)
{
	while (!list_empty(reqs)) {
		struct ubd_req *req = list_entry(reqs->next, struct ubd_req, link);

		list_del(&req->link);
		if (err)
			req->err = err;
		req_end(req);
	}
}

/* Write the changed part of the bitmap, one write at a time per device: two in
 * flight could land in either order and leave older bits on disk. The write
 * carries a snapshot, so it covers every request waiting when it starts. */
static void bitmap_kick(struct ubd_dev *d)
{
	uint64_t start, end;
	struct ubd_op *op;

	if (d->bm_writing || list_empty(&d->bm_wait))
		return;
	start = d->bm_lo * COW_SECTOR;
	end = MIN(d->bm_hi * COW_SECTOR, d->lay.bitmap_len);
	d->bm_lo = UINT64_MAX;
	d->bm_hi = 0;
	op = calloc(1, sizeof(*op) + (end - start));
	if (!op) {
		struct list reqs = LIST_INIT(reqs);

		d->bm_stale = true;
		list_splice_tail(&d->bm_wait, &reqs);
		fail_waiters(&reqs, -ENOMEM);
		return;
	}
	op->dev = d;
	op->opcode = IORING_OP_WRITE;
	op->fd = d->fd;
	op->buf = (char *)(op + 1);
	memcpy(op->buf, d->bitmap + start, end - start);
	op->off = d->lay.bitmap_offset + start;
	op->len = end - start;
	list_splice_tail(&d->bm_wait, &d->bm_busy);
	d->bm_writing = true;
	queue(op);
	kick();
}

static void bitmap_done(struct ubd_op *op, int err)
{
	struct ubd_dev *d = op->dev;
	struct list reqs = LIST_INIT(reqs);

	free(op);
	if (err)
		d->bm_stale = true; /* ubd_close_image() tries the whole bitmap again */
	d->bm_writing = false;
	list_splice_tail(&d->bm_busy, &reqs);
	bitmap_kick(d);
	fail_waiters(&reqs, err);
}

/* A COW write's data is in place: set its bits, and complete the bio only once
 * they are written too, so that a completed and flushed write survives a crash. */
static void mark_written(struct ubd_req *req)
{
	struct ubd_dev *d = req->dev;
	uint64_t first = req->bio->off / COW_SECTOR, end = first + req->bio->len / COW_SECTOR;
	bool fresh = false;

	for (uint64_t s = first; s < end; s++) {
		if (!cow_test_bit(d->bitmap, s)) {
			cow_set_bit(d->bitmap, s);
			fresh = true;
		}
	}
	/* Bits already set are on disk, unless their bitmap write is still to come. */
	if (!fresh && !d->bm_writing && list_empty(&d->bm_wait)) {
		req_end(req);
		return;
	}
	d->bm_lo = MIN(d->bm_lo, first / 8 / COW_SECTOR);
	d->bm_hi = MAX(d->bm_hi, (end - 1) / 8 / COW_SECTOR + 1);
	list_add_tail(&req->link, &d->bm_wait);
	bitmap_kick(d);
}

static void req_op_done(struct ubd_req *req, int err)
{
	if (err && !req->err)
		req->err = err;
	if (--req->left)
		return;
	if (!req->err && req->bio->op == BIO_WRITE && req->dev->cow)
		mark_written(req);
	else
		req_end(req);
}

static void op_done(struct ubd_op *op)
{
	bool rw = op->opcode == IORING_OP_READ || op->opcode == IORING_OP_WRITE;
	int res = op->res;

	if (res == -EINTR || res == -EAGAIN) {
		queue(op);
		return;
	}
	if (rw && res > 0 && (uint64_t)res < op->len) {
		/* Short transfer: go on from where it stopped. */
		op->buf += res;
		op->off += res;
		op->len -= res;
		queue(op);
		return;
	}
	if (rw && !res) {
		/* End of file: the image's last sector is partial (the device size is
		 * rounded up to a sector), or a truncated COW data area. */
		if (op->opcode == IORING_OP_READ)
			memset(op->buf, 0, op->len);
		else
			res = -EIO;
	}
	if (res > 0)
		res = 0;
	if (op->req)
		req_op_done(op->req, res);
	else
		bitmap_done(op, res);
}

/* Kernel side of the hand-over: finish everything the reaper has collected. */
static void reap(void *unused)
{
	struct list got = LIST_INIT(got);

	pthread_mutex_lock(&done_lock);
	list_splice_tail(&done, &got);
	pthread_mutex_unlock(&done_lock);
	while (!list_empty(&got)) {
		struct ubd_op *op = list_entry(got.next, struct ubd_op, link);

		list_del(&op->link);
		inflight--;
		op_done(op);
	}
	kick();
}

/* Errors found before any I/O still complete in scheduler context, never inside
 * submit(), and without touching the device (it may be closed). */
static void bio_end(void *arg)
{
	struct bio *bio = arg;

	bio->done(bio);
}

static void complete_now(struct bio *bio, int err)
{
	bio->result = err;
	kevent_post(bio_end, bio);
}

static int check(const struct ubd_dev *d, const struct bio *b)
{
	if (!d->open)
		return -ENXIO;
	if (b->op == BIO_FLUSH)
		return 0;
	if (b->op != BIO_READ && b->op != BIO_WRITE && b->op != BIO_DISCARD)
		return -EINVAL;
	if ((b->off | b->len) % COW_SECTOR)
		return -EINVAL;
	if (b->off > d->blk.size || b->len > d->blk.size - b->off)
		return -EIO;
	if (b->op != BIO_READ && d->ro)
		return -EROFS;
	if (b->op == BIO_DISCARD && d->no_trim)
		return -EOPNOTSUPP;
	return 0;
}

/* A COW read: each run of sectors from where it lives, the COW file or the base. */
static unsigned split_read(const struct ubd_dev *d, const struct bio *b, struct ubd_op *ops)
{
	uint64_t s = b->off / COW_SECTOR, n = b->len / COW_SECTOR;
	char *buf = b->buf;
	unsigned i = 0;

	while (n) {
		bool present;
		uint64_t run = cow_run(d->bitmap, s, n, &present);

		if (ops) {
			ops[i].opcode = IORING_OP_READ;
			ops[i].fd = present ? d->fd : d->bfd;
			ops[i].off = (present ? d->lay.data_offset : 0) + s * COW_SECTOR;
			ops[i].len = run * COW_SECTOR;
			ops[i].buf = buf;
		}
		i++;
		s += run;
		n -= run;
		buf += run * COW_SECTOR;
	}
	return i;
}

void ubd_submit(struct blkdev *blk, struct bio *bio)
{
	static const uint8_t opcode[] = {
	    [BIO_READ] = IORING_OP_READ,
	    [BIO_WRITE] = IORING_OP_WRITE,
	    [BIO_FLUSH] = IORING_OP_FSYNC,
	    [BIO_DISCARD] = IORING_OP_FALLOCATE,
	};
	struct ubd_dev *d = blk->priv;
	bool cow_read = d->cow && bio->op == BIO_READ;
	struct ubd_req *req;
	unsigned nops;
	int err = check(d, bio);

	if (err) {
		complete_now(bio, err);
		return;
	}
	/* Nothing to do: an empty transfer, or a flush of a read-only device. Other
	 * flushes always reach the host: a killed earlier run may have left data
	 * unsynced in the host's page cache. */
	if (bio->op == BIO_FLUSH ? d->ro : !bio->len) {
		complete_now(bio, 0);
		return;
	}
	nops = cow_read ? split_read(d, bio, NULL) : 1;
	req = calloc(1, sizeof(*req) + nops * sizeof(req->ops[0]));
	if (!req) {
		complete_now(bio, -ENOMEM);
		return;
	}
	req->bio = bio;
	req->dev = d;
	req->left = nops;
	list_init(&req->link);
	if (cow_read) {
		split_read(d, bio, req->ops);
	} else {
		/* On a COW device, writes go to the COW file, and so does DISCARD: it
		 * punches the data area only and leaves the bitmap alone, so discarded
		 * sectors read as zeros if they were in the COW file and as the base's
		 * data otherwise. Either is what a discard may return. */
		req->ops[0].opcode = opcode[bio->op];
		req->ops[0].fd = d->fd;
		req->ops[0].off = (d->cow ? d->lay.data_offset : 0) + bio->off;
		req->ops[0].len = bio->len;
		req->ops[0].buf = bio->buf;
	}
	if (bio->op != BIO_READ)
		d->written = true;
	d->busy++;
	for (unsigned i = 0; i < nops; i++) {
		req->ops[i].req = req;
		req->ops[i].dev = d;
		queue(&req->ops[i]);
	}
	kick();
}

void ubd_drain(struct ubd_dev *d)
{
	while (d->busy) {
		if (current) {
			wait_event(&d->idle, !d->busy, false, 0);
			continue;
		}
		/* No task to put to sleep (boot, scheduler context, or the scheduler has
		 * stopped): this is the kernel thread, so wait for the reaper here and
		 * finish the requests directly. A reap() posted meanwhile finds nothing. */
		pthread_mutex_lock(&done_lock);
		while (list_empty(&done))
			pthread_cond_wait(&done_cond, &done_lock);
		pthread_mutex_unlock(&done_lock);
		reap(NULL);
	}
}

int ubd_io_start(void)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	if (ring_up)
		return 0;
	r = io_uring_queue_init(UBD_DEPTH, &ring, 0);
	if (r < 0) {
		fprintf(stderr, "vmlinux: ubd: cannot set up io_uring: %s\n", strerror(-r));
		return -1;
	}
	/* Processes the platform forks (guest address spaces) need no ring. */
	io_uring_ring_dontfork(&ring);
	/* Signals are for the kernel thread; the reaper needs little stack. */
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&reaper, &attr, reaper_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		io_uring_queue_exit(&ring);
		fprintf(stderr, "vmlinux: ubd: cannot start the block I/O thread: %s\n",
			strerror(r));
		return -1;
	}
	pthread_setname_np(reaper, "ubd-io");
	ring_up = true;
	return 0;
}

void ubd_io_stop(void)
{
	struct io_uring_sqe *sqe;

	if (!ring_up)
		return;
	/* Every request has completed (devices are drained before), so the ring has
	 * room, and a NOP without an operation tells the reaper to leave. */
	while (!(sqe = io_uring_get_sqe(&ring)))
		submit();
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data(sqe, NULL);
	submit();
	pthread_join(reaper, NULL);
	io_uring_queue_exit(&ring);
	ring_up = false;
}
