/* Signals: generation, default actions, job-control stops, and delivery to guest
 * handlers with a frame laid out exactly as Linux's x86-64 rt_sigframe. */
#define _GNU_SOURCE
#include "signal.h"
#include "process.h"
#include "mm.h"
#include "syscalls.h"
#include <signal.h>
#include <sys/wait.h>

struct sigqueue {
	struct list link;
	struct ksiginfo info;
};

static const ksigset_t unblockable = SIGBIT(SIGKILL) | SIGBIT(SIGSTOP);
static const ksigset_t stop_sigs =
    SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU);
static const ksigset_t ignore_sigs =
    SIGBIT(SIGCHLD) | SIGBIT(SIGURG) | SIGBIT(SIGWINCH) | SIGBIT(SIGCONT);
static const ksigset_t core_sigs =
    SIGBIT(SIGQUIT) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) | SIGBIT(SIGABRT) | SIGBIT(SIGBUS) |
    SIGBIT(SIGFPE) | SIGBIT(SIGSEGV) | SIGBIT(SIGXCPU) | SIGBIT(SIGXFSZ) | SIGBIT(SIGSYS);
static struct waitq stop_wq = WAITQ_INIT(stop_wq);

bool sig_ignored(struct process *p, int sig)
{
	struct k_sigaction *ka = &p->sighand->action[sig - 1];
	if (ka->handler == (uint64_t)SIG_IGN)
		return sig != SIGKILL && sig != SIGSTOP;
	return ka->handler == (uint64_t)SIG_DFL && (SIGBIT(sig) & ignore_sigs);
}

/* Blocked, or awaited by rt_sigtimedwait (which unblocks its set while it sleeps):
 * such a signal is never discarded as ignored. */
static bool task_blocks(const struct task *t, int sig)
{
	return ((t->blocked | t->real_blocked) & SIGBIT(sig)) != 0;
}

/* Init gets only the signals it has handlers for, as in Linux; the kernel's own kills
 * (info NULL) and hardware faults still reach it. */
static bool init_protected(struct process *p, int sig, const struct ksiginfo *info)
{
	if (p != init_process || !info || p->sighand->action[sig - 1].handler != (uint64_t)SIG_DFL)
		return false;
	/* A blocked signal is never ignored: init may be waiting for it (sigtimedwait). */
	list_for_each(it, &p->threads)
	{
		struct task *t = list_entry(it, struct task, thread_link);
		if (task_blocks(t, sig))
			return false;
	}
	bool fault =
	    info->code > 0 && (SIGBIT(sig) & (SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) |
					      SIGBIT(SIGFPE) | SIGBIT(SIGTRAP)));
	return !fault;
}

bool signal_pending(struct task *t)
{
	if (!t->proc || t->is_kthread)
		return false;
	if (t->proc->group_exiting)
		return true;
	return ((t->pending.set | t->proc->shared_pending.set) & ~t->blocked) != 0;
}

static void flush_sigs(struct sigpending *sp, ksigset_t mask)
{
	sp->set &= ~mask;
	list_for_each_safe(it, nx, &sp->queue)
	{
		struct sigqueue *q = list_entry(it, struct sigqueue, link);
		if (SIGBIT(q->info.signo) & mask) {
			list_del(&q->link);
			free(q);
		}
	}
}

/* Get a task's attention: wake it from an interruptible sleep or stop its guest code. */
static void signal_wake(struct task *t, bool fatal)
{
	if (t->state == TASK_SLEEPING && (t->sleep_intr || (fatal && t->stopped)))
		wake_task(t);
	if (t->in_user && t->ut)
		platform->interrupt(t->ut);
}

static void queue_sig(struct sigpending *sp, int sig, const struct ksiginfo *info)
{
	/* Standard signals do not queue twice; real-time signals do. */
	if (sig < SIGRTMIN && (sp->set & SIGBIT(sig)))
		return;
	struct sigqueue *q = xzalloc(sizeof(*q));
	if (info)
		q->info = *info;
	else
		q->info.signo = sig;
	q->info.signo = sig;
	list_add_tail(&q->link, &sp->queue);
	sp->set |= SIGBIT(sig);
}

