/* memhog: a guest that tries to use more memory than mem= gives it (boot with mem=64M).
 * Guest memory is host memory (anonymous pages live in the guest's host processes, files
 * in tmpfs and pipes in the kernel's heap), so mem= is what keeps the host unharmed.
 *
 *   malloc     malloc(200 MiB) fails; 1 MiB chunks, each touched, run out by ~mem=
 *   brk        brk() in 1 MiB steps, each touched, stops by ~mem=
 *   noreserve  mmap(200 MiB, MAP_NORESERVE) then touch it: the mapping is refused or the
 *              toucher is stopped (Linux: OOM kill) before it holds ~mem=
 *   filemap    a 1-page file mapped 200 MiB PROT_READ (not counted, as it is not
 *              writable), mprotect'ed writable, then touched: refused or stopped (Linux:
 *              SIGBUS past the end of the file)
 *   tmpfs      write to a tmpfs and to /dev (devtmpfs) until ENOSPC/ENOMEM: before ~mem=
 *   pipes      fill pipes (kernel memory) in 4 processes: bounded by ~mem=
 *
 * "~mem=" is LIMIT_MB (1.5 x 64 MiB); the attacks stop themselves at CAP_MB. */
#include "hostile.h"
#include <sys/mount.h>

#define LIMIT_MB 96
#define CAP_MB 200

/* --- malloc ------------------------------------------------------------------------- */
static void attack_malloc(void)
{
	void *big = malloc((size_t)CAP_MB << 20);
	if (!big)
		PASS("malloc", "malloc(%d MiB) -> NULL (%s)", CAP_MB, strerror(errno));
	else
		FAIL("malloc", "malloc(%d MiB) succeeded with mem=64M", CAP_MB);
	free(big);
	int mb = 0;
	static void *chunks[CAP_MB];
	while (mb < CAP_MB) {
		char *c = malloc(1 << 20);
		if (!c)
			break;
		memset(c, 1, 1 << 20);
		chunks[mb++] = c;
	}
	if (mb <= LIMIT_MB)
		PASS("malloc", "1 MiB chunks, touched: NULL after %d MiB", mb);
	else
		FAIL("malloc", "1 MiB chunks, touched: %d MiB allocated with mem=64M", mb);
	for (int i = 0; i < mb; i++)
		free(chunks[i]);
	/* Memory comes back. */
	char *c = malloc(8 << 20);
	if (c) {
		memset(c, 2, 8 << 20);
		PASS("malloc", "8 MiB again after freeing");
	} else {
		FAIL("malloc", "cannot allocate 8 MiB after freeing everything");
	}
	free(c);
}

/* --- brk ---------------------------------------------------------------------------- */
static void attack_brk(void)
{
	long base = raw1(SYS_brk, 0), cur = base;
	int mb = 0;
	while (mb < CAP_MB) {
		long want = cur + (1 << 20);
		long r = raw1(SYS_brk, want);
		if (r != want)
			break;
		memset((void *)cur, 1, 1 << 20);
		cur = want;
		mb++;
	}
	if (mb <= LIMIT_MB)
		PASS("brk", "brk stopped after %d MiB", mb);
	else
		FAIL("brk", "brk grew %d MiB with mem=64M", mb);
	raw1(SYS_brk, base);
}

