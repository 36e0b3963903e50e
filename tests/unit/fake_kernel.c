/* The kernel services every unit test fakes the same way: see fake_kernel.h. What a
 * test needs beyond these stays in its own fake (fake_ext_env.c, fake_pseudo_kernel.c,
 * fake_tty_kernel.c, fake_vfs_kernel.c, fake_sched.c). */
#define _GNU_SOURCE
#include "fake_kernel.h"
#include "kernel/mm.h"
#include "kernel/platform.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/uio.h>
#include <unistd.h>

struct task *current;
uaddr_t task_size = USER_TOP;
uint64_t mem_total_bytes = 256ull << 20;

/* --- guest memory: the test's own, read and written as the kernel does it ----------- */

/* process_vm_readv/writev on ourselves: a bad address is -EFAULT rather than a crash,
 * and reading a whole chunk past the end of a string (strncpy_from_user) is no
 * overflow to the address sanitizer. */
static int self_rw(void *local, uaddr_t remote, size_t n, bool write)
{
	struct iovec l = {local, n}, r = {(void *)(uintptr_t)remote, n};
	ssize_t done = write ? process_vm_writev(getpid(), &l, 1, &r, 1, 0)
			     : process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	return done == (ssize_t)n ? 0 : -EFAULT;
}

static int self_read(struct uthread *t, void *dst, uaddr_t src, size_t n)
{
	return self_rw(dst, src, n, false);
}

static int self_write(struct uthread *t, uaddr_t dst, const void *src, size_t n)
{
	return self_rw((void *)src, dst, n, true);
}

static const struct platform self_platform = {
    .name = "self",
    .read = self_read,
    .write = self_write,
};
const struct platform *platform = &self_platform;

/* --- printk, captured --------------------------------------------------------------- */

extern void (*printk_sink)(const char *buf, size_t n); /* util.c, as main.c uses it */

char fake_log[16384];
static size_t fake_log_len;

static void log_sink(const char *buf, size_t n)
{
	n = MIN(n, sizeof(fake_log) - 1 - fake_log_len);
	memcpy(fake_log + fake_log_len, buf, n);
	fake_log_len += n;
	fake_log[fake_log_len] = 0;
	if (getenv("FAKE_VERBOSE"))
		fwrite(buf, 1, n, stderr);
}

void fake_log_clear(void)
{
	fake_log_len = 0;
	fake_log[0] = 0;
}

__attribute__((constructor)) static void capture_printk(void)
{
	printk_sink = log_sink;
}

/* --- the clock ---------------------------------------------------------------------- */

uint64_t fake_mono_ns = 1000000000ull;
uint64_t fake_real_ns = 1700000000ull * 1000000000ull; /* November 2023 */

uint64_t ktime_mono(void)
{
	return fake_mono_ns;
}

uint64_t ktime_real(void)
{
	return fake_real_ns;
}

/* --- the scheduler, with one task --------------------------------------------------- */

int (*fake_sleep_hook)(bool interruptible, uint64_t deadline);
int fake_sleeps, fake_wakeups;

int fake_sleep_alone(bool interruptible, uint64_t deadline)
{
	if (deadline) {
		fake_mono_ns = MAX(fake_mono_ns, deadline);
		return -ETIMEDOUT;
	}
	if (!interruptible)
		fail_msg("an uninterruptible sleep with a single task: nothing would wake it");
	return -EINTR;
}

void waitq_init(struct waitq *wq)
{
	list_init(&wq->sleepers);
}

void wake_up(struct waitq *wq)
{
	fake_wakeups++;
}

void wake_task(struct task *t)
{
	fake_wakeups++;
}

int sleep_on_many(struct waitq **wqs, int n, bool interruptible, uint64_t deadline)
{
	fake_sleeps++;
	return fake_sleep_hook ? fake_sleep_hook(interruptible, deadline)
			       : fake_sleep_alone(interruptible, deadline);
}

/* A lock is never contended: taking it twice would deadlock in the kernel. */
void kmutex_init(struct kmutex *m)
{
	m->owner = NULL;
	waitq_init(&m->wq);
}

void kmutex_lock(struct kmutex *m)
{
	if (m->owner)
		fail_msg("kmutex taken recursively");
	m->owner = current ? current : (struct task *)m;
}

void kmutex_unlock(struct kmutex *m)
{
	if (!m->owner)
		fail_msg("kmutex released while free");
	m->owner = NULL;
}

/* --- processes ---------------------------------------------------------------------- */

struct process *fake_procs[FAKE_MAX_PROCS];

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
		list_for_each(it, &p->threads)
		{
			struct task *t = list_entry(it, struct task, thread_link);
			if (t->tid == tid)
				return t;
		}
	}
	return NULL;
}
