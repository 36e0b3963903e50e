/* The fast SKAS platform (mode=skas): guest syscalls trap with seccomp into the stub of
 * their own address space, which hands them to the kernel through a shared-memory
 * channel. No ptrace anywhere. See seccomp_abi.h for the stub's side of the contract
 * and the address space layout.
 *
 * One syscall: the guest executes `syscall`; the seccomp filter returns
 * SECCOMP_RET_TRAP; the stub's SIGSYS handler (on an alternate stack inside the
 * thread's channel) copies the registers into the channel and bumps evt_seq. The kernel
 * thread sees it while it polls the channels of running threads (the scheduler's idle
 * poll: a bounded spin before it blocks in epoll), wakes the task sleeping in run(),
 * which emulates the call, writes the new registers and bumps cmd_seq; the stub (which
 * spins for a bounded time, then sleeps on a futex in the channel) loads them into its
 * signal frame and returns to the guest with rt_sigreturn. Host work in the address
 * space (mmap, munmap, clone, ...) is asked the same way while the stub waits; a file
 * mapping borrows the file's memfd for the call (see Trust).
 *
 * Sleeping on both sides: a stub that gives up spinning sets stub_sleeping and waits on
 * FUTEX_WAIT(cmd_seq); the kernel wakes it after a command. A kernel thread that gives up
 * spinning sets kernel_sleeping in every channel it watches before epoll_wait; a stub
 * that posts and sees it rings the doorbell: a stub syscall the filter turns into a
 * seccomp user notification, which the kernel's epoll sees on the listener fd.
 *
 * The filter: a syscall whose instruction pointer is the stub's one `syscall`
 * (SKAS_STUB_SYS_IP) is allowed only for a short list of numbers, with arguments
 * checked (memory calls stay below the stub, futex wait/wake only, ...); clone and the
 * stub's notifications go to the kernel as user notifications; anything else from the
 * stub kills the process. Syscalls from anywhere else trap. Non-x86-64 syscalls kill.
 *
 * Address spaces: spawn starts a child with clone(CLONE_VM | CLONE_VFORK) that drops
 * what it may (below) and execs the embedded stub with the channel as fd 3; the stub
 * maps it, installs the filter with a new listener and reports; the kernel takes the
 * listener with pidfd_getfd and has the stub close it. Threads and forks are clones the
 * stub makes on request (CLONE_PARENT, so the kernel process reaps them through pidfds);
 * the child starts on a boot stack in its slot and asks for its channel ("hello").
 * Released threads are killed at once and reaped when their pidfd says so.
 *
 * Trust: a guest can write its own channel and jump into the stub with any registers.
 * So everything read from a channel is guest input, and what matters comes from the host
 * instead. A clone is let through only from the pid the host names in the clone's
 * notification, with the flags the kernel asked for (the others get EPERM, so guests
 * cannot make host processes of their own). The child is the process whose hello the
 * host attributes to the pid the clone returned to the parent the kernel serves, and its
 * channel is a fresh memfd the kernel puts into that child alone with
 * SECCOMP_IOCTL_NOTIF_ADDFD; channels are MADV_DONTFORK and exec drops every other slot,
 * so no other process can write a thread's channel after a fork or an exec. File
 * mappings borrow the file's memfd (fs/filemap.c: sealed, so no mapping can change it)
 * the same way: the stub asks with a notification while it serves SKAS_CMD_MMAP_FD, the
 * kernel installs the fd only into the process the host names as the one it is waiting
 * for, once; the stub maps it MAP_PRIVATE and keeps it only while the kernel maps the
 * same file again (an ELF's segments), closing it before any other command, so before
 * guest code runs. The kernel never takes an fd number from a channel, the process holds
 * no other fd that a forged mmap could name, and the filter allows file mappings below
 * the guest top only MAP_PRIVATE (shared ones only in the slots: channels). A guest
 * address space holds no host fd at all while guest code runs, and every new process
 * has no_new_privs, dies with the kernel (PDEATHSIG), sits in its own session and, where
 * the host allows, in a user/mount/net/ipc/uts namespace of its own (one set, made once
 * by a holder process and joined with setns; no pid namespace: CLONE_PARENT and the
 * kernel's reaping need the stubs to stay its children).
 *
 * What a hostile guest can still do to itself or its own family: forge events for its
 * own threads, break its own channels (the kernel then sees a dead thread), make the
 * stub map anonymous memory below the stub without the kernel's accounting, keep a lent
 * memfd by hijacking a thread's stub from another thread while it maps (the data of a
 * file it maps anyway, read-only), and leave a clone child that never says hello (it
 * stays until the kernel exits). */
#define _GNU_SOURCE
#include "ptrace.h"
#include "mem.h"
#include "seccomp_abi.h"
#include "../kernel/sched.h"
#include <elf.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC 4
#endif
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND 2
#endif
#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE 2
#endif

_Static_assert(sizeof(struct skas_regs) == sizeof(struct uregs), "register layouts differ");
_Static_assert(sizeof(struct skas_chan) <= SKAS_CHAN_PROG_OFF, "channel header too big");
_Static_assert(SKAS_STUB_ADDR == STUB_ADDR && SKAS_GUEST_TOP == GUEST_TASK_SIZE, "layout");

extern const char stub_elf[], stub_elf_end[];

/* Spin budgets. The kernel thread spins on the channels of running threads when it has
 * nothing else to do; the stub spins on its channel while the kernel works. */
#define KERNEL_SPIN_NS 50000ULL
#define OP_SPIN_NS 100000ULL
#define STUB_SPIN_NS 200000ULL
#define SETUP_TIMEOUT_NS 5000000000ULL

/* The processes descending from one spawn share its seccomp filter and so its listener. */
struct family {
	int refcount;
	struct kevent ev;
};

/* An address space: its threads' slots. */
struct aspace {
	int refcount;
	uint8_t used[SKAS_NSLOTS];
};

struct uthread {
	pid_t pid;
	int pidfd;
	struct kevent pidev;
	struct family *fam;
	struct aspace *as;
	int slot;
	struct skas_chan *c; /* the kernel's mapping of the channel */
	uint32_t evt_seen;
	struct waitq wq;
	struct list link;  /* all threads */
	struct list wlink; /* threads the poll watches */
	bool watched;
	bool in_guest, intr_sent;
	struct ktimer intr_timer;
	bool in_kernel;		    /* its event is being handled: the stub waits for the reply */
	struct list klink;	    /* on in_kernel_list */
	bool gone;		    /* the host process died and is reaped */
	bool dying;		    /* released: killed, reaped when its pidfd says so */
	int exit_code, exit_status; /* how: siginfo si_code (CLD_*) and si_status */
	/* The file the stub kept from its last SKAS_CMD_MMAP_FD: our own reference to it,
	 * so that its inode number names it (-1: none). */
	int lent;
	dev_t lent_dev;
	ino_t lent_ino;
};

