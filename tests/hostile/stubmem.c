/* stubmem: attacks on the stub's pages, the host code the kernel runs host syscalls with.
 *
 * The kernel runs a host syscall in a guest address space (mmap, munmap, mprotect,
 * clone) by pointing rip at stub_syscall (`syscall; int3` at 0x7ffff0000000) and letting
 * the thread run, untraced, to the int3. Whoever changes those bytes makes the host run
 * guest code untraced. Guest addresses end at 0x7fffe0000000: for the guest, nothing is
 * mapped above, so every attempt to map, unmap, protect, remap or write there must fail
 * as it would on Linux (a fault, or EFAULT/ENOMEM/EINVAL), and the stub must stay intact.
 *
 *   stubwrite    plain stores into the stub's text, its ELF header page and the vDSO
 *                (SIGSEGV), and a list of the writable pages of the stub's area
 *   stubmprotect mprotect of the stub's pages and the vDSO to writable
 *   stubmap      munmap / mmap MAP_FIXED / MAP_FIXED_NOREPLACE / hints / brk at or
 *                across the guest's top, over the stub
 *   stubmadvise  madvise(MADV_DONTNEED) of the stub
 *   stubmremap   mremap(MREMAP_FIXED) of a guest page full of code onto the stub
 *   stubcopyout  syscalls that make the kernel write to a user buffer (read, pread,
 *                clock_gettime, uname, getrandom, pipe, ...) with a buffer in the stub
 *   sigframe     a signal delivered with rsp in the stub's page, past the guest top,
 *                or non-canonical; and sigaltstack() on the stub: the frame cannot be
 *                written (Linux: SIGSEGV); the kernel must not write it into the stub
 *   scribble     overwrite every writable page of the stub's area, then go on making
 *                syscalls (may die; the kernel must not)
 *   stubbreak    overwrite the stub's `syscall` with ud2 through a kernel write, then
 *                make the kernel use the stub: the kernel must not hang
 *
 * Every "the stub changed" or "the payload ran" is a host escape. */
#include "hostile.h"
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>

/* Pages above the guest top that this program looks at: around the stub, the vDSO (and
 * vvar before it), and the top of the address space (the stub's own host stack). */
struct area {
	uintptr_t lo, hi;
	const char *name;
};
static int stub_areas(struct area *a)
{
	int n = 0;
	a[n++] = (struct area){STUB_ADDR - (1UL << 20), STUB_ADDR + (1UL << 20), "stub"};
	uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
	if (vdso)
		a[n++] = (struct area){vdso - 8 * 4096, vdso + 4 * 4096, "vdso"};
	a[n++] = (struct area){USER_TOP - (1UL << 20), USER_TOP, "top"};
	return n;
}

/* --- stubwrite ------------------------------------------------------------------------ */
static void store_fn(void *p)
{
	*(volatile unsigned char *)p = 0xcc;
}

static void expect_store_faults(uintptr_t a, const char *what)
{
	if (!readable(a)) {
		INFO("stubwrite", "%s at %#lx is not readable (not mapped?)", what,
		     (unsigned long)a);
		return;
	}
	unsigned char before = *(volatile unsigned char *)a;
	int sig = try_call(store_fn, (void *)a);
	if (sig == SIGSEGV || sig == SIGBUS)
		PASS("stubwrite", "store to %s at %#lx -> %s", what, (unsigned long)a,
		     signame(sig));
	else
		FAIL("stubwrite", "store to %s at %#lx -> %s (byte %02x -> %02x)", what,
		     (unsigned long)a, signame(sig), before, *(volatile unsigned char *)a);
}

