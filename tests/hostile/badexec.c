/* badexec: executables the guest kernel must refuse, without harm to itself or the host.
 *
 *   notelf     a file of text, an empty file, a truncated ELF header, a 32-bit ELF, an
 *              ELF for another machine: execve fails with ENOEXEC
 *   badelf     ELF64 files that lie: a PT_LOAD over the stub (0x7ffff0000000) or across
 *              the guest top, an entry point in the stub, a segment past the end of the
 *              file, filesz > memsz, a huge memsz, e_phnum 65535, a PT_INTERP naming the
 *              host secret, a PT_INTERP without its NUL; a sane one runs (the builder
 *              works). None may run its code anywhere near the stub.
 *   scripts    #! loops (ELOOP), #! naming the host secret (ENOENT), a #! line longer
 *              than Linux reads (ENOEXEC)
 *   argv       an argv of 100000 strings (E2BIG) and one that runs into unmapped memory
 *              (EFAULT)
 *
 * The tiny programs written here exit with code 77 if their code runs. */
#include "hostile.h"
#include <elf.h>

static const unsigned char exit77[] = {
    0xb8, 0x3c, 0x00, 0x00, 0x00, /* mov $60, %eax */
    0xbf, 0x4d, 0x00, 0x00, 0x00, /* mov $77, %edi */
    0x0f, 0x05,			  /* syscall */
    0xeb, 0xfe,			  /* jmp . */
};

/* An ELF64 executable: header, one PT_LOAD (and an optional PT_INTERP), code at 0x1000 of
 * the file. The caller adjusts the fields afterwards. */
struct elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	unsigned char pad[0x1000 - sizeof(Elf64_Ehdr) - 2 * sizeof(Elf64_Phdr)];
	unsigned char code[0x1000];
};

static void elf_init(struct elf *e, uint64_t vaddr)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_EXEC;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_version = EV_CURRENT;
	e->eh.e_entry = vaddr + 0x1000;
	e->eh.e_phoff = sizeof(Elf64_Ehdr);
	e->eh.e_ehsize = sizeof(Elf64_Ehdr);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = 1;
	e->ph[0].p_type = PT_LOAD;
	e->ph[0].p_flags = PF_R | PF_X;
	e->ph[0].p_offset = 0;
	e->ph[0].p_vaddr = e->ph[0].p_paddr = vaddr;
	e->ph[0].p_filesz = e->ph[0].p_memsz = sizeof(*e);
	e->ph[0].p_align = 0x1000;
	memcpy(e->code, exit77, sizeof(exit77));
}

static int write_file(const char *path, const void *data, size_t len)
{
	unlink(path);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
	if (fd < 0)
		return -1;
	ssize_t w = len ? write(fd, data, len) : 0;
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

/* Run path; returns the execve errno (0 if it ran) and the wait status in *st. */
static int run(const char *path, char **argv, int *st)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid_t p = fork();
	if (p == 0) {
		char *dflt[] = {(char *)path, NULL}, *envp[] = {NULL};
		close(pfd[0]);
		execve(path, argv ? argv : dflt, envp);
		int e = errno;
		if (write(pfd[1], &e, sizeof(e)) != sizeof(e))
			_exit(126);
		_exit(127);
	}
	close(pfd[1]);
	int err = 0;
	if (read(pfd[0], &err, sizeof(err)) != sizeof(err))
		err = 0;
	close(pfd[0]);
	*st = 0;
	waitpid(p, st, 0);
	return err;
}

