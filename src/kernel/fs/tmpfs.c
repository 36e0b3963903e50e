/* tmpfs: a filesystem in memory. Directories are lists of (name, inode); file data lives
 * only in the page cache (no readpage/writepage). A directory entry holds a reference on
 * its inode, so an inode lives while it has a name, and is evicted when its last name is
 * gone and the last open file or dentry lets go. Also the initial root ("rootfs"). */
#include "pagecache.h"
#include "pseudofs.h"
#include "../task.h"
#include <sys/statfs.h>

#define TMPFS_MAGIC 0x01021994
#define BOGO_DIRENT_SIZE 20 /* a directory's st_size grows by this per entry, as Linux */
#define NAME_MAX_ 255
#ifndef RENAME_NOREPLACE /* renameat2 flags, as Linux numbers them */
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

struct tmpfs_sb {
	uint64_t size;	   /* bytes; 0: no limit */
	unsigned size_pct; /* size as a share of guest memory, if not 0 */
	uint64_t max_inodes, inodes, used_pages;
	bool dead; /* unmounted: freed with the last inode */
};

struct tmpfs_dirent {
	char *name;
	struct inode *inode; /* referenced */
	uint64_t cookie;     /* readdir position; increases along the list */
	struct list link;
};

struct tmpfs_inode {
	struct list entries;  /* directory: of struct tmpfs_dirent */
	uint64_t next_cookie; /* directory */
	struct inode *parent; /* directory: for "..", not referenced; NULL once removed */
	char *target;	      /* symlink */
};

static const struct inode_ops tmpfs_dir_iops, tmpfs_file_iops, tmpfs_link_iops;
static const struct file_ops tmpfs_dir_fops, tmpfs_file_fops;

static struct tmpfs_inode *TI(struct inode *i)
{
	return i->priv;
}

static struct tmpfs_sb *TSB(struct super_block *sb)
{
	return sb->priv;
}