static int stub_fd = -1;
static struct list uthreads = LIST_INIT(uthreads);
static struct list watched = LIST_INIT(watched);
static struct list dying = LIST_INIT(dying);
static struct list in_kernel_list = LIST_INIT(in_kernel_list);
static bool kernel_asleep;
static uaddr_t host_vdso;
static uint64_t stub_spin_tsc;
static bool host_fsgsbase;
static struct sock_filter filter[160];
static int filter_len;
static int ns_pidfd = -1, ns_flags;
/* The stack spawn's child runs on until it execs the stub. */
#define SPAWN_STACK_SIZE (64 * 1024)
static char *spawn_stack;
struct spawn_args {
	int cfd;
	pid_t parent;
};
static pid_t ns_pid;

/* Clones in flight, one per parent thread at most (a parent is the task that asks). */
struct clone_req {
	struct list link;
	struct family *fam;
	pid_t parent_pid;
	uint64_t flags;
	bool gate_passed;
	struct waitq wq;
};
static struct list clone_reqs = LIST_INIT(clone_reqs);

/* Hellos of would-be clone children, answered by the clone whose parent the host says
 * got that child's pid (sc_clone). */
#define MAX_HELLOS 16
static struct hello {
	bool used;
	struct family *fam;
	uint64_t id;
	pid_t pid;
	int pidfd;
	uint64_t seq;
} hellos[MAX_HELLOS];
static uint64_t hello_seq;

/* Host fds lent for a file mapping (sc_mmap): the fd goes to the notification of the
 * thread the kernel serves, as the host names it, once. */
struct fd_loan {
	struct list link;
	struct family *fam;
	pid_t pid;
	int fd;
	bool asked, given;
};
static struct list fd_loans = LIST_INIT(fd_loans);

/* --- the seccomp filter ------------------------------------------------------------ */

/* A tiny BPF assembler with forward labels. */
enum {
	L_NEXT = -1,
	L_KILL = 1,
	L_TRAP,
	L_ALLOW,
	L_NOTIF,
	L_FUTEX,
	L_ARCH,
	L_PRCTL,
	L_MMAP,
	L_MREMAP,
	L_RANGE01,
	L_NLABELS
};
static struct {
	uint16_t code;
	int jt, jf;
	uint32_t k;
} prog[160];
static int nprog, labels[L_NLABELS + 64], nlabels_dyn = L_NLABELS;

static void emit(uint16_t code, uint32_t k, int jt, int jf)
{
	if (nprog >= (int)ARRAY_SIZE(prog))
		panic("seccomp filter too long");
	prog[nprog].code = code;
	prog[nprog].k = k;
	prog[nprog].jt = jt;
	prog[nprog].jf = jf;
	nprog++;
}
#define LD_ABS(off) emit(BPF_LD | BPF_W | BPF_ABS, (off), L_NEXT, L_NEXT)
#define JEQ(k, t, f) emit(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define JGT(k, t, f) emit(BPF_JMP | BPF_JGT | BPF_K, (k), (t), (f))
#define JA(l) emit(BPF_JMP | BPF_JA, 0, (l), L_NEXT)
#define RET(k) emit(BPF_RET | BPF_K, (k), L_NEXT, L_NEXT)
#define LABEL(l) (labels[l] = nprog)
#define ARG_LO(i) ((uint32_t)offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)

/* Fall through when [arg a, arg a + arg b) lies below the stub; else kill. */
static void emit_range(int a, int b)
{
	const uint32_t lim_hi = (uint32_t)(SKAS_STUB_ADDR >> 32), lim_lo = (uint32_t)SKAS_STUB_ADDR;
	int nocarry = nlabels_dyn++, store = nlabels_dyn++, checklo = nlabels_dyn++,
	    ok = nlabels_dyn++;
	LD_ABS(ARG_HI(a));
	JGT(lim_hi, L_KILL, L_NEXT);
	LD_ABS(ARG_HI(b));
	JGT(lim_hi, L_KILL, L_NEXT);
	LD_ABS(ARG_LO(a));
	emit(BPF_MISC | BPF_TAX, 0, L_NEXT, L_NEXT);
	LD_ABS(ARG_LO(b));
	emit(BPF_ALU | BPF_ADD | BPF_X, 0, L_NEXT, L_NEXT);
	emit(BPF_ST, 0, L_NEXT, L_NEXT); /* M[0] = low word of the end */
	emit(BPF_JMP | BPF_JGE | BPF_X, 0, nocarry, L_NEXT);
	emit(BPF_LD | BPF_IMM, 1, L_NEXT, L_NEXT);
	JA(store);
	LABEL(nocarry);
	emit(BPF_LD | BPF_IMM, 0, L_NEXT, L_NEXT);
	LABEL(store);
	emit(BPF_ST, 1, L_NEXT, L_NEXT); /* M[1] = carry */
	LD_ABS(ARG_HI(a));
	emit(BPF_MISC | BPF_TAX, 0, L_NEXT, L_NEXT);
	LD_ABS(ARG_HI(b));
	emit(BPF_ALU | BPF_ADD | BPF_X, 0, L_NEXT, L_NEXT);
	emit(BPF_MISC | BPF_TAX, 0, L_NEXT, L_NEXT);
	emit(BPF_LD | BPF_MEM, 1, L_NEXT, L_NEXT);
	emit(BPF_ALU | BPF_ADD | BPF_X, 0, L_NEXT, L_NEXT); /* high word of the end */
	JGT(lim_hi, L_KILL, L_NEXT);
	JEQ(lim_hi, checklo, ok);
	LABEL(checklo);
	emit(BPF_LD | BPF_MEM, 0, L_NEXT, L_NEXT);
	JGT(lim_lo, L_KILL, L_NEXT);
	LABEL(ok);
}

static int resolve(int l, int at)
{
	if (l == L_NEXT)
		return 0;
	int off = labels[l] - (at + 1);
	if (off < 0 || off > 255)
		panic("seccomp filter: bad jump");
	return off;
}

