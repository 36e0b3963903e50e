/* ext2, ext3 and ext4 through libext2fs, over the kernel's block devices. */
#ifndef EXT_H
#define EXT_H

/* Register the "ext4", "ext3" and "ext2" filesystem types (boot code calls this). */
void ext_fs_register(void);

#ifdef EXT_INTERNAL
/* Shared by ext.c and ext_io.c only: they include libext2fs, nothing else needs to. */
#include "../blkdev.h"
#include "vfs.h"
#include <ext2fs/ext2fs.h>

/* The I/O manager: channel names are block device names (blk_lookup). Every call
 * must be made with the filesystem's lock held: the block cache behind a channel is
 * not reentrant, and its I/O sleeps. */
extern struct struct_io_manager ext_io_manager;

/* The filesystem lock (every libext2fs call is made with it held), and errcode to
 * Linux errno (marks the filesystem in error on corruption). */
ext2_filsys lock_fs(struct super_block *sb);
void unlock_fs(struct super_block *sb);
bool is_ro(struct super_block *sb);
int ext_sb_errno(struct super_block *sb, errcode_t e, ext2_ino_t ino);

/* Extended attributes (ext_xattr.c). */
ssize_t ext_getxattr(struct inode *inode, const char *name, void *value, size_t size);
int ext_setxattr(struct inode *inode, const char *name, const void *value, size_t size, int flags);
ssize_t ext_listxattr(struct inode *inode, char *list, size_t size);
int ext_removexattr(struct inode *inode, const char *name);

/* Directory ioctls (ext_trim.c): FITRIM. */
long ext_dir_ioctl(struct file *f, unsigned cmd, uint64_t arg);
/* File data: served from the block cache when a block is there (it may be newer than
 * the disk), read from the device otherwise without being cached, except for up to ra
 * blocks past the end read ahead and cached for the next call. */
errcode_t ext_io_read_data(io_channel ch, blk64_t blk, unsigned n, void *buf, unsigned ra);
/* File data: cached dirty, dropped from the cache once written back. */
errcode_t ext_io_write_data(io_channel ch, blk64_t blk, unsigned n, const void *buf);
/* Write back dirty blocks; with wait, also flush the device's write cache. */
errcode_t ext_io_sync(io_channel ch, bool wait);
/* Allow or refuse writes (remount). */
void ext_io_set_rw(io_channel ch, bool rw);
#endif

#endif
