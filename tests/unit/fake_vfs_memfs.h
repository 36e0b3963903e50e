/* memfs, the in-memory filesystem of the VFS tests, the world each of those tests runs
 * in, and the fake kernel's counters (fake_vfs_kernel.c, fake_kernel.h). */
#ifndef FAKE_VFS_MEMFS_H
#define FAKE_VFS_MEMFS_H

#include "fake_kernel.h"
#include "../../src/kernel/fs/internal.h"

/* A guest address: guest memory is the test's own. */
#define U(p) ((uint64_t)(uintptr_t)(p))
/* Call a handler with its argument registers. */
#define SC(name, ...) sys_##name((const uint64_t[6]){__VA_ARGS__})

extern struct fs_type memfs_type;
extern int memfs_remounts;
extern int fake_sigpipes; /* SIGPIPEs sent */

/* A fresh world for a test: proc and its one task (current) with an fd table of 64,
 * umask 022, and a new memfs as the root; the sleep and SIGPIPE counts start at 0. */
void memfs_world_setup(struct process *proc, struct task *task);
/* Close the task's files and unmount everything: nothing may stay mounted. */
void memfs_world_teardown(struct task *task);

#endif