static void build_filter(void)
{
	const uint32_t ip_hi = (uint32_t)(SKAS_STUB_SYS_IP >> 32),
		       ip_lo = (uint32_t)SKAS_STUB_SYS_IP;
	nprog = 0;
	LD_ABS(offsetof(struct seccomp_data, arch));
	JEQ(AUDIT_ARCH_X86_64, L_NEXT, L_KILL);
	LD_ABS(offsetof(struct seccomp_data, instruction_pointer) + 4);
	JEQ(ip_hi, L_NEXT, L_TRAP);
	LD_ABS(offsetof(struct seccomp_data, instruction_pointer));
	JEQ(ip_lo, L_NEXT, L_TRAP);
	/* From the stub's syscall instruction: the stub's own calls only. */
	LD_ABS(offsetof(struct seccomp_data, nr));
	JEQ(__NR_rt_sigreturn, L_ALLOW, L_NEXT);
	JEQ(__NR_futex, L_FUTEX, L_NEXT);
	JEQ(__NR_close, L_ALLOW, L_NEXT);
	JEQ(__NR_sigaltstack, L_ALLOW, L_NEXT);
	JEQ(__NR_sched_yield, L_ALLOW, L_NEXT);
	JEQ(__NR_exit_group, L_ALLOW, L_NEXT);
	JEQ(__NR_clone, L_NOTIF, L_NEXT);
	JEQ(SKAS_NOTIFY_NR, L_NOTIF, L_NEXT);
	JEQ(__NR_arch_prctl, L_ARCH, L_NEXT);
	JEQ(__NR_prctl, L_PRCTL, L_NEXT);
	JEQ(__NR_mmap, L_MMAP, L_NEXT);
	JEQ(__NR_munmap, L_RANGE01, L_NEXT);
	JEQ(__NR_mprotect, L_RANGE01, L_NEXT);
	JEQ(__NR_madvise, L_RANGE01, L_NEXT);
	JEQ(__NR_mremap, L_MREMAP, L_NEXT);
	JA(L_KILL);

	LABEL(L_FUTEX);
	LD_ABS(ARG_LO(1));
	emit(BPF_ALU | BPF_AND | BPF_K, ~(uint32_t)FUTEX_PRIVATE_FLAG, L_NEXT, L_NEXT);
	JEQ(FUTEX_WAIT, L_ALLOW, L_NEXT);
	JEQ(FUTEX_WAKE, L_ALLOW, L_KILL);

	LABEL(L_ARCH);
	LD_ABS(ARG_LO(0));
	JEQ(0x1001 /* ARCH_SET_GS */, L_ALLOW, L_NEXT);
	JEQ(0x1002 /* ARCH_SET_FS */, L_ALLOW, L_KILL);

	LABEL(L_PRCTL);
	LD_ABS(ARG_LO(0));
	JEQ(PR_SET_PDEATHSIG, L_ALLOW, L_KILL);

	/* mmap: MAP_FIXED, below the stub; a file mapping is private unless it is a
	 * channel's, in the slots (so a lent memfd, sealed anyway, is only ever read). */
	LABEL(L_MMAP);
	LD_ABS(ARG_LO(3));
	emit(BPF_JMP | BPF_JSET | BPF_K, MAP_FIXED, L_NEXT, L_KILL);
	emit(BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, L_RANGE01, L_NEXT);
	emit(BPF_JMP | BPF_JSET | BPF_K, MAP_SHARED, L_NEXT, L_RANGE01);
	LD_ABS(ARG_HI(0));
	JEQ((uint32_t)(SKAS_SLOT_BASE >> 32), L_NEXT, L_KILL);
	LD_ABS(ARG_LO(0));
	emit(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)SKAS_SLOT_BASE, L_RANGE01, L_KILL);

	LABEL(L_MREMAP);
	LD_ABS(ARG_LO(3));
	emit(BPF_ALU | BPF_AND | BPF_K, MREMAP_FIXED, L_NEXT, L_NEXT);
	JEQ(0, L_KILL, L_NEXT);
	emit_range(0, 1);
	emit_range(4, 2);
	JA(L_ALLOW);

	LABEL(L_RANGE01);
	emit_range(0, 1);
	JA(L_ALLOW);

	LABEL(L_NOTIF);
	RET(SECCOMP_RET_USER_NOTIF);
	LABEL(L_ALLOW);
	RET(SECCOMP_RET_ALLOW);
	LABEL(L_TRAP);
	RET(SECCOMP_RET_TRAP);
	LABEL(L_KILL);
	RET(SECCOMP_RET_KILL_PROCESS);

	for (int i = 0; i < nprog; i++) {
		filter[i].code = prog[i].code;
		filter[i].k = prog[i].k;
		if (BPF_CLASS(prog[i].code) == BPF_JMP && BPF_OP(prog[i].code) == BPF_JA) {
			filter[i].k = resolve(prog[i].jt, i);
			filter[i].jt = filter[i].jf = 0;
		} else {
			filter[i].jt = resolve(prog[i].jt, i);
			filter[i].jf = resolve(prog[i].jf, i);
		}
	}
	filter_len = nprog;
}

/* --- channels ------------------------------------------------------------------------ */

