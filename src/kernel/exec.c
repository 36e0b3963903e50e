/* execve: ELF programs (ET_EXEC, static-pie and dynamic ones with an interpreter) and
 * #! scripts, with argv, envp and auxv laid out on the new stack exactly as Linux does. */
#define _GNU_SOURCE
#include "exec.h"
#include "mm.h"
#include "process.h"
#include "signal.h"
#include "syscalls.h"
#include "fs/fs.h"
#include <elf.h>
#include <limits.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>

#define ARG_MAX_BYTES (2u << 20)
#define ELF_ET_DYN_BASE 0x555555554000ULL
#define STACK_GUARD (1ULL << 20)

/* Argument strings copied into the kernel before the old image is destroyed. */
struct strv {
	char **v;
	int n;
	size_t bytes;
};

static void strv_free(struct strv *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int strv_push(struct strv *s, const char *str, int at)
{
	size_t len = strlen(str) + 1;
	if (s->bytes + len > ARG_MAX_BYTES)
		return -E2BIG;
	s->v = realloc(s->v, sizeof(char *) * (s->n + 2));
	memmove(s->v + at + 1, s->v + at, sizeof(char *) * (s->n - at));
	s->v[at] = xstrdup(str);
	s->n++;
	s->bytes += len;
	return 0;
}

static int strv_from_user(struct strv *s, uaddr_t uv)
{
	if (!uv)
		return 0;
	char *buf = xmalloc(PAGE_SIZE * 32);
	int err = 0;
	for (int i = 0;; i++) {
		uint64_t p;
		if ((err = GET_USER(p, uv + 8 * i)))
			break;
		if (!p)
			break;
		long n = strncpy_from_user(buf, p, PAGE_SIZE * 32);
		if (n < 0) {
			err = n == -ENAMETOOLONG ? -E2BIG : (int)n;
			break;
		}
		if ((err = strv_push(s, buf, s->n)))
			break;
	}
	free(buf);
	return err;
}

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;
	uaddr_t bias, entry, phdr_addr, end, brk;
};

static int read_image(struct file *f, struct image *im)
{
	if (kernel_read(f, &im->eh, sizeof(im->eh), 0) != sizeof(im->eh))
		return -ENOEXEC;
	Elf64_Ehdr *e = &im->eh;
	if (memcmp(e->e_ident, ELFMAG, SELFMAG) || e->e_ident[EI_CLASS] != ELFCLASS64 ||
	    e->e_ident[EI_DATA] != ELFDATA2LSB || e->e_machine != EM_X86_64 ||
	    (e->e_type != ET_EXEC && e->e_type != ET_DYN) || e->e_phentsize != sizeof(Elf64_Phdr) ||
	    e->e_phnum == 0 || e->e_phnum > 128)
		return -ENOEXEC;
	size_t sz = e->e_phnum * sizeof(Elf64_Phdr);
	im->ph = xmalloc(sz);
	if (kernel_read(f, im->ph, sz, e->e_phoff) != (ssize_t)sz) {
		free(im->ph);
		im->ph = NULL;
		return -ENOEXEC;
	}
	return 0;
}

static int elf_prot(uint32_t flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

/* Map the PT_LOAD segments at bias (for ET_DYN, bias 0 means "choose"). */
static int load_segments(struct file *f, struct image *im, bool is_interp)
{
	Elf64_Ehdr *e = &im->eh;
	uaddr_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < e->e_phnum; i++) {
		Elf64_Phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_filesz > p->p_memsz || (p->p_vaddr - p->p_offset) % PAGE_SIZE)
			return -ENOEXEC;
		lo = MIN(lo, ROUND_DOWN(p->p_vaddr, PAGE_SIZE));
		hi = MAX(hi, p->p_vaddr + p->p_memsz);
	}
	if (lo >= hi || hi - lo > task_size / 2)
		return -ENOEXEC;
	im->bias = 0;
	if (e->e_type == ET_DYN) {
		if (is_interp) {
			uaddr_t at = mm_find_free(current->mm, ROUND_UP(hi - lo, PAGE_SIZE));
			if (!at)
				return -ENOMEM;
			im->bias = at - lo;
		} else {
			im->bias = ELF_ET_DYN_BASE - lo;
		}
	}
	for (int i = 0; i < e->e_phnum; i++) {
		Elf64_Phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		uaddr_t start = ROUND_DOWN(p->p_vaddr, PAGE_SIZE) + im->bias;
		uaddr_t fend = p->p_vaddr + p->p_filesz + im->bias;
		uaddr_t mend = ROUND_UP(p->p_vaddr + p->p_memsz + im->bias, PAGE_SIZE);
		uint64_t off = ROUND_DOWN(p->p_offset, PAGE_SIZE);
		int prot = elf_prot(p->p_flags);
		/* Map the file part, clear what follows filesz in its last page (the file
		 * page may hold other data there) and map the rest as zeroes. */
		uaddr_t fpage_end = ROUND_UP(fend, PAGE_SIZE);
		long r;
		if (fpage_end > start) {
			r = do_mmap(start, fpage_end - start, prot, MAP_PRIVATE | MAP_FIXED, f,
				    off);
			if (r < 0)
				return (int)r;
		}
		if (p->p_memsz > p->p_filesz && fpage_end > fend) {
			static const char zeros[PAGE_SIZE];
			int err = copy_to_user(fend, zeros, fpage_end - fend);
			if (err)
				return err;
		}
		if (mend > fpage_end) {
			r = do_mmap(fpage_end, mend - fpage_end, prot,
				    MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, NULL, 0);
			if (r < 0)
				return (int)r;
		}
		if (p->p_offset <= e->e_phoff && e->e_phoff < p->p_offset + p->p_filesz)
			im->phdr_addr = p->p_vaddr + (e->e_phoff - p->p_offset) + im->bias;
		im->end = MAX(im->end, mend);
	}
	for (int i = 0; i < e->e_phnum; i++)
		if (im->ph[i].p_type == PT_PHDR)
			im->phdr_addr = im->ph[i].p_vaddr + im->bias;
	im->entry = e->e_entry + im->bias;
	return 0;
}

