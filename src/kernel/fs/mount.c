/* Mounts: the mount table, references that keep a mount busy, mount(2), umount2(2),
 * chroot(2), the root mount and shutdown. */
#include "internal.h"
#include "pagecache.h"
#include <sys/mount.h>

/* Flags kept per mount; the rest belong to the superblock or the call. */
#define MNT_FLAGS                                                                                  \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
	 MS_STRICTATIME)
#define MS_PROPAGATION (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

struct kmount {
	struct mount m;
	int count;	 /* path references: open files, cwds, walks, child mounts */
	bool attached;	 /* in the mount table (not yet unmounted) */
	bool sb_gone;	 /* shut down by vfs_umount_all() */
	struct list all; /* every live mount, attached or lazily detached */
};
#define KM(mp) container_of(mp, struct kmount, m)

struct list mount_table = LIST_INIT(mount_table);
struct mount *root_mount;
static struct list all_mounts = LIST_INIT(all_mounts);
static struct path init_root_path;

const struct path *init_root(void)
{
	return &init_root_path;
}

bool mnt_readonly(const struct mount *m)
{
	return (m->flags & MS_RDONLY) || (m->sb->flags & MS_RDONLY);
}

int path_want_write(const struct path *p)
{
	return p->mnt && mnt_readonly(p->mnt) ? -EROFS : 0;
}

/* --- references --------------------------------------------------------------------- */

static void mnt_free(struct mount *m);

static void mnt_put(struct mount *m)
{
	if (m && --KM(m)->count == 0 && !KM(m)->attached)
		mnt_free(m);
}

void path_get(const struct path *p)
{
	if (p->mnt)
		KM(p->mnt)->count++;
	if (p->dentry)
		dget(p->dentry);
}

void path_put(const struct path *p)
{
	struct mount *m = p->mnt;
	if (p->dentry)
		dput(p->dentry);
	mnt_put(m);
}

/* --- superblocks -------------------------------------------------------------------- */

int sb_sync(struct super_block *sb, bool wait)
{
	int err = pagecache_sync(sb);
	if (sb->ops && sb->ops->sync) {
		int e = sb->ops->sync(sb, wait);
		err = err ? err : e;
	}
	return err;
}

static bool sb_in_use(const struct super_block *sb)
{
	list_for_each(it,
		      &all_mounts) if (list_entry(it, struct kmount, all)->m.sb == sb) return true;
	return false;
}

/* The last mount of sb is gone: write it back, forget its cached names, release it. */
static void sb_shutdown(struct super_block *sb)
{
	sb_sync(sb, true);
	d_prune_sb(sb);
	if (sb->ops && sb->ops->put_super)
		sb->ops->put_super(sb);
}

/* The root of the dentry tree of sb, if some mount already has one. */
static struct dentry *sb_tree_root(struct super_block *sb)
{
	list_for_each(it, &all_mounts)
	{
		struct mount *m = &list_entry(it, struct kmount, all)->m;
		if (m->sb == sb) {
			struct dentry *d = m->root;
			while (d->parent != d)
				d = d->parent;
			return dget(d);
		}
	}
	return d_make_root(sb->root);
}

/* --- the mount tree ----------------------------------------------------------------- */

static struct mount *mnt_new(struct super_block *sb, struct dentry *root, unsigned long flags,
			     const char *devname)
{
	struct kmount *k = xzalloc(sizeof(*k));
	struct mount *m = &k->m;
	m->sb = sb;
	m->root = root;
	m->parent = m;
	m->flags = flags & MNT_FLAGS;
	m->devname = xstrdup(devname ? devname : "none");
	list_init(&m->link);
	list_add_tail(&k->all, &all_mounts);
	return m;
}

static void mnt_free(struct mount *m)
{
	struct super_block *sb = m->sb;
	list_del(&KM(m)->all);
	dput(m->root);
	free(m->devname);
	bool gone = KM(m)->sb_gone;
	free(KM(m));
	if (!gone && !sb_in_use(sb))
		sb_shutdown(sb);
}

struct mount *mnt_internal(struct super_block *sb, const char *name)
{
	if (!sb->root)
		sb->root = new_inode(sb, S_IFDIR | 0700);
	struct mount *m = mnt_new(sb, d_make_root(sb->root), 0, name);
	KM(m)->count = 1; /* never freed */
	return m;
}

static void attach(struct mount *m, const struct path *mp)
{
	path_get(mp);
	m->parent = mp->mnt;
	m->mountpoint = mp->dentry;
	mp->dentry->mounted++;
	list_add_tail(&m->link, &mount_table);
	KM(m)->attached = true;
}

