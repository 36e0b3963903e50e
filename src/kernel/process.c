/* Processes and threads: pids, clone/fork/vfork, exit, wait, process groups, sessions.
 * A guest thread is a struct task with a kernel stack running guest_loop(). */
#define _GNU_SOURCE
#include "process.h"
#include "mm.h"
#include "syscalls.h"
#include "fs/fs.h"
#include <linux/sched.h>
#include <sys/wait.h>

static struct task *tid_table[PID_MAX];
static struct process *pid_table[PID_MAX];
static pid_t last_pid;
static struct list all_processes = LIST_INIT(all_processes);
struct process *init_process;
int nr_processes;
int nr_tasks;
int max_tasks = 4096;
uint64_t kernel_nr_forks;
void (*init_exit_hook)(int status);

static pid_t alloc_pid(void)
{
	for (int i = 0; i < PID_MAX; i++) {
		pid_t pid = last_pid + 1 + i;
		if (pid >= PID_MAX)
			pid = 300 + pid % PID_MAX; /* wrap as Linux does, past low pids */
		if (!tid_table[pid] && !pid_table[pid]) {
			last_pid = pid;
			return pid;
		}
	}
	return -EAGAIN;
}

struct task *find_task(pid_t tid)
{
	return tid > 0 && tid < PID_MAX ? tid_table[tid] : NULL;
}

struct process *find_process(pid_t pid)
{
	return pid > 0 && pid < PID_MAX ? pid_table[pid] : NULL;
}

struct process *process_next(struct process *prev)
{
	struct list *n = prev ? prev->all_link.next : all_processes.next;
	return n == &all_processes ? NULL : list_entry(n, struct process, all_link);
}

static struct task *task_alloc(struct process *p, pid_t tid)
{
	struct task *t = xzalloc(sizeof(*t));
	t->tid = tid;
	t->proc = p;
	list_init(&t->pending.queue);
	list_add_tail(&t->thread_link, &p->threads);
	p->nthreads++;
	tid_table[tid] = t;
	nr_tasks++;
	snprintf(t->name, sizeof(t->name), "%s", p->comm);
	return t;
}

static struct process *process_alloc(pid_t pid, struct process *parent)
{
	struct process *p = xzalloc(sizeof(*p));
	p->pid = pid;
	p->parent = parent;
	list_init(&p->children);
	list_init(&p->threads);
	list_init(&p->shared_pending.queue);
	waitq_init(&p->child_wait);
	p->exit_signal = SIGCHLD;
	p->start_time = ktime_mono() - boot_mono_ns;
	if (parent)
		list_add_tail(&p->sibling, &parent->children);
	list_add_tail(&p->all_link, &all_processes);
	pid_table[pid] = p;
	nr_processes++;
	return p;
}

struct process *process_create_init(void (*fn)(void *), void *arg)
{
	pid_t pid = alloc_pid();
	struct process *p = process_alloc(pid, NULL);
	p->pgid = p->sid = pid;
	p->sighand = xzalloc(sizeof(*p->sighand));
	p->sighand->refcount = 1;
	for (int i = 0; i < RLIM_NLIMITS; i++)
		p->rlim[i] = (struct rlimit){RLIM_INFINITY, RLIM_INFINITY};
	p->rlim[RLIMIT_NOFILE] = (struct rlimit){1024, 1024 * 1024};
	p->rlim[RLIMIT_STACK] = (struct rlimit){8 << 20, RLIM_INFINITY};
	p->rlim[RLIMIT_NPROC] = (struct rlimit){4096, 4096};
	p->rlim[RLIMIT_SIGPENDING] = (struct rlimit){4096, 4096};
	p->rlim[RLIMIT_CORE] = (struct rlimit){0, RLIM_INFINITY};
	snprintf(p->comm, sizeof(p->comm), "swapper");
	struct task *t = task_alloc(p, pid);
	t->files = fdtable_new();
	t->fs = fs_struct_init();
	t->mm = mm_new();
	task_init_stack(t, fn, arg);
	init_process = p;
	return p;
}

void task_set_uthread(struct task *t, struct uthread *ut)
{
	if (t->ut)
		platform->release(t->ut);
	t->ut = ut;
}

