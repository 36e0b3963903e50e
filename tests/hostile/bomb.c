/* bomb: running the guest out of tasks and memory through fork and clone. Every guest
 * task is a host task and its memory host memory, so the guest kernel's limits are the
 * host's protection.
 *
 *   forkbomb    fork until fork fails: it must fail with EAGAIN (RLIMIT_NPROC, pid
 *               limit) or ENOMEM before BOMB_CAP processes; then everything is killed and
 *               reaped and fork works again
 *   threadbomb  clone(CLONE_THREAD) threads that need no stack, until clone fails: as
 *               above (Linux counts threads in RLIMIT_NPROC; the cap keeps the host safe
 *               if nothing stops it)
 *   forkmem     with mem=64M: a process with 40 MiB of touched memory forks children that
 *               each dirty their copy: fork must fail (ENOMEM) before the children hold
 *               far more host memory than mem= (Linux's strict overcommit: ENOMEM)
 */
#include "hostile.h"
#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#define BOMB_CAP 4160 /* RLIMIT_NPROC's default (4096) + 64 */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- forkbomb ----------------------------------------------------------------------- */
static void attack_forkbomb(void)
{
	static pid_t kids[BOMB_CAP];
	int n = 0, err = 0;
	double t0 = now();
	struct rlimit rl;
	getrlimit(RLIMIT_NPROC, &rl);
	INFO("forkbomb", "RLIMIT_NPROC %ld/%ld", (long)rl.rlim_cur, (long)rl.rlim_max);
	while (n < BOMB_CAP) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			for (;;)
				raw0(SYS_pause);
		}
		kids[n++] = p;
	}
	double t1 = now();
	if (n >= BOMB_CAP)
		FAIL("forkbomb", "%d forks succeeded: nothing bounds the guest's processes", n);
	else if (err == EAGAIN || err == ENOMEM)
		PASS("forkbomb", "fork failed with %s after %d children (%.1fs)",
		     strerrorname_np(err), n, t1 - t0);
	else
		FAIL("forkbomb", "fork failed with %s after %d children, want EAGAIN",
		     strerrorname_np(err), n);
	/* The guest is still responsive while full: */
	if (getppid() == 1 && write(1, "", 0) == 0)
		PASS("forkbomb", "syscalls still work at the limit");
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	int reaped = 0;
	while (reaped < n) {
		pid_t r = waitpid(-1, NULL, 0);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0)
			reaped++;
	}
	if (reaped == n)
		PASS("forkbomb", "killed and reaped all %d children (%.1fs)", n, now() - t1);
	else
		FAIL("forkbomb", "reaped %d of %d children", reaped, n);
	pid_t p = fork();
	if (p == 0)
		_exit(3);
	int st = 0;
	if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 3)
		PASS("forkbomb", "fork works again afterwards");
	else
		FAIL("forkbomb", "fork after the bomb: pid %d status %#x (%s)", p, st,
		     strerror(errno));
}

/* --- threadbomb --------------------------------------------------------------------- */
/* A thread that needs no stack: clone returns 0 in it and it pauses forever. */
static long clone_pauser(void)
{
	long flags =
	    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
	long ret;
	__asm__ volatile("xor %%esi, %%esi\n\t" /* no new stack: the child never uses one */
			 "xor %%edx, %%edx\n\t"
			 "xor %%r10d, %%r10d\n\t"
			 "xor %%r8d, %%r8d\n\t"
			 "syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 2f\n"
			 "1:\n\t"
			 "mov $34, %%eax\n\t" /* pause */
			 "syscall\n\t"
			 "jmp 1b\n"
			 "2:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone), "D"(flags)
			 : "rsi", "rdx", "r10", "r8", "rcx", "r11", "memory");
	return ret;
}

static void attack_threadbomb(void)
{
	int n = 0;
	long err = 0;
	double t0 = now();
	while (n < BOMB_CAP) {
		long r = clone_pauser();
		if (r < 0) {
			err = r;
			break;
		}
		n++;
	}
	if (n >= BOMB_CAP)
		FAIL("threadbomb",
		     "%d threads created: nothing bounds the guest's threads (each "
		     "is a host thread; Linux counts them in RLIMIT_NPROC)",
		     n);
	else if (err == -EAGAIN || err == -ENOMEM)
		PASS("threadbomb", "clone(CLONE_THREAD) failed with %s after %d threads (%.1fs)",
		     errname(err), n, now() - t0);
	else
		FAIL("threadbomb",
		     "clone(CLONE_THREAD) failed with %s after %d threads, want "
		     "EAGAIN",
		     errname(err), n);
	if (write(1, "", 0) == 0)
		PASS("threadbomb", "syscalls still work with %d threads", n);
	/* exit_group (child_done) takes every thread with it. */
}

/* --- forkmem ------------------------------------------------------------------------ */
#define FORKMEM_MB 40
#define FORKMEM_KIDS 6

static void attack_forkmem(void)
{
	size_t len = (size_t)FORKMEM_MB << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		FAIL("forkmem", "mmap %d MiB: %s (run with mem=64M)", FORKMEM_MB, strerror(errno));
		return;
	}
	memset(m, 1, len);
	pid_t kids[FORKMEM_KIDS];
	int n = 0, err = 0;
	int ready[2];
	if (pipe(ready))
		return;
	while (n < FORKMEM_KIDS) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			/* Dirty every page: each becomes the child's own host page. */
			for (size_t i = 0; i < len; i += 4096)
				m[i] = 2;
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			for (;;)
				raw0(SYS_pause);
		}
		kids[n++] = p;
		char c;
		if (read(ready[0], &c, 1) != 1)
			break;
	}
	long held = (long)(n + 1) * FORKMEM_MB;
	if (n >= FORKMEM_KIDS)
		FAIL("forkmem",
		     "%d forks of a %d MiB process succeeded and each dirtied its copy: "
		     "the guest holds %ld MiB of host memory with mem=64M",
		     n, FORKMEM_MB, held);
	else if (err == ENOMEM || err == EAGAIN)
		PASS("forkmem", "fork failed with %s after %d children (%ld MiB in use)",
		     strerrorname_np(err), n, held);
	else
		FAIL("forkmem", "fork stopped after %d children: %s", n,
		     err ? strerrorname_np(err) : "a child died");
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
}

static const struct attack attacks[] = {
    {"forkbomb", attack_forkbomb, END_EXIT0, 0, 240,
     "fork until it fails: EAGAIN before 4160 processes, then recover"},
    {"threadbomb", attack_threadbomb, END_EXIT0, 0, 240,
     "clone(CLONE_THREAD) until it fails: EAGAIN before 4160 threads"},
    {"forkmem", attack_forkmem, END_EXIT0, 0, 120,
     "(mem=64M) fork a 40 MiB process and dirty each copy: ENOMEM"},
};

int main(int argc, char **argv)
{
	return hostile_main(argc, argv, attacks, sizeof(attacks) / sizeof(attacks[0]));
}
