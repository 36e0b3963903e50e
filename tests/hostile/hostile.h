/* tests/hostile/hostile.h: what the hostile guest programs share.
 *
 * Each program runs as the guest's PID 1 (init=/hostile/NAME ARGS...). It runs every
 * attack it is asked for in a child process of its own, checks how that child ended,
 * then checks that the guest kernel still works (fork + exec, a file written and read
 * back), and exits 0 only if every attack was contained. vmlinux exits with init's
 * status, so the host sees the verdict; the host also checks, independently, that
 * nothing happened on its side (host files, host processes).
 *
 * Output, one line per check, written with write(2) so that nothing is lost when a
 * child dies:  PASS name: detail  |  FAIL name: detail  |  INFO name: detail
 * and at the end:  RESULT pass=N fail=M
 *
 * Common arguments (the host chooses them; the guest cannot see the host otherwise):
 *   --secret PATH     a host file holding a token; the guest must not be able to read it
 *   --pwn PREFIX      host path prefix the attacks try to create files/directories at
 *   --sentinel PID    a host process the attacks try to signal
 *   then the names of the attacks to run ("all" for every one). */
#ifndef HOSTILE_H
#define HOSTILE_H
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

/* The layout of a guest address space (docs/ARCHITECTURE.md). */
#define GUEST_TOP 0x7fffe0000000UL /* guest addresses end here */
#define STUB_ADDR 0x7ffff0000000UL /* stub_syscall: syscall; int3 */
#define USER_TOP 0x800000000000UL

static const char *secret_path = "/tmp/vmlinux-hostile-no-secret";
static const char *pwn_prefix = "/tmp/vmlinux-hostile-no-pwn";
static long sentinel_pid = -1;

/* --- output ---------------------------------------------------------------------- */
static int n_pass, n_fail;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	for (int off = 0; off < n;) {
		ssize_t w = write(1, buf + off, n - off);
		if (w <= 0)
			break;
		off += w;
	}
}

#define PASS(name, ...) (n_pass++, out("PASS " name ": " __VA_ARGS__))
/* A child's failures also go to its parent as one byte each on fail_fd, so that they
 * count even when the child is then killed by the signal its attack expects. */
static int fail_fd = -1;
static void note_fail(void)
{
	n_fail++;
	if (fail_fd >= 0 && write(fail_fd, "F", 1) != 1)
		out("INFO fail-pipe: cannot pass a failure to the parent: %s", strerror(errno));
}
#define FAIL(name, ...) (note_fail(), out("FAIL " name ": " __VA_ARGS__))
#define INFO(name, ...) out("INFO " name ": " __VA_ARGS__)

/* A negative errno as text ("-2 ENOENT"). */
static const char *errname(long r)
{
	static char buf[8][48];
	static int k;
	char *b = buf[k++ & 7];
	if (r >= 0 || r < -4095) {
		snprintf(b, 48, "%ld (%#lx)", r, r);
		return b;
	}
	const char *n = strerrorname_np((int)-r);
	snprintf(b, 48, "%ld %s", r, n ? n : "?");
	return b;
}

/* --- raw syscalls: the `syscall` instruction itself, no libc wrapper ------------------ */
static inline long raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define raw0(n) raw6(n, 0, 0, 0, 0, 0, 0)
#define raw1(n, a) raw6(n, (long)(a), 0, 0, 0, 0, 0)
#define raw2(n, a, b) raw6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define raw3(n, a, b, c) raw6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define raw4(n, a, b, c, d) raw6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* --- catching faults ------------------------------------------------------------------ */
/* Handlers of the faults in catch_sigs run on an alternate stack (so an attack may wreck
 * its stack pointer) and jump back to try_call. */
static sigjmp_buf catch_jb;
static volatile int catch_armed;
static volatile int caught_sig;
static volatile long caught_code;
static volatile uintptr_t caught_addr, caught_rip, caught_rax;

