/* The stub: the only host code mapped in a guest address space. The kernel starts each
 * address space by exec'ing this tiny program, so nothing of the kernel process is
 * inherited. Under ptrace the kernel runs host syscalls in the address space (mmap,
 * munmap, clone) by pointing the registers at stub_syscall and letting it run to the
 * int3. The first instruction sits at the start of .text (STUB_ADDR in the Makefile).
 *
 * The seccomp platform (mode=skas) runs the rest: _start sets the address space up
 * (stub/fast.c) and every host syscall the stub makes goes through the one `syscall`
 * instruction of stub_sys, at a fixed address the seccomp filter checks
 * (seccomp_abi.h: SKAS_STUB_SYS_IP). The .org directives pin those addresses. */
#include "seccomp_abi.h"

	.text
	.globl stub_syscall
stub_syscall:
	syscall
	int3

/* long stub_sys(long nr, long a1, long a2, long a3, long a4, long a5, long a6) */
	.org SKAS_STUB_SYS_OFF, 0xcc
	.globl stub_sys
stub_sys:
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	mov %r8, %r10
	mov %r9, %r8
	mov 8(%rsp), %r9
	.org SKAS_STUB_SYSCALL_OFF, 0x90
	.globl stub_sys_insn
stub_sys_insn:
	syscall
	ret

/* noreturn void stub_sigreturn(void *ucontext): rt_sigreturn with the frame's ucontext
 * at the stack pointer (the kernel finds the frame 8 bytes below it). */
	.globl stub_sigreturn
stub_sigreturn:
	mov %rdi, %rsp
	mov $15, %eax
	jmp stub_sys_insn

/* sa_restorer of the stub's handlers (they return with stub_sigreturn instead). */
	.globl stub_restorer
stub_restorer:
	mov $15, %eax
	jmp stub_sys_insn

/* Where a clone child starts: stub_sys's `ret` popped this address from the boot stack
 * the parent prepared: [stub_child_entry][slot][parent's FXSAVE copy][clone flags]. */
	.globl stub_child_entry
stub_child_entry:
	pop %rdi
	pop %rsi
	pop %rdx
	and $-16, %rsp
	call stub_child_main
	ud2

	.globl _start
_start:
	/* Under ptrace the tracer stops us at exec and this never runs. */
	mov %rsp, %rdi
	and $-16, %rsp
	call stub_main
	movl $231, %eax
	movl $127, %edi
	jmp stub_sys_insn
	.section .note.GNU-stack,"",@progbits
