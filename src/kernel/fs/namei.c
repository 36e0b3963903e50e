/* The path walk: one walker for every caller. A path is walked component by component
 * from the root, the cwd or a directory fd; symlinks met on the way are walked
 * recursively (at most MAXSYMLINKS in one lookup), ".." never climbs above the process
 * root and crosses mount points upwards, and a name with a mount on it leads into the
 * most recent mount's root. */
#include "internal.h"

#define MAXSYMLINKS 40

int (*vfs_magic_link)(struct inode *link, struct path *out);

struct nameidata {
	struct path path; /* where the walk is (referenced) */
	struct path root; /* the process root (referenced) */
	int links;	  /* symlinks followed so far */
};

const struct path *cur_root(void)
{
	if (current && current->fs && current->fs->root.dentry)
		return &current->fs->root;
	return init_root();
}

const struct path *cur_cwd(void)
{
	if (current && current->fs && current->fs->cwd.dentry)
		return &current->fs->cwd;
	return init_root();
}

/* Move the walk to (m, d), taking references. */
static void nd_set(struct nameidata *nd, struct mount *m, struct dentry *d)
{
	struct path old = nd->path;
	nd->path = (struct path){m, d};
	path_get(&nd->path);
	path_put(&old);
}

void follow_mounts(struct path *p)
{
	while (p->dentry->mounted) {
		struct mount *m = lookup_mnt(p->mnt, p->dentry);
		if (!m)
			break;
		struct path old = *p;
		*p = (struct path){m, m->root};
		path_get(p);
		path_put(&old);
	}
}

static void follow_dotdot(struct nameidata *nd)
{
	for (;;) {
		if (nd->path.dentry == nd->root.dentry && nd->path.mnt == nd->root.mnt)
			return;
		struct mount *m = nd->path.mnt;
		if (nd->path.dentry != m->root)
			break;
		if (m->parent == m)
			return; /* the top of the tree */
		nd_set(nd, m->parent, m->mountpoint);
	}
	nd_set(nd, nd->path.mnt, nd->path.dentry->parent);
	follow_mounts(&nd->path);
}

int lookup_child(const struct path *dir, const char *name, struct dentry **out)
{
	struct inode *di = dir->dentry->inode;
	if (!S_ISDIR(di->mode))
		return -ENOTDIR;
	int err = inode_permission(di, MAY_EXEC);
	if (err)
		return err;
	if (dir->dentry->deleted)
		return -ENOENT;
	if ((*out = d_lookup(dir->dentry, name)))
		return 0;
	if (!di->iop || !di->iop->lookup)
		return -ENOENT;
	struct inode *i;
	err = di->iop->lookup(di, name, &i);
	if (err)
		return err;
	*out = d_alloc(dir->dentry, name, i);
	return 0;
}