static void catch_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	if (!catch_armed) {
		out("FAIL unexpected-signal: signal %d (%s) code %d addr %p rip %#llx", sig,
		    sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", si->si_code, si->si_addr,
		    (unsigned long long)uc->uc_mcontext.gregs[REG_RIP]);
		_exit(99);
	}
	caught_sig = sig;
	caught_code = si->si_code;
	caught_addr = (uintptr_t)si->si_addr;
	caught_rip = uc->uc_mcontext.gregs[REG_RIP];
	caught_rax = uc->uc_mcontext.gregs[REG_RAX];
	catch_armed = 0;
	siglongjmp(catch_jb, 1);
}

static const int catch_sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGSYS, SIGFPE};

static void catch_setup(void)
{
	static char altstack[64 * 1024];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = catch_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigfillset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(catch_sigs) / sizeof(catch_sigs[0]); i++)
		sigaction(catch_sigs[i], &sa, NULL);
}

/* try_call(fn, arg): run fn(arg); returns 0 if it returned, or the number of the signal
 * (one of catch_sigs) that ended it; caught_* then describe the signal. */
static int try_call(void (*fn)(void *), void *arg)
{
	caught_sig = 0;
	if (sigsetjmp(catch_jb, 1) == 0) {
		catch_armed = 1;
		fn(arg);
		catch_armed = 0;
		return 0;
	}
	return caught_sig;
}

/* Is the byte at addr readable / writable by plain loads and stores? */
static void probe_read_fn(void *p)
{
	*(volatile char *)p;
}
static void probe_write_fn(void *p)
{
	volatile char *c = p;
	*c = *c;
}
static int readable(uintptr_t a)
{
	return try_call(probe_read_fn, (void *)a) == 0;
}
static int writable(uintptr_t a)
{
	return try_call(probe_write_fn, (void *)a) == 0;
}

static const char *signame(int sig)
{
	static char b[4][16];
	static int k;
	if (!sig)
		return "none";
	const char *n = sigabbrev_np(sig);
	char *p = b[k++ & 3];
	snprintf(p, 16, "SIG%s", n ? n : "?");
	return p;
}

/* sub(what, fn, arg): run fn(arg) in a child of its own, for steps that may get the
 * process killed (a guest that jumps into host code may be killed by the host's seccomp
 * filter, say: that is containment too) or wedge it (a guest that unmaps the stub's
 * channel from the stub's own syscall instruction can only hang itself: it must still
 * die of SIGKILL). The child prints its own PASS/FAIL lines and its failures reach the
 * attack's parent through fail_fd. Returns the child's wait status. */
static volatile sig_atomic_t alarm_fired;
static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

static int sub(const char *what, void (*fn)(void *), void *arg)
{
	pid_t p = fork();
	if (p < 0) {
		FAIL("sub", "%s: fork: %s", what, strerror(errno));
		return -1;
	}
	if (p == 0) {
		n_pass = n_fail = 0;
		fn(arg);
		_exit(n_fail ? 1 : 0);
	}
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, &old);
	alarm_fired = 0;
	alarm(8);
	int st = 0, killed = 0;
	for (;;) {
		pid_t r = waitpid(p, &st, 0);
		if (r == p)
			break;
		if (r < 0 && errno != EINTR) {
			FAIL("sub", "%s: waitpid: %s", what, strerror(errno));
			break;
		}
		if (alarm_fired && killed) {
			FAIL("sub", "%s: the process survives SIGKILL for 10s", what);
			break;
		}
		if (alarm_fired) {
			alarm_fired = 0;
			killed = 1;
			kill(p, SIGKILL);
			alarm(10);
		}
	}
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	if (killed && WIFSIGNALED(st))
		INFO("sub", "%s: the process wedged itself for 8s, then died of SIGKILL", what);
	else if (WIFSIGNALED(st))
		PASS("sub", "%s: the process was killed by %s (contained)", what,
		     signame(WTERMSIG(st)));
	return st;
}

