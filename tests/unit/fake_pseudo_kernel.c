/* The rest of the kernel for the tmpfs/devtmpfs/procfs/sysfs unit tests, beyond the
 * common fake (fake_kernel.c): a page cache of one flat buffer per inode, memory
 * counters, process memory, paths and open files. See fake_pseudo_kernel.h. */
#include "fake_pseudo_kernel.h"
#include <stdio.h>
#include <sys/stat.h>

uint64_t fake_committed, fake_cached, fake_dirty, kernel_nr_forks;
struct list mount_table = LIST_INIT(mount_table);
struct mount *root_mount;
char uts_nodename[65] = "(none)", uts_domainname[65] = "(none)";

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

/* --- process memory ----------------------------------------------------------------- */

uint64_t mm_vsize(struct mm *mm)
{
	uint64_t n = 0;
	list_for_each(it, &mm->vmas)
	{
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

/* --- paths, files, block devices ---------------------------------------------------- */

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

static void no_submit(struct blkdev *d, struct bio *b)
{
	abort();
}

const struct blkdev_ops fake_noio_blk_ops = {.submit = no_submit};
