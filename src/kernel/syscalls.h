/* The syscall table. Every handler has the same shape: it takes the six raw argument
 * registers and returns the value for rax (a negative errno on failure). Handlers live
 * with their subsystem (fs/open.c, signal.c, ...) and are listed in syscall.c. */
#ifndef SYSCALLS_H
#define SYSCALLS_H

#include "kernel.h"

typedef long (*syscall_fn)(const uint64_t *a);
#define SYSCALL(name) long sys_##name(const uint64_t *a)

/* -ERESTARTSYS and friends: never seen by the guest. A syscall interrupted by a signal
 * returns one of these; the signal code turns it into -EINTR or restarts the call. */
#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#endif
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* Number of entries in the table (x86-64 syscall numbers). */
#define NR_SYSCALLS 460
extern const syscall_fn syscall_table[NR_SYSCALLS];
/* Run the syscall in current->regs and store the result in rax. */
void do_syscall(void);

#endif
