/* regs: weird register states handed to the kernel. The guest may die of them (a signal,
 * as on Linux); the guest kernel must not, and vmlinux must exit with init's status.
 *
 *   sigreturn  rt_sigreturn frames that resume in the stub (rip = stub_syscall with
 *              forged rax: getpid / openat(secret) / mkdir(host path)), at non-canonical
 *              and kernel addresses, with cs/ss of ring 0 or 32-bit code, with IOPL, TF,
 *              NT, VM in eflags, with a non-canonical rsp
 *   rsp        syscalls made with rsp non-canonical, in the stub's page, zero
 *   fsbase     fs/gs base at kernel / non-canonical addresses (arch_prctl, wrfsbase),
 *              then syscalls: the kernel passes them to the host with the registers
 *   init:*     (run as init itself, not in a child; vmlinux must exit 128+signal):
 *              init:stubwrite  store into the stub (SIGSEGV -> exit 139)
 *              init:int3       jump to the stub's int3 (SIGTRAP -> exit 133)
 *              init:badrsp     signal with rsp non-canonical (SIGSEGV -> exit 139)
 *              init:fsbase     wrfsbase(kernel address), then a syscall (exit 0 or a
 *                              signal: whatever the guest kernel does, it must not hang) */
#include "hostile.h"
#include <asm/prctl.h>
#include <sys/auxv.h>

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE 2
#endif

/* --- sigreturn ---------------------------------------------------------------------- */
/* The frame rt_sigreturn reads: pretcode, then the ucontext (kernel layout; glibc's
 * ucontext_t begins the same way). rsp at the syscall points at uc (pretcode popped). */
struct frame {
	uint64_t pretcode;
	ucontext_t uc;
};
static struct frame fr __attribute__((aligned(64)));
static char scratch_stack[65536] __attribute__((aligned(16)));

static void do_sigreturn(void *p)
{
	(void)p;
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "mov $15, %%eax\n\t"
			 "syscall\n\t"
			 "ud2"
			 :
			 : "r"(&fr.uc)
			 : "memory");
}

static void frame_init(uintptr_t rip, long rax)
{
	memset(&fr, 0, sizeof(fr));
	greg_t *g = fr.uc.uc_mcontext.gregs;
	g[REG_RIP] = rip;
	g[REG_RAX] = rax;
	g[REG_RSP] = (greg_t)(scratch_stack + sizeof(scratch_stack) - 64);
	g[REG_EFL] = 0x202;
	/* cs 0x33, ss 0x2b in the CSGSFS word as Linux lays it out: cs | gs<<16 | fs<<32 |
	 * ss<<48. */
	g[REG_CSGSFS] = 0x33 | (0x2bUL << 48);
	fr.uc.uc_mcontext.fpregs = NULL;
	sigemptyset(&fr.uc.uc_sigmask);
}

static char low_label_code[16] __attribute__((aligned(16)));

struct sr_case {
	const char *what;
	uintptr_t rip;
	long rax, rdi, rsi, rdx;
	uint64_t efl, csgsfs, rsp;
	int want_sig; /* 0: any signal */
	int check;    /* 1: rax must be the guest pid; 2: rax must be an error */
};