/* Take m off its mountpoint (children stay on m when keep_children). */
static void detach(struct mount *m, bool keep_children)
{
	if (!keep_children) {
		list_for_each_safe(it, nx, &mount_table)
		{
			struct mount *c = list_entry(it, struct mount, link);
			if (c->parent == m && c != m)
				detach(c, false);
		}
	}
	list_del(&m->link);
	KM(m)->attached = false;
	if (m->parent != m) {
		struct path mp = {m->parent, m->mountpoint};
		m->mountpoint->mounted--;
		m->parent = m;
		m->mountpoint = NULL;
		path_put(&mp);
	}
}

struct mount *lookup_mnt(struct mount *mnt, struct dentry *d)
{
	for (struct list *it = mount_table.prev; it != &mount_table; it = it->prev) {
		struct mount *m = list_entry(it, struct mount, link);
		if (m->parent == mnt && m->mountpoint == d && m != mnt)
			return m;
	}
	return NULL;
}

/* --- mounting ----------------------------------------------------------------------- */

static int new_sb(const char *source, const char *type, unsigned long flags, const char *data,
		  struct super_block **out)
{
	const struct fs_type *t = find_filesystem(type);
	if (!t)
		return -ENODEV;
	if (t->needs_dev && (!source || !*source))
		return -ENOTBLK;
	struct super_block *sb = NULL;
	int err = t->mount(t, source, flags & ~MS_PROPAGATION, data, &sb);
	if (err)
		return err;
	if (flags & MS_RDONLY)
		sb->flags |= MS_RDONLY;
	if (!sb->inodes.next)
		list_init(&sb->inodes);
	*out = sb;
	return 0;
}

static int do_new_mount(const char *source, const char *type, unsigned long flags, const char *data,
			const struct path *target)
{
	struct super_block *sb;
	int err = new_sb(source, type, flags, data, &sb);
	if (err)
		return err;
	struct dentry *root = sb_tree_root(sb);
	struct mount *m = mnt_new(sb, root, flags, source);
	if (S_ISDIR(root->inode->mode) != S_ISDIR(target->dentry->inode->mode)) {
		mnt_free(m);
		return -ENOTDIR;
	}
	attach(m, target);
	return 0;
}

static int do_bind(const char *source, const struct path *target)
{
	struct path src;
	int err = path_lookup_at(AT_FDCWD, source, LOOKUP_FOLLOW, &src);
	if (err)
		return err;
	if (S_ISDIR(src.dentry->inode->mode) != S_ISDIR(target->dentry->inode->mode)) {
		path_put(&src);
		return -ENOTDIR;
	}
	struct mount *m = mnt_new(src.mnt->sb, dget(src.dentry), src.mnt->flags, src.mnt->devname);
	attach(m, target);
	path_put(&src);
	return 0;
}

static bool is_mount_root(const struct path *p)
{
	return p->dentry == p->mnt->root && KM(p->mnt)->attached;
}

static int do_remount(unsigned long flags, const struct path *p)
{
	struct mount *m = p->mnt;
	struct super_block *sb = m->sb;
	if (!is_mount_root(p))
		return -EINVAL;
	if (!(flags & MS_BIND)) {
		if ((flags & MS_RDONLY) && !(sb->flags & MS_RDONLY))
			sb_sync(sb, true);
		int err = sb->ops && sb->ops->remount ? sb->ops->remount(sb, flags) : 0;
		if (err)
			return err;
		sb->flags = (sb->flags & ~MS_RDONLY) | (flags & MS_RDONLY);
	}
	m->flags = flags & MNT_FLAGS;
	return 0;
}

static int do_move(const char *source, const struct path *target)
{
	struct path src;
	int err = path_lookup_at(AT_FDCWD, source, LOOKUP_FOLLOW, &src);
	if (err)
		return err;
	struct mount *m = src.mnt;
	if (!is_mount_root(&src) || m == root_mount) {
		err = -EINVAL;
		goto out;
	}
	for (struct mount *p = target->mnt;; p = p->parent) {
		if (p == m) {
			err = -ELOOP; /* onto itself or below */
			goto out;
		}
		if (p->parent == p)
			break;
	}
	detach(m, true);
	attach(m, target);
out:
	path_put(&src);
	return err;
}

static int do_mount(const char *source, const struct path *target, const char *type,
		    unsigned long flags, const char *data)
{
	if ((flags & MS_MGC_MSK) == MS_MGC_VAL)
		flags &= ~MS_MGC_MSK;
	if (flags & MS_REMOUNT)
		return do_remount(flags, target);
	if (flags & MS_BIND)
		return source ? do_bind(source, target) : -EINVAL;
	if (flags & MS_PROPAGATION)
		return 0; /* one namespace, no propagation: nothing to change */
	if (flags & MS_MOVE)
		return source ? do_move(source, target) : -EINVAL;
	if (!type)
		return -EINVAL;
	return do_new_mount(source, type, flags, data, target);
}

