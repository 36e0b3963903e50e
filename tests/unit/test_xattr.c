/* The xattr syscalls on memfs: a filesystem without xattr operations (-EOPNOTSUPP, an
 * empty list: what coreutils sees as "no ACLs here"), and inodes given a small
 * attribute store by the test: get/set/list/remove in the path, l and f forms, flags,
 * sizes, name limits and the name space permission rules. Guest addresses are host
 * pointers (fake_kernel.c). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_vfs_memfs.h"
#include <sys/mount.h>
#include <sys/xattr.h>

/* The handlers of fs/xattr.c (listed in syscall.c). */
SYSCALL(getxattr);
SYSCALL(lgetxattr);
SYSCALL(fgetxattr);
SYSCALL(setxattr);
SYSCALL(lsetxattr);
SYSCALL(fsetxattr);
SYSCALL(listxattr);
SYSCALL(llistxattr);
SYSCALL(flistxattr);
SYSCALL(removexattr);
SYSCALL(lremovexattr);
SYSCALL(fremovexattr);

static struct process proc;
static struct task task;

/* --- a tiny attribute store for chosen inodes --------------------------------------- */

struct xent {
	struct inode *inode;
	char name[256];
	char value[512];
	size_t len;
};
static struct xent store[16];
static int nstore;

static struct xent *xfind(struct inode *i, const char *name)
{
	for (int k = 0; k < nstore; k++)
		if (store[k].inode == i && !strcmp(store[k].name, name))
			return &store[k];
	return NULL;
}

static ssize_t t_get(struct inode *i, const char *name, void *value, size_t size)
{
	if (strncmp(name, "user.", 5) && strncmp(name, "trusted.", 8) &&
	    strncmp(name, "security.", 9) && strncmp(name, "system.posix_acl_", 17))
		return -EOPNOTSUPP;
	struct xent *e = xfind(i, name);
	if (!e)
		return -ENODATA;
	if (!size)
		return e->len;
	if (size < e->len)
		return -ERANGE;
	memcpy(value, e->value, e->len);
	return e->len;
}

static int t_set(struct inode *i, const char *name, const void *value, size_t size, int flags)
{
	struct xent *e = xfind(i, name);
	if (e && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!e && (flags & XATTR_REPLACE))
		return -ENODATA;
	if (size > sizeof(e->value))
		return -ENOSPC;
	if (!e) {
		e = &store[nstore++];
		e->inode = i;
		snprintf(e->name, sizeof(e->name), "%s", name);
	}
	if (size)
		memcpy(e->value, value, size);
	e->len = size;
	return 0;
}

static ssize_t t_list(struct inode *i, char *list, size_t size)
{
	size_t n = 0;
	for (int k = 0; k < nstore; k++) {
		if (store[k].inode != i)
			continue;
		size_t l = strlen(store[k].name) + 1;
		if (size && n + l > size)
			return -ERANGE;
		if (size)
			memcpy(list + n, store[k].name, l);
		n += l;
	}
	return n;
}

static int t_remove(struct inode *i, const char *name)
{
	struct xent *e = xfind(i, name);
	if (!e)
		return -ENODATA;
	*e = store[--nstore];
	return 0;
}

static struct inode_ops xops[2];

static struct inode *inode_of(const char *path)
{
	struct path p;
	assert_int_equal(path_lookup_at(AT_FDCWD, path, 0, &p), 0);
	struct inode *i = p.dentry->inode;
	path_put(&p);
	return i;
}

/* Give the inode at path the store (the filesystem's other operations stay). */
static void give_xattrs(const char *path, int slot)
{
	struct inode *i = inode_of(path);
	xops[slot] = i->iop ? *i->iop : (struct inode_ops){0};
	xops[slot].getxattr = t_get;
	xops[slot].setxattr = t_set;
	xops[slot].listxattr = t_list;
	xops[slot].removexattr = t_remove;
	i->iop = &xops[slot];
}

static int setup(void **state)
{
	memfs_world_setup(&proc, &task);
	nstore = 0;
	return 0;
}

static int teardown(void **state)
{
	memfs_world_teardown(&task);
	return 0;
}

static void mkfile(const char *path, mode_t mode)
{
	int fd = SC(open, U(path), O_CREAT | O_WRONLY, mode);
	assert_true(fd >= 0);
	SC(close, fd);
}

static void become(uid_t uid)
{
	struct creds *c = &proc.cred;
	c->uid = c->euid = c->suid = c->fsuid = uid;
	c->gid = c->egid = c->sgid = c->fsgid = uid;
}

/* --- no xattr support --------------------------------------------------------------- */

