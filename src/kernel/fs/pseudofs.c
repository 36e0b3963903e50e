/* Helpers shared by the synthetic filesystems: text buffers, and trees of pnodes whose
 * inodes are built on demand and whose files are generated whole at open. */
#include "pseudofs.h"
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* --- text buffers ------------------------------------------------------------------- */

static void seqbuf_reserve(struct seqbuf *s, size_t n)
{
	if (s->len + n + 1 <= s->cap)
		return;
	size_t cap = s->cap ? s->cap : 1024;
	while (cap < s->len + n + 1)
		cap *= 2;
	char *p = realloc(s->buf, cap);
	if (!p)
		panic("out of host memory");
	s->buf = p;
	s->cap = cap;
}

void seqbuf_write(struct seqbuf *s, const void *p, size_t n)
{
	seqbuf_reserve(s, n);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

void seqbuf_puts(struct seqbuf *s, const char *str)
{
	seqbuf_write(s, str, strlen(str));
}

void seqbuf_printf(struct seqbuf *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	seqbuf_reserve(s, n);
	va_start(ap, fmt);
	vsnprintf(s->buf + s->len, n + 1, fmt, ap);
	va_end(ap);
	s->len += n;
}

void seqbuf_escape(struct seqbuf *s, const char *str)
{
	for (; *str; str++) {
		if (strchr(" \t\n\\", *str))
			seqbuf_printf(s, "\\%03o", (unsigned char)*str);
		else
			seqbuf_write(s, str, 1);
	}
}

void seqbuf_pad(struct seqbuf *s, size_t col)
{
	size_t start = s->len;
	while (start && s->buf[start - 1] != '\n')
		start--;
	while (s->len - start < col)
		seqbuf_write(s, " ", 1);
}

void seqbuf_free(struct seqbuf *s)
{
	free(s->buf);
	*s = (struct seqbuf){0};
}

/* --- misc --------------------------------------------------------------------------- */

dev_t pseudo_anon_dev(void)
{
	/* Minors from 16 on, so that early users of 0:N elsewhere are not met. */
	static unsigned next = 16;
	return makedev(0, next++);
}

int pseudo_ncpus(void)
{
	static int n;
	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (int)c : 1;
	}
	return n;
}

/* --- inodes ------------------------------------------------------------------------- */

static const struct inode_ops pseudo_iops;
static const struct file_ops pseudo_dir_fops, pseudo_file_fops;

static int pvalid(struct inode *i)
{
	const struct pseudo_fs *fs = i->sb->priv;
	return fs->revalidate ? fs->revalidate(i) : 0;
}

/* Inode numbers are a hash of (node, arguments), so that a name keeps its number while
 * its inode is rebuilt; 1 is the root's. */
