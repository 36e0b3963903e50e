/* The VFS core on memfs: the path walk (symlinks, "..", mounts, trailing slashes,
 * limits), the name space syscalls and the dentry cache, fd tables, pipes, poll and
 * getdents. Guest addresses are host pointers (fake_kernel.c). */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_vfs_memfs.h"
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/uio.h>

static struct process proc;
static struct task task;

static int setup(void **state)
{
	memfs_world_setup(&proc, &task);
	return 0;
}

static int teardown(void **state)
{
	memfs_world_teardown(&task);
	return 0;
}

static int xopen(const char *path, int flags, mode_t mode)
{
	return SC(openat, (uint64_t)AT_FDCWD, U(path), flags, mode);
}

static void mkfile(const char *path, const char *content)
{
	int fd = xopen(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(SC(write, fd, U(content), strlen(content)), strlen(content));
	assert_int_equal(SC(close, fd), 0);
}

static struct inode *resolve(const char *path, unsigned flags, int *err)
{
	struct path p;
	*err = path_lookup_at(AT_FDCWD, path, flags, &p);
	if (*err)
		return NULL;
	struct inode *i = p.dentry->inode;
	path_put(&p);
	return i;
}

static struct inode *inode_of(const char *path)
{
	int err;
	struct inode *i = resolve(path, LOOKUP_FOLLOW, &err);
	assert_int_equal(err, 0);
	return i;
}

static int lookup_err(const char *path, unsigned flags)
{
	int err;
	resolve(path, flags, &err);
	return err;
}

/* --- path walk ---------------------------------------------------------------------- */

static void test_walk_symlinks_and_dotdot(void **state)
{
	assert_int_equal(SC(mkdir, U("/a"), 0755), 0);
	assert_int_equal(SC(mkdir, U("/a/b"), 0777), 0);
	mkfile("/a/b/f", "hello");
	assert_int_equal(SC(symlink, U("a/b"), U("/l")), 0);
	assert_int_equal(SC(symlink, U("/a/b/f"), U("/a/abs")), 0);

	struct inode *b = inode_of("/a/b");
	assert_int_equal(b->mode, S_IFDIR | 0755); /* umask 022 */
	assert_ptr_equal(inode_of("/l"), b);
	assert_ptr_equal(inode_of("/l/f"), inode_of("/a/b/f"));
	assert_ptr_equal(inode_of("/a/abs"), inode_of("/a/b/f"));
	assert_ptr_equal(inode_of("//a/./b/../b///"), b);
	assert_ptr_equal(inode_of("/.."), inode_of("/"));
	assert_ptr_equal(inode_of("/a/b/../../.."), inode_of("/"));
	assert_ptr_equal(inode_of("/l/.."), inode_of("/a")); /* ".." of the target */

	/* no follow: the link itself, except with a trailing slash */
	int err;
	assert_true(S_ISLNK(resolve("/l", 0, &err)->mode));
	assert_ptr_equal(resolve("/l/", 0, &err), b);

	/* trailing slashes need a directory */
	assert_int_equal(lookup_err("/a/b/f/", LOOKUP_FOLLOW), -ENOTDIR);
	assert_int_equal(lookup_err("/a/abs/", LOOKUP_FOLLOW), -ENOTDIR);
	assert_int_equal(lookup_err("/a/b/f/x", LOOKUP_FOLLOW), -ENOTDIR);
	assert_int_equal(lookup_err("/a/b/f/.", LOOKUP_FOLLOW), -ENOTDIR);
	assert_int_equal(lookup_err("/a/nope", LOOKUP_FOLLOW), -ENOENT);
	assert_int_equal(lookup_err("", LOOKUP_FOLLOW), -ENOENT);

	/* relative to cwd and to a directory fd */
	assert_int_equal(SC(chdir, U("/a")), 0);
	assert_ptr_equal(inode_of("b/f"), inode_of("/a/b/f"));
	int dfd = xopen("/a/b", O_RDONLY | O_DIRECTORY, 0);
	assert_true(dfd >= 0);
	struct path p;
	assert_int_equal(path_lookup_at(dfd, "f", 0, &p), 0);
	assert_ptr_equal(p.dentry->inode, inode_of("/a/b/f"));
	path_put(&p);
	assert_int_equal(path_lookup_at(dfd, "", LOOKUP_EMPTY, &p), 0);
	assert_ptr_equal(p.dentry->inode, b);
	path_put(&p);
	int ffd = xopen("/a/b/f", O_RDONLY, 0);
	assert_int_equal(path_lookup_at(ffd, "x", 0, &p), -ENOTDIR);
	assert_int_equal(path_lookup_at(99, "x", 0, &p), -EBADF);
	SC(close, dfd);
	SC(close, ffd);
}

static void test_walk_loops_and_limits(void **state)
{
	assert_int_equal(SC(symlink, U("/loop2"), U("/loop1")), 0);
	assert_int_equal(SC(symlink, U("/loop1"), U("/loop2")), 0);
	assert_int_equal(lookup_err("/loop1", LOOKUP_FOLLOW), -ELOOP);
	assert_int_equal(lookup_err("/loop1/x", 0), -ELOOP);
	assert_int_equal(xopen("/loop1", O_RDONLY, 0), -ELOOP);

	/* a chain of 40 links resolves, 41 do not */
	mkfile("/target", "t");
	char name[32], prev[32] = "/target";
	for (int k = 1; k <= 41; k++) {
		snprintf(name, sizeof(name), "/c%d", k);
		assert_int_equal(SC(symlink, U(prev), U(name)), 0);
		strcpy(prev, name);
	}
	assert_ptr_equal(inode_of("/c40"), inode_of("/target"));
	assert_int_equal(lookup_err("/c41", LOOKUP_FOLLOW), -ELOOP);

	/* names: 255 bytes per component at most */
	char longname[300];
	memset(longname, 'x', sizeof(longname));
	longname[0] = '/';
	longname[256] = '\0';
	assert_int_equal(lookup_err(longname, LOOKUP_FOLLOW), -ENOENT);
	longname[256] = 'x';
	longname[257] = '\0';
	assert_int_equal(lookup_err(longname, LOOKUP_FOLLOW), -ENAMETOOLONG);
	assert_int_equal(xopen(longname, O_CREAT | O_RDWR, 0644), -ENAMETOOLONG);
	/* and 4096 per path, NUL included */
	char *path = malloc(5000);
	for (int k = 0; k < 4999; k += 2)
		memcpy(path + k, "/.", 2);
	path[4999] = '\0';
	assert_int_equal(xopen(path, O_RDONLY, 0), -ENAMETOOLONG);
	path[4094] = '\0';
	assert_int_equal(xopen(path, O_RDONLY | O_DIRECTORY, 0) >= 0, 1);
	free(path);
}

static void test_mounts(void **state)
{
	assert_int_equal(SC(mkdir, U("/mnt"), 0755), 0);
	mkfile("/mnt/hidden", "under");
	assert_int_equal(SC(mount, U("none"), U("/mnt"), U("memfs"), 0, 0), 0);
	struct inode *mroot = inode_of("/mnt");
	assert_ptr_equal(mroot->sb->root, mroot);
	assert_int_equal(lookup_err("/mnt/hidden", 0), -ENOENT);
	mkfile("/mnt/x", "over");
	assert_ptr_equal(inode_of("/mnt/x")->sb, mroot->sb);
	assert_ptr_equal(inode_of("/mnt/.."), inode_of("/"));
	assert_ptr_equal(inode_of("/mnt/../mnt/x"), inode_of("/mnt/x"));

	/* a mount on top of a mount: the most recent wins */
	assert_int_equal(SC(mount, U("none"), U("/mnt"), U("memfs"), 0, 0), 0);
	assert_int_equal(lookup_err("/mnt/x", 0), -ENOENT);
	assert_int_equal(SC(umount2, U("/mnt"), 0), 0);
	assert_ptr_equal(inode_of("/mnt"), mroot);

	/* names of paths across mounts */
	char buf[64];
	struct path p;
	assert_int_equal(kern_path("/mnt/x", true, &p), 0);
	assert_int_equal(path_to_string(&p, &task.fs->root, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "/mnt/x");
	path_put(&p);

	/* cross-mount rename and link; the mount point is busy */
	assert_int_equal(SC(rename, U("/mnt/x"), U("/x")), -EXDEV);
	assert_int_equal(SC(link, U("/mnt/x"), U("/x")), -EXDEV);
	assert_int_equal(SC(rmdir, U("/mnt")), -EBUSY);
	assert_int_equal(SC(rename, U("/mnt"), U("/mnt2")), -EBUSY);

	/* busy while a file is open or a cwd inside; not with MNT_DETACH */
	int fd = xopen("/mnt/x", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(SC(umount2, U("/mnt"), 0), -EBUSY);
	assert_int_equal(SC(umount2, U("/mnt/x"), 0), -EINVAL);
	SC(close, fd);
	assert_int_equal(SC(chdir, U("/mnt")), 0);
	assert_int_equal(SC(umount2, U("/mnt"), 0), -EBUSY);
	assert_int_equal(SC(chdir, U("/")), 0);
	assert_int_equal(SC(umount2, U("/mnt"), 0), 0);
	assert_ptr_equal(inode_of("/mnt/hidden"), inode_of("/mnt/hidden"));
	assert_int_equal(SC(umount2, U("/"), 0), -EBUSY);

	/* lazy unmount: the open file keeps the filesystem alive, unreachable by name */
	assert_int_equal(SC(mount, U("none"), U("/mnt"), U("memfs"), 0, 0), 0);
	mkfile("/mnt/y", "lazy");
	fd = xopen("/mnt/y", O_RDONLY, 0);
	assert_int_equal(SC(umount2, U("/mnt"), MNT_DETACH), 0);
	assert_int_equal(lookup_err("/mnt/y", 0), -ENOENT);
	char data[8] = {0};
	assert_int_equal(SC(read, fd, U(data), sizeof(data)), 4);
	assert_string_equal(data, "lazy");
	SC(close, fd);

	/* bind mounts */
	assert_int_equal(SC(mkdir, U("/src"), 0755), 0);
	mkfile("/src/s", "s");
	assert_int_equal(SC(mount, U("/src"), U("/mnt"), 0, MS_BIND, 0), 0);
	assert_ptr_equal(inode_of("/mnt/s"), inode_of("/src/s"));
	assert_int_equal(SC(umount2, U("/mnt"), 0), 0);
	assert_int_equal(SC(mount, U("none"), U("/mnt"), U("nofs"), 0, 0), -ENODEV);
}

static void test_readonly_and_remount(void **state)
{
	assert_int_equal(SC(mkdir, U("/d"), 0755), 0);
	mkfile("/d/f", "x");
	assert_int_equal(SC(mount, 0, U("/"), 0, MS_REMOUNT | MS_RDONLY, 0), 0);
	assert_int_equal(memfs_remounts > 0, 1);
	assert_int_equal(SC(mkdir, U("/e"), 0755), -EROFS);
	assert_int_equal(xopen("/d/g", O_CREAT | O_WRONLY, 0644), -EROFS);
	assert_int_equal(xopen("/d/f", O_WRONLY, 0), -EROFS);
	assert_int_equal(SC(unlink, U("/d/f")), -EROFS);
	int fd = xopen("/d/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	SC(close, fd);
	assert_int_equal(SC(access, U("/d/f"), W_OK), -EROFS);
	assert_int_equal(SC(mount, 0, U("/"), 0, MS_REMOUNT, 0), 0);
	assert_int_equal(SC(mkdir, U("/e"), 0755), 0);
	assert_int_equal(SC(mount, 0, U("/d"), 0, MS_REMOUNT, 0), -EINVAL); /* not a mount */
}

static void test_chroot(void **state)
{
	assert_int_equal(SC(mkdir, U("/jail"), 0755), 0);
	assert_int_equal(SC(mkdir, U("/jail/in"), 0755), 0);
	mkfile("/outside", "o");
	assert_int_equal(SC(symlink, U("/in"), U("/jail/abs")), 0);
	assert_int_equal(SC(chroot, U("/jail")), 0);
	assert_int_equal(SC(chdir, U("/in")), 0);
	assert_ptr_equal(inode_of("/../../.."), inode_of("/"));
	assert_int_equal(lookup_err("/outside", 0), -ENOENT);
	assert_int_equal(lookup_err("../../outside", 0), -ENOENT);
	assert_ptr_equal(inode_of("/abs"), inode_of("/in"));
	char buf[64];
	assert_int_equal(SC(getcwd, U(buf), sizeof(buf)), 4);
	assert_string_equal(buf, "/in");
	assert_int_equal(SC(getcwd, U(buf), 3), -ERANGE);
}

/* --- name space --------------------------------------------------------------------- */

static void test_create_and_open_flags(void **state)
{
	task.fs->umask = 027;
	int fd = xopen("/f", O_CREAT | O_EXCL | O_RDWR, 0666);
	assert_true(fd >= 0);
	assert_int_equal(inode_of("/f")->mode, S_IFREG | 0640);
	assert_int_equal(xopen("/f", O_CREAT | O_EXCL | O_RDWR, 0666), -EEXIST);
	assert_int_equal(xopen("/f/", O_CREAT | O_RDWR, 0666), -EISDIR);
	assert_int_equal(xopen("/new/", O_CREAT | O_RDWR, 0666), -EISDIR);
	assert_int_equal(xopen("/f", O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
	assert_int_equal(SC(write, fd, U("abcdef"), 6), 6);
	SC(close, fd);

	/* O_TRUNC, O_APPEND */
	fd = xopen("/f", O_WRONLY | O_APPEND, 0);
	assert_int_equal(SC(write, fd, U("gh"), 2), 2);
	assert_int_equal(inode_of("/f")->size, 8);
	SC(close, fd);
	fd = xopen("/f", O_WRONLY | O_TRUNC, 0);
	assert_int_equal(inode_of("/f")->size, 0);
	assert_int_equal(SC(fcntl, fd, F_GETFL) & (O_ACCMODE | O_TRUNC | O_CREAT), O_WRONLY);
	assert_int_equal(SC(read, fd, U(state), 1), -EBADF);
	SC(close, fd);

	/* symlinks at the end: O_NOFOLLOW, O_CREAT through a dangling link */
	assert_int_equal(SC(symlink, U("/made"), U("/dangling")), 0);
	assert_int_equal(xopen("/dangling", O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
	assert_int_equal(xopen("/dangling", O_RDONLY, 0), -ENOENT);
	fd = xopen("/dangling", O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	SC(close, fd);
	assert_true(S_ISREG(inode_of("/made")->mode));
	assert_int_equal(xopen("/dangling", O_CREAT | O_EXCL | O_WRONLY, 0600), -EEXIST);
	fd = xopen("/dangling", O_PATH | O_NOFOLLOW, 0);
	assert_true(fd >= 0);
	assert_int_equal(SC(read, fd, U(state), 1), -EBADF);
	char target[16] = {0};
	assert_int_equal(SC(readlinkat, fd, U(""), U(target), sizeof(target)), 5);
	assert_string_equal(target, "/made");
	SC(close, fd);

	/* directories */
	assert_int_equal(SC(mkdir, U("/d"), 0755), 0);
	assert_int_equal(xopen("/d", O_WRONLY, 0), -EISDIR);
	assert_int_equal(xopen("/d", O_CREAT | O_RDONLY, 0644), -EISDIR);
	assert_int_equal(SC(mkdir, U("/d"), 0755), -EEXIST);
	assert_int_equal(SC(mkdir, U("/d2/"), 0755), 0);
	assert_int_equal(xopen("/d", O_RDONLY, 0) >= 0, 1);
	assert_int_equal(xopen("/", O_RDONLY | O_TMPFILE, 0600), -EOPNOTSUPP);

	/* devices: no driver is ENXIO; FIFOs without a partner with O_NONBLOCK */
	assert_int_equal(SC(mknod, U("/null"), S_IFCHR | 0666, makedev(1, 3)), 0);
	assert_int_equal(xopen("/null", O_RDWR, 0), -ENXIO);
	assert_int_equal(SC(mknod, U("/fifo"), S_IFIFO | 0600, 0), 0);
	assert_int_equal(xopen("/fifo", O_WRONLY | O_NONBLOCK, 0), -ENXIO);
	int rfd = xopen("/fifo", O_RDONLY | O_NONBLOCK, 0);
	assert_true(rfd >= 0);
	int wfd = xopen("/fifo", O_WRONLY | O_NONBLOCK, 0);
	assert_true(wfd >= 0);
	assert_int_equal(SC(write, wfd, U("fifo"), 4), 4);
	char buf[8] = {0};
	assert_int_equal(SC(read, rfd, U(buf), sizeof(buf)), 4);
	assert_string_equal(buf, "fifo");
	SC(close, wfd);
	assert_int_equal(SC(read, rfd, U(buf), sizeof(buf)), 0);
	SC(close, rfd);
	assert_int_equal(fake_sleeps, 0);
}

static void test_unlink_rename_dcache(void **state)
{
	mkfile("/f", "data");
	int fd = xopen("/f", O_RDONLY, 0);
	struct path p;
	assert_int_equal(kern_path("/f", false, &p), 0);
	struct dentry *d = p.dentry;
	path_put(&p);
	assert_int_equal(kern_path("/f", false, &p), 0);
	assert_ptr_equal(p.dentry, d); /* cached */
	path_put(&p);

	assert_int_equal(SC(unlink, U("/f")), 0);
	assert_true(d->deleted);
	assert_int_equal(lookup_err("/f", 0), -ENOENT);
	char buf[16] = {0};
	assert_int_equal(SC(read, fd, U(buf), sizeof(buf)), 4);
	struct file *f = fget(fd);
	assert_int_equal(file_path(f, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "/f (deleted)");
	fput(f);
	SC(close, fd);
	assert_int_equal(SC(unlink, U("/f")), -ENOENT);

	/* rename moves the dentry; the replaced one is deleted */
	mkfile("/a", "A");
	mkfile("/b", "B");
	assert_int_equal(kern_path("/a", false, &p), 0);
	struct dentry *da = p.dentry;
	int bfd = xopen("/b", O_RDONLY, 0);
	assert_int_equal(SC(rename, U("/a"), U("/b")), 0);
	assert_string_equal(da->name, "b");
	assert_ptr_equal(inode_of("/b"), da->inode);
	assert_int_equal(lookup_err("/a", 0), -ENOENT);
	f = fget(bfd);
	assert_true(f->path.dentry->deleted);
	fput(f);
	SC(close, bfd);
	path_put(&p);

	/* directories: types, emptiness, into itself, "." and ".." */
	assert_int_equal(SC(mkdir, U("/d"), 0755), 0);
	assert_int_equal(SC(mkdir, U("/d/sub"), 0755), 0);
	assert_int_equal(SC(rename, U("/d"), U("/d/sub/x")), -EINVAL);
	assert_int_equal(SC(rename, U("/b"), U("/d")), -EISDIR);
	assert_int_equal(SC(rename, U("/d"), U("/b")), -ENOTDIR);
	assert_int_equal(SC(rename, U("/b/"), U("/c")), -ENOTDIR);
	assert_int_equal(SC(rmdir, U("/d")), -ENOTEMPTY);
	assert_int_equal(SC(rmdir, U("/d/sub/.")), -EINVAL);
	assert_int_equal(SC(rmdir, U("/d/..")), -ENOTEMPTY);
	assert_int_equal(SC(rmdir, U("/b")), -ENOTDIR);
	assert_int_equal(SC(unlink, U("/d")), -EISDIR);
	assert_int_equal(SC(unlinkat, (uint64_t)AT_FDCWD, U("/d/sub"), AT_REMOVEDIR), 0);
	assert_int_equal(SC(renameat2, (uint64_t)AT_FDCWD, U("/b"), (uint64_t)AT_FDCWD, U("/d"),
			    RENAME_NOREPLACE),
			 -EEXIST);
	assert_int_equal(
	    SC(renameat2, (uint64_t)AT_FDCWD, U("/d"), (uint64_t)AT_FDCWD, U("/d/x"), 0), -EINVAL);
	assert_int_equal(SC(rename, U("/d"), U("/e")), 0);
	assert_true(S_ISDIR(inode_of("/e")->mode));
	assert_int_equal(SC(rename, U("/b"), U("/b")), 0);

	/* a removed directory stays usable by open fds, and reads as empty */
	int dfd = xopen("/e", O_RDONLY | O_DIRECTORY, 0);
	assert_int_equal(SC(fchdir, dfd), 0);
	assert_int_equal(SC(rmdir, U("/e")), 0);
	char dents[256];
	assert_int_equal(SC(getdents64, dfd, U(dents), sizeof(dents)), 0);
	assert_int_equal(SC(getcwd, U(buf), sizeof(buf)), -ENOENT);
	assert_int_equal(xopen("newfile", O_CREAT | O_RDWR, 0644), -ENOENT);
	SC(close, dfd);
	assert_int_equal(SC(chdir, U("/")), 0);

	/* hard links */
	assert_int_equal(SC(link, U("/b"), U("/b2")), 0);
	assert_ptr_equal(inode_of("/b2"), inode_of("/b"));
	assert_int_equal(inode_of("/b")->nlink, 2);
	assert_int_equal(SC(link, U("/"), U("/r")), -EPERM);
}

static void test_stat_and_attrs(void **state)
{
	mkfile("/f", "12345");
	struct stat st;
	assert_int_equal(SC(stat, U("/f"), U(&st)), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(st.st_mode, S_IFREG | 0644);
	assert_int_equal(st.st_dev, inode_of("/")->sb->dev);
	assert_int_equal(st.st_blksize, 4096);
	assert_int_equal(SC(symlink, U("f"), U("/l")), 0);
	assert_int_equal(SC(lstat, U("/l"), U(&st)), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(SC(newfstatat, (uint64_t)AT_FDCWD, U("/l"), U(&st), 0), 0);
	assert_true(S_ISREG(st.st_mode));
	int fd = xopen("/f", O_RDONLY, 0);
	assert_int_equal(SC(newfstatat, fd, U(""), U(&st), AT_EMPTY_PATH), 0);
	assert_int_equal(st.st_ino, inode_of("/f")->ino);
	assert_int_equal(SC(newfstatat, fd, U(""), U(&st), 0), -ENOENT);
	struct statx sx;
	assert_int_equal(SC(statx, (uint64_t)AT_FDCWD, U("/f"), 0, STATX_BASIC_STATS, U(&sx)), 0);
	assert_int_equal(sx.stx_size, 5);
	assert_int_equal(sx.stx_mode, S_IFREG | 0644);

	assert_int_equal(SC(chmod, U("/f"), 04711), 0);
	assert_int_equal(inode_of("/f")->mode, S_IFREG | 04711);
	assert_int_equal(SC(fchown, fd, 5, 6), 0);
	assert_int_equal(inode_of("/f")->uid, 5);
	assert_int_equal(inode_of("/f")->mode, S_IFREG | 0711); /* set-uid dropped */
	struct timespec ts[2] = {{100, 0}, {200, UTIME_OMIT}};
	assert_int_equal(SC(utimensat, (uint64_t)AT_FDCWD, U("/f"), U(ts), 0), 0);
	assert_int_equal(inode_of("/f")->atime.tv_sec, 100);
	assert_int_equal(SC(truncate, U("/f"), 2), 0);
	assert_int_equal(inode_of("/f")->size, 2);
	assert_int_equal(SC(ftruncate, fd, 1), -EINVAL); /* not open for writing */
	SC(close, fd);

	/* permissions as a non-root user */
	assert_int_equal(SC(access, U("/f"), X_OK), 0);
	proc.cred.fsuid = proc.cred.uid = 1000;
	proc.cred.fsgid = proc.cred.gid = 1000;
	assert_int_equal(SC(chmod, U("/f"), 0600), -EPERM);
	assert_int_equal(xopen("/f", O_RDONLY, 0), -EACCES);
	assert_int_equal(SC(access, U("/f"), X_OK), 0);
	assert_int_equal(SC(access, U("/f"), R_OK), -EACCES);
	assert_int_equal(SC(mkdir, U("/mine"), 0755), -EACCES);
	proc.cred = (struct creds){0};
	assert_int_equal(SC(chmod, U("/f"), 0644), 0);
	assert_int_equal(SC(access, U("/f"), X_OK), -EACCES); /* root needs an x bit */
	struct file *ef;
	assert_int_equal(vfs_open_exec(AT_FDCWD, "/f", 0, &ef), -EACCES);
	assert_int_equal(SC(chmod, U("/f"), 0100), 0);
	assert_int_equal(vfs_open_exec(AT_FDCWD, "/f", 0, &ef), 0);
	char c;
	assert_int_equal(kernel_read(ef, &c, 1, 1), 1);
	assert_int_equal(c, '2');
	fput(ef);
	assert_int_equal(vfs_open_exec(AT_FDCWD, "/", 0, &ef), -EACCES);
}

static void test_getdents(void **state)
{
	assert_int_equal(SC(mkdir, U("/d"), 0755), 0);
	char name[32];
	for (int k = 0; k < 20; k++) {
		snprintf(name, sizeof(name), "/d/file%02d", k);
		mkfile(name, "");
	}
	int fd = xopen("/d", O_RDONLY | O_DIRECTORY, 0);
	char buf[128];
	int seen = 0, dots = 0;
	long n;
	int64_t last_off = 0;
	while ((n = SC(getdents64, fd, U(buf), sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			assert_int_equal(d->reclen % 8, 0);
			assert_true(d->off > last_off);
			last_off = d->off;
			if (!strncmp(d->name, "file", 4)) {
				seen++;
				assert_int_equal(d->type, DT_REG);
			} else {
				dots++;
			}
			off += d->reclen;
		}
	}
	assert_int_equal(n, 0);
	assert_int_equal(seen, 20);
	assert_int_equal(dots, 2);
	assert_int_equal(SC(lseek, fd, 0, SEEK_SET), 0);
	assert_int_equal(SC(getdents64, fd, U(buf), 20), -EINVAL);
	assert_true(SC(getdents, fd, U(buf), sizeof(buf)) > 0);
	SC(close, fd);
	fd = xopen("/d/file00", O_RDONLY, 0);
	assert_int_equal(SC(getdents64, fd, U(buf), sizeof(buf)), -ENOTDIR);
	SC(close, fd);
}

/* --- fd tables ---------------------------------------------------------------------- */

static void test_fdtable(void **state)
{
	mkfile("/f", "x");
	int fd = xopen("/f", O_RDONLY | O_CLOEXEC, 0);
	assert_int_equal(fd, 0);
	assert_int_equal(SC(fcntl, fd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(SC(dup, fd), 1);
	assert_int_equal(SC(fcntl, 1, F_GETFD), 0);
	assert_int_equal(SC(fcntl, fd, F_DUPFD_CLOEXEC, 10), 10);
	assert_int_equal(SC(fcntl, 10, F_GETFD), FD_CLOEXEC);
	assert_int_equal(SC(dup2, 1, 5), 5);
	assert_int_equal(SC(dup2, 5, 5), 5);
	assert_int_equal(SC(dup3, 5, 5, 0), -EINVAL);
	assert_int_equal(SC(dup3, 1, 6, O_CLOEXEC), 6);
	assert_int_equal(SC(dup2, 7, 8), -EBADF);
	assert_int_equal(SC(ioctl, 5, FIOCLEX, 0), 0);
	assert_int_equal(SC(fcntl, 5, F_GETFD), FD_CLOEXEC);
	struct file *f = fget(0);
	assert_int_equal(f->refcount, 6); /* five fds and ours */

	struct fdtable *copy = fdtable_dup(task.files);
	assert_int_equal(f->refcount, 11);
	fdtable_close_on_exec(copy);
	assert_null(fdtable_peek(copy, 0));
	assert_non_null(fdtable_peek(copy, 1));
	assert_null(fdtable_peek(copy, 5));
	assert_null(fdtable_peek(copy, 10));
	assert_int_equal(f->refcount, 7);
	fdtable_put(copy);
	assert_int_equal(f->refcount, 6);

	assert_int_equal(SC(close_range, 5, ~0u, 0), 0);
	assert_null(fdtable_peek(task.files, 10));
	assert_int_equal(f->refcount, 3);
	fput(f);
	assert_int_equal(SC(close, 1), 0);
	assert_int_equal(SC(close, 1), -EBADF);

	/* RLIMIT_NOFILE */
	for (int k = 1; k < 64; k++)
		assert_int_equal(SC(dup, 0), k);
	assert_int_equal(SC(dup, 0), -EMFILE);
	assert_int_equal(xopen("/f", O_RDONLY, 0), -EMFILE);
	assert_int_equal(SC(fcntl, 0, F_DUPFD, 64), -EINVAL);
	assert_int_equal(SC(dup2, 0, 64), -EBADF);
}

/* --- pipes and poll ----------------------------------------------------------------- */

static void test_pipe(void **state)
{
	int fds[2];
	assert_int_equal(SC(pipe2, U(fds), O_NONBLOCK), 0);
	static char out[70000], in[70000];
	for (size_t k = 0; k < sizeof(out); k++)
		out[k] = k * 7 + k / 251;
	char byte;
	assert_int_equal(SC(read, fds[0], U(&byte), 1), -EAGAIN);

	/* fill, drain half, fill again: the ring wraps */
	assert_int_equal(SC(write, fds[1], U(out), 60000), 60000);
	assert_int_equal(SC(read, fds[0], U(in), 30000), 30000);
	assert_int_equal(SC(write, fds[1], U(out + 60000), 10000), 10000);
	assert_int_equal(SC(write, fds[1], U(out), 30000), 25536); /* what fits */
	assert_int_equal(SC(write, fds[1], U(out), 1), -EAGAIN);
	int nread;
	assert_int_equal(SC(ioctl, fds[0], FIONREAD, U(&nread)), 0);
	assert_int_equal(nread, 65536);
	assert_int_equal(SC(read, fds[0], U(in + 30000), 40000), 40000);
	assert_memory_equal(in, out, 70000);
	assert_int_equal(SC(read, fds[0], U(in), 30000), 25536);
	assert_memory_equal(in, out, 25536);

	/* small writes are atomic: all or EAGAIN */
	assert_int_equal(SC(write, fds[1], U(out), 65536 - 100), 65536 - 100);
	assert_int_equal(SC(write, fds[1], U(out), 200), -EAGAIN);
	assert_int_equal(SC(write, fds[1], U(out), 100), 100);

	/* poll */
	struct pollfd pfd[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLOUT, 0}};
	assert_int_equal(SC(poll, U(pfd), 2, 0), 1);
	assert_int_equal(pfd[0].revents, POLLIN);
	assert_int_equal(pfd[1].revents, 0);
	assert_int_equal(SC(read, fds[0], U(in), 65536), 65536);
	assert_int_equal(SC(poll, U(pfd), 2, 0), 1);
	assert_int_equal(pfd[1].revents, POLLOUT);
	assert_int_equal(SC(fcntl, fds[0], F_GETPIPE_SZ), 65536);
	assert_int_equal(SC(fcntl, fds[0], F_SETPIPE_SZ, 5000), 8192);

	/* the writer goes: EOF and POLLHUP */
	assert_int_equal(SC(write, fds[1], U("x"), 1), 1);
	SC(close, fds[1]);
	assert_int_equal(SC(poll, U(pfd), 1, 0), 1);
	assert_int_equal(pfd[0].revents, POLLIN | POLLHUP);
	assert_int_equal(SC(read, fds[0], U(in), 10), 1);
	assert_int_equal(SC(read, fds[0], U(in), 10), 0);
	SC(close, fds[0]);

	/* the reader goes: SIGPIPE and EPIPE */
	assert_int_equal(SC(pipe, U(fds)), 0);
	SC(close, fds[0]);
	assert_int_equal(SC(write, fds[1], U("x"), 1), -EPIPE);
	assert_int_equal(fake_sigpipes, 1);
	struct pollfd wp = {fds[1], POLLOUT, 0};
	assert_int_equal(SC(poll, U(&wp), 1, 0), 1);
	assert_true(wp.revents & POLLERR);

	/* blocking read of an empty pipe sleeps; the fake sleep reports a signal */
	assert_int_equal(SC(pipe, U(fds + 0)), 0);
	assert_int_equal(SC(read, fds[0], U(in), 1), -ERESTARTSYS);
	assert_int_equal(fake_sleeps, 1);
	struct stat st;
	assert_int_equal(SC(fstat, fds[0], U(&st)), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(SC(lseek, fds[0], 0, SEEK_SET), -ESPIPE);
	assert_int_equal(SC(pread64, fds[0], U(in), 1, 0), -ESPIPE);
	struct file *f = fget(fds[0]);
	char name[32];
	assert_true(file_path(f, name, sizeof(name)) > 0);
	assert_memory_equal(name, "pipe:[", 6);
	fput(f);
}

/* A stand-in for procfs: every symlink whose text is "magic" names magic_file. */
static struct file *magic_file;

static int fake_magic_link(struct inode *link, struct path *out)
{
	char text[8] = {0};
	link->iop->readlink(link, text, sizeof(text) - 1);
	return strcmp(text, "magic") ? -EINVAL : file_magic_path(magic_file, out);
}

static void test_magic_links(void **state)
{
	vfs_magic_link = fake_magic_link;
	assert_int_equal(SC(symlink, U("magic"), U("/m")), 0);

	/* a pipe reopens through its link */
	int fds[2];
	assert_int_equal(SC(pipe2, U(fds), O_NONBLOCK), 0);
	magic_file = fget(fds[0]);
	int w = xopen("/m", O_WRONLY, 0);
	assert_true(w >= 0);
	assert_int_equal(SC(write, w, U("via"), 3), 3);
	char buf[8] = {0};
	assert_int_equal(SC(read, fds[0], U(buf), sizeof(buf)), 3);
	assert_string_equal(buf, "via");
	assert_int_equal(xopen("/m/x", O_RDONLY, 0), -ENOTDIR);
	fput(magic_file);
	SC(close, w);

	/* so does a deleted file, and a directory leads on */
	mkfile("/gone", "still");
	int fd = xopen("/gone", O_RDONLY, 0);
	magic_file = fget(fd);
	assert_int_equal(SC(unlink, U("/gone")), 0);
	int again = xopen("/m", O_RDONLY | O_CREAT, 0644);
	assert_true(again >= 0);
	assert_int_equal(SC(read, again, U(buf), sizeof(buf)), 5);
	SC(close, again);
	fput(magic_file);
	assert_int_equal(SC(mkdir, U("/dir"), 0755), 0);
	mkfile("/dir/in", "");
	int dfd = xopen("/dir", O_RDONLY, 0);
	magic_file = fget(dfd);
	assert_ptr_equal(inode_of("/m/in"), inode_of("/dir/in"));
	assert_ptr_equal(inode_of("/m/"), inode_of("/dir"));
	fput(magic_file);
	SC(close, dfd);
	SC(close, fd);
	vfs_magic_link = NULL;
}

static void test_select_and_epoll(void **state)
{
	int fds[2];
	assert_int_equal(SC(pipe2, U(fds), O_NONBLOCK), 0);
	uint64_t rset = 1ULL << fds[0], wset = 1ULL << fds[1];
	struct timeval tv = {0, 0};
	assert_int_equal(SC(select, fds[1] + 1, U(&rset), U(&wset), 0, U(&tv)), 1);
	assert_int_equal(rset, 0);
	assert_int_equal(wset, 1ULL << fds[1]);
	uint64_t bad = 1ULL << 40;
	assert_int_equal(SC(select, 41, U(&bad), 0, 0, U(&tv)), -EBADF);

	int ep = SC(epoll_create1, 0);
	assert_true(ep >= 0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 42};
	assert_int_equal(SC(epoll_ctl, ep, EPOLL_CTL_ADD, fds[0], U(&ev)), 0);
	assert_int_equal(SC(epoll_ctl, ep, EPOLL_CTL_ADD, fds[0], U(&ev)), -EEXIST);
	struct epoll_event got[4];
	assert_int_equal(SC(epoll_wait, ep, U(got), 4, 0), 0);
	SC(write, fds[1], U("x"), 1);
	assert_int_equal(SC(epoll_wait, ep, U(got), 4, 0), 1);
	assert_int_equal(got[0].data.u64, 42);
	assert_int_equal(got[0].events, EPOLLIN);
	/* closing the file removes it from the set */
	SC(close, fds[0]);
	assert_int_equal(SC(epoll_wait, ep, U(got), 4, 0), 0);
	assert_int_equal(SC(epoll_ctl, ep, EPOLL_CTL_DEL, fds[0], 0), -EBADF);

	int efd = SC(eventfd2, 3, 0);
	uint64_t v;
	assert_int_equal(SC(read, efd, U(&v), 8), 8);
	assert_int_equal(v, 3);
	SC(close, efd);
	SC(close, ep);
	SC(close, fds[1]);
}

static void test_read_write_vectors(void **state)
{
	int fd = xopen("/v", O_CREAT | O_RDWR, 0644);
	char a[] = "hello ", b[] = "world";
	struct iovec iov[2] = {{a, 6}, {b, 5}};
	assert_int_equal(SC(writev, fd, U(iov), 2), 11);
	char buf[16] = {0};
	assert_int_equal(SC(pread64, fd, U(buf), 5, 6), 5);
	assert_string_equal(buf, "world");
	char x[3], y[8] = {0};
	struct iovec riov[2] = {{x, 3}, {y, 8}};
	assert_int_equal(SC(preadv, fd, U(riov), 2, 0), 11);
	assert_memory_equal(x, "hel", 3);
	assert_memory_equal(y, "lo world", 8);
	assert_int_equal(SC(lseek, fd, 0, SEEK_CUR), 11);
	assert_int_equal(SC(lseek, fd, -1, SEEK_END), 10);
	assert_int_equal(SC(lseek, fd, -20, SEEK_END), -EINVAL);
	int out = xopen("/copy", O_CREAT | O_RDWR, 0644);
	loff_t off = 6;
	assert_int_equal(SC(sendfile, out, fd, U(&off), 100), 5);
	assert_int_equal(off, 11);
	assert_int_equal(inode_of("/copy")->size, 5);
	int dfd = xopen("/", O_RDONLY, 0);
	assert_int_equal(SC(read, dfd, U(buf), 1), -EISDIR);
	SC(close, dfd);
	SC(close, out);
	SC(close, fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FIXTURE_TEST(test_walk_symlinks_and_dotdot),
	    FIXTURE_TEST(test_walk_loops_and_limits),
	    FIXTURE_TEST(test_mounts),
	    FIXTURE_TEST(test_readonly_and_remount),
	    FIXTURE_TEST(test_chroot),
	    FIXTURE_TEST(test_create_and_open_flags),
	    FIXTURE_TEST(test_unlink_rename_dcache),
	    FIXTURE_TEST(test_stat_and_attrs),
	    FIXTURE_TEST(test_getdents),
	    FIXTURE_TEST(test_fdtable),
	    FIXTURE_TEST(test_pipe),
	    FIXTURE_TEST(test_magic_links),
	    FIXTURE_TEST(test_select_and_epoll),
	    FIXTURE_TEST(test_read_write_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
