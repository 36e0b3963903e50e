/* The page cache over a fake inode whose "disk" is a buffer in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_kernel.h"
#include "kernel/fs/vfs.h"
#include "kernel/fs/pagecache.h"

extern uint64_t pagecache_max_bytes, pagecache_dirty_max_bytes;

#define DISK_MAX (64 * PAGE_SIZE)

struct disk {
	uint8_t data[DISK_MAX];
	uint64_t holes_from; /* pages from here on are holes, as a filesystem reads them */
	int reads, writes, fail_writes;
	size_t last_len;
	uint64_t written[64]; /* pages in write order */
};

static int fake_readpage(struct inode *i, uint64_t index, void *page)
{
	struct disk *d = i->priv;
	assert_true(index < 64);
	d->reads++;
	if (index * PAGE_SIZE >= d->holes_from)
		memset(page, 0, PAGE_SIZE);
	else
		memcpy(page, d->data + index * PAGE_SIZE, PAGE_SIZE);
	return 0;
}

static int fake_writepage(struct inode *i, uint64_t index, const void *page, size_t len)
{
	struct disk *d = i->priv;
	assert_true(index < 64 && len > 0 && len <= PAGE_SIZE);
	if (d->fail_writes)
		return -ENOSPC;
	if (d->writes < 64)
		d->written[d->writes] = index;
	d->writes++;
	d->last_len = len;
	memcpy(d->data + index * PAGE_SIZE, page, len);
	return 0;
}

static const struct inode_ops backed_iops = {
    .readpage = fake_readpage,
    .writepage = fake_writepage,
};
static const struct inode_ops tmpfs_iops;

static int sync_calls, dirty_calls;
static int fake_sync(struct super_block *sb, bool wait)
{
	sync_calls++;
	return 0;
}
/* What mark_inode_dirty() calls. */
static int fake_write_inode(struct inode *i)
{
	dirty_calls++;
	return 0;
}
static const struct super_ops sops = {.sync = fake_sync, .write_inode = fake_write_inode};
static struct super_block sb = {.ops = &sops};

static struct inode *mk(struct disk *d, uint64_t size)
{
	struct inode *i = new_inode(&sb, S_IFREG | 0644);
	i->iop = d ? &backed_iops : &tmpfs_iops;
	i->priv = d;
	i->size = size;
	if (d)
		d->holes_from = ROUND_UP(size, PAGE_SIZE);
	return i;
}

static struct disk *mkdisk(void)
{
	struct disk *d = xzalloc(sizeof(*d));
	for (size_t k = 0; k < DISK_MAX; k++)
		d->data[k] = (uint8_t)(k * 7 + k / PAGE_SIZE);
	return d;
}

static int setup(void **state)
{
	pagecache_max_bytes = 64ULL << 20;
	pagecache_dirty_max_bytes = 16ULL << 20;
	sync_calls = 0;
	return 0;
}

/* Whatever a failed test left behind must not skew the next one's counts. */
static int teardown(void **state)
{
	while (sb.inodes.next && !list_empty(&sb.inodes)) {
		struct inode *i = list_entry(sb.inodes.next, struct inode, sb_link);
		i->nlink = 0;
		pagecache_evict(i);
		list_del(&i->sb_link);
		free(i);
	}
	return 0;
}

static void drop(struct inode *i)
{
	pagecache_evict(i);
	iput(i);
}

static void test_read_through(void **state)
{
	struct disk *d = mkdisk();
	struct inode *i = mk(d, 3 * PAGE_SIZE + 100);
	uint8_t buf[3 * PAGE_SIZE];
	assert_int_equal(pagecache_read(i, buf, 10, 4090), 10);
	assert_memory_equal(buf, d->data + 4090, 10);
	assert_int_equal(d->reads, 2);
	/* Cached now: the same pages are not read again. */
	assert_int_equal(pagecache_read(i, buf, 2 * PAGE_SIZE, 0), 2 * PAGE_SIZE);
	assert_memory_equal(buf, d->data, 2 * PAGE_SIZE);
	assert_int_equal(d->reads, 2);
	/* Short read at EOF; nothing past it. */
	assert_int_equal(pagecache_read(i, buf, 1000, 3 * PAGE_SIZE), 100);
	assert_memory_equal(buf, d->data + 3 * PAGE_SIZE, 100);
	assert_int_equal(pagecache_read(i, buf, 10, i->size), 0);
	/* What the disk holds past EOF in the last page reads as zeros once grown. */
	i->size += 50;
	assert_int_equal(pagecache_read(i, buf, 50, 3 * PAGE_SIZE + 100), 50);
	for (int k = 0; k < 50; k++)
		assert_int_equal(buf[k], 0);
	uint64_t cached, dirty;
	pagecache_stats(&cached, &dirty);
	assert_int_equal(cached, 3 * PAGE_SIZE);
	assert_int_equal(dirty, 0);
	void *page;
	assert_int_equal(pagecache_get_page(i, 1, &page), 0);
	assert_memory_equal(page, d->data + PAGE_SIZE, PAGE_SIZE);
	drop(i);
	pagecache_stats(&cached, &dirty);
	assert_int_equal(cached, 0);
	free(d);
}