static int read_link(struct dentry *d, char **out)
{
	struct inode *i = d->inode;
	if (!i->iop || !i->iop->readlink)
		return -EINVAL;
	char *buf = xmalloc(PATH_MAX);
	int n = i->iop->readlink(i, buf, PATH_MAX - 1);
	if (n <= 0) {
		free(buf);
		return n ? n : -ENOENT;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static int walk_parent(struct nameidata *nd, const char *name, struct lookup_last *l);
static int walk_last(struct nameidata *nd, struct lookup_last *l, bool follow);

/* Walk the body of the symlink d (found in nd->path) up to its last component. */
static int link_parent(struct nameidata *nd, struct dentry *d, struct lookup_last *l)
{
	if (++nd->links > MAXSYMLINKS)
		return -ELOOP;
	struct path target;
	if (vfs_magic_link && !vfs_magic_link(d->inode, &target)) {
		path_put(&nd->path);
		nd->path = target;
		l->type = LAST_BIND;
		l->name[0] = '\0';
		return 0;
	}
	char *body;
	int err = read_link(d, &body);
	if (err)
		return err;
	bool slash = l->slash;
	err = walk_parent(nd, body, l);
	l->slash |= slash; /* "link/" must still end at a directory */
	free(body);
	return err;
}

/* One component that is not the last: it must lead to a directory. l is scratch. */
static int walk_step(struct nameidata *nd, struct lookup_last *l)
{
	if (l->type == LAST_DOT || l->type == LAST_DOTDOT) {
		if (!S_ISDIR(nd->path.dentry->inode->mode))
			return -ENOTDIR;
		if (l->type == LAST_DOTDOT)
			follow_dotdot(nd);
		return 0;
	}
	struct dentry *d;
	int err = lookup_child(&nd->path, l->name, &d);
	if (err)
		return err;
	if (S_ISLNK(d->inode->mode)) {
		err = link_parent(nd, d, l);
		if (!err)
			err = walk_last(nd, l, true);
		dput(d);
		return err;
	}
	struct path old = nd->path;
	nd->path.dentry = d; /* the mount reference carries over */
	dput(old.dentry);
	follow_mounts(&nd->path);
	return 0;
}

static int classify(const char *name)
{
	if (name[0] == '.' && !name[1])
		return LAST_DOT;
	if (name[0] == '.' && name[1] == '.' && !name[2])
		return LAST_DOTDOT;
	return LAST_NORM;
}

/* Walk every component but the last, which goes into l. */
static int walk_parent(struct nameidata *nd, const char *name, struct lookup_last *l)
{
	if (*name == '/') {
		nd_set(nd, nd->root.mnt, nd->root.dentry);
		while (*name == '/')
			name++;
	}
	l->type = LAST_ROOT;
	l->slash = false;
	l->name[0] = '\0';
	while (*name) {
		const char *end = strchrnul(name, '/');
		size_t len = end - name;
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(l->name, name, len);
		l->name[len] = '\0';
		l->type = classify(l->name);
		while (*end == '/')
			end++;
		if (!*end) {
			l->slash = end > name + len;
			return 0;
		}
		int err = walk_step(nd, l);
		if (err)
			return err;
		name = end;
	}
	return 0;
}

/* Resolve the last component into nd->path, following symlinks if asked (or if the
 * name ends with a slash). */
static int walk_last(struct nameidata *nd, struct lookup_last *l, bool follow)
{
	for (;;) {
		if (l->type == LAST_BIND)
			break;
		if (l->type != LAST_NORM) {
			if (!S_ISDIR(nd->path.dentry->inode->mode))
				return -ENOTDIR;
			if (l->type == LAST_DOTDOT)
				follow_dotdot(nd);
			break;
		}
		struct dentry *d;
		int err = lookup_child(&nd->path, l->name, &d);
		if (err)
			return err;
		if (S_ISLNK(d->inode->mode) && (follow || l->slash)) {
			err = link_parent(nd, d, l);
			dput(d);
			if (err)
				return err;
			continue;
		}
		struct path old = nd->path;
		nd->path.dentry = d;
		dput(old.dentry);
		follow_mounts(&nd->path);
		break;
	}
	if (l->slash && !S_ISDIR(nd->path.dentry->inode->mode))
		return -ENOTDIR;
	return 0;
}

static int nd_init(struct nameidata *nd, int dfd, const char *name)
{
	const struct path *root = cur_root();
	if (!root->dentry)
		return -ENOENT;
	nd->links = 0;
	nd->root = *root;
	path_get(&nd->root);
	if (name[0] == '/' || dfd == AT_FDCWD) {
		nd->path = name[0] == '/' ? *root : *cur_cwd();
		path_get(&nd->path);
		return 0;
	}
	struct file *f;
	int err = fget_raw(dfd, &f);
	if (!err) {
		if (f->path.dentry) {
			nd->path = f->path;
			path_get(&nd->path);
		} else {
			err = -ENOTDIR; /* a pipe or socket is no directory */
		}
		fput(f);
	}
	if (err)
		path_put(&nd->root);
	return err;
}

static void nd_done(struct nameidata *nd)
{
	path_put(&nd->root);
}

int path_lookup_at(int dfd, const char *name, unsigned flags, struct path *out)
{
	struct nameidata nd;
	if (!*name && !(flags & LOOKUP_EMPTY))
		return -ENOENT;
	int err = nd_init(&nd, dfd, name);
	if (err)
		return err;
	struct lookup_last l;
	if (*name) {
		err = walk_parent(&nd, name, &l);
		if (!err)
			err = walk_last(&nd, &l, flags & LOOKUP_FOLLOW);
	}
	if (!err && (flags & LOOKUP_DIRECTORY) && !S_ISDIR(nd.path.dentry->inode->mode))
		err = -ENOTDIR;
	nd_done(&nd);
	if (err) {
		path_put(&nd.path);
		return err;
	}
	*out = nd.path;
	return 0;
}

int path_last_at(int dfd, const char *name, unsigned flags, struct lookup_last *out)
{
	struct nameidata nd;
	if (!*name)
		return -ENOENT;
	int err = nd_init(&nd, dfd, name);
	if (err)
		return err;
	out->child = NULL;
	err = walk_parent(&nd, name, out);
	while (!err && out->type == LAST_NORM) {
		struct dentry *d;
		err = lookup_child(&nd.path, out->name, &d);
		if (err == -ENOENT && !nd.path.dentry->deleted) {
			err = 0;
			break;
		}
		if (err)
			break;
		if (!S_ISLNK(d->inode->mode) || !(flags & LOOKUP_FOLLOW)) {
			out->child = d;
			break;
		}
		err = link_parent(&nd, d, out);
		dput(d);
	}
	if (!err && out->type == LAST_BIND) {
		/* present the object of a magic link as an existing name in its directory */
		struct dentry *d = nd.path.dentry;
		out->child = dget(d);
		snprintf(out->name, sizeof(out->name), "%s", d->name);
		out->type = LAST_NORM;
		nd_set(&nd, nd.path.mnt, d->parent);
	}
	nd_done(&nd);
	if (err) {
		path_put(&nd.path);
		return err;
	}
	out->parent = nd.path;
	return 0;
}

void lookup_last_put(struct lookup_last *l)
{
	if (l->child)
		dput(l->child);
	path_put(&l->parent);
}

unsigned at_lookup_flags(int at_flags)
{
	return (at_flags & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW) |
	       (at_flags & AT_EMPTY_PATH ? LOOKUP_EMPTY : 0);
}

int user_path_at(int dfd, uaddr_t uname, unsigned flags, struct path *out)
{
	char *name = NULL;
	int err = uname || !(flags & LOOKUP_EMPTY) ? getname(uname, &name) : -ENOENT;
	if (err == -ENOENT && (flags & LOOKUP_EMPTY))
		err = path_lookup_at(dfd, "", flags, out);
	else if (!err)
		err = path_lookup_at(dfd, name, flags, out);
	free(name);
	return err;
}

int path_to_string(const struct path *p, const struct path *root, char *buf, size_t size)
{
	if (!size)
		return -ENAMETOOLONG;
	char *s = buf + size;
	*--s = '\0';
	struct mount *m = p->mnt;
	struct dentry *d = p->dentry;
	for (;;) {
		if (root && d == root->dentry && m == root->mnt)
			break;
		if (d == m->root || d->parent == d) {
			if (m->parent == m || !m->mountpoint)
				break;
			d = m->mountpoint;
			m = m->parent;
			continue;
		}
		size_t n = strlen(d->name);
		if ((size_t)(s - buf) < n + 1)
			return -ENAMETOOLONG;
		s -= n;
		memcpy(s, d->name, n);
		*--s = '/';
		d = d->parent;
	}
	if (!*s) {
		if (s == buf)
			return -ENAMETOOLONG;
		*--s = '/';
	}
	size_t len = buf + size - 1 - s;
	memmove(buf, s, len + 1);
	return len;
}

/* --- kernel-side helpers ------------------------------------------------------------ */

int kern_path(const char *name, bool follow, struct path *out)
{
	return path_lookup_at(AT_FDCWD, name, follow ? LOOKUP_FOLLOW : 0, out);
}
