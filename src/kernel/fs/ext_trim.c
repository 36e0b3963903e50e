/* FITRIM on ext2/3/4 (what fstrim(8) asks): discard the free blocks of the filesystem,
 * so that the ubd driver punches holes in the host image file. The filesystem lock is
 * held throughout: no block can be allocated, and written, while it is discarded. */
#define EXT_INTERNAL
#include "vfs.h"
#include "ext.h"
#include "../process.h"
#include <linux/fs.h>

static long ext_fitrim(struct file *f, uint64_t arg)
{
	struct super_block *sb = f->inode->sb;
	struct fstrim_range r;
	if (cur_cred()->euid != 0)
		return -EPERM;
	if (is_ro(sb))
		return -EROFS;
	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	ext2_filsys fs = lock_fs(sb);
	uint64_t bsize = EXT2_BLOCK_SIZE(fs->super);
	blk64_t first = MAX(r.start / bsize, (uint64_t)fs->super->s_first_data_block);
	blk64_t end =
	    MIN(r.len / bsize >= ext2fs_blocks_count(fs->super) ? ext2fs_blocks_count(fs->super)
								: first + r.len / bsize,
		ext2fs_blocks_count(fs->super));
	blk64_t minlen = MAX(r.minlen / bsize, 1);
	uint64_t trimmed = 0;
	errcode_t e = 0;
	for (blk64_t b = first; b < end && !e;) {
		if (ext2fs_test_block_bitmap2(fs->block_map, b)) {
			b++;
			continue;
		}
		blk64_t run = b;
		while (run < end && !ext2fs_test_block_bitmap2(fs->block_map, run))
			run++;
		if (run - b >= minlen) {
			e = io_channel_discard(fs->io, b, run - b);
			trimmed += (run - b) * bsize;
		}
		b = run;
	}
	unlock_fs(sb);
	if (e)
		return ext_sb_errno(sb, e, 0);
	r.len = trimmed;
	return copy_to_user(arg, &r, sizeof(r));
}

long ext_dir_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	if (cmd == FITRIM)
		return ext_fitrim(f, arg);
	return -ENOTTY;
}
