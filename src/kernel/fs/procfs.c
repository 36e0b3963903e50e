/* procfs: processes and kernel state as text files, in Linux's exact formats (busybox
 * ps/top/free/mount/df/uptime/pidof parse them). Inodes are built at lookup from the
 * tables below; a pid, tid or fd names its object by number only, so an inode whose
 * process is gone resolves to -ENOENT. */
#include "fs.h"
#include "pagecache.h"
#include "pseudofs.h"
#include "../blkdev.h"
#include "../drivers/tty.h"
#include "../process.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PROC_SUPER_MAGIC 0x9fa0
#define USER_HZ 100
#define NS_PER_TICK (1000000000ull / USER_HZ)
#define ARGS_MAX (256u << 10) /* at most this much of cmdline/environ */
#define CAP_FULL 0x000001ffffffffffull

/* Arguments of procfs inodes (struct pinode.arg). */
enum { A_PID, A_TID, A_FD };

static char *kernel_cmdline;

void procfs_set_cmdline(const char *cmdline)
{
	free(kernel_cmdline);
	kernel_cmdline = xstrdup(cmdline);
}

typedef unsigned long long ull;

/* --- helpers ------------------------------------------------------------------------ */

static struct task *proc_leader(struct process *p)
{
	if (list_empty(&p->threads))
		return NULL;
	return list_entry(p->threads.next, struct task, thread_link);
}

/* The process and task an inode is about; t is the thread of a task/<tid> entry,
 * otherwise NULL (the process as a whole). */
struct pctx {
	struct process *p;
	struct task *t;
};

static int pctx_get(struct inode *i, struct pctx *c)
{
	const struct pinode *pi = PINODE(i);
	c->p = find_process(pi->arg[A_PID]);
	c->t = NULL;
	if (!c->p)
		return -ENOENT;
	if (pi->arg[A_TID]) {
		c->t = find_task(pi->arg[A_TID]);
		if (!c->t || c->t->proc != c->p)
			return -ENOENT;
	}
	return 0;
}

/* The task whose mm, files and fs stand for the process. */
static struct task *ctx_task(struct process *p, struct task *t)
{
	return t ? t : proc_leader(p);
}

static struct mm *proc_mm(struct process *p, struct task *t)
{
	t = ctx_task(p, t);
	return p->state == PROC_ZOMBIE || p->state == PROC_DEAD || !t ? NULL : t->mm;
}

/* Paths are shown as the reading task sees them (from its root). */
static void reader_root(struct path *root)
{
	if (current && current->fs) {
		*root = current->fs->root;
	} else {
		root->mnt = root_mount;
		root->dentry = root_mount ? root_mount->root : NULL;
	}
}