static void test_without_support(void **state)
{
	mkfile("/f", 0644);
	assert_int_equal(SC(symlink, U("f"), U("/l")), 0);
	char buf[64];
	/* what ls -l asks: no ACL support, quietly */
	assert_int_equal(SC(getxattr, U("/f"), U("system.posix_acl_access"), U(buf), sizeof(buf)),
			 -EOPNOTSUPP);
	assert_int_equal(SC(lgetxattr, U("/f"), U("security.selinux"), U(buf), sizeof(buf)),
			 -EOPNOTSUPP);
	assert_int_equal(SC(getxattr, U("/f"), U("user.x"), 0, 0), -EOPNOTSUPP);
	assert_int_equal(SC(listxattr, U("/f"), U(buf), sizeof(buf)), 0);
	assert_int_equal(SC(llistxattr, U("/l"), 0, 0), 0);
	assert_int_equal(SC(setxattr, U("/f"), U("user.x"), U("v"), 1, 0), -EOPNOTSUPP);
	assert_int_equal(SC(removexattr, U("/f"), U("user.x")), -EOPNOTSUPP);
	/* the name space rules come first: user.* on a symlink is never there */
	assert_int_equal(SC(lgetxattr, U("/l"), U("user.x"), U(buf), sizeof(buf)), -ENODATA);
	assert_int_equal(SC(lsetxattr, U("/l"), U("user.x"), U("v"), 1, 0), -EPERM);
	/* names, paths, flags and sizes */
	assert_int_equal(SC(getxattr, U("/nope"), U("user.x"), 0, 0), -ENOENT);
	assert_int_equal(SC(getxattr, U("/f"), U(""), 0, 0), -ERANGE);
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "user.", 5);
	longname[256] = '\0';
	assert_int_equal(SC(getxattr, U("/f"), U(longname), 0, 0), -ERANGE);
	longname[255] = '\0';
	assert_int_equal(SC(getxattr, U("/f"), U(longname), 0, 0), -EOPNOTSUPP);
	assert_int_equal(SC(setxattr, U("/f"), U("user.x"), U("v"), 1, 4), -EINVAL);
	assert_int_equal(SC(setxattr, U("/f"), U("user.x"), U("v"), 65537, 0), -E2BIG);
	assert_int_equal(SC(setxattr, U("/f"), U("user.x"), 0, 4, 0), -EFAULT);
	/* descriptors */
	int fd = SC(open, U("/f"), O_RDONLY);
	assert_int_equal(SC(fgetxattr, fd, U("user.x"), 0, 0), -EOPNOTSUPP);
	assert_int_equal(SC(flistxattr, fd, 0, 0), 0);
	assert_int_equal(SC(fgetxattr, 60, U("user.x"), 0, 0), -EBADF);
	int pfd = SC(open, U("/f"), O_PATH);
	assert_int_equal(SC(fgetxattr, pfd, U("user.x"), 0, 0), -EBADF);
	int pp[2];
	assert_int_equal(SC(pipe, U(pp)), 0);
	assert_int_equal(SC(fsetxattr, pp[1], U("user.x"), U("v"), 1, 0), -EPERM); /* not a file */
	assert_int_equal(SC(fgetxattr, pp[0], U("system.x"), 0, 0), -EOPNOTSUPP);
	SC(close, pp[0]);
	SC(close, pp[1]);
	SC(close, pfd);
	SC(close, fd);
}

/* --- with a store ------------------------------------------------------------------- */

static void test_get_set_list_remove(void **state)
{
	mkfile("/f", 0644);
	give_xattrs("/f", 0);
	struct inode *i = inode_of("/f");
	char buf[64] = {0};
	assert_int_equal(SC(getxattr, U("/f"), U("user.color"), U(buf), sizeof(buf)), -ENODATA);
	/* ext4 without ACLs: ENODATA, which ls -l takes as "no ACL" */
	assert_int_equal(SC(getxattr, U("/f"), U("system.posix_acl_access"), U(buf), sizeof(buf)),
			 -ENODATA);
	i->ctime = (struct timespec){1, 0};
	assert_int_equal(SC(setxattr, U("/f"), U("user.color"), U("blue"), 4, XATTR_CREATE), 0);
	assert_true(i->ctime.tv_sec > 1); /* the change is a change of the inode */
	assert_int_equal(SC(setxattr, U("/f"), U("user.color"), U("red"), 3, XATTR_CREATE),
			 -EEXIST);
	assert_int_equal(SC(setxattr, U("/f"), U("user.size"), U("9"), 1, XATTR_REPLACE), -ENODATA);
	assert_int_equal(SC(setxattr, U("/f"), U("user.empty"), 0, 0, 0), 0);
	assert_int_equal(SC(getxattr, U("/f"), U("user.empty"), U(buf), sizeof(buf)), 0);
	/* size 0 asks for the length; too small a buffer is ERANGE */
	assert_int_equal(SC(getxattr, U("/f"), U("user.color"), 0, 0), 4);
	assert_int_equal(SC(getxattr, U("/f"), U("user.color"), U(buf), 2), -ERANGE);
	assert_int_equal(SC(getxattr, U("/f"), U("user.color"), U(buf), sizeof(buf)), 4);
	assert_memory_equal(buf, "blue", 4);
	/* the list */
	long n = SC(listxattr, U("/f"), 0, 0);
	assert_int_equal(n, sizeof("user.color") + sizeof("user.empty"));
	assert_int_equal(SC(listxattr, U("/f"), U(buf), 5), -ERANGE);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(SC(listxattr, U("/f"), U(buf), sizeof(buf)), n);
	assert_string_equal(buf, "user.color");
	assert_string_equal(buf + sizeof("user.color"), "user.empty");
	/* through a descriptor */
	int fd = SC(open, U("/f"), O_RDONLY);
	assert_int_equal(SC(fsetxattr, fd, U("user.color"), U("green"), 5, XATTR_REPLACE), 0);
	assert_int_equal(SC(fgetxattr, fd, U("user.color"), U(buf), sizeof(buf)), 5);
	assert_memory_equal(buf, "green", 5);
	assert_int_equal(SC(flistxattr, fd, 0, 0), n);
	assert_int_equal(SC(fremovexattr, fd, U("user.empty")), 0);
	assert_int_equal(SC(fremovexattr, fd, U("user.empty")), -ENODATA);
	SC(close, fd);
	assert_int_equal(SC(removexattr, U("/f"), U("user.color")), 0);
	assert_int_equal(SC(listxattr, U("/f"), U(buf), sizeof(buf)), 0);
	/* l forms through a symlink reach the link, the others its target */
	assert_int_equal(SC(symlink, U("/f"), U("/l")), 0);
	assert_int_equal(SC(setxattr, U("/l"), U("user.via"), U("1"), 1, 0), 0);
	assert_int_equal(SC(getxattr, U("/f"), U("user.via"), 0, 0), 1);
	assert_int_equal(SC(lremovexattr, U("/l"), U("user.via")), -EPERM); /* user.* on a link */
	assert_int_equal(SC(removexattr, U("/l"), U("user.via")), 0);
	/* a name space the filesystem does not keep */
	assert_int_equal(SC(getxattr, U("/f"), U("weird.name"), 0, 0), -EOPNOTSUPP);
}

