/* The VFS objects: the dentry cache, open files, and credential checks. The inode cache
 * is in inode.c, the registries of filesystem types and character devices in registry.c. */
#include "internal.h"

void vfs_init(void)
{
	/* Everything is set up statically; the root comes with vfs_mount_root(). */
}

/* --- credentials -------------------------------------------------------------------- */

static const struct creds *cur_cred(void)
{
	return current && current->proc ? &current->proc->cred : NULL;
}

uid_t cur_fsuid(void)
{
	const struct creds *c = cur_cred();
	return c ? c->fsuid : 0;
}

bool cur_is_root(void)
{
	return cur_fsuid() == 0;
}

bool cur_is_admin(void)
{
	const struct creds *c = cur_cred();
	return !c || c->euid == 0;
}

bool cur_in_group(gid_t gid)
{
	const struct creds *c = cur_cred();
	if (!c || c->fsgid == gid)
		return true;
	for (int k = 0; k < c->ngroups && k < (int)ARRAY_SIZE(c->groups); k++)
		if (c->groups[k] == gid)
			return true;
	return false;
}

uint64_t cur_rlimit(int res)
{
	if (!current || !current->proc)
		return RLIM_INFINITY;
	return current->proc->rlim[res].rlim_cur;
}

int inode_permission(struct inode *i, int mask)
{
	mode_t m = i->mode;
	if (cur_is_root()) {
		/* root reads and writes anything, but executes only what someone may */
		if (!(mask & MAY_EXEC) || S_ISDIR(m) || (m & 0111))
			return 0;
		return -EACCES;
	}
	if (cur_fsuid() == i->uid)
		m >>= 6;
	else if (cur_in_group(i->gid))
		m >>= 3;
	return (m & mask & 7) == (unsigned)(mask & 7) ? 0 : -EACCES;
}

/* --- dentry cache ------------------------------------------------------------------- */

/* Unused dentries (no references, hence no children) of filesystems that hold names
 * (not procfs-like trees whose names come and go by themselves) stay cached on an LRU
 * list up to this many. */
#define DCACHE_UNUSED_MAX 8192
#define DHASH_SIZE 4096

struct dcache_entry {
	struct dentry d;
	struct list hash, lru;
	bool hashed, on_lru;
};

static struct list dhash[DHASH_SIZE];
static struct list dlru = LIST_INIT(dlru);
static int dlru_count;
static bool dpruning;

#define DCE(dp) container_of(dp, struct dcache_entry, d)

static struct list *dbucket(const struct dentry *parent, const char *name)
{
	uint64_t h = (uintptr_t)parent * 0x9e3779b97f4a7c15ULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	struct list *b = &dhash[(h >> 20) % DHASH_SIZE];
	if (!b->next)
		list_init(b);
	return b;
}

static void d_unhash(struct dentry *d)
{
	struct dcache_entry *e = DCE(d);
	if (e->hashed) {
		list_del(&e->hash);
		list_del(&d->sibling);
		e->hashed = false;
	}
}

static void d_hash(struct dentry *d)
{
	struct dcache_entry *e = DCE(d);
	list_add(&e->hash, dbucket(d->parent, d->name));
	list_add_tail(&d->sibling, &d->parent->children);
	e->hashed = true;
}

static void lru_del(struct dentry *d)
{
	struct dcache_entry *e = DCE(d);
	if (e->on_lru) {
		list_del(&e->lru);
		e->on_lru = false;
		dlru_count--;
	}
}

static struct dentry *d_new(const char *name, struct inode *inode)
{
	struct dcache_entry *e = xzalloc(sizeof(*e));
	struct dentry *d = &e->d;
	d->name = xstrdup(name);
	d->inode = inode;
	d->refcount = 1;
	list_init(&d->children);
	list_init(&d->sibling);
	list_init(&e->hash);
	list_init(&e->lru);
	return d;
}

struct dentry *d_make_root(struct inode *root)
{
	struct dentry *d = d_new("/", root);
	igrab(root);
	d->parent = d;
	return d;
}

struct dentry *d_alloc(struct dentry *parent, const char *name, struct inode *inode)
{
	struct dentry *d = d_new(name, inode);
	d->parent = dget(parent);
	d_hash(d);
	return d;
}