/* p as a NUL-terminated string in buf (PATH_MAX bytes): its length or -errno. */
static int path_str(const struct path *p, char *buf)
{
	struct path root;
	if (!p->mnt || !p->dentry)
		return -ENOENT;
	reader_root(&root);
	int n = path_to_string(p, &root, buf, PATH_MAX - 1);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static int put_path(struct seqbuf *s, const struct path *p)
{
	char *buf = xmalloc(PATH_MAX);
	int n = path_str(p, buf);
	if (n >= 0) {
		seqbuf_write(s, buf, n);
		if (p->dentry->deleted)
			seqbuf_puts(s, " (deleted)");
	}
	free(buf);
	return n < 0 ? n : 0;
}

/* A decimal number as a directory entry names it: no sign, no leading zero. */
static bool parse_num(const char *s, long *out)
{
	char *end;
	if (*s < '0' || *s > '9' || (*s == '0' && s[1]))
		return false;
	long v = strtol(s, &end, 10);
	if (*end || v > INT_MAX)
		return false;
	*out = v;
	return true;
}

static ull ticks(uint64_t ns)
{
	return ns / NS_PER_TICK;
}

/* Seconds with two decimals, as /proc/uptime prints them. */
static void put_centisecs(struct seqbuf *s, uint64_t ns)
{
	seqbuf_printf(s, "%llu.%02llu", (ull)(ns / 1000000000), (ull)(ns / 10000000 % 100));
}

static uint64_t uptime_ns(void)
{
	return ktime_mono() - boot_mono_ns;
}

static void cpu_list(char *buf, size_t size)
{
	int n = pseudo_ncpus();
	if (n == 1)
		snprintf(buf, size, "0");
	else
		snprintf(buf, size, "0-%d", n - 1);
}

/* --- /proc/<pid>/stat, statm, status ------------------------------------------------ */

/* Sizes of a process's kinds of memory, from its areas (bytes). */
struct vm_summary {
	uint64_t data, stack, exe, lib;
	uaddr_t start_code, end_code, start_data, end_data;
};

static void vm_summarize(struct mm *mm, struct vm_summary *v)
{
	memset(v, 0, sizeof(*v));
	if (!mm)
		return;
	list_for_each(it, &mm->vmas)
	{
		struct vma *a = list_entry(it, struct vma, link);
		uint64_t len = a->end - a->start;
		bool exe = a->file && a->file == mm->exe;
		if ((a->flags & MAP_GROWSDOWN) ||
		    (a->start <= mm->start_stack && mm->start_stack < a->end)) {
			v->stack += len;
		} else if (a->prot & PROT_EXEC) {
			if (!exe) {
				v->lib += len;
				continue;
			}
			v->exe += len;
			v->start_code = v->start_code ? v->start_code : a->start;
			v->end_code = a->end;
		} else if ((a->prot & PROT_WRITE) && !(a->flags & MAP_SHARED)) {
			v->data += len;
			if (exe) {
				v->start_data = v->start_data ? v->start_data : a->start;
				v->end_data = a->end;
			}
		}
	}
}

static char proc_state(struct process *p, struct task *t)
{
	if (p->state == PROC_ZOMBIE)
		return 'Z';
	if (p->state == PROC_DEAD || (t && t->state == TASK_DEAD))
		return 'X';
	if (p->state == PROC_STOPPED || (t && t->stopped))
		return 'T';
	if (t && (t == current || t->in_user || t->state == TASK_RUNNING))
		return 'R';
	return 'S';
}

static const char *state_name(char st)
{
	switch (st) {
	case 'R':
		return "R (running)";
	case 'T':
		return "T (stopped)";
	case 'Z':
		return "Z (zombie)";
	case 'X':
		return "X (dead)";
	default:
		return "S (sleeping)";
	}
}

/* Signals ignored and caught, from the process's handlers. */
static void sig_dispositions(struct process *p, ksigset_t *ign, ksigset_t *catch)
{
	*ign = *catch = 0;
	for (int sig = 1; p->sighand && sig <= NSIG_K; sig++) {
		uint64_t h = p->sighand->action[sig - 1].handler;
		if (h == 1)
			*ign |= SIGBIT(sig);
		else if (h > 1)
			*catch |= SIGBIT(sig);
	}
}

/* tty_nr as Linux encodes a device number for /proc (new_encode_dev). */
static unsigned tty_nr(struct process *p)
{
	if (!p->tty)
		return 0;
	unsigned ma = major(p->tty->dev), mi = minor(p->tty->dev);
	return (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
}

int proc_pid_stat_show(struct seqbuf *s, struct process *p, struct task *t)
{
	struct task *lt = ctx_task(p, t);
	struct mm *mm = proc_mm(p, t);
	struct vm_summary v;
	ksigset_t ign, catch;
	vm_summarize(mm, &v);
	sig_dispositions(p, &ign, &catch);
	uint64_t rsslim = p->rlim[RLIMIT_RSS].rlim_cur;

	seqbuf_printf(s, "%d (%s) %c %d %d %d %u %d %u 0 0 0 0 ", t ? t->tid : p->pid, p->comm,
		      proc_state(p, lt), p->parent ? p->parent->pid : 0, p->pgid, p->sid, tty_nr(p),
		      p->tty ? p->tty->pgrp : -1, lt && lt->is_kthread ? 0x00200000u : 0);
	/* utime stime cutime cstime priority nice num_threads itrealvalue starttime */
	seqbuf_printf(s, "%llu %llu 0 0 20 0 %d 0 %llu ", ticks(p->utime_ns), ticks(p->stime_ns),
		      p->nthreads, ticks(p->start_time));
	/* vsize rss rsslim startcode endcode startstack kstkesp kstkeip */
	seqbuf_printf(s, "%llu %llu %llu %llu %llu %llu 0 0 ", (ull)(mm ? mm_vsize(mm) : 0),
		      (ull)(mm ? mm_rss_pages(mm) : 0), (ull)rsslim, (ull)v.start_code,
		      (ull)v.end_code, (ull)(mm ? mm->start_stack : 0));
	/* signal blocked sigignore sigcatch (decimal, 31 bits), wchan nswap cnswap */
	seqbuf_printf(s, "%llu %llu %llu %llu 0 0 0 ", (ull)(lt ? lt->pending.set & 0x7fffffff : 0),
		      (ull)(lt ? lt->blocked & 0x7fffffff : 0), (ull)(ign & 0x7fffffff),
		      (ull)(catch & 0x7fffffff));
	/* exit_signal processor rt_priority policy blkio_ticks guest_time cguest_time */
	seqbuf_printf(s, "%d 0 0 0 0 0 0 ", p->exit_signal);
	if (mm)
		seqbuf_printf(s, "%llu %llu %llu %llu %llu %llu %llu ", (ull)v.start_data,
			      (ull)v.end_data, (ull)mm->start_brk, (ull)mm->arg_start,
			      (ull)mm->arg_end, (ull)mm->env_start, (ull)mm->env_end);
	else
		seqbuf_puts(s, "0 0 0 0 0 0 0 ");
	seqbuf_printf(s, "%d\n", p->state == PROC_ZOMBIE ? p->exit_code : 0);
	return 0;
}

int proc_pid_statm_show(struct seqbuf *s, struct process *p, struct task *t)
{
	struct mm *mm = proc_mm(p, t);
	struct vm_summary v;
	vm_summarize(mm, &v);
	seqbuf_printf(s, "%llu %llu 0 %llu 0 %llu 0\n", (ull)(mm ? mm_vsize(mm) / PAGE_SIZE : 0),
		      (ull)(mm ? mm_rss_pages(mm) : 0), (ull)(v.exe / PAGE_SIZE),
		      (ull)((v.data + v.stack) / PAGE_SIZE));
	return 0;
}

static void put_kb(struct seqbuf *s, const char *name, uint64_t bytes)
{
	seqbuf_printf(s, "%s\t%8llu kB\n", name, (ull)(bytes >> 10));
}

/* A CPU mask as Linux prints bitmaps: 32-bit hex words, high first, comma-separated. */
static void put_cpu_mask(struct seqbuf *s, int ncpus)
{
	for (int w = (ncpus - 1) / 32; w >= 0; w--) {
		int bits = MIN(32, ncpus - w * 32);
		uint32_t word = bits == 32 ? 0xffffffffu : (1u << bits) - 1;
		seqbuf_printf(s, w == (ncpus - 1) / 32 ? "%0*x" : ",%08x",
			      w == (ncpus - 1) / 32 ? (bits + 3) / 4 : 8, word);
	}
}

int proc_pid_status_show(struct seqbuf *s, struct process *p, struct task *t)
{
	struct task *lt = ctx_task(p, t);
	struct mm *mm = proc_mm(p, t);
	const struct creds *c = &p->cred;
	ksigset_t ign, catch;
	char cpus[32];
	sig_dispositions(p, &ign, &catch);
	cpu_list(cpus, sizeof(cpus));

	seqbuf_printf(s, "Name:\t%s\n", p->comm);
	if (lt && lt->fs)
		seqbuf_printf(s, "Umask:\t%04o\n", lt->fs->umask);
	seqbuf_printf(s, "State:\t%s\n", state_name(proc_state(p, lt)));
	seqbuf_printf(s, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p->pid,
		      t ? t->tid : p->pid, p->parent ? p->parent->pid : 0);
	seqbuf_printf(s, "Uid:\t%u\t%u\t%u\t%u\n", c->uid, c->euid, c->suid, c->fsuid);
	seqbuf_printf(s, "Gid:\t%u\t%u\t%u\t%u\n", c->gid, c->egid, c->sgid, c->fsgid);
	seqbuf_printf(s, "FDSize:\t%d\nGroups:\t", lt && lt->files ? lt->files->max : 0);
	for (int g = 0; g < c->ngroups; g++)
		seqbuf_printf(s, g ? " %u" : "%u", c->groups[g]);
	seqbuf_printf(s, " \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p->pid,
		      t ? t->tid : p->pid, p->pgid, p->sid);
	if (mm) {
		struct vm_summary v;
		uint64_t rss = mm_rss_pages(mm) * PAGE_SIZE;
		vm_summarize(mm, &v);
		put_kb(s, "VmPeak:", mm_vsize(mm));
		put_kb(s, "VmSize:", mm_vsize(mm));
		put_kb(s, "VmLck:", 0);
		put_kb(s, "VmPin:", 0);
		put_kb(s, "VmHWM:", rss);
		put_kb(s, "VmRSS:", rss);
		put_kb(s, "RssAnon:", rss);
		put_kb(s, "RssFile:", 0);
		put_kb(s, "RssShmem:", 0);
		put_kb(s, "VmData:", v.data);
		put_kb(s, "VmStk:", v.stack);
		put_kb(s, "VmExe:", v.exe);
		put_kb(s, "VmLib:", v.lib);
		put_kb(s, "VmPTE:", 0);
		put_kb(s, "VmSwap:", 0);
		put_kb(s, "HugetlbPages:", 0);
		seqbuf_puts(s, "CoreDumping:\t0\nTHP_enabled:\t0\n");
	}
	seqbuf_printf(s, "Threads:\t%d\nSigQ:\t0/%llu\n", p->nthreads,
		      (ull)p->rlim[RLIMIT_SIGPENDING].rlim_cur);
	seqbuf_printf(s, "SigPnd:\t%016llx\nShdPnd:\t%016llx\nSigBlk:\t%016llx\n",
		      (ull)(lt ? lt->pending.set : 0), (ull)p->shared_pending.set,
		      (ull)(lt ? lt->blocked : 0));
	seqbuf_printf(s, "SigIgn:\t%016llx\nSigCgt:\t%016llx\n", (ull)ign, (ull) catch);
	ull caps = c->euid == 0 ? CAP_FULL : 0;
	seqbuf_printf(s,
		      "CapInh:\t%016llx\nCapPrm:\t%016llx\nCapEff:\t%016llx\n"
		      "CapBnd:\t%016llx\nCapAmb:\t%016llx\n",
		      0ull, caps, caps, CAP_FULL, 0ull);
	seqbuf_puts(s, "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n"
		       "Speculation_Store_Bypass:\tthread vulnerable\n"
		       "SpeculationIndirectBranch:\tconditional enabled\nCpus_allowed:\t");
	put_cpu_mask(s, pseudo_ncpus());
	seqbuf_printf(s,
		      "\nCpus_allowed_list:\t%s\nMems_allowed:\t00000000,00000001\n"
		      "Mems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\n"
		      "nonvoluntary_ctxt_switches:\t0\n",
		      cpus);
	return 0;
}

/* --- /proc/<pid>/... other files ---------------------------------------------------- */

/* Bytes [start, end) of the process's memory (cmdline, environ, auxv). Unreadable
 * memory reads as nothing. p must not be used afterwards: reading may sleep. */
static int show_vm_range(struct seqbuf *s, struct process *p, uaddr_t start, uaddr_t end)
{
	if (!start || end <= start)
		return 0;
	size_t n = MIN(end - start, (uaddr_t)ARGS_MAX);
	char *buf = xmalloc(n);
	if (access_process_vm(p, start, buf, n, false) == 0)
		seqbuf_write(s, buf, n);
	free(buf);
	return 0;
}

static int show_cmdline(struct seqbuf *s, struct process *p, struct task *t)
{
	struct mm *mm = proc_mm(p, t);
	return mm ? show_vm_range(s, p, mm->arg_start, mm->arg_end) : 0;
}

static int show_environ(struct seqbuf *s, struct process *p, struct task *t)
{
	struct mm *mm = proc_mm(p, t);
	return mm ? show_vm_range(s, p, mm->env_start, mm->env_end) : 0;
}

static int show_auxv(struct seqbuf *s, struct process *p, struct task *t)
{
	struct mm *mm = proc_mm(p, t);
	return mm ? show_vm_range(s, p, mm->auxv_start, mm->auxv_end) : 0;
}

static int show_comm(struct seqbuf *s, struct process *p, struct task *t)
{
	seqbuf_printf(s, "%s\n", p->comm);
	return 0;
}

int proc_pid_maps_show(struct seqbuf *s, struct process *p, struct task *t)
{
	struct mm *mm = proc_mm(p, t);
	if (!mm)
		return 0;
	char *exe = xmalloc(PATH_MAX);
	if (path_str(&mm->exe_path, exe) < 0)
		exe[0] = '\0';
	list_for_each(it, &mm->vmas)
	{
		struct vma *a = list_entry(it, struct vma, link);
		dev_t dev = a->file && a->file->sb ? a->file->sb->dev : 0;
		seqbuf_printf(s, "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %llu ", (ull)a->start,
			      (ull)a->end, a->prot & PROT_READ ? 'r' : '-',
			      a->prot & PROT_WRITE ? 'w' : '-', a->prot & PROT_EXEC ? 'x' : '-',
			      a->flags & MAP_SHARED ? 's' : 'p', (ull)(a->pgoff * PAGE_SIZE),
			      major(dev), minor(dev), (ull)(a->file ? a->file->ino : 0));
		/* Only the executable's areas have a known path: a vma keeps an inode. */
		const char *name = NULL;
		if (a->file && a->file == mm->exe && exe[0])
			name = exe;
		else if (!a->file && a->start <= mm->brk && a->end >= mm->start_brk)
			name = "[heap]";
		else if (a->start <= mm->start_stack && a->end >= mm->start_stack)
			name = "[stack]";
		if (name) {
			seqbuf_pad(s, 25 + sizeof(void *) * 6 - 1);
			seqbuf_printf(s, " %s", name);
		}
		seqbuf_puts(s, "\n");
	}
	free(exe);
	return 0;
}

static const struct {
	const char *name, *unit;
} limit_names[RLIM_NLIMITS] = {
    [RLIMIT_CPU] = {"Max cpu time", "seconds"},
    [RLIMIT_FSIZE] = {"Max file size", "bytes"},
    [RLIMIT_DATA] = {"Max data size", "bytes"},
    [RLIMIT_STACK] = {"Max stack size", "bytes"},
    [RLIMIT_CORE] = {"Max core file size", "bytes"},
    [RLIMIT_RSS] = {"Max resident set", "bytes"},
    [RLIMIT_NPROC] = {"Max processes", "processes"},
    [RLIMIT_NOFILE] = {"Max open files", "files"},
    [RLIMIT_MEMLOCK] = {"Max locked memory", "bytes"},
    [RLIMIT_AS] = {"Max address space", "bytes"},
    [RLIMIT_LOCKS] = {"Max file locks", "locks"},
    [RLIMIT_SIGPENDING] = {"Max pending signals", "signals"},
    [RLIMIT_MSGQUEUE] = {"Max msgqueue size", "bytes"},
    [RLIMIT_NICE] = {"Max nice priority", NULL},
    [RLIMIT_RTPRIO] = {"Max realtime priority", NULL},
    [RLIMIT_RTTIME] = {"Max realtime timeout", "us"},
};

static void put_limit(struct seqbuf *s, rlim_t v)
{
	if (v == RLIM_INFINITY)
		seqbuf_printf(s, "%-20s ", "unlimited");
	else
		seqbuf_printf(s, "%-20llu ", (ull)v);
}

static int show_limits(struct seqbuf *s, struct process *p, struct task *t)
{
	seqbuf_printf(s, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		seqbuf_printf(s, "%-25s ", limit_names[r].name);
		put_limit(s, p->rlim[r].rlim_cur);
		put_limit(s, p->rlim[r].rlim_max);
		if (limit_names[r].unit)
			seqbuf_printf(s, "%-10s\n", limit_names[r].unit);
		else
			seqbuf_puts(s, "\n");
	}
	return 0;
}

/* --- mounts ------------------------------------------------------------------------- */

static int mount_id(const struct mount *m)
{
	int id = 1;
	list_for_each(it, &mount_table)
	{
		if (list_entry(it, struct mount, link) == m)
			return id;
		id++;
	}
	return 0;
}

static void put_mount_flags(struct seqbuf *s, unsigned long flags)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} opts[] = {
	    {MS_NOSUID, ",nosuid"},	    {MS_NODEV, ",nodev"},	{MS_NOEXEC, ",noexec"},
	    {MS_SYNCHRONOUS, ",sync"},	    {MS_DIRSYNC, ",dirsync"},	{MS_NOATIME, ",noatime"},
	    {MS_NODIRATIME, ",nodiratime"}, {MS_RELATIME, ",relatime"},
	};
	seqbuf_puts(s, flags & MS_RDONLY ? "ro" : "rw");
	for (size_t k = 0; k < ARRAY_SIZE(opts); k++)
		if (flags & opts[k].flag)
			seqbuf_puts(s, opts[k].name);
}

