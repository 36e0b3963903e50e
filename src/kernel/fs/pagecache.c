/* The page cache: file data in 4 KiB host pages, per inode, keyed by page index.
 *
 * A page is "busy" while a readpage or writepage on it sleeps; whoever wants to fill,
 * free or write back a busy page waits on page_wq. Page structs are allocated one by
 * one, so a pointer stays valid across a sleep as long as the page is busy (nothing
 * frees a busy page); any other pointer is looked up again after sleeping.
 *
 * Pages of an inode without writepage (tmpfs) are "pinned": the data lives only here,
 * so they are neither dirty nor ever dropped. Clean pages of backed inodes sit on a
 * global LRU (and only they: reclaim never has to skip over dirty ones) and are dropped
 * when the cache grows past pagecache_max_bytes; writers write back their own dirty
 * pages (then other inodes') past pagecache_dirty_max_bytes. */
#include "pagecache.h"
#include <sys/mount.h>

struct page {
	uint64_t index;
	void *data;
	struct page *hnext;
	struct pagecache *pc;
	struct list lru; /* on page_lru while clean, uptodate and not pinned */
	bool uptodate, dirty, pinned, busy;
};

struct pagecache {
	struct inode *inode;
	struct page **hash;
	size_t nhash, npages, ndirty;
	struct list link; /* on all_caches; removed (and dying set) at eviction */
	uint64_t sync_pass;
	bool dying;
};

/* Tunables: bytes of clean+dirty droppable data, and of dirty data, before the
 * cache reclaims or writes back. */
uint64_t pagecache_max_bytes = 64ULL << 20;
uint64_t pagecache_dirty_max_bytes = 16ULL << 20;

static struct list all_caches = LIST_INIT(all_caches);
static struct list page_lru = LIST_INIT(page_lru);
static struct waitq page_wq = WAITQ_INIT(page_wq);
static uint64_t cached_bytes, dirty_bytes, pinned_bytes, sync_pass;
void (*pagecache_change_hook)(struct inode *i);

static void changed(struct inode *i)
{
	if (pagecache_change_hook)
		pagecache_change_hook(i);
}

static bool backed(const struct inode *i)
{
	return i->iop && i->iop->writepage;
}

static size_t bucket(const struct pagecache *pc, uint64_t index)
{
	return (index * 0x9E3779B97F4A7C15ULL) >> 32 & (pc->nhash - 1);
}

static struct pagecache *pc_get(struct inode *i)
{
	if (!i->pages) {
		struct pagecache *pc = xzalloc(sizeof(*pc));
		pc->inode = i;
		pc->nhash = 16;
		pc->hash = xzalloc(pc->nhash * sizeof(*pc->hash));
		list_add_tail(&pc->link, &all_caches);
		i->pages = pc;
	}
	return i->pages;
}

static struct page *page_find(struct pagecache *pc, uint64_t index)
{
	if (!pc)
		return NULL;
	for (struct page *p = pc->hash[bucket(pc, index)]; p; p = p->hnext)
		if (p->index == index)
			return p;
	return NULL;
}

static void pc_grow(struct pagecache *pc)
{
	size_t old = pc->nhash;
	struct page **oh = pc->hash;
	pc->nhash *= 2;
	pc->hash = xzalloc(pc->nhash * sizeof(*pc->hash));
	for (size_t b = 0; b < old; b++) {
		for (struct page *p = oh[b], *nx; p; p = nx) {
			nx = p->hnext;
			size_t h = bucket(pc, p->index);
			p->hnext = pc->hash[h];
			pc->hash[h] = p;
		}
	}
	free(oh);
}

static void set_dirty(struct page *p, bool dirty)
{
	if (p->dirty == dirty)
		return;
	p->dirty = dirty;
	if (dirty) {
		p->pc->ndirty++;
		dirty_bytes += PAGE_SIZE;
		list_del(&p->lru);
	} else {
		p->pc->ndirty--;
		dirty_bytes -= PAGE_SIZE;
		list_add_tail(&p->lru, &page_lru);
	}
}

/* Freed page buffers kept for reuse: allocating aligned pages is not cheap. */
static void *pool[256];
static unsigned npool;

static void *buf_alloc(void)
{
	return npool ? pool[--npool] : aligned_alloc(PAGE_SIZE, PAGE_SIZE);
}

static void buf_free(void *b)
{
	if (npool < ARRAY_SIZE(pool))
		pool[npool++] = b;
	else
		free(b);
}

