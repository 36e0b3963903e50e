/* The kernel around the piece a unit test exercises (fake_kernel.c): one task and no
 * other, guest memory that is the test's own memory (a guest address is a host
 * pointer), a clock that moves only when told to, a process table the test fills in,
 * and printk captured. The real src/kernel/util.c (printk, xmalloc, copy_*_user) and,
 * where inodes are used, src/kernel/fs/inode.c and registry.c are linked with it. */
#ifndef FAKE_KERNEL_H
#define FAKE_KERNEL_H

#include "kernel/task.h"

/* A test that runs between the setup() and teardown() of its file. */
#define FIXTURE_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* Everything printk() said since the last fake_log_clear() (FAKE_VERBOSE=1: also on
 * stderr). */
extern char fake_log[16384];
void fake_log_clear(void);

/* ktime_mono() and ktime_real(). */
extern uint64_t fake_mono_ns, fake_real_ns;

/* Every sleep_on_many() is counted in fake_sleeps, wake_up()/wake_task() calls in
 * fake_wakeups. A hook, when set, plays the rest of the world and returns what the sleep
 * returns; without one, the sleep is fake_sleep_alone(): with one task it can end only by
 * its deadline (the clock moves there: -ETIMEDOUT) or, if interruptible, by a signal
 * (-EINTR); an uninterruptible sleep without a deadline fails the test. */
extern int (*fake_sleep_hook)(bool interruptible, uint64_t deadline);
extern int fake_sleeps, fake_wakeups;
int fake_sleep_alone(bool interruptible, uint64_t deadline);

/* What process_next(), find_process() and find_task() walk; NULL slots are skipped. */
#define FAKE_MAX_PROCS 8
extern struct process *fake_procs[FAKE_MAX_PROCS];

#endif