/* The mount after prev (NULL: the first) that the reader sees from its root, with its
 * mount point in buf; NULL at the end. */
static struct mount *next_visible_mount(struct mount *prev, char *buf)
{
	for (struct list *at = prev ? prev->link.next : mount_table.next; at != &mount_table;
	     at = at->next) {
		struct mount *m = list_entry(at, struct mount, link);
		if (path_str(&(struct path){m, m->root}, buf) >= 0)
			return m;
	}
	return NULL;
}

static int show_mounts(struct seqbuf *s, struct process *p, struct task *t)
{
	char *buf = xmalloc(PATH_MAX);
	for (struct mount *m = NULL; (m = next_visible_mount(m, buf));) {
		seqbuf_escape(s, m->devname ? m->devname : "none");
		seqbuf_puts(s, " ");
		seqbuf_escape(s, buf);
		seqbuf_printf(s, " %s ", m->sb->type->name);
		put_mount_flags(s, m->flags | (m->sb->flags & MS_RDONLY));
		seqbuf_puts(s, " 0 0\n");
	}
	free(buf);
	return 0;
}

static int show_all_mounts(struct seqbuf *s)
{
	return show_mounts(s, NULL, NULL);
}

static int show_mountinfo(struct seqbuf *s, struct process *p, struct task *t)
{
	char *buf = xmalloc(PATH_MAX);
	for (struct mount *m = NULL; (m = next_visible_mount(m, buf));) {
		int id = mount_id(m);
		int parent = m->parent && m->parent != m ? mount_id(m->parent) : id;
		dev_t dev = m->sb->dev;
		seqbuf_printf(s, "%d %d %u:%u / ", id, parent, major(dev), minor(dev));
		seqbuf_escape(s, buf);
		seqbuf_puts(s, " ");
		put_mount_flags(s, m->flags);
		seqbuf_printf(s, " - %s ", m->sb->type->name);
		seqbuf_escape(s, m->devname ? m->devname : "none");
		seqbuf_puts(s, m->sb->flags & MS_RDONLY ? " ro\n" : " rw\n");
	}
	free(buf);
	return 0;
}