static void sr_case_fn(void *p)
{
	struct sr_case *c = p;
	catch_setup();
	stub_snap();
	frame_init(c->rip, c->rax);
	greg_t *g = fr.uc.uc_mcontext.gregs;
	g[REG_RDI] = c->rdi;
	g[REG_RSI] = c->rsi;
	g[REG_RDX] = c->rdx;
	if (c->efl)
		g[REG_EFL] = c->efl;
	if (c->csgsfs)
		g[REG_CSGSFS] = c->csgsfs;
	if (c->rsp)
		g[REG_RSP] = c->rsp;
	int sig = try_call(do_sigreturn, NULL);
	long r = (long)caught_rax;
	if (!sig) {
		FAIL("sigreturn", "%s: came back without a signal", c->what);
		return;
	}
	if (c->want_sig && sig != c->want_sig && !(c->want_sig == SIGSEGV && sig == SIGBUS))
		FAIL("sigreturn", "%s: %s at rip %#lx, want %s", c->what, signame(sig),
		     (unsigned long)caught_rip, signame(c->want_sig));
	else if (c->check == 1 && r != getpid())
		FAIL("sigreturn", "%s: rax %ld after the stub's syscall, the guest pid is %d",
		     c->what, r, getpid());
	else if (c->check == 2 && r >= 0)
		FAIL("sigreturn", "%s: rax %ld after the stub's syscall, want an error", c->what,
		     r);
	else
		PASS("sigreturn", "%s: %s at rip %#lx, rax %s", c->what, signame(sig),
		     (unsigned long)caught_rip, errname(r));
	if (stub_changed())
		FAIL("sigreturn", "%s: the stub's page changed", c->what);
}

static void attack_sigreturn(void)
{
	/* Code for the eflags cases: cli (faults unless IOPL 3), then int3. */
	static const unsigned char cli_int3[] = {0xfa, 0xcc, 0xcc, 0xcc};
	memcpy(low_label_code, cli_int3, sizeof(cli_int3));
	char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(code, cli_int3, sizeof(cli_int3));
	uintptr_t cli = (uintptr_t)code, int3 = (uintptr_t)code + 1;
	struct sr_case cases[] = {
	    {"rip = stub_syscall, rax = getpid", STUB_ADDR, SYS_getpid, 0, 0, 0, 0, 0, 0, 0, 1},
	    {"rip = stub_syscall, rax = openat(secret)", STUB_ADDR, SYS_openat, AT_FDCWD,
	     (long)secret_path, O_RDONLY, 0, 0, 0, 0, 2},
	    {"rip = stub_syscall, rax = mkdir(host path)", STUB_ADDR, SYS_mkdir,
	     (long)pwn_path("sigreturn-mkdir"), 0755, 0, 0, 0, 0, 0, 0},
	    {"rip = the stub's int3", STUB_ADDR + 2, 0, 0, 0, 0, 0, 0, 0, SIGTRAP, 0},
	    {"rip non-canonical", 0x800000000000UL, 0, 0, 0, 0, 0, 0, 0, SIGSEGV, 0},
	    {"rip = a kernel address", 0xffffffff81000000UL, 0, 0, 0, 0, 0, 0, 0, SIGSEGV, 0},
	    {"rip = past the guest top", GUEST_TOP + 0x1000, 0, 0, 0, 0, 0, 0, 0, SIGSEGV, 0},
	    {"cs = 0x10 (ring 0), ss = 0x18", int3, 0, 0, 0, 0, 0, 0x10 | (0x18UL << 48), 0, 0, 0},
	    {"cs = 0x23 (32-bit)", int3, 0, 0, 0, 0, 0, 0x23 | (0x2bUL << 48), 0, 0, 0},
	    {"eflags IOPL 3, then cli", cli, 0, 0, 0, 0, 0x3202, 0, 0, SIGSEGV, 0},
	    {"eflags TF", int3, 0, 0, 0, 0, 0x302, 0, 0, SIGTRAP, 0},
	    {"eflags NT | VM | VIF | VIP | ID", int3, 0, 0, 0, 0, 0x3a4202, 0, 0, SIGTRAP, 0},
	    {"rsp non-canonical, then a push", cli + 2, 0, 0, 0, 0, 0, 0, 0x800000000000UL, 0, 0},
	};
	/* "then a push": the int3 right after needs no stack, but the signal frame does. */
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		sub(cases[i].what, sr_case_fn, &cases[i]);
}

