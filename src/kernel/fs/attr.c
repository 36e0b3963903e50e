/* Inode attributes: chmod, chown, utimes, truncate, fallocate and access, each family
 * sharing one helper between its *at, f* and legacy forms. */
#include "internal.h"
#include <linux/falloc.h>
#include <sys/time.h>
#include <utime.h>

int notify_change(struct dentry *d, struct iattr *a)
{
	struct inode *i = d->inode;
	bool op = i->iop && i->iop->setattr;
	if (op) {
		int err = i->iop->setattr(i, a);
		if (err)
			return err;
	}
	/* A filesystem may leave copying the values to us; whatever it did not take over
	 * is copied here and written back. Sizes are the filesystem's business alone. */
	struct inode before = *i;
	setattr_copy(i, a);
	if (!op || memcmp(&before, i, sizeof(before)))
		mark_inode_dirty(i);
	return 0;
}

/* The path an attribute call works on: (dfd, name) as for every *at call; a NULL or ""
 * name with AT_EMPTY_PATH (or fd_only) names dfd's file itself. */
static int attr_target(int dfd, uaddr_t uname, int at_flags, struct path *out)
{
	if (uname || !(at_flags & AT_EMPTY_PATH))
		return user_path_at(dfd, uname, at_lookup_flags(at_flags), out);
	struct file *f;
	int err = fget_raw(dfd, &f);
	if (err)
		return err;
	*out = f->path;
	if (out->dentry)
		path_get(out);
	fput(f);
	return out->dentry ? 0 : -EBADF;
}

static bool is_owner(const struct inode *i)
{
	return cur_is_root() || cur_fsuid() == i->uid;
}

/* --- chmod and chown ---------------------------------------------------------------- */

static long do_chmod(int dfd, uaddr_t uname, mode_t mode, int at_flags)
{
	struct path p;
	int err = attr_target(dfd, uname, at_flags, &p);
	if (err)
		return err;
	struct inode *i = p.dentry->inode;
	if (!(err = path_want_write(&p)) && !(err = is_owner(i) ? 0 : -EPERM)) {
		struct iattr a = {.valid = ATTR_MODE | ATTR_CTIME, .mode = mode & 07777};
		if (!cur_is_root() && !cur_in_group(i->gid))
			a.mode &= ~S_ISGID;
		a.ctime = current_time();
		err = notify_change(p.dentry, &a);
	}
	path_put(&p);
	return err;
}

SYSCALL(chmod)
{
	return do_chmod(AT_FDCWD, a[0], a[1], 0);
}

SYSCALL(fchmod)
{
	return do_chmod(a[0], 0, a[1], AT_EMPTY_PATH);
}

SYSCALL(fchmodat)
{
	return do_chmod(a[0], a[1], a[2], 0);
}