static uint64_t pino(const struct pnode *n, const long *arg)
{
	uint64_t h = (uintptr_t)n;
	for (int k = 0; k < PNODE_ARGS; k++) {
		h = (h ^ (uint64_t)arg[k]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return 2 + h % 0xfffffff0u;
}

static struct inode *pinode_new(struct super_block *sb, const struct pnode *n, const long *arg,
				uint64_t ino)
{
	struct inode *i = new_inode(sb, n->mode);
	struct pinode *pi = xzalloc(sizeof(*pi));
	pi->node = n;
	memcpy(pi->arg, arg, sizeof(pi->arg));
	i->priv = pi;
	i->ino = ino;
	i->mode = n->mode;
	i->nlink = S_ISDIR(n->mode) ? 2 : 1;
	i->atime = i->mtime = i->ctime = current_time();
	i->iop = &pseudo_iops;
	i->fop = S_ISDIR(n->mode) ? &pseudo_dir_fops : S_ISREG(n->mode) ? &pseudo_file_fops : NULL;
	const struct pseudo_fs *fs = sb->priv;
	if (fs->init_inode)
		fs->init_inode(i);
	return i;
}

static struct inode *pinode_get(struct super_block *sb, const struct pnode *n, const long *arg)
{
	uint64_t ino = pino(n, arg);
	struct inode *i = iget(sb, ino);
	if (i) {
		const struct pinode *pi = i->priv;
		if (pi->node == n && !memcmp(pi->arg, arg, sizeof(pi->arg)))
			return i;
		iput(i); /* a hash collision: the other inode keeps its number */
	}
	return pinode_new(sb, n, arg, ino);
}

static void dyn_preset(struct inode *dir, struct pdyn_ent *e)
{
	e->name[0] = '\0';
	e->node = NULL;
	memcpy(e->arg, PINODE(dir)->arg, sizeof(e->arg));
}

static bool dyn_find(struct inode *dir, const char *name, struct pdyn_ent *e)
{
	const struct pnode *n = PINODE(dir)->node;
	dyn_preset(dir, e);
	if (n->find)
		return n->find(dir, name, e);
	if (!n->next)
		return false;
	for (uint64_t cur = 0; n->next(dir, &cur, e); cur++) {
		if (!strcmp(e->name, name))
			return true;
		dyn_preset(dir, e);
	}
	return false;
}

static int pseudo_lookup(struct inode *dir, const char *name, struct inode **out)
{
	const struct pinode *pd = PINODE(dir);
	int err = pvalid(dir);
	if (err)
		return err;
	for (const struct pnode *const *c = pd->node->children; c && *c; c++) {
		if (!strcmp((*c)->name, name)) {
			*out = pinode_get(dir->sb, *c, pd->arg);
			return 0;
		}
	}
	struct pdyn_ent e;
	if (!dyn_find(dir, name, &e))
		return -ENOENT;
	*out = pinode_get(dir->sb, e.node, e.arg);
	return 0;
}

static int pseudo_readlink(struct inode *i, char *buf, size_t size)
{
	struct seqbuf s = {0};
	int err = pvalid(i);
	if (!err)
		err = PINODE(i)->node->link(&s, i);
	if (!err) {
		err = (int)MIN(s.len, size);
		if (err)
			memcpy(buf, s.buf, err);
	}
	seqbuf_free(&s);
	return err;
}

/* Owners and modes are fixed; a size change (O_TRUNC before writing a sysctl) is
 * accepted and ignored, as Linux does. */
static int pseudo_setattr(struct inode *i, const struct iattr *attr)
{
	return attr->valid & (ATTR_MODE | ATTR_UID | ATTR_GID) ? -EPERM : 0;
}

static const struct inode_ops pseudo_iops = {
    .lookup = pseudo_lookup,
    .readlink = pseudo_readlink,
    .setattr = pseudo_setattr,
};

/* --- directories -------------------------------------------------------------------- */

/* Positions: 0 ".", 1 "..", then the fixed children, then dynamic cursor values. */
static int pseudo_readdir(struct file *f, struct dir_ctx *ctx)
{
	struct inode *dir = f->inode;
	const struct pinode *pd = PINODE(dir);
	const struct pnode *n = pd->node;
	int err = pvalid(dir);
	if (err)
		return err;
	if (ctx->pos == 0) {
		if (!ctx->emit(ctx, ".", 1, dir->ino, mode_to_dtype(S_IFDIR)))
			return 0;
		ctx->pos = 1;
	}
	if (ctx->pos == 1) {
		if (!ctx->emit(ctx, "..", 2, dir->ino, mode_to_dtype(S_IFDIR)))
			return 0;
		ctx->pos = 2;
	}
	loff_t nfixed = 0;
	while (n->children && n->children[nfixed])
		nfixed++;
	for (; ctx->pos < 2 + nfixed; ctx->pos++) {
		const struct pnode *c = n->children[ctx->pos - 2];
		if (!ctx->emit(ctx, c->name, strlen(c->name), pino(c, pd->arg),
			       mode_to_dtype(c->mode)))
			return 0;
	}
	if (!n->next)
		return 0;
	struct pdyn_ent e;
	for (uint64_t cur = ctx->pos - 2 - nfixed;; cur++) {
		dyn_preset(dir, &e);
		if (!n->next(dir, &cur, &e))
			break;
		if (!ctx->emit(ctx, e.name, strlen(e.name), pino(e.node, e.arg),
			       mode_to_dtype(e.node->mode)))
			return 0;
		ctx->pos = 2 + nfixed + cur + 1;
	}
	return 0;
}

static const struct file_ops pseudo_dir_fops = {
    .readdir = pseudo_readdir,
};

/* --- generated files ---------------------------------------------------------------- */

struct pfile {
	struct seqbuf s;
	bool fresh; /* generated and not yet read from the start */
};

static int pfile_fill(struct inode *i, struct pfile *pf)
{
	const struct pnode *n = PINODE(i)->node;
	int err = pvalid(i);
	pf->s.len = 0;
	if (!err && n->show)
		err = n->show(&pf->s, i);
	else if (!err && n->text)
		seqbuf_puts(&pf->s, n->text);
	pf->fresh = true;
	return err;
}

static int pfile_open(struct inode *i, struct file *f)
{
	unsigned acc = f->flags & O_ACCMODE;
	if (acc != O_RDONLY && !PINODE(i)->node->store)
		return -EACCES;
	struct pfile *pf = xzalloc(sizeof(*pf));
	int err = acc != O_WRONLY ? pfile_fill(i, pf) : pvalid(i);
	if (err) {
		seqbuf_free(&pf->s);
		free(pf);
		return err;
	}
	f->priv = pf;
	return 0;
}

/* Content is a snapshot taken at open; reading again from offset 0 (after lseek or
 * with pread) takes a new one, as seq_file does. */
static ssize_t pfile_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	struct pfile *pf = f->priv;
	if (*pos == 0 && !pf->fresh) {
		int err = pfile_fill(f->inode, pf);
		if (err)
			return err;
	}
	pf->fresh = false;
	if (*pos < 0 || (size_t)*pos >= pf->s.len)
		return 0;
	size_t k = MIN(n, pf->s.len - (size_t)*pos);
	memcpy(buf, pf->s.buf + *pos, k);
	*pos += k;
	return k;
}

static ssize_t pfile_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	int err = pvalid(f->inode);
	if (!err)
		err = PINODE(f->inode)->node->store(f->inode, buf, n);
	if (err)
		return err;
	*pos += n;
	return n;
}

