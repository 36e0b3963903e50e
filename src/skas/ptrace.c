/* Guest threads under ptrace (see ptrace.h).
 *
 * Address spaces start by fork() + exec of the embedded stub, so a guest address space
 * never holds a byte of the kernel process. The kernel seizes the child before the exec
 * and catches it at PTRACE_EVENT_EXEC, before the stub runs an instruction. Host
 * syscalls in the address space (mmap, clone) run at stub_syscall, which ends in int3.
 * Guest forks and threads are host clones made that way; PTRACE_O_TRACECLONE/FORK
 * attach them, and CLONE_PARENT makes the kernel process their host parent so it reaps
 * them. Stops are collected by one SIGCHLD signalfd in the kernel's event loop. */
#define _GNU_SOURCE
#include "ptrace.h"
#include "mem.h"
#include "../kernel/sched.h"
#include <elf.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sched.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern const char stub_elf[], stub_elf_end[];

struct aspace {
	int refcount;
};

struct uthread {
	pid_t pid;
	struct aspace *as;
	int status;
	bool has_status;
	struct waitq wq;
	struct list link;
};

static int stub_fd = -1;
static struct kevent chld_ev;
static struct list uthreads = LIST_INIT(uthreads);
static uaddr_t host_vdso;

/* Stops of pids not yet known (a clone child reports before its creator returns). */
#define MAX_EARLY 64
static struct {
	pid_t pid;
	int status;
} early[MAX_EARLY];
static int nearly;

static struct uthread *ut_find(pid_t pid)
{
	list_for_each(it, &uthreads)
	{
		struct uthread *t = list_entry(it, struct uthread, link);
		if (t->pid == pid)
			return t;
	}
	return NULL;
}

static struct uthread *ut_new(pid_t pid, struct aspace *as)
{
	struct uthread *t = xzalloc(sizeof(*t));
	t->pid = pid;
	t->as = as;
	as->refcount++;
	waitq_init(&t->wq);
	list_add_tail(&t->link, &uthreads);
	for (int i = 0; i < nearly; i++) {
		if (early[i].pid == pid) {
			t->status = early[i].status;
			t->has_status = true;
			early[i] = early[--nearly];
			break;
		}
	}
	return t;
}

static void note_status(pid_t pid, int status)
{
	struct uthread *t = ut_find(pid);
	if (t) {
		t->status = status;
		t->has_status = true;
		wake_up(&t->wq);
	} else if (WIFSTOPPED(status) && nearly < MAX_EARLY) {
		early[nearly].pid = pid;
		early[nearly].status = status;
		nearly++;
	}
	/* Exits of released threads need nothing more: waitpid reaped them. */
}

static void chld_event(struct kevent *ev, uint32_t revents)
{
	struct signalfd_siginfo si;
	while (read(ev->fd, &si, sizeof(si)) == sizeof(si))
		;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, __WALL | WNOHANG);
		if (pid <= 0)
			break;
		note_status(pid, status);
	}
}

/* Wait for the next stop of t. Synchronous waits block the whole kernel thread and are
 * only for short, bounded host work (an injected syscall). */
static int wait_stop(struct uthread *t, bool sync)
{
	while (!t->has_status) {
		if (sync) {
			int status;
			pid_t r = waitpid(t->pid, &status, __WALL);
			if (r == t->pid) {
				t->status = status;
				t->has_status = true;
			} else if (r < 0 && errno != EINTR) {
				return -errno;
			}
		} else {
			sleep_on(&t->wq, false);
		}
	}
	t->has_status = false;
	return t->status;
}

int ptrace_getregs(struct uthread *t, struct uregs *regs)
{
	return ptrace(PTRACE_GETREGS, t->pid, 0, regs) ? -errno : 0;
}

/* 64-bit user code and stack selectors of x86-64 Linux. */
#define USER_CS 0x33
#define USER_DS 0x2b

int ptrace_setregs(struct uthread *t, const struct uregs *regs)
{
	/* Segment selectors are the platform's business, whatever the kernel holds. */
	struct uregs r = *regs;
	r.cs = USER_CS;
	r.ss = USER_DS;
	r.ds = r.es = r.fs = r.gs = 0;
	return ptrace(PTRACE_SETREGS, t->pid, 0, &r) ? -errno : 0;
}

static bool is_gone(int status)
{
	return WIFEXITED(status) || WIFSIGNALED(status);
}