/* --- files of the whole system ------------------------------------------------------ */

int proc_meminfo_show(struct seqbuf *s)
{
	uint64_t total = mem_total_bytes, committed = mem_committed_bytes(), cached, dirty;
	pagecache_stats(&cached, &dirty);
	/* The page cache lives in guest memory too: what neither holds is free. */
	uint64_t used = committed + cached;
	uint64_t free_ = total > used ? total - used : 0;
	const struct {
		const char *name;
		uint64_t bytes;
	} rows[] = {
	    {"MemTotal:", total},
	    {"MemFree:", free_},
	    {"MemAvailable:", MIN(total, free_ + cached)},
	    {"Buffers:", 0},
	    {"Cached:", cached},
	    {"SwapCached:", 0},
	    {"Active:", used},
	    {"Inactive:", 0},
	    {"Active(anon):", committed},
	    {"Inactive(anon):", 0},
	    {"Active(file):", cached},
	    {"Inactive(file):", 0},
	    {"Unevictable:", 0},
	    {"Mlocked:", 0},
	    {"SwapTotal:", 0},
	    {"SwapFree:", 0},
	    {"Zswap:", 0},
	    {"Zswapped:", 0},
	    {"Dirty:", dirty},
	    {"Writeback:", 0},
	    {"AnonPages:", committed},
	    {"Mapped:", 0},
	    {"Shmem:", 0},
	    {"KReclaimable:", 0},
	    {"Slab:", 0},
	    {"SReclaimable:", 0},
	    {"SUnreclaim:", 0},
	    {"KernelStack:", 0},
	    {"PageTables:", 0},
	    {"NFS_Unstable:", 0},
	    {"Bounce:", 0},
	    {"WritebackTmp:", 0},
	    {"CommitLimit:", total / 2},
	    {"Committed_AS:", committed},
	    {"VmallocTotal:", 34359738367ull << 10},
	    {"VmallocUsed:", 0},
	    {"VmallocChunk:", 0},
	    {"Percpu:", 0},
	    {"HardwareCorrupted:", 0},
	    {"AnonHugePages:", 0},
	    {"ShmemHugePages:", 0},
	    {"ShmemPmdMapped:", 0},
	    {"FileHugePages:", 0},
	    {"FilePmdMapped:", 0},
	};
	/* Names padded to 16 columns, then 8 for the number; the one longer name
	 * (HardwareCorrupted) gets " %5lu", as Linux prints it. */
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++)
		seqbuf_printf(s, strlen(rows[k].name) < 16 ? "%-16s%8llu kB\n" : "%s %5llu kB\n",
			      rows[k].name, (ull)(rows[k].bytes >> 10));
	seqbuf_printf(s,
		      "HugePages_Total:   %5u\nHugePages_Free:    %5u\n"
		      "HugePages_Rsvd:    %5u\nHugePages_Surp:    %5u\n",
		      0, 0, 0, 0);
	seqbuf_printf(s, "%-16s%8u kB\n%-16s%8u kB\n", "Hugepagesize:", 2048, "Hugetlb:", 0);
	return 0;
}