static struct skas_chan *chan_new(int *fdp)
{
	int fd = memfd_create("vmlinux-chan", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *p = MAP_FAILED;
	if (ftruncate(fd, SKAS_CHAN_SIZE) == 0)
		p = mmap(NULL, SKAS_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	struct skas_chan *c = p;
	c->magic = SKAS_CHAN_MAGIC;
	c->spin_tsc = stub_spin_tsc;
	c->fsgsbase = host_fsgsbase;
	c->cur_fs = c->cur_gs = ~0ULL; /* unknown: the first resume loads them */
	c->lent_fd = -1;
	*fdp = fd;
	return c;
}

static inline bool chan_ready(struct uthread *t)
{
	return __atomic_load_n(&t->c->evt_seq, __ATOMIC_ACQUIRE) != t->evt_seen;
}

static void watch(struct uthread *t)
{
	if (!t->watched) {
		t->watched = true;
		list_add_tail(&t->wlink, &watched);
	}
}

static void unwatch(struct uthread *t)
{
	if (t->watched) {
		t->watched = false;
		list_del(&t->wlink);
		if (t->c)
			__atomic_store_n(&t->c->kernel_sleeping, 0, __ATOMIC_RELAXED);
	}
}

static bool scan_watched(void)
{
	bool any = false;
	list_for_each(it, &watched)
	{
		struct uthread *t = list_entry(it, struct uthread, wlink);
		if (chan_ready(t)) {
			wake_up(&t->wq);
			any = true;
		}
	}
	return any;
}

static void listener_event(struct kevent *ev, uint32_t revents);

static void set_in_kernel(struct uthread *t, bool on)
{
	if (on && !t->in_kernel)
		list_add_tail(&t->klink, &in_kernel_list);
	else if (!on && t->in_kernel)
		list_del(&t->klink);
	t->in_kernel = on;
}

/* A thread whose syscall is being handled, whose task is not waiting for its stub: the
 * task sleeps (a pipe, a child, the disk), so the stub's spinning would only take a CPU
 * from others. Tell it to sleep. */
static void stop_spinners(void)
{
	list_for_each(it, &in_kernel_list)
	{
		struct uthread *t = list_entry(it, struct uthread, klink);
		if (!t->watched && !__atomic_load_n(&t->c->spin_stop, __ATOMIC_RELAXED))
			__atomic_store_n(&t->c->spin_stop, 1, __ATOMIC_RELAXED);
	}
}

/* The scheduler's poll (sched_set_idle_poll). */
static bool seccomp_poll(bool idle)
{
	stop_spinners();
	if (kernel_asleep) {
		kernel_asleep = false;
		list_for_each(it, &watched)
		    __atomic_store_n(&list_entry(it, struct uthread, wlink)->c->kernel_sleeping, 0,
				     __ATOMIC_RELAXED);
	}
	if (scan_watched())
		return true;
	if (!idle || list_empty(&watched))
		goto sleep;
	/* While clones are in flight, the next thing may be a user notification on their
	 * families' listeners: look at those too. */
	struct pollfd lp[4];
	struct family *lf[4];
	int nlp = 0;
	list_for_each(it, &clone_reqs)
	{
		struct clone_req *r = list_entry(it, struct clone_req, link);
		if (nlp < 4 && r->fam->ev.fd >= 0) {
			lf[nlp] = r->fam;
			lp[nlp++] = (struct pollfd){.fd = r->fam->ev.fd, .events = POLLIN};
		}
	}
	uint64_t end = ktime_mono() + KERNEL_SPIN_NS;
	do {
		for (int i = 0; i < 32; i++)
			_mm_pause();
		if (scan_watched())
			return true;
		if (nlp && poll(lp, nlp, 0) > 0) {
			for (int i = 0; i < nlp; i++)
				if (lp[i].revents)
					listener_event(&lf[i]->ev, lp[i].revents);
			return true;
		}
	} while (ktime_mono() < end);
sleep:
	if (!idle)
		return false;
	/* About to block in epoll: from now on a stub that posts rings the doorbell. */
	kernel_asleep = true;
	list_for_each(it, &watched) __atomic_store_n(
	    &list_entry(it, struct uthread, wlink)->c->kernel_sleeping, 1, __ATOMIC_SEQ_CST);
	return scan_watched();
}

static uint64_t now_ns(void)
{
	return ktime_mono();
}

/* Wait until the stub posts. Spins inline for up to spin_ns first (short host work),
 * then sleeps the task. 0, -ESRCH (the process died) or -ETIMEDOUT. */
static int chan_wait(struct uthread *t, uint64_t spin_ns, uint64_t deadline)
{
	if (spin_ns && !chan_ready(t)) {
		uint64_t end = now_ns() + spin_ns;
		while (!chan_ready(t) && now_ns() < end)
			for (int i = 0; i < 16 && !chan_ready(t); i++)
				_mm_pause();
	}
	while (!chan_ready(t)) {
		if (t->gone)
			return -ESRCH;
		watch(t);
		int r = sleep_on_many((struct waitq *[]){&t->wq}, 1, false, deadline);
		if (r == -ETIMEDOUT && !chan_ready(t)) {
			unwatch(t);
			return -ETIMEDOUT;
		}
	}
	unwatch(t);
	t->evt_seen = __atomic_load_n(&t->c->evt_seq, __ATOMIC_ACQUIRE);
	return t->gone ? -ESRCH : 0;
}

static void forget_lent(struct uthread *t)
{
	if (t->lent >= 0) {
		close(t->lent);
		t->lent = -1;
	}
}

static void send_cmd(struct uthread *t, uint32_t cmd)
{
	struct skas_chan *c = t->c;
	if (cmd != SKAS_CMD_MMAP_FD)
		forget_lent(t); /* the stub closes its fd first */
	c->cmd = cmd;
	c->spin_stop = 0;
	__atomic_add_fetch(&c->cmd_seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->stub_sleeping, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &c->cmd_seq, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* A host syscall in t's address space; t is stopped in its stub. */
static long do_op(struct uthread *t, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	if (t->gone)
		return -ESRCH;
	struct skas_chan *c = t->c;
	c->nr = nr;
	c->args[0] = a0, c->args[1] = a1, c->args[2] = a2;
	c->args[3] = a3, c->args[4] = a4, c->args[5] = a5;
	send_cmd(t, SKAS_CMD_OP);
	if (chan_wait(t, OP_SPIN_NS, 0))
		return -ESRCH;
	if (c->kind != SKAS_EV_OPDONE)
		return -EIO; /* the guest scribbled on its channel */
	return c->result;
}

/* --- threads ------------------------------------------------------------------------- */

static void reap(struct uthread *t)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	while (syscall(SYS_waitid, P_PIDFD, t->pidfd, &si, WEXITED | __WALL, NULL) < 0 &&
	       errno == EINTR)
		;
	t->exit_code = si.si_code;
	t->exit_status = si.si_status;
}

static void notif_reply(int fd, uint64_t id, int error, long val, uint32_t flags)
{
	struct seccomp_notif_resp r = {.id = id, .error = error, .val = val, .flags = flags};
	ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &r);
}

static void hello_drop(struct hello *h)
{
	if (h->fam && h->fam->ev.fd >= 0)
		notif_reply(h->fam->ev.fd, h->id, -EPERM, 0, 0);
	close(h->pidfd);
	h->used = false;
}

/* The last thread of a family is gone: its listener and waiting hellos go too. */
static void fam_put(struct family *f)
{
	if (--f->refcount)
		return;
	for (int i = 0; i < MAX_HELLOS; i++)
		if (hellos[i].used && hellos[i].fam == f)
			hello_drop(&hellos[i]);
	if (f->ev.fd >= 0) {
		kevent_del(&f->ev);
		close(f->ev.fd);
	}
	free(f);
}

/* The host process is gone: reap it and give back what it held. The struct stays
 * until release(). */
static void ut_teardown(struct uthread *t, bool wait)
{
	if (t->pidfd >= 0 && !t->gone)
		syscall(SYS_pidfd_send_signal, t->pidfd, SIGKILL, NULL, 0);
	if (t->pidfd >= 0 && (wait || t->gone)) {
		kevent_del(&t->pidev);
		if (!t->gone)
			reap(t);
		close(t->pidfd);
		t->pidfd = -1;
		t->gone = true;
	}
	unwatch(t);
	set_in_kernel(t, false);
	ktimer_cancel(&t->intr_timer);
	forget_lent(t);
	if (t->c) {
		munmap(t->c, SKAS_CHAN_SIZE);
		t->c = NULL;
	}
	if (t->as) {
		t->as->used[t->slot] = 0;
		if (--t->as->refcount == 0)
			free(t->as);
		t->as = NULL;
	}
	if (t->fam) {
		fam_put(t->fam);
		t->fam = NULL;
	}
	wake_up(&t->wq);
}

static void pid_event(struct kevent *ev, uint32_t revents)
{
	struct uthread *t = ev->priv;
	if (t->gone)
		return;
	kevent_del(&t->pidev);
	reap(t);
	t->gone = true;
	if (t->dying) {
		close(t->pidfd);
		list_del(&t->link);
		free(t);
		return;
	}
	wake_up(&t->wq);
}

static struct uthread *ut_new(pid_t pid, int pidfd, struct skas_chan *c, int slot,
			      struct family *fam, struct aspace *as)
{
	struct uthread *t = xzalloc(sizeof(*t));
	t->pid = pid;
	t->pidfd = pidfd;
	t->c = c;
	t->slot = slot;
	t->fam = fam;
	fam->refcount++;
	t->lent = -1;
	t->as = as;
	as->refcount++;
	as->used[slot] = 1;
	waitq_init(&t->wq);
	list_init(&t->wlink);
	list_init(&t->klink);
	list_add_tail(&t->link, &uthreads);
	t->pidev.fd = pidfd;
	t->pidev.events = EPOLLIN;
	t->pidev.cb = pid_event;
	t->pidev.priv = t;
	if (kevent_add(&t->pidev))
		t->gone = true;
	return t;
}

static struct uthread *ut_find(pid_t pid)
{
	list_for_each(it, &uthreads)
	{
		struct uthread *t = list_entry(it, struct uthread, link);
		if (t->pid == pid && !t->gone)
			return t;
	}
	return NULL;
}

/* --- the listener: doorbells, clone gate, clone children ----------------------------- */

static void listener_event(struct kevent *ev, uint32_t revents)
{
	struct family *f = ev->priv;
	struct seccomp_notif n;
	memset(&n, 0, sizeof(n));
	if (!(revents & EPOLLIN)) {
		if (revents & (EPOLLHUP | EPOLLERR))
			kevent_mod(ev, 0); /* every process of the family is gone */
		return;
	}
	if (ioctl(ev->fd, SECCOMP_IOCTL_NOTIF_RECV, &n))
		return; /* the caller died meanwhile */
	const __u64 *a = n.data.args;
	if (n.data.nr == SKAS_NOTIFY_NR && a[0] == SKAS_NOTIFY_DOORBELL) {
		notif_reply(ev->fd, n.id, 0, 0, 0);
		scan_watched();
		return;
	}
	/* The file of a file mapping the kernel asked for: to the thread it asked, once. The
	 * host installs the fd (its number is the call's result) and answers in one go. */
	if (n.data.nr == SKAS_NOTIFY_NR && a[0] == SKAS_NOTIFY_FD) {
		list_for_each(it, &fd_loans)
		{
			struct fd_loan *l = list_entry(it, struct fd_loan, link);
			if (l->fam == f && l->pid == (pid_t)n.pid && !l->asked) {
				struct seccomp_notif_addfd add = {.id = n.id,
								  .flags = SECCOMP_ADDFD_FLAG_SEND,
								  .srcfd = l->fd,
								  .newfd_flags = O_CLOEXEC};
				l->asked = true;
				l->given = ioctl(ev->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) >= 0;
				if (!l->given)
					notif_reply(ev->fd, n.id, -errno, 0, 0);
				return;
			}
		}
	}
	/* A clone the kernel asked for: from the parent's pid as the host sees it, with
	 * exactly the flags asked for. */
	if (n.data.nr == __NR_clone && a[2] == 0 && a[3] == 0 && a[4] == 0) {
		list_for_each(it, &clone_reqs)
		{
			struct clone_req *r = list_entry(it, struct clone_req, link);
			if (r->fam == f && !r->gate_passed && (pid_t)n.pid == r->parent_pid &&
			    a[0] == r->flags) {
				r->gate_passed = true;
				notif_reply(ev->fd, n.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
				return;
			}
		}
	}
	/* Perhaps a clone child: a process of a family with a clone let through, and not a
	 * known thread. Kept for sc_clone, which knows the pid its child must have. */
	bool expected = false;
	list_for_each(it, &clone_reqs)
	{
		struct clone_req *r = list_entry(it, struct clone_req, link);
		expected |= r->fam == f && r->gate_passed;
	}
	if (n.data.nr == SKAS_NOTIFY_NR && a[0] == SKAS_NOTIFY_HELLO && expected &&
	    !ut_find(n.pid)) {
		int pfd = syscall(SYS_pidfd_open, n.pid, 0);
		/* Still the task that asked (so the pidfd names it, not a reused pid)? */
		if (pfd >= 0 && ioctl(ev->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &n.id) == 0) {
			struct hello *h = NULL;
			for (int i = 0; i < MAX_HELLOS && !h; i++)
				if (!hellos[i].used)
					h = &hellos[i];
			if (!h) { /* full: the oldest goes */
				h = &hellos[0];
				for (int i = 1; i < MAX_HELLOS; i++)
					if (hellos[i].seq < h->seq)
						h = &hellos[i];
				hello_drop(h);
			}
			*h = (struct hello){.used = true,
					    .fam = f,
					    .id = n.id,
					    .pid = n.pid,
					    .pidfd = pfd,
					    .seq = ++hello_seq};
			list_for_each(it, &clone_reqs)
			    wake_up(&list_entry(it, struct clone_req, link)->wq);
			return;
		}
		if (pfd >= 0)
			close(pfd);
	}
	notif_reply(ev->fd, n.id, -EPERM, 0, 0);
}

/* --- platform operations ------------------------------------------------------------- */

/* The embedded stub must have stub_sys's syscall where the filter expects it. */
static bool stub_layout_ok(void)
{
	const Elf64_Ehdr *eh = (const void *)stub_elf;
	if ((size_t)(stub_elf_end - stub_elf) < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return false;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(stub_elf + eh->e_phoff + i * eh->e_phentsize);
		if (ph->p_type != PT_LOAD || ph->p_vaddr != SKAS_STUB_ADDR)
			continue;
		const uint8_t *text = (const uint8_t *)stub_elf + ph->p_offset;
		const uint8_t *sc = text + SKAS_STUB_SYSCALL_OFF;
		return ph->p_filesz > SKAS_STUB_SYSCALL_OFF + 2 && text[0] == 0x0f &&
		       text[1] == 0x05 && sc[0] == 0x0f && sc[1] == 0x05;
	}
	return false;
}

/* TSC ticks per microsecond, over a short busy wait (a spin budget needs no more). */
static uint64_t calibrate_tsc(void)
{
	uint64_t t0 = now_ns(), c0 = __rdtsc(), t1, c1;
	do {
		_mm_pause();
		t1 = now_ns();
		c1 = __rdtsc();
	} while (t1 - t0 < 100000);
	if (t1 <= t0 || c1 <= c0)
		return 3000; /* ticks per microsecond, a guess */
	return (c1 - c0) * 1000 / (t1 - t0);
}

/* A process in its own user, mount, network, IPC and UTS namespaces, for new address
 * spaces to join (setns through its pidfd is cheap; creating a network namespace per
 * exec is not). None when the host refuses. Started at init; the first spawn collects
 * its answer (ns_holder_wait), so boot does not wait for the namespaces. */
static int ns_pipe = -1;

static void ns_holder_start(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int flags =
		    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
		char ok = 0;
		if (unshare(flags) == 0)
			ok = 1;
		else if (unshare(flags & ~CLONE_NEWUSER) == 0)
			ok = 2;
		if (write(p[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return;
	}
	ns_pid = pid;
	ns_pipe = p[0];
}

static void ns_holder_wait(void)
{
	if (ns_pipe < 0)
		return;
	char ok = 0;
	if (read(ns_pipe, &ok, 1) != 1)
		ok = 0;
	close(ns_pipe);
	ns_pipe = -1;
	pid_t pid = ns_pid;
	if (ok)
		ns_pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (ns_pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ns_pid = 0;
		return;
	}
	ns_flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
	if (ok == 1)
		ns_flags |= CLONE_NEWUSER;
}

static int sc_init(void)
{
	if (!stub_layout_ok())
		return -ENOEXEC;
	stub_fd = memfd_create("vmlinux-stub", MFD_CLOEXEC);
	size_t len = stub_elf_end - stub_elf;
	if (stub_fd < 0 || write(stub_fd, stub_elf, len) != (ssize_t)len)
		return -errno;
	build_filter();
	stub_spin_tsc = calibrate_tsc() * (STUB_SPIN_NS / 1000);
	host_fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	spawn_stack = mmap(NULL, SPAWN_STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (spawn_stack == MAP_FAILED)
		return -ENOMEM;
	ns_holder_start();
	sched_set_idle_poll(seccomp_poll);
	return 0;
}

static void sc_release(struct uthread *t);

static void sc_shutdown(void)
{
	list_for_each_safe(it, nx, &uthreads) sc_release(list_entry(it, struct uthread, link));
	list_for_each_safe(it, nx, &dying)
	{
		struct uthread *t = list_entry(it, struct uthread, link);
		kevent_del(&t->pidev);
		reap(t);
		close(t->pidfd);
		list_del(&t->link);
		free(t);
	}
	if (ns_pipe >= 0) {
		close(ns_pipe);
		ns_pipe = -1;
	}
	if (ns_pid > 0) {
		kill(ns_pid, SIGKILL);
		waitpid(ns_pid, NULL, 0);
		close(ns_pidfd);
		ns_pid = 0;
		ns_pidfd = -1;
	}
	sched_set_idle_poll(NULL);
}

static void sc_layout(struct plat_layout *l)
{
	l->task_size = GUEST_TASK_SIZE;
	l->reserved_start = GUEST_TASK_SIZE;
	l->reserved_end = USER_TOP;
	l->vdso = host_vdso;
}

/* In the child of spawn's fork, up to the exec of the stub: async-signal-safe calls
 * only (the kernel process may have threads). */
__attribute__((noreturn, no_sanitize_address)) static void exec_stub(int cfd, pid_t parent)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setsid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	personality(ADDR_NO_RANDOMIZE);
	if (ns_pidfd >= 0)
		setns(ns_pidfd, ns_flags); /* best effort */
	int sfd = fcntl(stub_fd, F_DUPFD_CLOEXEC, 10);
	if (cfd == SKAS_CHAN_FD)
		fcntl(cfd, F_SETFD, 0);
	else if (dup2(cfd, SKAS_CHAN_FD) != SKAS_CHAN_FD)
		_exit(126);
	for (int fd = 0; fd < SKAS_CHAN_FD; fd++)
		close(fd);
	syscall(SYS_close_range, SKAS_CHAN_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC);
	char *argv[] = {"vmlinux-stub", NULL}, *envp[] = {NULL};
	syscall(SYS_execveat, sfd, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

/* The first event of a new address space comes before the kernel holds its listener,
 * so the stub cannot ring: it wakes the futex of evt_seq, and the kernel thread waits
 * there (a short, bounded wait that blocks it, as ptrace's attach does). */
static int spawn_wait_ready(struct uthread *t)
{
	uint64_t deadline = now_ns() + SETUP_TIMEOUT_NS;
	while (!chan_ready(t)) {
		uint64_t now = now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd pfd = {.fd = t->pidfd, .events = POLLIN};
		if (poll(&pfd, 1, 0) == 1)
			return -ECHILD; /* it died */
		struct timespec ts = {0, 10000000};
		syscall(SYS_futex, &t->c->evt_seq, FUTEX_WAIT, t->evt_seen, &ts, NULL, 0);
	}
	t->evt_seen = __atomic_load_n(&t->c->evt_seq, __ATOMIC_ACQUIRE);
	return 0;
}

__attribute__((no_sanitize_address)) static int spawn_child(void *arg)
{
	struct spawn_args *a = arg;
	exec_stub(a->cfd, a->parent);
}

static int sc_spawn(struct uthread **out)
{
	ns_holder_wait();
	int cfd;
	struct skas_chan *c = chan_new(&cfd);
	if (!c)
		return -ENOMEM;
	memcpy((char *)c + SKAS_CHAN_PROG_OFF, filter, filter_len * sizeof(filter[0]));
	c->prog_len = filter_len;
	/* clone(CLONE_VM | CLONE_VFORK) rather than fork: nothing of the kernel process is
	 * copied for a child that execs at once (it runs on a stack of its own). */
	struct spawn_args sa = {.cfd = cfd, .parent = getpid()};
	pid_t pid = clone(spawn_child, spawn_stack + SPAWN_STACK_SIZE,
			  CLONE_VM | CLONE_VFORK | SIGCHLD, &sa);
	int err = pid < 0 ? -errno : 0;
	close(cfd);
	int pidfd = pid > 0 ? syscall(SYS_pidfd_open, pid, 0) : -1;
	if (pid > 0 && pidfd < 0) {
		err = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WALL);
	}
	if (err) {
		munmap(c, SKAS_CHAN_SIZE);
		return err;
	}
	struct family *fam = xzalloc(sizeof(*fam));
	fam->ev.fd = -1;
	struct aspace *as = xzalloc(sizeof(*as));
	struct uthread *t = ut_new(pid, pidfd, c, 0, fam, as);
	/* The stub reports once it has installed its filter; nothing of the guest has run,
	 * so what it says can be believed. */
	err = spawn_wait_ready(t);
	if (!err && c->kind != SKAS_EV_READY)
		err = -ECHILD;
	int lfd = -1;
	if (!err) {
		lfd = syscall(SYS_pidfd_getfd, pidfd, (int)c->result, 0);
		uint64_t id = 0;
		if (lfd < 0)
			err = -errno;
		else if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno != ENOENT)
			err = -EBADF; /* not a seccomp listener */
	}
	if (!err) {
		fcntl(lfd, F_SETFD, FD_CLOEXEC);
		fam->ev.fd = lfd;
		fam->ev.events = EPOLLIN;
		fam->ev.cb = listener_event;
		fam->ev.priv = fam;
		err = kevent_add(&fam->ev);
		lfd = -1;
	}
	if (lfd >= 0)
		close(lfd);
	if (!err && do_op(t, __NR_close, c->result, 0, 0, 0, 0, 0) != 0)
		err = -ECHILD;
	if (err) {
		sc_release(t);
		return err;
	}
	if (!host_vdso)
		host_vdso = skas_find_vdso(pid);
	*out = t;
	return 0;
}

static struct hello *hello_find(struct family *f, pid_t pid)
{
	for (int i = 0; i < MAX_HELLOS; i++)
		if (hellos[i].used && hellos[i].fam == f && hellos[i].pid == pid)
			return &hellos[i];
	return NULL;
}

static int sc_clone(struct uthread *parent, bool share_vm, struct uthread **out)
{
	if (parent->gone)
		return -ESRCH;
	int slot = parent->slot, err = 0;
	struct aspace *as = parent->as;
	if (share_vm) {
		slot = -1;
		for (int i = 0; i < SKAS_NSLOTS && slot < 0; i++)
			if (!as->used[i])
				slot = i;
		if (slot < 0)
			return -EAGAIN;
		as->used[slot] = 1; /* taken while the child is set up */
	}
	int cfd;
	struct skas_chan *cc = chan_new(&cfd);
	if (!cc) {
		if (share_vm)
			as->used[slot] = 0;
		return -ENOMEM;
	}
	struct family *fam = parent->fam;
	fam->refcount++; /* the parent may die meanwhile */
	uint64_t flags = CLONE_PARENT | (share_vm ? CLONE_VM : 0);
	struct clone_req req = {.fam = fam, .parent_pid = parent->pid, .flags = flags};
	waitq_init(&req.wq);
	list_add_tail(&req.link, &clone_reqs);

	struct skas_chan *pc = parent->c;
	pc->args[0] = flags;
	pc->args[1] = slot;
	send_cmd(parent, SKAS_CMD_CLONE);
	uint64_t deadline = now_ns() + SETUP_TIMEOUT_NS;
	err = chan_wait(parent, 0, deadline);
	if (!err && (pc->kind != SKAS_EV_OPDONE || pc->result <= 0))
		err = pc->result < 0 ? (int)pc->result : -EAGAIN;
	/* The child is the process whose hello the host attributes to the pid the clone
	 * returned to the parent the kernel serves (it is not the one that could lie): a
	 * stray child of an earlier, failed clone cannot pass for this one. */
	pid_t child = err ? 0 : (pid_t)pc->result, child_pid = 0;
	int child_pidfd = -1;
	struct hello *h = NULL;
	if (!err)
		err = wait_event(&req.wq, (h = hello_find(fam, child)), false, deadline);
	if (!err && fam->ev.fd >= 0) {
		struct seccomp_notif_addfd add = {.id = h->id,
						  .flags = SECCOMP_ADDFD_FLAG_SEND,
						  .srcfd = cfd,
						  .newfd_flags = O_CLOEXEC};
		if (ioctl(fam->ev.fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) >= 0) {
			child_pid = h->pid;
			child_pidfd = h->pidfd;
			h->used = false;
		} else {
			hello_drop(h);
			err = -EAGAIN;
		}
	}
	list_del(&req.link);
	struct uthread *t = NULL;
	if (child_pid) {
		if (!share_vm)
			as = xzalloc(sizeof(*as));
		else
			as->used[slot] = 0; /* ut_new takes it for good */
		t = ut_new(child_pid, child_pidfd, cc, slot, fam, as);
		cc = NULL;
		if (!err)
			err = chan_wait(t, 0, deadline);
		if (!err && t->c->kind != SKAS_EV_READY)
			err = -EAGAIN;
	} else if (share_vm) {
		as->used[slot] = 0;
	}
	close(cfd);
	if (cc)
		munmap(cc, SKAS_CHAN_SIZE);
	fam_put(fam);
	if (err) {
		if (t)
			sc_release(t);
		return err == -ETIMEDOUT || err == -ESRCH ? -EAGAIN : err;
	}
	*out = t;
	return 0;
}

/* Killed now; reaped when the host says it is dead (pid_event), so the kernel thread
 * does not wait for the exit of a large process. */
static void sc_release(struct uthread *t)
{
	ut_teardown(t, false);
	if (t->pidfd >= 0 && !t->gone) {
		t->dying = true;
		list_del(&t->link);
		list_add_tail(&t->link, &dying);
		return;
	}
	list_del(&t->link);
	free(t);
}

/* Every guest mapping goes, and so do the slots of the address space's other (dead)
 * threads: the new image sees only its own channel. */
static int sc_exec_reset(struct uthread *t)
{
	uint64_t lo = SKAS_SLOT_ADDR(t->slot), hi = SKAS_SLOT_ADDR(t->slot + 1);
	long r = do_op(t, __NR_munmap, 0, GUEST_TASK_SIZE, 0, 0, 0, 0);
	if (r >= 0 && lo > SKAS_SLOT_BASE)
		r = do_op(t, __NR_munmap, SKAS_SLOT_BASE, lo - SKAS_SLOT_BASE, 0, 0, 0, 0);
	if (r >= 0)
		r = do_op(t, __NR_munmap, hi, SKAS_SLOT_ADDR(SKAS_NSLOTS) - hi, 0, 0, 0, 0);
	if (r >= 0)
		for (int i = 0; i < SKAS_NSLOTS; i++)
			t->as->used[i] = i == t->slot;
	return r < 0 ? (int)r : 0;
}

static long mmap_fd_result(struct uthread *t)
{
	if (chan_wait(t, OP_SPIN_NS, 0))
		return -ESRCH;
	return t->c->kind != SKAS_EV_OPDONE ? -EIO : t->c->result;
}

/* A file mapping (always MAP_PRIVATE): the stub asks for the fd with a notification and
 * the kernel lends it (fd_loans); the stub keeps it while the kernel maps the same file
 * (the segments of an ELF: one loan for all). The task answers the notification itself
 * while it spins (the stub asks at once), else the event loop does when it wakes on the
 * listener. */
static long mmap_fd(struct uthread *t, uaddr_t addr, size_t len, int prot, int fd, off_t off)
{
	struct family *fam = t->fam;
	struct stat st;
	if (t->gone || !fam)
		return -ESRCH;
	if (fam->ev.fd < 0 || fstat(fd, &st))
		return -EBADF;
	struct skas_chan *c = t->c;
	c->args[0] = addr, c->args[1] = len, c->args[2] = prot;
	c->args[3] = 0, c->args[5] = off;
	c->args[4] = t->lent >= 0 && st.st_ino == t->lent_ino && st.st_dev == t->lent_dev;
	if (c->args[4]) {
		send_cmd(t, SKAS_CMD_MMAP_FD);
		return mmap_fd_result(t);
	}
	forget_lent(t);
	fam->refcount++;
	struct fd_loan loan = {.fam = fam, .pid = t->pid, .fd = fd};
	list_add_tail(&loan.link, &fd_loans);
	send_cmd(t, SKAS_CMD_MMAP_FD);
	struct pollfd p = {.fd = fam->ev.fd, .events = POLLIN};
	uint64_t end = now_ns() + OP_SPIN_NS;
	while (!loan.asked && !chan_ready(t) && now_ns() < end) {
		if (poll(&p, 1, 0) <= 0) {
			_mm_pause();
			continue;
		}
		listener_event(&fam->ev, p.revents);
		if (!(p.revents & POLLIN))
			break; /* the family is gone */
	}
	long r = mmap_fd_result(t);
	list_del(&loan.link);
	fam_put(fam);
	if (loan.given && !t->gone && (t->lent = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0) {
		t->lent_dev = st.st_dev;
		t->lent_ino = st.st_ino;
	}
	return r;
}

static long sc_mmap(struct uthread *t, uaddr_t addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	if (fd >= 0)
		return mmap_fd(t, addr, len, prot, fd, off);
	return do_op(t, __NR_mmap, addr, len, prot, flags | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
}

static int sc_munmap(struct uthread *t, uaddr_t addr, size_t len)
{
	return (int)do_op(t, __NR_munmap, addr, len, 0, 0, 0, 0);
}

static int sc_mprotect(struct uthread *t, uaddr_t addr, size_t len, int prot)
{
	return (int)do_op(t, __NR_mprotect, addr, len, prot, 0, 0, 0);
}

static long sc_mremap(struct uthread *t, uaddr_t old, size_t old_len, size_t new_len,
		      uaddr_t new_addr)
{
	return do_op(t, __NR_mremap, old, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED, new_addr,
		     0);
}

static int sc_madvise(struct uthread *t, uaddr_t addr, size_t len, int advice)
{
	return (int)do_op(t, __NR_madvise, addr, len, advice, 0, 0, 0);
}

static int sc_read(struct uthread *t, void *dst, uaddr_t src, size_t n)
{
	if (t->gone)
		return -EFAULT;
	return skas_mem_read(t->pid, dst, src, n);
}

static int sc_write(struct uthread *t, uaddr_t dst, const void *src, size_t n)
{
	if (t->gone)
		return -EFAULT;
	return skas_mem_write(t->pid, dst, src, n);
}

/* The host lets its uretprobe and uprobe syscalls (335, 336) through every seccomp
 * filter; made from anywhere but a uprobe trampoline they fail and raise SIGILL
 * (SI_KERNEL) right after the syscall instruction. The guest asked for a syscall the
 * kernel does not have: report it as one (it gets -ENOSYS), as a ptrace stop would. */
static bool uprobe_syscall(struct uthread *t, struct uevent *ev, struct uregs *regs)
{
	uint8_t insn[2];
	if (ev->signo != SIGILL || ev->code != 0x80 /* SI_KERNEL */ || regs->rip < 2 ||
	    skas_mem_read(t->pid, insn, regs->rip - 2, 2) || insn[0] != 0x0f || insn[1] != 0x05)
		return false;
	regs->orig_rax = 335; /* the number is lost (rax is -1 now); both are unknown here */
	regs->rax = (uint64_t)-ENOSYS;
	return true;
}

/* A thread that does not answer the interrupt in time has broken its own stub (its
 * channel unmapped, the interrupt signal blocked by a forged frame, ...): it is killed,
 * and run() reports it gone, so the kernel is never stuck with it. */
#define INTR_TIMEOUT_NS 500000000ULL

static void intr_timeout(struct ktimer *kt)
{
	struct uthread *t = container_of(kt, struct uthread, intr_timer);
	if (t->in_guest && t->intr_sent && !t->gone && t->pidfd >= 0 && !chan_ready(t))
		syscall(SYS_pidfd_send_signal, t->pidfd, SIGKILL, NULL, 0);
}

static int sc_run(struct uthread *t, struct uregs *regs, struct uevent *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (t->gone) {
		ev->kind = UEV_GONE;
		return 0;
	}
	struct skas_chan *c = t->c;
	memcpy(&c->regs, regs, sizeof(*regs));
	t->intr_sent = false;
	t->in_guest = true;
	set_in_kernel(t, false);
	send_cmd(t, SKAS_CMD_RESUME);
	int err = chan_wait(t, 0, 0);
	t->in_guest = false;
	ktimer_cancel(&t->intr_timer);
	if (!err)
		set_in_kernel(t, true);
	if (err) {
		ev->kind = UEV_GONE;
		ut_teardown(t, true);
		return 0;
	}
	uint32_t kind = c->kind;
	memcpy(regs, &c->regs, sizeof(*regs));
	/* The platform owns the segment selectors. */
	regs->cs = 0x33;
	regs->ss = 0x2b;
	regs->ds = regs->es = regs->fs = regs->gs = 0;
	switch (kind) {
	case SKAS_EV_SYSCALL:
		ev->kind = UEV_SYSCALL;
		break;
	case SKAS_EV_FAULT:
		ev->kind = UEV_FAULT;
		ev->signo = c->signo;
		ev->code = c->code;
		ev->addr = c->addr;
		if (ev->signo != SIGSEGV && ev->signo != SIGBUS && ev->signo != SIGILL &&
		    ev->signo != SIGFPE && ev->signo != SIGTRAP)
			ev->kind = UEV_INTERRUPT; /* forged */
		else if (uprobe_syscall(t, ev, regs))
			ev->kind = UEV_SYSCALL;
		break;
	default:
		regs->orig_rax = (uint64_t)-1;
		ev->kind = UEV_INTERRUPT;
		break;
	}
	return 0;
}

static void sc_interrupt(struct uthread *t)
{
	if (t->in_guest && !t->intr_sent && !t->gone) {
		t->intr_sent = true;
		syscall(SYS_pidfd_send_signal, t->pidfd, SKAS_SIG_INTR, NULL, 0);
		t->intr_timer.fn = intr_timeout;
		ktimer_arm(&t->intr_timer, now_ns() + INTR_TIMEOUT_NS);
	}
}

/* The FXSAVE area of the signal frame the stub waits in, in the kernel's mapping. */
static uint8_t *fp_area(struct uthread *t)
{
	if (t->gone)
		return NULL;
	uint64_t a = __atomic_load_n(&t->c->fpstate, __ATOMIC_RELAXED);
	uint64_t base = SKAS_SLOT_ADDR(t->slot);
	if (a < base + SKAS_CHAN_ALT_OFF || a > base + SKAS_CHAN_SIZE - 576 || (a & 15))
		return NULL;
	return (uint8_t *)t->c + (a - base);
}

static int sc_get_fpregs(struct uthread *t, struct ufpregs *fp)
{
	uint8_t *p = fp_area(t);
	if (!p)
		return -ESRCH;
	memcpy(fp->fxsave, p, sizeof(fp->fxsave));
	return 0;
}

static int sc_set_fpregs(struct uthread *t, const struct ufpregs *fp)
{
	uint8_t *p = fp_area(t);
	if (!p)
		return -ESRCH;
	uint32_t mask, mxcsr;
	memcpy(&mask, p + 28, 4);
	memcpy(p, fp->fxsave, 464); /* not the software bytes that say how it was saved */
	memcpy(&mxcsr, p + 24, 4);
	mxcsr &= mask ? mask : 0xffbf;
	memcpy(p + 24, &mxcsr, 4);
	memcpy(p + 28, &mask, 4);
	uint32_t magic;
	memcpy(&magic, p + 464, 4);
	if (magic == 0x46505853 /* FP_XSTATE_MAGIC1: an XSAVE frame */) {
		uint64_t bv;
		memcpy(&bv, p + 512, 8);
		bv |= 3; /* x87 and SSE state are in the frame now */
		memcpy(p + 512, &bv, 8);
	}
	return 0;
}

const struct platform skas_platform = {
    .name = "skas",
    .init = sc_init,
    .shutdown = sc_shutdown,
    .layout = sc_layout,
    .spawn = sc_spawn,
    .clone = sc_clone,
    .release = sc_release,
    .exec_reset = sc_exec_reset,
    .mmap = sc_mmap,
    .munmap = sc_munmap,
    .mprotect = sc_mprotect,
    .mremap = sc_mremap,
    .madvise = sc_madvise,
    .read = sc_read,
    .write = sc_write,
    .run = sc_run,
    .interrupt = sc_interrupt,
    .get_fpregs = sc_get_fpregs,
    .set_fpregs = sc_set_fpregs,
};