static void attack_stubwrite(void)
{
	stub_snap();
	expect_store_faults(STUB_ADDR, "stub_syscall");
	expect_store_faults(STUB_ADDR + 2, "the stub's int3");
	expect_store_faults(STUB_ADDR - 4096, "the stub's ELF header page");
	uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
	if (vdso)
		expect_store_faults(vdso + 0x100, "the vDSO");
	/* Which pages above the guest top can guest code write? (It runs natively in the
	 * host process, so the stub's own writable pages are writable to it too.) */
	struct area a[3];
	int n = stub_areas(a);
	for (int k = 0; k < n; k++) {
		int w = 0, r = 0;
		uintptr_t first = 0;
		for (uintptr_t pg = a[k].lo; pg < a[k].hi; pg += 4096) {
			if (!readable(pg))
				continue;
			r++;
			if (writable(pg)) {
				if (!w)
					first = pg;
				w++;
			}
		}
		INFO("stubwrite", "area %s [%#lx, %#lx): %d readable pages, %d writable%s%lx",
		     a[k].name, (unsigned long)a[k].lo, (unsigned long)a[k].hi, r, w,
		     w ? " from " : "", (unsigned long)first);
	}
	if (stub_changed())
		FAIL("stubwrite", "the stub's page changed");
	else
		PASS("stubwrite", "the stub's page is unchanged");
}

/* --- stubmprotect ------------------------------------------------------------------- */
static void attack_stubmprotect(void)
{
	stub_snap();
	uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
	struct {
		uintptr_t a;
		size_t len;
		const char *what;
	} t[] = {
	    {STUB_ADDR, 4096, "the stub"},
	    {STUB_ADDR - 4096, 8192, "the stub and its ELF header"},
	    {GUEST_TOP - 4096, 2 * 4096, "across the guest top"},
	    {vdso, 4096, "the vDSO"},
	    {USER_TOP - 4096, 4096, "the top page"},
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!t[i].a)
			continue;
		long r = raw3(SYS_mprotect, t[i].a, t[i].len, PROT_READ | PROT_WRITE | PROT_EXEC);
		if (r < 0)
			PASS("stubmprotect", "mprotect(%s, RWX) -> %s", t[i].what, errname(r));
		else
			FAIL("stubmprotect", "mprotect(%s at %#lx, RWX) -> %ld", t[i].what,
			     (unsigned long)t[i].a, r);
	}
	expect_store_faults(STUB_ADDR + 2, "the stub after mprotect");
	if (stub_changed())
		FAIL("stubmprotect", "the stub's page changed");
	else
		PASS("stubmprotect", "the stub's page is unchanged");
}

/* --- stubmap ------------------------------------------------------------------------ */
static void stub_still_works(const char *after)
{
	/* An anonymous mmap makes the kernel run a host mmap through the stub. */
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		FAIL("stub-works", "after %s: mmap fails: %s", after, strerror(errno));
		return;
	}
	*(volatile int *)p = 1;
	munmap(p, 4096);
	if (stub_changed())
		FAIL("stub-works", "after %s: the stub's page changed", after);
	else
		PASS("stub-works", "after %s: the stub is intact and mmap works", after);
}

