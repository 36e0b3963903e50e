/* epoll, level-triggered (EPOLLET is taken as level-triggered: callers that drain to
 * EAGAIN see the same), with EPOLLONESHOT; and eventfd. An epoll instance watches
 * (fd, file) pairs without holding the files: when a file's last reference goes, every
 * instance forgets it, as Linux does. */
#include "internal.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>

struct epitem {
	struct list link;
	int fd;
	struct file *file;
	uint32_t events;
	uint64_t data;
	bool disabled; /* EPOLLONESHOT after it fired */
};

struct eventpoll {
	struct list items;
	struct list all_link;
};

static struct list all_eps = LIST_INIT(all_eps);
static const struct file_ops epoll_fops;

static void ep_remove(struct epitem *it)
{
	list_del(&it->link);
	free(it);
}

void eventpoll_release(struct file *f)
{
	list_for_each(e, &all_eps)
	{
		struct eventpoll *ep = list_entry(e, struct eventpoll, all_link);
		list_for_each_safe(i, nx, &ep->items)
		{
			struct epitem *it = list_entry(i, struct epitem, link);
			if (it->file == f)
				ep_remove(it);
		}
	}
}

static struct epitem *ep_find(struct eventpoll *ep, int fd, struct file *f)
{
	list_for_each(i, &ep->items)
	{
		struct epitem *it = list_entry(i, struct epitem, link);
		if (it->fd == fd && it->file == f)
			return it;
	}
	return NULL;
}

/* Collect up to max ready events (pt: register queues); ready items rotate to the
 * tail so that a small max does not starve the others. */
static int ep_scan(struct eventpoll *ep, struct epoll_event *out, int max, struct poll_table *pt)
{
	int n = 0;
	struct list *end = ep->items.prev;
	list_for_each_safe(i, nx, &ep->items)
	{
		struct epitem *it = list_entry(i, struct epitem, link);
		bool last = i == end;
		if (!it->disabled) {
			uint32_t mask = vfs_poll(it->file, pt) & it->events;
			if (mask && n < max) {
				if (out)
					out[n] = (struct epoll_event){.events = mask,
								      .data.u64 = it->data};
				n++;
				if (it->events & EPOLLONESHOT)
					it->disabled = true;
				list_del(&it->link);
				list_add_tail(&it->link, &ep->items);
			}
		}
		if (last || n == max)
			break;
	}
	return n;
}

static unsigned ep_poll(struct file *f, struct poll_table *pt)
{
	return ep_scan(f->priv, NULL, 1, pt) ? POLLIN | POLLRDNORM : 0;
}

static void ep_release(struct file *f)
{
	struct eventpoll *ep = f->priv;
	list_for_each_safe(i, nx, &ep->items) ep_remove(list_entry(i, struct epitem, link));
	list_del(&ep->all_link);
	free(ep);
}

static const struct file_ops epoll_fops = {
    .poll = ep_poll,
    .release = ep_release,
};

SYSCALL(epoll_create1)
{
	int flags = a[0];
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	struct eventpoll *ep = xzalloc(sizeof(*ep));
	list_init(&ep->items);
	list_add_tail(&ep->all_link, &all_eps);
	struct file *f = anon_file_new("[eventpoll]", 0, &epoll_fops, ep, O_RDWR);
	int fd = fd_install(f, flags & EPOLL_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0)
		fput(f);
	return fd;
}

SYSCALL(epoll_create)
{
	if ((int)a[0] <= 0)
		return -EINVAL;
	uint64_t b[6] = {0};
	return sys_epoll_create1(b);
}

SYSCALL(epoll_ctl)
{
	int epfd = a[0], op = a[1], fd = a[2];
	struct epoll_event ev = {0};
	if (op != EPOLL_CTL_DEL && copy_from_user(&ev, a[3], sizeof(ev)))
		return -EFAULT;
	struct file *ef, *f;
	int err = fget_checked(epfd, &ef);
	if (err)
		return err;
	if ((err = fget_checked(fd, &f))) {
		fput(ef);
		return err;
	}
	struct eventpoll *ep = ef->priv;
	struct epitem *it = ef->fop == &epoll_fops ? ep_find(ep, fd, f) : NULL;
	if (ef->fop != &epoll_fops || f == ef)
		err = -EINVAL;
	else if (!f->fop || !f->fop->poll)
		err = -EPERM; /* regular files and directories are always ready */
	else if (op == EPOLL_CTL_ADD && it)
		err = -EEXIST;
	else if (op != EPOLL_CTL_ADD && !it)
		err = -ENOENT;
	else if (op == EPOLL_CTL_ADD) {
		it = xzalloc(sizeof(*it));
		it->fd = fd;
		it->file = f;
		list_add_tail(&it->link, &ep->items);
	} else if (op == EPOLL_CTL_DEL) {
		ep_remove(it);
		it = NULL;
	} else if (op != EPOLL_CTL_MOD) {
		err = -EINVAL;
	}
	if (!err && it) {
		it->events = ev.events | EPOLLERR | EPOLLHUP;
		it->data = ev.data.u64;
		it->disabled = false;
	}
	fput(f);
	fput(ef);
	return err;
}