/* Stop and continue signals act when they are sent, as in Linux. */
static void prepare_signal(struct process *p, int sig)
{
	if (SIGBIT(sig) & stop_sigs) {
		flush_sigs(&p->shared_pending, SIGBIT(SIGCONT));
		list_for_each(it, &p->threads)
		    flush_sigs(&list_entry(it, struct task, thread_link)->pending, SIGBIT(SIGCONT));
	} else if (sig == SIGCONT) {
		flush_sigs(&p->shared_pending, stop_sigs);
		list_for_each(it, &p->threads)
		    flush_sigs(&list_entry(it, struct task, thread_link)->pending, stop_sigs);
		if (p->state == PROC_STOPPED) {
			p->state = PROC_RUNNING;
			p->report_cont = true;
			p->report_stop = false;
			wake_up(&stop_wq);
			notify_parent(p, CLD_CONTINUED, SIGCONT);
		}
	}
}

int send_signal_task(struct task *t, int sig, const struct ksiginfo *info)
{
	struct process *p = t->proc;
	if (sig < 1 || sig > NSIG_K)
		return -EINVAL;
	if (p->state == PROC_ZOMBIE || t->exiting || init_protected(p, sig, info))
		return 0;
	prepare_signal(p, sig);
	if (sig_ignored(p, sig) && !task_blocks(t, sig))
		return 0;
	queue_sig(&t->pending, sig, info);
	if (!(t->blocked & SIGBIT(sig)) || sig == SIGKILL)
		signal_wake(t, sig == SIGKILL);
	return 0;
}

int send_signal(struct process *p, int sig, const struct ksiginfo *info)
{
	if (sig < 1 || sig > NSIG_K)
		return -EINVAL;
	if (p->state == PROC_ZOMBIE || init_protected(p, sig, info))
		return 0;
	prepare_signal(p, sig);
	if (sig == SIGKILL) {
		/* Fatal to the whole group at once. */
		list_for_each(it, &p->threads)
		    send_signal_task(list_entry(it, struct task, thread_link), SIGKILL, info);
		return 0;
	}
	if (sig_ignored(p, sig)) {
		bool all_block = true;
		list_for_each(
		    it, &p->threads) if (!task_blocks(list_entry(it, struct task, thread_link),
						      sig)) all_block = false;
		if (!all_block)
			return 0;
	}
	queue_sig(&p->shared_pending, sig, info);
	/* Wake one thread that does not block it (all of them when it stops or continues). */
	list_for_each(it, &p->threads)
	{
		struct task *t = list_entry(it, struct task, thread_link);
		if (!(t->blocked & SIGBIT(sig))) {
			signal_wake(t, false);
			if (!(SIGBIT(sig) & (stop_sigs | SIGBIT(SIGCONT))))
				break;
		}
	}
	return 0;
}

int kill_pgrp(pid_t pgid, int sig)
{
	int found = 0;
	struct ksiginfo info = {.signo = sig, .code = SI_KERNEL};
	for (struct process *p = process_next(NULL); p; p = process_next(p)) {
		if (p->pgid == pgid && p->state != PROC_ZOMBIE) {
			send_signal(p, sig, &info);
			found = 1;
		}
	}
	return found ? 0 : -ESRCH;
}

bool pgrp_is_orphaned(pid_t pgid)
{
	/* Orphaned: no member has a parent in another group of the same session. */
	for (struct process *p = process_next(NULL); p; p = process_next(p)) {
		if (p->pgid != pgid || p->state == PROC_ZOMBIE || !p->parent)
			continue;
		if (p->parent->pgid != pgid && p->parent->sid == p->sid)
			return false;
	}
	return true;
}

/* Take the next deliverable signal for t: thread-directed first, then shared. */
static int dequeue_signal(struct task *t, ksigset_t mask, struct ksiginfo *info)
{
	struct sigpending *sps[2] = {&t->pending, &t->proc->shared_pending};
	for (int i = 0; i < 2; i++) {
		struct sigpending *sp = sps[i];
		ksigset_t ready = sp->set & ~mask;
		if (!ready)
			continue;
		/* Synchronous faults and low numbers first, as Linux does. */
		int sig = __builtin_ctzll(ready) + 1;
		list_for_each(it, &sp->queue)
		{
			struct sigqueue *q = list_entry(it, struct sigqueue, link);
			if (q->info.signo == sig) {
				*info = q->info;
				list_del(&q->link);
				free(q);
				break;
			}
		}
		bool more = false;
		list_for_each(
		    it, &sp->queue) if (list_entry(it, struct sigqueue, link)->info.signo == sig)
		    more = true;
		if (!more)
			sp->set &= ~SIGBIT(sig);
		return sig;
	}
	return 0;
}