static const char *how(int err, int st)
{
	static char b[4][96];
	static int k;
	char *s = b[k++ & 3];
	if (err)
		snprintf(s, 96, "execve failed: %s", strerrorname_np(err));
	else if (WIFEXITED(st))
		snprintf(s, 96, "ran, exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(s, 96, "killed by %s", signame(WTERMSIG(st)));
	else
		snprintf(s, 96, "status %#x", st);
	return s;
}

/* Expect execve to fail with want (0: any error). */
static void expect_err(const char *what, const char *path, int want)
{
	int st, err = run(path, NULL, &st);
	if (err && (!want || err == want))
		PASS("badexec", "%s: %s", what, how(err, st));
	else
		FAIL("badexec", "%s: %s, want execve to fail with %s", what, how(err, st),
		     want ? strerrorname_np(want) : "an error");
}

/* Expect the program not to run its code: execve fails, or the process is killed. */
static void expect_not_run(const char *what, const char *path)
{
	int st, err = run(path, NULL, &st);
	if (err || WIFSIGNALED(st))
		PASS("badexec", "%s: %s", what, how(err, st));
	else
		FAIL("badexec", "%s: %s (its code ran)", what, how(err, st));
}

/* --- notelf ------------------------------------------------------------------------- */
static void attack_notelf(void)
{
	mkdir("/tmp", 01777);
	write_file("/tmp/h-text", "garbage\001\002\003\n", 11);
	expect_err("a text file", "/tmp/h-text", ENOEXEC);
	write_file("/tmp/h-empty", "", 0);
	expect_err("an empty file", "/tmp/h-empty", ENOEXEC);
	struct elf e;
	elf_init(&e, 0x400000);
	write_file("/tmp/h-trunc", &e, 40);
	expect_err("40 bytes of an ELF header", "/tmp/h-trunc", ENOEXEC);
	elf_init(&e, 0x400000);
	e.eh.e_ident[EI_CLASS] = ELFCLASS32;
	write_file("/tmp/h-elf32", &e, sizeof(e));
	expect_not_run("an ELFCLASS32 file with a 64-bit body", "/tmp/h-elf32");
	elf_init(&e, 0x400000);
	e.eh.e_machine = EM_AARCH64;
	write_file("/tmp/h-arm", &e, sizeof(e));
	expect_err("an aarch64 ELF", "/tmp/h-arm", ENOEXEC);
	elf_init(&e, 0x400000);
	e.eh.e_type = ET_REL;
	write_file("/tmp/h-rel", &e, sizeof(e));
	expect_err("an ET_REL object", "/tmp/h-rel", ENOEXEC);
}

/* --- badelf ------------------------------------------------------------------------- */
static void attack_badelf(void)
{
	mkdir("/tmp", 01777);
	struct elf e;
	int st, err;
	/* The builder: a sane program runs and exits 77. */
	elf_init(&e, 0x400000);
	write_file("/tmp/h-good", &e, sizeof(e));
	err = run("/tmp/h-good", NULL, &st);
	if (!err && WIFEXITED(st) && WEXITSTATUS(st) == 77)
		PASS("badelf", "a sane tiny ELF runs: %s", how(err, st));
	else
		FAIL("badelf",
		     "a sane tiny ELF: %s, want exit 77 (the test's ELF builder or "
		     "exec is broken)",
		     how(err, st));

	elf_init(&e, STUB_ADDR);
	write_file("/tmp/h-stub", &e, sizeof(e));
	expect_not_run("PT_LOAD at the stub's address", "/tmp/h-stub");
	elf_init(&e, STUB_ADDR - 0x1000);
	write_file("/tmp/h-stubhdr", &e, sizeof(e));
	expect_not_run("PT_LOAD over the stub's ELF header page", "/tmp/h-stubhdr");
	elf_init(&e, GUEST_TOP - 0x1000);
	e.ph[0].p_memsz = 0x3000;
	e.eh.e_entry = GUEST_TOP - 0x1000 + 0x1000 - sizeof(exit77);
	memcpy((char *)&e + 0x1000 - sizeof(exit77), exit77, sizeof(exit77));
	write_file("/tmp/h-top", &e, sizeof(e));
	expect_not_run("PT_LOAD across the guest top", "/tmp/h-top");
	elf_init(&e, 0x800000000000UL - 0x2000);
	write_file("/tmp/h-noncanon", &e, sizeof(e));
	expect_not_run("PT_LOAD at the top of the address space", "/tmp/h-noncanon");
	elf_init(&e, 0xffffffff81000000UL);
	write_file("/tmp/h-kernel", &e, sizeof(e));
	expect_not_run("PT_LOAD at a kernel address", "/tmp/h-kernel");

	/* The entry point in the stub (the segment itself is normal). */
	elf_init(&e, 0x400000);
	e.eh.e_entry = STUB_ADDR;
	write_file("/tmp/h-entry", &e, sizeof(e));
	err = run("/tmp/h-entry", NULL, &st);
	if (err || WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 77))
		PASS("badelf", "entry point at the stub: %s", how(err, st));
	else
		FAIL("badelf", "entry point at the stub: %s", how(err, st));

	elf_init(&e, 0x400000);
	e.ph[0].p_offset = 0x100000;
	write_file("/tmp/h-offset", &e, sizeof(e));
	expect_not_run("PT_LOAD past the end of the file", "/tmp/h-offset");
	elf_init(&e, 0x400000);
	e.ph[0].p_filesz = 0x10000;
	e.ph[0].p_memsz = 0x2000;
	write_file("/tmp/h-filesz", &e, sizeof(e));
	expect_not_run("p_filesz > p_memsz", "/tmp/h-filesz");
	elf_init(&e, 0x400000);
	e.ph[0].p_memsz = 1UL << 46;
	write_file("/tmp/h-huge", &e, sizeof(e));
	expect_not_run("p_memsz = 64 TiB", "/tmp/h-huge");
	elf_init(&e, 0x400000);
	e.ph[0].p_vaddr = 0x400123;
	write_file("/tmp/h-align", &e, sizeof(e));
	err = run("/tmp/h-align", NULL, &st);
	INFO("badelf", "a misaligned p_vaddr: %s", how(err, st));
	elf_init(&e, 0x400000);
	e.eh.e_phnum = 65535;
	write_file("/tmp/h-phnum", &e, sizeof(e));
	expect_err("e_phnum 65535", "/tmp/h-phnum", 0);
	elf_init(&e, 0x400000);
	e.eh.e_phentsize = 1;
	write_file("/tmp/h-phentsize", &e, sizeof(e));
	expect_err("e_phentsize 1", "/tmp/h-phentsize", 0);
	elf_init(&e, 0x400000);
	e.eh.e_phoff = 1UL << 40;
	write_file("/tmp/h-phoff", &e, sizeof(e));
	expect_err("e_phoff 1 TiB", "/tmp/h-phoff", 0);

	/* PT_INTERP: the host secret's path, then one with no NUL, then a huge one. */
	elf_init(&e, 0x400000);
	e.eh.e_phnum = 2;
	e.ph[1] = e.ph[0];
	e.ph[1].p_type = PT_INTERP;
	e.ph[1].p_offset = 0x800;
	e.ph[1].p_filesz = strlen(secret_path) + 1;
	snprintf((char *)&e + 0x800, 0x400, "%s", secret_path);
	write_file("/tmp/h-interp", &e, sizeof(e));
	expect_err("PT_INTERP = the host secret's path", "/tmp/h-interp", ENOENT);
	e.ph[1].p_filesz = strlen(secret_path); /* no NUL */
	write_file("/tmp/h-interp-nonul", &e, sizeof(e));
	expect_err("PT_INTERP without its NUL", "/tmp/h-interp-nonul", 0);
	e.ph[1].p_filesz = 1UL << 30;
	write_file("/tmp/h-interp-huge", &e, sizeof(e));
	expect_err("PT_INTERP of 1 GiB", "/tmp/h-interp-huge", 0);
	/* PT_INTERP = itself: an interpreter that names an interpreter. */
	snprintf((char *)&e + 0x800, 0x400, "/tmp/h-interp-self");
	e.ph[1].p_filesz = strlen("/tmp/h-interp-self") + 1;
	write_file("/tmp/h-interp-self", &e, sizeof(e));
	err = run("/tmp/h-interp-self", NULL, &st);
	INFO("badelf", "PT_INTERP naming itself: %s", how(err, st));
}