static void attack_stubmap(void)
{
	stub_snap();
	long r = raw2(SYS_munmap, STUB_ADDR, 4096);
	if (r < 0)
		PASS("stubmap", "munmap(stub) -> %s", errname(r));
	else
		FAIL("stubmap", "munmap(stub) -> %ld", r);
	stub_still_works("munmap(stub)");
	r = raw2(SYS_munmap, GUEST_TOP - 4096, 1UL << 30);
	if (r < 0)
		PASS("stubmap", "munmap(across the guest top, 1 GiB) -> %s", errname(r));
	else
		FAIL("stubmap", "munmap(across the guest top, 1 GiB) -> %ld", r);
	stub_still_works("munmap across the top");
	struct {
		uintptr_t a;
		size_t len;
		int flags;
		const char *what;
	} t[] = {
	    {STUB_ADDR, 4096, MAP_FIXED, "MAP_FIXED at the stub"},
	    {STUB_ADDR, 4096, MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE at the stub"},
	    {GUEST_TOP - 4096, 8192, MAP_FIXED, "MAP_FIXED across the guest top"},
	    {GUEST_TOP, 1UL << 30, MAP_FIXED, "MAP_FIXED of the 1 GiB above the guest top"},
	    {STUB_ADDR - 4096, 8192, MAP_FIXED, "MAP_FIXED over the stub's ELF header"},
	    {USER_TOP - 4096, 4096, MAP_FIXED, "MAP_FIXED at the top page"},
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = raw6(SYS_mmap, t[i].a, t[i].len, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS | t[i].flags, -1, 0);
		if (r < 0)
			PASS("stubmap", "mmap(%s) -> %s", t[i].what, errname(r));
		else if (t[i].flags != MAP_FIXED && (unsigned long)r + t[i].len <= GUEST_TOP)
			INFO("stubmap",
			     "mmap(%s) -> %#lx: a guest address elsewhere (Linux "
			     "fails: ENOMEM/EEXIST)",
			     t[i].what, r);
		else
			FAIL("stubmap", "mmap(%s) -> %#lx", t[i].what, r);
		stub_still_works(t[i].what);
	}
	/* A hint in the stub's area: any address is fine, as long as it is the guest's. */
	r = raw6(SYS_mmap, STUB_ADDR, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		 0);
	if (r < 0 || (unsigned long)r + 4096 <= GUEST_TOP)
		PASS("stubmap", "mmap(hint = the stub) -> %#lx (a guest address)", r);
	else
		FAIL("stubmap", "mmap(hint = the stub) -> %#lx, above the guest top", r);
	/* brk up to the stub. */
	long cur = raw1(SYS_brk, 0);
	r = raw1(SYS_brk, STUB_ADDR + 4096);
	if (r == cur)
		PASS("stubmap", "brk(stub) refused (brk stays %#lx)", cur);
	else
		FAIL("stubmap", "brk(stub) -> %#lx (was %#lx)", r, cur);
	stub_still_works("brk(stub)");
}

/* --- stubmadvise -------------------------------------------------------------------- */
static void attack_stubmadvise(void)
{
	stub_snap();
	long r = raw3(SYS_madvise, STUB_ADDR, 4096, MADV_DONTNEED);
	if (r < 0)
		PASS("stubmadvise", "madvise(stub, DONTNEED) -> %s", errname(r));
	else
		FAIL("stubmadvise",
		     "madvise(stub, DONTNEED) -> %ld: the range reached the host "
		     "unchecked (Linux: ENOMEM, nothing is mapped there for the guest)",
		     r);
	r = raw3(SYS_madvise, GUEST_TOP, USER_TOP - GUEST_TOP - 4096, MADV_DONTNEED);
	INFO("stubmadvise", "madvise(everything above the guest top, DONTNEED) -> %s", errname(r));
	stub_still_works("madvise");
}

/* --- stubmremap --------------------------------------------------------------------- */
static void attack_stubmremap(void)
{
	stub_snap();
	esc_arm("stubmremap");
	unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		FAIL("stubmremap", "mmap: %s", strerror(errno));
		return;
	}
	memset(page, 0xcc, 4096);
	memcpy(page, esc_payload_start, esc_payload_end - esc_payload_start);
	/* The kernel runs the host mremap at stub_syscall; the page it returns to is ours. */
	long r =
	    raw6(SYS_mremap, (long)page, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, STUB_ADDR, 0);
	if (r < 0)
		PASS("stubmremap", "mremap(guest page -> stub, FIXED) -> %s", errname(r));
	else
		FAIL("stubmremap", "mremap(guest page -> stub, FIXED) -> %#lx", r);
	esc_trigger();
	if (!esc_report("mremap onto the stub"))
		PASS("stubmremap", "the payload never ran");
	/* And growing a mapping that ends at the guest top, in place. */
	r = raw6(SYS_mmap, GUEST_TOP - 4096, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (r == (long)(GUEST_TOP - 4096)) {
		long g = raw4(SYS_mremap, r, 4096, 2 * 4096, 0);
		if (g < 0)
			PASS("stubmremap", "mremap growing past the guest top -> %s", errname(g));
		else
			FAIL("stubmremap", "mremap growing past the guest top -> %#lx", g);
		long m = raw6(SYS_mremap, r, 4096, 1UL << 32, MREMAP_MAYMOVE | MREMAP_FIXED,
			      GUEST_TOP - 4096, 0);
		if (m < 0)
			PASS("stubmremap", "mremap(FIXED, 4 GiB at the guest top) -> %s",
			     errname(m));
		else
			FAIL("stubmremap", "mremap(FIXED, 4 GiB at the guest top) -> %#lx", m);
	} else {
		INFO("stubmremap", "mmap of the guest's last page -> %s", errname(r));
	}
	stub_still_works("mremap");
}

/* --- stubcopyout -------------------------------------------------------------------- */
/* Each makes the kernel write to a user buffer: with the buffer in the stub's page it must
 * fail with EFAULT (Linux: the range is not mapped), not write into the stub. */
static void attack_stubcopyout(void)
{
	stub_snap();
	esc_arm("stubcopyout");
	size_t plen = esc_payload_end - esc_payload_start;
	int pfd[2];
	if (pipe(pfd)) {
		FAIL("stubcopyout", "pipe: %s", strerror(errno));
		return;
	}
	/* The payload from offset 2 on (offset 0 keeps the stub's own syscall). */
	if (write(pfd[1], esc_payload_start + 2, plen - 2) != (ssize_t)(plen - 2))
		FAIL("stubcopyout", "write to pipe: %s", strerror(errno));
	long r = raw3(SYS_read, pfd[0], STUB_ADDR + 2, plen - 2);
	if (r == -EFAULT)
		PASS("stubcopyout", "read(pipe, stub) -> EFAULT");
	else
		FAIL("stubcopyout", "read(pipe, stub + 2, %zu) -> %s (want -EFAULT)", plen - 2,
		     errname(r));
	esc_trigger();
	if (!esc_report("read() into the stub"))
		PASS("stubcopyout", "the payload never ran");

	/* Other kernel writes to user memory, each aimed into the stub's page (past the
	 * code, so that a write that lands does not break the stub for the checks after). */
	uintptr_t b = STUB_ADDR + 0x800;
	struct {
		const char *what;
		long nr, a1, a2, a3, a4;
	} t[] = {
	    {"clock_gettime", SYS_clock_gettime, CLOCK_MONOTONIC, b, 0, 0},
	    {"gettimeofday", SYS_gettimeofday, b, 0, 0, 0},
	    {"uname", SYS_uname, b, 0, 0, 0},
	    {"getrandom", SYS_getrandom, b, 64, 0, 0},
	    {"pipe", SYS_pipe, b, 0, 0, 0},
	    {"getcwd", SYS_getcwd, b, 256, 0, 0},
	    {"fstat", SYS_fstat, 1, b, 0, 0},
	    {"sysinfo", SYS_sysinfo, b, 0, 0, 0},
	    {"rt_sigaction(old)", SYS_rt_sigaction, SIGUSR2, 0, b, 8},
	    {"sigaltstack(old)", SYS_sigaltstack, 0, b, 0, 0},
	    {"getrlimit", SYS_getrlimit, RLIMIT_STACK, b, 0, 0},
	    {"times", SYS_times, b, 0, 0, 0},
	    {"wait4(status)", SYS_wait4, -1, b, WNOHANG, 0},
	    {"pread", SYS_pread64, 0, b, 16, 0},
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].nr == SYS_pread64) {
			int fd = open("/hostile/stubmem", O_RDONLY);
			t[i].a1 = fd;
		}
		r = raw4(t[i].nr, t[i].a1, t[i].a2, t[i].a3, t[i].a4);
		if (t[i].nr == SYS_pread64 && t[i].a1 >= 0)
			close(t[i].a1);
		if (r == -EFAULT)
			PASS("stubcopyout", "%s(buffer in the stub) -> EFAULT", t[i].what);
		else if (r < 0)
			PASS("stubcopyout", "%s(buffer in the stub) -> %s", t[i].what, errname(r));
		else
			FAIL("stubcopyout",
			     "%s(buffer in the stub) -> %ld: the kernel wrote into "
			     "the stub's page",
			     t[i].what, r);
	}
	if (stub_changed())
		FAIL("stubcopyout", "the stub's page changed (kernel writes landed in it)");
	else
		PASS("stubcopyout", "the stub's page is unchanged");
}

