/* Unix98 pseudo-terminals: opening /dev/ptmx makes a master file and a slave tty that
 * appears as /dev/pts/N (devpts). What the master writes is the slave's keyboard input
 * (through its line discipline); what the slave writes, the master reads. */
#include "tty.h"
#include "../fs/fs.h"
#include "../task.h"
#include <poll.h>
#include <sys/sysmacros.h>

#define PTY_BUF 8192 /* slave output waiting for the master; a power of two */

struct pty {
	struct tty tty; /* the slave */
	unsigned idx;
	bool locked; /* until unlockpt() (TIOCSPTLCK 0) */
	bool master_open;
	bool other_closed; /* every slave file was closed: master reads -EIO */
	int slave_opens;
	struct pty_info info;
	size_t mhead, mtail;
	uint8_t mbuf[PTY_BUF];
	struct waitq mread_wait, mwrite_wait;
};

static struct pty *ptys[PTY_MAX];

bool pty_info(unsigned idx, struct pty_info *info)
{
	if (idx >= PTY_MAX || !ptys[idx] || !ptys[idx]->master_open)
		return false;
	if (info)
		*info = ptys[idx]->info;
	return true;
}

static void pty_free(struct pty *p)
{
	ptys[p->idx] = NULL;
	tty_remove(&p->tty);
	free(p);
}

/* --- the slave's device side ------------------------------------------------------- */

static size_t slave_write_room(struct tty *t)
{
	struct pty *p = t->priv;

	/* With the master gone, output is discarded rather than blocking. */
	return p->master_open ? PTY_BUF - (p->mhead - p->mtail) : PTY_BUF;
}

static ssize_t slave_write(struct tty *t, const char *buf, size_t n)
{
	struct pty *p = t->priv;

	if (!p->master_open)
		return (ssize_t)n;
	n = MIN(n, slave_write_room(t));
	for (size_t i = 0; i < n; i++)
		p->mbuf[(p->mhead++) & (PTY_BUF - 1)] = (uint8_t)buf[i];
	wake_up(&p->mread_wait);
	return (ssize_t)n;
}

static void slave_unthrottle(struct tty *t)
{
	struct pty *p = t->priv;

	wake_up(&p->mwrite_wait);
}

static int slave_open(struct tty *t, struct file *f)
{
	struct pty *p = t->priv;

	if (p->locked || !p->master_open)
		return -EIO;
	p->slave_opens++;
	p->other_closed = false;
	return 0;
}

static void slave_close(struct tty *t, struct file *f)
{
	struct pty *p = t->priv;

	if (--p->slave_opens)
		return;
	p->other_closed = true;
	wake_up(&p->mread_wait);
	if (!p->master_open)
		pty_free(p);
}

static void slave_flush_output(struct tty *t)
{
	struct pty *p = t->priv;

	p->mtail = p->mhead;
}

static size_t slave_chars_in_buffer(struct tty *t)
{
	struct pty *p = t->priv;

	return p->mhead - p->mtail;
}

static const struct tty_ops slave_ops = {
    .write = slave_write,
    .write_room = slave_write_room,
    .unthrottle = slave_unthrottle,
    .open = slave_open,
    .close = slave_close,
    .flush_output = slave_flush_output,
    .chars_in_buffer = slave_chars_in_buffer,
};

/* --- the master file --------------------------------------------------------------- */

static int ptmx_open(struct inode *inode, struct file *f)
{
	struct process *cur = current ? current->proc : NULL;
	unsigned idx = 0;
	char name[16];
	struct pty *p;

	while (idx < PTY_MAX && ptys[idx])
		idx++;
	if (idx == PTY_MAX)
		return -ENOSPC;
	p = xzalloc(sizeof(*p));
	snprintf(name, sizeof(name), "pts/%u", idx);
	tty_init(&p->tty, &slave_ops, name, makedev(PTY_SLAVE_MAJOR, idx));
	p->tty.priv = p;
	p->idx = idx;
	p->locked = true;
	p->master_open = true;
	/* The slave belongs to whoever opened the master: grantpt() has nothing to do. */
	p->info.uid = cur ? cur->cred.fsuid : 0;
	p->info.gid = cur ? cur->cred.fsgid : 0;
	p->info.ctime = current_time();
	waitq_init(&p->mread_wait);
	waitq_init(&p->mwrite_wait);
	ptys[idx] = p;
	f->priv = p;
	devpts_refresh(idx);
	return 0;
}

