/* A fake kernel for the tmpfs/devtmpfs/procfs/sysfs unit tests: the VFS inode cache as
 * vfs.c has it, a page cache of one flat buffer per inode, and a process table the tests
 * fill in. See fake_pseudo_kernel.h. */
#include "fake_pseudo_kernel.h"
#include <stdio.h>
#include <sys/stat.h>

struct task *current;
struct process *fake_procs[FAKE_MAX_PROCS];
int fake_live_inodes;
uint64_t mem_total_bytes = 256ull << 20;
uint64_t fake_committed, fake_cached, fake_dirty, kernel_nr_forks, boot_mono_ns;
uint64_t fake_mono_ns, fake_real_ns;
struct list mount_table = LIST_INIT(mount_table);
struct mount *root_mount;
struct list chrdev_list = LIST_INIT(chrdev_list);
const struct fs_type *fake_fs_types[8];
char uts_nodename[65] = "(none)", uts_domainname[65] = "(none)";

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	return strcpy(xmalloc(strlen(s) + 1), s);
}

void panic(const char *fmt, ...)
{
	abort();
}

void printk(const char *fmt, ...)
{
}

uint64_t ktime_mono(void)
{
	return fake_mono_ns;
}

uint64_t ktime_real(void)
{
	return fake_real_ns;
}

/* --- inodes, as vfs.c --------------------------------------------------------------- */

struct timespec current_time(void)
{
	return (struct timespec){.tv_sec = 1000};
}

struct inode *new_inode(struct super_block *sb, mode_t mode)
{
	struct inode *i = xzalloc(sizeof(*i));
	i->sb = sb;
	i->mode = mode;
	i->nlink = 1;
	i->refcount = 1;
	i->ino = ++sb->next_ino;
	list_add_tail(&i->sb_link, &sb->inodes);
	fake_live_inodes++;
	return i;
}

struct inode *iget(struct super_block *sb, uint64_t ino)
{
	list_for_each(it, &sb->inodes) {
		struct inode *i = list_entry(it, struct inode, sb_link);
		if (i->ino == ino) {
			i->refcount++;
			return i;
		}
	}
	return NULL;
}

void igrab(struct inode *i)
{
	i->refcount++;
}

void iput(struct inode *i)
{
	if (!i || --i->refcount > 0)
		return;
	if (i->sb->ops->evict_inode)
		i->sb->ops->evict_inode(i);
	list_del(&i->sb_link);
	free(i);
	fake_live_inodes--;
}

void register_filesystem(struct fs_type *t)
{
	for (size_t k = 0; k < ARRAY_SIZE(fake_fs_types); k++) {
		if (!fake_fs_types[k]) {
			fake_fs_types[k] = t;
			return;
		}
	}
}

const struct fs_type *next_filesystem(const struct fs_type *prev)
{
	size_t k = 0;
	if (prev)
		while (k < ARRAY_SIZE(fake_fs_types) && fake_fs_types[k++] != prev)
			;
	return k < ARRAY_SIZE(fake_fs_types) ? fake_fs_types[k] : NULL;
}

const struct fs_type *fake_find_fs(const char *name)
{
	for (const struct fs_type *t = next_filesystem(NULL); t; t = next_filesystem(t))
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

/* --- page cache: one flat buffer per inode ------------------------------------------ */

struct pagecache {
	char *data;
	size_t cap;
};

ssize_t generic_file_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	struct inode *i = f->inode;
	if ((uint64_t)*pos >= i->size)
		return 0;
	n = MIN(n, i->size - *pos);
	memcpy(buf, i->pages->data + *pos, n);
	*pos += n;
	return n;
}

ssize_t generic_file_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	struct inode *i = f->inode;
	if (f->flags & O_APPEND)
		*pos = i->size;
	if (!i->pages)
		i->pages = xzalloc(sizeof(*i->pages));
	if (*pos + n > i->pages->cap) {
		size_t cap = *pos + n;
		i->pages->data = realloc(i->pages->data, cap);
		memset(i->pages->data + i->pages->cap, 0, cap - i->pages->cap);
		i->pages->cap = cap;
	}
	memcpy(i->pages->data + *pos, buf, n);
	*pos += n;
	i->size = MAX(i->size, (uint64_t)*pos);
	return n;
}

void pagecache_truncate(struct inode *i, uint64_t size)
{
	if (i->pages && size < i->pages->cap)
		memset(i->pages->data + size, 0, i->pages->cap - size);
	i->size = size;
}

void pagecache_evict(struct inode *i)
{
	if (i->pages)
		free(i->pages->data);
	free(i->pages);
	i->pages = NULL;
}

void pagecache_stats(uint64_t *cached, uint64_t *dirty)
{
	*cached = fake_cached;
	*dirty = fake_dirty;
}

uint64_t mem_committed_bytes(void)
{
	return fake_committed;
}

/* --- processes ---------------------------------------------------------------------- */

struct process *process_next(struct process *prev)
{
	int k = 0;
	if (prev)
		while (k < FAKE_MAX_PROCS && fake_procs[k++] != prev)
			;
	for (; k < FAKE_MAX_PROCS; k++)
		if (fake_procs[k])
			return fake_procs[k];
	return NULL;
}

struct process *find_process(pid_t pid)
{
	for (struct process *p = process_next(NULL); p; p = process_next(p))
		if (p->pid == pid)
			return p;
	return NULL;
}

struct task *find_task(pid_t tid)
{
	for (struct process *p = process_next(NULL); p; p = process_next(p)) {
		list_for_each(it, &p->threads) {
			struct task *t = list_entry(it, struct task, thread_link);
			if (t->tid == tid)
				return t;
		}
	}
	return NULL;
}

uint64_t mm_vsize(struct mm *mm)
{
	uint64_t n = 0;
	list_for_each(it, &mm->vmas) {
		struct vma *a = list_entry(it, struct vma, link);
		n += a->end - a->start;
	}
	return n;
}

uint64_t mm_rss_pages(struct mm *mm)
{
	return mm_vsize(mm) / PAGE_SIZE / 2;
}

/* The memory of every process holds "arg0\0arg1\0" wherever asked. */
int access_process_vm(struct process *p, uaddr_t addr, void *buf, size_t len, bool write)
{
	static const char mem[] = "arg0\0arg1\0";
	memcpy(buf, mem, MIN(len, sizeof(mem) - 1));
	return 0;
}

/* --- paths, files, devices ---------------------------------------------------------- */

int path_to_string(const struct path *p, const struct path *root, char *buf, size_t size)
{
	return snprintf(buf, size, "/%s", p->dentry->name);
}

int file_path(struct file *f, char *buf, size_t size)
{
	if (f->inode && S_ISFIFO(f->inode->mode))
		return snprintf(buf, size, "pipe:[%llu]", (unsigned long long)f->inode->ino);
	return path_to_string(&f->path, NULL, buf, size);
}

struct file *fdtable_peek(struct fdtable *t, int fd)
{
	return t && fd >= 0 && fd < t->max ? t->fd[fd] : NULL;
}

struct blkdev *fake_blkdevs[4];

struct blkdev *blk_next(struct blkdev *prev)
{
	size_t k = 0;
	if (prev)
		while (k < ARRAY_SIZE(fake_blkdevs) && fake_blkdevs[k++] != prev)
			;
	return k < ARRAY_SIZE(fake_blkdevs) ? fake_blkdevs[k] : NULL;
}

struct blkdev *blk_lookup_dev(unsigned major, unsigned minor)
{
	for (struct blkdev *d = blk_next(NULL); d; d = blk_next(d))
		if (d->major == major && d->minor == minor)
			return d;
	return NULL;
}
