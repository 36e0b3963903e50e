/* The kernel services the VFS core uses, faked for unit tests: guest memory is host
 * memory (a guest address is a host pointer), nothing ever sleeps (a sleep reports a
 * signal at once), and signals sent are only counted. */
#include "../../src/kernel/task.h"
#include <limits.h>
#include <time.h>

struct task *current;
int fake_sleeps;   /* sleep_on_many calls */
int fake_sigpipes; /* SIGPIPEs sent */

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
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

int copy_from_user(void *dst, uaddr_t src, size_t n)
{
	if (n && !src)
		return -EFAULT;
	memcpy(dst, (const void *)(uintptr_t)src, n);
	return 0;
}

int copy_to_user(uaddr_t dst, const void *src, size_t n)
{
	if (n && !dst)
		return -EFAULT;
	memcpy((void *)(uintptr_t)dst, src, n);
	return 0;
}

long strncpy_from_user(char *dst, uaddr_t src, size_t max)
{
	if (!src)
		return -EFAULT;
	size_t n = strnlen((const char *)(uintptr_t)src, max);
	if (n == max)
		return -ENAMETOOLONG;
	memcpy(dst, (const char *)(uintptr_t)src, n + 1);
	return n;
}

int getname(uaddr_t src, char **out)
{
	char *buf = xmalloc(PATH_MAX);
	long n = strncpy_from_user(buf, src, PATH_MAX);
	if (n <= 0) {
		free(buf);
		return n ? n : -ENOENT;
	}
	*out = buf;
	return 0;
}

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t ktime_mono(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t ktime_real(void)
{
	return clock_ns(CLOCK_REALTIME);
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
	fake_sleeps++;
	if (deadline)
		return -ETIMEDOUT;
	return -EINTR;
}

int send_signal_task(struct task *t, int sig, const struct ksiginfo *info)
{
	if (sig == SIGPIPE)
		fake_sigpipes++;
	return 0;
}

int pagecache_sync(struct super_block *sb)
{
	return 0;
}

/* The guest memory size (mem=), which bounds pipe buffers. */
uint64_t mem_total_bytes = 256ull << 20;
