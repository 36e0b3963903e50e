/* bench/workloads.c: the benchmark workloads, one static program with subcommands.
 *
 * Built by bench/run.sh with `gcc -O2 -static`: the very same binary runs on the host
 * ("native"), as guest init under ./vmlinux in each mode, and as init of real UML.
 *
 *   workloads [--poweroff] [--target MS] COMMAND [ARGS...]
 *
 * Every command times itself with clock_gettime(CLOCK_MONOTONIC), so boot and shutdown
 * never pollute a per-operation figure, and prints one machine-readable line per figure,
 * "NAME VALUE" (e.g. "getppid_us 0.85"). Per-operation loops run for about MS
 * milliseconds (--target MS or --target=MS, or the environment's BENCH_TARGET_MS;
 * default 300), doubling the batch until reading the clock costs nothing. Real UML
 * hands init only the bare words of its command line as arguments: use "--target MS".
 *
 *   getppid                 getppid round trip (raw syscall, never cached)   getppid_us
 *   fork_exit               fork, child _exit(0), parent waitpid             fork_exit_us
 *   fork_exec [PATH]        fork, child execs PATH (default /bin/true), wait fork_exec_us
 *   pipe                    one process writes 64 KiB blocks into a pipe,    pipe_GBps
 *                           a child reads them (GB = 10^9 bytes)
 *   mmap                    mmap 1 MiB anonymous, write a byte to each 4 KiB mmap_us
 *                           page, munmap
 *   disk [FILE] [MiB]       on FILE (default /bench.dat), of MiB (default 64): disk_*_MBps
 *                           seqwrite = create + 1 MiB writes + fsync; seqread = 1 MiB reads;
 *                           randwrite = 4 KiB pwrites at random aligned offsets + final
 *                           fsync; randread = 4 KiB preads at random offsets. The file
 *                           is removed at the end. Reads are served by whatever cache
 *                           the kernel underneath keeps (no O_DIRECT, no cache dropping).
 *   shell [ITERS] [SH]      SH -c 'i=0; while [ $i -lt ITERS ]; do echo $i | cat >/dev/null;
 *                           i=$((i+1)); done' (default 500 iterations, SH = /bin/sh)
 *                                                                            shell_ms, shell_iter_us
 *   all                     every command above with its defaults
 *   poweroff                nothing (use with --poweroff to time boot + shutdown)
 *
 * --poweroff: after the command, sync(), remount / read-only and reboot(RB_POWER_OFF).
 * Real UML panics when init exits, so it needs this; vmlinux turns init's exit status
 * into its own and does not. The exit status is 0 when every figure was measured, 1
 * otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double target_s = 0.3;
static int failures;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void emit(const char *name, double value)
{
	/* One line, one write: the console of a guest may be shared with kernel messages. */
	char line[128];
	int prec = value >= 100 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3;
	int n = snprintf(line, sizeof(line), "%s %.*f\n", name, prec, value);
	if (write(1, line, (size_t)n) < 0)
		failures++;
}

static void failed(const char *what)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "bench: %s failed: %s\n", what, strerror(errno));
	if (write(2, line, (size_t)n) < 0)
		failures++;
	failures++;
}

/* Run op() in batches until about target_s has passed; the time of one op in seconds,
 * or a negative number if op failed. */
static double measure(int (*op)(void))
{
	if (op() < 0) /* warm up (and fail early) */
		return -1;
	double total = 0;
	long ops = 0, batch = 1;
	while (total < target_s) {
		double t0 = now();
		for (long i = 0; i < batch; i++)
			if (op() < 0)
				return -1;
		double dt = now() - t0;
		total += dt;
		ops += batch;
		if (dt < target_s / 20 && batch < (1L << 30))
			batch *= 2;
	}
	return total / (double)ops;
}

/* --- the workloads ------------------------------------------------------------------- */

static int op_getppid(void)
{
	return syscall(SYS_getppid) < 0 ? -1 : 0;
}

static int wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = ECHILD;
		return -1;
	}
	return 0;
}

static int op_fork_exit(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(0);
	return wait_child(pid);
}

