/* The stub's seccomp side (mode=skas): freestanding code linked into the stub program
 * that every guest address space starts from (see seccomp_abi.h for the layout).
 *
 * Guest syscalls trap (SECCOMP_RET_TRAP) into on_sigsys, which runs on the thread's
 * alternate signal stack inside its channel, a memfd page shared with the kernel. The
 * handler copies the registers into the channel, posts the event and serves the
 * kernel's commands (host syscalls, file mappings, clone) until the kernel says "resume":
 * then the new registers go into the signal frame and rt_sigreturn loads them. Waiting
 * spins on the channel for a bounded time (spin_tsc), then sleeps on a futex in it.
 *
 * Faults and the kernel's interrupt signal take the same path. New threads (the first
 * one, clone children) build a frame of their own and start in the same loop.
 *
 * No static data: everything a thread needs is in its slot, found from the stack pointer
 * (handlers) or passed along. Every host syscall goes through stub_sys (stub.S), whose
 * one syscall instruction is the only one the seccomp filter lets through. */
#include "../seccomp_abi.h"

/* Position-independent without a GOT: every symbol is local to the stub. */
#pragma GCC visibility push(hidden)

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;

long stub_sys(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
__attribute__((noreturn)) void stub_sigreturn(void *uc);
void stub_restorer(void);
void stub_child_entry(void);
void stub_main(u64 *sp);
__attribute__((noreturn)) void stub_child_main(long slot, const void *fx, u64 flags);

#define NR_close 3
#define NR_mmap 9
#define NR_munmap 11
#define NR_rt_sigaction 13
#define NR_sched_yield 24
#define NR_madvise 28
#define NR_clone 56
#define NR_sigaltstack 131
#define NR_prctl 157
#define NR_arch_prctl 158
#define NR_futex 202
#define NR_exit_group 231
#define NR_seccomp 317

#define SIGILL 4
#define SIGTRAP 5
#define SIGBUS 7
#define SIGFPE 8
#define SIGSEGV 11
#define SIGSYS 31
#define SIGBIT(s) (1ULL << ((s)-1))
/* Our signals: blocked inside every handler, the only ones open in guest mode. */
#define STUB_SIGS                                                                                  \
	(SIGBIT(SIGSYS) | SIGBIT(SKAS_SIG_INTR) | SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) |               \
	 SIGBIT(SIGILL) | SIGBIT(SIGFPE) | SIGBIT(SIGTRAP))
#define GUEST_MASK (~STUB_SIGS)

#define SA_SIGINFO 4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000
#define PROT_RW 3
#define MAP_SHARED 1
#define MAP_PRIVATE 2
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MADV_DONTFORK 10
#define CLONE_VM 0x100
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_FILTER_FLAG_NEW_LISTENER 8
#define PR_SET_PDEATHSIG 1
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define AT_HWCAP2 26
#define HWCAP2_FSGSBASE 2
#define ENOSYS 38
#define SYS_SECCOMP 1

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	u64 mask;
};

struct k_stack {
	u64 ss_sp;
	int ss_flags;
	int pad;
	u64 ss_size;
};

struct k_sigcontext {
	u64 r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
	    eflags;
	u16 cs, gs, fs, ss;
	u64 err, trapno, oldmask, cr2, fpstate;
	u64 reserved[8];
};

struct k_ucontext {
	u64 uc_flags;
	u64 uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext mc;
	u64 sigmask;
};

struct k_siginfo {
	int signo, err, code, pad;
	union {
		u64 addr; /* SIGSEGV, SIGBUS, ... */
		struct {
			u64 call_addr;
			int syscall;
			u32 arch;
		} sys;
		char pad[112];
	} u;
};

/* The compiler may call these for struct copies even in freestanding code. */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
void *memset(void *d, int c, unsigned long n)
{
	volatile char *p = d;
	while (n--)
		*p++ = (char)c;
	return d;
}
void *memcpy(void *d, const void *s, unsigned long n)
{
	volatile char *dp = d;
	const volatile char *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}

static inline void *mset(void *d, int c, u64 n)
{
	volatile char *p = d;
	while (n--)
		*p++ = (char)c;
	return d;
}

