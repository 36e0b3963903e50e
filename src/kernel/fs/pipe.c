/* Pipes and FIFOs: a ring buffer (64 KiB unless F_SETPIPE_SZ says otherwise) between
 * readers and writers. Writes of at most PIPE_BUF bytes are atomic; a write without
 * readers gets SIGPIPE and EPIPE. A FIFO's pipe hangs off its inode while it is open;
 * opening one end waits for the other unless O_NONBLOCK. */
#include "internal.h"
#include <sys/ioctl.h>

#define PIPE_DEF_SIZE (64 * 1024)
#define PIPE_MAX_SIZE (1024 * 1024) /* /proc/sys/fs/pipe-max-size for non-root */

struct pipe {
	char *buf; /* allocated at the first write */
	size_t size, head, len;
	int readers, writers;
	unsigned r_counter, w_counter; /* opens of each end so far */
	struct waitq rd_wait, wr_wait; /* readers wait for data, writers for room */
	struct inode *fifo;
};

/* Pipe buffers are host memory of the kernel: bound their total as Linux's
 * pipe-user-pages-soft/hard do. Past the soft limit new pipes get one page; past the
 * hard limit (a quarter of mem=) no pipe can be made. */
static uint64_t pipe_bytes;

static uint64_t pipe_soft_limit(void)
{
	return mem_total_bytes / 16;
}

static bool pipe_over_hard_limit(void)
{
	return pipe_bytes + PAGE_SIZE > mem_total_bytes / 4;
}

static struct pipe *pipe_new(void)
{
	struct pipe *p = xzalloc(sizeof(*p));
	p->size = pipe_bytes + PIPE_DEF_SIZE > pipe_soft_limit() ? PAGE_SIZE : PIPE_DEF_SIZE;
	waitq_init(&p->rd_wait);
	waitq_init(&p->wr_wait);
	return p;
}

static void pipe_free_if_unused(struct pipe *p)
{
	if (p->readers || p->writers)
		return;
	if (p->fifo)
		p->fifo->pipe = NULL;
	if (p->buf)
		pipe_bytes -= p->size;
	free(p->buf);
	free(p);
}

static bool reads(const struct file *f)
{
	return (f->flags & O_ACCMODE) != O_WRONLY;
}

static bool writes(const struct file *f)
{
	return (f->flags & O_ACCMODE) != O_RDONLY;
}

static ssize_t pipe_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	struct pipe *p = f->priv;
	if (!n)
		return 0;
	while (!p->len) {
		if (!p->writers)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (sleep_on(&p->rd_wait, true))
			return -ERESTARTSYS;
	}
	size_t k = MIN(n, p->len);
	size_t first = MIN(k, p->size - p->head);
	memcpy(buf, p->buf + p->head, first);
	memcpy((char *)buf + first, p->buf, k - first);
	p->head = (p->head + k) % p->size;
	p->len -= k;
	if (!p->len)
		p->head = 0; /* keep the data contiguous when we can */
	wake_up(&p->wr_wait);
	return k;
}

static ssize_t pipe_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	struct pipe *p = f->priv;
	size_t done = 0;
	if (!n)
		return 0;
	if (!p->buf) {
		p->buf = xmalloc(p->size);
		pipe_bytes += p->size;
	}
	for (;;) {
		if (!p->readers) {
			send_signal_task(current, SIGPIPE, NULL);
			return done ? (ssize_t)done : -EPIPE;
		}
		size_t room = p->size - p->len;
		/* small writes go in whole or wait; big ones take what there is */
		size_t need = n <= PIPE_BUF ? n : 1;
		if (room >= need) {
			size_t k = MIN(room, n - done);
			size_t tail = (p->head + p->len) % p->size;
			size_t first = MIN(k, p->size - tail);
			memcpy(p->buf + tail, (const char *)buf + done, first);
			memcpy(p->buf, (const char *)buf + done + first, k - first);
			p->len += k;
			done += k;
			wake_up(&p->rd_wait);
			if (done == n)
				return done;
			continue;
		}
		if (f->flags & O_NONBLOCK)
			return done ? (ssize_t)done : -EAGAIN;
		if (sleep_on(&p->wr_wait, true))
			return done ? (ssize_t)done : -ERESTARTSYS;
	}
}

static unsigned pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe *p = f->priv;
	unsigned mask = 0;
	if (reads(f)) {
		poll_wait(pt, &p->rd_wait);
		if (p->len)
			mask |= POLLIN | POLLRDNORM;
		if (!p->writers && p->w_counter)
			mask |= POLLHUP; /* only once a writer has come and gone */
	}
	if (writes(f)) {
		poll_wait(pt, &p->wr_wait);
		if (p->size - p->len >= MIN((size_t)PIPE_BUF, p->size))
			mask |= POLLOUT | POLLWRNORM;
		if (!p->readers)
			mask |= POLLERR;
	}
	return mask;
}

