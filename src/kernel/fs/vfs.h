/* The virtual filesystem: inodes, dentries, mounts, open files and the operation tables
 * that filesystems (ext, tmpfs, procfs, sysfs, devtmpfs) and drivers (tty, pipe, null)
 * implement. All buffers passed to operations are kernel buffers; the syscall layer does
 * the copying to and from guest memory. Errors are negative Linux errno values. */
#ifndef VFS_H
#define VFS_H

#include "../kernel.h"
#include "../sched.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

struct inode;
struct file;
struct dentry;
struct super_block;
struct poll_table;

/* setattr: which fields of struct iattr are valid */
#define ATTR_MODE 1u
#define ATTR_UID 2u
#define ATTR_GID 4u
#define ATTR_SIZE 8u
#define ATTR_ATIME 16u
#define ATTR_MTIME 32u
#define ATTR_CTIME 64u

struct iattr {
	unsigned valid;
	mode_t mode; /* permission bits only */
	uid_t uid;
	gid_t gid;
	uint64_t size;
	struct timespec atime, mtime, ctime;
};

struct inode_ops {
	/* Find name (not "." or "..") in dir: 0 with *out referenced, or -ENOENT. */
	int (*lookup)(struct inode *dir, const char *name, struct inode **out);
	/* Create a regular file, FIFO, socket or device node (mode has the type bits). */
	int (*create)(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
		      struct inode **out);
	int (*mkdir)(struct inode *dir, const char *name, mode_t mode, struct inode **out);
	int (*symlink)(struct inode *dir, const char *name, const char *target, struct inode **out);
	int (*link)(struct inode *dir, const char *name, struct inode *target);
	int (*unlink)(struct inode *dir, const char *name);
	/* Remove an empty directory (-ENOTEMPTY otherwise). */
	int (*rmdir)(struct inode *dir, const char *name);
	/* Move; the VFS has checked types (dir over empty dir, non-dir over non-dir) and
	 * loops. A target that exists is replaced. flags: RENAME_NOREPLACE/EXCHANGE. */
	int (*rename)(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
		      unsigned flags);
	/* Symlink target into buf (not NUL-terminated): length or error. */
	int (*readlink)(struct inode *inode, char *buf, size_t size);
	int (*setattr)(struct inode *inode, const struct iattr *attr);

	/* Page cache backing (see pagecache.h): read one page (zero-filled past EOF or in
	 * holes) or write the first len bytes of one page back to storage. */
	int (*readpage)(struct inode *inode, uint64_t index, void *page);
	int (*writepage)(struct inode *inode, uint64_t index, const void *page, size_t len);

	/* Extended attributes (optional: without them the syscalls give -EOPNOTSUPP for
	 * get, set and remove and an empty list, as Linux does for a filesystem without
	 * xattr support). Names are whole ("user.foo", "system.posix_acl_access"), 1 to
	 * XATTR_NAME_MAX bytes; the VFS (xattr.c) has checked permissions, the name space
	 * rules and the size limits. It updates ctime after a successful set or remove.
	 * getxattr: the value's length, copied into value if it fits in size (size 0 asks
	 * only for the length); -ERANGE if it does not fit, -ENODATA if there is no such
	 * attribute, -EOPNOTSUPP for a name space the filesystem does not keep. */
	ssize_t (*getxattr)(struct inode *inode, const char *name, void *value, size_t size);
	/* flags: XATTR_CREATE (-EEXIST if it exists), XATTR_REPLACE (-ENODATA if not). */
	int (*setxattr)(struct inode *inode, const char *name, const void *value, size_t size,
			int flags);
	/* The names, each NUL-terminated, one after the other: the total length, as for
	 * getxattr (size 0: only the length; -ERANGE if it does not fit). */
	ssize_t (*listxattr)(struct inode *inode, char *list, size_t size);
	/* -ENODATA if there is no such attribute. */
	int (*removexattr)(struct inode *inode, const char *name);
};

/* Directory iteration: the filesystem calls emit() for each entry from ctx->pos on,
 * updating ctx->pos to the cookie of the next entry; emit returns false when the
 * caller's buffer is full (the entry was not taken and pos must not advance past it). */
struct dir_ctx {
	bool (*emit)(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
		     unsigned dtype);
	loff_t pos;
};

struct file_ops {
	/* Called when the file is opened (device nodes: after the driver is found). */
	int (*open)(struct inode *inode, struct file *f);
	ssize_t (*read)(struct file *f, void *buf, size_t n, loff_t *pos);
	ssize_t (*write)(struct file *f, const void *buf, size_t n, loff_t *pos);
	int (*readdir)(struct file *f, struct dir_ctx *ctx);
	/* arg is a guest address or value; drivers use copy_{from,to}_user. */
	long (*ioctl)(struct file *f, unsigned cmd, uint64_t arg);
	/* Returns the POLL* mask now and registers wait queues with poll_wait(). */
	unsigned (*poll)(struct file *f, struct poll_table *pt);
	int (*fsync)(struct file *f, bool datasync);
	loff_t (*llseek)(struct file *f, loff_t off, int whence); /* NULL: generic */
	/* Last reference to the open file dropped. */
	void (*release)(struct file *f);
};

struct super_ops {
	int (*statfs)(struct super_block *sb, struct statfs *st);
	/* Write back dirty inodes and metadata; wait makes it durable (flush). */
	int (*sync)(struct super_block *sb, bool wait);
	/* Write an inode's changed attributes (called after setattr-like changes). */
	int (*write_inode)(struct inode *inode);
	/* The last reference to an inode is gone: free it; if nlink is 0, release its
	 * storage too. */
	void (*evict_inode)(struct inode *inode);
	/* Unmount: everything synced, release the filesystem. */
	void (*put_super)(struct super_block *sb);
	/* Remount read-only/read-write (flags: MS_RDONLY). */
	int (*remount)(struct super_block *sb, unsigned long flags);
};