static inline void mcopy(void *d, const void *s, u64 n)
{
	volatile char *dp = d;
	const volatile char *sp = s;
	while (n--)
		*dp++ = *sp++;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

__attribute__((noreturn)) static void die(int code)
{
	for (;;)
		stub_sys(NR_exit_group, code, 0, 0, 0, 0, 0);
}

static inline struct skas_chan *chan_of_slot(long slot)
{
	return (struct skas_chan *)SKAS_SLOT_ADDR(slot);
}

/* In a handler: the alternate stack lies inside the thread's channel. */
static inline struct skas_chan *my_chan(void)
{
	u64 sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	if (sp < SKAS_SLOT_BASE || sp >= SKAS_SLOT_ADDR(SKAS_NSLOTS))
		die(125);
	return (struct skas_chan *)(sp & ~(SKAS_SLOT_SIZE - 1));
}

static u64 get_fs(struct skas_chan *c)
{
	u64 v = c->cur_fs;
	if (c->fsgsbase)
		__asm__ volatile("rdfsbase %0" : "=r"(v));
	return v;
}

static u64 get_gs(struct skas_chan *c)
{
	u64 v = c->cur_gs;
	if (c->fsgsbase)
		__asm__ volatile("rdgsbase %0" : "=r"(v));
	return v;
}

static void set_fs(struct skas_chan *c, u64 v)
{
	if (get_fs(c) == v)
		return;
	if (c->fsgsbase)
		__asm__ volatile("wrfsbase %0" ::"r"(v) : "memory");
	else
		stub_sys(NR_arch_prctl, ARCH_SET_FS, (long)v, 0, 0, 0, 0);
	c->cur_fs = v;
}

static void set_gs(struct skas_chan *c, u64 v)
{
	if (get_gs(c) == v)
		return;
	if (c->fsgsbase)
		__asm__ volatile("wrgsbase %0" ::"r"(v) : "memory");
	else
		stub_sys(NR_arch_prctl, ARCH_SET_GS, (long)v, 0, 0, 0, 0);
	c->cur_gs = v;
}

static void save_regs(struct skas_chan *c, const struct k_ucontext *uc)
{
	const struct k_sigcontext *m = &uc->mc;
	struct skas_regs *r = &c->regs;
	r->r8 = m->r8, r->r9 = m->r9, r->r10 = m->r10, r->r11 = m->r11;
	r->r12 = m->r12, r->r13 = m->r13, r->r14 = m->r14, r->r15 = m->r15;
	r->rdi = m->rdi, r->rsi = m->rsi, r->rbp = m->rbp, r->rbx = m->rbx;
	r->rdx = m->rdx, r->rax = m->rax, r->rcx = m->rcx, r->rsp = m->rsp;
	r->rip = m->rip, r->eflags = m->eflags;
	r->cs = m->cs, r->ss = m->ss;
	r->orig_rax = (u64)-1;
	r->fs_base = get_fs(c);
	r->gs_base = get_gs(c);
	r->ds = r->es = r->fs = r->gs = 0;
}

static void load_regs(struct skas_chan *c, struct k_ucontext *uc)
{
	struct k_sigcontext *m = &uc->mc;
	const struct skas_regs *r = &c->regs;
	m->r8 = r->r8, m->r9 = r->r9, m->r10 = r->r10, m->r11 = r->r11;
	m->r12 = r->r12, m->r13 = r->r13, m->r14 = r->r14, m->r15 = r->r15;
	m->rdi = r->rdi, m->rsi = r->rsi, m->rbp = r->rbp, m->rbx = r->rbx;
	m->rdx = r->rdx, m->rax = r->rax, m->rcx = r->rcx, m->rsp = r->rsp;
	m->rip = r->rip, m->eflags = r->eflags;
	set_fs(c, r->fs_base);
	set_gs(c, r->gs_base);
	/* The host mask of guest mode is the stub's business, whatever a frame said. */
	uc->sigmask = GUEST_MASK;
}

/* Tell the kernel an event or result is in the channel. */
static void post(struct skas_chan *c)
{
	__atomic_add_fetch(&c->evt_seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->kernel_sleeping, __ATOMIC_SEQ_CST))
		stub_sys(SKAS_NOTIFY_NR, SKAS_NOTIFY_DOORBELL, 0, 0, 0, 0, 0);
}

