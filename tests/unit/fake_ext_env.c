/* Fakes of the kernel services that ext.c and pagecache.c use: the VFS inode cache,
 * the scheduler's lock and wait queues (single task: nothing ever has to wait),
 * logging, and block devices backed by image files (blk_rw = pread/pwrite). */
#define _GNU_SOURCE
#include "fake_ext_env.h"
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <time.h>
#include <unistd.h>

bool kernel_quiet;
struct task *current;
char fake_log[16384];
size_t fake_log_len;
int fake_dirty_calls;
struct fake_blk_stats fake_blk_stats;

void printk(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t n = MIN(strlen(line), sizeof(fake_log) - 1 - fake_log_len);
	memcpy(fake_log + fake_log_len, line, n);
	fake_log_len += n;
	fake_log[fake_log_len] = 0;
	if (getenv("FAKE_VERBOSE"))
		fputs(line, stderr);
}

void fake_log_clear(void)
{
	fake_log_len = 0;
	fake_log[0] = 0;
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	assert_non_null(p);
	return p;
}

void *xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	assert_non_null(p);
	return p;
}

char *xstrdup(const char *s)
{
	return strcpy(xmalloc(strlen(s) + 1), s);
}

/* --- scheduler: one task, so a lock is never contended and nobody ever sleeps ----- */

void kmutex_init(struct kmutex *m)
{
	m->owner = NULL;
	waitq_init(&m->wq);
}

void kmutex_lock(struct kmutex *m)
{
	/* Taking it twice would deadlock in the kernel: fail loudly instead. */
	if (m->owner)
		fail_msg("kmutex taken recursively");
	m->owner = (struct task *)m;
}

void kmutex_unlock(struct kmutex *m)
{
	if (!m->owner)
		fail_msg("kmutex released while free");
	m->owner = NULL;
}

void waitq_init(struct waitq *wq)
{
	list_init(&wq->sleepers);
}

void wake_up(struct waitq *wq)
{
}

int sleep_on_many(struct waitq **wqs, int n, bool interruptible, uint64_t deadline)
{
	fail_msg("sleep with a single task: it would never be woken");
	return -EINTR;
}

uint64_t ktime_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* --- VFS inode cache, as vfs.c does it ------------------------------------------- */

struct timespec current_time(void)
{
	uint64_t ns = ktime_real();
	return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

struct inode *new_inode(struct super_block *sb, mode_t mode)
{
	struct inode *i = xzalloc(sizeof(*i));
	i->sb = sb;
	i->mode = mode;
	i->nlink = 1;
	i->refcount = 1;
	i->atime = i->mtime = i->ctime = current_time();
	list_init(&i->sb_link);
	if (sb) {
		i->ino = ++sb->next_ino;
		if (!sb->inodes.next)
			list_init(&sb->inodes);
		list_add_tail(&i->sb_link, &sb->inodes);
	}
	return i;
}

struct inode *iget(struct super_block *sb, uint64_t ino)
{
	if (!sb->inodes.next)
		return NULL;
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
	if (i->sb && i->sb->ops && i->sb->ops->evict_inode)
		i->sb->ops->evict_inode(i);
	list_del(&i->sb_link);
	free(i);
}

void mark_inode_dirty(struct inode *i)
{
	fake_dirty_calls++;
	if (i->sb && i->sb->ops && i->sb->ops->write_inode)
		i->sb->ops->write_inode(i);
}

void inode_touch(struct inode *i, bool atime, bool mtime, bool ctime)
{
	struct timespec now = current_time();
	if (atime)
		i->atime = now;
	if (mtime)
		i->mtime = now;
	if (ctime)
		i->ctime = now;
	if (atime || mtime || ctime)
		mark_inode_dirty(i);
}

static struct list fs_types = LIST_INIT(fs_types);

void register_filesystem(struct fs_type *t)
{
	list_add_tail(&t->link, &fs_types);
}

const struct fs_type *find_filesystem(const char *name)
{
	list_for_each(it, &fs_types) {
		struct fs_type *t = list_entry(it, struct fs_type, link);
		if (!strcmp(t->name, name))
			return t;
	}
	return NULL;
}

/* --- block devices over image files ---------------------------------------------- */

struct fake_blk {
	struct blkdev dev;
	int fd;
};

static struct fake_blk *blks[4];

static void fake_submit(struct blkdev *d, struct bio *b)
{
	fail_msg("submit is not used: blk_rw is faked directly");
}

static const struct blkdev_ops fake_ops = {.submit = fake_submit};

struct blkdev *fake_blk_add(const char *name, const char *path, bool readonly)
{
	int fd = open(path, readonly ? O_RDONLY : O_RDWR);
	assert_true(fd >= 0);
	struct fake_blk *b = xzalloc(sizeof(*b));
	snprintf(b->dev.name, sizeof(b->dev.name), "%s", name);
	b->dev.size = lseek(fd, 0, SEEK_END);
	b->dev.readonly = readonly;
	b->dev.major = 98;
	b->dev.ops = &fake_ops;
	b->fd = fd;
	for (size_t k = 0; k < ARRAY_SIZE(blks); k++) {
		if (!blks[k]) {
			blks[k] = b;
			return &b->dev;
		}
	}
	fail_msg("too many fake block devices");
	return NULL;
}

void fake_blk_remove_all(void)
{
	for (size_t k = 0; k < ARRAY_SIZE(blks); k++) {
		if (blks[k]) {
			close(blks[k]->fd);
			free(blks[k]);
			blks[k] = NULL;
		}
	}
}

struct blkdev *blk_lookup(const char *name)
{
	if (!strncmp(name, "/dev/", 5))
		name += 5;
	for (size_t k = 0; k < ARRAY_SIZE(blks); k++)
		if (blks[k] && !strcmp(blks[k]->dev.name, name))
			return &blks[k]->dev;
	return NULL;
}

int blk_rw(struct blkdev *d, enum bio_op op, uint64_t off, void *buf, size_t len)
{
	struct fake_blk *b = container_of(d, struct fake_blk, dev);
	assert_true(off % 512 == 0 && len % 512 == 0);
	switch (op) {
	case BIO_READ:
		fake_blk_stats.reads++;
		fake_blk_stats.read_bytes += len;
		return pread(b->fd, buf, len, off) == (ssize_t)len ? 0 : -EIO;
	case BIO_WRITE:
		if (d->readonly)
			return -EROFS;
		fake_blk_stats.writes++;
		fake_blk_stats.write_bytes += len;
		return pwrite(b->fd, buf, len, off) == (ssize_t)len ? 0 : -EIO;
	case BIO_FLUSH:
		fake_blk_stats.flushes++;
		return fdatasync(b->fd) ? -EIO : 0;
	case BIO_DISCARD:
		return -EOPNOTSUPP;
	}
	return -EINVAL;
}
