/* The memfd cache of file mappings (fs/filemap.c) over the real page cache and a fake
 * inode whose "disk" is a buffer: what the memfd holds and how it is sealed, reuse,
 * rebuilding after writes, truncates and time changes, eviction with the inode, the
 * bounds and the least recently used order, and a file changed while it is read in. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_kernel.h"
#include "kernel/fs/vfs.h"
#include "kernel/fs/pagecache.h"
#include "kernel/fs/filemap.h"

#define DISK_MAX (16 * PAGE_SIZE)

struct disk {
	uint8_t data[DISK_MAX];
	int reads;
	bool change_on_read; /* a writer gets in while the file is read in */
};

static int fake_readpage(struct inode *i, uint64_t index, void *page)
{
	struct disk *d = i->priv;
	assert_true(index < DISK_MAX / PAGE_SIZE);
	d->reads++;
	memcpy(page, d->data + index * PAGE_SIZE, PAGE_SIZE);
	if (d->change_on_read) {
		d->change_on_read = false;
		i->ctime.tv_nsec++;
		pagecache_change_hook(i);
	}
	return 0;
}

static int fake_writepage(struct inode *i, uint64_t index, const void *page, size_t len)
{
	struct disk *d = i->priv;
	memcpy(d->data + index * PAGE_SIZE, page, len);
	return 0;
}

static const struct inode_ops iops = {.readpage = fake_readpage, .writepage = fake_writepage};

/* As a filesystem does: the page cache goes with the inode. */
static void fake_evict(struct inode *i)
{
	pagecache_evict(i);
	free(i->priv);
}
static const struct super_ops sops = {.evict_inode = fake_evict};
static struct super_block sb = {.ops = &sops};

static struct inode *mk(uint64_t size, uint8_t seed)
{
	struct disk *d = xzalloc(sizeof(*d));
	for (size_t k = 0; k < DISK_MAX; k++)
		d->data[k] = (uint8_t)(k * 7 + seed);
	struct inode *i = new_inode(&sb, S_IFREG | 0644);
	i->iop = &iops;
	i->priv = d;
	i->size = size;
	i->nlink = 1;
	i->ino = 100 + seed;
	return i;
}

static struct disk *disk(struct inode *i)
{
	return i->priv;
}

static void stats(uint64_t *bytes, unsigned *files)
{
	filemap_stats(bytes, files);
}

static int setup(void **state)
{
	filemap_max_bytes = 64ULL << 20;
	filemap_max_files = 64;
	return 0;
}

/* Every test leaves the cache empty: its inodes are gone. */
static int teardown(void **state)
{
	uint64_t bytes;
	unsigned files;
	stats(&bytes, &files);
	assert_int_equal(bytes, 0);
	assert_int_equal(files, 0);
	return 0;
}

static void test_contents_and_seals(void **state)
{
	struct inode *i = mk(3 * PAGE_SIZE + 100, 1);
	struct filemap *fm = filemap_get(i);
	assert_non_null(fm);
	assert_int_equal(fm->bytes, 4 * PAGE_SIZE);
	assert_int_equal(disk(i)->reads, 4);
	struct stat st;
	assert_int_equal(fstat(fm->fd, &st), 0);
	assert_int_equal(st.st_size, 4 * PAGE_SIZE);
	/* The file's bytes, then zeros up to the page boundary (as Linux shows them). */
	uint8_t buf[4 * PAGE_SIZE];
	assert_int_equal(pread(fm->fd, buf, sizeof(buf), 0), sizeof(buf));
	assert_memory_equal(buf, disk(i)->data, i->size);
	for (size_t k = i->size; k < sizeof(buf); k++)
		assert_int_equal(buf[k], 0);
	/* Sealed: no writes, no shared writable mappings, no size change, no unsealing. */
	int seals = fcntl(fm->fd, F_GET_SEALS);
	assert_int_equal(seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
			 F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	assert_int_equal(pwrite(fm->fd, "x", 1, 0), -1);
	assert_int_equal(ftruncate(fm->fd, PAGE_SIZE), -1);
	assert_ptr_equal(mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fm->fd, 0),
			 MAP_FAILED);
	/* A private writable mapping (what a guest gets) copies on write. */
	uint8_t *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fm->fd, 0);
	assert_ptr_not_equal(p, MAP_FAILED);
	assert_int_equal(p[5], disk(i)->data[5]);
	p[5] ^= 0xff;
	assert_int_equal(pread(fm->fd, buf, 8, 0), 8);
	assert_int_equal(buf[5], disk(i)->data[5]);
	munmap(p, PAGE_SIZE);
	uint64_t bytes;
	unsigned files;
	stats(&bytes, &files);
	assert_int_equal(bytes, 4 * PAGE_SIZE);
	assert_int_equal(files, 1);
	filemap_put(fm);
	iput(i);
}

static void test_reuse(void **state)
{
	struct inode *i = mk(2 * PAGE_SIZE, 2);
	struct filemap *a = filemap_get(i);
	assert_non_null(a);
	int reads = disk(i)->reads;
	filemap_put(a);
	/* Cached: the same memfd, nothing read again. */
	struct filemap *b = filemap_get(i);
	assert_ptr_equal(b, a);
	assert_int_equal(disk(i)->reads, reads);
	/* A memfd in use stays open when the inode goes; the last user closes it. */
	iput(i);
	uint64_t bytes;
	unsigned files;
	stats(&bytes, &files);
	assert_int_equal(files, 0);
	struct stat st;
	assert_int_equal(fstat(b->fd, &st), 0);
	filemap_put(b);
}

