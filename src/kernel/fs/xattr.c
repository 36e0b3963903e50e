/* Extended attributes: the get, set, list and remove syscalls in their path, l (no
 * final symlink) and f (open file) forms. The VFS checks the name (1 to XATTR_NAME_MAX
 * bytes), the sizes and the name space rules of Linux's xattr_permission(), then calls
 * the inode's getxattr/setxattr/listxattr/removexattr. A filesystem without them behaves
 * as a Linux filesystem without xattr support: -EOPNOTSUPP from get, set and remove, an
 * empty list. (There is no security module: no security.* attributes appear by
 * themselves, and writing them needs CAP_SYS_ADMIN, as commoncap does.) */
#include "internal.h"

#define XATTR_NAME_MAX_K 255
#define XATTR_SIZE_MAX_K 65536
#define XATTR_LIST_MAX_K 65536
#define XATTR_CREATE_K 0x1
#define XATTR_REPLACE_K 0x2

static bool has_prefix(const char *name, const char *prefix)
{
	return !strncmp(name, prefix, strlen(prefix));
}

/* The attribute name from the guest: -ERANGE if empty or too long. */
static int xattr_name(uaddr_t uname, char *kname)
{
	long n = strncpy_from_user(kname, uname, XATTR_NAME_MAX_K + 1);
	if (n == 0 || n == -ENAMETOOLONG)
		return -ERANGE;
	return n < 0 ? (int)n : 0;
}

static bool owner_or_root(const struct inode *i)
{
	return cur_is_root() || cur_fsuid() == i->uid;
}

/* Linux's xattr_permission(): what the VFS decides before any filesystem is asked. */
static int xattr_permission(struct inode *i, const char *name, int mask)
{
	/* security.* and system.*: left to the security module and the filesystem */
	if (has_prefix(name, "security.") || has_prefix(name, "system."))
		return 0;
	if (has_prefix(name, "trusted.")) {
		if (!cur_is_admin())
			return mask & MAY_WRITE ? -EPERM : -ENODATA;
		return 0;
	}
	if (has_prefix(name, "user.")) {
		/* only regular files and directories have user attributes; in a sticky
		 * directory only its owner writes them */
		if (!S_ISREG(i->mode) && !S_ISDIR(i->mode))
			return mask & MAY_WRITE ? -EPERM : -ENODATA;
		if (S_ISDIR(i->mode) && (i->mode & S_ISVTX) && (mask & MAY_WRITE) &&
		    !owner_or_root(i))
			return -EPERM;
	}
	return inode_permission(i, mask);
}

/* --- get ---------------------------------------------------------------------------- */

static long do_getxattr(struct inode *i, uaddr_t uname, uaddr_t uvalue, size_t size)
{
	char name[XATTR_NAME_MAX_K + 1];
	int err = xattr_name(uname, name);
	if (err)
		return err;
	if ((err = xattr_permission(i, name, MAY_READ)))
		return err;
	if (!i->iop || !i->iop->getxattr)
		return -EOPNOTSUPP;
	if (size > XATTR_SIZE_MAX_K)
		size = XATTR_SIZE_MAX_K;
	char *buf = size ? xmalloc(size) : NULL;
	ssize_t r = i->iop->getxattr(i, name, buf, size);
	if (r > 0 && size && copy_to_user(uvalue, buf, r))
		r = -EFAULT;
	else if (r == -ERANGE && size >= XATTR_SIZE_MAX_K)
		r = -E2BIG; /* a value larger than any the guest may ask for */
	free(buf);
	return r;
}

static long path_getxattr(uaddr_t upath, uaddr_t uname, uaddr_t uvalue, size_t size, bool follow)
{
	struct path p;
	int err = user_path_at(AT_FDCWD, upath, follow ? LOOKUP_FOLLOW : 0, &p);
	if (err)
		return err;
	long r = do_getxattr(p.dentry->inode, uname, uvalue, size);
	path_put(&p);
	return r;
}

SYSCALL(getxattr)
{
	return path_getxattr(a[0], a[1], a[2], a[3], true);
}

SYSCALL(lgetxattr)
{
	return path_getxattr(a[0], a[1], a[2], a[3], false);
}

SYSCALL(fgetxattr)
{
	struct file *f;
	int err = fget_checked(a[0], &f);
	if (err)
		return err;
	long r = f->inode ? do_getxattr(f->inode, a[1], a[2], a[3]) : -EOPNOTSUPP;
	fput(f);
	return r;
}

/* --- set and remove ----------------------------------------------------------------- */

/* The checks of a change: the mount, the name space rules, and what the security
 * module (commoncap) and the POSIX ACL handler would refuse. */
static int may_change(const struct path *p, struct inode *i, const char *name)
{
	int err = p ? path_want_write(p) : 0;
	if (!err)
		err = xattr_permission(i, name, MAY_WRITE);
	if (!err && has_prefix(name, "security.") && !cur_is_admin())
		err = -EPERM;
	return err;
}

static int acl_owner_check(struct inode *i, const char *name)
{
	if (has_prefix(name, "system.posix_acl_") && !owner_or_root(i))
		return -EPERM;
	return 0;
}

static void xattr_changed(struct inode *i)
{
	i->ctime = current_time();
	mark_inode_dirty(i);
}