static void test_permissions(void **state)
{
	mkfile("/mine", 0644);
	give_xattrs("/mine", 0);
	assert_int_equal(SC(setxattr, U("/mine"), U("trusted.t"), U("1"), 1, 0), 0);
	assert_int_equal(SC(setxattr, U("/mine"), U("user.u"), U("1"), 1, 0), 0);
	assert_int_equal(SC(setxattr, U("/mine"), U("security.s"), U("1"), 1, 0), 0);
	assert_int_equal(SC(mkdir, U("/tmp"), 01777), 0);
	assert_int_equal(SC(chmod, U("/tmp"), 01777), 0);
	give_xattrs("/tmp", 1);
	become(1000);
	char buf[8];
	/* trusted.*: only for the privileged, invisible to others */
	assert_int_equal(SC(getxattr, U("/mine"), U("trusted.t"), U(buf), sizeof(buf)), -ENODATA);
	assert_int_equal(SC(setxattr, U("/mine"), U("trusted.t"), U("2"), 1, 0), -EPERM);
	/* user.*: the file's permission bits */
	assert_int_equal(SC(getxattr, U("/mine"), U("user.u"), U(buf), sizeof(buf)), 1);
	assert_int_equal(SC(setxattr, U("/mine"), U("user.u"), U("2"), 1, 0), -EACCES);
	assert_int_equal(SC(removexattr, U("/mine"), U("user.u")), -EACCES);
	/* security.*: readable, written only with CAP_SYS_ADMIN (no security module) */
	assert_int_equal(SC(getxattr, U("/mine"), U("security.s"), U(buf), sizeof(buf)), 1);
	assert_int_equal(SC(setxattr, U("/mine"), U("security.s"), U("2"), 1, 0), -EPERM);
	/* ACLs: only the owner sets them */
	assert_int_equal(SC(setxattr, U("/mine"), U("system.posix_acl_access"), U("x"), 1, 0),
			 -EPERM);
	/* user.* in a sticky directory: only its owner */
	assert_int_equal(SC(setxattr, U("/tmp"), U("user.u"), U("1"), 1, 0), -EPERM);
	become(0);
	assert_int_equal(SC(setxattr, U("/tmp"), U("user.u"), U("1"), 1, 0), 0);
	/* a read-only mount */
	assert_int_equal(SC(mount, 0, U("/"), 0, MS_REMOUNT | MS_RDONLY, 0), 0);
	assert_int_equal(SC(setxattr, U("/mine"), U("user.u"), U("3"), 1, 0), -EROFS);
	assert_int_equal(SC(removexattr, U("/mine"), U("user.u")), -EROFS);
	int fd = SC(open, U("/mine"), O_RDONLY);
	assert_int_equal(SC(fsetxattr, fd, U("user.u"), U("3"), 1, 0), -EROFS);
	assert_int_equal(SC(getxattr, U("/mine"), U("user.u"), U(buf), sizeof(buf)), 1);
	SC(close, fd);
	assert_int_equal(SC(mount, 0, U("/"), 0, MS_REMOUNT, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FIXTURE_TEST(test_without_support),
	    FIXTURE_TEST(test_get_set_list_remove),
	    FIXTURE_TEST(test_permissions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