/* Holds a reference to the memfd it got, so a rebuilt one is a different file. */
static struct filemap *rebuilt(struct inode *i, struct filemap *old)
{
	struct filemap *fm = filemap_get(i);
	assert_non_null(fm);
	assert_ptr_not_equal(fm, old);
	filemap_put(old);
	return fm;
}

static void test_changes(void **state)
{
	struct inode *i = mk(2 * PAGE_SIZE, 3);
	struct filemap *fm = filemap_get(i);
	assert_non_null(fm);
	uint8_t b0;
	/* A write (the page cache reports it): new data in a new memfd; the old one keeps
	 * what it had, as mappings made from it do. */
	assert_int_equal(pagecache_write(i, "W", 1, 10), 1);
	struct filemap *old = fm;
	fm = filemap_get(i);
	assert_non_null(fm);
	assert_ptr_not_equal(fm, old);
	assert_int_equal(pread(fm->fd, &b0, 1, 10), 1);
	assert_int_equal(b0, 'W');
	assert_int_equal(pread(old->fd, &b0, 1, 10), 1);
	assert_int_equal(b0, (uint8_t)(10 * 7 + 3));
	filemap_put(old);
	/* Growing and truncating. */
	assert_int_equal(pagecache_write(i, "G", 1, 2 * PAGE_SIZE), 1);
	fm = rebuilt(i, fm);
	assert_int_equal(fm->bytes, 3 * PAGE_SIZE);
	pagecache_truncate(i, 100);
	fm = rebuilt(i, fm);
	assert_int_equal(fm->bytes, PAGE_SIZE);
	/* Size, mtime or ctime changed behind the page cache's back: rebuilt too. */
	i->mtime.tv_sec++;
	fm = rebuilt(i, fm);
	i->ctime.tv_nsec++;
	fm = rebuilt(i, fm);
	i->size = 50;
	fm = rebuilt(i, fm);
	/* Unchanged: reused. */
	struct filemap *same = filemap_get(i);
	assert_ptr_equal(same, fm);
	filemap_put(same);
	filemap_put(fm);
	iput(i);
}

static void test_bounds(void **state)
{
	filemap_max_files = 2;
	struct inode *a = mk(PAGE_SIZE, 4), *b = mk(PAGE_SIZE, 5), *c = mk(PAGE_SIZE, 6);
	filemap_put(filemap_get(a));
	filemap_put(filemap_get(b));
	filemap_put(filemap_get(a)); /* a is the most recently used */
	int reads_a = disk(a)->reads, reads_b = disk(b)->reads;
	filemap_put(filemap_get(c)); /* b goes */
	uint64_t bytes;
	unsigned files;
	stats(&bytes, &files);
	assert_int_equal(files, 2);
	filemap_put(filemap_get(a));
	assert_int_equal(disk(a)->reads, reads_a);
	filemap_put(filemap_get(b)); /* read again (from the page cache: no disk read) */
	assert_int_equal(disk(b)->reads, reads_b);
	stats(&bytes, &files);
	assert_int_equal(files, 2);

	/* Bytes: a file larger than a quarter of the cache has no memfd; one that needs
	 * room pushes the least recently used out. */
	filemap_max_files = 64;
	filemap_max_bytes = 8 * PAGE_SIZE;
	struct inode *big = mk(2 * PAGE_SIZE + 1, 7), *f1 = mk(2 * PAGE_SIZE, 8),
		     *f2 = mk(2 * PAGE_SIZE, 11), *f3 = mk(2 * PAGE_SIZE, 12);
	assert_null(filemap_get(big));
	stats(&bytes, &files);
	assert_int_equal(bytes, 2 * PAGE_SIZE); /* a and b */
	struct filemap *fm = filemap_get(f1);
	assert_non_null(fm);
	filemap_put(filemap_get(f2));
	filemap_put(filemap_get(a));
	filemap_put(filemap_get(b));
	filemap_put(filemap_get(f3));
	stats(&bytes, &files);
	assert_int_equal(bytes, 8 * PAGE_SIZE);
	assert_int_equal(files, 5);
	/* f1 is the least recently used, and in use: it still makes way, and its fd stays
	 * open until put. */
	filemap_put(filemap_get(c));
	stats(&bytes, &files);
	assert_int_equal(bytes, 7 * PAGE_SIZE);
	assert_int_equal(files, 5);
	struct stat st;
	assert_int_equal(fstat(fm->fd, &st), 0);
	struct filemap *again = filemap_get(f1);
	assert_ptr_not_equal(again, fm);
	filemap_put(again);
	filemap_put(fm);
	iput(a);
	iput(b);
	iput(c);
	iput(big);
	iput(f1);
	iput(f2);
	iput(f3);
}

static void test_changed_while_read(void **state)
{
	struct inode *i = mk(2 * PAGE_SIZE, 9);
	disk(i)->change_on_read = true;
	assert_null(filemap_get(i));
	uint64_t bytes;
	unsigned files;
	stats(&bytes, &files);
	assert_int_equal(files, 0);
	assert_int_equal(bytes, 0);
	/* Next time it is read in whole. */
	struct filemap *fm = filemap_get(i);
	assert_non_null(fm);
	filemap_put(fm);
	iput(i);
}

static void test_empty(void **state)
{
	struct inode *i = mk(0, 10);
	assert_null(filemap_get(i));
	iput(i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_contents_and_seals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changed_while_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