static long pipe_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct pipe *p = f->priv;
	if (cmd != FIONREAD)
		return -ENOTTY;
	int n = p->len;
	return PUT_USER(n, arg);
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->priv;
	if (reads(f))
		p->readers--;
	if (writes(f))
		p->writers--;
	wake_up(&p->rd_wait);
	wake_up(&p->wr_wait);
	pipe_free_if_unused(p);
}

long pipe_fcntl(struct file *f, int cmd, unsigned long arg)
{
	struct pipe *p = f->priv;
	if (cmd == F_GETPIPE_SZ)
		return p->size;
	size_t n = PAGE_SIZE;
	if (arg > INT32_MAX)
		return -EINVAL;
	while (n < arg)
		n *= 2;
	if (n > PIPE_MAX_SIZE && !cur_is_admin())
		return -EPERM;
	if (n < p->len)
		return -EBUSY;
	if (n > p->size && pipe_bytes + (n - p->size) > pipe_soft_limit())
		return -EPERM;
	if (p->buf) {
		pipe_bytes += n - p->size;
		char *nb = xmalloc(n);
		size_t first = MIN(p->len, p->size - p->head);
		memcpy(nb, p->buf + p->head, first);
		memcpy(nb + first, p->buf, p->len - first);
		free(p->buf);
		p->buf = nb;
		p->head = 0;
	}
	p->size = n;
	wake_up(&p->wr_wait);
	return n;
}

static const struct file_ops pipe_fops = {
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
};

bool is_pipe_file(const struct file *f)
{
	return f->fop == &pipe_fops || f->fop == &fifo_fops;
}

/* An anonymous pipe is a FIFO inode with a path on an internal mount, so that
 * /proc/<pid>/fd/N reopens it as Linux does. */
int pipe_create(struct file **rd, struct file **wr)
{
	static struct mount *pipe_mnt;
	if (pipe_over_hard_limit())
		return -ENFILE;
	if (!pipe_mnt)
		pipe_mnt = mnt_internal(&anon_sb, "pipefs");
	struct inode *i = new_inode(&anon_sb, S_IFIFO | 0600);
	struct pipe *p = pipe_new();
	p->readers = p->writers = 1;
	p->r_counter = p->w_counter = 1;
	p->fifo = i;
	i->pipe = p;
	struct path path = {pipe_mnt, d_make_root(i)};
	*rd = file_alloc(i, &pipe_fops, O_RDONLY);
	*wr = file_alloc(i, &pipe_fops, O_WRONLY);
	(*rd)->priv = (*wr)->priv = p;
	(*rd)->path = (*wr)->path = path;
	path_get(&path); /* one reference for each file */
	path_get(&path);
	iput(i);
	dput(path.dentry);
	return 0;
}

SYSCALL(pipe2)
{
	int flags = a[1];
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	struct file *rd, *wr;
	int err = pipe_create(&rd, &wr);
	if (err)
		return err;
	rd->flags |= flags & O_NONBLOCK;
	wr->flags |= flags & O_NONBLOCK;
	int fds[2] = {fd_install(rd, flags), -1};
	if (fds[0] >= 0)
		fds[1] = fd_install(wr, flags);
	if (fds[1] < 0) {
		if (fds[0] >= 0)
			fd_close(fds[0]);
		else
			fput(rd);
		fput(wr);
		return -EMFILE;
	}
	if (copy_to_user(a[0], fds, sizeof(fds))) {
		fd_close(fds[0]);
		fd_close(fds[1]);
		return -EFAULT;
	}
	return 0;
}

SYSCALL(pipe)
{
	uint64_t b[6] = {a[0], 0};
	return sys_pipe2(b);
}

/* --- FIFOs -------------------------------------------------------------------------- */

/* Wait until the other end has been opened (its counter moves). */
static int fifo_wait(struct pipe *p, struct waitq *wq, const unsigned *counter)
{
	unsigned seen = *counter;
	return wait_event(wq, *counter != seen, true, 0) ? -ERESTARTSYS : 0;
}

static int fifo_open(struct inode *i, struct file *f)
{
	struct pipe *p = i->pipe;
	bool rd = reads(f), wr = writes(f), nb = f->flags & O_NONBLOCK;
	if (!p) {
		p = i->pipe = pipe_new();
		p->fifo = i;
	}
	int err = 0;
	if (wr && !rd && nb && !p->readers) {
		pipe_free_if_unused(p);
		return -ENXIO;
	}
	if (rd) {
		p->readers++;
		p->r_counter++;
		wake_up(&p->wr_wait);
	}
	if (wr) {
		p->writers++;
		p->w_counter++;
		wake_up(&p->rd_wait);
	}
	if (rd && !wr && !nb && !p->writers)
		err = fifo_wait(p, &p->rd_wait, &p->w_counter);
	else if (wr && !rd && !p->readers)
		err = fifo_wait(p, &p->wr_wait, &p->r_counter);
	if (err) {
		if (rd)
			p->readers--;
		if (wr)
			p->writers--;
		pipe_free_if_unused(p);
		return err;
	}
	f->priv = p;
	return 0;
}

const struct file_ops fifo_fops = {
    .open = fifo_open,
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
};