/* Wait for cmd_seq to move past seen: spin (up to budget TSC ticks), then sleep on the
 * futex. The spin yields now and then: another stub of the family may wait for this CPU
 * (one woken from a notification while this one spins for its own reply), and the
 * kernel's reply may depend on it. */
static u32 wait_cmd(struct skas_chan *c, u32 seen, u64 budget)
{
	u64 start = rdtsc(), last = start;
	u32 v;
	for (;;) {
		v = __atomic_load_n(&c->cmd_seq, __ATOMIC_ACQUIRE);
		if (v != seen)
			return v;
		u64 now = rdtsc();
		if (now - start > budget || __atomic_load_n(&c->spin_stop, __ATOMIC_RELAXED))
			break;
		if (now - last > c->spin_tsc / 16) {
			stub_sys(NR_sched_yield, 0, 0, 0, 0, 0, 0);
			last = rdtsc();
		}
		cpu_relax();
	}
	__atomic_store_n(&c->stub_sleeping, 1, __ATOMIC_SEQ_CST);
	while ((v = __atomic_load_n(&c->cmd_seq, __ATOMIC_SEQ_CST)) == seen)
		stub_sys(NR_futex, (long)&c->cmd_seq, FUTEX_WAIT, seen, 0, 0, 0);
	__atomic_store_n(&c->stub_sleeping, 0, __ATOMIC_RELAXED);
	return v;
}

