/* A fake kernel for the synthetic filesystem tests (fake_pseudo_kernel.c), on the common
 * fake (fake_kernel.h): a flat page cache, memory counters the tests set, and process
 * memory and open files as procfs reads them. Inodes, the registries and block devices
 * are the real ones (fs/inode.c, fs/registry.c, blkdev.c). */
#ifndef FAKE_PSEUDO_KERNEL_H
#define FAKE_PSEUDO_KERNEL_H

#include "fake_kernel.h"
#include "kernel/blkdev.h"
#include "kernel/fs/pseudofs.h"

extern uint64_t fake_committed, fake_cached, fake_dirty;
/* For block devices the tests register: any request aborts. */
extern const struct blkdev_ops fake_noio_blk_ops;

#endif
