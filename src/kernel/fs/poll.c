/* Waiting for many files at once: poll(2), ppoll(2), select(2) and pselect6(2). Each
 * pass asks every file for its ready mask and collects its wait queues; if nothing is
 * ready the task sleeps on all of them (or, when there were more queues than the table
 * holds, on a short tick) and asks again. */
#include "internal.h"
#include <poll.h>
#include <sys/select.h>

#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
#define POLL_TICK_NS 10000000ULL
#define POLLIN_SET (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define POLLEX_SET (POLLPRI)

unsigned vfs_poll(struct file *f, struct poll_table *pt)
{
	return f->fop && f->fop->poll ? f->fop->poll(f, pt) : DEFAULT_POLLMASK;
}

int poll_sleep(struct poll_table *pt, uint64_t deadline)
{
	int n = pt->n;
	uint64_t until = deadline;
	bool ticking = n > (int)ARRAY_SIZE(pt->wq);
	if (ticking) {
		/* too many queues to sleep on: look again soon */
		uint64_t tick = ktime_mono() + POLL_TICK_NS;
		until = deadline ? MIN(deadline, tick) : tick;
		n = ARRAY_SIZE(pt->wq);
	}
	int err = sleep_on_many(pt->wq, n, true, until);
	if (err == -ETIMEDOUT && ticking && (!deadline || ktime_mono() < deadline))
		return 0;
	return err;
}

/* select mode: revents are exactly the asked events and a bad fd is -EBADF. */
static long do_poll(struct pollfd *pfd, unsigned n, uint64_t deadline, bool nowait, bool sel)
{
	for (;;) {
		struct poll_table pt = {.n = 0};
		long count = 0;
		for (unsigned k = 0; k < n; k++) {
			pfd[k].revents = 0;
			if (pfd[k].fd < 0)
				continue;
			struct file *f = fget(pfd[k].fd);
			if (!f) {
				if (sel)
					return -EBADF;
				pfd[k].revents = POLLNVAL;
				count++;
				continue;
			}
			unsigned mask = vfs_poll(f, nowait ? NULL : &pt);
			fput(f);
			mask &= sel ? (unsigned)pfd[k].events
				    : (unsigned)pfd[k].events | POLLERR | POLLHUP;
			pfd[k].revents = mask;
			if (mask)
				count++;
		}
		if (count || nowait)
			return count;
		int err = poll_sleep(&pt, deadline);
		if (err == -EINTR)
			return -ERESTARTNOHAND;
		if (err == -ETIMEDOUT)
			nowait = true; /* one last look */
	}
}

/* --- timeouts and signal masks ------------------------------------------------------ */

