/* The scheduler and event loop of the single kernel thread.
 *
 * Every task has a kernel stack; ctx_switch() moves between a task's stack and the
 * scheduler's own (the boot thread's stack). Tasks run until they sleep. When no task
 * is runnable, the kernel thread waits in epoll for host events: ptrace stops of guest
 * threads, console input, timers, and completions posted by the block I/O thread. */
#define _GNU_SOURCE
#include "sched.h"
#include "task.h"
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

void ctx_switch(void **save_sp, void *new_sp);

struct task *current;
static void *sched_sp;
static struct list runq = LIST_INIT(runq);
static struct list timers = LIST_INIT(timers); /* sorted by expiry */
static int epfd = -1;
static bool stopping;

#define KSTACK_SIZE (256 * 1024)

uint64_t ktime_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t ktime_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void waitq_init(struct waitq *wq)
{
	list_init(&wq->sleepers);
}

struct wait_entry {
	struct list link;
	struct task *task;
};

void wake_task(struct task *t)
{
	if (t->state != TASK_SLEEPING)
		return;
	t->state = TASK_RUNNING;
	if (!t->on_runq) {
		t->on_runq = true;
		list_add_tail(&t->runq_link, &runq);
	}
}

void wake_up(struct waitq *wq)
{
	list_for_each_safe(it, nx, &wq->sleepers)
	    wake_task(list_entry(it, struct wait_entry, link)->task);
}

/* Switch from the current task to the scheduler; returns when the task runs again. */
static void schedule(void)
{
	ctx_switch(&current->ksp, sched_sp);
}

void yield(void)
{
	if (!current->on_runq) {
		current->on_runq = true;
		list_add_tail(&current->runq_link, &runq);
	}
	schedule();
}

static void sleep_timeout(struct ktimer *kt);
struct sleep_timer {
	struct ktimer kt;
	struct task *task;
};

static void sleep_timeout(struct ktimer *kt)
{
	struct sleep_timer *st = container_of(kt, struct sleep_timer, kt);
	st->task->timed_out = true;
	wake_task(st->task);
}

int sleep_on_many(struct waitq **wqs, int n, bool interruptible, uint64_t deadline)
{
	struct task *t = current;
	if (interruptible && signal_pending(t))
		return -EINTR;
	if (deadline && ktime_mono() >= deadline)
		return -ETIMEDOUT;
	struct wait_entry ents[n > 0 ? n : 1];
	for (int i = 0; i < n; i++) {
		ents[i].task = t;
		list_add_tail(&ents[i].link, &wqs[i]->sleepers);
	}
	struct sleep_timer st = {.kt = {.fn = sleep_timeout}, .task = t};
	t->timed_out = false;
	if (deadline)
		ktimer_arm(&st.kt, deadline);
	t->sleep_intr = interruptible;
	t->state = TASK_SLEEPING;
	schedule();
	t->sleep_intr = false;
	for (int i = 0; i < n; i++)
		list_del(&ents[i].link);
	if (deadline)
		ktimer_cancel(&st.kt);
	if (interruptible && signal_pending(t))
		return -EINTR;
	if (t->timed_out)
		return -ETIMEDOUT;
	return 0;
}

void kmutex_init(struct kmutex *m)
{
	m->owner = NULL;
	waitq_init(&m->wq);
}

void kmutex_lock(struct kmutex *m)
{
	while (m->owner)
		sleep_on(&m->wq, false);
	m->owner = current;
}

void kmutex_unlock(struct kmutex *m)
{
	m->owner = NULL;
	wake_up(&m->wq);
}

void sched_exit(void)
{
	current->state = TASK_DEAD;
	schedule();
	__builtin_unreachable();
}

static void task_entry(void)
{
	current->kfn(current->karg);
	/* A kernel function returning ends its task. */
	sched_exit();
}

/* Give t a fresh kernel stack that starts in fn(arg). */
void task_init_stack(struct task *t, void (*fn)(void *), void *arg)
{
	t->kstack_size = KSTACK_SIZE;
	t->kstack = mmap(NULL, KSTACK_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->kstack == MAP_FAILED)
		panic("out of host memory for a kernel stack");
	mprotect(t->kstack, PAGE_SIZE, PROT_NONE); /* guard page */
	uint64_t *sp = (uint64_t *)((char *)t->kstack + KSTACK_SIZE);
	*--sp = 0;		      /* fake return address of task_entry */
	*--sp = (uint64_t)task_entry; /* where ctx_switch returns */
	for (int i = 0; i < 6; i++)
		*--sp = 0; /* rbp rbx r12-r15 */
	t->ksp = sp;
	t->kfn = fn;
	t->karg = arg;
	list_init(&t->wait_links);
	t->state = TASK_RUNNING;
	t->on_runq = true;
	list_add_tail(&t->runq_link, &runq);
}

