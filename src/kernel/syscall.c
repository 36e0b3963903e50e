/* The syscall table and the loop every guest thread runs on its kernel stack. */
#define _GNU_SOURCE
#include "syscalls.h"
#include "process.h"
#include "signal.h"
#include "mm.h"
#include <asm/unistd.h>

/* Handlers of the process, signal, memory, time and system subsystems. */
#define CORE_SYSCALLS(X)                                                                           \
	X(clone)                                                                                   \
	X(clone3) X(fork) X(vfork) X(exit) X(exit_group) X(wait4) X(waitid) X(getpid) X(gettid) X( \
	    getppid) X(getpgid) X(getpgrp) X(getsid) X(setpgid) X(setsid) X(set_tid_address)       \
	    X(set_robust_list) X(execve) X(execveat) X(rt_sigaction) X(rt_sigprocmask) X(          \
		rt_sigpending) X(rt_sigsuspend) X(pause) X(rt_sigtimedwait) X(sigaltstack) X(kill) \
		X(tgkill) X(tkill) X(rt_sigqueueinfo) X(rt_sigreturn) X(brk) X(mmap) X(munmap) X(  \
		    mprotect) X(mremap) X(madvise) X(msync) X(mincore) X(mlock) X(munlock)         \
		    X(mlockall) X(munlockall) X(futex) X(arch_prctl) X(uname) X(sethostname) X(    \
			setdomainname) X(sysinfo) X(getrlimit) X(setrlimit) X(prlimit64)           \
			X(getrusage) X(times) X(getuid) X(geteuid) X(getgid) X(getegid) X(setuid)  \
			    X(setgid) X(setreuid) X(setregid) X(setresuid) X(setresgid)            \
				X(getresuid) X(getresgid) X(setfsuid) X(setfsgid) X(getgroups) X(  \
				    setgroups) X(capget) X(capset) X(prctl) X(personality)         \
				    X(sched_yield) X(sched_getaffinity) X(sched_setaffinity) X(    \
					sched_getparam) X(sched_setparam) X(sched_getscheduler)    \
					X(sched_setscheduler) X(sched_get_priority_max) X(         \
					    sched_get_priority_min) X(getpriority) X(setpriority)  \
					    X(getcpu) X(getrandom) X(reboot) X(clock_gettime)      \
						X(clock_getres) X(clock_settime) X(gettimeofday)   \
						    X(settimeofday) X(time) X(nanosleep)           \
							X(clock_nanosleep) X(alarm) X(setitimer)   \
							    X(getitimer) X(syslog) X(membarrier)   \
								X(sched_rr_get_interval)

#define DECLARE(n) long sys_##n(const uint64_t *a);
CORE_SYSCALLS(DECLARE)
#if __has_include("fs/fs_syscalls.h")
#include "fs/fs_syscalls.h"
FS_SYSCALLS(DECLARE)
#endif
#if __has_include("net/net.h")
#include "net/net.h"
#endif
/* Extended attributes (fs/xattr.c). */
#define XATTR_SYSCALLS(X)                                                                          \
	X(getxattr)                                                                                \
	X(lgetxattr) X(fgetxattr) X(setxattr) X(lsetxattr) X(fsetxattr) X(listxattr) X(llistxattr) \
	    X(flistxattr) X(removexattr) X(lremovexattr) X(fremovexattr)
XATTR_SYSCALLS(DECLARE)

#define ENTRY(n) [__NR_##n] = sys_##n,
const syscall_fn syscall_table[NR_SYSCALLS] = {CORE_SYSCALLS(ENTRY)
#ifdef FS_SYSCALLS
						   FS_SYSCALLS(ENTRY)
#endif
#ifdef NET_SYSCALLS
						       NET_SYSCALLS(ENTRY)
#endif
							   XATTR_SYSCALLS(ENTRY)};

bool syscall_trace;

void do_syscall(void)
{
	struct task *t = current;
	struct uregs *r = &t->regs;
	uint64_t nr = r->orig_rax;
	uint64_t args[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
	long ret = -ENOSYS;
	t->sys_nr = (int)nr;
	if (nr < NR_SYSCALLS && syscall_table[nr])
		ret = syscall_table[nr](args);
	if (syscall_trace)
		fprintf(stderr, "[%d] syscall %lu(%#lx, %#lx, %#lx) = %ld\r\n", t->tid,
			(unsigned long)nr, (long)args[0], (long)args[1], (long)args[2], ret);
	if (nr != __NR_rt_sigreturn)
		r->rax = (uint64_t)ret;
}

void guest_loop(void *unused)
{
	struct task *t = current;
	for (;;) {
		handle_signals();
		struct uevent ev;
		t->in_user = true;
		platform->run(t->ut, &t->regs, &ev);
		t->in_user = false;
		switch (ev.kind) {
		case UEV_SYSCALL:
			do_syscall();
			break;
		case UEV_FAULT:
			t->sys_nr = -1;
			if (syscall_trace)
				fprintf(stderr, "[%d] fault sig %d code %d addr %#lx rip %#lx\r\n",
					t->tid, ev.signo, ev.code, (long)ev.addr,
					(long)t->regs.rip);
			if (ev.signo == SIGSEGV && mm_grow_stack(t->mm, ev.addr))
				break;
			force_sig_fault(ev.signo, ev.code, ev.addr);
			break;
		case UEV_INTERRUPT:
			t->sys_nr = -1;
			break;
		case UEV_GONE:
			/* do_exit releases (kills and reaps) what is left of the host side. */
			do_exit(SIGKILL, true);
		}
	}
}