static void test_write_extend(void **state)
{
	struct disk *d = mkdisk();
	struct inode *i = mk(d, 100);
	int dirty_before = dirty_calls;
	char msg[] = "hello, page cache";
	/* Past EOF, in a hole: the page is not read, the file grows. */
	assert_int_equal(pagecache_write(i, msg, sizeof(msg), 2 * PAGE_SIZE + 10), sizeof(msg));
	assert_int_equal(i->size, 2 * PAGE_SIZE + 10 + sizeof(msg));
	assert_int_equal(dirty_calls, dirty_before + 1);
	/* The old end's page was read to zero its tail (the disk has junk there). */
	assert_int_equal(d->reads, 1);
	/* Within the first page: cached now. */
	assert_int_equal(pagecache_write(i, "XY", 2, 50), 2);
	assert_int_equal(d->reads, 1);
	assert_int_equal(dirty_calls, dirty_before + 1); /* did not grow */
	uint8_t buf[3 * PAGE_SIZE];
	assert_int_equal(pagecache_read(i, buf, i->size, 0), i->size);
	assert_memory_equal(buf, d->data, 50);
	assert_memory_equal(buf + 50, "XY", 2);
	assert_memory_equal(buf + 52, d->data + 52, 48);
	for (size_t k = 100; k < 2 * PAGE_SIZE + 10; k++)
		assert_int_equal(buf[k], 0); /* old tail and the hole */
	assert_memory_equal(buf + 2 * PAGE_SIZE + 10, msg, sizeof(msg));
	uint64_t cached, dirty;
	pagecache_stats(&cached, &dirty);
	assert_int_equal(dirty, 2 * PAGE_SIZE);
	/* Writeback: the two dirty pages, in order, the last one cut at EOF. */
	assert_int_equal(pagecache_writeback(i), 0);
	assert_int_equal(d->writes, 2);
	assert_int_equal(d->written[0], 0);
	assert_int_equal(d->written[1], 2);
	assert_int_equal(d->last_len, 10 + sizeof(msg));
	assert_memory_equal(d->data + 2 * PAGE_SIZE + 10, msg, sizeof(msg));
	pagecache_stats(&cached, &dirty);
	assert_int_equal(dirty, 0);
	assert_int_equal(pagecache_writeback(i), 0);
	assert_int_equal(d->writes, 2);
	drop(i);
	free(d);
}

static void test_truncate(void **state)
{
	struct disk *d = mkdisk();
	struct inode *i = mk(d, 0);
	uint8_t data[3 * PAGE_SIZE];
	memset(data, 0xAB, sizeof(data));
	assert_int_equal(pagecache_write(i, data, sizeof(data), 0), sizeof(data));
	pagecache_truncate(i, PAGE_SIZE + 10);
	assert_int_equal(i->size, PAGE_SIZE + 10);
	uint64_t cached, dirty;
	pagecache_stats(&cached, &dirty);
	assert_int_equal(cached, 2 * PAGE_SIZE);
	assert_int_equal(dirty, 2 * PAGE_SIZE);
	/* Growing again shows zeros where the cut data was. */
	pagecache_truncate(i, 3 * PAGE_SIZE);
	uint8_t buf[3 * PAGE_SIZE];
	assert_int_equal(pagecache_read(i, buf, sizeof(buf), 0), sizeof(buf));
	assert_memory_equal(buf, data, PAGE_SIZE + 10);
	for (size_t k = PAGE_SIZE + 10; k < sizeof(buf); k++)
		assert_int_equal(buf[k], 0);
	assert_int_equal(d->reads, 1); /* page 2 only */
	pagecache_truncate(i, 0);
	pagecache_stats(&cached, &dirty);
	assert_int_equal(cached, 0);
	assert_int_equal(dirty, 0);
	assert_int_equal(pagecache_writeback(i), 0);
	assert_int_equal(d->writes, 0);
	drop(i);
	free(d);
}

static void test_tmpfs_pages(void **state)
{
	struct inode *i = mk(NULL, 0);
	char msg[] = "only in memory";
	pagecache_max_bytes = PAGE_SIZE;
	for (int k = 0; k < 8; k++)
		assert_int_equal(pagecache_write(i, msg, sizeof(msg), k * PAGE_SIZE), sizeof(msg));
	uint64_t cached, dirty;
	pagecache_stats(&cached, &dirty);
	assert_int_equal(cached, 8 * PAGE_SIZE); /* never dropped, whatever the limit */
	assert_int_equal(dirty, 0);
	assert_int_equal(pagecache_writeback(i), 0);
	char buf[sizeof(msg)];
	for (int k = 0; k < 8; k++) {
		assert_int_equal(pagecache_read(i, buf, sizeof(buf), k * PAGE_SIZE), sizeof(buf));
		assert_string_equal(buf, msg);
	}
	drop(i);
}