/* Run one host syscall in t's address space. t must be stopped. */
static long inject(struct uthread *t, long nr, long a1, long a2, long a3, long a4, long a5, long a6,
		   pid_t *child)
{
	struct uregs saved, r;
	if (ptrace_getregs(t, &saved))
		return -ESRCH;
	r = saved;
	r.rip = STUB_ADDR;
	r.rax = nr;
	r.orig_rax = -1;
	r.rdi = a1;
	r.rsi = a2;
	r.rdx = a3;
	r.r10 = a4;
	r.r8 = a5;
	r.r9 = a6;
	if (ptrace_setregs(t, &r) || ptrace(PTRACE_CONT, t->pid, 0, 0))
		return -ESRCH;
	for (;;) {
		int st = wait_stop(t, true);
		if (st < 0 || is_gone(st))
			return -ESRCH;
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0)
			break; /* the int3 after the syscall */
		int ev = st >> 16, sig = WSTOPSIG(st);
		if (!ev && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE)) {
			/* The stub itself faulted: its address space cannot be trusted any
			 * more. Kill it; the guest thread's next run reports it gone. */
			kill(t->pid, SIGKILL);
			return -EFAULT;
		}
		if (child && (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_CLONE ||
			      ev == PTRACE_EVENT_VFORK)) {
			unsigned long msg;
			ptrace(PTRACE_GETEVENTMSG, t->pid, 0, &msg);
			*child = (pid_t)msg;
		}
		/* Event stops continue silently; stray signals are dropped. */
		ptrace(PTRACE_CONT, t->pid, 0, 0);
	}
	ptrace_getregs(t, &r);
	ptrace_setregs(t, &saved);
	return (long)r.rax;
}

static const long trace_opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC |
			       PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;

int ptrace_plat_init(void)
{
	stub_fd = memfd_create("vmlinux-stub", MFD_CLOEXEC);
	size_t len = stub_elf_end - stub_elf;
	if (stub_fd < 0 || write(stub_fd, stub_elf, len) != (ssize_t)len)
		return -errno;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	chld_ev.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (chld_ev.fd < 0)
		return -errno;
	chld_ev.events = EPOLLIN;
	chld_ev.cb = chld_event;
	return kevent_add(&chld_ev);
}

void ptrace_plat_shutdown(void)
{
	list_for_each_safe(it, nx, &uthreads)
	    ptrace_plat_release(list_entry(it, struct uthread, link));
}

void ptrace_plat_layout(struct plat_layout *l)
{
	l->task_size = GUEST_TASK_SIZE;
	l->reserved_start = GUEST_TASK_SIZE;
	l->reserved_end = USER_TOP;
	l->vdso = host_vdso;
}

int ptrace_plat_spawn(struct uthread **out)
{
	int sync[2];
	if (pipe2(sync, O_CLOEXEC))
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Only async-signal-safe calls here: the kernel process has threads. */
		char c;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		personality(ADDR_NO_RANDOMIZE);
		close(sync[1]);
		if (read(sync[0], &c, 1) != 1)
			_exit(126);
		/* The address space keeps no host descriptor, not even the terminal. */
		syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_CLOEXEC);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *argv[] = {"vmlinux-stub", NULL}, *envp[] = {NULL};
		syscall(SYS_execveat, stub_fd, "", argv, envp, AT_EMPTY_PATH);
		_exit(127);
	}
	close(sync[0]);
	int err = 0;
	if (ptrace(PTRACE_SEIZE, pid, 0, trace_opts))
		err = -errno;
	if (write(sync[1], "x", 1) != 1 && !err)
		err = -errno;
	close(sync[1]);
	struct aspace *as = xzalloc(sizeof(*as));
	struct uthread *t = ut_new(pid, as);
	if (!err) {
		int st = wait_stop(t, true);
		if (st < 0 || !WIFSTOPPED(st) || (st >> 16) != PTRACE_EVENT_EXEC)
			err = -ECHILD;
		/* The exec stop is inside execve, whose return value would overwrite the
		 * registers we set next: step on to its syscall-exit stop. */
		if (!err && ptrace(PTRACE_SYSCALL, pid, 0, 0))
			err = -errno;
		if (!err) {
			st = wait_stop(t, true);
			if (st < 0 || !WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80))
				err = -ECHILD;
		}
	}
	if (err) {
		ptrace_plat_release(t);
		return err;
	}
	if (!host_vdso)
		host_vdso = skas_find_vdso(pid);
	*out = t;
	return 0;
}

int ptrace_plat_clone(struct uthread *parent, bool share_vm, struct uthread **out)
{
	pid_t child = 0;
	long flags = CLONE_PARENT | (share_vm ? CLONE_VM : 0);
	long r = inject(parent, SYS_clone, flags, 0, 0, 0, 0, 0, &child);
	if (r < 0)
		return (int)r;
	if (!child)
		child = (pid_t)r;
	struct aspace *as = parent->as;
	if (!share_vm)
		as = xzalloc(sizeof(*as));
	struct uthread *t = ut_new(child, as);
	/* The new thread starts with a PTRACE_EVENT_STOP before its first instruction. */
	int st = wait_stop(t, true);
	if (st < 0 || is_gone(st)) {
		ptrace_plat_release(t);
		return -EAGAIN;
	}
	*out = t;
	return 0;
}

