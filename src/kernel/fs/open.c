/* Opening and closing files: open(2) and its relatives, device and FIFO nodes, exec and
 * boot-time opens, and the names of open files. */
#include "internal.h"
#include <linux/openat2.h>
#include <sys/mount.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Flags that only matter while opening: they are not kept in f->flags. */
#define OPEN_ONLY_FLAGS (O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)

static const struct file_ops path_fops; /* O_PATH: no operations at all */

/* The operations of an inode opened as a file: device nodes go to their driver. */
static int open_fops(const struct path *p, const struct file_ops **out)
{
	struct inode *i = p->dentry->inode;
	*out = i->fop;
	switch (i->mode & S_IFMT) {
	case S_IFCHR:
		if (p->mnt && (p->mnt->flags & MS_NODEV))
			return -EACCES;
		*out = find_chrdev(i->rdev);
		return *out ? 0 : -ENXIO;
	case S_IFBLK:
		if (p->mnt && (p->mnt->flags & MS_NODEV))
			return -EACCES;
		return -ENXIO;
	case S_IFIFO:
		*out = &fifo_fops;
		return 0;
	case S_IFSOCK:
		return -ENXIO;
	}
	return 0;
}

static int may_open(const struct path *p, int flags)
{
	struct inode *i = p->dentry->inode;
	int acc = flags & O_ACCMODE;
	bool wr = acc != O_RDONLY || (flags & O_TRUNC);
	if (S_ISDIR(i->mode) && wr)
		return -EISDIR;
	int mask = (acc != O_WRONLY ? MAY_READ : 0) | (wr ? MAY_WRITE : 0);
	int err = inode_permission(i, mask);
	if (err)
		return err;
	if (wr && (S_ISREG(i->mode) || S_ISDIR(i->mode) || S_ISLNK(i->mode)))
		return path_want_write(p);
	return 0;
}

int vfs_truncate(const struct path *p, uint64_t size)
{
	struct inode *i = p->dentry->inode;
	if (S_ISDIR(i->mode))
		return -EISDIR;
	if (!S_ISREG(i->mode))
		return -EINVAL;
	int err = path_want_write(p);
	if (err)
		return err;
	struct iattr a = {.valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME, .size = size};
	a.mtime = a.ctime = current_time();
	return notify_change(p->dentry, &a);
}

int vfs_open(const struct path *p, int flags, bool checked, struct file **out)
{
	struct inode *i = p->dentry->inode;
	if (flags & O_PATH) {
		struct file *f =
		    file_alloc(i, &path_fops, flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW));
		f->path = *p;
		path_get(p);
		*out = f;
		return 0;
	}
	if (S_ISLNK(i->mode))
		return -ELOOP; /* O_NOFOLLOW on a symlink */
	if ((flags & O_DIRECTORY) && !S_ISDIR(i->mode))
		return -ENOTDIR;
	const struct file_ops *fop;
	int err = checked ? 0 : may_open(p, flags);
	if (!err)
		err = open_fops(p, &fop);
	if (err)
		return err;
	struct file *f =
	    file_alloc(i, fop, (flags & ~(O_CREAT | O_EXCL | O_CLOEXEC)) | KO_LARGEFILE);
	f->path = *p;
	path_get(p);
	if (fop && fop->open && (err = fop->open(i, f))) {
		f->fop = NULL; /* no release for what never opened */
		fput(f);
		return err;
	}
	f->flags &= ~(O_NOCTTY | O_TRUNC);
	if ((flags & O_TRUNC) && !checked && S_ISREG(i->mode) && (err = vfs_truncate(p, 0))) {
		fput(f);
		return err;
	}
	*out = f;
	return 0;
}

/* Create name in the parent of l: a regular file, or a node as for mknod. */
int vfs_create(struct lookup_last *l, mode_t mode, dev_t rdev, struct dentry **out)
{
	struct inode *dir = l->parent.dentry->inode;
	int err = path_want_write(&l->parent);
	if (!err)
		err = inode_permission(dir, MAY_WRITE | MAY_EXEC);
	if (err)
		return err;
	if (l->parent.dentry->deleted)
		return -ENOENT;
	if (!dir->iop || !dir->iop->create)
		return -EPERM;
	struct inode *i;
	err = dir->iop->create(dir, l->name, mode, rdev, &i);
	if (err)
		return err;
	*out = d_alloc(l->parent.dentry, l->name, i);
	return 0;
}

