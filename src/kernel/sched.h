/* The kernel's scheduler: one host thread runs all kernel code, switching between one
 * kernel stack per task (as UML does). There are no locks: a task runs until it sleeps.
 * Other host threads (block I/O, console) never touch kernel state; they post
 * completions with kevent_post(), which the kernel thread picks up in its event loop. */
#ifndef SCHED_H
#define SCHED_H

#include "kernel.h"

struct task;

/* A wait queue: tasks sleeping until something happens. */
struct waitq {
	struct list sleepers;
};
#define WAITQ_INIT(name)                                                                           \
	{                                                                                          \
		LIST_INIT((name).sleepers)                                                         \
	}
void waitq_init(struct waitq *wq);
/* Wake every task sleeping on wq (they re-check their condition). */
void wake_up(struct waitq *wq);

/* Sleep on one or more wait queues until woken. With interruptible set, a pending
 * guest signal ends the sleep: returns -EINTR (callers turn it into -ERESTARTSYS where
 * the call may restart). A deadline (CLOCK_MONOTONIC ns, 0 = none) returns -ETIMEDOUT. */
int sleep_on_many(struct waitq **wqs, int n, bool interruptible, uint64_t deadline);
static inline int sleep_on(struct waitq *wq, bool interruptible)
{
	return sleep_on_many(&wq, 1, interruptible, 0);
}
/* Sleep until cond holds. Evaluates to 0, -EINTR or -ETIMEDOUT. */
#define wait_event(wq, cond, intr, deadline)                                                       \
	({                                                                                         \
		int __r = 0;                                                                       \
		struct waitq *__wq = (wq);                                                         \
		while (!(cond)) {                                                                  \
			__r = sleep_on_many(&__wq, 1, (intr), (deadline));                         \
			if (__r)                                                                   \
				break;                                                             \
		}                                                                                  \
		(cond) ? 0 : __r;                                                                  \
	})

/* A sleeping lock for code that may sleep inside (the ext filesystem library). */
struct kmutex {
	struct task *owner;
	struct waitq wq;
};
void kmutex_init(struct kmutex *m);
void kmutex_lock(struct kmutex *m);
void kmutex_unlock(struct kmutex *m);

/* Kernel threads: a task with a kernel stack that runs fn(arg) and never enters guest
 * mode (the block flusher, init's bootstrap). */
struct task *kthread_create(const char *name, void (*fn)(void *), void *arg);
/* Give a task a fresh kernel stack starting in fn(arg) and make it runnable. */
void task_init_stack(struct task *t, void (*fn)(void *), void *arg);

/* The currently running task (NULL in the scheduler's own context). */
extern struct task *current;
/* End the current task for good: its stack and struct are freed by the scheduler. */
__attribute__((noreturn)) void sched_exit(void);
/* Give other runnable tasks a turn. */
void yield(void);
/* Make a sleeping task runnable. */
void wake_task(struct task *t);

/* Kernel timers, on CLOCK_MONOTONIC. The callback runs in scheduler context: it must
 * not sleep; it may wake tasks. */
struct ktimer {
	uint64_t expires;
	void (*fn)(struct ktimer *);
	struct list link;
	bool armed;
};
void ktimer_arm(struct ktimer *t, uint64_t expires_ns);
void ktimer_cancel(struct ktimer *t);

/* The event loop: a host fd watched by the kernel thread. cb runs in scheduler context
 * when fd is readable (events as for epoll). */
struct kevent {
	int fd;
	uint32_t events;
	void (*cb)(struct kevent *, uint32_t revents);
	void *priv;
};
int kevent_add(struct kevent *ev);
void kevent_del(struct kevent *ev);
int kevent_mod(struct kevent *ev, uint32_t events);

/* Cross-thread completion: another host thread calls kevent_post(); later the kernel
 * thread calls fn(arg) in scheduler context. Thread-safe; never blocks. */
void kevent_post(void (*fn)(void *), void *arg);

/* A platform's poll of its running guest threads (the seccomp platform's shared-memory
 * channels), called on every pass of the event loop. With idle set no task is runnable
 * and the poll may spin for a bounded time before the kernel thread blocks in epoll.
 * Returns true when it made a task runnable. */
void sched_set_idle_poll(bool (*poll)(bool idle));

/* Start the scheduler with the given first kernel task; returns when sched_stop() is
 * called and no tasks remain runnable. */
void sched_run(void);
void sched_stop(void);

#endif