/* clone() for the kernel: the child starts on the boot stack of its slot. */
static long do_clone(struct skas_chan *c, const struct k_ucontext *uc)
{
	u64 flags = c->args[0];
	long slot = (long)c->args[1];
	if (slot < 0 || slot >= SKAS_NSLOTS)
		return -22;
	u64 boot = SKAS_SLOT_ADDR(slot) + SKAS_BOOT_OFF;
	if (flags & CLONE_VM) {
		long r = stub_sys(NR_mmap, (long)boot, SKAS_BOOT_SIZE, PROT_RW,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (r < 0)
			return r;
	}
	u64 top = boot + SKAS_BOOT_SIZE;
	u64 fx = (top - 512) & ~63ULL;
	if (uc->mc.fpstate)
		mcopy((void *)fx, (const void *)uc->mc.fpstate, 512);
	else
		mset((void *)fx, 0, 512);
	u64 *sp = (u64 *)(fx - 32);
	sp[0] = (u64)stub_child_entry;
	sp[1] = (u64)slot;
	sp[2] = fx;
	sp[3] = flags;
	return stub_sys(NR_clone, (long)flags, (long)sp, 0, 0, 0, 0);
}

/* A file mapping: the kernel installs the fd into this process in answer to the
 * notification. It is kept for more mappings of the same file, and closed before any
 * other command: no fd is left when guest code runs. */
static void drop_fd(struct skas_chan *c)
{
	int fd = c->lent_fd;
	if (fd >= 0) {
		c->lent_fd = -1;
		stub_sys(NR_close, fd, 0, 0, 0, 0, 0);
	}
}

static long mmap_fd(struct skas_chan *c)
{
	if (!c->args[4]) {
		drop_fd(c);
		long fd = stub_sys(SKAS_NOTIFY_NR, SKAS_NOTIFY_FD, 0, 0, 0, 0, 0);
		if (fd < 0)
			return fd;
		c->lent_fd = (int)fd;
	}
	return stub_sys(NR_mmap, (long)c->args[0], (long)c->args[1], (long)c->args[2],
			MAP_PRIVATE | MAP_FIXED, c->lent_fd, (long)c->args[5]);
}

/* Do what the kernel says until it resumes the guest; seen: cmd_seq before the event
 * was posted. */
__attribute__((noreturn)) static void serve_from(struct skas_chan *c, struct k_ucontext *uc,
						 u32 seen)
{
	u64 budget = c->spin_tsc;
	for (;;) {
		seen = wait_cmd(c, seen, budget);
		budget = c->spin_tsc;
		if (c->cmd != SKAS_CMD_MMAP_FD)
			drop_fd(c);
		switch (c->cmd) {
		case SKAS_CMD_RESUME:
			load_regs(c, uc);
			stub_sigreturn(uc);
		case SKAS_CMD_OP:
			c->result = stub_sys((long)c->nr, (long)c->args[0], (long)c->args[1],
					     (long)c->args[2], (long)c->args[3], (long)c->args[4],
					     (long)c->args[5]);
			break;
		case SKAS_CMD_MMAP_FD:
			c->result = mmap_fd(c);
			break;
		case SKAS_CMD_CLONE:
			c->result = do_clone(c, uc);
			/* The kernel sets the child up next: leave it the CPU. */
			budget = 0;
			break;
		case SKAS_CMD_EXIT:
			die(0);
		default:
			c->result = -ENOSYS;
			break;
		}
		c->kind = SKAS_EV_OPDONE;
		post(c);
	}
}

/* Report an event, then serve the kernel. */
__attribute__((noreturn)) static void serve(struct skas_chan *c, struct k_ucontext *uc, u32 kind)
{
	u32 seen = __atomic_load_n(&c->cmd_seq, __ATOMIC_ACQUIRE);
	c->kind = kind;
	c->fpstate = uc->mc.fpstate;
	post(c);
	serve_from(c, uc, seen);
}

static void on_sigsys(int sig, struct k_siginfo *si, struct k_ucontext *uc)
{
	struct skas_chan *c = my_chan();
	save_regs(c, uc);
	c->regs.orig_rax = (u64)(long)si->u.sys.syscall;
	c->regs.rax = (u64)-ENOSYS;
	c->signo = 0;
	serve(c, uc, si->code == SYS_SECCOMP ? SKAS_EV_SYSCALL : SKAS_EV_INTERRUPT);
}

static void on_fault(int sig, struct k_siginfo *si, struct k_ucontext *uc)
{
	struct skas_chan *c = my_chan();
	save_regs(c, uc);
	c->signo = sig;
	c->code = si->code;
	c->addr = si->u.addr;
	serve(c, uc, SKAS_EV_FAULT);
}

static void on_intr(int sig, struct k_siginfo *si, struct k_ucontext *uc)
{
	struct skas_chan *c = my_chan();
	save_regs(c, uc);
	c->signo = 0;
	serve(c, uc, SKAS_EV_INTERRUPT);
}

static void set_altstack(long slot)
{
	struct k_stack st = {.ss_sp = SKAS_SLOT_ADDR(slot) + SKAS_CHAN_ALT_OFF,
			     .ss_size = SKAS_CHAN_SIZE - SKAS_CHAN_ALT_OFF};
	if (stub_sys(NR_sigaltstack, (long)&st, 0, 0, 0, 0, 0))
		die(122);
}

/* A signal frame for a thread that starts in serve() rather than in a handler: at the
 * top of its alternate stack, inside the channel, so the kernel sees its FP state. */
static struct k_ucontext *new_frame(long slot, const void *fx)
{
	u64 top = SKAS_SLOT_ADDR(slot) + SKAS_CHAN_SIZE;
	u64 fxa = (top - 512) & ~63ULL;
	if (fx) {
		mcopy((void *)fxa, fx, 512);
		/* Only the legacy area is restored: clear the XSAVE software bytes. */
		mset((char *)fxa + 464, 0, 48);
	} else {
		mset((void *)fxa, 0, 512);
		*(u16 *)fxa = 0x37f;		     /* FCW */
		*(u32 *)((char *)fxa + 24) = 0x1f80; /* MXCSR */
	}
	struct k_ucontext *uc = (struct k_ucontext *)((fxa - sizeof(*uc) - 64) & ~15ULL);
	mset(uc, 0, sizeof(*uc));
	uc->uc_stack.ss_sp = SKAS_SLOT_ADDR(slot) + SKAS_CHAN_ALT_OFF;
	uc->uc_stack.ss_size = SKAS_CHAN_SIZE - SKAS_CHAN_ALT_OFF;
	uc->mc.cs = 0x33;
	uc->mc.ss = 0x2b;
	uc->mc.eflags = 0x202;
	uc->mc.fpstate = fxa;
	uc->sigmask = GUEST_MASK;
	return uc;
}

static void map_chan(long slot, int fd)
{
	struct skas_chan *c = chan_of_slot(slot);
	long r = stub_sys(NR_mmap, (long)c, SKAS_CHAN_SIZE, PROT_RW, MAP_SHARED | MAP_FIXED, fd, 0);
	if (r != (long)c)
		die(120);
	/* A fork child must not see this thread's channel: it gets its own. */
	stub_sys(NR_madvise, (long)c, SKAS_CHAN_SIZE, MADV_DONTFORK, 0, 0, 0);
	stub_sys(NR_close, fd, 0, 0, 0, 0, 0);
}

static void set_handlers(void)
{
	static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
	struct k_sigaction ka = {.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
				 .restorer = (void *)stub_restorer,
				 .mask = STUB_SIGS};
	ka.handler = (void *)on_sigsys;
	if (stub_sys(NR_rt_sigaction, SIGSYS, (long)&ka, 0, 8, 0, 0))
		die(123);
	ka.handler = (void *)on_intr;
	stub_sys(NR_rt_sigaction, SKAS_SIG_INTR, (long)&ka, 0, 8, 0, 0);
	ka.handler = (void *)on_fault;
	for (unsigned i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		stub_sys(NR_rt_sigaction, faults[i], (long)&ka, 0, 8, 0, 0);
}

/* The first thread of an address space, right after exec. The kernel process left the
 * channel at fd SKAS_CHAN_FD (nothing else is open), every signal blocked, no_new_privs
 * and the parent-death signal set. */
void stub_main(u64 *sp)
{
	u64 argc = sp[0];
	u64 *p = sp + 1 + argc + 1;
	while (*p)
		p++;
	u64 hwcap2 = 0;
	for (p++; p[0]; p += 2)
		if (p[0] == AT_HWCAP2)
			hwcap2 = p[1];

	map_chan(0, SKAS_CHAN_FD);
	struct skas_chan *c = chan_of_slot(0);
	if (c->magic != SKAS_CHAN_MAGIC)
		die(121);
	if (stub_sys(NR_mmap, (long)(SKAS_SLOT_ADDR(0) + SKAS_BOOT_OFF), SKAS_BOOT_SIZE, PROT_RW,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) < 0)
		die(120);
	set_altstack(0);
	set_handlers();

	struct {
		unsigned short len;
		void *filter;
	} prog = {(unsigned short)c->prog_len, (char *)c + SKAS_CHAN_PROG_OFF};
	long lfd = stub_sys(NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			    (long)&prog, 0, 0, 0);
	if (lfd < 0)
		die(124);
	c->result = lfd;
	c->addr = hwcap2;
	mset(&c->regs, 0, sizeof(c->regs));
	/* The kernel has no listener yet (it takes it from us next), so no doorbell: it
	 * waits for this first event on the futex of evt_seq. */
	c->kind = SKAS_EV_READY;
	struct k_ucontext *uc = new_frame(0, 0);
	c->fpstate = uc->mc.fpstate;
	u32 seen = __atomic_load_n(&c->cmd_seq, __ATOMIC_ACQUIRE);
	__atomic_add_fetch(&c->evt_seq, 1, __ATOMIC_SEQ_CST);
	stub_sys(NR_futex, (long)&c->evt_seq, FUTEX_WAKE, 1, 0, 0, 0);
	serve_from(c, uc, seen);
}

/* A clone child, on its boot stack: ask the kernel for a channel, then wait in it. */
void stub_child_main(long slot, const void *fx, u64 flags)
{
	stub_sys(NR_prctl, PR_SET_PDEATHSIG, 9, 0, 0, 0, 0);
	if (!(flags & CLONE_VM)) {
		/* A new address space: nothing of the other threads' slots (their channels
		 * are MADV_DONTFORK anyway; this also covers a process that undid that). */
		u64 lo = SKAS_SLOT_ADDR(slot), hi = SKAS_SLOT_ADDR(slot + 1);
		stub_sys(NR_munmap, (long)SKAS_SLOT_BASE, (long)(lo - SKAS_SLOT_BASE), 0, 0, 0, 0);
		stub_sys(NR_munmap, (long)hi, (long)(SKAS_SLOT_ADDR(SKAS_NSLOTS) - hi), 0, 0, 0, 0);
	}
	long fd = stub_sys(SKAS_NOTIFY_NR, SKAS_NOTIFY_HELLO, slot, 0, 0, 0, 0);
	if (fd < 0)
		die(126);
	map_chan(slot, (int)fd);
	set_altstack(slot);
	struct skas_chan *c = chan_of_slot(slot);
	c->result = 0;
	c->addr = 0;
	mset(&c->regs, 0, sizeof(c->regs));
	serve(c, new_frame(slot, fx), SKAS_EV_READY);
}
