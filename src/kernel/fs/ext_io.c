/* libext2fs I/O manager over a kernel block device, with a write-back block cache.
 *
 * libext2fs reads and writes metadata one block at a time and rewrites the same
 * blocks (bitmaps, group descriptors, inode tables) over and over, so those go through
 * a cache of EXT_CACHE_BYTES, written back in sorted, merged runs when it fills up or
 * on flush. File data already lives in the page cache: it only passes through here
 * (dirty until written back, then dropped) so that its writes merge too.
 *
 * All calls come with the filesystem's lock held (ext.c), so nothing else touches the
 * cache while blk_rw sleeps. */
#define EXT_INTERNAL
#include "ext.h"

#define EXT_CACHE_BYTES (8u << 20)
#define RUN_BYTES (1u << 20) /* largest single request to the device */
#define NHASH 4096u
#define READAHEAD 8 /* blocks read along with a lone metadata block */

struct cblk {
	uint64_t blk;
	struct cblk *hnext;
	struct list lru;
	bool dirty, data;
	void *buf;
};

struct ext_io {
	struct blkdev *dev;
	bool rw, written;
	unsigned bsize;
	size_t count, max, ndirty;
	struct cblk *hash[NHASH];
	struct list lru;    /* least recently used first */
	struct cblk *spare; /* dropped entries, kept for reuse (chained by hnext) */
	void *rbuf, *wbuf;  /* RUN_BYTES each, aligned */
};

static struct ext_io *IO(io_channel ch)
{
	return ch->private_data;
}

static struct cblk **slot(struct ext_io *io, uint64_t blk)
{
	return &io->hash[(blk * 0x9E3779B97F4A7C15ULL) >> 40 & (NHASH - 1)];
}

static struct cblk *lookup(struct ext_io *io, uint64_t blk)
{
	for (struct cblk *c = *slot(io, blk); c; c = c->hnext)
		if (c->blk == blk)
			return c;
	return NULL;
}

static void touch(struct ext_io *io, struct cblk *c)
{
	list_del(&c->lru);
	list_add_tail(&c->lru, &io->lru);
}

static void drop(struct ext_io *io, struct cblk *c)
{
	struct cblk **pp = slot(io, c->blk);
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	list_del(&c->lru);
	if (c->dirty)
		io->ndirty--;
	io->count--;
	/* File data streams through: reuse entries rather than malloc a block each. */
	c->hnext = io->spare;
	io->spare = c;
}

/* One request to the device, in pieces of at most RUN_BYTES, through an aligned
 * buffer when the caller's is not (the driver may do direct I/O). */
static errcode_t dev_io(struct ext_io *io, enum bio_op op, uint64_t blk, size_t n, void *buf)
{
	uint64_t off = blk * io->bsize;
	size_t len = n * io->bsize;
	if (off + len > io->dev->size || off + len < off)
		return op == BIO_READ ? EXT2_ET_SHORT_READ : EXT2_ET_SHORT_WRITE;
	void *bounce = op == BIO_READ ? io->rbuf : io->wbuf;
	while (len) {
		size_t chunk = MIN(len, RUN_BYTES);
		bool direct = !((uintptr_t)buf & 511) || buf == bounce;
		void *p = direct ? buf : bounce;
		if (!direct && op == BIO_WRITE)
			memcpy(p, buf, chunk);
		int r = blk_rw(io->dev, op, off, p, chunk);
		if (r < 0)
			return -r;
		if (!direct && op == BIO_READ)
			memcpy(buf, p, chunk);
		if (op == BIO_WRITE)
			io->written = true;
		off += chunk;
		len -= chunk;
		buf = (char *)buf + chunk;
	}
	return 0;
}

static int cmp_blk(const void *a, const void *b)
{
	uint64_t x = (*(struct cblk *const *)a)->blk, y = (*(struct cblk *const *)b)->blk;
	return x < y ? -1 : x > y;
}

/* Write the oldest max dirty blocks (all: SIZE_MAX), in block order, merging
 * neighbours into one request. Making room writes only the older half: the newest
 * blocks may be zeros libext2fs just put in freshly allocated blocks, about to be
 * overwritten with file data. */