struct dentry *d_lookup(struct dentry *parent, const char *name)
{
	struct list *b = dbucket(parent, name);
	list_for_each(it, b)
	{
		struct dentry *d = &list_entry(it, struct dcache_entry, hash)->d;
		if (d->parent == parent && !strcmp(d->name, name))
			return dget(d);
	}
	return NULL;
}

struct dentry *dget(struct dentry *d)
{
	if (d->refcount++ == 0)
		lru_del(d);
	return d;
}

/* Free an unreferenced dentry; returns its parent, whose reference the caller drops. */
static struct dentry *d_kill(struct dentry *d)
{
	struct dentry *parent = d->parent == d ? NULL : d->parent;
	lru_del(d);
	d_unhash(d);
	iput(d->inode);
	free(d->name);
	free(DCE(d));
	return parent;
}

static void d_prune_lru(void)
{
	if (dpruning)
		return;
	dpruning = true;
	while (dlru_count > DCACHE_UNUSED_MAX) {
		struct dcache_entry *e = list_entry(dlru.next, struct dcache_entry, lru);
		dput(d_kill(&e->d));
	}
	dpruning = false;
}

static bool d_keep(const struct dentry *d)
{
	const struct inode *dir = d->parent->inode;
	return !d->deleted && DCE(d)->hashed && dir && dir->iop &&
	       (dir->iop->create || dir->iop->mkdir);
}

void dput(struct dentry *d)
{
	while (d && --d->refcount == 0) {
		if (d->parent != d && d_keep(d)) {
			struct dcache_entry *e = DCE(d);
			list_add_tail(&e->lru, &dlru);
			e->on_lru = true;
			dlru_count++;
			d_prune_lru();
			return;
		}
		d = d_kill(d);
	}
}

void d_delete(struct dentry *d)
{
	d->deleted = true;
	d_unhash(d);
}

void d_move(struct dentry *d, struct dentry *newparent, const char *newname)
{
	struct dentry *old = d->parent;
	d_unhash(d);
	free(d->name);
	d->name = xstrdup(newname);
	d->parent = dget(newparent);
	d->deleted = false;
	d_hash(d);
	dput(old);
}

void d_prune_sb(struct super_block *sb)
{
	bool was = dpruning;
	dpruning = true; /* no nested pruning: it could free the next entry of this walk */
	list_for_each_safe(it, nx, &dlru)
	{
		struct dentry *d = &list_entry(it, struct dcache_entry, lru)->d;
		if (d->inode && d->inode->sb == sb)
			dput(d_kill(d)); /* a parent that becomes unused joins the tail */
	}
	dpruning = was;
}

/* --- open files --------------------------------------------------------------------- */

struct file *file_alloc(struct inode *inode, const struct file_ops *fop, unsigned flags)
{
	struct file *f = xzalloc(sizeof(*f));
	f->refcount = 1;
	f->flags = flags;
	f->inode = inode;
	if (inode)
		igrab(inode);
	f->fop = fop;
	return f;
}

struct file *fget_ref(struct file *f)
{
	f->refcount++;
	return f;
}

void fput(struct file *f)
{
	if (!f || --f->refcount > 0)
		return;
	eventpoll_release(f);
	if (f->fop && f->fop->release)
		f->fop->release(f);
	iput(f->inode);
	if (f->path.dentry)
		path_put(&f->path); /* the last mount reference may end the filesystem */
	free(f);
}

/* Anonymous inodes live on a superblock of their own (st_dev, inode numbers). */
struct super_block anon_sb = {.dev = 0x0d, .inodes = LIST_INIT(anon_sb.inodes)};

struct file *anon_file_new(const char *name, mode_t mode, const struct file_ops *fop, void *priv,
			   unsigned flags)
{
	struct inode *i = new_inode(&anon_sb, mode ? mode : 0600);
	i->priv = (void *)name;
	i->fop = fop;
	struct file *f = file_alloc(i, fop, flags);
	iput(i);
	f->priv = priv;
	return f;
}

void poll_wait(struct poll_table *pt, struct waitq *wq)
{
	if (pt && wq && pt->n < (int)ARRAY_SIZE(pt->wq))
		pt->wq[pt->n++] = wq;
	else if (pt && wq)
		pt->n = ARRAY_SIZE(pt->wq) + 1; /* overflow: the poller falls back to ticks */
}
