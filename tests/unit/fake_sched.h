/* Other host threads for unit tests (fake_sched.c), on the one task of fake_kernel.c:
 * kevent_post() queues a callback, and a sleep runs what was posted until something
 * wakes the task. Link tests/unit/fake_sched.c and fake_kernel.c instead of the
 * scheduler. */
#ifndef FAKE_SCHED_H
#define FAKE_SCHED_H

#include "kernel/sched.h"

/* The pretend task; `current` starts as this. Set current = NULL to act as the
 * scheduler's own context, and back to fake_task afterwards. */
extern struct task *const fake_task;
/* Run every callback posted so far; returns how many ran. */
int fake_sched_run_posted(void);
/* Seconds a sleep without a deadline may wait for a post before the test is
 * declared deadlocked (abort). Default 10. */
extern int fake_sched_watchdog;

#endif