static int show_cpuinfo(struct seqbuf *s)
{
	/* The host's CPUs are the guest's (guest code runs on them). */
	int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
	char buf[4096];
	ssize_t n;
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		seqbuf_write(s, buf, n);
	if (fd >= 0)
		close(fd);
	for (int c = 0; !s->len && c < pseudo_ncpus(); c++)
		seqbuf_printf(s, "processor\t: %d\nvendor_id\t: unknown\n\n", c);
	return 0;
}

/* CPU time of live processes (ns); exited processes' time is not kept. */
static void cpu_times(uint64_t *user, uint64_t *sys)
{
	*user = *sys = 0;
	for (struct process *p = process_next(NULL); p; p = process_next(p)) {
		*user += p->utime_ns;
		*sys += p->stime_ns;
	}
}

int proc_uptime_show(struct seqbuf *s)
{
	uint64_t up = uptime_ns(), user, sys;
	cpu_times(&user, &sys);
	uint64_t all = up * pseudo_ncpus();
	put_centisecs(s, up);
	seqbuf_puts(s, " ");
	put_centisecs(s, all > user + sys ? all - user - sys : 0);
	seqbuf_puts(s, "\n");
	return 0;
}

static int show_loadavg(struct seqbuf *s)
{
	int running = 0, threads = 0;
	pid_t last = 0;
	for (struct process *p = process_next(NULL); p; p = process_next(p)) {
		list_for_each(it, &p->threads)
		{
			struct task *t = list_entry(it, struct task, thread_link);
			threads++;
			running += proc_state(p, t) == 'R';
		}
		last = MAX(last, p->pid);
	}
	seqbuf_printf(s, "0.00 0.00 0.00 %d/%d %d\n", MAX(running, 1), threads, last);
	return 0;
}