static void do_stop(struct task *t, int sig)
{
	struct process *p = t->proc;
	if (p->state != PROC_STOPPED) {
		p->state = PROC_STOPPED;
		p->stop_signal = sig;
		p->report_stop = true;
		notify_parent(p, CLD_STOPPED, sig);
		/* Other threads stop when they next look at their signals. */
		list_for_each(it, &p->threads)
		{
			struct task *o = list_entry(it, struct task, thread_link);
			if (o != t)
				signal_wake(o, false);
		}
	}
	t->stopped = true;
	while (p->state == PROC_STOPPED && !p->group_exiting &&
	       !((t->pending.set | p->shared_pending.set) & SIGBIT(SIGKILL)))
		sleep_on(&stop_wq, false);
	t->stopped = false;
}

/* Write a Linux x86-64 rt_sigframe and point the registers at the handler. */
static int setup_frame(struct task *t, int sig, struct k_sigaction *ka, const struct ksiginfo *info,
		       ksigset_t oldmask)
{
	struct uregs *r = &t->regs;
	uaddr_t sp = r->rsp - 128; /* skip the red zone */
	bool on_alt = t->sas_size && r->rsp - t->sas_sp <= t->sas_size;
	if ((ka->flags & SA_ONSTACK) && t->sas_size && !on_alt)
		sp = t->sas_sp + t->sas_size;
	sp -= sizeof(struct ufpregs);
	sp &= ~63ULL;
	uaddr_t fpaddr = sp;
	sp -= sizeof(struct rt_sigframe);
	sp = ((sp + 8) & ~15ULL) - 8; /* as after a call: rsp+8 is 16-byte aligned */
	mm_grow_stack(t->mm, sp);     /* the frame may reach below the stack's current extent */

	struct ufpregs fp;
	platform->get_fpregs(t->ut, &fp);
	struct rt_sigframe f;
	memset(&f, 0, sizeof(f));
	f.pretcode = ka->restorer;
	f.uc.uc_flags = 0;
	f.uc.uc_stack.ss_sp = t->sas_sp;
	f.uc.uc_stack.ss_size = t->sas_size;
	f.uc.uc_stack.ss_flags = !t->sas_size ? SS_DISABLE : on_alt ? SS_ONSTACK : 0;
	struct sigcontext_k *sc = &f.uc.uc_mcontext;
	sc->r8 = r->r8, sc->r9 = r->r9, sc->r10 = r->r10, sc->r11 = r->r11;
	sc->r12 = r->r12, sc->r13 = r->r13, sc->r14 = r->r14, sc->r15 = r->r15;
	sc->rdi = r->rdi, sc->rsi = r->rsi, sc->rbp = r->rbp, sc->rbx = r->rbx;
	sc->rdx = r->rdx, sc->rax = r->rax, sc->rcx = r->rcx, sc->rsp = r->rsp;
	sc->rip = r->rip, sc->eflags = r->eflags;
	sc->cs = r->cs, sc->ss = r->ss;
	sc->trapno = info->signo == SIGSEGV ? 14 : 0;
	sc->cr2 = info->fault.addr;
	sc->oldmask = oldmask;
	sc->fpstate = fpaddr;
	f.uc.uc_sigmask = oldmask;
	f.info = *info;
	if (copy_to_user(fpaddr, &fp, sizeof(fp)) || copy_to_user(sp, &f, sizeof(f)))
		return -EFAULT;
	r->rsp = sp;
	r->rip = ka->handler;
	r->rdi = sig;
	r->rsi = sp + offsetof(struct rt_sigframe, info);
	r->rdx = sp + offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	r->eflags &= ~(0x100ULL | 0x400ULL); /* TF, DF */
	return 0;
}