static void pfile_release(struct file *f)
{
	struct pfile *pf = f->priv;
	if (pf) {
		seqbuf_free(&pf->s);
		free(pf);
	}
	f->priv = NULL;
}

static const struct file_ops pseudo_file_fops = {
    .open = pfile_open,
    .read = pfile_read,
    .write = pfile_write,
    .release = pfile_release,
};

/* --- superblocks -------------------------------------------------------------------- */

static int pseudo_statfs(struct super_block *sb, struct statfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_type = sb->magic;
	st->f_bsize = st->f_frsize = PAGE_SIZE;
	st->f_namelen = 255;
	return 0;
}

static void pseudo_evict(struct inode *i)
{
	free(i->priv);
	i->priv = NULL;
}

/* Unmount: drop the root's reference that the mount took over; an inode still open
 * would reach sb when it goes, so sb stays then. */
static void pseudo_put_super(struct super_block *sb)
{
	iput(sb->root);
	sb->root = NULL;
	if (list_empty(&sb->inodes))
		free(sb);
}

static const struct super_ops pseudo_sops = {
    .statfs = pseudo_statfs,
    .evict_inode = pseudo_evict,
    .put_super = pseudo_put_super,
};

int pseudo_mount(const struct pseudo_fs *fs, const struct fs_type *type, const char *source,
		 unsigned long flags, struct super_block **out)
{
	static const long noargs[PNODE_ARGS];
	struct super_block *sb = xzalloc(sizeof(*sb));
	sb->type = type;
	sb->ops = &pseudo_sops;
	sb->dev = pseudo_anon_dev();
	sb->flags = flags;
	sb->magic = fs->magic;
	snprintf(sb->source, sizeof(sb->source), "%s", source ? source : type->name);
	sb->priv = (void *)fs;
	list_init(&sb->inodes);
	sb->root = pinode_new(sb, fs->root, noargs, 1);
	*out = sb;
	return 0;
}