/* A relative timespec as a deadline; *nowait for a zero timeout. */
static int ts_deadline(const struct timespec *ts, uint64_t *deadline, bool *nowait)
{
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		return -EINVAL;
	uint64_t ns = (uint64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
	*nowait = ns == 0;
	*deadline = ktime_mono() + ns;
	return 0;
}

static struct timespec remaining(uint64_t deadline)
{
	uint64_t now = ktime_mono(), ns = deadline > now ? deadline - now : 0;
	return (struct timespec){ns / 1000000000, ns % 1000000000};
}

/* ppoll, pselect6, epoll_pwait: the mask holds during the call; if a signal ends it,
 * the old mask comes back only after the handler runs (restore_saved_mask). */
int set_temp_sigmask(uaddr_t umask, size_t size, bool *changed)
{
	*changed = false;
	if (!umask)
		return 0;
	if (size != sizeof(ksigset_t))
		return -EINVAL;
	ksigset_t m;
	if (copy_from_user(&m, umask, sizeof(m)))
		return -EFAULT;
	current->saved_mask = current->blocked;
	current->blocked = m & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	*changed = true;
	return 0;
}

void restore_temp_sigmask(bool changed, long ret)
{
	if (!changed)
		return;
	if (ret == -ERESTARTNOHAND || ret == -EINTR)
		current->restore_saved_mask = true;
	else
		current->blocked = current->saved_mask;
}

/* --- poll --------------------------------------------------------------------------- */

static long poll_user(uaddr_t ufds, unsigned long n, uint64_t deadline, bool nowait)
{
	if (n > cur_rlimit(RLIMIT_NOFILE) || n > (1u << 20))
		return -EINVAL;
	struct pollfd *pfd = xmalloc((n ? n : 1) * sizeof(*pfd));
	long r = copy_from_user(pfd, ufds, n * sizeof(*pfd));
	if (!r) {
		r = do_poll(pfd, n, deadline, nowait, false);
		/* only revents go back */
		for (unsigned long k = 0; r >= 0 && k < n; k++)
			if (copy_to_user(ufds + k * sizeof(*pfd) + offsetof(struct pollfd, revents),
					 &pfd[k].revents, sizeof(pfd[k].revents)))
				r = -EFAULT;
	}
	free(pfd);
	return r;
}

SYSCALL(poll)
{
	int ms = a[2];
	uint64_t deadline = ms > 0 ? ktime_mono() + (uint64_t)ms * 1000000 : 0;
	return poll_user(a[0], a[1], deadline, ms == 0);
}

SYSCALL(ppoll)
{
	struct timespec ts;
	uint64_t deadline = 0;
	bool nowait = false, changed;
	if (a[2] && copy_from_user(&ts, a[2], sizeof(ts)))
		return -EFAULT;
	int err = a[2] ? ts_deadline(&ts, &deadline, &nowait) : 0;
	if (!err)
		err = set_temp_sigmask(a[3], a[4], &changed);
	if (err)
		return err;
	long r = poll_user(a[0], a[1], deadline, nowait);
	restore_temp_sigmask(changed, r);
	if (a[2] && !nowait) {
		ts = remaining(deadline);
		copy_to_user(a[2], &ts, sizeof(ts));
	}
	return r;
}

/* --- select ------------------------------------------------------------------------- */

#define BITS_PER_U64 64

static bool bit_test(const uint64_t *set, int fd)
{
	return set && (set[fd / BITS_PER_U64] >> (fd % BITS_PER_U64)) & 1;
}

static void bit_set(uint64_t *set, int fd)
{
	set[fd / BITS_PER_U64] |= 1ULL << (fd % BITS_PER_U64);
}

static long do_select(int n, uaddr_t uin, uaddr_t uout, uaddr_t uex, uint64_t deadline, bool nowait)
{
	if (n < 0)
		return -EINVAL;
	int max = current->files->max;
	n = MIN(n, max);
	size_t words = (n + BITS_PER_U64 - 1) / BITS_PER_U64, bytes = words * 8;
	uint64_t *sets = xzalloc(3 * bytes + 1), *in = uin ? sets : NULL,
		 *out = uout ? sets + words : NULL, *ex = uex ? sets + 2 * words : NULL;
	struct pollfd *pfd = xmalloc((n ? n : 1) * sizeof(*pfd));
	long r = 0;
	if ((in && copy_from_user(in, uin, bytes)) || (out && copy_from_user(out, uout, bytes)) ||
	    (ex && copy_from_user(ex, uex, bytes)))
		r = -EFAULT;
	unsigned cnt = 0;
	for (int fd = 0; !r && fd < n; fd++) {
		short ev = (bit_test(in, fd) ? POLLIN_SET : 0) |
			   (bit_test(out, fd) ? POLLOUT_SET : 0) |
			   (bit_test(ex, fd) ? POLLEX_SET : 0);
		if (ev)
			pfd[cnt++] = (struct pollfd){.fd = fd, .events = ev};
	}
	if (!r)
		r = do_poll(pfd, cnt, deadline, nowait, true);
	if (r >= 0) {
		memset(sets, 0, 3 * bytes);
		r = 0;
		for (unsigned k = 0; k < cnt; k++) {
			short rev = pfd[k].revents;
			if (in && (rev & POLLIN_SET)) {
				bit_set(in, pfd[k].fd);
				r++;
			}
			if (out && (rev & POLLOUT_SET)) {
				bit_set(out, pfd[k].fd);
				r++;
			}
			if (ex && (rev & POLLEX_SET)) {
				bit_set(ex, pfd[k].fd);
				r++;
			}
		}
		if ((in && copy_to_user(uin, in, bytes)) ||
		    (out && copy_to_user(uout, out, bytes)) || (ex && copy_to_user(uex, ex, bytes)))
			r = -EFAULT;
	}
	free(pfd);
	free(sets);
	return r;
}

SYSCALL(select)
{
	struct timeval tv;
	uint64_t deadline = 0;
	bool nowait = false;
	if (a[4]) {
		if (copy_from_user(&tv, a[4], sizeof(tv)))
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0)
			return -EINVAL;
		/* Linux accepts tv_usec above a second and normalises it */
		struct timespec ts = {tv.tv_sec + tv.tv_usec / 1000000,
				      tv.tv_usec % 1000000 * 1000};
		ts_deadline(&ts, &deadline, &nowait);
	}
	long r = do_select(a[0], a[1], a[2], a[3], deadline, nowait);
	if (a[4] && !nowait) {
		struct timespec ts = remaining(deadline);
		tv = (struct timeval){ts.tv_sec, ts.tv_nsec / 1000};
		copy_to_user(a[4], &tv, sizeof(tv));
	}
	return r;
}

SYSCALL(pselect6)
{
	struct timespec ts;
	uint64_t deadline = 0;
	bool nowait = false, changed = false;
	struct {
		uint64_t ss, ss_len;
	} sig = {0, 0};
	if (a[4] && copy_from_user(&ts, a[4], sizeof(ts)))
		return -EFAULT;
	if (a[5] && copy_from_user(&sig, a[5], sizeof(sig)))
		return -EFAULT;
	int err = a[4] ? ts_deadline(&ts, &deadline, &nowait) : 0;
	if (!err)
		err = set_temp_sigmask(sig.ss, sig.ss_len, &changed);
	if (err)
		return err;
	long r = do_select(a[0], a[1], a[2], a[3], deadline, nowait);
	restore_temp_sigmask(changed, r);
	if (a[4] && !nowait) {
		ts = remaining(deadline);
		copy_to_user(a[4], &ts, sizeof(ts));
	}
	return r;
}
