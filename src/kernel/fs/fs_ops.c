/* The name space syscalls: creating, linking, removing and renaming names. Each *at
 * form and its legacy form share one helper; the dentry cache follows every change. */
#include "internal.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)
#endif

/* May a new name go into the directory l->parent? */
static int may_create(const struct lookup_last *l)
{
	int err = path_want_write(&l->parent);
	if (!err)
		err = inode_permission(l->parent.dentry->inode, MAY_WRITE | MAY_EXEC);
	if (!err && l->parent.dentry->deleted)
		err = -ENOENT;
	return err;
}

/* May the name of child go from the directory dir? Also the sticky bit: only the
 * owner of the file or of the directory (or root) removes names from it. */
static int may_delete(const struct path *dir, struct dentry *child)
{
	struct inode *di = dir->dentry->inode, *i = child->inode;
	int err = path_want_write(dir);
	if (!err)
		err = inode_permission(di, MAY_WRITE | MAY_EXEC);
	if (err)
		return err;
	if ((di->mode & S_ISVTX) && !cur_is_root() && cur_fsuid() != i->uid &&
	    cur_fsuid() != di->uid)
		return -EPERM;
	if (child->mounted)
		return -EBUSY;
	return 0;
}

/* The parent of a name that is to be created: -EEXIST if it exists. */
static int create_target(int dfd, const char *name, bool dir, struct lookup_last *l)
{
	int err = path_last_at(dfd, name, 0, l);
	if (err)
		return err;
	if (l->type != LAST_NORM || l->child)
		err = -EEXIST;
	else if (l->slash && !dir)
		err = -ENOENT;
	else
		err = may_create(l);
	if (err)
		lookup_last_put(l);
	return err;
}

static mode_t apply_umask(mode_t mode)
{
	return mode & ~(current && current->fs ? current->fs->umask : 0);
}

/* --- creating ----------------------------------------------------------------------- */

/* mode is final: the syscalls apply the umask, kernel callers do not. */
static int do_mkdirat(int dfd, const char *name, mode_t mode)
{
	struct lookup_last l;
	int err = create_target(dfd, name, true, &l);
	if (err)
		return err;
	struct inode *dir = l.parent.dentry->inode, *i;
	if (!dir->iop || !dir->iop->mkdir)
		err = -EPERM;
	else if (!(err = dir->iop->mkdir(dir, l.name, mode & 07777, &i)))
		dput(d_alloc(l.parent.dentry, l.name, i));
	lookup_last_put(&l);
	return err;
}

static long mkdir_user(int dfd, uaddr_t uname, mode_t mode)
{
	char *name;
	int err = getname(uname, &name);
	if (err)
		return err;
	err = do_mkdirat(dfd, name, apply_umask(mode & 01777));
	free(name);
	return err;
}

SYSCALL(mkdir)
{
	return mkdir_user(AT_FDCWD, a[0], a[1]);
}

SYSCALL(mkdirat)
{
	return mkdir_user(a[0], a[1], a[2]);
}

int kern_mkdir(const char *name, mode_t mode)
{
	return do_mkdirat(AT_FDCWD, name, mode);
}

static int do_mknodat(int dfd, const char *name, mode_t mode, dev_t dev)
{
	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFCHR:
	case S_IFBLK:
		if (!cur_is_admin())
			return -EPERM;
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	struct lookup_last l;
	int err = create_target(dfd, name, false, &l);
	if (err)
		return err;
	struct dentry *d;
	if (!(err = vfs_create(&l, mode, dev, &d)))
		dput(d);
	lookup_last_put(&l);
	return err;
}

static long mknod_user(int dfd, uaddr_t uname, mode_t mode, dev_t dev)
{
	char *name;
	int err = getname(uname, &name);
	if (err)
		return err;
	err = do_mknodat(dfd, name, (mode & S_IFMT) | apply_umask(mode & 07777), dev);
	free(name);
	return err;
}

SYSCALL(mknod)
{
	return mknod_user(AT_FDCWD, a[0], a[1], a[2]);
}

SYSCALL(mknodat)
{
	return mknod_user(a[0], a[1], a[2], a[3]);
}

int kern_mknod(const char *name, mode_t mode, dev_t dev)
{
	return do_mknodat(AT_FDCWD, name, mode, dev);
}