/* clone(2) and friends. */
static long do_clone(uint64_t flags, uaddr_t newsp, uaddr_t ptid, uaddr_t ctid, uint64_t tls)
{
	struct task *parent = current;
	struct process *pp = parent->proc;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	/* Every guest task is a host task: a kernel-wide limit bounds them whatever the
	 * guest's root does to its rlimits (Linux's threads-max). */
	if (nr_tasks >= max_tasks)
		return -EAGAIN;
	if (pp->cred.euid != 0 && nr_tasks >= (int)MIN(pp->rlim[RLIMIT_NPROC].rlim_cur, INT32_MAX))
		return -EAGAIN;
	if (!(flags & CLONE_VM) && !mm_can_copy(parent->mm))
		return -ENOMEM;
	pid_t tid = alloc_pid();
	if (tid < 0)
		return tid;

	struct uthread *ut;
	int err = platform->clone(parent->ut, flags & CLONE_VM, &ut);
	if (err)
		return err;

	struct process *p = pp;
	if (!(flags & CLONE_THREAD)) {
		struct process *real_parent =
		    (flags & CLONE_PARENT) && pp->parent ? pp->parent : pp;
		p = process_alloc(tid, real_parent);
		p->pgid = pp->pgid;
		p->sid = pp->sid;
		p->tty = pp->tty;
		p->cred = pp->cred;
		memcpy(p->rlim, pp->rlim, sizeof(p->rlim));
		memcpy(p->comm, pp->comm, sizeof(p->comm));
		p->exit_signal = flags & 0xff;
		if (flags & CLONE_SIGHAND) {
			p->sighand = pp->sighand;
			p->sighand->refcount++;
		} else {
			p->sighand = xmalloc(sizeof(*p->sighand));
			*p->sighand = *pp->sighand;
			p->sighand->refcount = 1;
		}
		kernel_nr_forks++;
	}
	struct task *t = task_alloc(p, tid);
	t->ut = ut;
	t->regs = parent->regs;
	t->regs.rax = 0;
	if (newsp)
		t->regs.rsp = newsp;
	if (flags & CLONE_SETTLS)
		t->regs.fs_base = tls;
	t->blocked = parent->blocked;
	if (flags & CLONE_VM) {
		t->mm = parent->mm;
		t->mm->refcount++;
	} else {
		t->mm = mm_copy(parent->mm);
	}
	if (flags & CLONE_FILES) {
		t->files = parent->files;
		t->files->refcount++;
	} else {
		t->files = fdtable_dup(parent->files);
	}
	if (flags & CLONE_FS) {
		t->fs = parent->fs;
		t->fs->refcount++;
	} else {
		t->fs = fs_struct_dup(parent->fs);
	}
	if (!(flags & CLONE_VM) || (flags & CLONE_VFORK)) {
		/* A new process keeps the parent's alternate stack. */
		t->sas_sp = parent->sas_sp;
		t->sas_size = parent->sas_size;
	}
	if (flags & CLONE_PARENT_SETTID)
		PUT_USER(tid, ptid);
	if (flags & CLONE_CHILD_SETTID) {
		struct task *save = current;
		current = t; /* write into the child's address space */
		PUT_USER(tid, ctid);
		current = save;
	}
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = ctid;

	struct waitq vfork_wq;
	bool vfork_done = false;
	if (flags & CLONE_VFORK) {
		waitq_init(&vfork_wq);
		t->vfork_done = &vfork_wq;
		t->vfork_flag = &vfork_done;
	}
	task_init_stack(t, guest_loop, NULL);
	if (flags & CLONE_VFORK) {
		/* The parent sleeps until the child execs or exits (not interruptibly: the
		 * child may be using the parent's memory). */
		while (!vfork_done)
			sleep_on(&vfork_wq, false);
	}
	return tid;
}

/* The child of a vfork stops borrowing its parent. */
void vfork_release(struct task *t)
{
	if (t->vfork_done) {
		*t->vfork_flag = true;
		wake_up(t->vfork_done);
		t->vfork_done = NULL;
	}
}

SYSCALL(clone)
{
	/* x86-64 argument order: flags, newsp, parent_tid, child_tid, tls */
	return do_clone(a[0], a[1], a[2], a[3], a[4]);
}

SYSCALL(clone3)
{
	struct clone_args ca;
	if (a[1] < 64)
		return -EINVAL;
	memset(&ca, 0, sizeof(ca));
	int err = copy_from_user(&ca, a[0], MIN(a[1], sizeof(ca)));
	if (err)
		return err;
	if (ca.flags & 0xff)
		return -EINVAL;
	uaddr_t sp = ca.stack ? ca.stack + ca.stack_size : 0;
	return do_clone(ca.flags | (ca.exit_signal & 0xff), sp, ca.parent_tid, ca.child_tid,
			ca.tls);
}

SYSCALL(fork)
{
	return do_clone(SIGCHLD, 0, 0, 0, 0);
}

