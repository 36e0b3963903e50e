/* bench/getppid.c: the host's floor for an intercepted syscall, to compare the seccomp
 * platform's getppid round trip with (tests/unit/test_skas prints that one; bench/run.sh
 * measures it in a booted guest).
 *
 *   cc -O2 -o getppid bench/getppid.c && ./getppid [ITERATIONS]
 *
 * Prints "native_getppid_us X" (a plain syscall) and "seccomp_trap_getppid_us Y": the
 * same call trapped by a SECCOMP_RET_TRAP filter into an in-process SIGSYS handler that
 * answers it, which is the least any seccomp platform pays without patching syscall
 * instructions (signal frame with the full XSAVE state, handler, rt_sigreturn). The
 * platform adds its hand-off to the kernel process on top of that. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double per_call(long n)
{
	double t0 = now_us();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return (now_us() - t0) / n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	if (n <= 0)
		n = 200000;
	per_call(n / 10);
	printf("native_getppid_us %.3f\n", per_call(n));

	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	sigaction(SIGSYS, &sa, NULL);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("seccomp");
		return 1;
	}
	if (syscall(SYS_getppid) != 4242) {
		fprintf(stderr, "the filter did not trap\n");
		return 1;
	}
	per_call(n / 10);
	printf("seccomp_trap_getppid_us %.3f\n", per_call(n));
	return 0;
}
