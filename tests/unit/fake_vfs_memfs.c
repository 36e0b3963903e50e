/* memfs: a tiny in-memory filesystem for the VFS tests. A directory is a list of
 * (name, inode) entries, each holding a reference on its inode; file data is one
 * growable buffer. Every mount is a fresh instance. */
#include "fake_vfs_memfs.h"
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <sys/mount.h>

struct ment {
	char *name;
	struct inode *inode;
	struct ment *next;
};

struct mfile {
	char *data;
	size_t cap;
};

int memfs_remounts;
static const struct inode_ops dir_iops, file_iops, link_iops;
static const struct file_ops dir_fops, file_fops;

static struct ment **dir_ents(struct inode *dir)
{
	return (struct ment **)&dir->priv;
}

static struct ment **find(struct inode *dir, const char *name)
{
	struct ment **e = dir_ents(dir);
	while (*e && strcmp((*e)->name, name))
		e = &(*e)->next;
	return e;
}

static struct inode *mnew(struct super_block *sb, mode_t mode)
{
	struct inode *i = new_inode(sb, mode);
	if (S_ISDIR(mode)) {
		i->iop = &dir_iops;
		i->fop = &dir_fops;
		i->nlink = 2;
	} else if (S_ISLNK(mode)) {
		i->iop = &link_iops;
	} else {
		i->iop = &file_iops;
		i->fop = S_ISREG(mode) ? &file_fops : NULL;
		if (S_ISREG(mode))
			i->priv = xzalloc(sizeof(struct mfile));
	}
	return i;
}

static void add(struct inode *dir, const char *name, struct inode *i)
{
	struct ment *e = xzalloc(sizeof(*e));
	e->name = xstrdup(name);
	e->inode = i;
	igrab(i);
	e->next = *dir_ents(dir);
	*dir_ents(dir) = e;
	dir->size++;
}

static void del(struct inode *dir, struct ment **ep)
{
	struct ment *e = *ep;
	*ep = e->next;
	dir->size--;
	iput(e->inode);
	free(e->name);
	free(e);
}

static int m_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct ment *e = *find(dir, name);
	if (!e)
		return -ENOENT;
	igrab(e->inode);
	*out = e->inode;
	return 0;
}

static int m_create(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
		    struct inode **out)
{
	struct inode *i = mnew(dir->sb, mode);
	i->rdev = rdev;
	add(dir, name, i);
	*out = i;
	return 0;
}

static int m_mkdir(struct inode *dir, const char *name, mode_t mode, struct inode **out)
{
	return m_create(dir, name, S_IFDIR | mode, 0, out);
}

static int m_symlink(struct inode *dir, const char *name, const char *target, struct inode **out)
{
	struct inode *i = mnew(dir->sb, S_IFLNK | 0777);
	i->priv = xstrdup(target);
	i->size = strlen(target);
	add(dir, name, i);
	*out = i;
	return 0;
}

static int m_link(struct inode *dir, const char *name, struct inode *target)
{
	add(dir, name, target);
	target->nlink++;
	return 0;
}

static int m_unlink(struct inode *dir, const char *name)
{
	struct ment **e = find(dir, name);
	if (!*e)
		return -ENOENT;
	(*e)->inode->nlink--;
	del(dir, e);
	return 0;
}

static int m_rmdir(struct inode *dir, const char *name)
{
	struct ment **e = find(dir, name);
	if (!*e)
		return -ENOENT;
	if (*dir_ents((*e)->inode))
		return -ENOTEMPTY;
	(*e)->inode->nlink = 0;
	del(dir, e);
	return 0;
}

static int m_rename(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
		    unsigned flags)
{
	struct ment **o = find(odir, oname);
	if (!*o)
		return -ENOENT;
	struct inode *i = (*o)->inode;
	igrab(i);
	del(odir, o);
	struct ment **n = find(ndir, nname);
	if (*n) {
		if (S_ISDIR((*n)->inode->mode) && *dir_ents((*n)->inode)) {
			add(odir, oname, i);
			iput(i);
			return -ENOTEMPTY;
		}
		(*n)->inode->nlink--;
		del(ndir, n);
	}
	add(ndir, nname, i);
	iput(i);
	return 0;
}

static int m_readlink(struct inode *i, char *buf, size_t size)
{
	size_t n = MIN(size, i->size);
	memcpy(buf, i->priv, n);
	return n;
}

static int m_setattr(struct inode *i, const struct iattr *a)
{
	if (a->valid & ATTR_SIZE) {
		struct mfile *mf = i->priv;
		if (a->size > mf->cap) {
			mf->data = realloc(mf->data, a->size);
			memset(mf->data + mf->cap, 0, a->size - mf->cap);
			mf->cap = a->size;
		}
		i->size = a->size;
	}
	return 0;
}