static uint64_t pages_of(uint64_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static uint64_t tmpfs_max_pages(struct tmpfs_sb *ts)
{
	/* tmpfs pages are the kernel's host memory and there is no swap: never more than
	 * mem=, whatever size= says. */
	uint64_t max = mem_total_bytes / PAGE_SIZE;
	if (ts->size_pct)
		return max * MIN(ts->size_pct, 100) / 100;
	return MIN(pages_of(ts->size), max);
}

/* Set how many pages the file is charged for (st_blocks and the statfs count). */
static void tmpfs_charge(struct inode *i, uint64_t pages)
{
	TSB(i->sb)->used_pages += pages - i->blocks / 8;
	i->blocks = pages * 8;
}

static void touch_dir(struct inode *dir)
{
	dir->mtime = dir->ctime = current_time();
}

/* --- directory entries -------------------------------------------------------------- */

static struct tmpfs_dirent *tmpfs_find(struct inode *dir, const char *name)
{
	list_for_each(it, &TI(dir)->entries)
	{
		struct tmpfs_dirent *d = list_entry(it, struct tmpfs_dirent, link);
		if (!strcmp(d->name, name))
			return d;
	}
	return NULL;
}

/* Link d (its name and inode reference) at the end of dir. */
static void dirent_attach(struct inode *dir, struct tmpfs_dirent *d)
{
	d->cookie = TI(dir)->next_cookie++;
	list_add_tail(&d->link, &TI(dir)->entries);
	dir->size += BOGO_DIRENT_SIZE;
}

static void dirent_add(struct inode *dir, const char *name, struct inode *i)
{
	struct tmpfs_dirent *d = xzalloc(sizeof(*d));
	d->name = xstrdup(name);
	d->inode = i;
	dirent_attach(dir, d);
}

/* Unlink d from dir and free it; the inode reference is the caller's now. */
static struct inode *dirent_del(struct inode *dir, struct tmpfs_dirent *d)
{
	struct inode *i = d->inode;
	list_del(&d->link);
	dir->size -= BOGO_DIRENT_SIZE;
	free(d->name);
	free(d);
	return i;
}

/* A name goes away: one link less; a directory dies with its only name. */
static void drop_link(struct inode *dir, struct inode *i)
{
	if (S_ISDIR(i->mode)) {
		i->nlink = 0;
		TI(i)->parent = NULL;
		dir->nlink--;
	} else {
		i->nlink--;
	}
	i->ctime = current_time();
	iput(i);
}

/* Drop every entry below dir (unmount). */
static void tmpfs_clear_dir(struct inode *dir)
{
	list_for_each_safe(it, nx, &TI(dir)->entries)
	{
		struct inode *i = dirent_del(dir, list_entry(it, struct tmpfs_dirent, link));
		if (S_ISDIR(i->mode))
			tmpfs_clear_dir(i);
		drop_link(dir, i);
	}
}

/* --- inodes ------------------------------------------------------------------------- */

static struct inode *tmpfs_inode(struct super_block *sb, mode_t mode, struct inode *dir)
{
	struct inode *i = new_inode(sb, mode);
	struct tmpfs_inode *ti = xzalloc(sizeof(*ti));
	list_init(&ti->entries);
	ti->next_cookie = 2; /* after "." and ".." */
	ti->parent = S_ISDIR(mode) ? dir : NULL;
	i->priv = ti;
	i->ino = ++sb->next_ino;
	i->uid = current && current->proc ? current->proc->cred.fsuid : 0;
	i->gid = current && current->proc ? current->proc->cred.fsgid : 0;
	if (dir && (dir->mode & S_ISGID)) {
		i->gid = dir->gid;
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	i->mode = mode;
	i->nlink = S_ISDIR(mode) ? 2 : 1;
	i->size = S_ISDIR(mode) ? 2 * BOGO_DIRENT_SIZE : 0;
	i->blocks = 0;
	i->rdev = 0;
	i->atime = i->mtime = i->ctime = current_time();
	if (S_ISDIR(mode)) {
		i->iop = &tmpfs_dir_iops;
		i->fop = &tmpfs_dir_fops;
	} else if (S_ISLNK(mode)) {
		i->iop = &tmpfs_link_iops;
		i->fop = NULL;
	} else {
		i->iop = &tmpfs_file_iops;
		i->fop = S_ISREG(mode) ? &tmpfs_file_fops : NULL; /* others: the VFS's */
	}
	TSB(sb)->inodes++;
	return i;
}

/* A new name in dir for a new inode; *out is referenced. */
static int tmpfs_new(struct inode *dir, const char *name, mode_t mode, struct inode **out)
{
	struct tmpfs_sb *ts = TSB(dir->sb);
	if (strlen(name) > NAME_MAX_)
		return -ENAMETOOLONG;
	if (tmpfs_find(dir, name))
		return -EEXIST;
	if (ts->max_inodes && ts->inodes >= ts->max_inodes)
		return -ENOSPC;
	struct inode *i = tmpfs_inode(dir->sb, mode, dir);
	dirent_add(dir, name, i); /* takes new_inode's reference */
	igrab(i);
	touch_dir(dir);
	*out = i;
	return 0;
}

static int tmpfs_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct tmpfs_dirent *d = tmpfs_find(dir, name);
	if (!d)
		return -ENOENT;
	igrab(d->inode);
	*out = d->inode;
	return 0;
}

static int tmpfs_create(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
			struct inode **out)
{
	if (S_ISDIR(mode) || S_ISLNK(mode))
		return -EINVAL;
	if (!(mode & S_IFMT))
		mode |= S_IFREG;
	int err = tmpfs_new(dir, name, mode, out);
	if (!err && (S_ISCHR(mode) || S_ISBLK(mode)))
		(*out)->rdev = rdev;
	return err;
}

static int tmpfs_mkdir(struct inode *dir, const char *name, mode_t mode, struct inode **out)
{
	int err = tmpfs_new(dir, name, S_IFDIR | (mode & 07777), out);
	if (!err)
		dir->nlink++;
	return err;
}

static int tmpfs_symlink(struct inode *dir, const char *name, const char *target,
			 struct inode **out)
{
	int err = tmpfs_new(dir, name, S_IFLNK | 0777, out);
	if (!err) {
		TI(*out)->target = xstrdup(target);
		(*out)->size = strlen(target);
	}
	return err;
}

static int tmpfs_link(struct inode *dir, const char *name, struct inode *target)
{
	if (S_ISDIR(target->mode))
		return -EPERM;
	if (strlen(name) > NAME_MAX_)
		return -ENAMETOOLONG;
	if (tmpfs_find(dir, name))
		return -EEXIST;
	igrab(target);
	target->nlink++;
	target->ctime = current_time();
	dirent_add(dir, name, target);
	touch_dir(dir);
	return 0;
}

static int tmpfs_unlink(struct inode *dir, const char *name)
{
	struct tmpfs_dirent *d = tmpfs_find(dir, name);
	if (!d)
		return -ENOENT;
	if (S_ISDIR(d->inode->mode))
		return -EISDIR;
	drop_link(dir, dirent_del(dir, d));
	touch_dir(dir);
	return 0;
}

static int tmpfs_rmdir(struct inode *dir, const char *name)
{
	struct tmpfs_dirent *d = tmpfs_find(dir, name);
	if (!d)
		return -ENOENT;
	if (!S_ISDIR(d->inode->mode))
		return -ENOTDIR;
	if (!list_empty(&TI(d->inode)->entries))
		return -ENOTEMPTY;
	drop_link(dir, dirent_del(dir, d));
	touch_dir(dir);
	return 0;
}

/* A directory i now named in to instead of from: ".." changes. */
static void reparent(struct inode *i, struct inode *from, struct inode *to)
{
	if (!S_ISDIR(i->mode) || from == to)
		return;
	from->nlink--;
	to->nlink++;
	TI(i)->parent = to;
}

static int tmpfs_rename(struct inode *odir, const char *oname, struct inode *ndir,
			const char *nname, unsigned flags)
{
	struct tmpfs_dirent *od = tmpfs_find(odir, oname), *nd = tmpfs_find(ndir, nname);
	if (!od)
		return -ENOENT;
	if (strlen(nname) > NAME_MAX_)
		return -ENAMETOOLONG;
	struct inode *i = od->inode;
	if (flags & RENAME_EXCHANGE) {
		if (!nd)
			return -ENOENT;
		od->inode = nd->inode;
		nd->inode = i;
		reparent(i, odir, ndir);
		reparent(od->inode, ndir, odir);
		od->inode->ctime = current_time();
	} else if (nd) {
		struct inode *victim = nd->inode;
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (victim == i) /* two names of one file: nothing to do */
			return 0;
		if (S_ISDIR(victim->mode) && !S_ISDIR(i->mode))
			return -EISDIR;
		if (!S_ISDIR(victim->mode) && S_ISDIR(i->mode))
			return -ENOTDIR;
		if (S_ISDIR(victim->mode) && !list_empty(&TI(victim)->entries))
			return -ENOTEMPTY;
		nd->inode = dirent_del(odir, od); /* od's reference moves to nd */
		drop_link(ndir, victim);
		reparent(i, odir, ndir);
	} else {
		list_del(&od->link);
		odir->size -= BOGO_DIRENT_SIZE;
		free(od->name);
		od->name = xstrdup(nname);
		dirent_attach(ndir, od);
		reparent(i, odir, ndir);
	}
	i->ctime = current_time();
	touch_dir(odir);
	touch_dir(ndir);
	return 0;
}

static int tmpfs_readlink(struct inode *i, char *buf, size_t size)
{
	size_t n = MIN(size, i->size);
	memcpy(buf, TI(i)->target, n);
	return (int)n;
}

/* The file's size changes: what lies past it is dropped; growing leaves a hole. */
static void tmpfs_resize(struct inode *i, uint64_t size)
{
	pagecache_truncate(i, size);
	i->size = size;
	tmpfs_charge(i, MIN(i->blocks / 8, pages_of(size)));
}

static int tmpfs_setattr(struct inode *i, const struct iattr *a)
{
	struct timespec now = current_time();
	if (a->valid & ATTR_SIZE) {
		if (!S_ISREG(i->mode))
			return S_ISDIR(i->mode) ? -EISDIR : -EINVAL;
		if (a->size != i->size && !(a->valid & ATTR_MTIME))
			i->mtime = now;
		tmpfs_resize(i, a->size);
	}
	setattr_copy(i, a);
	if (!(a->valid & ATTR_CTIME))
		i->ctime = now;
	return 0;
}

static const struct inode_ops tmpfs_dir_iops = {
    .lookup = tmpfs_lookup,
    .create = tmpfs_create,
    .mkdir = tmpfs_mkdir,
    .symlink = tmpfs_symlink,
    .link = tmpfs_link,
    .unlink = tmpfs_unlink,
    .rmdir = tmpfs_rmdir,
    .rename = tmpfs_rename,
    .setattr = tmpfs_setattr,
};

static const struct inode_ops tmpfs_file_iops = {
    .setattr = tmpfs_setattr,
};

static const struct inode_ops tmpfs_link_iops = {
    .readlink = tmpfs_readlink,
    .setattr = tmpfs_setattr,
};

/* --- files -------------------------------------------------------------------------- */

static int tmpfs_readdir(struct file *f, struct dir_ctx *ctx)
{
	struct inode *dir = f->inode;
	struct inode *parent = TI(dir)->parent ? TI(dir)->parent : dir;
	if (ctx->pos == 0) {
		if (!ctx->emit(ctx, ".", 1, dir->ino, mode_to_dtype(S_IFDIR)))
			return 0;
		ctx->pos = 1;
	}
	if (ctx->pos == 1) {
		if (!ctx->emit(ctx, "..", 2, parent->ino, mode_to_dtype(S_IFDIR)))
			return 0;
		ctx->pos = 2;
	}
	list_for_each(it, &TI(dir)->entries)
	{
		struct tmpfs_dirent *d = list_entry(it, struct tmpfs_dirent, link);
		if ((uint64_t)ctx->pos > d->cookie)
			continue;
		if (!ctx->emit(ctx, d->name, strlen(d->name), d->inode->ino,
			       mode_to_dtype(d->inode->mode)))
			return 0;
		ctx->pos = d->cookie + 1;
	}
	return 0;
}

/* Writes are charged for the pages they add past the end of the file (a write into a
 * hole below the end is not: holes are not tracked) and cut short at the size limit. */
static ssize_t tmpfs_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	struct inode *i = f->inode;
	struct tmpfs_sb *ts = TSB(i->sb);
	uint64_t start = (f->flags & O_APPEND) ? i->size : (uint64_t)*pos;
	uint64_t base = MAX(pages_of(i->size), start / PAGE_SIZE);
	uint64_t max = tmpfs_max_pages(ts);
	if (max) {
		uint64_t room = max > ts->used_pages ? max - ts->used_pages : 0;
		uint64_t limit = (base + room) * PAGE_SIZE;
		if (start >= limit && n)
			return -ENOSPC;
		n = MIN(n, limit - start);
	}
	ssize_t r = generic_file_write(f, buf, n, pos);
	if (r > 0 && pages_of(start + r) > base)
		tmpfs_charge(i, i->blocks / 8 + pages_of(start + r) - base);
	return r;
}

