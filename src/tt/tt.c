/* TT mode ("tracing thread"): the compatibility platform. Every guest syscall is seen at
 * entry with PTRACE_SYSCALL and rewritten into a harmless getpid ("nullified"); at the
 * exit stop the registers of the entry go back to the kernel, which emulates the real
 * call and writes the result when it resumes the thread. No PTRACE_SYSEMU, no seccomp:
 * it needs nothing but ptrace. Address spaces and memory work as in skas=ptrace. */
#define _GNU_SOURCE
#include "../skas/ptrace.h"
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define I386_NR_getpid 20

static int tt_run(struct uthread *t, struct uregs *regs, struct uevent *ev)
{
	int st;
	if (ptrace_resume_wait(t, PTRACE_SYSCALL, regs, &st))
		goto gone;
	ptrace_decode_stop(t, st, regs, ev);
	bool entry_stop = WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80);
	if (!entry_stop)
		return 0;
	/* Entry stop: keep the call, run getpid instead, and wait for its exit stop. A
	 * 32-bit entry (int 0x80) is looked up in the i386 table, whose getpid is 20:
	 * nullify it with that number (64-bit 39 there is mkdir). */
	bool compat = ev->kind == UEV_FAULT;
	struct uregs entry = *regs;
	regs->orig_rax = compat ? I386_NR_getpid : SYS_getpid;
	if (ptrace_resume_wait(t, PTRACE_SYSCALL, regs, &st))
		goto gone;
	struct uevent exit_ev;
	ptrace_decode_stop(t, st, regs, &exit_ev);
	if (exit_ev.kind == UEV_GONE)
		goto gone;
	*regs = entry;
	return 0;
gone:
	ev->kind = UEV_GONE;
	return 0;
}

const struct platform tt_platform = {
    .name = "tt",
    PTRACE_PLATFORM_OPS,
    .run = tt_run,
};