/* --- sigframe ----------------------------------------------------------------------- */
/* sigframe_go(rsp): switch to rsp, kill(getpid(), SIGUSR1), switch back. The frame for the
 * handler would go just below rsp. sigframe_handler runs no instruction that touches the
 * stack before it moves to a stack of its own. */
__attribute__((used)) char sf_stack[65536] __attribute__((aligned(16)));
__attribute__((used)) unsigned long sf_saved_rsp, sf_handler_rsp;
void sigframe_go(unsigned long rsp);
void sigframe_handler(void);
__asm__(".pushsection .text\n"
	".globl sigframe_go, sigframe_handler\n"
	"sigframe_go:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	mov %rsp, sf_saved_rsp(%rip)\n"
	"	mov %rdi, %rsp\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"	mov %rax, %rdi\n"
	"	mov $62, %eax\n"
	"	mov $10, %esi\n"
	"	syscall\n"
	"	mov sf_saved_rsp(%rip), %rsp\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"
	"sigframe_handler:\n"
	"	mov %rsp, sf_handler_rsp(%rip)\n"
	"	movabs $sf_stack + 65536 - 8, %rsp\n"
	"	jmp sigframe_handler_c\n"
	".popsection\n");

__attribute__((used)) void sigframe_handler_c(void)
{
	FAIL("sigframe",
	     "the handler ran with its frame at %#lx (written by the kernel into "
	     "memory the guest cannot write)",
	     sf_handler_rsp);
	if (stub_changed())
		FAIL("sigframe", "the stub's page changed");
	child_done();
}

