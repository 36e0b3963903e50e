/* The ext tests' environment (fake_ext_env.c): block devices over image files, on the
 * common fake kernel (fake_kernel.h). */
#ifndef FAKE_EXT_ENV_H
#define FAKE_EXT_ENV_H

#include "fake_kernel.h"
#include "kernel/blkdev.h"
#include "kernel/fs/vfs.h"

/* A block device named name (e.g. "ubda") over the file at path, registered with the
 * real blkdev.c: requests are served at once with pread/pwrite. */
struct blkdev *fake_blk_add(const char *name, const char *path, bool readonly);
void fake_blk_remove_all(void);

#endif
