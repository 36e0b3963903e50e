/* procs: reaching other processes: the guest's init, and host processes.
 *
 *   ptrace     PTRACE_ATTACH / PTRACE_SEIZE / PTRACE_TRACEME, against guest pid 1, the
 *              host sentinel and host-looking pids
 *   vmwrite    process_vm_readv / process_vm_writev against pid 1 and the sentinel; a
 *              value init keeps must not change unless the guest kernel wrote it there
 *   procmem    /proc/self/mem and /proc/1/mem opened for writing; a write through them
 *              to the stub's address must fail (it would be the host's stub)
 *   pidscan    kill(pid, 0) for pids 1..4000 and the sentinel: the pids that answer must
 *              be exactly the guest's own (the numeric entries of the guest's /proc);
 *              /proc/<sentinel> must not exist; kill(sentinel, SIGKILL) must fail
 *
 * The host checks the sentinel is still alive after the boot. */
#include "hostile.h"
#include <dirent.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

/* A value in init's memory (same address in every process of this static program). */
static volatile unsigned long init_cookie = 0x1111111111111111UL;

/* --- ptrace ------------------------------------------------------------------------- */
static void try_ptrace(long req, long pid, const char *what)
{
	long r = raw4(SYS_ptrace, req, pid, 0, 0);
	if (r < 0) {
		PASS("ptrace", "%s -> %s", what, errname(r));
		return;
	}
	if (pid == sentinel_pid) {
		FAIL("ptrace", "%s -> %ld: a host process", what, r);
	} else {
		INFO("ptrace", "%s -> %ld (the guest kernel implements ptrace of guest pids)", what,
		     r);
	}
	raw4(SYS_ptrace, PTRACE_DETACH, pid, 0, 0);
}

static void attack_ptrace(void)
{
	try_ptrace(PTRACE_ATTACH, 1, "PTRACE_ATTACH pid 1");
	try_ptrace(PTRACE_SEIZE, 1, "PTRACE_SEIZE pid 1");
	if (sentinel_pid > 0) {
		try_ptrace(PTRACE_ATTACH, sentinel_pid, "PTRACE_ATTACH host sentinel");
		try_ptrace(PTRACE_SEIZE, sentinel_pid, "PTRACE_SEIZE host sentinel");
	}
	long r = raw4(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
	INFO("ptrace", "PTRACE_TRACEME -> %s", errname(r));
	/* With a (guest or host) tracer, a stop now would hang us: only if it worked. */
	if (r == 0) {
		INFO("ptrace", "TRACEME accepted; raising SIGSTOP is skipped (the tracer is init, "
			       "which never waits for it)");
	}
	/* PEEK/POKE of pid 1 without attaching: ESRCH on Linux. */
	r = raw4(SYS_ptrace, PTRACE_POKEDATA, 1, (long)&init_cookie, 0x6666666666666666L);
	if (r < 0)
		PASS("ptrace", "PTRACE_POKEDATA pid 1 without attach -> %s", errname(r));
	else
		FAIL("ptrace", "PTRACE_POKEDATA pid 1 without attach -> %ld", r);
}

/* --- vmwrite ------------------------------------------------------------------------ */
static void attack_vmwrite(void)
{
	unsigned long v = 0x2222222222222222UL, got = 0;
	struct iovec l = {&v, sizeof(v)}, r = {(void *)&init_cookie, sizeof(v)};
	struct iovec lg = {&got, sizeof(got)};
	long w = raw6(SYS_process_vm_writev, 1, (long)&l, 1, (long)&r, 1, 0);
	long rd = raw6(SYS_process_vm_readv, 1, (long)&lg, 1, (long)&r, 1, 0);
	INFO("vmwrite", "process_vm_writev(pid 1) -> %s, process_vm_readv(pid 1) -> %s (%#lx)",
	     errname(w), errname(rd), got);
	if (sentinel_pid > 0) {
		w = raw6(SYS_process_vm_writev, sentinel_pid, (long)&l, 1, (long)&r, 1, 0);
		rd = raw6(SYS_process_vm_readv, sentinel_pid, (long)&lg, 1, (long)&r, 1, 0);
		if (w < 0 && rd < 0)
			PASS("vmwrite", "process_vm_{writev,readv}(host sentinel) -> %s, %s",
			     errname(w), errname(rd));
		else
			FAIL("vmwrite", "process_vm_{writev,readv}(host sentinel) -> %ld, %ld", w,
			     rd);
	}
	/* Through the guest kernel into this process itself, aimed at the stub. */
	esc_arm("vmwrite");
	stub_snap();
	size_t plen = esc_payload_end - esc_payload_start;
	struct iovec pl = {(void *)(esc_payload_start + 2), plen - 2};
	struct iovec ps = {(void *)(STUB_ADDR + 2), plen - 2};
	w = raw6(SYS_process_vm_writev, getpid(), (long)&pl, 1, (long)&ps, 1, 0);
	if (w < 0)
		PASS("vmwrite", "process_vm_writev(self, stub) -> %s", errname(w));
	else
		FAIL("vmwrite", "process_vm_writev(self, stub) -> %ld", w);
	esc_trigger();
	esc_report("process_vm_writev into the stub");
	if (stub_changed())
		FAIL("vmwrite", "the stub's page changed");
}

/* --- procmem ------------------------------------------------------------------------ */
static void attack_procmem(void)
{
	const char *paths[] = {"/proc/self/mem", "/proc/1/mem"};
	for (int i = 0; i < 2; i++) {
		int fd = open(paths[i], O_RDWR);
		if (fd < 0) {
			PASS("procmem", "open(%s, O_RDWR) -> %s", paths[i], strerror(errno));
			continue;
		}
		INFO("procmem", "open(%s, O_RDWR) -> fd %d", paths[i], fd);
		/* A write to the stub's address. */
		esc_arm("procmem");
		stub_snap();
		size_t plen = esc_payload_end - esc_payload_start;
		ssize_t w = pwrite(fd, esc_payload_start + 2, plen - 2, STUB_ADDR + 2);
		if (w < 0)
			PASS("procmem", "pwrite(%s, stub) -> %s", paths[i], strerror(errno));
		else
			FAIL("procmem", "pwrite(%s, stub) -> %zd", paths[i], w);
		esc_trigger();
		esc_report(paths[i]);
		if (stub_changed())
			FAIL("procmem", "the stub's page changed");
		close(fd);
	}
	/* Reading the host's view: /proc/self/maps must not name host files. */
	char buf[8192];
	int fd = open("/proc/self/maps", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = 0;
		if (strstr(buf, "memfd:") || strstr(buf, "vmlinux-stub") || strstr(buf, "/work/"))
			FAIL("procmem", "/proc/self/maps shows host objects:\n%s", buf);
		else
			PASS("procmem", "/proc/self/maps names no host object");
	}
}

/* --- pidscan ------------------------------------------------------------------------ */
static int guest_pids(char *present, int max)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long p = strtol(e->d_name, &end, 10);
		if (*end || p <= 0)
			continue;
		if (p < max)
			present[p] = 1;
		n++;
	}
	closedir(d);
	return n;
}

