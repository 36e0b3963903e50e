/* The platform interface: how guest code is run. The kernel calls only these operations;
 * src/skas/ and src/tt/ implement them. A platform never touches kernel structures, and
 * the kernel never knows whether a guest syscall arrived by ptrace or by seccomp.
 *
 * A "uthread" is one guest thread as the platform runs it. Threads created with
 * share_vm share an address space; the address space dies with its last thread. */
#ifndef PLATFORM_H
#define PLATFORM_H

#include "kernel.h"

/* x86-64 general registers, in the layout of the Linux ptrace user_regs_struct. */
struct uregs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
	uint64_t orig_rax, rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};

/* x87/SSE state in FXSAVE layout (512 bytes), as in a Linux signal frame. */
struct ufpregs {
	uint8_t fxsave[512];
} __attribute__((aligned(16)));

enum uevent_kind {
	UEV_SYSCALL,   /* guest executed a syscall; number in regs.orig_rax */
	UEV_FAULT,     /* a hardware fault: signo/code/addr describe it */
	UEV_INTERRUPT, /* stopped by platform->interrupt() or a host signal */
	UEV_GONE,      /* the host side of the thread died unexpectedly */
};

struct uevent {
	enum uevent_kind kind;
	int signo, code; /* UEV_FAULT: SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP and si_code */
	uaddr_t addr;	 /* UEV_FAULT: faulting address */
};

/* What the address space reserves for the platform (stub pages, host vDSO). The kernel
 * places no guest mapping in [reserved_start, reserved_end) and none above task_size. */
struct plat_layout {
	uaddr_t task_size;
	uaddr_t reserved_start, reserved_end;
	uaddr_t vdso; /* a host vDSO usable by guests (AT_SYSINFO_EHDR), or 0 */
};

struct uthread;

struct platform {
	const char *name;
	/* Once at boot, before any other call; returns 0 or a negative errno. */
	int (*init)(void);
	void (*shutdown)(void);
	void (*layout)(struct plat_layout *l);

	/* A new, empty address space with one thread. */
	int (*spawn)(struct uthread **out);
	/* A new thread: share_vm shares the parent's address space (CLONE_VM),
	 * otherwise it gets a copy-on-write copy of it (fork). */
	int (*clone)(struct uthread *parent, bool share_vm, struct uthread **out);
	/* The thread is gone; the host side is killed and reaped. */
	void (*release)(struct uthread *t);
	/* Remove every guest mapping from the thread's address space (execve). */
	int (*exec_reset)(struct uthread *t);

	/* Memory management in the thread's address space. Always MAP_FIXED. fd is a host fd
	 * of the kernel process (a memfd of the page cache) or -1 for anonymous memory. */
	long (*mmap)(struct uthread *t, uaddr_t addr, size_t len, int prot, int flags, int fd,
		     off_t off);
	int (*munmap)(struct uthread *t, uaddr_t addr, size_t len);
	int (*mprotect)(struct uthread *t, uaddr_t addr, size_t len, int prot);
	/* Move pages (MREMAP_MAYMOVE|MREMAP_FIXED to new_addr); drop pages (MADV_DONTNEED). */
	long (*mremap)(struct uthread *t, uaddr_t old, size_t old_len, size_t new_len,
		       uaddr_t new_addr);
	int (*madvise)(struct uthread *t, uaddr_t addr, size_t len, int advice);

	/* Guest memory access: 0 or -EFAULT. Partial transfers are failures. */
	int (*read)(struct uthread *t, void *dst, uaddr_t src, size_t n);
	int (*write)(struct uthread *t, uaddr_t dst, const void *src, size_t n);

	/* Run the thread in guest mode with *regs until it makes a syscall, faults or is
	 * interrupted; the registers are then stored back in *regs. Sleeps the calling
	 * kernel task meanwhile (other tasks run). */
	int (*run)(struct uthread *t, struct uregs *regs, struct uevent *ev);
	/* Make a running thread's run() return UEV_INTERRUPT soon (signal delivery). */
	void (*interrupt)(struct uthread *t);
	int (*get_fpregs)(struct uthread *t, struct ufpregs *fp);
	int (*set_fpregs)(struct uthread *t, const struct ufpregs *fp);
};

/* The platform chosen at boot (mode=skas, skas=ptrace, mode=tt). */
extern const struct platform *platform;
extern const struct platform skas_platform, skas_ptrace_platform, tt_platform;

#endif
