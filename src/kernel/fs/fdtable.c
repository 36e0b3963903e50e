/* Per-process state of the VFS: the fd table and the fs_struct (root, cwd, umask), and
 * the syscalls that change the latter. */
#include "internal.h"

/* --- fd tables ---------------------------------------------------------------------- */

struct fdtable *fdtable_new(void)
{
	struct fdtable *t = xzalloc(sizeof(*t));
	t->refcount = 1;
	return t;
}

/* Make room for fd numbers below n. */
static void fd_grow(struct fdtable *t, int n)
{
	if (n <= t->max)
		return;
	int max = t->max ? t->max : 64;
	while (max < n)
		max *= 2;
	t->fd = realloc(t->fd, max * sizeof(*t->fd));
	t->cloexec = realloc(t->cloexec, max);
	if (!t->fd || !t->cloexec)
		panic("out of host memory (fd table of %d)", max);
	memset(t->fd + t->max, 0, (max - t->max) * sizeof(*t->fd));
	memset(t->cloexec + t->max, 0, max - t->max);
	t->max = max;
}

struct fdtable *fdtable_dup(struct fdtable *t)
{
	struct fdtable *n = fdtable_new();
	fd_grow(n, t->max);
	for (int fd = 0; fd < t->max; fd++) {
		if (t->fd[fd])
			n->fd[fd] = fget_ref(t->fd[fd]);
		n->cloexec[fd] = t->cloexec[fd];
	}
	return n;
}

void fdtable_put(struct fdtable *t)
{
	if (!t || --t->refcount > 0)
		return;
	for (int fd = 0; fd < t->max; fd++)
		fput(t->fd[fd]);
	free(t->fd);
	free(t->cloexec);
	free(t);
}

void fdtable_close_on_exec(struct fdtable *t)
{
	for (int fd = 0; fd < t->max; fd++) {
		if (t->fd[fd] && t->cloexec[fd]) {
			struct file *f = t->fd[fd];
			t->fd[fd] = NULL;
			t->cloexec[fd] = 0;
			fput(f);
		}
	}
}

static int nofile_limit(void)
{
	uint64_t lim = cur_rlimit(RLIMIT_NOFILE);
	return lim > (1u << 20) ? 1 << 20 : (int)lim;
}

int fd_alloc_from(struct file *f, int min, bool cloexec)
{
	struct fdtable *t = current->files;
	int lim = nofile_limit();
	for (int fd = min; fd < lim; fd++) {
		if (fd >= t->max)
			fd_grow(t, fd + 1);
		if (!t->fd[fd]) {
			t->fd[fd] = f;
			t->cloexec[fd] = cloexec;
			return fd;
		}
	}
	return -EMFILE;
}

int fd_install(struct file *f, unsigned flags)
{
	return fd_alloc_from(f, 0, flags & O_CLOEXEC);
}

int fd_replace(int fd, struct file *f, bool cloexec)
{
	struct fdtable *t = current->files;
	if (fd < 0 || fd >= nofile_limit())
		return -EBADF;
	fd_grow(t, fd + 1);
	struct file *old = t->fd[fd];
	t->fd[fd] = f;
	t->cloexec[fd] = cloexec;
	fput(old);
	return fd;
}

struct file *fdtable_peek(struct fdtable *t, int fd)
{
	return t && fd >= 0 && fd < t->max ? t->fd[fd] : NULL;
}

int fget_raw(int fd, struct file **out)
{
	struct file *f = current ? fdtable_peek(current->files, fd) : NULL;
	if (!f)
		return -EBADF;
	*out = fget_ref(f);
	return 0;
}

int fget_checked(int fd, struct file **out)
{
	int err = fget_raw(fd, out);
	if (!err && ((*out)->flags & O_PATH)) {
		fput(*out);
		return -EBADF;
	}
	return err;
}

struct file *fget(int fd)
{
	struct file *f;
	return fget_checked(fd, &f) ? NULL : f;
}