struct task *kthread_create(const char *name, void (*fn)(void *), void *arg)
{
	struct task *t = xzalloc(sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->is_kthread = true;
	task_init_stack(t, fn, arg);
	return t;
}

/* Called once a dead task's stack is no longer in use. */
static void task_reap_stack(struct task *t)
{
	munmap(t->kstack, t->kstack_size);
	t->kstack = NULL;
	free(t);
}

void ktimer_arm(struct ktimer *t, uint64_t expires)
{
	if (t->armed)
		list_del(&t->link);
	t->expires = expires;
	t->armed = true;
	struct list *pos = &timers;
	list_for_each(it, &timers)
	{
		if (list_entry(it, struct ktimer, link)->expires > expires) {
			pos = it;
			break;
		}
	}
	list_add_tail(&t->link, pos);
}

void ktimer_cancel(struct ktimer *t)
{
	if (t->armed) {
		list_del(&t->link);
		t->armed = false;
	}
}

static void run_timers(void)
{
	uint64_t now = ktime_mono();
	while (!list_empty(&timers)) {
		struct ktimer *t = list_entry(timers.next, struct ktimer, link);
		if (t->expires > now)
			break;
		list_del(&t->link);
		t->armed = false;
		t->fn(t);
	}
}

/* Completions posted from other host threads. */
struct posted {
	void (*fn)(void *);
	void *arg;
	struct posted *next;
};
static pthread_mutex_t post_lock = PTHREAD_MUTEX_INITIALIZER;
static struct posted *post_head, **post_tail = &post_head;
static struct kevent post_ev;

void kevent_post(void (*fn)(void *), void *arg)
{
	struct posted *p = malloc(sizeof(*p));
	if (!p)
		abort();
	p->fn = fn;
	p->arg = arg;
	p->next = NULL;
	pthread_mutex_lock(&post_lock);
	*post_tail = p;
	post_tail = &p->next;
	pthread_mutex_unlock(&post_lock);
	uint64_t one = 1;
	if (write(post_ev.fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow in practice; nothing to do */
	}
}

static void run_posted(struct kevent *ev, uint32_t revents)
{
	uint64_t cnt;
	if (read(ev->fd, &cnt, sizeof(cnt)) < 0) {
		/* spurious wakeup */
	}
	pthread_mutex_lock(&post_lock);
	struct posted *p = post_head;
	post_head = NULL;
	post_tail = &post_head;
	pthread_mutex_unlock(&post_lock);
	while (p) {
		struct posted *nx = p->next;
		p->fn(p->arg);
		free(p);
		p = nx;
	}
}

static void sched_init(void)
{
	if (epfd >= 0)
		return;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	post_ev.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (epfd < 0 || post_ev.fd < 0)
		panic("cannot create the kernel event loop: %s", strerror(errno));
	post_ev.events = EPOLLIN;
	post_ev.cb = run_posted;
	kevent_add(&post_ev);
}

int kevent_add(struct kevent *ev)
{
	sched_init();
	struct epoll_event e = {.events = ev->events, .data.ptr = ev};
	return epoll_ctl(epfd, EPOLL_CTL_ADD, ev->fd, &e) ? -errno : 0;
}

int kevent_mod(struct kevent *ev, uint32_t events)
{
	ev->events = events;
	struct epoll_event e = {.events = ev->events, .data.ptr = ev};
	return epoll_ctl(epfd, EPOLL_CTL_MOD, ev->fd, &e) ? -errno : 0;
}

void kevent_del(struct kevent *ev)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, ev->fd, NULL);
}

static void poll_events(bool block)
{
	int timeout = 0;
	if (block) {
		timeout = -1;
		if (!list_empty(&timers)) {
			uint64_t exp = list_entry(timers.next, struct ktimer, link)->expires;
			uint64_t now = ktime_mono();
			timeout = exp <= now ? 0 : (int)MIN((exp - now + 999999) / 1000000, 60000);
		}
	}
	struct epoll_event evs[32];
	int n = epoll_wait(epfd, evs, 32, timeout);
	for (int i = 0; i < n; i++) {
		struct kevent *ev = evs[i].data.ptr;
		ev->cb(ev, evs[i].events);
	}
}

static bool (*idle_poll)(bool idle);

void sched_set_idle_poll(bool (*poll)(bool idle))
{
	idle_poll = poll;
}

void sched_stop(void)
{
	stopping = true;
}

void sched_run(void)
{
	sched_init();
	while (!stopping || !list_empty(&runq)) {
		run_timers();
		if (list_empty(&runq)) {
			if (stopping)
				break;
			if (idle_poll && idle_poll(true))
				continue;
			poll_events(true);
			continue;
		}
		/* Run every task that is runnable now, then look at events again. */
		struct list batch = LIST_INIT(batch);
		while (!list_empty(&runq)) {
			struct list *it = runq.next;
			list_del(it);
			list_add_tail(it, &batch);
		}
		while (!list_empty(&batch)) {
			struct task *t = list_entry(batch.next, struct task, runq_link);
			list_del(&t->runq_link);
			t->on_runq = false;
			current = t;
			ctx_switch(&sched_sp, t->ksp);
			current = NULL;
			if (t->state == TASK_DEAD)
				task_reap_stack(t);
		}
		if (idle_poll)
			idle_poll(false);
		poll_events(false);
	}
}