static void sigframe_fn(void *p)
{
	sigframe_go((unsigned long)p);
}

static void one_sigframe(unsigned long rsp, const char *what, int altstack)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = (void (*)(int))sigframe_handler;
	sa.sa_flags = altstack ? SA_ONSTACK : 0;
	sigaction(SIGUSR1, &sa, NULL);
	int sig = try_call(sigframe_fn, (void *)rsp);
	/* Linux forces SIGSEGV, which this process's handler (on its alternate stack) may
	 * catch; a kernel that kills at once is as good. */
	if (sig == SIGSEGV)
		PASS("sigframe", "%s: frame not written, SIGSEGV (code %ld)", what, caught_code);
	else
		FAIL("sigframe", "%s: %s, want SIGSEGV", what, signame(sig));
	signal(SIGUSR1, SIG_DFL);
}

/* Each case in a child of its own: a handler that runs ends that child. */
static void sigframe_case(int which)
{
	static const struct {
		unsigned long rsp;
		const char *what;
	} rsps[] = {
	    {STUB_ADDR + 0xf00, "rsp in the stub's page"},
	    {GUEST_TOP + 0x10000, "rsp past the guest top"},
	    {0x800000001000UL, "rsp non-canonical"},
	    {0x1000, "rsp = 0x1000"},
	};
	if (which < 4) {
		one_sigframe(rsps[which].rsp, rsps[which].what, 0);
		return;
	}
	/* sigaltstack on the stub: Linux takes any address; the delivery then fails and
	 * the process dies of SIGSEGV. */
	stack_t ss = {.ss_sp = (void *)STUB_ADDR, .ss_size = 4096, .ss_flags = 0};
	if (sigaltstack(&ss, NULL)) {
		PASS("sigframe", "sigaltstack(stub) refused: %s", strerror(errno));
		return;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = (void (*)(int))sigframe_handler;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGSEGV, SIG_DFL);
	raise(SIGUSR1);
	FAIL("sigframe", "sigaltstack(stub): SIGUSR1 was not delivered");
}

