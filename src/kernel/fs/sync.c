/* Writing back: sync(2), syncfs(2), fsync(2), fdatasync(2), sync_file_range(2). */
#include "internal.h"

SYSCALL(sync)
{
	vfs_sync_all();
	return 0;
}

SYSCALL(syncfs)
{
	struct file *f;
	int err = fget_checked(a[0], &f);
	if (err)
		return err;
	struct super_block *sb = f->inode ? f->inode->sb : NULL;
	if (sb)
		err = sb_sync(sb, true);
	fput(f);
	return err;
}

static long do_fsync(int fd, bool datasync)
{
	struct file *f;
	int err = fget_checked(fd, &f);
	if (err)
		return err;
	err = f->fop && f->fop->fsync ? f->fop->fsync(f, datasync) : -EINVAL;
	fput(f);
	return err;
}

SYSCALL(fsync)
{
	return do_fsync(a[0], false);
}

SYSCALL(fdatasync)
{
	return do_fsync(a[0], true);
}

SYSCALL(sync_file_range)
{
	int64_t off = a[1], n = a[2];
	unsigned flags = a[3];
	if (flags & ~(SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
		      SYNC_FILE_RANGE_WAIT_AFTER) ||
	    off < 0 || n < 0)
		return -EINVAL;
	struct file *f;
	int err = fget_checked(a[0], &f);
	if (err)
		return err;
	if (!f->inode || (!S_ISREG(f->inode->mode) && !S_ISDIR(f->inode->mode) &&
			  !S_ISLNK(f->inode->mode) && !S_ISBLK(f->inode->mode)))
		err = -ESPIPE;
	else if ((flags & SYNC_FILE_RANGE_WRITE) && f->fop && f->fop->fsync)
		err = f->fop->fsync(f, true); /* the whole file: a superset of the range */
	fput(f);
	return err;
}