/* --- noreserve / filemap: touch in a child, report progress through a pipe ------------ */
/* Touch len bytes at m, one write per page; the parent learns how many MiB were done. */
static int touch_in_child(char *m, size_t len, const char *what, int *sig_out)
{
	int pfd[2];
	if (pipe(pfd))
		return -1;
	pid_t p = fork();
	if (p == 0) {
		close(pfd[0]);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		for (size_t off = 0; off < len; off += 4096) {
			m[off] = 1;
			if ((off & ((1 << 20) - 1)) == (1 << 20) - 4096 &&
			    write(pfd[1], "m", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	int mb = 0;
	char buf[64];
	ssize_t n;
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
		mb += n;
	close(pfd[0]);
	int st = 0;
	waitpid(p, &st, 0);
	*sig_out = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	INFO("touch", "%s: touched %d MiB, child %s %d", what, mb,
	     WIFSIGNALED(st) ? "killed by signal" : "exited",
	     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return mb;
}

static void attack_noreserve(void)
{
	size_t len = (size_t)CAP_MB << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		PASS("noreserve", "mmap(%d MiB, MAP_NORESERVE) -> %s", CAP_MB, strerror(errno));
		return;
	}
	int sig, mb = touch_in_child(m, len, "MAP_NORESERVE", &sig);
	if (mb <= LIMIT_MB)
		PASS("noreserve", "MAP_NORESERVE: stopped after %d MiB (%s)", mb, signame(sig));
	else
		FAIL("noreserve",
		     "MAP_NORESERVE mapping of %d MiB: %d MiB touched with mem=64M "
		     "(not counted against mem=)",
		     CAP_MB, mb);
	munmap(m, len);
	/* MAP_GROWSDOWN is not counted either. */
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1,
		 0);
	if (m == MAP_FAILED) {
		PASS("noreserve", "mmap(%d MiB, MAP_GROWSDOWN) -> %s", CAP_MB, strerror(errno));
		return;
	}
	mb = touch_in_child(m, len, "MAP_GROWSDOWN", &sig);
	if (mb <= LIMIT_MB)
		PASS("noreserve", "MAP_GROWSDOWN: stopped after %d MiB (%s)", mb, signame(sig));
	else
		FAIL("noreserve", "MAP_GROWSDOWN mapping of %d MiB: %d MiB touched with mem=64M",
		     CAP_MB, mb);
	munmap(m, len);
}

static void attack_filemap(void)
{
	int fd = open("/root/.hostile-onepage", O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1) {
		FAIL("filemap", "cannot make a file: %s", strerror(errno));
		return;
	}
	size_t len = (size_t)CAP_MB << 20;
	char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	unlink("/root/.hostile-onepage");
	if (m == MAP_FAILED) {
		PASS("filemap", "mmap(1-page file, %d MiB) -> %s", CAP_MB, strerror(errno));
		return;
	}
	if (mprotect(m, len, PROT_READ | PROT_WRITE)) {
		PASS("filemap", "mprotect(%d MiB private file map, RW) -> %s", CAP_MB,
		     strerror(errno));
		munmap(m, len);
		return;
	}
	int sig, mb = touch_in_child(m, len, "file map made writable", &sig);
	if (mb <= LIMIT_MB)
		PASS("filemap", "writable private file map: stopped after %d MiB (%s)", mb,
		     signame(sig));
	else
		FAIL("filemap",
		     "a 1-page file mapped %d MiB, mprotect'ed writable: %d MiB "
		     "touched with mem=64M (mprotect does not count it)",
		     CAP_MB, mb);
	munmap(m, len);
}

/* --- tmpfs -------------------------------------------------------------------------- */
static int fill(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	static char buf[1 << 20];
	memset(buf, 0x5a, sizeof(buf));
	int mb = 0;
	while (mb < CAP_MB && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		mb++;
	int err = errno;
	close(fd);
	INFO("tmpfs", "%s: %d MiB written, then %s", path, mb, mb < CAP_MB ? strerror(err) : "cap");
	return mb;
}

static void attack_tmpfs(void)
{
	mkdir("/mnt", 0755);
	mkdir("/mnt/hog", 0755);
	if (mount("tmpfs", "/mnt/hog", "tmpfs", 0, NULL)) {
		INFO("tmpfs", "mount tmpfs: %s", strerror(errno));
	} else {
		int mb = fill("/mnt/hog/big");
		if (mb >= 0 && mb <= LIMIT_MB)
			PASS("tmpfs", "tmpfs (default size) full after %d MiB", mb);
		else
			FAIL("tmpfs", "tmpfs took %d MiB with mem=64M", mb);
		unlink("/mnt/hog/big");
		umount("/mnt/hog");
	}
	/* A tmpfs with an explicit size larger than memory. */
	if (mount("tmpfs", "/mnt/hog", "tmpfs", 0, "size=1G") == 0) {
		int mb = fill("/mnt/hog/big");
		if (mb >= 0 && mb <= LIMIT_MB)
			PASS("tmpfs", "tmpfs size=1G full after %d MiB", mb);
		else
			FAIL("tmpfs",
			     "tmpfs size=1G took %d MiB of kernel (host) memory with mem=64M", mb);
		unlink("/mnt/hog/big");
		umount("/mnt/hog");
	}
	/* devtmpfs on /dev. */
	int mb = fill("/dev/hostile-hog");
	if (mb < 0)
		INFO("tmpfs", "cannot create a file in /dev: %s", strerror(errno));
	else if (mb <= LIMIT_MB)
		PASS("tmpfs", "/dev (devtmpfs) full after %d MiB", mb);
	else
		FAIL("tmpfs", "/dev (devtmpfs) took %d MiB with mem=64M", mb);
	unlink("/dev/hostile-hog");
	/* And it all comes back. */
	char *c = malloc(16 << 20);
	if (c) {
		memset(c, 1, 16 << 20);
		PASS("tmpfs", "16 MiB can be allocated after removing the files");
	} else {
		FAIL("tmpfs", "16 MiB cannot be allocated after removing the files");
	}
	free(c);
}

/* --- pipes -------------------------------------------------------------------------- */
/* Each of NPROC processes fills as many pipes as its descriptors allow; what they hold is
 * the kernel's memory. Each reports the KiB it got into pipes. */
#define PIPE_PROCS 4
static void attack_pipes(void)
{
	int rp[2];
	if (pipe(rp))
		return;
	pid_t kids[PIPE_PROCS];
	for (int k = 0; k < PIPE_PROCS; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			static char buf[65536];
			long kb = 0;
			for (int i = 0; i < 500 && kb < ((long)CAP_MB << 10) / PIPE_PROCS; i++) {
				int p[2];
				if (pipe2(p, O_NONBLOCK))
					break;
				ssize_t w;
				while ((w = write(p[1], buf, sizeof(buf))) > 0)
					kb += w / 1024;
			}
			if (write(rp[1], &kb, sizeof(kb)) != sizeof(kb))
				_exit(1);
			for (;;)
				raw0(SYS_pause);
		}
	}
	close(rp[1]);
	long total = 0, kb;
	int got = 0;
	while (got < PIPE_PROCS && read(rp[0], &kb, sizeof(kb)) == sizeof(kb)) {
		total += kb;
		got++;
	}
	if (total / 1024 <= LIMIT_MB)
		PASS("pipes", "%d processes hold %ld MiB in pipes", got, total / 1024);
	else
		FAIL("pipes",
		     "%d processes hold %ld MiB in pipe buffers (kernel memory) with "
		     "mem=64M",
		     got, total / 1024);
	for (int k = 0; k < PIPE_PROCS; k++)
		if (kids[k] > 0)
			kill(kids[k], SIGKILL);
	for (int k = 0; k < PIPE_PROCS; k++)
		if (kids[k] > 0)
			waitpid(kids[k], NULL, 0);
}

static const struct attack attacks[] = {
    {"malloc", attack_malloc, END_EXIT0, 0, 60, "malloc and touch past mem=: NULL"},
    {"brk", attack_brk, END_EXIT0, 0, 60, "brk and touch past mem=: refused"},
    {"noreserve", attack_noreserve, END_EXIT0, 0, 60,
     "MAP_NORESERVE / MAP_GROWSDOWN mappings touched past mem="},
    {"filemap", attack_filemap, END_EXIT0, 0, 60,
     "a private file mapping made writable and touched past mem="},
    {"tmpfs", attack_tmpfs, END_EXIT0, 0, 60, "tmpfs and devtmpfs filled past mem="},
    {"pipes", attack_pipes, END_EXIT0, 0, 60, "pipe buffers in 4 processes past mem="},
};

int main(int argc, char **argv)
{
	return hostile_main(argc, argv, attacks, sizeof(attacks) / sizeof(attacks[0]));
}