static int tmpfs_fsync(struct file *f, bool datasync)
{
	return 0; /* nothing to write back to */
}

static const struct file_ops tmpfs_dir_fops = {
    .readdir = tmpfs_readdir,
    .fsync = tmpfs_fsync,
};

static const struct file_ops tmpfs_file_fops = {
    .read = generic_file_read,
    .write = tmpfs_write,
    .fsync = tmpfs_fsync,
};

/* --- superblock --------------------------------------------------------------------- */

static int tmpfs_statfs(struct super_block *sb, struct statfs *st)
{
	struct tmpfs_sb *ts = TSB(sb);
	uint64_t max = tmpfs_max_pages(ts);
	memset(st, 0, sizeof(*st));
	st->f_type = TMPFS_MAGIC;
	st->f_bsize = st->f_frsize = PAGE_SIZE;
	st->f_namelen = NAME_MAX_;
	if (max) {
		st->f_blocks = max;
		st->f_bfree = st->f_bavail = max > ts->used_pages ? max - ts->used_pages : 0;
	}
	uint64_t files = ts->max_inodes ? ts->max_inodes : max;
	if (files) {
		st->f_files = files;
		st->f_ffree = files > ts->inodes ? files - ts->inodes : 0;
	}
	return 0;
}

static void tmpfs_sb_release(struct tmpfs_sb *ts)
{
	if (ts->dead && !ts->inodes)
		free(ts);
}

