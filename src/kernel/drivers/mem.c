/* The memory character devices of major 1: null, zero, full, random, urandom and kmsg.
 * Random bytes come from the host's getrandom(). */
#include "../fs/pseudofs.h"
#include <poll.h>
#include <sys/random.h>

static ssize_t read_null(struct file *f, void *buf, size_t n, loff_t *pos)
{
	return 0;
}

static ssize_t write_null(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	return n;
}

static ssize_t read_zero(struct file *f, void *buf, size_t n, loff_t *pos)
{
	memset(buf, 0, n);
	return n;
}

static ssize_t write_full(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	return n ? -ENOSPC : 0;
}

static ssize_t read_random(struct file *f, void *buf, size_t n, loff_t *pos)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = getrandom((char *)buf + done, n - done, 0);
		if (r < 0 && errno != EINTR)
			return done ? (ssize_t)done : -errno;
		if (r > 0)
			done += r;
	}
	return done;
}

/* Always ready, never at an end: the devices have no position to move. */
static unsigned poll_ready(struct file *f, struct poll_table *pt)
{
	return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
}

static loff_t llseek_zero(struct file *f, loff_t off, int whence)
{
	return f->pos = 0;
}

/* /dev/kmsg: a write is one log line, with an optional "<level>" prefix. There is no
 * log buffer to read back. */
static ssize_t write_kmsg(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	const char *s = buf, *end = s + n;
	if (n && *s == '<') {
		const char *gt = memchr(s, '>', MIN(n, (size_t)8));
		if (gt)
			s = gt + 1;
	}
	while (end > s && end[-1] == '\n')
		end--;
	printk("%.*s\n", (int)(end - s), s);
	return n;
}

static ssize_t read_kmsg(struct file *f, void *buf, size_t n, loff_t *pos)
{
	return f->flags & O_NONBLOCK ? -EAGAIN : 0;
}

static const struct file_ops null_fops = {
    .read = read_null,
    .write = write_null,
    .poll = poll_ready,
    .llseek = llseek_zero,
};

static const struct file_ops zero_fops = {
    .read = read_zero,
    .write = write_null,
    .poll = poll_ready,
    .llseek = llseek_zero,
};

static const struct file_ops full_fops = {
    .read = read_zero,
    .write = write_full,
    .poll = poll_ready,
    .llseek = llseek_zero,
};

static const struct file_ops random_fops = {
    .read = read_random,
    .write = write_null, /* entropy offered by the guest is not needed */
    .poll = poll_ready,
    .llseek = llseek_zero,
};

static const struct file_ops kmsg_fops = {
    .read = read_kmsg,
    .write = write_kmsg,
    .poll = poll_ready,
    .llseek = llseek_zero,
};

void mem_devices_register(void)
{
	register_chrdev(1, 3, "null", &null_fops);
	register_chrdev(1, 5, "zero", &zero_fops);
	register_chrdev(1, 7, "full", &full_fops);
	register_chrdev(1, 8, "random", &random_fops);
	register_chrdev(1, 9, "urandom", &random_fops);
	register_chrdev(1, 11, "kmsg", &kmsg_fops);
}