static void attack_sigframe(void)
{
	stub_snap();
	for (int which = 0; which < 5; which++) {
		pid_t p = fork();
		if (p == 0) {
			sigframe_case(which);
			child_done();
		}
		int st = 0;
		waitpid(p, &st, 0);
		if (which == 4 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
			PASS("sigframe",
			     "sigaltstack(stub) + SA_ONSTACK handler: killed by SIGSEGV");
		else if (which == 4 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			FAIL("sigframe",
			     "sigaltstack(stub) case ended with status %#x, want SIGSEGV", st);
		else if (which < 4 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
			PASS("sigframe", "case %d: frame not written, killed by SIGSEGV", which);
		else if (which < 4 && !WIFEXITED(st))
			FAIL("sigframe", "case %d ended with status %#x", which, st);
	}
}

/* --- scribble ----------------------------------------------------------------------- */
static void scribble_fn(void *p)
{
	memset(p, 0xa5, 4096);
}

static void attack_scribble(void)
{
	struct area a[3];
	int n = stub_areas(a), pages = 0;
	for (int k = 0; k < n; k++)
		for (uintptr_t pg = a[k].lo; pg < a[k].hi; pg += 4096)
			if (readable(pg) && writable(pg) && try_call(scribble_fn, (void *)pg) == 0)
				pages++;
	INFO("scribble", "overwrote %d writable pages above the guest top", pages);
	/* Go on: syscalls that use the stub (mmap, fork) and plain ones. */
	stub_still_works("scribble");
	pid_t p = fork();
	if (p == 0)
		_exit(7);
	int st = 0;
	if (p > 0)
		waitpid(p, &st, 0);
	if (p > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7)
		PASS("scribble", "fork + wait still work");
	else
		INFO("scribble", "fork after scribbling: pid %d status %#x", p, st);
}

/* --- stubbreak ---------------------------------------------------------------------- */
static void attack_stubbreak(void)
{
	static const unsigned char ud2[2] = {0x0f, 0x0b};
	int pfd[2];
	if (pipe(pfd) || write(pfd[1], ud2, 2) != 2) {
		FAIL("stubbreak", "pipe: %s", strerror(errno));
		return;
	}
	long r = raw3(SYS_read, pfd[0], STUB_ADDR, 2);
	if (r == -EFAULT)
		PASS("stubbreak", "read(pipe, stub, 2) -> EFAULT");
	else
		FAIL("stubbreak", "read(pipe, stub, 2) -> %s: the stub's syscall is now ud2",
		     errname(r));
	/* The kernel's next host syscall here starts at the (broken) stub. */
	INFO("stubbreak", "mmap now (the kernel must not hang)");
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	INFO("stubbreak", "mmap -> %p", m);
}

static const struct attack attacks[] = {
    {"stubwrite", attack_stubwrite, END_EXIT0, 0, 60,
     "plain stores into the stub, its ELF header and the vDSO"},
    {"stubmprotect", attack_stubmprotect, END_EXIT0, 0, 60,
     "mprotect the stub / vDSO / top page writable"},
    {"stubmap", attack_stubmap, END_EXIT0, 0, 60,
     "munmap / mmap MAP_FIXED / brk over the stub and across the guest top"},
    {"stubmadvise", attack_stubmadvise, END_EXIT0, 0, 60,
     "madvise(DONTNEED) of the stub: ENOMEM, as for any range the guest has not mapped"},
    {"stubmremap", attack_stubmremap, END_EXIT0, 0, 60,
     "mremap(MREMAP_FIXED) a page of guest code onto the stub"},
    {"stubcopyout", attack_stubcopyout, END_EXIT0, 0, 60,
     "syscalls whose output buffer is in the stub's page (read, uname, ...)"},
    {"sigframe", attack_sigframe, END_EXIT0, 0, 60,
     "signal frames aimed at the stub, past the guest top, non-canonical"},
    {"scribble", attack_scribble, END_ANY, 0, 60,
     "overwrite every writable page above the guest top, then keep going"},
    {"stubbreak", attack_stubbreak, END_ANY, 0, 30,
     "break the stub through a kernel write, then make the kernel use it", 1},
};

int main(int argc, char **argv)
{
	return hostile_main(argc, argv, attacks, sizeof(attacks) / sizeof(attacks[0]));
}
