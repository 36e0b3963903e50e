/* The stub: the only host code mapped in a guest address space. The kernel starts each
 * address space by exec'ing this tiny program, so nothing of the kernel process is
 * inherited. Under ptrace the kernel runs host syscalls in the address space (mmap,
 * munmap, clone) by pointing the registers at stub_syscall and letting it run to the
 * int3. The first instruction sits at the start of .text (STUB_ADDR in the Makefile). */
	.text
	.globl stub_syscall
stub_syscall:
	syscall
	int3
	.globl _start
_start:
	/* Never reached under the kernel's control: the tracer stops us at exec. */
	movl $60, %eax
	movl $127, %edi
	syscall
	.section .note.GNU-stack,"",@progbits