static ssize_t ptm_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	struct pty *p = f->priv;
	size_t c = 0;

	if (!n)
		return 0;
	while (p->mhead == p->mtail) {
		if (p->other_closed)
			return -EIO;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (sleep_on(&p->mread_wait, true))
			return -ERESTARTSYS;
	}
	while (c < n && p->mtail != p->mhead) {
		size_t off = p->mtail & (PTY_BUF - 1);
		size_t k = MIN(n - c, MIN(p->mhead - p->mtail, PTY_BUF - off));

		memcpy((char *)buf + c, p->mbuf + off, k);
		p->mtail += k;
		c += k;
	}
	wake_up(&p->tty.write_wait);
	return (ssize_t)c;
}

static ssize_t ptm_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	struct pty *p = f->priv;
	size_t done = 0;

	while (done < n) {
		size_t room = tty_receive_room(&p->tty);

		if (!room) {
			if (f->flags & O_NONBLOCK)
				return done ? (ssize_t)done : -EAGAIN;
			if (sleep_on(&p->mwrite_wait, true))
				return done ? (ssize_t)done : -ERESTARTSYS;
			continue;
		}
		room = MIN(room, n - done);
		tty_receive(&p->tty, (const char *)buf + done, room);
		done += room;
	}
	return (ssize_t)done;
}

static unsigned ptm_poll(struct file *f, struct poll_table *pt)
{
	struct pty *p = f->priv;
	unsigned mask = 0;

	if (pt) {
		poll_wait(pt, &p->mread_wait);
		poll_wait(pt, &p->mwrite_wait);
	}
	if (p->mhead != p->mtail)
		mask |= POLLIN | POLLRDNORM;
	else if (p->other_closed)
		mask |= POLLHUP;
	if (tty_receive_room(&p->tty))
		mask |= POLLOUT | POLLWRNORM;
	return mask;
}

/* TIOCGPTPEER: open the slave for the caller without a path lookup of its own. Ours
 * does look it up, at /dev/pts, where devpts is mounted. */
static long open_peer(struct pty *p, int flags)
{
	char path[32];
	struct file *f;
	int fd, err;

	if (flags & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	snprintf(path, sizeof(path), "/dev/pts/%u", p->idx);
	err = kern_open(path, flags, 0, &f);
	if (err)
		return err;
	if (f->priv != &p->tty) {
		fput(f); /* something else is mounted there */
		return -EIO;
	}
	fd = fd_install(f, flags & O_CLOEXEC);
	if (fd < 0)
		fput(f);
	return fd;
}

static long ptm_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct pty *p = f->priv;
	int v;

	switch (cmd) {
	case TIOCGPTN:
		v = (int)p->idx;
		return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
	case TIOCSPTLCK:
		if (copy_from_user(&v, arg, sizeof(v)))
			return -EFAULT;
		p->locked = v != 0;
		return 0;
	case TIOCGPTLCK:
		v = p->locked;
		return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
	case FIONREAD:
		v = (int)(p->mhead - p->mtail);
		return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
	case TIOCGPTPEER:
		return open_peer(p, (int)arg);
	}
	/* Termios, window size and the rest act on the slave. */
	return tty_ioctl(&p->tty, f, cmd, arg, true);
}

static void ptm_release(struct file *f)
{
	struct pty *p = f->priv;

	p->master_open = false;
	tty_hangup(&p->tty);
	if (!p->slave_opens)
		pty_free(p);
}

static loff_t ptm_llseek(struct file *f, loff_t off, int whence)
{
	return -ESPIPE;
}

static const struct file_ops ptmx_fops = {
    .open = ptmx_open,
    .read = ptm_read,
    .write = ptm_write,
    .ioctl = ptm_ioctl,
    .poll = ptm_poll,
    .llseek = ptm_llseek,
    .release = ptm_release,
};

void pty_init(void)
{
	register_chrdev(5, 2, "ptmx", &ptmx_fops);
	register_chrdev(PTY_SLAVE_MAJOR, CHRDEV_ANY_MINOR, "pts", &tty_fops);
	devpts_init();
}
