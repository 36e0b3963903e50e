/* memfs, the in-memory filesystem of the VFS tests, and the fake kernel's counters. */
#ifndef FAKE_VFS_MEMFS_H
#define FAKE_VFS_MEMFS_H

#include "../../src/kernel/fs/internal.h"

extern struct fs_type memfs_type;
extern int memfs_remounts;
extern int fake_sleeps, fake_sigpipes;

#endif