SYSCALL(rt_sigreturn)
{
	struct task *t = current;
	struct rt_sigframe f;
	uaddr_t frame = t->regs.rsp - 8; /* the handler's ret popped pretcode */
	if (copy_from_user(&f, frame, sizeof(f))) {
		send_signal_task(t, SIGSEGV, NULL);
		return -EFAULT;
	}
	struct uregs *r = &t->regs;
	struct sigcontext_k *sc = &f.uc.uc_mcontext;
	r->r8 = sc->r8, r->r9 = sc->r9, r->r10 = sc->r10, r->r11 = sc->r11;
	r->r12 = sc->r12, r->r13 = sc->r13, r->r14 = sc->r14, r->r15 = sc->r15;
	r->rdi = sc->rdi, r->rsi = sc->rsi, r->rbp = sc->rbp, r->rbx = sc->rbx;
	r->rdx = sc->rdx, r->rax = sc->rax, r->rcx = sc->rcx, r->rsp = sc->rsp;
	r->rip = sc->rip;
	/* Only the flags a program may change (as Linux's FIX_EFLAGS). */
	r->eflags = (r->eflags & ~0x40dd5ULL) | (sc->eflags & 0x40dd5ULL);
	t->blocked = f.uc.uc_sigmask & ~unblockable;
	if (sc->fpstate) {
		struct ufpregs fp;
		if (!copy_from_user(&fp, sc->fpstate, sizeof(fp))) {
			/* MXCSR reserved bits must be clear or the host refuses the state. */
			uint32_t *mxcsr = (uint32_t *)&fp.fxsave[24];
			*mxcsr &= 0xffbf;
			platform->set_fpregs(t->ut, &fp);
		}
	}
	t->sys_nr = -1; /* no syscall restart */
	return (long)r->rax;
}

/* Decide about a syscall interrupted by a signal (rax holds -ERESTART*). */
static void syscall_restart(struct task *t, struct k_sigaction *ka)
{
	struct uregs *r = &t->regs;
	if (t->sys_nr < 0)
		return;
	long ret = (long)r->rax;
	switch (-ret) {
	case ERESTARTNOHAND:
	case ERESTART_RESTARTBLOCK:
		if (ka) {
			r->rax = -EINTR;
			break;
		}
		/* fall through */
	case ERESTARTNOINTR:
	restart:
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case ERESTARTSYS:
		if (ka && !(ka->flags & SA_RESTART)) {
			r->rax = -EINTR;
			break;
		}
		goto restart;
	}
}

void handle_signals(void)
{
	struct task *t = current;
	struct process *p = t->proc;
	for (;;) {
		if (p->group_exiting)
			do_exit(p->exit_code, true);
		struct ksiginfo info;
		int sig = dequeue_signal(t, t->blocked, &info);
		if (!sig)
			break;
		struct k_sigaction *ka = &p->sighand->action[sig - 1];
		if (ka->handler == (uint64_t)SIG_IGN && sig != SIGKILL && sig != SIGSTOP)
			continue;
		if (ka->handler == (uint64_t)SIG_DFL || sig == SIGKILL || sig == SIGSTOP) {
			if (SIGBIT(sig) & ignore_sigs)
				continue;
			if (SIGBIT(sig) & stop_sigs) {
				if (sig != SIGSTOP && pgrp_is_orphaned(p->pgid))
					continue;
				do_stop(t, sig);
				continue;
			}
			/* Terminate (a core-dumping signal sets the core flag; no core file). */
			do_exit(sig | ((SIGBIT(sig) & core_sigs) ? 0x80 : 0), true);
		}
		syscall_restart(t, ka);
		t->sys_nr = -1;
		ksigset_t oldmask = t->restore_saved_mask ? t->saved_mask : t->blocked;
		t->restore_saved_mask = false;
		if (setup_frame(t, sig, ka, &info, oldmask)) {
			do_exit(SIGSEGV, true);
		}
		t->blocked |= ka->mask;
		if (!(ka->flags & SA_NODEFER))
			t->blocked |= SIGBIT(sig);
		t->blocked &= ~unblockable;
		if (ka->flags & SA_RESETHAND)
			ka->handler = (uint64_t)SIG_DFL;
		return;
	}
	/* No handler ran: a call interrupted only by ignored or stop signals restarts. */
	syscall_restart(t, NULL);
	t->sys_nr = -1;
	if (t->restore_saved_mask) {
		t->restore_saved_mask = false;
		t->blocked = t->saved_mask;
	}
}