int fd_close(int fd)
{
	struct fdtable *t = current->files;
	struct file *f = fdtable_peek(t, fd);
	if (!f)
		return -EBADF;
	t->fd[fd] = NULL;
	t->cloexec[fd] = 0;
	fput(f);
	return 0;
}

bool fd_get_cloexec(int fd)
{
	return current->files->cloexec[fd];
}

void fd_set_cloexec(int fd, bool on)
{
	current->files->cloexec[fd] = on;
}

/* --- fs_struct ---------------------------------------------------------------------- */

/* fs_structs made before the root was mounted (init's), to be given the root then. */
static struct fs_struct *rootless[8];

struct fs_struct *fs_struct_init(void)
{
	struct fs_struct *fs = xzalloc(sizeof(*fs));
	fs->refcount = 1;
	fs->umask = 022;
	const struct path *root = init_root();
	if (root->dentry) {
		fs->root = fs->cwd = *root;
		path_get(&fs->root);
		path_get(&fs->cwd);
		return fs;
	}
	for (size_t k = 0; k < ARRAY_SIZE(rootless); k++) {
		if (!rootless[k]) {
			rootless[k] = fs;
			break;
		}
	}
	return fs;
}

void fs_struct_set_root_all(const struct path *root)
{
	for (size_t k = 0; k < ARRAY_SIZE(rootless); k++) {
		struct fs_struct *fs = rootless[k];
		if (fs) {
			fs->root = fs->cwd = *root;
			path_get(&fs->root);
			path_get(&fs->cwd);
			rootless[k] = NULL;
		}
	}
}

struct fs_struct *fs_struct_dup(struct fs_struct *fs)
{
	struct fs_struct *n = xzalloc(sizeof(*n));
	n->refcount = 1;
	n->umask = fs->umask;
	n->root = fs->root;
	n->cwd = fs->cwd;
	path_get(&n->root);
	path_get(&n->cwd);
	return n;
}

void fs_struct_put(struct fs_struct *fs)
{
	if (!fs || --fs->refcount > 0)
		return;
	for (size_t k = 0; k < ARRAY_SIZE(rootless); k++)
		if (rootless[k] == fs)
			rootless[k] = NULL;
	path_put(&fs->root);
	path_put(&fs->cwd);
	free(fs);
}

static int set_cwd(struct path *p)
{
	int err = S_ISDIR(p->dentry->inode->mode) ? inode_permission(p->dentry->inode, MAY_EXEC)
						  : -ENOTDIR;
	if (err) {
		path_put(p);
		return err;
	}
	path_put(&current->fs->cwd);
	current->fs->cwd = *p;
	return 0;
}

SYSCALL(chdir)
{
	struct path p;
	int err = user_path_at(AT_FDCWD, a[0], LOOKUP_FOLLOW, &p);
	return err ? err : set_cwd(&p);
}

SYSCALL(fchdir)
{
	struct file *f;
	int err = fget_raw(a[0], &f);
	if (err)
		return err;
	struct path p = f->path;
	fput(f);
	if (!p.dentry)
		return -ENOTDIR;
	path_get(&p);
	return set_cwd(&p);
}

SYSCALL(getcwd)
{
	uaddr_t buf = a[0];
	size_t size = a[1];
	if (current->fs->cwd.dentry->deleted)
		return -ENOENT;
	char *k = xmalloc(PATH_MAX);
	int n = path_to_string(&current->fs->cwd, &current->fs->root, k, PATH_MAX);
	if (n >= 0 && (size_t)n + 1 > size)
		n = -ERANGE;
	if (n >= 0)
		n = copy_to_user(buf, k, n + 1) ? -EFAULT : n + 1;
	free(k);
	return n;
}

SYSCALL(umask)
{
	mode_t old = current->fs->umask;
	current->fs->umask = a[0] & 0777;
	return old;
}
