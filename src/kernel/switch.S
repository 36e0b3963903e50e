/* Kernel stack switch: void ctx_switch(void **save_sp, void *new_sp).
 * Saves the callee-saved registers on the current stack, stores the stack pointer in
 * *save_sp, loads new_sp and returns on the other stack. */
	.text
	.globl ctx_switch
	.type ctx_switch, @function
ctx_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size ctx_switch, .-ctx_switch
	.section .note.GNU-stack,"",@progbits
