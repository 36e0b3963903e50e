/* A fake kernel for the synthetic filesystem tests (fake_pseudo_kernel.c): inodes as the
 * VFS keeps them (with a count of live ones), a flat page cache, a process table, block
 * devices and a clock that the tests set. */
#ifndef FAKE_PSEUDO_KERNEL_H
#define FAKE_PSEUDO_KERNEL_H

#include "kernel/blkdev.h"
#include "kernel/fs/pseudofs.h"
#include "kernel/task.h"

#define FAKE_MAX_PROCS 8
extern struct process *fake_procs[FAKE_MAX_PROCS]; /* what process_next() walks */
extern int fake_live_inodes;                       /* new_inode() minus freed ones */
extern uint64_t fake_committed, fake_cached, fake_dirty;
extern uint64_t fake_mono_ns, fake_real_ns;
extern struct blkdev *fake_blkdevs[4];
/* A filesystem registered with register_filesystem(), by name. */
const struct fs_type *fake_find_fs(const char *name);

#endif