static const char *exec_path = "/bin/true";
static int op_fork_exec(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[] = {"true", NULL};
		char *envp[] = {"PATH=/bin:/usr/bin", NULL};
		execve(exec_path, argv, envp);
		_exit(127);
	}
	return wait_child(pid);
}

static int op_mmap(void)
{
	const size_t len = 1 << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	for (size_t off = 0; off < len; off += 4096)
		((volatile char *)p)[off] = 1;
	return munmap(p, len);
}

static void report_op(const char *what, const char *name, int (*op)(void))
{
	double t = measure(op);
	if (t < 0)
		failed(what);
	else
		emit(name, t * 1e6);
}

static void bench_pipe(void)
{
	enum { BLOCK = 64 << 10 };
	static char buf[BLOCK];
	int fds[2];
	if (pipe(fds) < 0)
		return failed("pipe");
	memset(buf, 'x', sizeof(buf));
	pid_t pid = fork();
	if (pid < 0)
		return failed("pipe: fork");
	if (pid == 0) {
		close(fds[1]);
		for (;;) {
			ssize_t n = read(fds[0], buf, sizeof(buf));
			if (n == 0)
				_exit(0);
			if (n < 0 && errno != EINTR)
				_exit(1);
		}
	}
	close(fds[0]);
	double t0 = now(), t;
	uint64_t bytes = 0;
	do {
		for (int i = 0; i < 64; i++) {
			size_t off = 0;
			while (off < sizeof(buf)) {
				ssize_t n = write(fds[1], buf + off, sizeof(buf) - off);
				if (n < 0) {
					if (errno == EINTR)
						continue;
					close(fds[1]);
					wait_child(pid);
					return failed("pipe: write");
				}
				off += (size_t)n;
			}
			bytes += sizeof(buf);
		}
		t = now() - t0;
	} while (t < target_s);
	close(fds[1]);
	if (wait_child(pid) < 0)
		return failed("pipe: reader");
	t = now() - t0; /* until the reader has drained everything */
	emit("pipe_GBps", (double)bytes / t / 1e9);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void bench_disk(const char *path, long mib)
{
	enum { BIG = 1 << 20, SMALL = 4096 };
	const uint64_t size = (uint64_t)mib << 20;
	char *buf = aligned_alloc(4096, BIG);
	if (!buf)
		return failed("disk: malloc");
	for (size_t i = 0; i < BIG; i++)
		buf[i] = (char)(i * 7 + 1);

	/* Sequential write, fsync included. */
	unlink(path);
	double t0 = now();
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		free(buf);
		return failed("disk: create");
	}
	for (uint64_t off = 0; off < size; off += BIG)
		if (write(fd, buf, BIG) != BIG)
			goto fail_write;
	if (fsync(fd) < 0)
		goto fail_write;
	double t = now() - t0;
	emit("disk_seqwrite_MBps", (double)size / t / 1e6);

	/* Sequential read. */
	if (lseek(fd, 0, SEEK_SET) < 0)
		goto fail_read;
	t0 = now();
	for (uint64_t off = 0; off < size; off += BIG)
		if (read(fd, buf, BIG) != BIG)
			goto fail_read;
	t = now() - t0;
	emit("disk_seqread_MBps", (double)size / t / 1e6);

	/* Random 4 KiB writes, then fsync; then random 4 KiB reads. */
	const uint64_t blocks = size / SMALL;
	uint64_t n = 0;
	t0 = now();
	do {
		for (int i = 0; i < 256; i++, n++)
			if (pwrite(fd, buf + (n & 255) * SMALL, SMALL,
				   (off_t)((next_rand() % blocks) * SMALL)) != SMALL)
				goto fail_write;
		t = now() - t0;
	} while (t < target_s);
	if (fsync(fd) < 0)
		goto fail_write;
	t = now() - t0;
	emit("disk_randwrite_MBps", (double)(n * SMALL) / t / 1e6);

	n = 0;
	t0 = now();
	do {
		for (int i = 0; i < 256; i++, n++)
			if (pread(fd, buf, SMALL, (off_t)((next_rand() % blocks) * SMALL)) != SMALL)
				goto fail_read;
		t = now() - t0;
	} while (t < target_s);
	emit("disk_randread_MBps", (double)(n * SMALL) / t / 1e6);
	close(fd);
	unlink(path);
	free(buf);
	return;
fail_write:
	failed("disk: write");
	goto out;
fail_read:
	failed("disk: read");
out:
	close(fd);
	unlink(path);
	free(buf);
}