/* Push bytes down the new stack. */
static uaddr_t push(uaddr_t *sp, const void *data, size_t n)
{
	*sp -= n;
	copy_to_user(*sp, data, n);
	return *sp;
}

static int setup_stack(struct strv *argv, struct strv *envp, const char *execfn, struct image *im,
		       struct image *interp, uaddr_t *sp_out)
{
	struct mm *mm = current->mm;
	/* The stack starts small (room for the arguments and a little more) and grows on
	 * demand up to RLIMIT_STACK; mmap space starts below its largest extent. */
	uint64_t stack_max = MIN(current->proc->rlim[RLIMIT_STACK].rlim_cur, 1ull << 30);
	stack_max = MAX(stack_max, 128ull << 10);
	uint64_t stack_size =
	    ROUND_UP(argv->bytes + envp->bytes + (argv->n + envp->n) * 8 + PAGE_SIZE, PAGE_SIZE) +
	    STACK_INITIAL;
	uaddr_t top = task_size - PAGE_SIZE;
	long r = do_mmap(top - stack_size, stack_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, NULL, 0);
	if (r < 0)
		return (int)r;
	mm->start_stack = top;
	mm->mmap_base = top - MAX(stack_max, stack_size) - STACK_GUARD;

	uaddr_t sp = top;
	uint64_t zero = 0;
	push(&sp, &zero, 8);
	uaddr_t fn_addr = push(&sp, execfn, strlen(execfn) + 1);
	uaddr_t *envp_addr = xmalloc(sizeof(uaddr_t) * (envp->n + 1));
	uaddr_t *argv_addr = xmalloc(sizeof(uaddr_t) * (argv->n + 1));
	mm->env_end = sp;
	for (int i = envp->n - 1; i >= 0; i--)
		envp_addr[i] = push(&sp, envp->v[i], strlen(envp->v[i]) + 1);
	mm->env_start = sp;
	mm->arg_end = sp;
	for (int i = argv->n - 1; i >= 0; i--)
		argv_addr[i] = push(&sp, argv->v[i], strlen(argv->v[i]) + 1);
	mm->arg_start = sp;
	uaddr_t platform_addr = push(&sp, "x86_64", 7);
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	uaddr_t rnd_addr = push(&sp, rnd, sizeof(rnd));
	sp &= ~15ULL;

