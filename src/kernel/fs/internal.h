/* Shared inside the VFS core only (vfs.c, namei.c, mount.c, open.c and the syscall
 * files): the dentry cache, mount references, the path walker and small helpers. */
#ifndef FS_INTERNAL_H
#define FS_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fs.h"
#include "fs_syscalls.h"
#include "../syscalls.h"
#include "../task.h"
#include <limits.h>
#include <poll.h>
#include <sys/sysmacros.h>

/* O_LARGEFILE as the x86-64 kernel reports it in F_GETFL (glibc defines it as 0). */
#define KO_LARGEFILE 0100000

/* --- credentials (vfs.c) ----------------------------------------------------------- */
/* Kernel threads (no process) act as root. */
uid_t cur_fsuid(void);
bool cur_in_group(gid_t gid);
bool cur_is_root(void);	 /* fsuid 0: filesystem overrides */
bool cur_is_admin(void); /* euid 0: mount, chroot, ... */
uint64_t cur_rlimit(int res);

/* --- dentry cache (vfs.c) ---------------------------------------------------------- */
/* A new cached child of parent; takes over the caller's reference to inode. */
struct dentry *d_alloc(struct dentry *parent, const char *name, struct inode *inode);
/* The cached child called name, referenced, or NULL. */
struct dentry *d_lookup(struct dentry *parent, const char *name);
/* The name is gone (unlink, rmdir, replaced by rename): no lookup finds it again; it
 * lives on while referenced. */
void d_delete(struct dentry *d);
/* Rename: d is now newname in newparent. */
void d_move(struct dentry *d, struct dentry *newparent, const char *newname);
/* Drop every unused cached dentry of sb (unmount). */
void d_prune_sb(struct super_block *sb);

/* --- mounts (mount.c) -------------------------------------------------------------- */
/* The most recent mount on (mnt, d), or NULL. */
struct mount *lookup_mnt(struct mount *mnt, struct dentry *d);
bool mnt_readonly(const struct mount *m);
/* Write back sb's pages, then the filesystem (wait: durably). */
int sb_sync(struct super_block *sb, bool wait);
/* -EROFS when p is on a read-only mount or filesystem. */
int path_want_write(const struct path *p);
/* The initial fs_struct's root: for kernel threads without an fs_struct. */
const struct path *init_root(void);
/* A mount that is never attached, for the paths of anonymous files (pipes): it lives
 * for good. */
struct mount *mnt_internal(struct super_block *sb, const char *name);
/* The root is mounted: fs_structs made before (no root yet) get it as root and cwd. */
void fs_struct_set_root_all(const struct path *root);

/* --- path walk (namei.c) ----------------------------------------------------------- */
#define LOOKUP_FOLLOW 1u    /* follow a trailing symlink */
#define LOOKUP_DIRECTORY 2u /* the result must be a directory */
#define LOOKUP_EMPTY 4u	    /* "" names the start directory (AT_EMPTY_PATH) */

/* LAST_BIND: a magic link moved the walk onto its object, which is the result. */
enum { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT, LAST_BIND };

/* The result of walking to the parent of a path's last component. */
struct lookup_last {
	struct path parent; /* referenced */
	char name[NAME_MAX + 1];
	int type;	      /* LAST_* */
	bool slash;	      /* the name had trailing slashes */
	struct dentry *child; /* LAST_NORM: the entry (referenced), or NULL if absent */
};

int path_lookup_at(int dfd, const char *name, unsigned flags, struct path *out);
/* With LOOKUP_FOLLOW, an existing symlink at the end is followed (parent and name then
 * describe its target). */
int path_last_at(int dfd, const char *name, unsigned flags, struct lookup_last *out);
void lookup_last_put(struct lookup_last *l);
/* Same from a guest pointer. */
int user_path_at(int dfd, uaddr_t name, unsigned flags, struct path *out);
/* LOOKUP_* flags for AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. */
unsigned at_lookup_flags(int at_flags);
/* Cross into whatever is mounted on p (most recent mount on top). */
void follow_mounts(struct path *p);
/* Look name up in the directory dir (no mount crossing): a referenced dentry. */
int lookup_child(const struct path *dir, const char *name, struct dentry **out);
/* Root and cwd of the current task (or the initial root for kernel threads). */
const struct path *cur_root(void);
const struct path *cur_cwd(void);

/* --- open files -------------------------------------------------------------------- */
int do_open(int dfd, const char *name, int flags, mode_t mode, struct file **out);
/* Open an already resolved path; checked: permissions are already checked, or we just
 * made the file (no truncation either). */
int vfs_open(const struct path *p, int flags, bool checked, struct file **out);
/* Create the node l names (absent) in its parent: mode has the type bits. */
int vfs_create(struct lookup_last *l, mode_t mode, dev_t rdev, struct dentry **out);
/* The open file at fd (referenced) or -EBADF; fget_raw also accepts O_PATH files. */
int fget_checked(int fd, struct file **out);
int fget_raw(int fd, struct file **out);
/* Install at the lowest free fd >= min (F_DUPFD) or exactly at fd (dup2). */
int fd_alloc_from(struct file *f, int min, bool cloexec);
int fd_replace(int fd, struct file *f, bool cloexec);
int fd_close(int fd);
bool fd_get_cloexec(int fd);
void fd_set_cloexec(int fd, bool on);
/* Read/write with f's permissions checked, kernel buffers, at *pos. */
ssize_t vfs_read(struct file *f, void *buf, size_t n, loff_t *pos);
ssize_t vfs_write(struct file *f, const void *buf, size_t n, loff_t *pos);
/* Change attributes after permission checks done by the caller. */
int notify_change(struct dentry *d, struct iattr *a);
int vfs_truncate(const struct path *p, uint64_t size);

/* --- pipes and poll ---------------------------------------------------------------- */
extern const struct file_ops fifo_fops;
bool is_pipe_file(const struct file *f);
long pipe_fcntl(struct file *f, int cmd, unsigned long arg);
/* The ready mask of f (files without poll are always ready), registering its queues. */
unsigned vfs_poll(struct file *f, struct poll_table *pt);
/* Sleep on the queues pt collected until woken or the deadline: 0, -EINTR, -ETIMEDOUT. */
int poll_sleep(struct poll_table *pt, uint64_t deadline);
/* A temporary signal mask for ppoll, pselect6 and epoll_pwait, and its end given the
 * call's result. */
int set_temp_sigmask(uaddr_t umask, size_t size, bool *changed);
void restore_temp_sigmask(bool changed, long ret);
/* epoll forgets a file whose last reference is gone. */
void eventpoll_release(struct file *f);
extern struct super_block anon_sb;

#endif