static void bench_shell(long iters, const char *sh)
{
	char script[256], path[512];
	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt %ld ]; do echo $i | cat >/dev/null; i=$((i+1)); done",
		 iters);
	/* Look up commands next to the shell first (native runs use a directory of busybox
	 * links), then in the guest's usual places. */
	const char *slash = strrchr(sh, '/');
	snprintf(path, sizeof(path), "PATH=%.*s:/bin:/sbin:/usr/bin:/usr/sbin",
		 slash ? (int)(slash - sh) : 0, sh);
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0)
		return failed("shell: fork");
	if (pid == 0) {
		char *argv[] = {"sh", "-c", script, NULL};
		char *envp[] = {path, "HOME=/", NULL};
		execve(sh, argv, envp);
		_exit(127);
	}
	if (wait_child(pid) < 0)
		return failed("shell");
	double t = now() - t0;
	emit("shell_ms", t * 1e3);
	emit("shell_iter_us", t * 1e6 / (double)iters);
}

static int usage(void)
{
	static const char msg[] =
		"usage: workloads [--poweroff] [--target MS] COMMAND [ARGS]\n"
		"commands: getppid fork_exit fork_exec [PATH] pipe mmap disk [FILE] [MiB]\n"
		"          shell [ITERS] [SH] all poweroff\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		return 2;
	return 2;
}

static int run(int argc, char **argv)
{
	const char *cmd = argv[0];
	const char *a1 = argc > 1 ? argv[1] : NULL, *a2 = argc > 2 ? argv[2] : NULL;
	int all = !strcmp(cmd, "all");
	int known = all || !strcmp(cmd, "poweroff");
	if (all || !strcmp(cmd, "getppid"))
		known = 1, report_op("getppid", "getppid_us", op_getppid);
	if (all || !strcmp(cmd, "fork_exit"))
		known = 1, report_op("fork_exit", "fork_exit_us", op_fork_exit);
	if (all || !strcmp(cmd, "fork_exec")) {
		if (!all && a1)
			exec_path = a1;
		known = 1, report_op("fork_exec", "fork_exec_us", op_fork_exec);
	}
	if (all || !strcmp(cmd, "pipe"))
		known = 1, bench_pipe();
	if (all || !strcmp(cmd, "mmap"))
		known = 1, report_op("mmap", "mmap_us", op_mmap);
	if (all || !strcmp(cmd, "disk"))
		known = 1, bench_disk(!all && a1 ? a1 : "/bench.dat", !all && a2 ? atol(a2) : 64);
	if (all || !strcmp(cmd, "shell"))
		known = 1, bench_shell(!all && a1 ? atol(a1) : 500, !all && a2 ? a2 : "/bin/sh");
	if (!known)
		return usage();
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	int poweroff = 0, i = 1;
	const char *env = getenv("BENCH_TARGET_MS");
	if (env && atof(env) > 0)
		target_s = atof(env) / 1e3;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--poweroff"))
			poweroff = 1;
		else if (!strncmp(argv[i], "--target=", 9) && atof(argv[i] + 9) > 0)
			target_s = atof(argv[i] + 9) / 1e3;
		else if (!strcmp(argv[i], "--target") && i + 1 < argc && atof(argv[i + 1]) > 0)
			target_s = atof(argv[++i]) / 1e3;
		else if (!strcmp(argv[i], "--"))
			continue;
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	int rc = run(argc - i, argv + i);
	if (poweroff) {
		/* Leave the root clean, as an init's shutdown would: the kernel's reboot() does
		 * not unmount anything, and ext4 would otherwise need journal recovery. */
		sync();
		mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
		reboot(RB_POWER_OFF);
		failed("reboot(RB_POWER_OFF)");
	}
	return rc;
}