static errcode_t write_dirty(struct ext_io *io, size_t max)
{
	if (!io->ndirty)
		return 0;
	size_t n = 0, per_run = RUN_BYTES / io->bsize;
	struct cblk **v = xmalloc(MIN(io->ndirty, max) * sizeof(*v));
	list_for_each(it, &io->lru)
	{
		struct cblk *c = list_entry(it, struct cblk, lru);
		if (c->dirty && n < max)
			v[n++] = c;
	}
	qsort(v, n, sizeof(*v), cmp_blk);
	errcode_t err = 0;
	for (size_t k = 0, run; k < n && !err; k += run) {
		for (run = 1; k + run < n && run < per_run; run++)
			if (v[k + run]->blk != v[k]->blk + run)
				break;
		void *src = v[k]->buf;
		if (run > 1) {
			src = io->wbuf;
			for (size_t j = 0; j < run; j++)
				memcpy((char *)src + j * io->bsize, v[k + j]->buf, io->bsize);
		}
		err = dev_io(io, BIO_WRITE, v[k]->blk, run, src);
		for (size_t j = 0; j < run && !err; j++) {
			struct cblk *c = v[k + j];
			c->dirty = false;
			io->ndirty--;
			if (c->data)
				drop(io, c);
		}
	}
	free(v);
	return err;
}

/* A new, unfilled entry for blk, making room first. */
static errcode_t insert(struct ext_io *io, uint64_t blk, struct cblk **out)
{
	while (io->count >= io->max) {
		struct cblk *old = list_entry(io->lru.next, struct cblk, lru);
		if (old->dirty) {
			errcode_t err = write_dirty(io, io->max / 2);
			if (err)
				return err;
			continue; /* written data blocks were dropped */
		}
		drop(io, old);
	}
	struct cblk *c = io->spare;
	if (c) {
		io->spare = c->hnext;
	} else {
		c = xzalloc(sizeof(*c));
		c->buf = aligned_alloc(512, io->bsize);
		if (!c->buf) {
			free(c);
			return EXT2_ET_NO_MEMORY;
		}
	}
	c->dirty = c->data = false;
	c->blk = blk;
	struct cblk **s = slot(io, blk);
	c->hnext = *s;
	*s = c;
	list_add_tail(&c->lru, &io->lru);
	io->count++;
	*out = c;
	return 0;
}

/* Read n blocks. Metadata (keep) stays cached, a lone block with a few neighbours.
 * File data is not kept: a cached data block is handed out and dropped (the page cache
 * has it now), except that ra blocks past a miss are read along and cached for the
 * next pages of a sequential read. */
static errcode_t cache_read(struct ext_io *io, uint64_t blk, size_t n, void *buf, bool keep,
			    size_t ra)
{
	size_t per_run = RUN_BYTES / io->bsize, bs = io->bsize;
	uint64_t nblocks = io->dev->size / bs;
	for (size_t k = 0; k < n;) {
		struct cblk *c = lookup(io, blk + k);
		if (c) {
			memcpy((char *)buf + k * bs, c->buf, bs);
			if (!keep && c->data && !c->dirty)
				drop(io, c);
			else
				touch(io, c);
			k++;
			continue;
		}
		size_t run = 1, extra = 0;
		while (k + run < n && run < per_run && !lookup(io, blk + k + run))
			run++;
		if (k + run == n) {
			size_t want = keep ? (n == 1 ? READAHEAD : 0) : ra;
			while (extra < want && run + extra < per_run && blk + n + extra < nblocks &&
			       !lookup(io, blk + n + extra))
				extra++;
		}
		if (!keep && !extra) {
			errcode_t err = dev_io(io, BIO_READ, blk + k, run, (char *)buf + k * bs);
			if (err)
				return err;
			k += run;
			continue;
		}
		errcode_t err = dev_io(io, BIO_READ, blk + k, run + extra, io->rbuf);
		if (err && extra)
			err = dev_io(io, BIO_READ, blk + k, run + (extra = 0), io->rbuf);
		if (err)
			return err;
		memcpy((char *)buf + k * bs, io->rbuf, run * bs);
		for (size_t j = keep ? 0 : run; j < run + extra; j++) {
			/* insert() may write back, but into wbuf: rbuf stays intact. */
			if (lookup(io, blk + k + j) || insert(io, blk + k + j, &c))
				continue;
			memcpy(c->buf, (char *)io->rbuf + j * bs, bs);
			c->data = !keep;
		}
		k += run;
	}
	return 0;
}

