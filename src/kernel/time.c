/* Clocks, sleeps and interval timers. Guests usually read clocks through the host vDSO
 * without entering the kernel; these are the syscall paths. */
#define _GNU_SOURCE
#include "process.h"
#include "syscalls.h"
#include <sys/time.h>

static int read_clock(clockid_t id, struct timespec *ts)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
		return clock_gettime(id, ts) ? -errno : 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID: {
		/* Guest CPU time is not metered separately; time since start bounds it. */
		uint64_t ns = ktime_mono() - boot_mono_ns - current->proc->start_time;
		ts->tv_sec = ns / 1000000000;
		ts->tv_nsec = ns % 1000000000;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

SYSCALL(clock_gettime)
{
	struct timespec ts;
	int err = read_clock((clockid_t)a[0], &ts);
	return err ? err : copy_to_user(a[1], &ts, sizeof(ts));
}

SYSCALL(clock_getres)
{
	struct timespec ts;
	int err = read_clock((clockid_t)a[0], &ts);
	if (err)
		return err;
	ts.tv_sec = 0;
	ts.tv_nsec = 1;
	return a[1] ? copy_to_user(a[1], &ts, sizeof(ts)) : 0;
}

/* The guest may not move the host's clock. */
SYSCALL(clock_settime)
{
	return -EPERM;
}

SYSCALL(settimeofday)
{
	return -EPERM;
}

SYSCALL(gettimeofday)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	if (a[0] && copy_to_user(a[0], &tv, sizeof(tv)))
		return -EFAULT;
	if (a[1]) {
		struct timezone tz = {0, 0};
		return copy_to_user(a[1], &tz, sizeof(tz));
	}
	return 0;
}

SYSCALL(time)
{
	int64_t t = (int64_t)(ktime_real() / 1000000000);
	if (a[0] && PUT_USER(t, a[0]))
		return -EFAULT;
	return t;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000ull + ts->tv_nsec;
}

/* Sleep until the monotonic deadline; on a signal, report what remains. */
static long sleep_until(uint64_t deadline, uaddr_t rem)
{
	struct waitq never = WAITQ_INIT(never);
	int r = 0;
	while (r != -ETIMEDOUT) {
		r = sleep_on_many((struct waitq *[]){&never}, 1, true, deadline);
		if (r == -EINTR) {
			if (rem) {
				uint64_t now = ktime_mono(),
					 left = deadline > now ? deadline - now : 0;
				struct timespec ts = {left / 1000000000, left % 1000000000};
				copy_to_user(rem, &ts, sizeof(ts));
			}
			return -EINTR;
		}
	}
	return 0;
}

static int get_ts(uaddr_t u, struct timespec *ts)
{
	if (copy_from_user(ts, u, sizeof(*ts)))
		return -EFAULT;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		return -EINVAL;
	return 0;
}

SYSCALL(nanosleep)
{
	struct timespec ts;
	int err = get_ts(a[0], &ts);
	if (err)
		return err;
	return sleep_until(ktime_mono() + ts_ns(&ts), a[1]);
}

SYSCALL(clock_nanosleep)
{
	clockid_t id = (clockid_t)a[0];
	struct timespec ts;
	int err = get_ts(a[2], &ts);
	if (err)
		return err;
	if (id != CLOCK_REALTIME && id != CLOCK_MONOTONIC && id != CLOCK_BOOTTIME)
		return id == CLOCK_THREAD_CPUTIME_ID ? -EINVAL : -EOPNOTSUPP;
	uint64_t ns = ts_ns(&ts), deadline;
	if (a[1] & TIMER_ABSTIME) {
		uint64_t now = id == CLOCK_REALTIME ? ktime_real() : ktime_mono();
		deadline = ktime_mono() + (ns > now ? ns - now : 0);
		return sleep_until(deadline, 0);
	}
	return sleep_until(ktime_mono() + ns, a[3]);
}

static void itimer_fire(struct ktimer *kt)
{
	struct itimer *it = container_of(kt, struct itimer, timer);
	struct process *p = container_of(it, struct process, itimer_real);
	struct ksiginfo info = {.signo = SIGALRM, .code = SI_TIMER};
	send_signal(p, SIGALRM, &info);
	if (it->interval_ns)
		ktimer_arm(kt, kt->expires + it->interval_ns);
}

static void itimer_get(struct process *p, struct itimerval *v)
{
	struct itimer *it = &p->itimer_real;
	uint64_t left = 0, now = ktime_mono();
	if (it->timer.armed)
		left = it->timer.expires > now ? it->timer.expires - now : 1000;
	v->it_value.tv_sec = left / 1000000000;
	v->it_value.tv_usec = (left % 1000000000) / 1000;
	v->it_interval.tv_sec = it->interval_ns / 1000000000;
	v->it_interval.tv_usec = (it->interval_ns % 1000000000) / 1000;
}

static void itimer_set(struct process *p, const struct itimerval *v)
{
	struct itimer *it = &p->itimer_real;
	it->timer.fn = itimer_fire;
	ktimer_cancel(&it->timer);
	it->interval_ns = v->it_interval.tv_sec * 1000000000ull + v->it_interval.tv_usec * 1000ull;
	uint64_t val = v->it_value.tv_sec * 1000000000ull + v->it_value.tv_usec * 1000ull;
	if (val)
		ktimer_arm(&it->timer, ktime_mono() + val);
}

SYSCALL(setitimer)
{
	struct itimerval nv, old;
	if (a[1] && copy_from_user(&nv, a[1], sizeof(nv)))
		return -EFAULT;
	if (a[0] != ITIMER_REAL)
		return a[0] <= ITIMER_PROF ? 0 : -EINVAL; /* CPU-time timers: not metered */
	itimer_get(current->proc, &old);
	if (a[1])
		itimer_set(current->proc, &nv);
	return a[2] ? copy_to_user(a[2], &old, sizeof(old)) : 0;
}

SYSCALL(getitimer)
{
	struct itimerval v = {0};
	if (a[0] == ITIMER_REAL)
		itimer_get(current->proc, &v);
	else if (a[0] > ITIMER_PROF)
		return -EINVAL;
	return copy_to_user(a[1], &v, sizeof(v));
}

SYSCALL(alarm)
{
	struct itimerval old, nv = {{0, 0}, {(time_t)a[0], 0}};
	itimer_get(current->proc, &old);
	itimer_set(current->proc, &nv);
	return old.it_value.tv_sec +
	       (old.it_value.tv_usec >= 500000 || (!old.it_value.tv_sec && old.it_value.tv_usec));
}