static void attack_pidscan(void)
{
	enum { MAXP = 4001 };
	static char answers[MAXP], listed[MAXP];
	int nans = 0;
	for (long p = 1; p < MAXP; p++) {
		long r = raw2(SYS_kill, p, 0);
		if (r == 0 || r == -EPERM) {
			answers[p] = 1;
			nans++;
		}
	}
	int nlisted = guest_pids(listed, MAXP);
	int mismatch = 0;
	for (long p = 1; p < MAXP; p++) {
		if (answers[p] != listed[p]) {
			mismatch++;
			if (mismatch <= 10)
				out("INFO pidscan: pid %ld: kill(pid, 0) %s, /proc %s", p,
				    answers[p] ? "answers" : "does not",
				    listed[p] ? "lists it" : "not");
		}
	}
	if (nlisted < 0)
		FAIL("pidscan", "cannot list /proc: %s", strerror(errno));
	else if (mismatch)
		FAIL("pidscan", "%d pids differ between kill(pid, 0) and the guest's /proc",
		     mismatch);
	else
		PASS("pidscan",
		     "%d pids answer kill(pid, 0) in 1..4000, exactly those in /proc (%d)", nans,
		     nlisted);
	if (nans > 64)
		FAIL("pidscan", "%d pids answer: more than this idle guest has", nans);
	if (!answers[1] || !answers[getpid()])
		FAIL("pidscan", "pid 1 or this process (%d) does not answer", getpid());
	if (sentinel_pid > 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld", sentinel_pid);
		struct stat st;
		int in_proc = stat(path, &st) == 0;
		long r = raw2(SYS_kill, sentinel_pid, 0);
		if (in_proc)
			INFO("pidscan", "the guest has a pid %ld of its own", sentinel_pid);
		else if (r == -ESRCH)
			PASS("pidscan", "host sentinel %ld: kill(pid, 0) -> ESRCH, no /proc entry",
			     sentinel_pid);
		else
			FAIL("pidscan", "host sentinel %ld: kill(pid, 0) -> %s but no /proc entry",
			     sentinel_pid, errname(r));
		if (!in_proc) {
			r = raw2(SYS_kill, sentinel_pid, SIGKILL);
			if (r < 0)
				PASS("pidscan", "kill(host sentinel, SIGKILL) -> %s", errname(r));
			else
				FAIL("pidscan", "kill(host sentinel, SIGKILL) -> %ld", r);
			r = raw2(SYS_kill, -sentinel_pid, SIGKILL);
			INFO("pidscan", "kill(-sentinel, SIGKILL) -> %s", errname(r));
		}
	}
	/* getppid of init, and of us: guest pids. */
	long pp = raw0(SYS_getppid);
	if (pp == 1)
		PASS("pidscan", "getppid() = 1 (init is our parent)");
	else
		FAIL("pidscan", "getppid() = %ld, want 1", pp);
}

static const struct attack attacks[] = {
    {"ptrace", attack_ptrace, END_EXIT0, 0, 60,
     "ptrace ATTACH/SEIZE/TRACEME/POKEDATA against pid 1 and the host sentinel"},
    {"vmwrite", attack_vmwrite, END_EXIT0, 0, 60,
     "process_vm_readv/writev against pid 1, the sentinel, the stub"},
    {"procmem", attack_procmem, END_EXIT0, 0, 60,
     "/proc/self/mem and /proc/1/mem for writing; /proc/self/maps"},
    {"pidscan", attack_pidscan, END_EXIT0, 0, 120,
     "kill(pid, 0) for 1..4000 + sentinel must match the guest's /proc"},
};

int main(int argc, char **argv)
{
	init_cookie = 0x1111111111111111UL;
	int r = hostile_main(argc, argv, attacks, sizeof(attacks) / sizeof(attacks[0]));
	if (init_cookie != 0x1111111111111111UL)
		INFO("vmwrite",
		     "init's cookie was changed to %#lx (by the guest kernel on behalf "
		     "of process_vm_writev/ptrace: legal for root on Linux)",
		     init_cookie);
	return r;
}