/* --- rsp ---------------------------------------------------------------------------- */
__attribute__((used)) unsigned long rsp_saved;
static long syscall_with_rsp(unsigned long rsp, long nr)
{
	long ret;
	__asm__ volatile("mov %%rsp, rsp_saved(%%rip)\n\t"
			 "mov %1, %%rsp\n\t"
			 "mov %2, %%rax\n\t"
			 "syscall\n\t"
			 "mov rsp_saved(%%rip), %%rsp"
			 : "=a"(ret)
			 : "r"(rsp), "r"(nr)
			 : "rcx", "r11", "memory");
	return ret;
}

static void attack_rsp(void)
{
	unsigned long rsps[] = {
	    0x800000000000UL, 0xffff800000000000UL, STUB_ADDR + 0x800, GUEST_TOP + 0x1000, 0, 1};
	for (unsigned i = 0; i < sizeof(rsps) / sizeof(rsps[0]); i++) {
		long r = syscall_with_rsp(rsps[i], SYS_getpid);
		if (r == getpid())
			PASS("rsp", "getpid with rsp %#lx -> %ld", rsps[i], r);
		else
			FAIL("rsp", "getpid with rsp %#lx -> %s, want %d", rsps[i], errname(r),
			     getpid());
	}
}

/* --- fsbase ------------------------------------------------------------------------- */
struct fs_case {
	const char *what;
	int how; /* 0 arch_prctl FS, 1 arch_prctl GS, 2 wrfsbase, 3 wrgsbase */
	unsigned long val;
};

static void wrfs(void *p)
{
	__asm__ volatile("wrfsbase %0" ::"r"(*(unsigned long *)p));
}
static void wrgs(void *p)
{
	__asm__ volatile("wrgsbase %0" ::"r"(*(unsigned long *)p));
}

static void fs_case_fn(void *p)
{
	struct fs_case *c = p;
	catch_setup();
	unsigned long old_fs;
	raw2(SYS_arch_prctl, ARCH_GET_FS, &old_fs);
	if (c->how < 2) {
		long r = raw2(SYS_arch_prctl, c->how == 0 ? ARCH_SET_FS : ARCH_SET_GS, c->val);
		if (r < 0 && c->val >= USER_TOP)
			PASS("fsbase", "%s -> %s", c->what, errname(r));
		else if (r < 0)
			INFO("fsbase", "%s -> %s", c->what, errname(r));
		else if (c->val >= USER_TOP)
			FAIL("fsbase", "%s -> %ld, want EPERM", c->what, r);
	} else {
		if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)) {
			INFO("fsbase", "%s: no FSGSBASE here", c->what);
			return;
		}
		int sig = try_call(c->how == 2 ? wrfs : wrgs, &c->val);
		INFO("fsbase", "%s -> %s", c->what, signame(sig));
	}
	/* Syscalls with it in place (no libc: fs may point anywhere now). */
	long pid = raw0(SYS_getpid);
	long w = raw3(SYS_write, 1, "INFO fsbase: a write with it in place\n", 38);
	/* Put fs back before libc runs again. */
	raw2(SYS_arch_prctl, ARCH_SET_FS, old_fs);
	if (c->how == 3 || c->how == 1)
		raw2(SYS_arch_prctl, ARCH_SET_GS, 0);
	if (pid > 0 && w == 38)
		PASS("fsbase", "%s: syscalls still work (getpid %ld)", c->what, pid);
	else
		INFO("fsbase", "%s: getpid %s, write %s", c->what, errname(pid), errname(w));
}

