/* Signal delivery internals shared by the guest loop and exec. */
#ifndef KSIGNAL_H
#define KSIGNAL_H

#include "task.h"

/* x86-64 struct sigcontext as the kernel writes it. */
struct sigcontext_k {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct ucontext_k {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct {
		uint64_t ss_sp;
		int32_t ss_flags, pad;
		uint64_t ss_size;
	} uc_stack;
	struct sigcontext_k uc_mcontext;
	uint64_t uc_sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext_k uc;
	struct ksiginfo info;
};

/* Deliver pending signals of the current task before it returns to guest code:
 * default actions, job-control stops, handler frames and syscall restarts. */
void handle_signals(void);
/* A hardware fault of the current task. */
void force_sig_fault(int sig, int code, uaddr_t addr);
/* execve: handlers back to default, alternate stack off. */
void signals_exec_reset(struct task *t);

#endif