static errcode_t cache_write(struct ext_io *io, uint64_t blk, size_t n, const void *buf, bool data)
{
	if (!io->rw)
		return EXT2_ET_RO_FILSYS;
	for (size_t k = 0; k < n; k++) {
		struct cblk *c = lookup(io, blk + k);
		if (c) {
			touch(io, c);
		} else {
			errcode_t err = insert(io, blk + k, &c);
			if (err)
				return err;
		}
		memcpy(c->buf, (const char *)buf + k * io->bsize, io->bsize);
		if (!c->dirty)
			io->ndirty++;
		c->dirty = true;
		c->data = data;
	}
	return 0;
}

/* Byte ranges (the superblock, count < 0 requests): read-modify-write of whole
 * blocks through the cache. */
static errcode_t cache_bytes(struct ext_io *io, uint64_t off, size_t len, void *buf, bool wr)
{
	size_t bs = io->bsize;
	if (off % bs == 0 && len % bs == 0)
		return wr ? cache_write(io, off / bs, len / bs, buf, false)
			  : cache_read(io, off / bs, len / bs, buf, true, 0);
	void *tmp = xmalloc(bs);
	errcode_t err = 0;
	while (len && !err) {
		size_t boff = off % bs, chunk = MIN(bs - boff, len);
		err = cache_read(io, off / bs, 1, tmp, true, 0);
		if (!err && wr) {
			memcpy((char *)tmp + boff, buf, chunk);
			err = cache_write(io, off / bs, 1, tmp, false);
		} else if (!err) {
			memcpy(buf, (char *)tmp + boff, chunk);
		}
		off += chunk;
		len -= chunk;
		buf = (char *)buf + chunk;
	}
	free(tmp);
	return err;
}

static size_t req_len(struct ext_io *io, int count)
{
	return count < 0 ? (size_t) - (long)count : (size_t)count * io->bsize;
}

static errcode_t eio_read_blk64(io_channel ch, unsigned long long blk, int count, void *buf)
{
	struct ext_io *io = IO(ch);
	return cache_bytes(io, blk * io->bsize, req_len(io, count), buf, false);
}

static errcode_t eio_write_blk64(io_channel ch, unsigned long long blk, int count, const void *buf)
{
	struct ext_io *io = IO(ch);
	return cache_bytes(io, blk * io->bsize, req_len(io, count), (void *)buf, true);
}

static errcode_t eio_read_blk(io_channel ch, unsigned long blk, int count, void *buf)
{
	return eio_read_blk64(ch, blk, count, buf);
}

static errcode_t eio_write_blk(io_channel ch, unsigned long blk, int count, const void *buf)
{
	return eio_write_blk64(ch, blk, count, buf);
}

static errcode_t eio_write_byte(io_channel ch, unsigned long off, int size, const void *buf)
{
	if (size < 0)
		return EXT2_ET_INVALID_ARGUMENT;
	return cache_bytes(IO(ch), off, size, (void *)buf, true);
}

static void drop_all(struct ext_io *io)
{
	while (!list_empty(&io->lru))
		drop(io, list_entry(io->lru.next, struct cblk, lru));
	for (struct cblk *c = io->spare, *nx; c; c = nx) {
		nx = c->hnext;
		free(c->buf);
		free(c);
	}
	io->spare = NULL;
}

static errcode_t eio_set_blksize(io_channel ch, int bsize)
{
	struct ext_io *io = IO(ch);
	if (bsize < 512 || bsize % 512 || (unsigned)bsize > RUN_BYTES)
		return EXT2_ET_INVALID_ARGUMENT;
	if ((unsigned)bsize == io->bsize)
		return 0;
	errcode_t err = write_dirty(io, SIZE_MAX);
	if (err)
		return err;
	drop_all(io);
	io->bsize = ch->block_size = bsize;
	io->max = MAX(EXT_CACHE_BYTES / bsize, 64u);
	return 0;
}