static void tmpfs_evict(struct inode *i)
{
	struct tmpfs_sb *ts = TSB(i->sb);
	struct tmpfs_inode *ti = TI(i);
	if (S_ISREG(i->mode)) {
		pagecache_evict(i);
		tmpfs_charge(i, 0);
	}
	if (ti) {
		if (S_ISDIR(i->mode))
			tmpfs_clear_dir(i); /* only when torn down while still named */
		free(ti->target);
		free(ti);
		i->priv = NULL;
	}
	ts->inodes--;
	tmpfs_sb_release(ts);
}

/* Unmount: the tree goes, with the root's reference that the mount took over. Inodes
 * still open would reach sb and its private state when they go: those stay until the
 * last one (the private state) or for good (sb). */
static void tmpfs_put_super(struct super_block *sb)
{
	struct inode *root = sb->root;
	TSB(sb)->dead = true;
	sb->root = NULL;
	tmpfs_clear_dir(root);
	iput(root);
	if (list_empty(&sb->inodes))
		free(sb);
}

static int tmpfs_sync(struct super_block *sb, bool wait)
{
	return 0;
}

static int tmpfs_remount(struct super_block *sb, unsigned long flags)
{
	return 0;
}

static const struct super_ops tmpfs_sops = {
    .statfs = tmpfs_statfs,
    .sync = tmpfs_sync,
    .evict_inode = tmpfs_evict,
    .put_super = tmpfs_put_super,
    .remount = tmpfs_remount,
};

