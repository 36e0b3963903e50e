/* What the rest of the kernel uses of the VFS beyond vfs.h: the root mount, fd tables
 * and fs_structs of processes, exec and boot helpers, shutdown, pipes and anonymous
 * files. The syscall handlers are listed in fs_syscalls.h. */
#ifndef FS_H
#define FS_H

#include "vfs.h"

struct fdtable;
struct fs_struct;

/* Boot: set up the VFS, then mount the root filesystem (root_mount) and make it the
 * root and cwd of the initial fs_struct. */
void vfs_init(void);
int vfs_mount_root(const char *source, const char *fstype, unsigned long flags, const char *data);
/* A fresh fs_struct (refcount 1) at root_mount's root, umask 022. */
struct fs_struct *fs_struct_init(void);
struct fs_struct *fs_struct_dup(struct fs_struct *fs);
void fs_struct_put(struct fs_struct *fs);

/* Fd tables. fd_install() and fget() work on current->files. fd_install takes over the
 * caller's reference to f on success (returns the fd); on failure (-EMFILE against
 * RLIMIT_NOFILE) the caller still owns it. fget() returns a new reference or NULL. */
struct fdtable *fdtable_new(void);
struct fdtable *fdtable_dup(struct fdtable *t);
void fdtable_put(struct fdtable *t);
void fdtable_close_on_exec(struct fdtable *t);
int fd_install(struct file *f, unsigned flags /* O_CLOEXEC */);
struct file *fget(int fd);
/* The file at fd of table t without taking a reference (procfs), or NULL. */
struct file *fdtable_peek(struct fdtable *t, int fd);

/* Exec: open path (AT_* flags: AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW) for execution: a
 * regular file with exec permission on a mount without MS_NOEXEC, else -EACCES. */
int vfs_open_exec(int dirfd, const char *path, int at_flags, struct file **out);
/* Read or write at pos without touching f->pos, into or from kernel memory. */
ssize_t kernel_read(struct file *f, void *buf, size_t n, loff_t pos);
ssize_t kernel_write(struct file *f, const void *buf, size_t n, loff_t pos);
/* The name of an open file as /proc/<pid>/fd shows it ("/a/b", "/a/b (deleted)",
 * "pipe:[123]", "anon_inode:[eventpoll]"); length or -ENAMETOOLONG. */
int file_path(struct file *f, char *buf, size_t size);
/* Open a path from kernel code (boot: /dev/console), relative to current's root or,
 * without a current fs_struct, the root mount. */
int kern_open(const char *path, int flags, mode_t mode, struct file **out);

/* Shutdown: write everything back; unmount every filesystem in reverse mount order,
 * the root last (so ext marks itself clean). No file operation may run afterwards. */
void vfs_sync_all(void);
int vfs_umount_all(void);

/* Magic links: procfs's fd/N, cwd, root and exe links name an object, not a path. When
 * procfs sets this hook, the walk asks it about every symlink it follows: 0 with *out
 * referenced makes the walk jump there (so a deleted file or a pipe reopens as Linux
 * does); any error means an ordinary link whose text is walked. */
extern int (*vfs_magic_link)(struct inode *link, struct path *out);
/* For such a hook: where an open file is, referenced (pipes too); -ENXIO for anonymous
 * files that cannot be reopened (epoll, eventfd). */
int file_magic_path(struct file *f, struct path *out);

/* Pipes: a connected pair of open files (O_RDONLY and O_WRONLY), references owned by
 * the caller. */
int pipe_create(struct file **rd, struct file **wr);

/* An open file on a fresh anonymous inode (epoll, eventfd, sockets): mode is the inode's
 * type and permission bits (0 for none), name is shown as "anon_inode:[name]" (must be a
 * string constant). */
struct file *anon_file_new(const char *name, mode_t mode, const struct file_ops *fop, void *priv,
			   unsigned flags);

/* Permission checks against current's fsuid/fsgid (root passes read and write always,
 * and exec when some x bit is set or the inode is a directory). mask: MAY_*. */
#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4
int inode_permission(struct inode *i, int mask);

/* register_chrdev() with this minor covers every minor of the major (pty slaves). */
#define CHRDEV_ANY_MINOR (~0u)

#endif