	struct plat_layout lay;
	platform->layout(&lay);
	struct creds *c = &current->proc->cred;
	uint64_t aux[] = {
	    AT_SYSINFO_EHDR, lay.vdso,
	    AT_MINSIGSTKSZ,  getauxval(AT_MINSIGSTKSZ) ? getauxval(AT_MINSIGSTKSZ) : 2048,
	    AT_HWCAP,	     getauxval(AT_HWCAP),
	    AT_PAGESZ,	     PAGE_SIZE,
	    AT_CLKTCK,	     100,
	    AT_PHDR,	     im->phdr_addr,
	    AT_PHENT,	     sizeof(Elf64_Phdr),
	    AT_PHNUM,	     im->eh.e_phnum,
	    AT_BASE,	     interp ? interp->bias : 0,
	    AT_FLAGS,	     0,
	    AT_ENTRY,	     im->entry,
	    AT_UID,	     c->uid,
	    AT_EUID,	     c->euid,
	    AT_GID,	     c->gid,
	    AT_EGID,	     c->egid,
	    AT_SECURE,	     0,
	    AT_RANDOM,	     rnd_addr,
	    AT_HWCAP2,	     getauxval(AT_HWCAP2),
	    AT_EXECFN,	     fn_addr,
	    AT_PLATFORM,     platform_addr,
	    AT_NULL,	     0,
	};
	int skip = lay.vdso ? 0 : 2; /* no vDSO: leave out AT_SYSINFO_EHDR */
	size_t naux = ARRAY_SIZE(aux) - skip;
	size_t words = 1 + argv->n + 1 + envp->n + 1 + naux;
	if (words % 2)
		sp -= 8; /* keep the final rsp 16-byte aligned */
	push(&sp, aux + skip, naux * 8);
	mm->auxv_start = sp;
	mm->auxv_end = sp + naux * 8;
	push(&sp, &zero, 8);
	for (int i = envp->n - 1; i >= 0; i--)
		push(&sp, &envp_addr[i], 8);
	push(&sp, &zero, 8);
	for (int i = argv->n - 1; i >= 0; i--)
		push(&sp, &argv_addr[i], 8);
	uint64_t argc = argv->n;
	push(&sp, &argc, 8);
	free(envp_addr);
	free(argv_addr);
	*sp_out = sp;
	return 0;
}

