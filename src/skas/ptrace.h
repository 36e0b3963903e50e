/* Guest threads driven by ptrace: shared by skas=ptrace (PTRACE_SYSEMU) and TT mode
 * (PTRACE_SYSCALL with the call nullified into getpid). Each guest thread is a host
 * thread of a process that started as the stub; the kernel process is its tracer. */
#ifndef SKAS_PTRACE_H
#define SKAS_PTRACE_H

#include "../kernel/platform.h"

/* Guest addresses end here; above it live the stub, its stack and the host vDSO. */
#define STUB_ADDR 0x7ffff0000000ULL
#define GUEST_TASK_SIZE 0x7fffe0000000ULL

int ptrace_plat_init(void);
void ptrace_plat_shutdown(void);
void ptrace_plat_layout(struct plat_layout *l);
int ptrace_plat_spawn(struct uthread **out);
int ptrace_plat_clone(struct uthread *parent, bool share_vm, struct uthread **out);
void ptrace_plat_release(struct uthread *t);
int ptrace_plat_exec_reset(struct uthread *t);
long ptrace_plat_mmap(struct uthread *t, uaddr_t addr, size_t len, int prot, int flags, int fd,
		      off_t off);
int ptrace_plat_munmap(struct uthread *t, uaddr_t addr, size_t len);
int ptrace_plat_mprotect(struct uthread *t, uaddr_t addr, size_t len, int prot);
long ptrace_plat_mremap(struct uthread *t, uaddr_t old, size_t old_len, size_t new_len,
			uaddr_t new_addr);
int ptrace_plat_madvise(struct uthread *t, uaddr_t addr, size_t len, int advice);
int ptrace_plat_read(struct uthread *t, void *dst, uaddr_t src, size_t n);
int ptrace_plat_write(struct uthread *t, uaddr_t dst, const void *src, size_t n);
void ptrace_plat_interrupt(struct uthread *t);
int ptrace_plat_get_fpregs(struct uthread *t, struct ufpregs *fp);
int ptrace_plat_set_fpregs(struct uthread *t, const struct ufpregs *fp);

/* Resume with the given ptrace request (PTRACE_SYSEMU or PTRACE_SYSCALL) and sleep the
 * calling task until the thread stops; *status is the waitpid status. */
int ptrace_resume_wait(struct uthread *t, int request, const struct uregs *regs, int *status);
/* Turn a stop status into an event; regs are read back into *regs. */
int ptrace_decode_stop(struct uthread *t, int status, struct uregs *regs, struct uevent *ev);
int ptrace_getregs(struct uthread *t, struct uregs *regs);
/* At a syscall stop: did the thread enter through a 32-bit gate (int 0x80, sysenter)? */
bool ptrace_compat_syscall(struct uthread *t);
int ptrace_setregs(struct uthread *t, const struct uregs *regs);

/* The operations both ptrace platforms share; each adds its own .run. */
#define PTRACE_PLATFORM_OPS                                                                        \
	.init = ptrace_plat_init, .shutdown = ptrace_plat_shutdown, .layout = ptrace_plat_layout,  \
	.spawn = ptrace_plat_spawn, .clone = ptrace_plat_clone, .release = ptrace_plat_release,    \
	.exec_reset = ptrace_plat_exec_reset, .mmap = ptrace_plat_mmap,                            \
	.munmap = ptrace_plat_munmap, .mprotect = ptrace_plat_mprotect,                            \
	.mremap = ptrace_plat_mremap, .madvise = ptrace_plat_madvise, .read = ptrace_plat_read,    \
	.write = ptrace_plat_write, .interrupt = ptrace_plat_interrupt,                            \
	.get_fpregs = ptrace_plat_get_fpregs, .set_fpregs = ptrace_plat_set_fpregs

#endif