/* --- running attacks in children -------------------------------------------------------- */
/* How an attack's child may end. */
enum {
	END_EXIT0 = 1,	/* exit(0): everything it checked was contained */
	END_SIGNAL = 2, /* killed by a signal (which one: expect_sig, 0 for any) */
	END_ANY = END_EXIT0 | END_SIGNAL,
};

struct attack {
	const char *name;
	void (*fn)(void); /* runs in a child; exits 0 if every check passed */
	int ends;	  /* END_* mask of acceptable endings */
	int expect_sig;	  /* with END_SIGNAL: the signal (0 = any) */
	int timeout;	  /* seconds before the child is killed (0 = 60) */
	const char *what; /* one line: what it tries */
	int alone;	  /* not part of "all": run only when named */
};

/* The child's exit code tells the parent how many checks failed; its lines are on the
 * console already. */
static void child_done(void)
{
	out("INFO child-checks: pass=%d fail=%d", n_pass, n_fail);
	_exit(n_fail ? 1 : 0);
}

static void run_attack(const struct attack *a)
{
	out("=== %s: %s", a->name, a->what);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC)) {
		FAIL("pipe", "cannot make a pipe for %s: %s", a->name, strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		FAIL("fork", "cannot fork for %s: %s", a->name, strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		n_pass = n_fail = 0;
		close(pfd[0]);
		fail_fd = pfd[1];
		catch_setup();
		a->fn();
		child_done();
	}
	close(pfd[1]);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm_fired = 0;
	alarm(a->timeout ? a->timeout : 60);
	int st;
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
		if (alarm_fired) {
			kill(pid, SIGKILL);
			FAIL("timeout", "%s: child did not finish within %ds (killed)", a->name,
			     a->timeout ? a->timeout : 60);
			alarm_fired = 0;
		}
	}
	alarm(0);
	/* The failures the child reported (its descendants may still hold the pipe open). */
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	int child_fails = 0;
	char fb[256];
	ssize_t got;
	while ((got = read(pfd[0], fb, sizeof(fb))) > 0)
		child_fails += got;
	close(pfd[0]);
	if (r != pid) {
		FAIL("wait", "%s: waitpid: %s", a->name, strerror(errno));
		return;
	}
	if (child_fails) {
		FAIL("attack", "%s: %d of its checks failed (see FAIL lines above)", a->name,
		     child_fails);
		return;
	}
	if (WIFEXITED(st)) {
		int code = WEXITSTATUS(st);
		if (code == 0 && (a->ends & END_EXIT0))
			PASS("attack", "%s contained (child exited 0)", a->name);
		else if (code == 0)
			FAIL("attack", "%s: child exited 0, expected it to be killed by %s",
			     a->name, a->expect_sig ? signame(a->expect_sig) : "a signal");
		else
			FAIL("attack", "%s: child exited %d (its checks failed)", a->name, code);
	} else if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		if ((a->ends & END_SIGNAL) && (!a->expect_sig || a->expect_sig == sig))
			PASS("attack", "%s contained (child killed by %s, as expected)", a->name,
			     signame(sig));
		else
			FAIL("attack", "%s: child killed by %s unexpectedly", a->name,
			     signame(sig));
	} else {
		FAIL("attack", "%s: odd wait status %#x", a->name, st);
	}
}