static void page_free(struct page *p)
{
	struct pagecache *pc = p->pc;
	struct page **pp = &pc->hash[bucket(pc, p->index)];
	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	if (p->dirty) {
		pc->ndirty--;
		dirty_bytes -= PAGE_SIZE;
	}
	if (p->pinned)
		pinned_bytes -= PAGE_SIZE;
	list_del(&p->lru);
	pc->npages--;
	cached_bytes -= PAGE_SIZE;
	buf_free(p->data);
	free(p);
}

/* Drop idle pages from the cold end of the LRU until under the limit. */
static void shrink(void)
{
	struct list *it = page_lru.next;
	while (cached_bytes - pinned_bytes > pagecache_max_bytes && it != &page_lru) {
		struct page *p = list_entry(it, struct page, lru);
		it = it->next;
		if (!p->busy) /* under writeback */
			page_free(p);
	}
}

static struct page *page_alloc(struct pagecache *pc, uint64_t index)
{
	void *data = buf_alloc();
	if (!data)
		return NULL;
	struct page *p = xzalloc(sizeof(*p));
	p->index = index;
	p->data = data;
	p->pc = pc;
	if (++pc->npages > pc->nhash)
		pc_grow(pc);
	size_t h = bucket(pc, index);
	p->hnext = pc->hash[h];
	pc->hash[h] = p;
	cached_bytes += PAGE_SIZE;
	list_init(&p->lru);
	if (!backed(pc->inode)) {
		p->pinned = true;
		pinned_bytes += PAGE_SIZE;
	}
	return p;
}

/* A page just became uptodate: clean ones of backed inodes may be reclaimed. */
static void page_ready(struct page *p)
{
	p->uptodate = true;
	if (!p->pinned && !p->dirty)
		list_add_tail(&p->lru, &page_lru);
}

/* The uptodate page at index, read in unless it lies wholly past EOF or the caller
 * overwrites all its valid data, the first overwrite bytes (0: none). May sleep. */
static int page_get(struct inode *i, uint64_t index, size_t overwrite, struct page **out)
{
	for (;;) {
		struct pagecache *pc = pc_get(i);
		struct page *p = page_find(pc, index);
		if (p && !p->uptodate) {
			sleep_on(&page_wq, false);
			continue;
		}
		if (p) {
			if (!p->pinned && !p->dirty) {
				list_del(&p->lru);
				list_add_tail(&p->lru, &page_lru);
			}
			*out = p;
			return 0;
		}
		shrink();
		p = page_alloc(pc, index);
		if (!p)
			return -ENOMEM;
		uint64_t start = index * PAGE_SIZE;
		if (overwrite || start >= i->size || !i->iop || !i->iop->readpage) {
			memset((char *)p->data + overwrite, 0, PAGE_SIZE - overwrite);
			page_ready(p);
			*out = p;
			return 0;
		}
		p->busy = true;
		int r = i->iop->readpage(i, index, p->data);
		p->busy = false;
		wake_up(&page_wq);
		if (r < 0) {
			page_free(p);
			return r;
		}
		/* Whatever lies on disk past EOF, the file reads zeros there. */
		if (i->size < start + PAGE_SIZE)
			memset((char *)p->data + (i->size - start), 0, start + PAGE_SIZE - i->size);
		page_ready(p);
		*out = p;
		return 0;
	}
}

ssize_t pagecache_read(struct inode *i, void *buf, size_t n, uint64_t pos)
{
	size_t done = 0;
	while (done < n && pos + done < i->size) {
		uint64_t at = pos + done;
		size_t off = at % PAGE_SIZE;
		size_t chunk = MIN(PAGE_SIZE - off, n - done);
		struct page *p;
		int r = page_get(i, at / PAGE_SIZE, 0, &p);
		if (r < 0)
			return done ? (ssize_t)done : r;
		/* The file may have shrunk while we slept. */
		if (at >= i->size)
			break;
		chunk = MIN(chunk, i->size - at);
		memcpy((char *)buf + done, (char *)p->data + off, chunk);
		done += chunk;
	}
	return done;
}

static int balance_dirty(struct inode *i);

/* The file grows from old to past the page that holds its end: make that page's tail
 * read as zeros, and write it back so that the disk agrees, whatever lay there. */
static int zero_eof_page(struct inode *i, uint64_t old)
{
	if (!(old % PAGE_SIZE) || !i->iop || !i->iop->readpage)
		return 0;
	struct page *p;
	int r = page_get(i, old / PAGE_SIZE, 0, &p);
	if (r < 0)
		return r;
	memset((char *)p->data + old % PAGE_SIZE, 0, PAGE_SIZE - old % PAGE_SIZE);
	if (!p->pinned)
		set_dirty(p, true);
	return 0;
}

