/* Other host threads for unit tests: see fake_sched.h. The single pretend task never
 * switches, so a sleep simply runs the callbacks posted by other threads until one of
 * them wakes it (fake_kernel.c counts the wake-ups). */
#include "fake_sched.h"
#include "fake_kernel.h"

#include <pthread.h>
#include <time.h>

static struct task the_task;
struct task *const fake_task = &the_task;
int fake_sched_watchdog = 10;

struct posted {
	void (*fn)(void *);
	void *arg;
	struct posted *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct posted *head, **tail = &head;
/* The wake-ups seen so far: with one task, whoever is woken is the sleeper. */
static int wakeups_seen;

void kevent_post(void (*fn)(void *), void *arg)
{
	struct posted *p = malloc(sizeof(*p));

	if (!p)
		abort();
	p->fn = fn;
	p->arg = arg;
	p->next = NULL;
	pthread_mutex_lock(&lock);
	*tail = p;
	tail = &p->next;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

int fake_sched_run_posted(void)
{
	struct posted *p;
	int n = 0;

	pthread_mutex_lock(&lock);
	p = head;
	head = NULL;
	tail = &head;
	pthread_mutex_unlock(&lock);
	while (p) {
		struct posted *next = p->next;

		p->fn(p->arg);
		free(p);
		p = next;
		n++;
	}
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Wait for a post until the deadline (monotonic ns). False on timeout. */
static bool wait_post(uint64_t deadline)
{
	bool got = true;

	pthread_mutex_lock(&lock);
	while (!head) {
		uint64_t now = now_ns();
		struct timespec ts;

		if (now >= deadline) {
			got = false;
			break;
		}
		/* The condvar runs on CLOCK_REALTIME: wait in short slices. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += MIN(deadline - now, 10000000ULL);
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&cond, &lock, &ts);
	}
	pthread_mutex_unlock(&lock);
	return got;
}

static int run_posted_until_woken(bool interruptible, uint64_t deadline)
{
	uint64_t limit = deadline ? deadline : now_ns() + fake_sched_watchdog * 1000000000ULL;

	for (;;) {
		if (fake_wakeups != wakeups_seen) {
			wakeups_seen = fake_wakeups;
			return 0;
		}
		if (fake_sched_run_posted())
			continue;
		if (!wait_post(limit)) {
			if (deadline)
				return -ETIMEDOUT;
			fprintf(stderr, "fake_sched: asleep %d s with nothing posted: deadlock\n",
				fake_sched_watchdog);
			abort();
		}
	}
}

void yield(void)
{
	fake_sched_run_posted();
}

__attribute__((constructor)) static void become_the_task(void)
{
	current = fake_task;
	fake_sleep_hook = run_posted_until_woken;
}