/* --- scripts ------------------------------------------------------------------------ */
static void attack_scripts(void)
{
	mkdir("/tmp", 01777);
	const char *loop = "#!/tmp/h-loop\n";
	write_file("/tmp/h-loop", loop, strlen(loop));
	expect_err("#! naming itself", "/tmp/h-loop", ELOOP);
	write_file("/tmp/h-loop-a", "#!/tmp/h-loop-b\n", 16);
	write_file("/tmp/h-loop-b", "#!/tmp/h-loop-a\n", 16);
	expect_err("two #! scripts naming each other", "/tmp/h-loop-a", ELOOP);
	char buf[600];
	snprintf(buf, sizeof(buf), "#!%s\n", secret_path);
	write_file("/tmp/h-secret", buf, strlen(buf));
	expect_err("#! naming the host secret", "/tmp/h-secret", ENOENT);
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "#!/", 3);
	buf[sizeof(buf) - 1] = '\n';
	write_file("/tmp/h-long", buf, sizeof(buf));
	expect_err("a #! line of 600 bytes", "/tmp/h-long", 0);
	/* A sane script runs (through busybox sh). */
	const char *ok = "#!/bin/sh\nexit 77\n";
	write_file("/tmp/h-ok", ok, strlen(ok));
	int st, err = run("/tmp/h-ok", NULL, &st);
	if (!err && WIFEXITED(st) && WEXITSTATUS(st) == 77)
		PASS("scripts", "a sane #! script runs");
	else
		FAIL("scripts", "a sane #! script: %s, want exit 77", how(err, st));
}

