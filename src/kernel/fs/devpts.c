/* devpts: the directory of pty slaves, /dev/pts/N, plus /dev/pts/ptmx. The ptys
 * themselves live in drivers/pty.c; every mount shows the same ones. Opening a node
 * goes through the character device numbers (136,N) and (5,2). */
#include "vfs.h"
#include "pseudofs.h"
#include "../drivers/tty.h"
#include <dirent.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#define DEVPTS_SUPER_MAGIC 0x1cd1
#define INO_ROOT 1
#define INO_PTMX 2
#define INO_PTY0 3 /* pty N is inode N + 3 */

struct devpts_opts {
	bool setgid;
	gid_t gid;
	mode_t mode, ptmxmode;
	struct list link; /* in mounted */
	struct super_block *sb;
};

static struct list mounted = LIST_INIT(mounted);

/* Options as Linux takes them: gid=, mode=, ptmxmode= (octal); the rest (uid=,
 * newinstance, max=) is accepted and ignored. */
static void parse_opts(struct devpts_opts *o, const char *data)
{
	while (data && *data) {
		size_t len = strcspn(data, ",");

		if (!strncmp(data, "gid=", 4)) {
			o->gid = (gid_t)strtoul(data + 4, NULL, 10);
			o->setgid = true;
		} else if (!strncmp(data, "mode=", 5)) {
			o->mode = (mode_t)strtoul(data + 5, NULL, 8) & 07777;
		} else if (!strncmp(data, "ptmxmode=", 9)) {
			o->ptmxmode = (mode_t)strtoul(data + 9, NULL, 8) & 07777;
		}
		data += len + (data[len] == ',');
	}
}

/* The node numbered ino, referenced, with these attributes; a new one unless only a
 * live one is wanted. */
static struct inode *node(struct super_block *sb, uint64_t ino, mode_t mode, dev_t rdev, uid_t uid,
			  gid_t gid, struct timespec ts, bool create)
{
	struct inode *i = iget(sb, ino);

	if (!i && !create)
		return NULL;
	if (!i) {
		i = new_inode(sb, mode);
		i->ino = ino;
	}
	i->mode = mode;
	i->rdev = rdev;
	i->uid = uid;
	i->gid = gid;
	i->nlink = 1;
	i->atime = i->mtime = i->ctime = ts;
	return i;
}

static struct inode *pty_node(struct super_block *sb, unsigned idx, const struct pty_info *info,
			      bool create)
{
	struct devpts_opts *o = sb->priv;

	return node(sb, INO_PTY0 + idx, S_IFCHR | o->mode, makedev(PTY_SLAVE_MAJOR, idx), info->uid,
		    o->setgid ? o->gid : info->gid, info->ctime, create);
}

/* The VFS keeps names it has looked up: a number reused by a new pty must not show the
 * old one's owner. */
void devpts_refresh(unsigned idx)
{
	struct pty_info info;

	if (!pty_info(idx, &info))
		return;
	list_for_each(it, &mounted)
	    iput(pty_node(list_entry(it, struct devpts_opts, link)->sb, idx, &info, false));
}

static int devpts_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct devpts_opts *o = dir->sb->priv;
	struct pty_info info;
	unsigned long idx;
	char *end;

	if (!strcmp(name, "ptmx")) {
		*out = node(dir->sb, INO_PTMX, S_IFCHR | o->ptmxmode, makedev(5, 2), 0, 0,
			    dir->mtime, true);
		return 0;
	}
	if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1]))
		return -ENOENT;
	idx = strtoul(name, &end, 10);
	if (*end || idx >= PTY_MAX || !pty_info((unsigned)idx, &info))
		return -ENOENT;
	*out = pty_node(dir->sb, (unsigned)idx, &info, true);
	return 0;
}

/* Cookies: 0 ".", 1 "..", 2 "ptmx", 3 + N pty N. */
static int devpts_readdir(struct file *f, struct dir_ctx *ctx)
{
	char name[16];

	if (ctx->pos == 0) {
		if (!ctx->emit(ctx, ".", 1, INO_ROOT, DT_DIR))
			return 0;
		ctx->pos = 1;
	}
	if (ctx->pos == 1) {
		if (!ctx->emit(ctx, "..", 2, INO_ROOT, DT_DIR))
			return 0;
		ctx->pos = 2;
	}
	if (ctx->pos == 2) {
		if (!ctx->emit(ctx, "ptmx", 4, INO_PTMX, DT_CHR))
			return 0;
		ctx->pos = 3;
	}
	for (loff_t idx = ctx->pos - INO_PTY0; idx < PTY_MAX; idx++) {
		if (!pty_info((unsigned)idx, NULL))
			continue;
		int len = snprintf(name, sizeof(name), "%u", (unsigned)idx);
		if (!ctx->emit(ctx, name, (size_t)len, INO_PTY0 + (uint64_t)idx, DT_CHR)) {
			ctx->pos = INO_PTY0 + idx;
			return 0;
		}
	}
	ctx->pos = INO_PTY0 + PTY_MAX;
	return 0;
}

static int devpts_statfs(struct super_block *sb, struct statfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_type = DEVPTS_SUPER_MAGIC;
	st->f_bsize = 4096;
	st->f_namelen = 255;
	return 0;
}

static void devpts_put_super(struct super_block *sb)
{
	struct devpts_opts *o = sb->priv;

	list_del(&o->link);
	free(o);
	iput(sb->root); /* the reference the mount took over from new_inode() */
	sb->root = NULL;
	/* Inodes still referenced (open files) would reach sb when they go: keep it. */
	if (list_empty(&sb->inodes))
		free(sb);
}

static const struct inode_ops devpts_dir_iops = {.lookup = devpts_lookup};
static const struct file_ops devpts_dir_fops = {.readdir = devpts_readdir};
static const struct super_ops devpts_sops = {
    .statfs = devpts_statfs,
    .put_super = devpts_put_super,
};

static int devpts_mount(const struct fs_type *type, const char *source, unsigned long flags,
			const char *data, struct super_block **out)
{
	struct super_block *sb = xzalloc(sizeof(*sb));
	struct devpts_opts *o = xzalloc(sizeof(*o));
	struct inode *root;

	o->mode = 0600;
	o->ptmxmode = 0;
	parse_opts(o, data);
	sb->type = type;
	sb->ops = &devpts_sops;
	sb->flags = flags;
	sb->magic = DEVPTS_SUPER_MAGIC;
	snprintf(sb->source, sizeof(sb->source), "%s", source ? source : "devpts");
	sb->dev = pseudo_anon_dev();
	sb->priv = o;
	o->sb = sb;
	list_add_tail(&o->link, &mounted);
	list_init(&sb->inodes);
	sb->next_ino = INO_PTY0 + PTY_MAX;
	root = new_inode(sb, S_IFDIR | 0755);
	root->ino = INO_ROOT;
	root->nlink = 2;
	root->uid = 0;
	root->gid = 0;
	root->iop = &devpts_dir_iops;
	root->fop = &devpts_dir_fops;
	root->atime = root->mtime = root->ctime = current_time();
	sb->root = root;
	*out = sb;
	return 0;
}

static struct fs_type devpts_fs = {.name = "devpts", .mount = devpts_mount};

void devpts_init(void)
{
	register_filesystem(&devpts_fs);
}