static long do_symlinkat(uaddr_t utarget, int dfd, uaddr_t uname)
{
	char *target, *name = NULL;
	int err = getname(utarget, &target);
	if (err)
		return err;
	struct lookup_last l;
	if (!(err = getname(uname, &name)) && !(err = create_target(dfd, name, false, &l))) {
		struct inode *dir = l.parent.dentry->inode, *i;
		if (!dir->iop || !dir->iop->symlink)
			err = -EPERM;
		else if (!(err = dir->iop->symlink(dir, l.name, target, &i)))
			dput(d_alloc(l.parent.dentry, l.name, i));
		lookup_last_put(&l);
	}
	free(name);
	free(target);
	return err;
}

SYSCALL(symlink)
{
	return do_symlinkat(a[0], AT_FDCWD, a[1]);
}

SYSCALL(symlinkat)
{
	return do_symlinkat(a[0], a[1], a[2]);
}

static long do_linkat(int odfd, uaddr_t oname, int ndfd, uaddr_t nname, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct path old;
	unsigned lf = (flags & AT_SYMLINK_FOLLOW ? LOOKUP_FOLLOW : 0) |
		      (flags & AT_EMPTY_PATH ? LOOKUP_EMPTY : 0);
	int err = user_path_at(odfd, oname, lf, &old);
	if (err)
		return err;
	struct inode *i = old.dentry->inode;
	struct lookup_last l;
	char *name = NULL;
	if (S_ISDIR(i->mode)) {
		err = -EPERM;
	} else if (!(err = getname(nname, &name)) &&
		   !(err = create_target(ndfd, name, false, &l))) {
		struct inode *dir = l.parent.dentry->inode;
		if (l.parent.mnt != old.mnt)
			err = -EXDEV;
		else if (!dir->iop || !dir->iop->link)
			err = -EPERM;
		else if (!(err = dir->iop->link(dir, l.name, i))) {
			igrab(i);
			dput(d_alloc(l.parent.dentry, l.name, i));
		}
		lookup_last_put(&l);
	}
	free(name);
	path_put(&old);
	return err;
}