/* After the attacks: the guest kernel still forks, execs, writes and reads files. */
static void liveness(void)
{
	pid_t p = fork();
	if (p == 0) {
		char *argv[] = {"true", NULL}, *envp[] = {NULL};
		execve("/bin/true", argv, envp);
		_exit(127);
	}
	int st = -1;
	if (p > 0)
		waitpid(p, &st, 0);
	if (p > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		PASS("alive-exec", "fork + execve /bin/true + wait work");
	else
		FAIL("alive-exec", "fork + execve /bin/true failed (pid %d status %#x)", p, st);
	int fd = open("/root/.hostile-alive", O_CREAT | O_TRUNC | O_RDWR, 0600);
	char buf[8] = {0};
	if (fd >= 0 && write(fd, "alive", 5) == 5 && pread(fd, buf, 5, 0) == 5 &&
	    !memcmp(buf, "alive", 5))
		PASS("alive-file", "write + read back a file on the root filesystem");
	else
		FAIL("alive-file", "cannot write/read /root/.hostile-alive: %s", strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink("/root/.hostile-alive");
	}
}

/* main() of a hostile program: parse the common arguments, run the chosen attacks. */
static int hostile_main(int argc, char **argv, const struct attack *attacks, int n)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int i = 1;
	for (; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--secret"))
			secret_path = argv[i + 1];
		else if (!strcmp(argv[i], "--pwn"))
			pwn_prefix = argv[i + 1];
		else if (!strcmp(argv[i], "--sentinel"))
			sentinel_pid = atol(argv[i + 1]);
		else
			break;
	}
	if (i >= argc) {
		out("usage: %s [--secret PATH] [--pwn PREFIX] [--sentinel PID] ATTACK...|all",
		    argv[0]);
		for (int k = 0; k < n; k++)
			out("  %-14s %s", attacks[k].name, attacks[k].what);
		return 2;
	}
	/* init= runs us instead of the image's init: nothing mounted /proc yet. */
	if (getpid() == 1 && access("/proc/self", F_OK) != 0) {
		mkdir("/proc", 0555);
		if (mount("proc", "/proc", "proc", 0, NULL))
			out("INFO start: mount /proc: %s", strerror(errno));
	}
	out("INFO start: %s pid=%d secret=%s pwn=%s sentinel=%ld", argv[0], getpid(), secret_path,
	    pwn_prefix, sentinel_pid);
	/* Our own children only: a non-init runner would otherwise get init's orphans. */
	for (; i < argc; i++) {
		int found = 0;
		for (int k = 0; k < n; k++) {
			if ((!strcmp(argv[i], "all") && !attacks[k].alone) ||
			    !strcmp(argv[i], attacks[k].name)) {
				run_attack(&attacks[k]);
				found = 1;
			}
		}
		if (!found)
			FAIL("usage", "no attack named %s", argv[i]);
	}
	/* Reap whatever the attacks left behind (init inherits orphans). */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	liveness();
	out("RESULT pass=%d fail=%d", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

/* --- host paths the attacks aim at ------------------------------------------------------ */
/* PREFIX-TAG: a host path an attack tries to create. The host checks it never exists. */
static const char *pwn_path(const char *tag)
{
	static char b[8][256];
	static int k;
	char *p = b[k++ & 7];
	snprintf(p, 256, "%s-%s", pwn_prefix, tag);
	return p;
}

/* Does the guest's own view show the secret? (It must not: the guest has no such file.) */
static void check_secret_invisible(const char *tag)
{
	struct stat st;
	if (stat(secret_path, &st) == 0)
		FAIL("secret-visible", "%s: the host secret %s is visible in the guest", tag,
		     secret_path);
}

/* --- the escape payload ------------------------------------------------------------------ */
/* If an attack manages to put its own code at the stub's address, the next host syscall
 * the kernel runs in this address space (it points rip at stub_syscall and lets the thread
 * run, untraced, to the int3) runs this instead of `syscall; int3`: offset 0 keeps the
 * stub's `syscall`, then the payload makes host syscalls of its own (mkdir of a host path,
 * open + read of the host secret, getpid) and ends in the int3 the kernel waits for, with
 * the kernel's result back in rax. Its results land in esc_result, in guest memory (the
 * payload runs in this very address space), so the attack can see whether it ran. It only
 * touches the test's own paths. Position-independent: data is reached by absolute address
 * (the program is static, not PIE). */
/* Globals, not static: the payload names them. */
__attribute__((used)) volatile long esc_result[5]; /* ran, mkdir, open, read, host getpid */
__attribute__((used)) char esc_mkdir_path[256];
__attribute__((used)) char esc_secret_path[256];
__attribute__((used)) char esc_leak[64];
extern const unsigned char esc_payload_start[], esc_payload_end[];
__asm__(".pushsection .text\n"
	"esc_payload_start:\n"
	"	syscall\n"
	"	mov %rax, %r15\n"
	"	movabs $esc_result, %rbx\n"
	"	movq $1, (%rbx)\n"
	"	mov $83, %eax\n" /* mkdir */
	"	movabs $esc_mkdir_path, %rdi\n"
	"	mov $0755, %esi\n"
	"	syscall\n"
	"	mov %rax, 8(%rbx)\n"
	"	mov $2, %eax\n" /* open */
	"	movabs $esc_secret_path, %rdi\n"
	"	xor %esi, %esi\n"
	"	syscall\n"
	"	mov %rax, 16(%rbx)\n"
	"	test %rax, %rax\n"
	"	js 1f\n"
	"	mov %rax, %r14\n"
	"	mov %rax, %rdi\n"
	"	xor %eax, %eax\n" /* read */
	"	movabs $esc_leak, %rsi\n"
	"	mov $63, %edx\n"
	"	syscall\n"
	"	mov %rax, 24(%rbx)\n"
	"	mov $3, %eax\n" /* close */
	"	mov %r14, %rdi\n"
	"	syscall\n"
	"1:	mov $39, %eax\n" /* getpid: the host's answer */
	"	syscall\n"
	"	mov %rax, 32(%rbx)\n"
	"	mov %r15, %rax\n"
	"	int3\n"
	"esc_payload_end:\n"
	".popsection\n");

static void esc_arm(const char *tag)
{
	memset((void *)esc_result, 0, sizeof(esc_result));
	memset(esc_leak, 0, sizeof(esc_leak));
	snprintf(esc_mkdir_path, sizeof(esc_mkdir_path), "%s", pwn_path(tag));
	snprintf(esc_secret_path, sizeof(esc_secret_path), "%s", secret_path);
}

/* Did the payload run? Reports and returns 1 if it did. */
static int esc_report(const char *tag)
{
	if (!esc_result[0])
		return 0;
	char leak[sizeof(esc_leak) + 1];
	memcpy(leak, esc_leak, sizeof(esc_leak));
	leak[sizeof(esc_leak)] = 0;
	for (char *c = leak; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	FAIL("host-escape",
	     "%s: guest code ran as a host syscall stub: host mkdir(%s) = %s, "
	     "host open(%s) = %s, read = %s [%s], host getpid = %ld",
	     tag, esc_mkdir_path, errname(esc_result[1]), esc_secret_path, errname(esc_result[2]),
	     errname(esc_result[3]), leak, esc_result[4]);
	return 1;
}

/* Make the kernel run a host syscall in this address space: an anonymous mmap (the
 * kernel asks the platform for the host mapping at once). */
static void esc_trigger(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		munmap(p, 4096);
}

/* A snapshot of the stub's page, to see whether anything changed it. */
static unsigned char stub_snapshot[4096];
static int stub_snapshot_ok;
static void stub_snap(void)
{
	stub_snapshot_ok = readable(STUB_ADDR);
	if (stub_snapshot_ok)
		memcpy(stub_snapshot, (void *)STUB_ADDR, 4096);
}
/* 1 if the stub's page is not what it was at stub_snap() (or cannot be read). */
static int stub_changed(void)
{
	if (!stub_snapshot_ok)
		return 0;
	if (!readable(STUB_ADDR))
		return 1;
	return memcmp(stub_snapshot, (void *)STUB_ADDR, 4096) != 0;
}

#endif