static long ep_wait(int epfd, uaddr_t uev, int max, uint64_t deadline, bool nowait)
{
	if (max <= 0 || (size_t)max > INT32_MAX / sizeof(struct epoll_event))
		return -EINVAL;
	struct file *ef;
	int err = fget_checked(epfd, &ef);
	if (err)
		return err;
	if (ef->fop != &epoll_fops) {
		fput(ef);
		return -EINVAL;
	}
	max = MIN(max, 1024);
	struct epoll_event *out = xmalloc(max * sizeof(*out));
	long n;
	for (;;) {
		struct poll_table pt = {.n = 0};
		n = ep_scan(ef->priv, out, max, nowait ? NULL : &pt);
		if (n || nowait)
			break;
		n = poll_sleep(&pt, deadline);
		if (n == -EINTR) {
			n = -EINTR; /* epoll_wait is never restarted (as Linux) */
			break;
		}
		if (n == -ETIMEDOUT)
			nowait = true;
	}
	if (n > 0 && copy_to_user(uev, out, n * sizeof(*out)))
		n = -EFAULT;
	free(out);
	fput(ef);
	return n;
}

static long ep_pwait(const uint64_t *a, uint64_t deadline, bool nowait)
{
	bool changed;
	int err = set_temp_sigmask(a[4], a[5], &changed);
	if (err)
		return err;
	long r = ep_wait(a[0], a[1], a[2], deadline, nowait);
	restore_temp_sigmask(changed, r);
	return r;
}

static void ms_deadline(int ms, uint64_t *deadline, bool *nowait)
{
	*nowait = ms == 0;
	*deadline = ms > 0 ? ktime_mono() + (uint64_t)ms * 1000000 : 0;
}

SYSCALL(epoll_wait)
{
	uint64_t deadline;
	bool nowait;
	ms_deadline(a[3], &deadline, &nowait);
	return ep_wait(a[0], a[1], a[2], deadline, nowait);
}

SYSCALL(epoll_pwait)
{
	uint64_t deadline;
	bool nowait;
	ms_deadline(a[3], &deadline, &nowait);
	return ep_pwait(a, deadline, nowait);
}

SYSCALL(epoll_pwait2)
{
	uint64_t deadline = 0;
	bool nowait = false;
	if (a[3]) {
		struct timespec ts;
		if (copy_from_user(&ts, a[3], sizeof(ts)))
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
		uint64_t ns = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		nowait = !ns;
		deadline = ktime_mono() + ns;
	}
	return ep_pwait(a, deadline, nowait);
}

/* --- eventfd ------------------------------------------------------------------------ */

struct eventfd {
	uint64_t count;
	bool semaphore;
	struct waitq wq; /* readers and writers both: a change wakes everyone */
};

static ssize_t efd_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	struct eventfd *e = f->priv;
	if (n < sizeof(uint64_t))
		return -EINVAL;
	while (!e->count) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (sleep_on(&e->wq, true))
			return -ERESTARTSYS;
	}
	uint64_t v = e->semaphore ? 1 : e->count;
	e->count -= v;
	memcpy(buf, &v, sizeof(v));
	wake_up(&e->wq);
	return sizeof(v);
}

static ssize_t efd_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	struct eventfd *e = f->priv;
	uint64_t v;
	if (n < sizeof(v))
		return -EINVAL;
	memcpy(&v, buf, sizeof(v));
	if (v == UINT64_MAX)
		return -EINVAL;
	while (UINT64_MAX - 1 - e->count < v) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (sleep_on(&e->wq, true))
			return -ERESTARTSYS;
	}
	e->count += v;
	wake_up(&e->wq);
	return sizeof(v);
}

static unsigned efd_poll(struct file *f, struct poll_table *pt)
{
	struct eventfd *e = f->priv;
	poll_wait(pt, &e->wq);
	return (e->count ? POLLIN | POLLRDNORM : 0) |
	       (e->count < UINT64_MAX - 1 ? POLLOUT | POLLWRNORM : 0);
}

static void efd_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops eventfd_fops = {
    .read = efd_read,
    .write = efd_write,
    .poll = efd_poll,
    .release = efd_release,
};

SYSCALL(eventfd2)
{
	int flags = a[1];
	if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	struct eventfd *e = xzalloc(sizeof(*e));
	e->count = (unsigned)a[0];
	e->semaphore = flags & EFD_SEMAPHORE;
	waitq_init(&e->wq);
	struct file *f = anon_file_new("[eventfd]", 0, &eventfd_fops, e,
				       O_RDWR | (flags & EFD_NONBLOCK ? O_NONBLOCK : 0));
	int fd = fd_install(f, flags & EFD_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0)
		fput(f);
	return fd;
}

SYSCALL(eventfd)
{
	uint64_t b[6] = {a[0], 0};
	return sys_eventfd2(b);
}