void ptrace_plat_release(struct uthread *t)
{
	kill(t->pid, SIGKILL);
	/* Reap it now so no zombie is left; a concurrent chld_event may have reaped it. */
	while (waitpid(t->pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	list_del(&t->link);
	if (--t->as->refcount == 0)
		free(t->as);
	free(t);
}

int ptrace_plat_exec_reset(struct uthread *t)
{
	long r = inject(t, SYS_munmap, 0, GUEST_TASK_SIZE, 0, 0, 0, 0, NULL);
	return r < 0 ? (int)r : 0;
}

long ptrace_plat_mmap(struct uthread *t, uaddr_t addr, size_t len, int prot, int flags, int fd,
		      off_t off)
{
	if (fd >= 0)
		return -ENOSYS; /* file mappings are copied in by the kernel for now */
	return inject(t, SYS_mmap, addr, len, prot, flags | MAP_FIXED | MAP_ANONYMOUS, -1, 0, NULL);
}

int ptrace_plat_munmap(struct uthread *t, uaddr_t addr, size_t len)
{
	return (int)inject(t, SYS_munmap, addr, len, 0, 0, 0, 0, NULL);
}

int ptrace_plat_mprotect(struct uthread *t, uaddr_t addr, size_t len, int prot)
{
	return (int)inject(t, SYS_mprotect, addr, len, prot, 0, 0, 0, NULL);
}

long ptrace_plat_mremap(struct uthread *t, uaddr_t old, size_t old_len, size_t new_len,
			uaddr_t new_addr)
{
	return inject(t, SYS_mremap, old, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED, new_addr,
		      0, NULL);
}

int ptrace_plat_madvise(struct uthread *t, uaddr_t addr, size_t len, int advice)
{
	return (int)inject(t, SYS_madvise, addr, len, advice, 0, 0, 0, NULL);
}

int ptrace_plat_read(struct uthread *t, void *dst, uaddr_t src, size_t n)
{
	return skas_mem_read(t->pid, dst, src, n);
}

int ptrace_plat_write(struct uthread *t, uaddr_t dst, const void *src, size_t n)
{
	return skas_mem_write(t->pid, dst, src, n);
}

void ptrace_plat_interrupt(struct uthread *t)
{
	ptrace(PTRACE_INTERRUPT, t->pid, 0, 0);
}

int ptrace_plat_get_fpregs(struct uthread *t, struct ufpregs *fp)
{
	return ptrace(PTRACE_GETFPREGS, t->pid, 0, fp) ? -errno : 0;
}

int ptrace_plat_set_fpregs(struct uthread *t, const struct ufpregs *fp)
{
	return ptrace(PTRACE_SETFPREGS, t->pid, 0, fp) ? -errno : 0;
}

int ptrace_resume_wait(struct uthread *t, int request, const struct uregs *regs, int *status)
{
	if (regs && ptrace_setregs(t, regs))
		return -ESRCH;
	if (ptrace(request, t->pid, 0, 0))
		return -ESRCH;
	int st = wait_stop(t, false);
	if (st < 0)
		return st;
	*status = st;
	return 0;
}

bool ptrace_compat_syscall(struct uthread *t)
{
	struct __ptrace_syscall_info info;
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, t->pid, sizeof(info), &info);
	/* AUDIT_ARCH_X86_64; anything else (i386 entries) is refused. */
	return n > 0 && info.arch != 0xc000003eu;
}

int ptrace_decode_stop(struct uthread *t, int st, struct uregs *regs, struct uevent *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (is_gone(st)) {
		ev->kind = UEV_GONE;
		return 0;
	}
	ptrace_getregs(t, regs);
	int sig = WSTOPSIG(st);
	if (sig == (SIGTRAP | 0x80)) {
		ev->kind = UEV_SYSCALL;
		if (ptrace_compat_syscall(t)) {
			/* int 0x80 / sysenter: no 32-bit ABI here; the CPU raises #GP on Linux
			 * without ia32 emulation, and the guest gets SIGSEGV. */
			ev->kind = UEV_FAULT;
			ev->signo = SIGSEGV;
			ev->code = SI_KERNEL;
		}
		return 0;
	}
	if ((st >> 16) != 0) {
		ev->kind = UEV_INTERRUPT; /* PTRACE_EVENT_STOP and friends */
		return 0;
	}
	siginfo_t si;
	if (ptrace(PTRACE_GETSIGINFO, t->pid, 0, &si) == 0 && si.si_code > 0 &&
	    (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP)) {
		ev->kind = UEV_FAULT;
		ev->signo = sig;
		ev->code = si.si_code;
		ev->addr = (uaddr_t)si.si_addr;
		return 0;
	}
	/* Any other host signal is not the guest's business; it is dropped by resuming
	 * with signal 0. */
	ev->kind = UEV_INTERRUPT;
	return 0;
}

/* skas=ptrace: PTRACE_SYSEMU stops at every guest syscall without running it. */
static int sysemu_run(struct uthread *t, struct uregs *regs, struct uevent *ev)
{
	int st;
	int r = ptrace_resume_wait(t, PTRACE_SYSEMU, regs, &st);
	if (r) {
		ev->kind = UEV_GONE;
		return 0;
	}
	return ptrace_decode_stop(t, st, regs, ev);
}

const struct platform skas_ptrace_platform = {
    .name = "skas=ptrace",
    PTRACE_PLATFORM_OPS,
    .run = sysemu_run,
};
