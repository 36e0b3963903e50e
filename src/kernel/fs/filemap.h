/* Whole files in host memfds, so that a platform that can map host fds maps file pages
 * into guests without a copy (see filemap.c). */
#ifndef FILEMAP_H
#define FILEMAP_H

#include "vfs.h"

struct filemap {
	int fd;		/* sealed memfd: the file's bytes, then zeros to a page boundary */
	uint64_t bytes; /* its size: the file's, rounded up to a page */
	/* The cache's own. */
	struct inode *inode; /* key, with ino and sb; dropped before the inode is freed */
	uint64_t ino;
	struct super_block *sb;
	uint64_t size; /* what the file was when it was read */
	struct timespec mtime, ctime;
	int refs;     /* the cache's (while cached) and every user's */
	bool cached;  /* in the hash and on the LRU */
	bool filling; /* being read in: lookups wait */
	struct filemap *hnext;
	struct list lru;
};

/* The memfd of the regular file i, whose data lives in the page cache, referenced; read
 * in from the page cache unless cached already. NULL when it cannot have one (empty,
 * larger than a quarter of the cache, changed while read in, host out of memory or fds):
 * the caller copies the data instead. May sleep. */
struct filemap *filemap_get(struct inode *i);
void filemap_put(struct filemap *fm);
/* The data of i changed or i is going away: forget its memfd (mappings keep theirs). */
void filemap_drop(struct inode *i);
/* Bytes (a quarter of them for one file) and files (each holds a host fd) cached at
 * most; the least recently used go. */
extern uint64_t filemap_max_bytes;
extern unsigned filemap_max_files;
/* What is cached now (for tests and /proc). */
void filemap_stats(uint64_t *bytes, unsigned *files);

#endif