struct fs_type {
	const char *name;
	bool needs_dev; /* source is a block device */
	/* Mount: source is the device path or name, data the option string (may be NULL). */
	int (*mount)(const struct fs_type *type, const char *source, unsigned long flags,
		     const char *data, struct super_block **out);
	struct list link;
};

struct super_block {
	const struct fs_type *type;
	const struct super_ops *ops;
	struct inode *root;
	dev_t dev;
	unsigned long flags; /* MS_RDONLY, MS_NOSUID, ... */
	uint32_t magic;	     /* f_type for statfs */
	char source[64];
	void *priv;
	struct list inodes; /* all live inodes (icache) */
	uint64_t next_ino;  /* for filesystems that number inodes themselves */
};

struct pipe;
struct inode {
	struct super_block *sb;
	uint64_t ino;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	nlink_t nlink;
	uint64_t size;
	uint64_t blocks; /* 512-byte units */
	dev_t rdev;
	struct timespec atime, mtime, ctime;
	int refcount;
	const struct inode_ops *iop;
	const struct file_ops *fop;
	void *priv;
	struct list sb_link;
	struct pipe *pipe;	 /* FIFO: the shared pipe while open */
	struct pagecache *pages; /* page cache (pagecache.h), or NULL */
};

/* A name in the directory tree. Dentries stay cached while their parent lives. */
struct dentry {
	char *name;
	struct dentry *parent; /* self for a root */
	struct inode *inode;
	int refcount;
	struct list children, sibling;
	int mounted; /* how many mounts sit on this dentry */
	bool deleted;
};

struct mount {
	struct super_block *sb;
	struct dentry *root;
	struct mount *parent; /* self for the root mount */
	struct dentry *mountpoint;
	unsigned long flags;
	char *devname;
	struct list link; /* in the mount table, in mount order */
};

struct path {
	struct mount *mnt;
	struct dentry *dentry;
};

struct file {
	int refcount;
	unsigned flags; /* O_ACCMODE, O_APPEND, O_NONBLOCK, ... (not O_CLOEXEC) */
	loff_t pos;
	struct inode *inode;
	struct path path; /* may be {NULL,NULL} for anonymous files (pipes, sockets) */
	const struct file_ops *fop;
	void *priv;
};

/* inodes */
struct inode *new_inode(struct super_block *sb, mode_t mode);
/* The live inode numbered ino in sb (referenced), or NULL. */
struct inode *iget(struct super_block *sb, uint64_t ino);
void igrab(struct inode *i);
void iput(struct inode *i);
/* Write the inode's attributes back (sb->ops->write_inode) after changing them. */
void mark_inode_dirty(struct inode *i);
void inode_touch(struct inode *i, bool atime, bool mtime, bool ctime);
struct timespec current_time(void);
/* Copy what a sets of the mode, owner and times into i (the size is the filesystem's
 * business), as Linux's setattr_copy. */
void setattr_copy(struct inode *i, const struct iattr *a);
/* Inodes new_inode() made that are not freed yet (Linux: inodes_stat.nr_inodes). */
extern long nr_inodes;

/* dentries and paths */
struct dentry *dget(struct dentry *d);
void dput(struct dentry *d);
void path_get(const struct path *p);
void path_put(const struct path *p);
/* Anonymous root dentry for a superblock's root inode. */
struct dentry *d_make_root(struct inode *root);

/* files */
struct file *file_alloc(struct inode *inode, const struct file_ops *fop, unsigned flags);
struct file *fget_ref(struct file *f);
void fput(struct file *f);
/* generic helpers for filesystems with a page cache */
ssize_t generic_file_read(struct file *f, void *buf, size_t n, loff_t *pos);
ssize_t generic_file_write(struct file *f, const void *buf, size_t n, loff_t *pos);
int generic_file_fsync(struct file *f, bool datasync);

/* poll support */
#define POLL_MAX_WQ 8
struct poll_table {
	struct waitq *wq[POLL_MAX_WQ * 8];
	int n;
};
void poll_wait(struct poll_table *pt, struct waitq *wq);

/* filesystems and mounts */
void register_filesystem(struct fs_type *t);
const struct fs_type *find_filesystem(const char *name);
/* Iterate registered filesystems (for /proc/filesystems). */
const struct fs_type *next_filesystem(const struct fs_type *prev);
extern struct list mount_table; /* of struct mount, in mount order */
extern struct mount *root_mount;
/* "/a/b" of a path as seen from root; returns length or -ENAMETOOLONG. */
int path_to_string(const struct path *p, const struct path *root, char *buf, size_t size);

/* character devices */
void register_chrdev(unsigned major, unsigned minor, const char *name, const struct file_ops *fop);
const struct file_ops *find_chrdev(dev_t rdev);
/* Iterate registered character devices (for devtmpfs and /proc/devices). */
struct chrdev {
	unsigned major, minor;
	const char *name;
	const struct file_ops *fop;
	struct list link;
};
extern struct list chrdev_list;

/* Kernel-side path operations (boot, devtmpfs population): relative to init's root. */
int kern_path(const char *name, bool follow, struct path *out);
int kern_mkdir(const char *name, mode_t mode);
int kern_mknod(const char *name, mode_t mode, dev_t dev);
int kern_mount(const char *source, const char *target, const char *type, unsigned long flags,
	       const char *data);

#endif