ssize_t pagecache_write(struct inode *i, const void *buf, size_t n, uint64_t pos)
{
	size_t done = 0;
	bool grew = false;
	int err = 0;
	if (pos / PAGE_SIZE > i->size / PAGE_SIZE && (err = zero_eof_page(i, i->size)))
		return err;
	while (done < n) {
		uint64_t at = pos + done;
		size_t off = at % PAGE_SIZE;
		size_t chunk = MIN(PAGE_SIZE - off, n - done);
		/* No need to read what we are about to overwrite entirely. */
		bool fill = off || (chunk < PAGE_SIZE && at + chunk < i->size);
		struct page *p;
		err = page_get(i, at / PAGE_SIZE, fill ? 0 : chunk, &p);
		if (err < 0)
			break;
		memcpy((char *)p->data + off, (const char *)buf + done, chunk);
		if (!p->pinned)
			set_dirty(p, true);
		done += chunk;
		if (pos + done > i->size) {
			i->size = pos + done;
			grew = true;
		}
	}
	if (grew)
		mark_inode_dirty(i);
	if (done)
		changed(i);
	if (done && dirty_bytes > pagecache_dirty_max_bytes)
		balance_dirty(i);
	return done ? (ssize_t)done : err;
}

void pagecache_truncate(struct inode *i, uint64_t size)
{
	if (size > i->size)
		zero_eof_page(i, i->size); /* at worst, old bytes show past the old end */
	struct pagecache *pc = i->pages;
	uint64_t first = (size + PAGE_SIZE - 1) / PAGE_SIZE;
again:
	if (pc) {
		for (size_t b = 0; b < pc->nhash; b++) {
			for (struct page *p = pc->hash[b], *nx; p; p = nx) {
				nx = p->hnext;
				if (p->index < first)
					continue;
				if (p->busy) {
					sleep_on(&page_wq, false);
					pc = i->pages;
					goto again;
				}
				page_free(p);
			}
		}
		/* Zero the tail of the new last page: growing again must read zeros. */
		struct page *p = page_find(pc, size / PAGE_SIZE);
		if (size % PAGE_SIZE && p && p->uptodate)
			memset((char *)p->data + size % PAGE_SIZE, 0, PAGE_SIZE - size % PAGE_SIZE);
	}
	i->size = size;
	changed(i);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int pagecache_writeback(struct inode *i)
{
	struct pagecache *pc = i->pages;
	if (!pc || !pc->ndirty || !backed(i))
		return 0;
	/* In index order, so that the filesystem allocates blocks contiguously. */
	size_t n = 0, cap = pc->ndirty;
	uint64_t *idx = xmalloc(cap * sizeof(*idx));
	for (size_t b = 0; b < pc->nhash; b++)
		for (struct page *p = pc->hash[b]; p; p = p->hnext)
			if (p->dirty && n < cap)
				idx[n++] = p->index;
	qsort(idx, n, sizeof(*idx), cmp_u64);
	int err = 0;
	for (size_t k = 0; k < n; k++) {
		struct page *p;
		while ((p = page_find(i->pages, idx[k])) && p->busy)
			sleep_on(&page_wq, false);
		if (!p || !p->dirty)
			continue;
		uint64_t start = p->index * PAGE_SIZE;
		if (start >= i->size) {
			set_dirty(p, false); /* past EOF after a racing truncate */
			continue;
		}
		/* Clear dirty first: a write while writepage sleeps dirties it again. */
		set_dirty(p, false);
		p->busy = true;
		int r = i->iop->writepage(i, p->index, p->data, MIN(PAGE_SIZE, i->size - start));
		p->busy = false;
		wake_up(&page_wq);
		if (r < 0) {
			set_dirty(p, true);
			if (!err)
				err = r;
		}
	}
	free(idx);
	return err;
}

/* Write back the dirty pages of each live inode of sb (all when NULL) once. */
static int sync_caches(struct super_block *sb, struct inode *skip, bool until_under_limit)
{
	uint64_t pass = ++sync_pass;
	int err = 0;
	for (;;) {
		if (until_under_limit && dirty_bytes <= pagecache_dirty_max_bytes)
			break;
		struct pagecache *pc = NULL;
		list_for_each(it, &all_caches)
		{
			struct pagecache *c = list_entry(it, struct pagecache, link);
			if (c->ndirty && c->sync_pass != pass && c->inode != skip &&
			    (!sb || c->inode->sb == sb)) {
				pc = c;
				break;
			}
		}
		if (!pc)
			break;
		pc->sync_pass = pass;
		/* Keep the inode (and so its cache) alive while writepage sleeps. */
		struct inode *i = pc->inode;
		igrab(i);
		int r = pagecache_writeback(i);
		iput(i);
		if (r < 0 && !err)
			err = r;
	}
	return err;
}

int pagecache_sync(struct super_block *sb)
{
	return sync_caches(sb, NULL, false);
}

/* The writer pays for the dirt: its own pages first, then other inodes'. */
static int balance_dirty(struct inode *i)
{
	int err = pagecache_writeback(i);
	if (dirty_bytes > pagecache_dirty_max_bytes)
		sync_caches(NULL, i, true);
	shrink();
	return err;
}

void pagecache_evict(struct inode *i)
{
	changed(i);
	struct pagecache *pc = i->pages;
	if (!pc)
		return;
	if (!pc->dying) {
		/* Off the global list first, so that no sync takes a new reference to an
		 * inode that is going away while we sleep below. */
		pc->dying = true;
		list_del(&pc->link);
	}
	if (i->nlink > 0) {
		int r = pagecache_writeback(i);
		if (r < 0)
			printk("vmlinux: lost dirty data of inode %llu: error %d\n",
			       (unsigned long long)i->ino, r);
	}
again:
	for (size_t b = 0; b < pc->nhash; b++) {
		for (struct page *p = pc->hash[b], *nx; p; p = nx) {
			nx = p->hnext;
			if (p->busy) {
				sleep_on(&page_wq, false);
				goto again;
			}
			page_free(p);
		}
	}
	free(pc->hash);
	free(pc);
	i->pages = NULL;
}

int pagecache_get_page(struct inode *i, uint64_t index, void **page)
{
	struct page *p;
	int r = page_get(i, index, 0, &p);
	if (r < 0)
		return r;
	*page = p->data;
	return 0;
}

uint64_t pagecache_dirty_run(struct inode *i, uint64_t index, uint64_t max)
{
	uint64_t n = 0;
	struct page *p;
	while (n < max && (p = page_find(i->pages, index + 1 + n)) && p->dirty)
		n++;
	return n;
}

void pagecache_stats(uint64_t *cached, uint64_t *dirty)
{
	*cached = cached_bytes;
	*dirty = dirty_bytes;
}

/* --- generic file operations on top of the cache ------------------------------------ */

ssize_t generic_file_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	struct inode *i = f->inode;
	if (*pos < 0)
		return -EINVAL;
	ssize_t r = pagecache_read(i, buf, n, *pos);
	if (r <= 0)
		return r;
	*pos += r;
	/* relatime: only when atime is older than the last change, or a day old. */
	struct timespec now = current_time();
	bool ro = i->sb && (i->sb->flags & (MS_RDONLY | MS_NOATIME));
	if (!ro && (i->atime.tv_sec < i->mtime.tv_sec || i->atime.tv_sec < i->ctime.tv_sec ||
		    now.tv_sec - i->atime.tv_sec >= 24 * 3600))
		inode_touch(i, true, false, false);
	return r;
}

ssize_t generic_file_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	struct inode *i = f->inode;
	if (f->flags & O_APPEND)
		*pos = i->size;
	if (*pos < 0)
		return -EINVAL;
	if (!n)
		return 0;
	if ((uint64_t)*pos + n > (uint64_t)INT64_MAX)
		return -EFBIG;
	/* Stamp the times first (as Linux does): a write that grows the file then
	 * writes the inode once, with both its size and its times. */
	struct timespec now = current_time();
	i->mtime = i->ctime = now;
	uint64_t old_size = i->size;
	ssize_t r = pagecache_write(i, buf, n, *pos);
	if (i->size == old_size)
		mark_inode_dirty(i);
	if (r <= 0)
		return r;
	*pos += r;
	if (f->flags & O_DSYNC) {
		int e = generic_file_fsync(f, (f->flags & O_SYNC) != O_SYNC);
		if (e < 0)
			return e;
	}
	return r;
}

int generic_file_fsync(struct file *f, bool datasync)
{
	struct inode *i = f->inode;
	int err = pagecache_writeback(i);
	struct super_block *sb = i->sb;
	if (sb && sb->ops && sb->ops->sync) {
		int r = sb->ops->sync(sb, true);
		if (!err)
			err = r;
	}
	return err;
}