static void test_pressure(void **state)
{
	struct disk *d1 = mkdisk(), *d2 = mkdisk();
	struct inode *a = mk(d1, DISK_MAX), *b = mk(d2, DISK_MAX);
	uint8_t buf[PAGE_SIZE];
	/* Clean pages: dropped, coldest first, past the limit. */
	pagecache_max_bytes = 4 * PAGE_SIZE;
	for (int k = 0; k < 8; k++)
		assert_int_equal(pagecache_read(a, buf, 1, k * PAGE_SIZE), 1);
	uint64_t cached, dirty;
	pagecache_stats(&cached, &dirty);
	assert_true(cached <= 5 * PAGE_SIZE);
	assert_int_equal(pagecache_read(a, buf, 1, 0), 1);
	assert_int_equal(d1->reads, 9); /* page 0 had been dropped */
	/* Dirty pages: past the dirty limit the writer writes back its own pages, then
	 * other inodes' while still above it. */
	pagecache_max_bytes = 64 * PAGE_SIZE;
	memset(buf, 1, sizeof(buf));
	for (int k = 0; k < 3; k++)
		assert_int_equal(pagecache_write(b, buf, PAGE_SIZE, k * PAGE_SIZE), PAGE_SIZE);
	assert_int_equal(d2->writes, 0);
	pagecache_dirty_max_bytes = 2 * PAGE_SIZE;
	assert_int_equal(pagecache_write(a, buf, PAGE_SIZE, 0), PAGE_SIZE);
	assert_int_equal(d1->writes, 1);
	assert_int_equal(d2->writes, 3);
	pagecache_stats(&cached, &dirty);
	assert_int_equal(dirty, 0);
	drop(a);
	drop(b);
	free(d1);
	free(d2);
}

static void test_sync_evict_errors(void **state)
{
	struct disk *d1 = mkdisk(), *d2 = mkdisk();
	struct inode *a = mk(d1, 0), *b = mk(d2, 0);
	assert_int_equal(pagecache_write(a, "a", 1, 0), 1);
	assert_int_equal(pagecache_write(b, "b", 1, PAGE_SIZE), 1);
	assert_int_equal(pagecache_sync(&sb), 0);
	assert_int_equal(d1->writes, 1);
	assert_int_equal(d2->writes, 1);
	/* A failing writepage: the error comes back and the page stays dirty. */
	assert_int_equal(pagecache_write(a, "c", 1, 0), 1);
	d1->fail_writes = 1;
	assert_int_equal(pagecache_writeback(a), -ENOSPC);
	uint64_t cached, dirty;
	pagecache_stats(&cached, &dirty);
	assert_int_equal(dirty, PAGE_SIZE);
	d1->fail_writes = 0;
	/* Eviction writes back a linked file... */
	pagecache_evict(a);
	assert_int_equal(d1->writes, 2);
	assert_int_equal(d1->data[0], 'c');
	assert_null(a->pages);
	/* ...but not a deleted one. */
	assert_int_equal(pagecache_write(b, "d", 1, 0), 1);
	b->nlink = 0;
	pagecache_evict(b);
	assert_int_equal(d2->writes, 1);
	pagecache_stats(&cached, &dirty);
	assert_int_equal(cached, 0);
	assert_int_equal(dirty, 0);
	iput(a);
	iput(b);
	free(d1);
	free(d2);
}

static void test_generic_file(void **state)
{
	struct disk *d = mkdisk();
	struct inode *i = mk(d, 10);
	struct file f = {.inode = i, .flags = O_RDWR | O_APPEND, .refcount = 1};
	loff_t pos = 0;
	assert_int_equal(generic_file_write(&f, "tail", 4, &pos), 4);
	assert_int_equal(pos, 14);
	assert_int_equal(i->size, 14);
	char buf[32];
	pos = 8;
	assert_int_equal(generic_file_read(&f, buf, sizeof(buf), &pos), 6);
	assert_int_equal(pos, 14);
	assert_memory_equal(buf + 2, "tail", 4);
	assert_int_equal(generic_file_fsync(&f, false), 0);
	assert_int_equal(sync_calls, 1);
	assert_int_equal(d->writes, 1);
	assert_memory_equal(d->data + 10, "tail", 4);
	/* O_SYNC writes are durable on return. */
	f.flags = O_RDWR | O_SYNC;
	pos = 0;
	assert_int_equal(generic_file_write(&f, "head", 4, &pos), 4);
	assert_int_equal(sync_calls, 2);
	assert_memory_equal(d->data, "head", 4);
	pos = -1;
	assert_int_equal(generic_file_read(&f, buf, 1, &pos), -EINVAL);
	drop(i);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FIXTURE_TEST(test_read_through), FIXTURE_TEST(test_write_extend),
	    FIXTURE_TEST(test_truncate),     FIXTURE_TEST(test_tmpfs_pages),
	    FIXTURE_TEST(test_pressure),     FIXTURE_TEST(test_sync_evict_errors),
	    FIXTURE_TEST(test_generic_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