int do_open(int dfd, const char *name, int flags, mode_t mode, struct file **out)
{
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return -EOPNOTSUPP;
	if ((flags & O_ACCMODE) == O_ACCMODE && !(flags & O_PATH))
		return -EINVAL;
	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	bool follow = !(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
	struct path p;
	bool created = false;
	int err;
	if (!(flags & O_CREAT)) {
		unsigned lf =
		    (follow ? LOOKUP_FOLLOW : 0) | (flags & O_DIRECTORY ? LOOKUP_DIRECTORY : 0);
		err = path_lookup_at(dfd, name, lf, &p);
		if (err)
			return err;
	} else {
		struct lookup_last l;
		err = path_last_at(dfd, name, follow ? LOOKUP_FOLLOW : 0, &l);
		if (err)
			return err;
		if (l.type != LAST_NORM || l.slash || (l.child && S_ISDIR(l.child->inode->mode)))
			err = -EISDIR;
		else if (l.child && (flags & O_EXCL))
			err = -EEXIST;
		else if (!l.child) {
			mode_t perm =
			    mode & 07777 & ~(current && current->fs ? current->fs->umask : 0);
			err = vfs_create(&l, S_IFREG | perm, 0, &l.child);
			created = !err;
		}
		if (err) {
			lookup_last_put(&l);
			return err;
		}
		p = (struct path){l.parent.mnt, l.child};
		path_get(&p);
		follow_mounts(&p);
		lookup_last_put(&l);
	}
	err = vfs_open(&p, flags, created, out);
	path_put(&p);
	return err;
}

int kern_open(const char *path, int flags, mode_t mode, struct file **out)
{
	return do_open(AT_FDCWD, path, flags, mode, out);
}

static long open_user(int dfd, uaddr_t uname, int flags, mode_t mode)
{
	char *name;
	int err = getname(uname, &name);
	if (err)
		return err;
	struct file *f;
	err = do_open(dfd, name, flags, mode, &f);
	free(name);
	if (err)
		return err;
	int fd = fd_install(f, flags & O_CLOEXEC);
	if (fd < 0)
		fput(f);
	return fd;
}

SYSCALL(open)
{
	return open_user(AT_FDCWD, a[0], a[1], a[2]);
}

SYSCALL(openat)
{
	return open_user(a[0], a[1], a[2], a[3]);
}

SYSCALL(creat)
{
	return open_user(AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]);
}

SYSCALL(openat2)
{
	struct open_how how = {0};
	size_t size = a[3];
	if (size < sizeof(uint64_t) * 3 || size > PAGE_SIZE)
		return -EINVAL;
	if (copy_from_user(&how, a[2], MIN(size, sizeof(how))))
		return -EFAULT;
	if (how.flags >> 32 || how.mode >> 12 || (how.mode && !(how.flags & (O_CREAT | O_TMPFILE))))
		return -EINVAL;
	if (how.resolve)
		return -EOPNOTSUPP; /* RESOLVE_* are not supported */
	return open_user(a[0], a[1], how.flags, how.mode);
}

SYSCALL(close)
{
	return fd_close(a[0]);
}

SYSCALL(close_range)
{
	unsigned first = a[0], last = a[1], flags = a[2];
	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || first > last)
		return -EINVAL;
	struct fdtable *t = current->files;
	if ((flags & CLOSE_RANGE_UNSHARE) && t->refcount > 1) {
		current->files = fdtable_dup(t);
		fdtable_put(t);
		t = current->files;
	}
	for (unsigned fd = first; fd <= last && fd < (unsigned)t->max; fd++) {
		if (!t->fd[fd])
			continue;
		if (flags & CLOSE_RANGE_CLOEXEC)
			t->cloexec[fd] = 1;
		else
			fd_close(fd);
	}
	return 0;
}

/* --- exec and names ----------------------------------------------------------------- */

int vfs_open_exec(int dirfd, const char *path, int at_flags, struct file **out)
{
	struct path p;
	int err = path_lookup_at(dirfd, path, at_lookup_flags(at_flags), &p);
	if (err)
		return err;
	struct inode *i = p.dentry->inode;
	if (!S_ISREG(i->mode) || (p.mnt->flags & MS_NOEXEC))
		err = S_ISLNK(i->mode) ? -ELOOP : -EACCES;
	else
		err = inode_permission(i, MAY_EXEC); /* exec needs no read permission */
	if (!err)
		err = vfs_open(&p, O_RDONLY, true, out);
	path_put(&p);
	return err;
}

int file_magic_path(struct file *f, struct path *out)
{
	if (!f->path.dentry)
		return -ENXIO;
	*out = f->path;
	path_get(out);
	return 0;
}

int file_path(struct file *f, char *buf, size_t size)
{
	int n;
	if (is_pipe_file(f) && f->inode->sb == &anon_sb)
		return snprintf(buf, size, "pipe:[%llu]", (unsigned long long)f->inode->ino);
	if (f->inode && f->inode->sb == &anon_sb && S_ISSOCK(f->inode->mode))
		return snprintf(buf, size, "socket:[%llu]", (unsigned long long)f->inode->ino);
	if (!f->path.dentry) {
		if (f->inode && f->inode->sb == &anon_sb && f->inode->priv)
			n = snprintf(buf, size, "anon_inode:[%s]", (const char *)f->inode->priv);
		else
			n = snprintf(buf, size, "anon_inode:[?]");
		return n < (int)size ? n : -ENAMETOOLONG;
	}
	n = path_to_string(&f->path, init_root(), buf, size);
	if (n >= 0 && f->path.dentry->deleted) {
		if ((size_t)n + 11 > size)
			return -ENAMETOOLONG;
		n += snprintf(buf + n, size - n, " (deleted)");
	}
	return n;
}