/* A number with an optional k/m/g/t suffix (as Linux memparse). */
static int parse_mem(const char *v, uint64_t *out, unsigned *pct)
{
	char *end;
	uint64_t n = strtoull(v, &end, 0);
	if (end == v)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		n <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		n <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		n <<= 30;
		end++;
		break;
	case 't':
	case 'T':
		n <<= 40;
		end++;
		break;
	case '%':
		if (!pct || n == 0 || n > 100)
			return -EINVAL;
		*pct = (unsigned)n;
		n = 0;
		end++;
		break;
	}
	if (*end)
		return -EINVAL;
	*out = n;
	return 0;
}

struct tmpfs_opts {
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

/* Options that are not ours (rw, relatime, ...) are ignored. */
static int tmpfs_parse(struct tmpfs_sb *ts, struct tmpfs_opts *o, const char *data)
{
	char *copy = xstrdup(data ? data : ""), *save, *end;
	int err = 0;
	for (char *opt = strtok_r(copy, ",", &save); opt && !err;
	     opt = strtok_r(NULL, ",", &save)) {
		char *v = strchr(opt, '=');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(opt, "size")) {
			ts->size_pct = 0;
			err = parse_mem(v, &ts->size, &ts->size_pct);
		} else if (!strcmp(opt, "nr_inodes")) {
			err = parse_mem(v, &ts->max_inodes, NULL);
		} else if (!strcmp(opt, "mode")) {
			o->mode = strtoul(v, &end, 8) & 07777;
			err = *end || end == v ? -EINVAL : 0;
		} else if (!strcmp(opt, "uid")) {
			o->uid = strtoul(v, &end, 10);
			err = *end || end == v ? -EINVAL : 0;
		} else if (!strcmp(opt, "gid")) {
			o->gid = strtoul(v, &end, 10);
			err = *end || end == v ? -EINVAL : 0;
		}
	}
	free(copy);
	return err;
}

int tmpfs_fill_super(const struct fs_type *type, const char *source, unsigned long flags,
		     const char *data, mode_t root_mode, struct super_block **out)
{
	struct tmpfs_sb *ts = xzalloc(sizeof(*ts));
	struct tmpfs_opts o = {.mode = root_mode};
	ts->size_pct = 50; /* Linux's default: half of memory */
	int err = tmpfs_parse(ts, &o, data);
	if (err) {
		free(ts);
		return err;
	}
	struct super_block *sb = xzalloc(sizeof(*sb));
	sb->type = type;
	sb->ops = &tmpfs_sops;
	sb->dev = pseudo_anon_dev();
	sb->flags = flags;
	sb->magic = TMPFS_MAGIC;
	snprintf(sb->source, sizeof(sb->source), "%s", source ? source : type->name);
	sb->priv = ts;
	list_init(&sb->inodes);
	sb->root = tmpfs_inode(sb, S_IFDIR | o.mode, NULL);
	sb->root->uid = o.uid;
	sb->root->gid = o.gid;
	*out = sb;
	return 0;
}

static int tmpfs_mount(const struct fs_type *type, const char *source, unsigned long flags,
		       const char *data, struct super_block **out)
{
	return tmpfs_fill_super(type, source, flags, data, 01777, out);
}

static struct fs_type tmpfs_type = {
    .name = "tmpfs",
    .mount = tmpfs_mount,
};

void tmpfs_register(void)
{
	register_filesystem(&tmpfs_type);
}