void force_sig_fault(int sig, int code, uaddr_t addr)
{
	struct task *t = current;
	struct k_sigaction *ka = &t->proc->sighand->action[sig - 1];
	/* A fault with the signal blocked or ignored kills, as in Linux. */
	if ((t->blocked & SIGBIT(sig)) || ka->handler == (uint64_t)SIG_IGN) {
		t->blocked &= ~SIGBIT(sig);
		ka->handler = (uint64_t)SIG_DFL;
	}
	struct ksiginfo info = {.signo = sig, .code = code};
	info.fault.addr = addr;
	send_signal_task(t, sig, &info);
}

void signals_exec_reset(struct task *t)
{
	struct sighand *sh = t->proc->sighand;
	if (sh->refcount > 1) {
		struct sighand *n = xmalloc(sizeof(*n));
		*n = *sh;
		n->refcount = 1;
		sh->refcount--;
		t->proc->sighand = sh = n;
	}
	for (int i = 0; i < NSIG_K; i++) {
		struct k_sigaction *ka = &sh->action[i];
		if (ka->handler != (uint64_t)SIG_IGN)
			ka->handler = (uint64_t)SIG_DFL;
		ka->flags = 0;
		ka->mask = 0;
		ka->restorer = 0;
	}
	t->sas_sp = 0;
	t->sas_size = 0;
}

