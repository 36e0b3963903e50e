/* The contract between the seccomp SKAS platform (src/skas/seccomp.c, in the kernel
 * process) and the stub (src/skas/stub.S + stub/fast.c, in every guest address space).
 * Included by both sides: freestanding, no libc.
 *
 * Address space layout above the guest (GUEST_TASK_SIZE = 0x7fffe0000000):
 *
 *   0x7fffe0000000  slot 0 .. slot SKAS_NSLOTS-1, SKAS_SLOT_SIZE each, one per guest
 *                   thread of the address space:
 *                     +0       channel: a memfd shared with the kernel (SKAS_CHAN_SIZE),
 *                              MADV_DONTFORK; the control header, then the stub's
 *                              alternate signal stack (all signal frames live here)
 *                     +64K     boot stack (private): where clone children start
 *   0x7fffeffff000  the stub's ELF header page (read-only)
 *   0x7ffff0000000  stub text (read-only): stub_syscall (ptrace platform), stub_sys, ...
 *   above           the host vDSO and the stub's startup stack
 *
 * Everything in a channel is written by the guest's own address space and therefore
 * untrusted: the kernel copies what it reads once, checks it, and never takes a pid,
 * an fd or a pointer from it. */
#ifndef SKAS_SECCOMP_ABI_H
#define SKAS_SECCOMP_ABI_H

#define SKAS_STUB_ADDR 0x7ffff0000000ULL
#define SKAS_GUEST_TOP 0x7fffe0000000ULL
/* stub.S: stub_sys at +0x10; its one `syscall` at +0x30, so the instruction pointer the
 * seccomp filter sees for every stub syscall is +0x32. */
#define SKAS_STUB_SYS_OFF 0x10
#define SKAS_STUB_SYSCALL_OFF 0x30
#define SKAS_STUB_SYS_IP (SKAS_STUB_ADDR + SKAS_STUB_SYSCALL_OFF + 2)

#define SKAS_SLOT_BASE SKAS_GUEST_TOP
#define SKAS_SLOT_SIZE 0x20000ULL
#define SKAS_NSLOTS 2047 /* the last slot would hold the stub's ELF header page */
#define SKAS_CHAN_SIZE 0x10000ULL
#define SKAS_CHAN_ALT_OFF 0x1000ULL  /* alternate signal stack: [ALT_OFF, CHAN_SIZE) */
#define SKAS_CHAN_PROG_OFF 0x1000ULL /* at startup only: the seccomp filter program */
#define SKAS_BOOT_OFF 0x10000ULL
#define SKAS_BOOT_SIZE 0x4000ULL
#define SKAS_SLOT_ADDR(n) (SKAS_SLOT_BASE + (unsigned long long)(n)*SKAS_SLOT_SIZE)

/* The channel fd the kernel hands the first stub of an address space (at exec). */
#define SKAS_CHAN_FD 3

/* The signal the kernel sends to make a thread running guest code enter the kernel. */
#define SKAS_SIG_INTR 12 /* SIGUSR2 */

/* Stub -> kernel events (skas_chan.kind). */
#define SKAS_EV_READY                                                                              \
	1		    /* a new thread waits for its first command; result: listener fd       \
			     * (first thread of a spawn), addr: AT_HWCAP2 */
#define SKAS_EV_SYSCALL 2   /* guest syscall: regs.orig_rax */
#define SKAS_EV_FAULT 3	    /* signo, code, addr */
#define SKAS_EV_INTERRUPT 4 /* SKAS_SIG_INTR arrived while guest code ran */
#define SKAS_EV_OPDONE 5    /* a SKAS_CMD_OP or SKAS_CMD_CLONE finished: result */

/* Kernel -> stub commands (skas_chan.cmd). */
#define SKAS_CMD_RESUME 1 /* load regs (and fs/gs base) and return to guest code */
#define SKAS_CMD_OP 2	  /* result = syscall(nr, args[0..5]) */
#define SKAS_CMD_CLONE 3  /* clone(args[0] flags) into slot args[1] */
#define SKAS_CMD_EXIT 4
/* result = mmap(args[0..2], MAP_PRIVATE | MAP_FIXED, fd, args[5]) of a file the kernel
 * lends: args[4] 0, a new fd the stub asks for (SKAS_NOTIFY_FD); 1, the one it kept from
 * the command before (the kernel maps the same file again: an ELF's segments). The stub
 * closes a kept fd before any other command (so before guest code runs again). */
#define SKAS_CMD_MMAP_FD 5

/* The stub's calls that the seccomp filter hands to the kernel (SECCOMP_RET_USER_NOTIF):
 * getppid(code) from the stub's syscall instruction. */
#define SKAS_NOTIFY_NR 110     /* __NR_getppid */
#define SKAS_NOTIFY_DOORBELL 1 /* "I posted an event and you were asleep" */
#define SKAS_NOTIFY_HELLO 2    /* a clone child asks for its channel (an fd comes back) */
#define SKAS_NOTIFY_FD 3       /* SKAS_CMD_MMAP_FD asks for the file (an fd comes back) */

#ifndef __ASSEMBLER__
/* x86-64 general registers, the layout of struct uregs (platform.h). */
struct skas_regs {
	unsigned long long r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
	unsigned long long orig_rax, rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};

struct skas_chan {
	/* Written by the stub. */
	unsigned int evt_seq;	    /* bumped after each event or op result */
	unsigned int stub_sleeping; /* the stub is in (or entering) FUTEX_WAIT on cmd_seq */
	unsigned int kind;	    /* SKAS_EV_* */
	int signo, code;
	unsigned int pad0;
	unsigned long long addr;
	long long result;
	unsigned long long fpstate; /* guest address of the current frame's FXSAVE area */
	unsigned long long pad1[2];
	/* Written by the kernel (a separate cache line). */
	unsigned int cmd_seq;	      /* bumped after each command */
	unsigned int kernel_sleeping; /* ring the doorbell after posting */
	unsigned int cmd;	      /* SKAS_CMD_* */
	unsigned int fsgsbase;	      /* rdfsbase/wrfsbase work here */
	unsigned int spin_stop;	      /* the reply will take long: sleep instead of spinning */
	unsigned int pad2;
	unsigned long long nr;
	unsigned long long args[6];
	/* Both: registers of the event, then of the resume. */
	struct skas_regs regs;
	/* Kernel-written settings. */
	unsigned long long spin_tsc; /* the stub's spin budget, in TSC ticks */
	unsigned int prog_len;	     /* startup: sock_filter count at SKAS_CHAN_PROG_OFF */
	unsigned int magic;
	/* Stub-private: fs/gs base last loaded without FSGSBASE; the kept fd of
	 * SKAS_CMD_MMAP_FD (-1: none). */
	unsigned long long cur_fs, cur_gs;
	int lent_fd;
	unsigned int pad3;
};
#endif				    /* __ASSEMBLER__ */
#define SKAS_CHAN_MAGIC 0x534b4153u /* "SKAS" */

#endif