int kern_mount(const char *source, const char *target, const char *type, unsigned long flags,
	       const char *data)
{
	struct path p;
	int err = path_lookup_at(AT_FDCWD, target, LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	err = do_mount(source, &p, type, flags, data);
	path_put(&p);
	return err;
}

/* Strings of mount(2): an absent pointer stays NULL. */
static int mount_string(uaddr_t u, size_t max, char **out)
{
	*out = NULL;
	if (!u)
		return 0;
	char *s = xmalloc(max);
	long n = strncpy_from_user(s, u, max);
	if (n == -ENAMETOOLONG && max == PAGE_SIZE) {
		s[max - 1] = '\0'; /* options: Linux copies one page, whatever is in it */
		n = 0;
	}
	if (n < 0) {
		free(s);
		return n;
	}
	*out = s;
	return 0;
}

SYSCALL(mount)
{
	char *source = NULL, *type = NULL, *data = NULL, *target = NULL;
	unsigned long flags = a[3];
	if (!cur_is_admin())
		return -EPERM;
	int err = getname(a[1], &target);
	if (!err)
		err = mount_string(a[0], PATH_MAX, &source);
	if (!err)
		err = mount_string(a[2], 256, &type);
	if (!err)
		err = mount_string(a[4], PAGE_SIZE, &data);
	struct path p;
	if (!err)
		err = path_lookup_at(AT_FDCWD, target, LOOKUP_FOLLOW, &p);
	if (!err) {
		err = do_mount(source, &p, type, flags, data);
		path_put(&p);
	}
	free(source);
	free(type);
	free(data);
	free(target);
	return err;
}

SYSCALL(umount2)
{
	int flags = a[1];
	if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
		return -EINVAL;
	if (!cur_is_admin())
		return -EPERM;
	struct path p;
	int err = user_path_at(AT_FDCWD, a[0], flags & UMOUNT_NOFOLLOW ? 0 : LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	struct mount *m = p.mnt;
	if (!is_mount_root(&p))
		err = -EINVAL;
	else if (m == root_mount)
		err = -EBUSY;
	else if (!(flags & MNT_DETACH) && KM(m)->count > 1)
		err = -EBUSY; /* open files, cwds or mounts below: only ours may remain */
	else
		detach(m, false);
	path_put(&p); /* the last reference frees a detached mount */
	return err;
}

SYSCALL(chroot)
{
	struct path p;
	int err = user_path_at(AT_FDCWD, a[0], LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
	if (err)
		return err;
	err = inode_permission(p.dentry->inode, MAY_EXEC);
	if (!err && !cur_is_admin())
		err = -EPERM;
	if (err) {
		path_put(&p);
		return err;
	}
	path_put(&current->fs->root);
	current->fs->root = p;
	return 0;
}

/* --- the root mount and shutdown ---------------------------------------------------- */

int vfs_mount_root(const char *source, const char *fstype, unsigned long flags, const char *data)
{
	struct super_block *sb;
	int err = new_sb(source, fstype, flags, data, &sb);
	if (err)
		return err;
	struct mount *m = mnt_new(sb, sb_tree_root(sb), flags, source);
	list_add_tail(&m->link, &mount_table);
	KM(m)->attached = true;
	if (root_mount) {
		/* a new root replaces the old one, which lives on while referenced */
		list_del(&root_mount->link);
		KM(root_mount)->attached = false;
		path_put(&init_root_path);
	}
	root_mount = m;
	init_root_path = (struct path){m, m->root};
	path_get(&init_root_path);
	fs_struct_set_root_all(&init_root_path);
	return 0;
}

void vfs_sync_all(void)
{
	list_for_each(it, &mount_table) sb_sync(list_entry(it, struct mount, link)->sb, true);
}

/* A filesystem still in use at shutdown goes down anyway: nothing runs afterwards. */
static void sb_force_shutdown(struct super_block *sb)
{
	list_for_each_safe(it, nx, &all_mounts)
	{
		struct kmount *k = list_entry(it, struct kmount, all);
		if (k->m.sb == sb) {
			k->sb_gone = true;
			list_del(&k->all);
			list_init(&k->all);
		}
	}
	sb_shutdown(sb);
}

int vfs_umount_all(void)
{
	int err = 0;
	if (init_root_path.mnt) {
		path_put(&init_root_path);
		init_root_path = (struct path){NULL, NULL};
	}
	/* the most recent first, so that a mount lets go of its parent before that goes */
	while (!list_empty(&mount_table)) {
		struct mount *m = list_entry(mount_table.prev, struct mount, link);
		int e = sb_sync(m->sb, true);
		err = err ? err : e;
		detach(m, true);
		if (KM(m)->count == 0)
			mnt_free(m);
		else if (!KM(m)->sb_gone)
			sb_force_shutdown(m->sb);
	}
	root_mount = NULL;
	return err;
}
