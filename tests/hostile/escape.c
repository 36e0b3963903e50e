/* escape: raw instructions that try to make a syscall the host runs.
 *
 *   rawsys    the `syscall` instruction itself: open the host secret (by its host path,
 *             through /proc/self/root, with ../..), create host paths, x32 and bogus
 *             numbers, host-only syscalls (io_uring, bpf, perf, userfaultfd, handles,
 *             pidfd of a host process, mount of a host filesystem)
 *   stubjump  every `syscall` instruction found in the stub's area and in the vDSO, jumped
 *             to with forged registers (openat the secret, mkdir a host path, kill the host
 *             sentinel, getpid/getppid that would give the host's answer)
 *   int80     `int $0x80` from 64-bit code with eax = ia32 getpid (20) and ebx = a host
 *             path: a tracer that nullifies it into x86-64 getpid (39) would run ia32
 *             mkdir(ebx) on the host; also `sysenter`, `int $0x81`
 *   compat32  a far jump to the 32-bit code segment 0x23, then `int $0x80`, `syscall`
 *             and `sysenter` from 32-bit code (same forged ia32 registers)
 *   vsyscall  calls into the legacy vsyscall page (the host kernel emulates it)
 *   privinsn  privileged and odd instructions (hlt, cli, in/out, rdmsr, lgdt, mov cr0,
 *             swapgs, iretq to ring 0, int1/int3/into, ud2): each must end in a signal
 *
 * Success for every one: nothing happens on the host (the case checks its side too),
 * the guest gets errors or signals, and the guest kernel keeps running. */
#include "hostile.h"
#include <sys/auxv.h>
#include <sys/mount.h>
#include <sys/time.h>

/* --- rawsys ------------------------------------------------------------------------- */
/* A raw syscall that may end in a signal instead of returning (it should not: Linux
 * returns ENOSYS for a number it does not know). Returns the result, or sets *sig. */
struct rawcall {
	long nr, a1, a2, a3, a4, ret;
};
static void rawcall_fn(void *p)
{
	struct rawcall *c = p;
	c->ret = raw4(c->nr, c->a1, c->a2, c->a3, c->a4);
}
static long tryraw(long nr, long a1, long a2, long a3, long a4, int *sig)
{
	struct rawcall c = {nr, a1, a2, a3, a4, 0};
	*sig = try_call(rawcall_fn, &c);
	return c.ret;
}

static void expect_fail_open(const char *what, long r)
{
	if (r < 0) {
		PASS("rawsys-open", "%s -> %s", what, errname(r));
		return;
	}
	char buf[64] = {0};
	long n = raw3(SYS_read, r, buf, sizeof(buf) - 1);
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = ' ';
	FAIL("rawsys-open", "%s -> fd %ld, read %ld bytes: [%s]", what, r, n, buf);
	raw1(SYS_close, r);
}