static const struct inode_ops dir_iops = {
    .lookup = m_lookup,
    .create = m_create,
    .mkdir = m_mkdir,
    .symlink = m_symlink,
    .link = m_link,
    .unlink = m_unlink,
    .rmdir = m_rmdir,
    .rename = m_rename,
    .setattr = m_setattr,
};
static const struct inode_ops file_iops = {.setattr = m_setattr};
static const struct inode_ops link_iops = {.readlink = m_readlink};

/* Entries: 0 ".", 1 "..", then the list from position 2 on. */
static int m_readdir(struct file *f, struct dir_ctx *ctx)
{
	struct inode *dir = f->inode;
	while (ctx->pos < 2) {
		if (!ctx->emit(ctx, "..", ctx->pos + 1, dir->ino, DT_DIR))
			return 0;
		ctx->pos++;
	}
	loff_t k = 2;
	for (struct ment *e = *dir_ents(dir); e; e = e->next, k++) {
		if (k < ctx->pos)
			continue;
		if (!ctx->emit(ctx, e->name, strlen(e->name), e->inode->ino,
			       (e->inode->mode & S_IFMT) >> 12))
			return 0;
		ctx->pos = k + 1;
	}
	return 0;
}

static ssize_t m_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	struct mfile *mf = f->inode->priv;
	if ((uint64_t)*pos >= f->inode->size)
		return 0;
	n = MIN(n, f->inode->size - *pos);
	memcpy(buf, mf->data + *pos, n);
	*pos += n;
	return n;
}

static ssize_t m_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	struct mfile *mf = f->inode->priv;
	if (*pos + n > mf->cap) {
		mf->data = realloc(mf->data, *pos + n);
		memset(mf->data + mf->cap, 0, *pos + n - mf->cap);
		mf->cap = *pos + n;
	}
	memcpy(mf->data + *pos, buf, n);
	*pos += n;
	if ((uint64_t)*pos > f->inode->size)
		f->inode->size = *pos;
	return n;
}

static const struct file_ops dir_fops = {.readdir = m_readdir};
static const struct file_ops file_fops = {.read = m_read, .write = m_write};

static void m_evict(struct inode *i)
{
	if (S_ISREG(i->mode)) {
		struct mfile *mf = i->priv;
		free(mf->data);
		free(mf);
	} else if (S_ISLNK(i->mode)) {
		free(i->priv);
	}
}

static void clear_dir(struct inode *dir)
{
	while (*dir_ents(dir)) {
		struct inode *i = (*dir_ents(dir))->inode;
		if (S_ISDIR(i->mode))
			clear_dir(i);
		del(dir, dir_ents(dir));
	}
}

static void m_put_super(struct super_block *sb)
{
	clear_dir(sb->root);
	iput(sb->root);
	free(sb);
}

static int m_remount(struct super_block *sb, unsigned long flags)
{
	memfs_remounts++;
	return 0;
}

static const struct super_ops memfs_sops = {
    .evict_inode = m_evict,
    .put_super = m_put_super,
    .remount = m_remount,
};

static int memfs_mount(const struct fs_type *type, const char *source, unsigned long flags,
		       const char *data, struct super_block **out)
{
	static dev_t next_dev = 100;
	struct super_block *sb = xzalloc(sizeof(*sb));
	sb->type = type;
	sb->ops = &memfs_sops;
	sb->dev = next_dev++;
	sb->flags = flags & MS_RDONLY;
	list_init(&sb->inodes);
	sb->root = mnew(sb, S_IFDIR | 0755);
	*out = sb;
	return 0;
}

struct fs_type memfs_type = {.name = "memfs", .mount = memfs_mount};

/* --- the world of a VFS test -------------------------------------------------------- */

void memfs_world_setup(struct process *proc, struct task *task)
{
	static bool registered;
	if (!registered) {
		register_filesystem(&memfs_type);
		registered = true;
	}
	memset(proc, 0, sizeof(*proc));
	memset(task, 0, sizeof(*task));
	proc->rlim[RLIMIT_NOFILE] = (struct rlimit){64, 64};
	task->proc = proc;
	current = task;
	task->files = fdtable_new();
	task->fs = fs_struct_init(); /* before the root: it gets the root when mounted */
	assert_int_equal(vfs_mount_root("none", "memfs", 0, NULL), 0);
	assert_non_null(task->fs->root.dentry);
	task->fs->umask = 022;
	fake_sleeps = fake_sigpipes = 0;
}

void memfs_world_teardown(struct task *task)
{
	fdtable_put(task->files);
	fs_struct_put(task->fs);
	task->files = NULL;
	task->fs = NULL;
	assert_int_equal(vfs_umount_all(), 0);
	assert_true(list_empty(&mount_table));
	current = NULL;
}