static long do_chown(int dfd, uaddr_t uname, uid_t uid, gid_t gid, int at_flags)
{
	if (at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct path p;
	int err = attr_target(dfd, uname, at_flags, &p);
	if (err)
		return err;
	struct inode *i = p.dentry->inode;
	struct iattr a = {.valid = ATTR_CTIME, .ctime = current_time()};
	if (uid != (uid_t)-1) {
		a.valid |= ATTR_UID;
		a.uid = uid;
		if (uid != i->uid && !cur_is_root())
			err = -EPERM;
	}
	if (gid != (gid_t)-1) {
		a.valid |= ATTR_GID;
		a.gid = gid;
		if (gid != i->gid && !cur_is_root() && (!is_owner(i) || !cur_in_group(gid)))
			err = -EPERM;
	}
	if (!err)
		err = path_want_write(&p);
	if (!err && (a.valid & (ATTR_UID | ATTR_GID)) && !S_ISDIR(i->mode) &&
	    (i->mode & (S_ISUID | S_ISGID))) {
		/* a new owner does not inherit set-id powers */
		a.valid |= ATTR_MODE;
		a.mode = i->mode & 07777 & ~S_ISUID;
		if (i->mode & S_IXGRP)
			a.mode &= ~S_ISGID;
	}
	if (!err)
		err = notify_change(p.dentry, &a);
	path_put(&p);
	return err;
}

SYSCALL(chown)
{
	return do_chown(AT_FDCWD, a[0], a[1], a[2], 0);
}

SYSCALL(lchown)
{
	return do_chown(AT_FDCWD, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW);
}

SYSCALL(fchown)
{
	return do_chown(a[0], 0, a[1], a[2], AT_EMPTY_PATH);
}

SYSCALL(fchownat)
{
	return do_chown(a[0], a[1], a[2], a[3], a[4]);
}

/* --- times -------------------------------------------------------------------------- */

/* ts NULL: both now. UTIME_NOW and UTIME_OMIT as utimensat(2). */
static long do_utimes(int dfd, uaddr_t uname, const struct timespec *ts, int at_flags)
{
	if (at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct timespec now = current_time(), t[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	if (ts)
		memcpy(t, ts, sizeof(t));
	for (int k = 0; k < 2; k++) {
		if (t[k].tv_nsec == UTIME_OMIT || t[k].tv_nsec == UTIME_NOW)
			continue;
		if (t[k].tv_nsec < 0 || t[k].tv_nsec >= 1000000000)
			return -EINVAL;
	}
	if (t[0].tv_nsec == UTIME_OMIT && t[1].tv_nsec == UTIME_OMIT)
		return 0;
	/* utimensat(fd, NULL, ...) works on fd itself */
	struct path p;
	int err = attr_target(dfd, uname, uname ? at_flags : at_flags | AT_EMPTY_PATH, &p);
	if (err)
		return err;
	struct inode *i = p.dentry->inode;
	bool only_now = t[0].tv_nsec != UTIME_OMIT && t[1].tv_nsec != UTIME_OMIT &&
			t[0].tv_nsec == UTIME_NOW && t[1].tv_nsec == UTIME_NOW;
	if (!(err = path_want_write(&p)) && !is_owner(i))
		err = only_now ? inode_permission(i, MAY_WRITE) : -EPERM;
	if (!err) {
		struct iattr a = {.valid = ATTR_CTIME, .ctime = now};
		if (t[0].tv_nsec != UTIME_OMIT) {
			a.valid |= ATTR_ATIME;
			a.atime = t[0].tv_nsec == UTIME_NOW ? now : t[0];
		}
		if (t[1].tv_nsec != UTIME_OMIT) {
			a.valid |= ATTR_MTIME;
			a.mtime = t[1].tv_nsec == UTIME_NOW ? now : t[1];
		}
		err = notify_change(p.dentry, &a);
	}
	path_put(&p);
	return err;
}

SYSCALL(utimensat)
{
	struct timespec ts[2];
	if (a[2] && copy_from_user(ts, a[2], sizeof(ts)))
		return -EFAULT;
	return do_utimes(a[0], a[1], a[2] ? ts : NULL, a[3]);
}

/* utimes(2) and futimesat(2): microseconds. */
static long utimes_tv(int dfd, uaddr_t uname, uaddr_t utv)
{
	struct timeval tv[2];
	struct timespec ts[2];
	if (!utv)
		return do_utimes(dfd, uname, NULL, 0);
	if (copy_from_user(tv, utv, sizeof(tv)))
		return -EFAULT;
	for (int k = 0; k < 2; k++) {
		if (tv[k].tv_usec < 0 || tv[k].tv_usec >= 1000000)
			return -EINVAL;
		ts[k] = (struct timespec){tv[k].tv_sec, tv[k].tv_usec * 1000};
	}
	return do_utimes(dfd, uname, ts, 0);
}

SYSCALL(utimes)
{
	return utimes_tv(AT_FDCWD, a[0], a[1]);
}

SYSCALL(futimesat)
{
	return utimes_tv(a[0], a[1], a[2]);
}

SYSCALL(utime)
{
	struct utimbuf ub;
	if (!a[1])
		return do_utimes(AT_FDCWD, a[0], NULL, 0);
	if (copy_from_user(&ub, a[1], sizeof(ub)))
		return -EFAULT;
	struct timespec ts[2] = {{ub.actime, 0}, {ub.modtime, 0}};
	return do_utimes(AT_FDCWD, a[0], ts, 0);
}

/* --- sizes -------------------------------------------------------------------------- */

SYSCALL(truncate)
{
	if ((int64_t)a[1] < 0)
		return -EINVAL;
	struct path p;
	int err = user_path_at(AT_FDCWD, a[0], LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	if (S_ISDIR(p.dentry->inode->mode))
		err = -EISDIR;
	else if (!(err = inode_permission(p.dentry->inode, MAY_WRITE)))
		err = vfs_truncate(&p, a[1]);
	path_put(&p);
	return err;
}

/* An fd open for writing on a regular file, for ftruncate and fallocate. */
static int writable_regular(int fd, struct file **out)
{
	int err = fget_checked(fd, out);
	if (err)
		return err;
	struct file *f = *out;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		err = -EINVAL;
	else if (!f->inode || !S_ISREG(f->inode->mode))
		err = f->inode && S_ISDIR(f->inode->mode) ? -EISDIR : -EINVAL;
	if (err)
		fput(f);
	return err;
}

SYSCALL(ftruncate)
{
	if ((int64_t)a[1] < 0)
		return -EINVAL;
	struct file *f;
	int err = writable_regular(a[0], &f);
	if (err)
		return err;
	err = vfs_truncate(&f->path, a[1]);
	fput(f);
	return err;
}

SYSCALL(fallocate)
{
	int mode = a[1];
	int64_t off = a[2], len = a[3];
	if (off < 0 || len <= 0)
		return -EINVAL;
	struct file *f;
	int err = writable_regular(a[0], &f);
	if (err)
		return err == -EINVAL ? -EBADF : err;
	/* Space is not reserved: files grow on write. Only the size changes. */
	if (mode & ~FALLOC_FL_KEEP_SIZE)
		err = -EOPNOTSUPP;
	else if (!(mode & FALLOC_FL_KEEP_SIZE) && (uint64_t)(off + len) > f->inode->size)
		err = vfs_truncate(&f->path, off + len);
	fput(f);
	return err;
}

/* --- access ------------------------------------------------------------------------- */

static long do_faccessat(int dfd, uaddr_t uname, int mode, int at_flags)
{
	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (at_flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct path p;
	int err = attr_target(dfd, uname, at_flags, &p);
	if (err)
		return err;
	/* access(2) asks as the real ids; borrow them for the check (nothing sleeps) */
	struct creds *c = current && current->proc ? &current->proc->cred : NULL;
	struct creds saved;
	if (c && !(at_flags & AT_EACCESS)) {
		saved = *c;
		c->fsuid = c->uid;
		c->fsgid = c->gid;
	}
	struct inode *i = p.dentry->inode;
	err = inode_permission(i, mode & 7);
	if (!err && (mode & W_OK) && (S_ISREG(i->mode) || S_ISDIR(i->mode) || S_ISLNK(i->mode)))
		err = path_want_write(&p);
	if (c && !(at_flags & AT_EACCESS))
		*c = saved;
	path_put(&p);
	return err;
}

SYSCALL(access)
{
	return do_faccessat(AT_FDCWD, a[0], a[1], 0);
}

SYSCALL(faccessat)
{
	return do_faccessat(a[0], a[1], a[2], 0);
}

SYSCALL(faccessat2)
{
	return do_faccessat(a[0], a[1], a[2], a[3]);
}