static long do_setxattr(const struct path *p, struct inode *i, const char *name, const void *value,
			size_t size, int flags)
{
	int err = may_change(p, i, name);
	if (err)
		return err;
	if (!i->iop || !i->iop->setxattr)
		return -EOPNOTSUPP;
	if ((err = acl_owner_check(i, name)))
		return err;
	err = i->iop->setxattr(i, name, value, size, flags);
	if (!err)
		xattr_changed(i);
	return err;
}

/* Copy the name and value of a set call: 0, or an error before anything is looked up
 * (as Linux's setxattr_copy). *value must be freed. */
static int setxattr_copy(uaddr_t uname, uaddr_t uvalue, size_t size, int flags, char *name,
			 char **value)
{
	*value = NULL;
	if (flags & ~(XATTR_CREATE_K | XATTR_REPLACE_K))
		return -EINVAL;
	int err = xattr_name(uname, name);
	if (err)
		return err;
	if (size) {
		if (size > XATTR_SIZE_MAX_K)
			return -E2BIG;
		*value = xmalloc(size);
		if (copy_from_user(*value, uvalue, size)) {
			free(*value);
			*value = NULL;
			return -EFAULT;
		}
	}
	return 0;
}

static long path_setxattr(uaddr_t upath, uaddr_t uname, uaddr_t uvalue, size_t size, int flags,
			  bool follow)
{
	char name[XATTR_NAME_MAX_K + 1], *value;
	int err = setxattr_copy(uname, uvalue, size, flags, name, &value);
	if (err)
		return err;
	struct path p;
	if (!(err = user_path_at(AT_FDCWD, upath, follow ? LOOKUP_FOLLOW : 0, &p))) {
		err = do_setxattr(&p, p.dentry->inode, name, value, size, flags);
		path_put(&p);
	}
	free(value);
	return err;
}

SYSCALL(setxattr)
{
	return path_setxattr(a[0], a[1], a[2], a[3], a[4], true);
}

SYSCALL(lsetxattr)
{
	return path_setxattr(a[0], a[1], a[2], a[3], a[4], false);
}

SYSCALL(fsetxattr)
{
	char name[XATTR_NAME_MAX_K + 1], *value;
	struct file *f;
	int err = fget_checked(a[0], &f);
	if (err)
		return err;
	if (!(err = setxattr_copy(a[1], a[2], a[3], a[4], name, &value))) {
		err = f->inode ? do_setxattr(f->path.mnt ? &f->path : NULL, f->inode, name, value,
					     a[3], a[4])
			       : -EOPNOTSUPP;
		free(value);
	}
	fput(f);
	return err;
}

static long do_removexattr(const struct path *p, struct inode *i, uaddr_t uname)
{
	char name[XATTR_NAME_MAX_K + 1];
	int err = xattr_name(uname, name);
	if (err)
		return err;
	if ((err = may_change(p, i, name)))
		return err;
	if (!i->iop || !i->iop->removexattr)
		return -EOPNOTSUPP;
	if ((err = acl_owner_check(i, name)))
		return err;
	err = i->iop->removexattr(i, name);
	if (!err)
		xattr_changed(i);
	return err;
}

static long path_removexattr(uaddr_t upath, uaddr_t uname, bool follow)
{
	struct path p;
	int err = user_path_at(AT_FDCWD, upath, follow ? LOOKUP_FOLLOW : 0, &p);
	if (err)
		return err;
	err = do_removexattr(&p, p.dentry->inode, uname);
	path_put(&p);
	return err;
}

SYSCALL(removexattr)
{
	return path_removexattr(a[0], a[1], true);
}

SYSCALL(lremovexattr)
{
	return path_removexattr(a[0], a[1], false);
}

SYSCALL(fremovexattr)
{
	struct file *f;
	int err = fget_checked(a[0], &f);
	if (err)
		return err;
	err =
	    f->inode ? do_removexattr(f->path.mnt ? &f->path : NULL, f->inode, a[1]) : -EOPNOTSUPP;
	fput(f);
	return err;
}

/* --- list --------------------------------------------------------------------------- */

static long do_listxattr(struct inode *i, uaddr_t ulist, size_t size)
{
	if (!i->iop || !i->iop->listxattr)
		return 0; /* no attributes (and no security module to list any) */
	if (size > XATTR_LIST_MAX_K)
		size = XATTR_LIST_MAX_K;
	char *buf = size ? xmalloc(size) : NULL;
	ssize_t r = i->iop->listxattr(i, buf, size);
	if (r > 0 && size && copy_to_user(ulist, buf, r))
		r = -EFAULT;
	else if (r == -ERANGE && size >= XATTR_LIST_MAX_K)
		r = -E2BIG;
	free(buf);
	return r;
}

static long path_listxattr(uaddr_t upath, uaddr_t ulist, size_t size, bool follow)
{
	struct path p;
	int err = user_path_at(AT_FDCWD, upath, follow ? LOOKUP_FOLLOW : 0, &p);
	if (err)
		return err;
	long r = do_listxattr(p.dentry->inode, ulist, size);
	path_put(&p);
	return r;
}

SYSCALL(listxattr)
{
	return path_listxattr(a[0], a[1], a[2], true);
}

SYSCALL(llistxattr)
{
	return path_listxattr(a[0], a[1], a[2], false);
}

SYSCALL(flistxattr)
{
	struct file *f;
	int err = fget_checked(a[0], &f);
	if (err)
		return err;
	long r = f->inode ? do_listxattr(f->inode, a[1], a[2]) : 0;
	fput(f);
	return r;
}