errcode_t ext_io_sync(io_channel ch, bool wait)
{
	struct ext_io *io = IO(ch);
	errcode_t err = write_dirty(io, SIZE_MAX);
	if (!err && wait && io->written) {
		int r = blk_rw(io->dev, BIO_FLUSH, 0, NULL, 0);
		if (r < 0 && r != -EOPNOTSUPP)
			err = -r;
		io->written = false;
	}
	return err;
}

static errcode_t eio_flush(io_channel ch)
{
	return ext_io_sync(ch, true);
}

static errcode_t eio_discard(io_channel ch, unsigned long long blk, unsigned long long n)
{
	struct ext_io *io = IO(ch);
	if (!io->rw)
		return EXT2_ET_RO_FILSYS;
	/* The blocks are free now: their cached contents no longer matter. */
	if (n > io->count) {
		list_for_each_safe(it, nx, &io->lru)
		{
			struct cblk *c = list_entry(it, struct cblk, lru);
			if (c->blk >= blk && c->blk - blk < n)
				drop(io, c);
		}
	} else {
		for (unsigned long long k = 0; k < n; k++) {
			struct cblk *c = lookup(io, blk + k);
			if (c)
				drop(io, c);
		}
	}
	if (io->dev->no_discard)
		return 0;
	uint64_t off = blk * io->bsize, len = n * io->bsize;
	if (off + len > io->dev->size)
		return EXT2_ET_INVALID_ARGUMENT;
	int r = blk_rw(io->dev, BIO_DISCARD, off, NULL, len);
	return r < 0 && r != -EOPNOTSUPP ? -r : 0;
}

static errcode_t eio_set_option(io_channel ch, const char *opt, const char *arg)
{
	return EXT2_ET_INVALID_ARGUMENT;
}

errcode_t ext_io_read_data(io_channel ch, blk64_t blk, unsigned n, void *buf, unsigned ra)
{
	return cache_read(IO(ch), blk, n, buf, false, ra);
}

errcode_t ext_io_write_data(io_channel ch, blk64_t blk, unsigned n, const void *buf)
{
	return cache_write(IO(ch), blk, n, buf, true);
}

void ext_io_set_rw(io_channel ch, bool rw)
{
	IO(ch)->rw = rw;
}

static errcode_t eio_close(io_channel ch)
{
	if (--ch->refcount > 0)
		return 0;
	struct ext_io *io = IO(ch);
	errcode_t err = io->rw ? ext_io_sync(ch, true) : 0;
	drop_all(io);
	free(io->rbuf);
	free(io->wbuf);
	free(io);
	free(ch->name);
	free(ch);
	return err;
}

static errcode_t eio_open(const char *name, int flags, io_channel *out)
{
	struct blkdev *dev = blk_lookup(name);
	if (!dev)
		return ENXIO;
	if ((flags & IO_FLAG_RW) && dev->readonly)
		return EROFS;
	struct ext_io *io = xzalloc(sizeof(*io));
	io->dev = dev;
	io->rw = flags & IO_FLAG_RW;
	io->bsize = 1024;
	io->max = EXT_CACHE_BYTES / io->bsize;
	list_init(&io->lru);
	io->rbuf = aligned_alloc(4096, RUN_BYTES);
	io->wbuf = aligned_alloc(4096, RUN_BYTES);
	if (!io->rbuf || !io->wbuf) {
		free(io->rbuf);
		free(io->wbuf);
		free(io);
		return EXT2_ET_NO_MEMORY;
	}
	io_channel ch = xzalloc(sizeof(*ch));
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &ext_io_manager;
	ch->name = xstrdup(name);
	ch->block_size = io->bsize;
	ch->refcount = 1;
	ch->private_data = io;
	*out = ch;
	return 0;
}

struct struct_io_manager ext_io_manager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "vmlinux block device",
    .open = eio_open,
    .close = eio_close,
    .set_blksize = eio_set_blksize,
    .read_blk = eio_read_blk,
    .write_blk = eio_write_blk,
    .flush = eio_flush,
    .write_byte = eio_write_byte,
    .set_option = eio_set_option,
    .read_blk64 = eio_read_blk64,
    .write_blk64 = eio_write_blk64,
    .discard = eio_discard,
};
