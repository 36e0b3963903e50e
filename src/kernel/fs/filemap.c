/* Whole files in host memfds, for file mappings without a copy: a platform that can map
 * host fds (mode=skas) maps a file's memfd MAP_PRIVATE into the guest, which then gets
 * the file's pages copy-on-write from the host, and forks share them.
 *
 * One memfd per inode, read in once from the page cache and sealed (no write, shrink or
 * grow), so that nothing, not even a guest that gets hold of the fd, changes what later
 * mappings see. An entry is used while the inode lives and its data is unchanged: the
 * page cache reports every write, truncate and eviction (pagecache_change_hook), which
 * drops the entry, and the file's size, mtime and ctime are compared on every lookup as
 * well (ctime, which no one can set back: utimensat can forge mtime). Since entries are
 * dropped before their inode is freed, the inode pointer is a sound key.
 *
 * The cache is bounded (filemap_max_bytes, a quarter of it for one file, and
 * filemap_max_files since each entry holds a host fd of the kernel process); the least
 * recently used entries go first. A dropped memfd is closed when its last user is done
 * with it: mappings made from it keep their pages. */
#define _GNU_SOURCE
#include "filemap.h"
#include "pagecache.h"
#include <sys/mman.h>
#include <unistd.h>

#define NHASH 256

uint64_t filemap_max_bytes = 64ULL << 20;
unsigned filemap_max_files = 64;

static struct filemap *hash[NHASH];
static struct list lru = LIST_INIT(lru); /* most recently used first */
static uint64_t cached_bytes;
static unsigned cached_files;
static struct waitq fill_wq = WAITQ_INIT(fill_wq);

static struct filemap **bucket(const struct inode *i)
{
	return &hash[((uintptr_t)i * 0x9E3779B97F4A7C15ULL) >> 32 & (NHASH - 1)];
}

static struct filemap *lookup(const struct inode *i)
{
	for (struct filemap *f = *bucket(i); f; f = f->hnext)
		if (f->inode == i && f->ino == i->ino && f->sb == i->sb)
			return f;
	return NULL;
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool current_for(const struct filemap *f, const struct inode *i)
{
	return f->size == i->size && same_time(f->mtime, i->mtime) && same_time(f->ctime, i->ctime);
}

static void unref(struct filemap *f)
{
	if (--f->refs)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

/* Out of the cache: the memfd stays open for whoever still uses it. */
static void uncache(struct filemap *f)
{
	struct filemap **pp = bucket(f->inode);
	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	list_del(&f->lru);
	cached_bytes -= f->bytes;
	cached_files--;
	f->cached = false;
	unref(f);
}

/* Room for one more entry of bytes: the least recently used go (not those being read
 * in, whose fillers hold them). */
static bool make_room(uint64_t bytes)
{
	struct list *it = lru.prev;
	while ((cached_bytes + bytes > filemap_max_bytes || cached_files >= filemap_max_files) &&
	       it != &lru) {
		struct filemap *f = list_entry(it, struct filemap, lru);
		it = it->prev;
		if (!f->filling)
			uncache(f);
	}
	return cached_bytes + bytes <= filemap_max_bytes && cached_files < filemap_max_files;
}

/* The memfd with the file's data, sealed. The data is read straight into a mapping of
 * it, whose pages are allocated first (a host out of memory says so here rather than
 * with a SIGBUS in the kernel); the fill mapping must be gone before F_SEAL_WRITE. */
static int fill(struct filemap *f, struct inode *i)
{
	f->fd = memfd_create("vmlinux-file", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (f->fd < 0 || fallocate(f->fd, 0, 0, f->bytes))
		return -errno;
	void *p = mmap(NULL, f->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	ssize_t n = pagecache_read(i, p, f->size, 0);
	munmap(p, f->bytes);
	if (n != (ssize_t)f->size)
		return n < 0 ? (int)n : -EIO; /* shrunk meanwhile */
	if (fcntl(f->fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE))
		return -errno;
	return 0;
}

struct filemap *filemap_get(struct inode *i)
{
	pagecache_change_hook = filemap_drop;
	struct filemap *f;
	while ((f = lookup(i)) && f->filling)
		sleep_on(&fill_wq, false);
	if (f && current_for(f, i)) {
		list_del(&f->lru);
		list_add(&f->lru, &lru);
		f->refs++;
		return f;
	}
	if (f)
		uncache(f);
	/* A large file is copied piece by piece as mapped instead: reading all of it for
	 * one window, and pushing everything else out, would cost more. */
	uint64_t bytes = ROUND_UP(i->size, PAGE_SIZE);
	if (!i->size || bytes > filemap_max_bytes / 4 || !make_room(bytes))
		return NULL;
	f = xzalloc(sizeof(*f));
	*f = (struct filemap){.fd = -1,
			      .bytes = bytes,
			      .inode = i,
			      .ino = i->ino,
			      .sb = i->sb,
			      .size = i->size,
			      .mtime = i->mtime,
			      .ctime = i->ctime,
			      .refs = 2,
			      .cached = true,
			      .filling = true};
	struct filemap **b = bucket(i);
	f->hnext = *b;
	*b = f;
	list_add(&f->lru, &lru);
	cached_bytes += bytes;
	cached_files++;
	int err = fill(f, i);
	f->filling = false;
	wake_up(&fill_wq);
	/* Written, truncated or evicted while it was read in: no good. */
	if (err || !f->cached || !current_for(f, i)) {
		if (f->cached)
			uncache(f);
		unref(f);
		return NULL;
	}
	return f;
}

void filemap_put(struct filemap *fm)
{
	unref(fm);
}

void filemap_drop(struct inode *i)
{
	struct filemap *f = lookup(i);
	if (f)
		uncache(f);
}

void filemap_stats(uint64_t *bytes, unsigned *files)
{
	*bytes = cached_bytes;
	*files = cached_files;
}