SYSCALL(link)
{
	return do_linkat(AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}

SYSCALL(linkat)
{
	return do_linkat(a[0], a[1], a[2], a[3], a[4]);
}

/* --- removing ----------------------------------------------------------------------- */

/* The existing name to remove or rename, not following a final symlink. */
static int existing_target(int dfd, uaddr_t uname, struct lookup_last *l)
{
	char *name;
	int err = getname(uname, &name);
	if (err)
		return err;
	err = path_last_at(dfd, name, 0, l);
	free(name);
	return err;
}

/* Why unlink refuses the name l found, or 0. */
static int unlink_refusal(const struct lookup_last *l)
{
	if (l->type != LAST_NORM)
		return -EISDIR;
	if (!l->child)
		return -ENOENT;
	if (S_ISDIR(l->child->inode->mode))
		return -EISDIR;
	return l->slash ? -ENOTDIR : 0;
}

/* Why rmdir refuses the name l found, or 0 (emptiness is the filesystem's to check). */
static int rmdir_refusal(const struct lookup_last *l)
{
	if (l->type != LAST_NORM)
		return l->type == LAST_DOT ? -EINVAL : l->type == LAST_DOTDOT ? -ENOTEMPTY : -EBUSY;
	if (!l->child)
		return -ENOENT;
	if (!S_ISDIR(l->child->inode->mode))
		return -ENOTDIR;
	return l->child == cur_root()->dentry ? -EBUSY : 0;
}

/* unlink (rmdir false) or rmdir of the name at uname. */
static long do_remove(int dfd, uaddr_t uname, bool rmdir)
{
	struct lookup_last l;
	int err = existing_target(dfd, uname, &l);
	if (err)
		return err;
	struct inode *dir = l.parent.dentry->inode;
	err = rmdir ? rmdir_refusal(&l) : unlink_refusal(&l);
	if (!err && !(err = may_delete(&l.parent, l.child))) {
		int (*op)(struct inode *, const char *) = !dir->iop ? NULL
							  : rmdir   ? dir->iop->rmdir
								    : dir->iop->unlink;
		err = op ? op(dir, l.name) : -EPERM;
	}
	if (!err)
		d_delete(l.child);
	lookup_last_put(&l);
	return err;
}

SYSCALL(unlink)
{
	return do_remove(AT_FDCWD, a[0], false);
}

SYSCALL(rmdir)
{
	return do_remove(AT_FDCWD, a[0], true);
}

SYSCALL(unlinkat)
{
	if (a[2] & ~AT_REMOVEDIR)
		return -EINVAL;
	return do_remove(a[0], a[1], a[2] & AT_REMOVEDIR);
}

/* --- renaming ----------------------------------------------------------------------- */

/* Is d below (or at) anc in the dentry tree? */
static bool is_below(struct dentry *d, struct dentry *anc)
{
	for (;; d = d->parent) {
		if (d == anc)
			return true;
		if (d->parent == d)
			return false;
	}
}

static int rename_check(struct lookup_last *o, struct lookup_last *n, unsigned flags)
{
	if (o->type != LAST_NORM || n->type != LAST_NORM)
		return -EBUSY;
	if (!o->child)
		return -ENOENT;
	if (o->parent.mnt != n->parent.mnt)
		return -EXDEV;
	bool exchange = flags & RENAME_EXCHANGE;
	if (exchange && !n->child)
		return -ENOENT;
	if ((flags & RENAME_NOREPLACE) && n->child)
		return -EEXIST;
	struct inode *oi = o->child->inode, *ni = n->child ? n->child->inode : NULL;
	bool odir = S_ISDIR(oi->mode), ndir = ni && S_ISDIR(ni->mode);
	if (((o->slash || (n->slash && !ni)) && !odir) || (exchange && n->slash && !ndir))
		return -ENOTDIR;
	if (ni && !exchange && odir != ndir)
		return odir ? -ENOTDIR : -EISDIR;
	if (odir && is_below(n->parent.dentry, o->child))
		return -EINVAL; /* into itself */
	if (exchange && ndir && is_below(o->parent.dentry, n->child))
		return -EINVAL;
	int err = may_delete(&o->parent, o->child);
	if (!err)
		err = ni ? may_delete(&n->parent, n->child) : may_create(n);
	if (!err && odir && o->parent.dentry != n->parent.dentry)
		err = inode_permission(oi, MAY_WRITE); /* its ".." changes */
	return err;
}

static long do_renameat2(int odfd, uaddr_t oname, int ndfd, uaddr_t nname, unsigned flags)
{
	if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)))
		return -EINVAL;
	struct lookup_last o, n;
	int err = existing_target(odfd, oname, &o);
	if (err)
		return err;
	if ((err = existing_target(ndfd, nname, &n))) {
		lookup_last_put(&o);
		return err;
	}
	err = rename_check(&o, &n, flags);
	/* the same file under both names: nothing to do (as POSIX says) */
	bool same = !err && n.child && n.child->inode == o.child->inode;
	if (!err && !same) {
		struct inode *odir = o.parent.dentry->inode;
		err = odir->iop && odir->iop->rename
			  ? odir->iop->rename(odir, o.name, n.parent.dentry->inode, n.name, flags)
			  : -EPERM;
	}
	if (!err && !same) {
		if (flags & RENAME_EXCHANGE) {
			d_move(n.child, o.parent.dentry, o.name);
		} else if (n.child) {
			d_delete(n.child);
		}
		d_move(o.child, n.parent.dentry, n.name);
	}
	lookup_last_put(&o);
	lookup_last_put(&n);
	return err;
}

SYSCALL(rename)
{
	return do_renameat2(AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}

SYSCALL(renameat)
{
	return do_renameat2(a[0], a[1], a[2], a[3], 0);
}

SYSCALL(renameat2)
{
	return do_renameat2(a[0], a[1], a[2], a[3], a[4]);
}

/* --- reading links ------------------------------------------------------------------ */

static long do_readlinkat(int dfd, uaddr_t uname, uaddr_t ubuf, int size)
{
	if (size <= 0)
		return -EINVAL;
	struct path p;
	int err = user_path_at(dfd, uname, LOOKUP_EMPTY, &p);
	if (err)
		return err;
	struct inode *i = p.dentry->inode;
	if (!S_ISLNK(i->mode) || !i->iop || !i->iop->readlink) {
		path_put(&p);
		return -EINVAL;
	}
	size_t n = MIN((size_t)size, (size_t)PATH_MAX);
	char *buf = xmalloc(n);
	long r = i->iop->readlink(i, buf, n);
	if (r > 0 && copy_to_user(ubuf, buf, r))
		r = -EFAULT;
	free(buf);
	path_put(&p);
	return r;
}

SYSCALL(readlink)
{
	return do_readlinkat(AT_FDCWD, a[0], a[1], a[2]);
}

SYSCALL(readlinkat)
{
	return do_readlinkat(a[0], a[1], a[2], a[3]);
}
