/* Synthetic filesystems (tmpfs, devtmpfs, proc, sysfs) and the memory devices, and the
 * helpers they share: a growable text buffer that a file's whole content is generated
 * into at open ("seq file"), and a table-driven tree of fixed and dynamic entries whose
 * inodes are built on demand at lookup. */
#ifndef PSEUDOFS_H
#define PSEUDOFS_H

#include "vfs.h"

/* Registration, called once at boot (before the first mount of each). */
void tmpfs_register(void);
void devtmpfs_register(void);
void procfs_register(void);
void sysfs_register(void);
void mem_devices_register(void);

/* The kernel command line shown in /proc/cmdline (copied). */
void procfs_set_cmdline(const char *cmdline);

/* procfs text generators, callable on their own (tests); t is the thread for
 * /proc/<pid>/task/<tid> files, NULL for the process as a whole. 0 or -errno. */
struct seqbuf;
struct process;
struct task;
int proc_pid_stat_show(struct seqbuf *s, struct process *p, struct task *t);
int proc_pid_statm_show(struct seqbuf *s, struct process *p, struct task *t);
int proc_pid_status_show(struct seqbuf *s, struct process *p, struct task *t);
int proc_pid_maps_show(struct seqbuf *s, struct process *p, struct task *t);
int proc_meminfo_show(struct seqbuf *s);
int proc_uptime_show(struct seqbuf *s);

/* tmpfs, for devtmpfs and for the initial root: a fresh instance. data as for mount(2)
 * ("size=...,mode=..."); root_mode is the root's mode unless data has "mode=". */
int tmpfs_fill_super(const struct fs_type *type, const char *source, unsigned long flags,
		     const char *data, mode_t root_mode, struct super_block **out);

/* --- text buffers ------------------------------------------------------------------- */

struct seqbuf {
	char *buf;
	size_t len, cap;
};

void seqbuf_write(struct seqbuf *s, const void *p, size_t n);
void seqbuf_puts(struct seqbuf *s, const char *str);
void seqbuf_printf(struct seqbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A path or name as /proc/mounts shows it: space, tab, newline and backslash in octal. */
void seqbuf_escape(struct seqbuf *s, const char *str);
/* Pad with spaces up to column col of the current line. */
void seqbuf_pad(struct seqbuf *s, size_t col);
void seqbuf_free(struct seqbuf *s);

/* --- table-driven trees --------------------------------------------------------------- */

#define PNODE_ARGS 3

/* A dynamic directory entry, produced by pnode.next/find. */
struct pdyn_ent {
	char name[32];
	const struct pnode *node;
	long arg[PNODE_ARGS]; /* preset to the directory's own arguments */
};

/* The static description of one entry. Many inodes may share one node: they differ by
 * their arguments (a pid, a tid, an fd, a device), which children inherit. */
struct pnode {
	const char *name;
	mode_t mode; /* type and permission bits */
	/* S_IFREG: the whole content, generated at open; or a constant text. */
	int (*show)(struct seqbuf *s, struct inode *i);
	const char *text;
	/* S_IFREG, writable: one write(2) of n bytes; 0 or -errno. */
	int (*store)(struct inode *i, const char *buf, size_t n);
	/* S_IFLNK: the target. */
	int (*link)(struct seqbuf *s, struct inode *i);
	/* S_IFDIR: fixed entries (NULL-terminated), then dynamic ones. next fills e with the
	 * first entry at a cursor >= *cursor and sets *cursor to it; false at the end.
	 * find (optional; else next is scanned) resolves one name. */
	const struct pnode *const *children;
	bool (*next)(struct inode *dir, uint64_t *cursor, struct pdyn_ent *e);
	bool (*find)(struct inode *dir, const char *name, struct pdyn_ent *e);
	const void *data; /* for the callbacks */
};

/* Per-inode data of a pseudo filesystem (inode->priv). */
struct pinode {
	const struct pnode *node;
	long arg[PNODE_ARGS];
};

static inline const struct pinode *PINODE(const struct inode *i)
{
	return i->priv;
}

/* One pseudo filesystem type. */
struct pseudo_fs {
	const struct pnode *root;
	uint32_t magic;
	/* Does the object behind i still exist? 0 or -ENOENT. Called on every lookup,
	 * readdir, open and readlink (optional). */
	int (*revalidate)(struct inode *i);
	/* Set owner etc. of a new inode (optional). */
	void (*init_inode)(struct inode *i);
};

int pseudo_mount(const struct pseudo_fs *fs, const struct fs_type *type, const char *source,
		 unsigned long flags, struct super_block **out);
/* A fresh anonymous device number (major 0) for a superblock without a device. */
dev_t pseudo_anon_dev(void);
/* CPUs the guest sees (the host's online CPUs). */
int pseudo_ncpus(void);
/* dirent type (DT_*) of a mode. */
static inline unsigned mode_to_dtype(mode_t mode)
{
	return (mode & S_IFMT) >> 12;
}

#endif
