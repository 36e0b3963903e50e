/* Process lifecycle inside the kernel: used by exec, signals, boot. */
#ifndef PROCESS_H
#define PROCESS_H

#include "task.h"

#define PID_MAX 32768

/* The kernel-stack loop of a guest thread: run guest code, handle what stops it. */
void guest_loop(void *unused);
/* End the current thread (and, with group, its whole process) with a wait status. */
__attribute__((noreturn)) void do_exit(int status, bool group);
/* Create process 1 as a kernel thread that will exec init. */
struct process *process_create_init(void (*fn)(void *), void *arg);
/* Tell the parent that p stopped, continued or died. */
void notify_parent(struct process *p, int why, int status);
/* Kill every other thread of the current process (exec, exit_group). */
void zap_other_threads(struct process *p);
/* The current task's platform thread changed (exec into a fresh address space). */
void task_set_uthread(struct task *t, struct uthread *ut);
/* Credentials of the current process. */
static inline struct creds *cur_cred(void)
{
	return &current->proc->cred;
}
extern int nr_processes;
/* Live guest tasks (threads) and the kernel-wide limit on them (threads-max). */
extern int nr_tasks, max_tasks;
void vfork_release(struct task *t);
/* Futexes (futex.c): wake waiters on a guest address of an address space. */
int futex_wake_addr(struct mm *mm, uaddr_t addr, int n);
/* The controlling terminal's session leader exited (drivers/tty.c). */
void tty_session_leader_exit(struct process *p);
/* Called when init (pid 1) exits: the exit status of vmlinux. */
extern void (*init_exit_hook)(int status);

#endif