SYSCALL(vfork)
{
	return do_clone(CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}

void notify_parent(struct process *p, int why, int status)
{
	struct process *parent = p->parent;
	if (!parent)
		return;
	wake_up(&parent->child_wait);
	int sig =
	    why == CLD_EXITED || why == CLD_KILLED || why == CLD_DUMPED ? p->exit_signal : SIGCHLD;
	if (!sig)
		return;
	struct k_sigaction *act = &parent->sighand->action[SIGCHLD - 1];
	if (why == CLD_STOPPED || why == CLD_CONTINUED) {
		if (act->flags & SA_NOCLDSTOP)
			return;
	}
	struct ksiginfo info = {.signo = sig, .code = why};
	info.kill.pid = p->pid;
	info.kill.uid = p->cred.uid;
	info.kill.status = status;
	send_signal(parent, sig, &info);
}

static void release_process(struct process *p)
{
	list_del(&p->sibling);
	list_del(&p->all_link);
	pid_table[p->pid] = NULL;
	nr_processes--;
	if (--p->sighand->refcount == 0)
		free(p->sighand);
	free(p);
}

/* The last thread of p is gone: make it a zombie and tell the parent. */
static void process_exit(struct process *p, int status)
{
	ktimer_cancel(&p->itimer_real.timer);
	/* Orphans go to init; zombies among them are reaped by it. */
	list_for_each_safe(it, nx, &p->children)
	{
		struct process *c = list_entry(it, struct process, sibling);
		list_del(&c->sibling);
		c->parent = init_process;
		list_add_tail(&c->sibling, &init_process->children);
		if (c->state == PROC_ZOMBIE)
			notify_parent(c, CLD_EXITED, c->exit_code);
	}
	if (p->sid == p->pid && p->tty)
		tty_session_leader_exit(p);
	p->state = PROC_ZOMBIE;
	p->exit_code = status;
	if (p == init_process) {
		if (init_exit_hook)
			init_exit_hook(status);
		return;
	}
	struct k_sigaction *act = &p->parent->sighand->action[SIGCHLD - 1];
	if (p->exit_signal == SIGCHLD && (act->handler == 1 || (act->flags & SA_NOCLDWAIT))) {
		release_process(p); /* the parent asked not to see zombies */
		return;
	}
	int why = WIFSIGNALED(status) ? CLD_KILLED : CLD_EXITED;
	notify_parent(p, why, WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

void zap_other_threads(struct process *p)
{
	list_for_each(it, &p->threads)
	{
		struct task *t = list_entry(it, struct task, thread_link);
		if (t != current)
			send_signal_task(t, SIGKILL, NULL);
	}
}

void do_exit(int status, bool group)
{
	struct task *t = current;
	struct process *p = t->proc;
	if (group && !p->group_exiting) {
		p->group_exiting = true;
		p->exit_code = status;
		zap_other_threads(p);
	}
	if (p->group_exiting)
		status = p->exit_code;
	t->exiting = true;
	if (t->clear_child_tid && t->mm->refcount > 1) {
		uint32_t zero = 0;
		if (!PUT_USER(zero, t->clear_child_tid))
			futex_wake_addr(t->mm, t->clear_child_tid, 1);
	}
	vfork_release(t);
	if (t->ut) {
		platform->release(t->ut);
		t->ut = NULL;
	}
	mm_put(t->mm);
	fdtable_put(t->files);
	fs_struct_put(t->fs);
	t->mm = NULL;
	t->files = NULL;
	t->fs = NULL;
	list_del(&t->thread_link);
	tid_table[t->tid] = NULL;
	nr_tasks--;
	if (--p->nthreads == 0)
		process_exit(p, status);
	sched_exit();
}

SYSCALL(exit)
{
	do_exit((a[0] & 0xff) << 8, false);
}

SYSCALL(exit_group)
{
	do_exit((a[0] & 0xff) << 8, true);
}

/* Does child c match wait4's pid argument for the current process? */
static bool wait_matches(struct process *c, pid_t pid, int options)
{
	if (pid > 0 && c->pid != pid)
		return false;
	if (pid == 0 && c->pgid != current->proc->pgid)
		return false;
	if (pid < -1 && c->pgid != -pid)
		return false;
	/* __WALL waits for all; otherwise clone children (exit signal not SIGCHLD) only
	 * with __WCLONE. */
	if (!(options & __WALL) && ((c->exit_signal != SIGCHLD) != !!(options & __WCLONE)))
		return false;
	return true;
}

struct wait_result {
	pid_t pid;
	int status; /* wait status word */
	int code;   /* CLD_* for waitid */
	uid_t uid;
};

/* Look once for a reportable child; -ECHILD if none could ever be, 0 if none yet. */
static int wait_scan(pid_t pid, int options, bool waitid, struct wait_result *res)
{
	bool any = false;
	list_for_each(it, &current->proc->children)
	{
		struct process *c = list_entry(it, struct process, sibling);
		if (!wait_matches(c, pid, options))
			continue;
		any = true;
		res->pid = c->pid;
		res->uid = c->cred.uid;
		if (c->state == PROC_ZOMBIE && (options & WEXITED)) {
			res->status = c->exit_code;
			res->code = WIFSIGNALED(c->exit_code) ? CLD_KILLED : CLD_EXITED;
			if (!(options & WNOWAIT)) {
				struct process *me = current->proc;
				me->utime_ns += c->utime_ns;
				release_process(c);
			}
			return 1;
		}
		if (c->state == PROC_STOPPED && c->report_stop && (options & WUNTRACED)) {
			res->status = (c->stop_signal << 8) | 0x7f;
			res->code = CLD_STOPPED;
			if (!(options & WNOWAIT))
				c->report_stop = false;
			return 1;
		}
		if (c->report_cont && (options & WCONTINUED)) {
			res->status = 0xffff;
			res->code = CLD_CONTINUED;
			if (!(options & WNOWAIT))
				c->report_cont = false;
			return 1;
		}
	}
	(void)waitid;
	return any ? 0 : -ECHILD;
}

static int do_wait(pid_t pid, int options, bool waitid, struct wait_result *res)
{
	for (;;) {
		int r = wait_scan(pid, options, waitid, res);
		if (r)
			return r < 0 ? r : 0;
		if (options & WNOHANG) {
			res->pid = 0;
			return 0;
		}
		if (sleep_on(&current->proc->child_wait, true))
			return -ERESTARTSYS;
	}
}

SYSCALL(wait4)
{
	int options = (int)a[2];
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD))
		return -EINVAL;
	struct wait_result res = {0};
	int r = do_wait((pid_t)a[0], options | WEXITED, false, &res);
	if (r)
		return r;
	if (res.pid && a[1]) {
		int err = PUT_USER(res.status, a[1]);
		if (err)
			return err;
	}
	if (a[3]) {
		struct rusage ru = {0};
		copy_to_user(a[3], &ru, sizeof(ru));
	}
	return res.pid;
}

SYSCALL(waitid)
{
	int idtype = (int)a[0], options = (int)a[3];
	pid_t pid;
	switch (idtype) {
	case P_ALL:
		pid = -1;
		break;
	case P_PID:
		pid = (pid_t)a[1];
		break;
	case P_PGID:
		pid = a[1] ? -(pid_t)a[1] : 0;
		break;
	default:
		return -EINVAL;
	}
	if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	struct wait_result res = {0};
	int r = do_wait(pid, options, true, &res);
	if (r)
		return r;
	if (a[2]) {
		struct ksiginfo si = {0};
		if (res.pid) {
			si.signo = SIGCHLD;
			si.code = res.code;
			si.kill.pid = res.pid;
			si.kill.uid = res.uid;
			si.kill.status = res.code == CLD_EXITED	   ? WEXITSTATUS(res.status)
					 : res.code == CLD_KILLED  ? WTERMSIG(res.status)
					 : res.code == CLD_STOPPED ? WSTOPSIG(res.status)
								   : SIGCONT;
		}
		return copy_to_user(a[2], &si, sizeof(si));
	}
	return 0;
}

SYSCALL(getpid)
{
	return current->proc->pid;
}

SYSCALL(gettid)
{
	return current->tid;
}

SYSCALL(getppid)
{
	struct process *pp = current->proc->parent;
	return pp ? pp->pid : 0;
}

SYSCALL(getpgid)
{
	struct process *p = a[0] ? find_process((pid_t)a[0]) : current->proc;
	return p ? p->pgid : -ESRCH;
}

SYSCALL(getpgrp)
{
	return current->proc->pgid;
}

SYSCALL(getsid)
{
	struct process *p = a[0] ? find_process((pid_t)a[0]) : current->proc;
	return p ? p->sid : -ESRCH;
}

SYSCALL(setpgid)
{
	struct process *me = current->proc;
	pid_t pid = a[0] ? (pid_t)a[0] : me->pid;
	pid_t pgid = a[1] ? (pid_t)a[1] : pid;
	if (pgid < 0)
		return -EINVAL;
	struct process *p = find_process(pid);
	if (!p || (p != me && p->parent != me))
		return -ESRCH;
	if (p->sid == p->pid || p->sid != me->sid)
		return -EPERM;
	if (pgid != pid) {
		/* The group must exist in the same session. */
		bool ok = false;
		for (struct process *q = process_next(NULL); q; q = process_next(q))
			if (q->pgid == pgid && q->sid == me->sid && q->state != PROC_ZOMBIE)
				ok = true;
		if (!ok)
			return -EPERM;
	}
	p->pgid = pgid;
	return 0;
}

SYSCALL(setsid)
{
	struct process *me = current->proc;
	for (struct process *q = process_next(NULL); q; q = process_next(q))
		if (q->pgid == me->pid)
			return -EPERM;
	me->sid = me->pgid = me->pid;
	me->tty = NULL;
	return me->pid;
}

SYSCALL(set_tid_address)
{
	current->clear_child_tid = a[0];
	return current->tid;
}

SYSCALL(set_robust_list)
{
	if (a[1] != 24)
		return -EINVAL;
	current->robust_list = a[0];
	return 0;
}