/* --- argv --------------------------------------------------------------------------- */
static void attack_argv(void)
{
	/* 100000 pointers to one 1000-byte string: 100 MB of arguments. */
	enum { N = 100000 };
	char **argv = malloc((N + 1) * sizeof(char *));
	static char arg[1000];
	memset(arg, 'x', sizeof(arg) - 1);
	for (int i = 0; i < N; i++)
		argv[i] = arg;
	argv[N] = NULL;
	int st, err = run("/bin/true", argv, &st);
	if (err == E2BIG)
		PASS("argv", "100 MB of arguments: E2BIG");
	else
		FAIL("argv", "100 MB of arguments: %s, want E2BIG", how(err, st));
	free(argv);
	/* An argv array that runs into an unmapped page without a NULL. */
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	char **bad = (char **)page;
	for (int i = 0; i < 4096 / 8; i++)
		bad[i] = arg;
	err = run("/bin/true", bad, &st);
	if (err == EFAULT || err == E2BIG)
		PASS("argv", "argv without its NULL, into an unmapped page: %s",
		     strerrorname_np(err));
	else
		FAIL("argv", "argv without its NULL: %s, want EFAULT", how(err, st));
	/* Pointers into the stub and past the guest top. */
	char *odd[] = {"true", (char *)STUB_ADDR, (char *)(GUEST_TOP + 0x1000), NULL};
	err = run("/bin/true", odd, &st);
	INFO("argv", "argv strings in the stub / past the guest top: %s", how(err, st));
	if (err == EFAULT)
		PASS("argv", "argv pointing past the guest top: EFAULT");
	else
		INFO("argv",
		     "argv pointing into the stub was read by the kernel (%s): harmless, "
		     "Linux says EFAULT",
		     how(err, st));
}

static const struct attack attacks[] = {
    {"notelf", attack_notelf, END_EXIT0, 0, 60, "non-ELF and foreign ELF files: ENOEXEC"},
    {"badelf", attack_badelf, END_EXIT0, 0, 60,
     "ELF64 files whose segments, entry or interpreter lie"},
    {"scripts", attack_scripts, END_EXIT0, 0, 60, "#! loops, #! host paths, long #! lines"},
    {"argv", attack_argv, END_EXIT0, 0, 60, "huge and unterminated argv"},
};

int main(int argc, char **argv)
{
	return hostile_main(argc, argv, attacks, sizeof(attacks) / sizeof(attacks[0]));
}
