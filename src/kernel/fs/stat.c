/* File status: stat(2) and its relatives, statx(2), statfs(2) and fstatfs(2). The
 * guest's struct stat and struct statfs have the host's x86-64 layout. */
#include "internal.h"
#include <sys/mount.h>
#include <sys/statvfs.h>

#define ST_VALID 0x0020 /* f_flags is meaningful (Linux) */

/* What to describe: the inode at a path, or (AT_EMPTY_PATH and "") the fd's own inode,
 * which also works for pipes and sockets. mnt gets the mount when there is one. */
static int stat_inode(int dfd, uaddr_t uname, int at_flags, struct inode **out, struct mount **mnt)
{
	char c = 0;
	bool empty =
	    (at_flags & AT_EMPTY_PATH) && (!uname || (!copy_from_user(&c, uname, 1) && !c));
	*mnt = NULL;
	if (empty && dfd != AT_FDCWD) {
		struct file *f;
		int err = fget_raw(dfd, &f);
		if (err)
			return err;
		*out = f->inode;
		igrab(*out);
		*mnt = f->path.mnt;
		fput(f);
		return 0;
	}
	struct path p;
	int err = user_path_at(dfd, uname, at_lookup_flags(at_flags), &p);
	if (err)
		return err;
	*out = p.dentry->inode;
	igrab(*out);
	*mnt = p.mnt;
	path_put(&p);
	return 0;
}

static void fill_stat(const struct inode *i, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = i->sb ? i->sb->dev : 0;
	st->st_ino = i->ino;
	st->st_nlink = i->nlink;
	st->st_mode = i->mode;
	st->st_uid = i->uid;
	st->st_gid = i->gid;
	st->st_rdev = i->rdev;
	st->st_size = i->size;
	st->st_blksize = 4096;
	st->st_blocks = i->blocks;
	st->st_atim = i->atime;
	st->st_mtim = i->mtime;
	st->st_ctim = i->ctime;
}

static long stat_common(int dfd, uaddr_t name, int at_flags, uaddr_t ubuf)
{
	if (at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	struct inode *i;
	struct mount *m;
	int err = stat_inode(dfd, name, at_flags, &i, &m);
	if (err)
		return err;
	struct stat st;
	fill_stat(i, &st);
	iput(i);
	return copy_to_user(ubuf, &st, sizeof(st));
}

SYSCALL(stat)
{
	return stat_common(AT_FDCWD, a[0], 0, a[1]);
}

SYSCALL(lstat)
{
	return stat_common(AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW, a[1]);
}

SYSCALL(fstat)
{
	return (int)a[0] < 0 ? -EBADF : stat_common(a[0], 0, AT_EMPTY_PATH, a[1]);
}

SYSCALL(newfstatat)
{
	return stat_common(a[0], a[1], a[3], a[2]);
}

SYSCALL(statx)
{
	int dfd = a[0], flags = a[2];
	unsigned mask = a[3];
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) ||
	    (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED))
		return -EINVAL;
	struct inode *i;
	struct mount *m;
	int err = stat_inode(dfd, a[1], flags, &i, &m);
	if (err)
		return err;
	struct statx sx;
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = STATX_BASIC_STATS;
	sx.stx_blksize = 4096;
	sx.stx_nlink = i->nlink;
	sx.stx_uid = i->uid;
	sx.stx_gid = i->gid;
	sx.stx_mode = i->mode;
	sx.stx_ino = i->ino;
	sx.stx_size = i->size;
	sx.stx_blocks = i->blocks;
	sx.stx_atime = (struct statx_timestamp){i->atime.tv_sec, i->atime.tv_nsec, 0};
	sx.stx_mtime = (struct statx_timestamp){i->mtime.tv_sec, i->mtime.tv_nsec, 0};
	sx.stx_ctime = (struct statx_timestamp){i->ctime.tv_sec, i->ctime.tv_nsec, 0};
	sx.stx_rdev_major = major(i->rdev);
	sx.stx_rdev_minor = minor(i->rdev);
	dev_t dev = i->sb ? i->sb->dev : 0;
	sx.stx_dev_major = major(dev);
	sx.stx_dev_minor = minor(dev);
	if (m && m->root && m->root->inode == i) {
		sx.stx_attributes |= STATX_ATTR_MOUNT_ROOT;
		sx.stx_attributes_mask |= STATX_ATTR_MOUNT_ROOT;
	}
	iput(i);
	return copy_to_user(a[4], &sx, sizeof(sx));
}

/* --- filesystems -------------------------------------------------------------------- */

static int do_statfs(struct super_block *sb, const struct mount *m, uaddr_t ubuf)
{
	struct statfs st;
	memset(&st, 0, sizeof(st));
	int err = sb && sb->ops && sb->ops->statfs ? sb->ops->statfs(sb, &st) : 0;
	if (err)
		return err;
	if (!st.f_type && sb)
		st.f_type = sb->magic;
	if (!st.f_bsize)
		st.f_bsize = 4096;
	if (!st.f_frsize)
		st.f_frsize = st.f_bsize;
	if (!st.f_namelen)
		st.f_namelen = NAME_MAX;
	dev_t dev = sb ? sb->dev : 0;
	memcpy(&st.f_fsid, (int[2]){(int)minor(dev) | (int)major(dev) << 8, 0}, sizeof(st.f_fsid));
	/* the mount's flags as ST_* (the low ones share their values with MS_*) */
	unsigned long mf = (m ? m->flags : 0) | (sb ? sb->flags & MS_RDONLY : 0);
	st.f_flags = ST_VALID | (mf & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC)) |
		     (mf & MS_NOATIME ? ST_NOATIME : 0) | (mf & MS_NODIRATIME ? ST_NODIRATIME : 0) |
		     (mf & MS_RELATIME ? ST_RELATIME : 0);
	return copy_to_user(ubuf, &st, sizeof(st));
}

SYSCALL(statfs)
{
	struct path p;
	int err = user_path_at(AT_FDCWD, a[0], LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	err = do_statfs(p.dentry->inode->sb, p.mnt, a[1]);
	path_put(&p);
	return err;
}

SYSCALL(fstatfs)
{
	struct file *f;
	int err = fget_raw(a[0], &f);
	if (err)
		return err;
	err = do_statfs(f->inode ? f->inode->sb : NULL, f->path.mnt, a[1]);
	fput(f);
	return err;
}