static int show_stat(struct seqbuf *s)
{
	/* top computes differences: counters must never go back, though the time of
	 * exited processes is lost. */
	static ull last_user, last_sys, last_idle;
	int ncpus = pseudo_ncpus(), running = 0;
	uint64_t user_ns, sys_ns;
	cpu_times(&user_ns, &sys_ns);
	ull user = MAX(last_user, ticks(user_ns)), sys = MAX(last_sys, ticks(sys_ns));
	ull all = ticks(uptime_ns()) * ncpus;
	ull idle = MAX(last_idle, all > user + sys ? all - user - sys : 0);
	last_user = user, last_sys = sys, last_idle = idle;

	seqbuf_printf(s, "cpu  %llu 0 %llu %llu 0 0 0 0 0 0\n", user, sys, idle);
	for (int c = 0; c < ncpus; c++)
		seqbuf_printf(s, "cpu%d %llu 0 %llu %llu 0 0 0 0 0 0\n", c, user / ncpus,
			      sys / ncpus, idle / ncpus);
	for (struct process *p = process_next(NULL); p; p = process_next(p))
		list_for_each(it, &p->threads) running +=
		    proc_state(p, list_entry(it, struct task, thread_link)) == 'R';
	ull btime = (ktime_real() - uptime_ns()) / 1000000000;
	seqbuf_printf(s,
		      "intr 0\nctxt 0\nbtime %llu\nprocesses %llu\nprocs_running %d\n"
		      "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		      btime, (ull)kernel_nr_forks, MAX(running, 1));
	return 0;
}

static int show_filesystems(struct seqbuf *s)
{
	for (const struct fs_type *t = next_filesystem(NULL); t; t = next_filesystem(t))
		seqbuf_printf(s, "%s\t%s\n", t->needs_dev ? "" : "nodev", t->name);
	return 0;
}

static int show_cmdline_kernel(struct seqbuf *s)
{
	seqbuf_printf(s, "%s\n", kernel_cmdline ? kernel_cmdline : "");
	return 0;
}

static int show_partitions(struct seqbuf *s)
{
	seqbuf_puts(s, "major minor  #blocks  name\n\n");
	for (struct blkdev *d = blk_next(NULL); d; d = blk_next(d))
		seqbuf_printf(s, "%4u  %7u %10llu %s\n", d->major, d->minor, (ull)(d->size >> 10),
			      d->name);
	return 0;
}

/* The name of a character device major, as Linux registers it. */
static const char *chrdev_major_name(unsigned major, const char *first)
{
	switch (major) {
	case 1:
		return "mem";
	case 4:
		return "tty";
	case 5:
		return "/dev/tty";
	case 136:
		return "pts";
	default:
		return first;
	}
}

static int show_devices(struct seqbuf *s)
{
	seqbuf_puts(s, "Character devices:\n");
	/* Majors in ascending order, each once. */
	for (unsigned prev = 0;;) {
		const struct chrdev *next = NULL;
		list_for_each(it, &chrdev_list)
		{
			const struct chrdev *c = list_entry(it, struct chrdev, link);
			if (c->major > prev && (!next || c->major < next->major))
				next = c;
		}
		if (!next)
			break;
		const char *name = chrdev_major_name(next->major, next->name);
		seqbuf_printf(s, "%3u %s\n", next->major, name);
		prev = next->major;
	}
	seqbuf_puts(s, "\nBlock devices:\n");
	unsigned last = 0;
	for (struct blkdev *d = blk_next(NULL); d; d = blk_next(d)) {
		if (d->major == last)
			continue;
		/* "ubda" is a disk of the "ubd" driver. */
		seqbuf_printf(s, "%3u %.*s\n", d->major, (int)MAX(strlen(d->name), 2) - 1, d->name);
		last = d->major;
	}
	return 0;
}

/* A random UUID (version 4) as the kernel prints it. */
static void put_uuid(struct seqbuf *s)
{
	uint8_t u[16];
	if (getrandom(u, sizeof(u), 0) != sizeof(u))
		memset(u, 0, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	for (int k = 0; k < 16; k++)
		seqbuf_printf(s, "%s%02x", k == 4 || k == 6 || k == 8 || k == 10 ? "-" : "", u[k]);
	seqbuf_puts(s, "\n");
}

static int show_uuid(struct seqbuf *s)
{
	put_uuid(s);
	return 0;
}

static int show_boot_id(struct seqbuf *s)
{
	static struct seqbuf id;
	if (!id.len)
		put_uuid(&id);
	seqbuf_write(s, id.buf, id.len);
	return 0;
}

/* --- node callbacks ----------------------------------------------------------------- */

typedef int (*sys_show_fn)(struct seqbuf *s);
typedef int (*pid_show_fn)(struct seqbuf *s, struct process *p, struct task *t);

/* A system file: data is its sys_show_fn. */
static int sys_show(struct seqbuf *s, struct inode *i)
{
	return ((sys_show_fn)PINODE(i)->node->data)(s);
}

/* A file of a process or thread: data is its pid_show_fn. */
static int pid_show(struct seqbuf *s, struct inode *i)
{
	struct pctx c;
	int err = pctx_get(i, &c);
	return err ? err : ((pid_show_fn)PINODE(i)->node->data)(s, c.p, c.t);
}

/* A string variable of 65 bytes (data), such as the host name. */
static int str_show(struct seqbuf *s, struct inode *i)
{
	seqbuf_printf(s, "%s\n", (const char *)PINODE(i)->node->data);
	return 0;
}

static int str_store(struct inode *i, const char *buf, size_t n)
{
	char *var = (char *)PINODE(i)->node->data;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	if (n > 64)
		return -EINVAL;
	memcpy(var, buf, n);
	var[n] = '\0';
	return 0;
}

/* Settings we accept and do not act on (drop_caches, oom_score_adj). */
static int ignore_store(struct inode *i, const char *buf, size_t n)
{
	return 0;
}

static int comm_store(struct inode *i, const char *buf, size_t n)
{
	struct pctx c;
	int err = pctx_get(i, &c);
	if (err)
		return err;
	while (n && buf[n - 1] == '\n')
		n--;
	n = MIN(n, sizeof(c.p->comm) - 1);
	memcpy(c.p->comm, buf, n);
	c.p->comm[n] = '\0';
	return 0;
}

static int link_self(struct seqbuf *s, struct inode *i)
{
	if (!current || !current->proc)
		return -ENOENT;
	seqbuf_printf(s, "%d", current->proc->pid);
	return 0;
}

static int link_thread_self(struct seqbuf *s, struct inode *i)
{
	if (!current || !current->proc)
		return -ENOENT;
	seqbuf_printf(s, "%d/task/%d", current->proc->pid, current->tid);
	return 0;
}

/* cwd, root, exe: data selects the path. */
enum { L_CWD, L_ROOT, L_EXE };

static int link_path(struct seqbuf *s, struct inode *i)
{
	struct pctx c;
	int err = pctx_get(i, &c);
	if (err)
		return err;
	struct task *t = ctx_task(c.p, c.t);
	struct mm *mm = proc_mm(c.p, c.t);
	switch ((intptr_t)PINODE(i)->node->data) {
	case L_CWD:
		return t && t->fs ? put_path(s, &t->fs->cwd) : -ENOENT;
	case L_ROOT:
		return t && t->fs ? put_path(s, &t->fs->root) : -ENOENT;
	default:
		return mm ? put_path(s, &mm->exe_path) : -ENOENT;
	}
}

/* The open file of an fd entry, or NULL. */
static struct file *node_file(struct inode *i)
{
	struct pctx c;
	if (pctx_get(i, &c))
		return NULL;
	struct task *t = ctx_task(c.p, c.t);
	return t && t->files ? fdtable_peek(t->files, PINODE(i)->arg[A_FD]) : NULL;
}

static int link_fd(struct seqbuf *s, struct inode *i)
{
	struct file *f = node_file(i);
	char *buf = xmalloc(PATH_MAX);
	int n = f ? file_path(f, buf, PATH_MAX) : -ENOENT;
	if (n >= 0)
		seqbuf_write(s, buf, n);
	free(buf);
	return n < 0 ? n : 0;
}

static int show_fdinfo(struct seqbuf *s, struct inode *i)
{
	struct file *f = node_file(i);
	if (!f)
		return -ENOENT;
	struct pctx c;
	pctx_get(i, &c);
	struct fdtable *ft = ctx_task(c.p, c.t)->files;
	long fd = PINODE(i)->arg[A_FD];
	unsigned flags = f->flags | (ft->cloexec && ft->cloexec[fd] ? O_CLOEXEC : 0);
	seqbuf_printf(s, "pos:\t%lld\nflags:\t0%o\nmnt_id:\t%d\nino:\t%llu\n", (long long)f->pos,
		      flags, mount_id(f->path.mnt), (ull)(f->inode ? f->inode->ino : 0));
	return 0;
}

/* --- dynamic directories ------------------------------------------------------------ */

static const struct pnode proc_pid_dir, proc_tid_dir, proc_fd_link, proc_fdinfo_file;

/* /proc: a directory per live process, in pid order. */
static bool pids_next(struct inode *dir, uint64_t *cursor, struct pdyn_ent *e)
{
	struct process *best = NULL;
	for (struct process *p = process_next(NULL); p; p = process_next(p))
		if (p->state != PROC_DEAD && (uint64_t)p->pid >= *cursor &&
		    (!best || p->pid < best->pid))
			best = p;
	if (!best)
		return false;
	*cursor = best->pid;
	snprintf(e->name, sizeof(e->name), "%d", best->pid);
	e->node = &proc_pid_dir;
	e->arg[A_PID] = best->pid;
	return true;
}

static bool pids_find(struct inode *dir, const char *name, struct pdyn_ent *e)
{
	long pid;
	if (!parse_num(name, &pid) || !find_process(pid))
		return false;
	snprintf(e->name, sizeof(e->name), "%ld", pid);
	e->node = &proc_pid_dir;
	e->arg[A_PID] = pid;
	return true;
}

/* /proc/<pid>/task: a directory per thread, in tid order. */
static bool tids_next(struct inode *dir, uint64_t *cursor, struct pdyn_ent *e)
{
	struct pctx c;
	struct task *best = NULL;
	if (pctx_get(dir, &c))
		return false;
	list_for_each(it, &c.p->threads)
	{
		struct task *t = list_entry(it, struct task, thread_link);
		if ((uint64_t)t->tid >= *cursor && (!best || t->tid < best->tid))
			best = t;
	}
	if (!best)
		return false;
	*cursor = best->tid;
	snprintf(e->name, sizeof(e->name), "%d", best->tid);
	e->node = &proc_tid_dir;
	e->arg[A_TID] = best->tid;
	return true;
}

/* fd/ and fdinfo/: an entry per open file; data is the entries' node. */
static bool fds_next(struct inode *dir, uint64_t *cursor, struct pdyn_ent *e)
{
	struct pctx c;
	if (pctx_get(dir, &c))
		return false;
	struct task *t = ctx_task(c.p, c.t);
	for (uint64_t fd = *cursor; t && t->files && fd < (uint64_t)t->files->max; fd++) {
		if (fdtable_peek(t->files, fd)) {
			*cursor = fd;
			snprintf(e->name, sizeof(e->name), "%llu", (ull)fd);
			e->node = PINODE(dir)->node->data;
			e->arg[A_FD] = fd;
			return true;
		}
	}
	return false;
}

static bool fds_find(struct inode *dir, const char *name, struct pdyn_ent *e)
{
	long fd;
	uint64_t cursor;
	if (!parse_num(name, &fd))
		return false;
	cursor = fd;
	return fds_next(dir, &cursor, e) && cursor == (uint64_t)fd;
}

/* --- the tree ----------------------------------------------------------------------- */

#define SYS_FILE(var, fname, fn)                                                                   \
	static const struct pnode var = {fname, S_IFREG | 0444, .show = sys_show, .data = fn}
#define PID_FILE(var, fname, mode_, fn)                                                            \
	static const struct pnode var = {fname, S_IFREG | (mode_), .show = pid_show, .data = fn}
#define TEXT_FILE(var, fname, txt)                                                                 \
	static const struct pnode var = {fname, S_IFREG | 0444, .text = txt}
#define PDIR(var, dname, ...)                                                                      \
	static const struct pnode *const var##_children[] = {__VA_ARGS__, NULL};                   \
	static const struct pnode var = {dname, S_IFDIR | 0555, .children = var##_children}

PID_FILE(pid_stat, "stat", 0444, proc_pid_stat_show);
PID_FILE(pid_statm, "statm", 0444, proc_pid_statm_show);
PID_FILE(pid_status, "status", 0444, proc_pid_status_show);
PID_FILE(pid_cmdline, "cmdline", 0444, show_cmdline);
PID_FILE(pid_environ, "environ", 0400, show_environ);
PID_FILE(pid_auxv, "auxv", 0400, show_auxv);
PID_FILE(pid_maps, "maps", 0444, proc_pid_maps_show);
PID_FILE(pid_mounts, "mounts", 0444, show_mounts);
PID_FILE(pid_mountinfo, "mountinfo", 0444, show_mountinfo);
PID_FILE(pid_limits, "limits", 0444, show_limits);
static const struct pnode pid_comm = {"comm", S_IFREG | 0644, .show = pid_show, .store = comm_store,
				      .data = show_comm};
static const struct pnode pid_oom_adj = {"oom_score_adj", S_IFREG | 0644, .text = "0\n",
					 .store = ignore_store};
TEXT_FILE(pid_oom_score, "oom_score", "0\n");
TEXT_FILE(pid_cgroup, "cgroup", "0::/\n");
TEXT_FILE(pid_wchan, "wchan", "0");
static const struct pnode pid_cwd = {"cwd", S_IFLNK | 0777, .link = link_path,
				     .data = (void *)(intptr_t)L_CWD};
static const struct pnode pid_root = {"root", S_IFLNK | 0777, .link = link_path,
				      .data = (void *)(intptr_t)L_ROOT};
static const struct pnode pid_exe = {"exe", S_IFLNK | 0777, .link = link_path,
				     .data = (void *)(intptr_t)L_EXE};
static const struct pnode proc_fd_link = {"", S_IFLNK | 0700, .link = link_fd};
static const struct pnode proc_fdinfo_file = {"", S_IFREG | 0444, .show = show_fdinfo};
static const struct pnode pid_fd = {"fd", S_IFDIR | 0500, .next = fds_next, .find = fds_find,
				    .data = &proc_fd_link};
static const struct pnode pid_fdinfo = {"fdinfo", S_IFDIR | 0500, .next = fds_next,
					.find = fds_find, .data = &proc_fdinfo_file};
static const struct pnode pid_task = {"task", S_IFDIR | 0555, .next = tids_next};

#define THREAD_ENTRIES                                                                             \
	&pid_stat, &pid_statm, &pid_status, &pid_cmdline, &pid_environ, &pid_auxv, &pid_maps,      \
	    &pid_mounts, &pid_mountinfo, &pid_limits, &pid_comm, &pid_oom_adj, &pid_oom_score,     \
	    &pid_cgroup, &pid_wchan, &pid_cwd, &pid_root, &pid_exe, &pid_fd, &pid_fdinfo
static const struct pnode *const pid_children[] = {THREAD_ENTRIES, &pid_task, NULL};
static const struct pnode *const tid_children[] = {THREAD_ENTRIES, NULL};
static const struct pnode proc_pid_dir = {"", S_IFDIR | 0555, .children = pid_children};
static const struct pnode proc_tid_dir = {"", S_IFDIR | 0555, .children = tid_children};

/* /proc/sys */
static const struct pnode sys_hostname = {"hostname", S_IFREG | 0644, .show = str_show,
					  .store = str_store, .data = uts_nodename};
static const struct pnode sys_domainname = {"domainname", S_IFREG | 0644, .show = str_show,
					    .store = str_store, .data = uts_domainname};
TEXT_FILE(sys_ostype, "ostype", "Linux\n");
TEXT_FILE(sys_osrelease, "osrelease", UTS_RELEASE "\n");
TEXT_FILE(sys_version, "version", UTS_VERSION "\n");
#define STR_(x) #x
#define STR(x) STR_(x)
TEXT_FILE(sys_pid_max, "pid_max", STR(PID_MAX) "\n");
TEXT_FILE(sys_threads_max, "threads-max", STR(PID_MAX) "\n");
TEXT_FILE(sys_ngroups_max, "ngroups_max", "65536\n");
TEXT_FILE(sys_cap_last_cap, "cap_last_cap", "40\n");
TEXT_FILE(sys_overflowuid, "overflowuid", "65534\n");
TEXT_FILE(sys_overflowgid, "overflowgid", "65534\n");
SYS_FILE(rnd_boot_id, "boot_id", show_boot_id);
SYS_FILE(rnd_uuid, "uuid", show_uuid);
TEXT_FILE(rnd_entropy, "entropy_avail", "256\n");
TEXT_FILE(rnd_poolsize, "poolsize", "256\n");
PDIR(sys_random, "random", &rnd_boot_id, &rnd_uuid, &rnd_entropy, &rnd_poolsize);
PDIR(sys_kernel, "kernel", &sys_hostname, &sys_domainname, &sys_ostype, &sys_osrelease,
     &sys_version, &sys_pid_max, &sys_threads_max, &sys_ngroups_max, &sys_cap_last_cap,
     &sys_overflowuid, &sys_overflowgid, &sys_random);
TEXT_FILE(vm_overcommit, "overcommit_memory", "0\n");
TEXT_FILE(vm_max_map_count, "max_map_count", "65530\n");
TEXT_FILE(vm_swappiness, "swappiness", "0\n");
static const struct pnode vm_drop_caches = {"drop_caches", S_IFREG | 0200, .store = ignore_store};
PDIR(sys_vm, "vm", &vm_overcommit, &vm_max_map_count, &vm_swappiness, &vm_drop_caches);
TEXT_FILE(fs_file_max, "file-max", "9223372036854775807\n");
TEXT_FILE(fs_nr_open, "nr_open", "1048576\n");
PDIR(sys_fs, "fs", &fs_file_max, &fs_nr_open);
PDIR(proc_sys, "sys", &sys_kernel, &sys_vm, &sys_fs);

/* /proc */
static const struct pnode proc_self = {"self", S_IFLNK | 0777, .link = link_self};
static const struct pnode proc_thread_self = {"thread-self", S_IFLNK | 0777,
					      .link = link_thread_self};
SYS_FILE(proc_mounts, "mounts", show_all_mounts);
SYS_FILE(proc_meminfo, "meminfo", proc_meminfo_show);
SYS_FILE(proc_cpuinfo, "cpuinfo", show_cpuinfo);
SYS_FILE(proc_uptime, "uptime", proc_uptime_show);
SYS_FILE(proc_loadavg, "loadavg", show_loadavg);
SYS_FILE(proc_stat, "stat", show_stat);
SYS_FILE(proc_filesystems, "filesystems", show_filesystems);
SYS_FILE(proc_cmdline, "cmdline", show_cmdline_kernel);
SYS_FILE(proc_partitions, "partitions", show_partitions);
SYS_FILE(proc_devices, "devices", show_devices);
TEXT_FILE(proc_version, "version",
	  "Linux version " UTS_RELEASE " (vmlinux@localhost) (gcc " __VERSION__ ") " UTS_VERSION
	  "\n");
TEXT_FILE(proc_swaps, "swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");

static const struct pnode *const root_children[] = {
    &proc_self,	       &proc_thread_self, &proc_mounts,	    &proc_meminfo,
    &proc_cpuinfo,     &proc_uptime,	  &proc_loadavg,    &proc_stat,
    &proc_filesystems, &proc_cmdline,	  &proc_partitions, &proc_devices,
    &proc_version,     &proc_swaps,	  &proc_sys,	    NULL,
};
static const struct pnode proc_root = {"", S_IFDIR | 0555, .children = root_children,
				       .next = pids_next, .find = pids_find};

/* --- the filesystem ----------------------------------------------------------------- */

static int proc_revalidate(struct inode *i)
{
	const struct pinode *pi = PINODE(i);
	struct pctx c;
	if (!pi->arg[A_PID])
		return 0;
	if (pctx_get(i, &c))
		return -ENOENT;
	if ((pi->node == &proc_fd_link || pi->node == &proc_fdinfo_file) && !node_file(i))
		return -ENOENT;
	return 0;
}

/* A process's entries belong to its effective user, as ps expects (stat of /proc/N). */
static void proc_init_inode(struct inode *i)
{
	struct process *p = PINODE(i)->arg[A_PID] ? find_process(PINODE(i)->arg[A_PID]) : NULL;
	if (p) {
		i->uid = p->cred.euid;
		i->gid = p->cred.egid;
	} else {
		i->uid = i->gid = 0;
	}
}

static const struct pseudo_fs procfs = {
    .root = &proc_root,
    .magic = PROC_SUPER_MAGIC,
    .revalidate = proc_revalidate,
    .init_inode = proc_init_inode,
};

static int procfs_mount(const struct fs_type *type, const char *source, unsigned long flags,
			const char *data, struct super_block **out)
{
	return pseudo_mount(&procfs, type, source, flags, out);
}

static struct fs_type procfs_type = {
    .name = "proc",
    .mount = procfs_mount,
};

void procfs_register(void)
{
	register_filesystem(&procfs_type);
}