static void attack_fsbase(void)
{
	struct fs_case cases[] = {
	    {"arch_prctl(SET_FS, non-canonical)", 0, 0x800000000000UL},
	    {"arch_prctl(SET_FS, kernel address)", 0, 0xffff880000000000UL},
	    {"arch_prctl(SET_GS, kernel address)", 1, 0xffff880000000000UL},
	    {"arch_prctl(SET_FS, the stub)", 0, STUB_ADDR},
	    {"arch_prctl(SET_FS, top of user space)", 0, USER_TOP - 8},
	    {"wrfsbase(kernel address)", 2, 0xffff880000000000UL},
	    {"wrgsbase(kernel address)", 3, 0xffff880000000000UL},
	    {"wrfsbase(non-canonical)", 2, 0x800000000000UL},
	    {"wrfsbase(top of user space)", 2, USER_TOP - 8},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		sub(cases[i].what, fs_case_fn, &cases[i]);
	/* Many times over: whatever the kernel does with such a thread must not leak. */
	struct fs_case k = {"wrfsbase(kernel address) x200", 2, 0xffff880000000000UL};
	int killed = 0, done = 0;
	for (int i = 0; i < 200; i++) {
		pid_t p = fork();
		if (p == 0) {
			catch_setup();
			if (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)
				try_call(wrfs, &k.val);
			raw0(SYS_getpid);
			raw1(SYS_exit_group, 0);
		}
		int st = 0;
		if (p > 0 && waitpid(p, &st, 0) == p) {
			done++;
			killed += WIFSIGNALED(st);
		}
	}
	INFO("fsbase", "200 children with fs base at a kernel address: %d waited for, %d killed",
	     done, killed);
	if (done == 200)
		PASS("fsbase", "all 200 ended and were reaped");
	else
		FAIL("fsbase", "only %d of 200 children could be waited for", done);
	out("HOSTILE-COUNT-HOST-PROCESSES-NOW");
	sleep(3);
}

/* --- as init ------------------------------------------------------------------------ */
static void init_stubwrite(void)
{
	*(volatile char *)STUB_ADDR = 0;
}
static void init_int3(void)
{
	((void (*)(void))(STUB_ADDR + 2))();
}
static void init_badrsp(void)
{
	signal(SIGUSR1, (void (*)(int))init_badrsp);
	syscall_with_rsp(0x800000000000UL, SYS_getpid);
	__asm__ volatile("mov %%rsp, rsp_saved(%%rip)\n\t"
			 "mov $0x800000000000, %%rsp\n\t"
			 "mov $39, %%eax\n\t"
			 "syscall\n\t"
			 "mov %%rax, %%rdi\n\t"
			 "mov $10, %%esi\n\t"
			 "mov $62, %%eax\n\t"
			 "syscall\n\t"
			 "mov rsp_saved(%%rip), %%rsp" ::
			     : "rax", "rdi", "rsi", "rcx", "r11", "memory");
}
static void init_fsbase(void)
{
	unsigned long v = 0xffff880000000000UL;
	if (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)
		__asm__ volatile("wrfsbase %0" ::"r"(v));
	raw0(SYS_getpid);
	raw1(SYS_exit_group, 0);
}

static const struct attack attacks[] = {
    {"sigreturn", attack_sigreturn, END_EXIT0, 0, 60,
     "rt_sigreturn into the stub, ring 0, non-canonical, odd eflags"},
    {"rsp", attack_rsp, END_EXIT0, 0, 60, "syscalls with a wild rsp"},
    {"fsbase", attack_fsbase, END_EXIT0, 0, 90,
     "fs/gs base at kernel and non-canonical addresses, then syscalls"},
};

int main(int argc, char **argv)
{
	/* init:NAME runs in init itself: the death of init is the point. */
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "init:", 5))
			continue;
		setvbuf(stdout, NULL, _IONBF, 0);
		const char *n = argv[i] + 5;
		out("INFO init: %s as pid %d; vmlinux must exit with 128+signal or 0", n, getpid());
		if (!strcmp(n, "stubwrite"))
			init_stubwrite();
		else if (!strcmp(n, "int3"))
			init_int3();
		else if (!strcmp(n, "badrsp"))
			init_badrsp();
		else if (!strcmp(n, "fsbase"))
			init_fsbase();
		out("INFO init: %s: survived", n);
		return 0;
	}
	return hostile_main(argc, argv, attacks, sizeof(attacks) / sizeof(attacks[0]));
}
