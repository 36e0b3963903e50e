/* The page cache: file data of an inode in 4 KiB pages kept in host memory. Reads hit
 * storage once (inode_ops.readpage); writes dirty pages that go back through
 * inode_ops.writepage on fsync, sync, memory pressure and unmount. An inode without
 * readpage/writepage (tmpfs) keeps its data here only. */
#ifndef PAGECACHE_H
#define PAGECACHE_H

#include "vfs.h"

ssize_t pagecache_read(struct inode *i, void *buf, size_t n, uint64_t pos);
/* Writes and extends i->size as needed; marks the inode dirty when it grows. */
ssize_t pagecache_write(struct inode *i, const void *buf, size_t n, uint64_t pos);
/* The file's size changes to size: drop or zero cached data past it. The filesystem
 * frees its own blocks. */
void pagecache_truncate(struct inode *i, uint64_t size);
/* Write every dirty page of the inode back; 0 or the first error. */
int pagecache_writeback(struct inode *i);
/* Write back all dirty pages of every inode of sb (NULL: of every filesystem). */
int pagecache_sync(struct super_block *sb);
/* Forget the inode's pages (eviction; dirty pages are written back first unless
 * the file is deleted). */
void pagecache_evict(struct inode *i);
/* A pointer to the cached page at index (read in if needed), valid until the next call
 * that may sleep. For mmap of files. */
int pagecache_get_page(struct inode *i, uint64_t index, void **page);
/* For writepage: how many pages right after index (at most max) are dirty, so that a
 * filesystem can allocate their blocks in one go. */
uint64_t pagecache_dirty_run(struct inode *i, uint64_t index, uint64_t max);
/* Total bytes cached and dirty (for /proc/meminfo). */
void pagecache_stats(uint64_t *cached, uint64_t *dirty);
/* When set, called after an inode's data changed (write, truncate) and when it is
 * evicted: filemap.c drops its copy of the file. */
extern void (*pagecache_change_hook)(struct inode *i);

#endif