/* A #! line: interpreter and optional single argument. 0 if not a script. */
static int parse_shebang(struct file *f, char *interp, size_t isz, char *arg, size_t asz)
{
	char buf[256];
	ssize_t n = kernel_read(f, buf, sizeof(buf) - 1, 0);
	if (n < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	buf[n] = 0;
	char *nl = strchr(buf, '\n');
	if (!nl && n == (ssize_t)sizeof(buf) - 1)
		return -ENOEXEC;
	if (nl)
		*nl = 0;
	char *p = buf + 2;
	while (*p == ' ' || *p == '\t')
		p++;
	char *end = p;
	while (*end && *end != ' ' && *end != '\t')
		end++;
	if (end == p)
		return -ENOEXEC;
	char *rest = end;
	if (*rest)
		*rest++ = 0;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	size_t rl = strlen(rest);
	while (rl && (rest[rl - 1] == ' ' || rest[rl - 1] == '\t'))
		rest[--rl] = 0;
	snprintf(interp, isz, "%s", p);
	snprintf(arg, asz, "%s", rest);
	return 1;
}

static void set_comm(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	snprintf(current->proc->comm, sizeof(current->proc->comm), "%s", b);
	snprintf(current->name, sizeof(current->name), "%s", b);
}

/* The new image replaces the old from here on; failures kill the process. */
static int exec_image(struct file *f, struct image *im, struct file *interp_f, struct strv *argv,
		      struct strv *envp, const char *execfn)
{
	struct task *t = current;
	struct process *p = t->proc;
	if (p->nthreads > 1) {
		zap_other_threads(p);
		while (p->nthreads > 1)
			yield();
	}
	/* A fresh address space when the old one is shared (vfork, CLONE_VM). */
	if (t->mm->refcount > 1) {
		struct uthread *ut;
		int err = platform->spawn(&ut);
		if (err)
			return err;
		mm_put(t->mm);
		t->mm = mm_new();
		task_set_uthread(t, ut);
	} else {
		int err = platform->exec_reset(t->ut);
		if (err)
			return err;
		struct mm *old = t->mm;
		t->mm = mm_new();
		mm_put(old);
	}
	vfork_release(t);
	struct mm *mm = t->mm;
	mm->mmap_base = task_size - (64ull << 20) - STACK_GUARD;
	int err = load_segments(f, im, false);
	if (err)
		return err;
	struct image interp = {0};
	if (interp_f) {
		if ((err = read_image(interp_f, &interp)))
			return err;
		err = load_segments(interp_f, &interp, true);
		free(interp.ph);
		if (err)
			return err;
	}
	mm->start_brk = mm->brk = ROUND_UP(im->end, PAGE_SIZE);
	uaddr_t sp = 0;
	if ((err = setup_stack(argv, envp, execfn, im, interp_f ? &interp : NULL, &sp)))
		return err;
	mm->exe = f->inode;
	igrab(mm->exe);
	mm->exe_path = f->path;
	if (mm->exe_path.dentry)
		path_get(&mm->exe_path);

	struct uregs *r = &t->regs;
	uint64_t cs = r->cs, ss = r->ss, ds = r->ds, es = r->es;
	memset(r, 0, sizeof(*r));
	r->cs = cs, r->ss = ss, r->ds = ds, r->es = es;
	r->rip = interp_f ? interp.entry : im->entry;
	r->rsp = sp;
	r->eflags = 0x202;
	struct ufpregs fp;
	memset(&fp, 0, sizeof(fp));
	fp.fxsave[0] = 0x7f; /* FCW 0x037f */
	fp.fxsave[1] = 0x03;
	uint32_t mxcsr = 0x1f80;
	memcpy(&fp.fxsave[24], &mxcsr, 4);
	platform->set_fpregs(t->ut, &fp);

	signals_exec_reset(t);
	fdtable_close_on_exec(t->files);
	set_comm(execfn);
	t->clear_child_tid = 0;
	t->robust_list = 0;
	return 0;
}

int do_execve(int dirfd, const char *path, struct strv_in *in, int at_flags)
{
	struct strv argv = {0}, envp = {0};
	int err = 0;
	for (int i = 0; in->argv && in->argv[i] && !err; i++)
		err = strv_push(&argv, in->argv[i], argv.n);
	for (int i = 0; in->envp && in->envp[i] && !err; i++)
		err = strv_push(&envp, in->envp[i], envp.n);
	if (!err)
		err = execve_strv(dirfd, path, &argv, &envp, at_flags);
	strv_free(&argv);
	strv_free(&envp);
	return err;
}

int execve_strv(int dirfd, const char *path, struct strv *argv, struct strv *envp, int at_flags)
{
	char filename[PATH_MAX];
	snprintf(filename, sizeof(filename), "%s", path);
	struct file *f = NULL, *interp_f = NULL;
	int err;
	for (int depth = 0;; depth++) {
		if (depth > 4)
			return -ELOOP;
		if ((err = vfs_open_exec(dirfd, filename, at_flags, &f)))
			return err;
		char interp[PATH_MAX], arg[PATH_MAX];
		int sh = parse_shebang(f, interp, sizeof(interp), arg, sizeof(arg));
		if (sh <= 0)
			break;
		/* argv[0] becomes interp [arg] path; the old argv[0] is dropped. */
		if (argv->n)
			free(argv->v[0]), memmove(argv->v, argv->v + 1, --argv->n * sizeof(char *));
		strv_push(argv, filename, 0);
		if (*arg)
			strv_push(argv, arg, 0);
		strv_push(argv, interp, 0);
		snprintf(filename, sizeof(filename), "%s", interp);
		dirfd = AT_FDCWD;
		at_flags = 0;
		fput(f);
		f = NULL;
	}
	struct image im = {0};
	if ((err = read_image(f, &im)))
		goto out;
	for (int i = 0; i < im.eh.e_phnum; i++) {
		Elf64_Phdr *p = &im.ph[i];
		if (p->p_type != PT_INTERP)
			continue;
		char ipath[PATH_MAX];
		if (p->p_filesz < 2 || p->p_filesz >= sizeof(ipath) ||
		    kernel_read(f, ipath, p->p_filesz, p->p_offset) != (ssize_t)p->p_filesz) {
			err = -ENOEXEC;
			goto out;
		}
		ipath[p->p_filesz] = 0;
		if ((err = vfs_open_exec(AT_FDCWD, ipath, 0, &interp_f)))
			goto out;
	}
	if (!argv->n)
		strv_push(argv, "", 0); /* never leave argv[0] NULL */
	err = exec_image(f, &im, interp_f, argv, envp, filename);
	if (err) {
		/* Past the point of no return: the old image is gone. */
		printk("exec %s: cannot set up the new image (error %d)\n", filename, err);
		do_exit(SIGSEGV, true);
	}
out:
	free(im.ph);
	if (interp_f)
		fput(interp_f);
	if (f)
		fput(f);
	return err;
}

static long sys_execve_common(int dirfd, uaddr_t upath, uaddr_t uargv, uaddr_t uenvp, int flags)
{
	char *path;
	int err = getname(upath, &path);
	if (err == -ENOENT && (flags & AT_EMPTY_PATH)) {
		path = xstrdup("");
		err = 0;
	}
	if (err)
		return err;
	struct strv argv = {0}, envp = {0};
	err = strv_from_user(&argv, uargv);
	if (!err)
		err = strv_from_user(&envp, uenvp);
	if (!err)
		err = execve_strv(dirfd, path, &argv, &envp, flags);
	strv_free(&argv);
	strv_free(&envp);
	free(path);
	/* Success: rax of the new image starts at 0. */
	return err;
}

SYSCALL(execve)
{
	return sys_execve_common(AT_FDCWD, a[0], a[1], a[2], 0);
}

SYSCALL(execveat)
{
	return sys_execve_common((int)a[0], a[1], a[2], a[3], (int)a[4]);
}
