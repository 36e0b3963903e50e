/* Fakes for the ext and page cache unit tests (fake_ext_env.c). */
#ifndef FAKE_EXT_ENV_H
#define FAKE_EXT_ENV_H

#include "kernel/blkdev.h"
#include "kernel/fs/vfs.h"

/* Everything printk() said since the last fake_log_clear(). */
extern char fake_log[16384];
void fake_log_clear(void);
/* mark_inode_dirty() calls so far. */
extern int fake_dirty_calls;

struct fake_blk_stats {
	unsigned long reads, writes, flushes;
	unsigned long long read_bytes, write_bytes;
};
extern struct fake_blk_stats fake_blk_stats;

/* A block device named name (e.g. "ubda") over the file at path. */
struct blkdev *fake_blk_add(const char *name, const char *path, bool readonly);
void fake_blk_remove_all(void);

#endif