SYSCALL(rt_sigaction)
{
	int sig = (int)a[0];
	if (sig < 1 || sig > NSIG_K || a[3] != sizeof(ksigset_t))
		return -EINVAL;
	struct k_sigaction *ka = &current->proc->sighand->action[sig - 1];
	struct k_sigaction old = *ka;
	if (a[1]) {
		struct k_sigaction n;
		if (copy_from_user(&n, a[1], sizeof(n)))
			return -EFAULT;
		if (sig == SIGKILL || sig == SIGSTOP)
			return -EINVAL;
		n.mask &= ~unblockable;
		*ka = n;
		/* Setting SIG_IGN discards what is pending. */
		if (sig_ignored(current->proc, sig)) {
			flush_sigs(&current->proc->shared_pending, SIGBIT(sig));
			list_for_each(it, &current->proc->threads) flush_sigs(
			    &list_entry(it, struct task, thread_link)->pending, SIGBIT(sig));
		}
	}
	if (a[2] && copy_to_user(a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL(rt_sigprocmask)
{
	int how = (int)a[0];
	if (a[3] != sizeof(ksigset_t))
		return -EINVAL;
	ksigset_t old = current->blocked, set;
	if (a[1]) {
		if (copy_from_user(&set, a[1], sizeof(set)))
			return -EFAULT;
		set &= ~unblockable;
		switch (how) {
		case SIG_BLOCK:
			current->blocked |= set;
			break;
		case SIG_UNBLOCK:
			current->blocked &= ~set;
			break;
		case SIG_SETMASK:
			current->blocked = set;
			break;
		default:
			return -EINVAL;
		}
	}
	if (a[2] && copy_to_user(a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL(rt_sigpending)
{
	ksigset_t set =
	    (current->pending.set | current->proc->shared_pending.set) & current->blocked;
	return copy_to_user(a[0], &set, MIN(a[1], sizeof(set)));
}

/* Sleep with a temporary mask until a signal is delivered. */
static long suspend_with_mask(ksigset_t mask)
{
	struct task *t = current;
	t->saved_mask = t->blocked;
	t->restore_saved_mask = true;
	t->blocked = mask & ~unblockable;
	struct waitq never = WAITQ_INIT(never);
	while (!signal_pending(t))
		sleep_on(&never, true);
	return -ERESTARTNOHAND;
}

SYSCALL(rt_sigsuspend)
{
	ksigset_t mask;
	if (a[1] != sizeof(mask))
		return -EINVAL;
	if (copy_from_user(&mask, a[0], sizeof(mask)))
		return -EFAULT;
	return suspend_with_mask(mask);
}

SYSCALL(pause)
{
	return suspend_with_mask(current->blocked);
}

SYSCALL(rt_sigtimedwait)
{
	ksigset_t set;
	struct task *t = current;
	if (a[3] != sizeof(set))
		return -EINVAL;
	if (copy_from_user(&set, a[0], sizeof(set)))
		return -EFAULT;
	uint64_t deadline = 0;
	if (a[2]) {
		struct timespec ts;
		if (copy_from_user(&ts, a[2], sizeof(ts)))
			return -EFAULT;
		deadline = ktime_mono() + ts.tv_sec * 1000000000ull + ts.tv_nsec;
	}
	struct waitq never = WAITQ_INIT(never);
	for (;;) {
		struct ksiginfo info;
		int sig = dequeue_signal(t, ~set, &info);
		if (sig) {
			if (a[1] && copy_to_user(a[1], &info, sizeof(info)))
				return -EFAULT;
			return sig;
		}
		/* Temporarily unblock the set so that its arrival wakes us. */
		ksigset_t saved = t->blocked;
		t->real_blocked = saved;
		t->blocked &= ~set;
		int r = sleep_on_many((struct waitq *[]){&never}, 1, true, deadline);
		t->blocked = saved;
		t->real_blocked = 0;
		if (r == -ETIMEDOUT)
			return -EAGAIN;
		if (r && !((t->pending.set | t->proc->shared_pending.set) & set))
			return -EINTR;
	}
}

SYSCALL(sigaltstack)
{
	struct task *t = current;
	struct kstack {
		uint64_t sp;
		int flags, pad;
		uint64_t size;
	} old = {t->sas_sp, t->sas_size ? 0 : SS_DISABLE, 0, t->sas_size}, n;
	bool on_alt = t->sas_size && t->regs.rsp - t->sas_sp <= t->sas_size;
	if (on_alt)
		old.flags = SS_ONSTACK;
	if (a[0]) {
		if (copy_from_user(&n, a[0], sizeof(n)))
			return -EFAULT;
		if (on_alt)
			return -EPERM;
		if (n.flags & SS_DISABLE) {
			t->sas_sp = 0;
			t->sas_size = 0;
		} else {
			if (n.flags & ~(SS_ONSTACK | (1 << 31)))
				return -EINVAL;
			if (n.size < 2048)
				return -ENOMEM;
			t->sas_sp = n.sp;
			t->sas_size = n.size;
		}
	}
	if (a[1] && copy_to_user(a[1], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

static struct ksiginfo user_info(int sig)
{
	struct ksiginfo info = {.signo = sig, .code = SI_USER};
	info.kill.pid = current->proc->pid;
	info.kill.uid = current->proc->cred.uid;
	return info;
}

SYSCALL(kill)
{
	pid_t pid = (pid_t)a[0];
	int sig = (int)a[1];
	if (sig < 0 || sig > NSIG_K)
		return -EINVAL;
	struct ksiginfo info = user_info(sig);
	if (pid > 0) {
		struct process *p = find_process(pid);
		if (!p)
			return -ESRCH;
		return sig ? send_signal(p, sig, &info) : 0;
	}
	pid_t pgid = pid == 0 ? current->proc->pgid : -pid;
	bool found = false;
	for (struct process *p = process_next(NULL); p; p = process_next(p)) {
		if (p->state == PROC_ZOMBIE)
			continue;
		if (pid == -1 ? (p != init_process && p != current->proc) : p->pgid == pgid) {
			found = true;
			if (sig)
				send_signal(p, sig, &info);
		}
	}
	if (pid == -1 && sig)
		return found ? 0 : -ESRCH;
	return found ? 0 : -ESRCH;
}

static long do_tkill(pid_t tgid, pid_t tid, int sig)
{
	struct task *t = find_task(tid);
	if (!t || (tgid > 0 && t->proc->pid != tgid))
		return -ESRCH;
	if (sig < 0 || sig > NSIG_K)
		return -EINVAL;
	struct ksiginfo info = user_info(sig);
	info.code = SI_TKILL;
	return sig ? send_signal_task(t, sig, &info) : 0;
}

SYSCALL(tgkill)
{
	return do_tkill((pid_t)a[0], (pid_t)a[1], (int)a[2]);
}

SYSCALL(tkill)
{
	return do_tkill(0, (pid_t)a[0], (int)a[1]);
}

SYSCALL(rt_sigqueueinfo)
{
	struct process *p = find_process((pid_t)a[0]);
	struct ksiginfo info;
	if (!p)
		return -ESRCH;
	if (copy_from_user(&info, a[2], sizeof(info)))
		return -EFAULT;
	info.signo = (int)a[1];
	return send_signal(p, (int)a[1], &info);
}