static void attack_rawsys(void)
{
	char p[600];
	check_secret_invisible("rawsys");
	expect_fail_open("openat(AT_FDCWD, secret)",
			 raw4(SYS_openat, AT_FDCWD, secret_path, O_RDONLY, 0));
	expect_fail_open("open(secret)", raw3(SYS_open, secret_path, O_RDONLY, 0));
	long r = raw4(SYS_openat, AT_FDCWD, secret_path, O_RDONLY, 0);
	if (r == -ENOENT)
		PASS("rawsys-enoent", "openat of the host secret path fails with ENOENT");
	else
		FAIL("rawsys-enoent", "openat of the host secret path: %s, want -ENOENT",
		     errname(r));
	const char *via[] = {"/proc/self/root", "/proc/1/root", "/proc/self/cwd/../../../../..",
			     "/../../../../..", "/proc/self/fd/../../../../../.."};
	for (unsigned i = 0; i < sizeof(via) / sizeof(via[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", via[i], secret_path);
		expect_fail_open(p, raw4(SYS_openat, AT_FDCWD, p, O_RDONLY, 0));
	}
	/* x32 syscall numbers (bit 30), and numbers no table has. */
	expect_fail_open("x32 openat(secret)",
			 raw4(0x40000000 | SYS_openat, AT_FDCWD, secret_path, O_RDONLY, 0));
	long x32mk = raw2(0x40000000 | SYS_mkdir, pwn_path("x32-mkdir"), 0755);
	INFO("rawsys-x32", "x32 mkdir(host path) -> %s (the host must have no such path)",
	     errname(x32mk));
	long bogus[] = {-1,
			335,
			1000,
			0x7fffffff,
			0xffffffffL,
			0x80000000L | SYS_openat,
			0x100000000L | SYS_openat};
	for (unsigned i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		int sig;
		r = tryraw(bogus[i], AT_FDCWD, (long)secret_path, O_RDONLY, 0, &sig);
		if (sig)
			FAIL("rawsys-bogus-nr",
			     "syscall %#lx -> %s (code %ld), Linux returns ENOSYS "
			     "(programs probe for syscalls this way)",
			     bogus[i], signame(sig), caught_code);
		else if (r < 0)
			PASS("rawsys-bogus-nr", "syscall %#lx -> %s", bogus[i], errname(r));
		else
			FAIL("rawsys-bogus-nr", "syscall %#lx (not a syscall) -> %ld", bogus[i], r);
	}
	/* Every unassigned number (x86-64 leaves 335..423 free; the table ends before 470):
	 * ENOSYS, as programs that probe for new syscalls expect. */
	int nsig = 0, nbad = 0, first_sig = -1, first_bad = -1, the_sig = 0;
	for (long nr = 335; nr < 700; nr++) {
		if (nr == 424)
			nr = 470;
		int sig;
		r = tryraw(nr, -1, 0, 0, 0, &sig);
		if (sig) {
			if (!nsig++) {
				first_sig = (int)nr;
				the_sig = sig;
			}
		} else if (r != -ENOSYS) {
			/* 336 is the host's uprobe syscall (Linux 6.16+): it runs before any
			 * seccomp filter and, outside a uprobe trampoline, only returns ENXIO. A
			 * seccomp platform cannot see it; it reaches nothing. */
			if (nr == 336 && r == -ENXIO) {
				INFO("rawsys-uprobe",
				     "syscall 336 -> ENXIO (the host's uprobe call, "
				     "unseen by seccomp, harmless)");
				continue;
			}
			if (!nbad++)
				first_bad = (int)nr;
		}
	}
	if (nsig)
		FAIL("rawsys-enosys",
		     "%d unassigned syscall numbers ended in a signal (the first: %d, "
		     "%s), want -ENOSYS",
		     nsig, first_sig, signame(the_sig));
	else if (nbad)
		FAIL("rawsys-enosys",
		     "%d unassigned syscall numbers did not return -ENOSYS (the "
		     "first: %d)",
		     nbad, first_bad);
	else
		PASS("rawsys-enosys", "syscalls 335..423 and 470..699 all return -ENOSYS");
	/* Creating host paths: in the guest this is the guest's own /tmp (or ENOENT). */
	r = raw4(SYS_openat, AT_FDCWD, pwn_path("rawsys-creat"), O_CREAT | O_WRONLY, 0644);
	INFO("rawsys-creat", "openat(O_CREAT host path) -> %s (a guest file if it worked)",
	     errname(r));
	if (r >= 0)
		raw1(SYS_close, r);
	r = raw2(SYS_mkdir, pwn_path("rawsys-mkdir"), 0755);
	INFO("rawsys-mkdir", "mkdir(host path) -> %s (a guest directory if it worked)", errname(r));
	/* Relative names: the host process behind this address space has a host cwd. */
	const char *base = strrchr(pwn_prefix, '/');
	base = base ? base + 1 : pwn_prefix;
	snprintf(p, sizeof(p), "%s-rel-creat", base);
	r = raw4(SYS_openat, AT_FDCWD, p, O_CREAT | O_WRONLY, 0644);
	if (r >= 0)
		raw1(SYS_close, r);
	INFO("rawsys-rel", "openat(O_CREAT, \"%s\") -> %s", p, errname(r));

	/* Host-only interfaces. Each would hand out a host object if the host ran it. */
	struct {
		const char *name;
		long nr, a1, a2, a3, a4;
	} host_only[] = {
	    {"io_uring_setup", 425, 4, 0, 0, 0},
	    {"bpf(BPF_PROG_LOAD)", 321, 5, 0, 0, 0},
	    {"perf_event_open", 298, 0, 0, -1, -1},
	    {"userfaultfd", 323, 0, 0, 0, 0},
	    {"open_by_handle_at", 304, AT_FDCWD, 0, O_RDONLY, 0},
	    {"kexec_load", 246, 0, 0, 0, 0},
	    {"init_module", 175, 0, 0, 0, 0},
	    {"pidfd_open(sentinel)", 434, sentinel_pid, 0, 0, 0},
	    {"pidfd_getfd", 438, 0, 0, 0, 0},
	    {"process_vm_readv(sentinel)", SYS_process_vm_readv, sentinel_pid, 0, 0, 0},
	    {"ptrace(ATTACH sentinel)", SYS_ptrace, 16, sentinel_pid, 0, 0},
	    {"kill(sentinel, SIGKILL)", SYS_kill, sentinel_pid, SIGKILL, 0, 0},
	    {"tgkill(sentinel)", SYS_tgkill, sentinel_pid, sentinel_pid, SIGKILL, 0},
	};
	for (unsigned i = 0; i < sizeof(host_only) / sizeof(host_only[0]); i++) {
		int sig;
		r = tryraw(host_only[i].nr, host_only[i].a1, host_only[i].a2, host_only[i].a3,
			   host_only[i].a4, &sig);
		if (sig)
			FAIL("rawsys-hostonly",
			     "%s -> %s (code %ld), want an error (Linux: ENOSYS "
			     "when it lacks the call)",
			     host_only[i].name, signame(sig), caught_code);
		else if (r < 0)
			PASS("rawsys-hostonly", "%s -> %s", host_only[i].name, errname(r));
		else
			FAIL("rawsys-hostonly", "%s -> %ld (want an error)", host_only[i].name, r);
		if (r > 2 && r < 1024 && host_only[i].nr != SYS_kill)
			raw1(SYS_close, r);
	}
	/* A host filesystem, mounted in the guest, must not show the host's files. */
	mkdir("/mnt", 0755);
	const char *fstypes[] = {"hostfs", "9p", "virtiofs", "fuse", "bind-of-host"};
	for (unsigned i = 0; i < sizeof(fstypes) / sizeof(fstypes[0]); i++) {
		r = raw6(SYS_mount, (long)"none", (long)"/mnt", (long)fstypes[i], 0, (long)"/", 0);
		snprintf(p, sizeof(p), "/mnt%s", secret_path);
		long o = raw4(SYS_openat, AT_FDCWD, p, O_RDONLY, 0);
		INFO("rawsys-mount", "mount(%s) -> %s", fstypes[i], errname(r));
		expect_fail_open("open /mnt/<secret> after mount", o);
		if (r == 0)
			raw2(SYS_umount2, "/mnt", MNT_DETACH);
	}
	check_secret_invisible("rawsys end");
}

/* --- stubjump ------------------------------------------------------------------------ */
/* Jump to target with rax..r9 forged; the instruction after a stub `syscall` is int3,
 * elsewhere anything: whatever signal ends it, its rax is in caught_rax. */
struct jump {
	uintptr_t target;
	long rax, rdi, rsi, rdx, r10, r8, r9;
};
static void jump_fn(void *p)
{
	struct jump *j = p;
	register long r10 __asm__("r10") = j->r10;
	register long r8 __asm__("r8") = j->r8;
	register long r9 __asm__("r9") = j->r9;
	long rax = j->rax;
	__asm__ volatile("call *%[t]"
			 : "+a"(rax), "+r"(r10), "+r"(r8), "+r"(r9)
			 : [t] "r"(j->target), "D"(j->rdi), "S"(j->rsi), "d"(j->rdx)
			 : "rcx", "r11", "memory");
	/* Returned: the target ended in something that returns (a vDSO function, the
	 * stub's syscall helper). */
	caught_rax = rax;
}

/* The `syscall` instructions (0f 05) in the readable pages of [lo, hi). */
static int find_syscalls(uintptr_t lo, uintptr_t hi, uintptr_t *out, int max, int *pages)
{
	int n = 0;
	*pages = 0;
	for (uintptr_t pg = lo; pg < hi && n < max; pg += 4096) {
		if (!readable(pg))
			continue;
		(*pages)++;
		const unsigned char *b = (const unsigned char *)pg;
		for (int i = 0; i < 4095 && n < max; i++)
			if (b[i] == 0x0f && b[i + 1] == 0x05)
				out[n++] = pg + i;
	}
	return n;
}

/* One forged call at one target, in a child of its own (sub). */
enum {
	CK_FAILS,
	CK_INFO,
	CK_GUESTPID,
	CK_GUESTPPID,
	CK_NOTADDR,
	CK_STUB_RO,
	CK_STUB_SAME,
	CK_PAYLOAD
};
struct fcall {
	const char *name;
	long rax, rdi, rsi, rdx, r10, r8, r9;
	int check;
};
struct fjob {
	uintptr_t target;
	const char *where;
	struct fcall *c;
};

static void fcall_fn(void *p)
{
	struct fjob *job = p;
	struct fcall *c = job->c;
	catch_setup();
	stub_snap();
	if (c->rax == SYS_mremap) {
		/* A page to move onto the stub (mremap's old address): the payload, or int3s. */
		unsigned char *pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memset(pg, 0xcc, 4096);
		if (c->check == CK_PAYLOAD)
			memcpy(pg, esc_payload_start, esc_payload_end - esc_payload_start);
		c->rdi = (long)pg;
		esc_arm("stubjump-mremap");
	}
	struct jump j = {job->target, c->rax, c->rdi, c->rsi, c->rdx, c->r10, c->r8, c->r9};
	caught_rax = 0;
	int sig = try_call(jump_fn, &j);
	long r = (long)caught_rax;
	const char *res = errname(r);
	/* rax is the syscall's result when a signal (the stub's int3, a fault) followed it,
	 * or when the stub's code returned; after a vDSO function it is that function's. */
	int known = sig || !strcmp(job->where, "stub");
	if (!known) {
		r = -1;
		res = "(returned through vDSO code)";
	}
	unsigned long t = job->target;
	switch (c->check) {
	case CK_FAILS:
		if (r >= 0)
			FAIL("stubjump", "%s %#lx: %s -> %ld, want an error", job->where, t,
			     c->name, r);
		else
			PASS("stubjump", "%s %#lx: %s -> %s, then %s", job->where, t, c->name, res,
			     signame(sig));
		break;
	case CK_INFO:
		INFO("stubjump", "%s %#lx: %s -> %s, then %s", job->where, t, c->name, res,
		     signame(sig));
		break;
	case CK_GUESTPID:
	case CK_GUESTPPID: {
		long want = c->check == CK_GUESTPID ? getpid() : getppid();
		/* A host pid would be a positive number other than the guest's answer. */
		if (r > 0 && r != want)
			FAIL("stubjump", "%s %#lx: %s -> %ld, the guest's answer is %ld",
			     job->where, t, c->name, r, want);
		else
			PASS("stubjump", "%s %#lx: %s -> %s (guest: %ld), then %s", job->where, t,
			     c->name, res, want, signame(sig));
		break;
	}
	case CK_NOTADDR:
		if (r > 0 && (unsigned long)r < USER_TOP)
			FAIL("stubjump", "%s %#lx: %s -> %#lx, want an error", job->where, t,
			     c->name, r);
		else
			PASS("stubjump", "%s %#lx: %s -> %s, then %s", job->where, t, c->name, res,
			     signame(sig));
		break;
	case CK_STUB_RO:
	case CK_STUB_SAME:
	case CK_PAYLOAD:
		if (c->check == CK_PAYLOAD)
			esc_trigger();
		if (esc_report("forged mremap from the stub"))
			break;
		if (readable(STUB_ADDR) && writable(STUB_ADDR))
			FAIL("stubjump", "%s %#lx: after %s (-> %s) the stub's text is writable",
			     job->where, t, c->name, res);
		else if (stub_changed())
			FAIL("stubjump", "%s %#lx: after %s (-> %s) the stub's page changed",
			     job->where, t, c->name, res);
		else
			PASS("stubjump", "%s %#lx: %s -> %s, then %s; the stub is intact",
			     job->where, t, c->name, res, signame(sig));
		break;
	}
}

/* payload: 0 = every call but the mremap of a payload onto the stub, 1 = only that one
 * (last, and only at the stub's first instruction: once through, the guest resumes
 * inside the payload, and what it then scribbles can wreck the stub and the kernel). */
static void stubjump_at(uintptr_t target, const char *where, int idx, int payload)
{
	char tag[64];
	snprintf(tag, sizeof(tag), "stubjump-mkdir-%d", idx);
	const long RWX = PROT_READ | PROT_WRITE | PROT_EXEC;
	struct fcall calls[] = {
	    {"openat(secret)", SYS_openat, AT_FDCWD, (long)secret_path, O_RDONLY, 0, 0, 0,
	     CK_FAILS},
	    {"open(secret)", SYS_open, (long)secret_path, O_RDONLY, 0, 0, 0, 0, CK_FAILS},
	    {"mkdir(host path)", SYS_mkdir, (long)pwn_path(tag), 0755, 0, 0, 0, 0, CK_INFO},
	    {"getpid", SYS_getpid, 0, 0, 0, 0, 0, 0, CK_GUESTPID},
	    {"getppid", SYS_getppid, 0, 0, 0, 0, 0, 0, CK_GUESTPPID},
	    {"kill(sentinel, SIGKILL)", SYS_kill, sentinel_pid, SIGKILL, 0, 0, 0, 0, CK_FAILS},
	    {"mmap(fd 3, MAP_SHARED)", SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, 3, 0, CK_NOTADDR},
	    {"mmap(fd 4, MAP_SHARED)", SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, 4, 0, CK_NOTADDR},
	    /* MAP_FIXED at a guest address: what a filter that checks only the range lets by. */
	    {"mmap(fd 0, MAP_SHARED|MAP_FIXED)", SYS_mmap, 0x10000000, 4096, PROT_READ,
	     MAP_SHARED | MAP_FIXED, 0, 0, CK_NOTADDR},
	    {"mmap(fd 3, MAP_SHARED|MAP_FIXED)", SYS_mmap, 0x10000000, 4096, PROT_READ,
	     MAP_SHARED | MAP_FIXED, 3, 0, CK_NOTADDR},
	    {"mprotect(stub, RWX)", SYS_mprotect, STUB_ADDR, 4096, RWX, 0, 0, 0, CK_STUB_RO},
	    {"mmap(stub, RWX, MAP_FIXED)", SYS_mmap, STUB_ADDR, 4096, RWX,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, CK_STUB_SAME},
	    {"munmap(stub)", SYS_munmap, STUB_ADDR, 4096, 0, 0, 0, 0, CK_STUB_SAME},
	    {"munmap(the 4 slots above the guest top)", SYS_munmap, GUEST_TOP, 4 * 0x20000, 0, 0, 0,
	     0, CK_STUB_SAME},
	    {"mmap(the 4 slots above the guest top, MAP_FIXED)", SYS_mmap, GUEST_TOP, 4 * 0x20000,
	     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, CK_STUB_SAME},
	    {"mremap(page of int3 -> stub)", SYS_mremap, 0, 4096, 4096,
	     MREMAP_MAYMOVE | MREMAP_FIXED, STUB_ADDR, 0, CK_STUB_SAME},
	    {"mremap(payload page -> stub)", SYS_mremap, 0, 4096, 4096,
	     MREMAP_MAYMOVE | MREMAP_FIXED, STUB_ADDR, 0, CK_PAYLOAD},
	};
	for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		if (calls[i].rax == SYS_kill && sentinel_pid <= 0)
			continue;
		if ((calls[i].check == CK_PAYLOAD) != payload)
			continue;
		struct fjob job = {target, where, &calls[i]};
		char what[128];
		snprintf(what, sizeof(what), "%s %#lx: %s", where, (unsigned long)target,
			 calls[i].name);
		sub(what, fcall_fn, &job);
	}
}

static void attack_stubjump(void)
{
	static uintptr_t sys[64];
	int pages;
	/* The stub's own page first (docs: its first instruction is `syscall; int3`). */
	int n = find_syscalls(STUB_ADDR - (1UL << 20), STUB_ADDR + (1UL << 20), sys, 16, &pages);
	INFO("stubjump", "%d readable pages around the stub, %d syscall instructions", pages, n);
	if (readable(STUB_ADDR)) {
		const unsigned char *b = (const void *)STUB_ADDR;
		INFO("stubjump", "stub bytes: %02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
	}
	int have_stub = 0;
	for (int i = 0; i < n; i++)
		have_stub |= sys[i] == STUB_ADDR;
	if (!have_stub)
		sys[n++] = STUB_ADDR; /* jump there anyway: it may be execute-only */
	/* The vDSO's syscall instructions (its fallbacks) are guest-reachable too. */
	uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
	int nstub = n;
	if (vdso) {
		int nv = find_syscalls(vdso, vdso + 4 * 4096, sys + n, 4, &pages);
		INFO("stubjump", "vDSO at %#lx: %d syscall instructions", (unsigned long)vdso, nv);
		n += nv;
	}
	for (int i = 0; i < n; i++)
		stubjump_at(sys[i], i < nstub ? "stub" : "vdso", i, 0);
	stubjump_at(STUB_ADDR, "stub", 0, 1);
	/* Still a working process afterwards. */
	if (getpid() > 0 && write(1, "", 0) == 0)
		PASS("stubjump-after", "syscalls still work after the jumps");
	check_secret_invisible("stubjump end");
}

/* --- int80 ------------------------------------------------------------------------------ */
/* ia32 getpid (20) with ebx = a host path: nullified into 39 under a tracer that ignores
 * the compat ABI, it becomes ia32 mkdir(ebx, ecx) on the host. rdi = -1 keeps the x86-64
 * reading of the same registers (writev(-1, ...)) harmless. The path must be below 4 GiB:
 * static data of this non-PIE program is. */
static char low_path[256];
struct int80_args {
	long eax, ebx, ecx;
};
static void int80_fn(void *p)
{
	struct int80_args *a = p;
	long ret;
	__asm__ volatile("int $0x80\n\tint3"
			 : "=a"(ret)
			 : "0"(a->eax), "b"(a->ebx), "c"(a->ecx), "d"(0), "D"(-1L), "S"(0L)
			 : "memory", "r8", "r9", "r10", "r11");
}
static void sysenter_fn(void *p)
{
	struct int80_args *a = p;
	__asm__ volatile("sysenter\n\tint3"
			 :
			 : "a"(a->eax), "b"(a->ebx), "c"(a->ecx), "d"(0), "D"(-1L), "S"(0L)
			 : "memory", "r8", "r9", "r10", "r11");
}
static void int81_fn(void *p)
{
	(void)p;
	__asm__ volatile("int $0x81" ::: "memory");
}

struct int80_step {
	const char *what;
	void (*fn)(void *);
	long eax;
	const char *path; /* copied below 4 GiB into low_path */
	long ecx;
	int must_signal; /* the instruction after it is int3 (or it faults itself) */
};

static void int80_step_fn(void *p)
{
	struct int80_step *s = p;
	catch_setup();
	snprintf(low_path, sizeof(low_path), "%s", s->path);
	struct int80_args a = {s->eax, (long)low_path, s->ecx};
	caught_rax = 0;
	int sig = try_call(s->fn, &a);
	INFO("int80", "%s (ebx=%s) -> rax %s, then %s", s->what, low_path,
	     errname((long)caught_rax), signame(sig));
	if (!sig && s->must_signal)
		FAIL("int80", "%s: came back without a signal", s->what);
	else
		PASS("int80", "%s ended in %s (the host checks %s)", s->what, signame(sig),
		     low_path);
	if (getpid() <= 0)
		FAIL("int80", "%s: getpid fails afterwards", s->what);
}

static void attack_int80(void)
{
	if ((uintptr_t)low_path >= 0x100000000UL) {
		FAIL("int80", "static data is above 4 GiB (%p): rebuild with -static -no-pie",
		     (void *)low_path);
		return;
	}
	/* Each in a child of its own: a platform may kill a process for a 32-bit syscall. */
	struct int80_step steps[] = {
	    {"int $0x80, eax = 20 (ia32 getpid)", int80_fn, 20, pwn_path("int80-mkdir"), 0755, 1},
	    {"int $0x80, eax = 5 (ia32 open)", int80_fn, 5, secret_path, O_RDONLY, 1},
	    {"int $0x80, eax = 39 (ia32 mkdir)", int80_fn, 39, pwn_path("int80-mkdir39"), 0755, 1},
	    {"sysenter, eax = 20", sysenter_fn, 20, pwn_path("sysenter-mkdir"), 0755, 1},
	    {"int $0x81", int81_fn, 0, "-", 0, 1},
	};
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		sub(steps[i].what, int80_step_fn, &steps[i]);
}

/* --- compat32 --------------------------------------------------------------------------- */
/* compat_enter (rdi = eax, rsi = ebx, rdx = ecx, r10 = which): far jump to 32-bit code (selector
 * 0x23) that runs `int $0x80` (which=0), `syscall` (1) or `sysenter` (2), then int3. It never
 * returns: the int3 (or a fault) ends in a signal, and try_call's siglongjmp restores the stack. */
__asm__(".pushsection .text\n"
	".globl compat_enter\n"
	"compat_enter:\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rbx\n"
	"	mov %rdx, %rcx\n"
	"	mov %rdx, %rbp\n" /* arg 2 of the compat SYSCALL convention */
	"	mov $-1, %rdi\n"
	"	xor %esi, %esi\n"
	"	xor %edx, %edx\n"
	"	lea compat_ptrs(%rip), %r8\n"
	/* A stack below 4 GiB: 32-bit code uses esp (the compat SYSCALL entry reads the
	 * sixth argument from it). */
	"	movabs $compat_stack + 4096, %rsp\n"
	"	ljmpl *(%r8, %r10, 8)\n"
	".code32\n"
	"compat_int80:\n"
	"	int $0x80\n"
	"	int3\n"
	"compat_syscall:\n"
	"	syscall\n"
	"	int3\n"
	"compat_sysenter:\n"
	"	sysenter\n"
	"	int3\n"
	".code64\n"
	".balign 8\n"
	"compat_ptrs:\n"
	"	.long compat_int80\n"
	"	.word 0x23, 0\n"
	"	.long compat_syscall\n"
	"	.word 0x23, 0\n"
	"	.long compat_sysenter\n"
	"	.word 0x23, 0\n"
	".popsection\n");

__attribute__((used)) char compat_stack[8192] __attribute__((aligned(16)));

struct compat_args {
	long eax, ebx, ecx, which;
};
static void compat_fn(void *p)
{
	struct compat_args *a = p;
	register long r10 __asm__("r10") = a->which;
	/* compat_enter takes `which` in r10 (the ljmp index). */
	__asm__ volatile("call compat_enter"
			 :
			 : "D"(a->eax), "S"(a->ebx), "d"(a->ecx), "r"(r10)
			 : "rax", "rbx", "rcx", "rbp", "r8", "r9", "r11", "memory");
}

static void compat_step_fn(void *p)
{
	struct compat_args *a = p;
	static const char *names[] = {"int $0x80", "syscall", "sysenter"};
	catch_setup();
	snprintf(low_path, sizeof(low_path), "%s", (const char *)a->ebx);
	struct compat_args b = *a;
	b.ebx = (long)low_path;
	caught_rax = 0;
	int sig = try_call(compat_fn, &b);
	INFO("compat32", "32-bit %s eax=%ld ebx=%s -> rax %s, code %ld, then %s", names[a->which],
	     a->eax, low_path, errname((long)caught_rax), caught_code, signame(sig));
	if (sig)
		PASS("compat32", "32-bit %s ended in %s (the host checks %s)", names[a->which],
		     signame(sig), low_path);
	else
		FAIL("compat32", "32-bit %s: came back without a signal", names[a->which]);
	if (getpid() <= 0)
		FAIL("compat32", "getpid fails afterwards");
}

static void attack_compat32(void)
{
	for (int w = 0; w < 3; w++) {
		char tag[32], what[64];
		snprintf(tag, sizeof(tag), "compat32-%d-mkdir", w);
		/* ia32 getpid (20) with ebx = a host path; then ia32 open (5) of the secret. */
		struct compat_args a = {20, (long)pwn_path(tag), 0755, w};
		snprintf(what, sizeof(what), "32-bit code, way %d, eax 20", w);
		sub(what, compat_step_fn, &a);
		a = (struct compat_args){5, (long)secret_path, O_RDONLY, w};
		snprintf(what, sizeof(what), "32-bit code, way %d, eax 5", w);
		sub(what, compat_step_fn, &a);
	}
}

/* --- vsyscall ------------------------------------------------------------------------- */
static struct timeval vs_tv;
static void vsyscall_fn(void *p)
{
	long r;
	__asm__ volatile("call *%1"
			 : "=a"(r)
			 : "r"(p), "D"(&vs_tv), "S"(0L)
			 : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory");
	caught_rax = r;
}
static void attack_vsyscall(void)
{
	uintptr_t fns[] = {0xffffffffff600000UL, 0xffffffffff600400UL, 0xffffffffff600800UL};
	const char *names[] = {"gettimeofday", "time", "getcpu"};
	for (int i = 0; i < 3; i++) {
		caught_rax = -1;
		int sig = try_call(vsyscall_fn, (void *)fns[i]);
		INFO("vsyscall",
		     "%s at %#lx -> %s, %s (the host kernel emulates this page; "
		     "it gives the host's time only)",
		     names[i], (unsigned long)fns[i], errname((long)caught_rax), signame(sig));
	}
	if (getpid() > 0)
		PASS("vsyscall", "the guest survives calls into the vsyscall page");
}

/* --- privileged instructions ------------------------------------------------------------ */
#define INSN(name, text)                                                                           \
	static void insn_##name(void *p)                                                           \
	{                                                                                          \
		(void)p;                                                                           \
		__asm__ volatile(text ::: "memory", "rax", "rcx", "rdx");                          \
	}
INSN(hlt, "hlt")
INSN(cli, "cli")
INSN(in, "in $0x80, %%al")
INSN(out, "out %%al, $0x80")
INSN(rdmsr, "xor %%ecx, %%ecx; rdmsr")
INSN(wrmsr, "mov $0xc0000082, %%ecx; xor %%eax, %%eax; xor %%edx, %%edx; wrmsr")
INSN(lgdt, "sub $16, %%rsp; lgdt (%%rsp); add $16, %%rsp")
INSN(movcr0, "mov %%cr0, %%rax")
INSN(swapgs, "swapgs")
INSN(int1, ".byte 0xf1")
INSN(int3, "int3")
INSN(ud2, "ud2")
INSN(iret_ring0, "mov %%rsp, %%rax; push $0x18; push %%rax; pushf; push $0x10; "
		 "lea 1f(%%rip), %%rcx; push %%rcx; iretq; 1:")
INSN(ltr, "xor %%eax, %%eax; ltr %%ax")
INSN(invlpg, "invlpg (%%rsp)")
INSN(wbinvd, "wbinvd")
INSN(movss0, "xor %%eax, %%eax; mov %%ax, %%ss")

static void attack_privinsn(void)
{
	struct {
		const char *name;
		void (*fn)(void *);
	} insns[] = {
	    {"hlt", insn_hlt},
	    {"cli", insn_cli},
	    {"in", insn_in},
	    {"out", insn_out},
	    {"rdmsr", insn_rdmsr},
	    {"wrmsr", insn_wrmsr},
	    {"lgdt", insn_lgdt},
	    {"mov cr0", insn_movcr0},
	    {"swapgs", insn_swapgs},
	    {"int1", insn_int1},
	    {"int3", insn_int3},
	    {"ud2", insn_ud2},
	    {"iretq to cs 0x10", insn_iret_ring0},
	    {"ltr", insn_ltr},
	    {"invlpg", insn_invlpg},
	    {"wbinvd", insn_wbinvd},
	    {"mov 0, %ss", insn_movss0},
	};
	for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
		int sig = try_call(insns[i].fn, NULL);
		if (sig)
			PASS("privinsn", "%s -> %s (code %ld)", insns[i].name, signame(sig),
			     caught_code);
		else
			FAIL("privinsn", "%s completed in guest code", insns[i].name);
	}
	if (getpid() > 0)
		PASS("privinsn-after", "syscalls still work");
}

static const struct attack attacks[] = {
    {"rawsys", attack_rawsys, END_EXIT0, 0, 60,
     "raw syscall instructions at host paths, x32/bogus numbers, host-only syscalls"},
    {"stubjump", attack_stubjump, END_EXIT0, 0, 240,
     "jump into the stub's (and vDSO's) syscall instructions with forged registers"},
    {"int80", attack_int80, END_EXIT0, 0, 60,
     "int $0x80 / sysenter / int $0x81 from 64-bit code with ia32 mkdir(host path)"},
    {"compat32", attack_compat32, END_EXIT0, 0, 60,
     "far jump to 32-bit segment 0x23, then int $0x80 / syscall / sysenter"},
    {"vsyscall", attack_vsyscall, END_EXIT0, 0, 60, "calls into the legacy vsyscall page"},
    {"privinsn", attack_privinsn, END_EXIT0, 0, 60,
     "privileged instructions: each must end in a signal"},
};

int main(int argc, char **argv)
{
	return hostile_main(argc, argv, attacks, sizeof(attacks) / sizeof(attacks[0]));
}
