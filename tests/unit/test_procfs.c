/* procfs (and sysfs) on a fake kernel: the exact text of /proc/<pid>/stat, statm, maps,
 * status and /proc/meminfo for a known process, and the tree: pid directories, self,
 * fd links, task/, sysctl writes, snapshots retaken at offset 0, and entries of a
 * process that is gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_pseudo_kernel.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

static struct process init_proc, proc;
static struct task init_task, task;
static struct mm mm;
static struct vma v_text, v_data, v_heap, v_stack;
static struct super_block disk_sb;
static struct inode exe_inode, pipe_inode;
static struct dentry root_d = {.name = ""}, exe_d = {.name = "bin/busybox"};
static struct mount mnt;
static struct fs_struct fs;
static struct fdtable files;
static struct file *fdv[8], f_pipe, f_tty;
static uint8_t cloexec[8];
static struct dentry tty_d = {.name = "dev/console"};
static struct sighand sighand;

static void add_vma(struct vma *v, uaddr_t start, uaddr_t end, int prot, int flags,
		    struct inode *file, uint64_t pgoff)
{
	*v = (struct vma){
	    .start = start, .end = end, .prot = prot, .flags = flags, .file = file, .pgoff = pgoff};
	list_add_tail(&v->link, &mm.vmas);
}

static void init_process_(struct process *p, struct task *t, pid_t pid, const char *comm)
{
	list_init(&p->threads);
	list_init(&p->children);
	t->tid = pid;
	t->proc = p;
	list_add_tail(&t->thread_link, &p->threads);
	p->pid = p->pgid = pid;
	p->sid = 1;
	p->nthreads = 1;
	p->exit_signal = SIGCHLD;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	for (int r = 0; r < RLIM_NLIMITS; r++)
		p->rlim[r] = (struct rlimit){RLIM_INFINITY, RLIM_INFINITY};
}

static int setup(void **state)
{
	memset(&proc, 0, sizeof(proc));
	memset(&task, 0, sizeof(task));
	memset(&mm, 0, sizeof(mm));
	init_process_(&init_proc, &init_task, 1, "init");
	init_process_(&proc, &task, 42, "sh");
	proc.parent = &init_proc;
	proc.cred = (struct creds){.uid = 1000,
				   .euid = 1000,
				   .suid = 1000,
				   .fsuid = 1000,
				   .gid = 100,
				   .egid = 100,
				   .sgid = 100,
				   .fsgid = 100,
				   .ngroups = 2,
				   .groups = {10, 20}};
	proc.utime_ns = 250000000;
	proc.stime_ns = 120000000;
	proc.start_time = 3000000000ull;
	proc.rlim[RLIMIT_NOFILE] = (struct rlimit){1024, 4096};
	proc.rlim[RLIMIT_SIGPENDING] = (struct rlimit){1024, 1024};
	proc.sighand = &sighand;
	sighand.action[SIGINT - 1].handler = 1;
	sighand.action[SIGCHLD - 1].handler = 0x401000;

	disk_sb.dev = makedev(98, 0);
	exe_inode = (struct inode){.sb = &disk_sb, .ino = 1234, .mode = S_IFREG | 0755};
	list_init(&mm.vmas);
	add_vma(&v_text, 0x400000, 0x401000, PROT_READ | PROT_EXEC, MAP_PRIVATE, &exe_inode, 0);
	add_vma(&v_data, 0x401000, 0x403000, PROT_READ | PROT_WRITE, MAP_PRIVATE, &exe_inode, 1);
	add_vma(&v_heap, 0x403000, 0x404000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		NULL, 0);
	add_vma(&v_stack, 0x7ffffffde000, 0x7ffffffff000, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, NULL, 0);
	mm.start_brk = 0x403000;
	mm.brk = 0x404000;
	mm.start_stack = 0x7fffffffe000;
	mm.arg_start = 0x7fffffffe100;
	mm.arg_end = mm.env_start = mm.arg_start + 10;
	mm.env_end = mm.env_start + 18;
	mm.exe = &exe_inode;
	mm.exe_path = (struct path){&mnt, &exe_d};

	mnt = (struct mount){.root = &root_d, .parent = &mnt};
	fs = (struct fs_struct){.root = {&mnt, &root_d}, .cwd = {&mnt, &exe_d}, .umask = 022};
	pipe_inode = (struct inode){.ino = 77, .mode = S_IFIFO | 0600};
	f_pipe = (struct file){.inode = &pipe_inode, .flags = O_WRONLY};
	f_tty =
	    (struct file){.inode = &exe_inode, .flags = O_RDWR, .pos = 5, .path = {&mnt, &tty_d}};
	memset(fdv, 0, sizeof(fdv));
	fdv[0] = &f_tty;
	fdv[3] = &f_pipe;
	cloexec[3] = 1;
	files = (struct fdtable){.max = 8, .fd = fdv, .cloexec = cloexec};
	task.mm = &mm;
	task.fs = &fs;
	task.files = &files;
	task.blocked = SIGBIT(SIGCHLD);
	task.state = TASK_SLEEPING;
	init_task.state = TASK_SLEEPING;
	fake_procs[0] = &init_proc;
	fake_procs[1] = &proc;
	current = &task;
	return 0;
}

static void test_stat(void **state)
{
	struct seqbuf s = {0};
	assert_int_equal(proc_pid_stat_show(&s, &proc, NULL), 0);
	assert_string_equal(s.buf, "42 (sh) R 1 42 1 0 -1 0 0 0 0 0 25 12 0 0 20 0 1 0 300 151552 "
				   "18 "
				   "18446744073709551615 4194304 4198400 140737488347136 0 0 0 "
				   "65536 2 65536 0 0 0 17 0 0 0 0 0 0 4198400 4206592 4206592 "
				   "140737488347392 140737488347402 140737488347402 "
				   "140737488347420 0\n");
	/* 52 fields, whatever the state. */
	current = NULL;
	proc.state = PROC_ZOMBIE;
	proc.exit_code = 0x100;
	s.len = 0;
	proc_pid_stat_show(&s, &proc, NULL);
	assert_string_equal(s.buf, "42 (sh) Z 1 42 1 0 -1 0 0 0 0 0 25 12 0 0 20 0 1 0 300 0 0 "
				   "18446744073709551615 0 0 0 0 0 0 65536 2 65536 0 0 0 17 0 0 0 "
				   "0 0 0 0 0 0 0 0 0 0 256\n");
	proc.state = PROC_RUNNING;
	seqbuf_free(&s);
}

static void test_statm_maps(void **state)
{
	struct seqbuf s = {0};
	proc_pid_statm_show(&s, &proc, NULL);
	assert_string_equal(s.buf, "37 18 0 1 0 36 0\n");
	s.len = 0;
	proc_pid_maps_show(&s, &proc, NULL);
	/* Names start at column 73, as Linux pads them. */
	assert_string_equal(s.buf, "00400000-00401000 r-xp 00000000 62:00 1234                    "
				   "           /bin/busybox\n"
				   "00401000-00403000 rw-p 00001000 62:00 1234                    "
				   "           /bin/busybox\n"
				   "00403000-00404000 rw-p 00000000 00:00 0                       "
				   "           [heap]\n"
				   "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0               "
				   "           [stack]\n");
	seqbuf_free(&s);
}

static void test_status(void **state)
{
	struct seqbuf s = {0};
	proc_pid_status_show(&s, &proc, NULL);
	assert_non_null(strstr(s.buf, "Name:\tsh\nUmask:\t0022\nState:\tR (running)\nTgid:\t42\n"
				      "Ngid:\t0\nPid:\t42\nPPid:\t1\nTracerPid:\t0\n"
				      "Uid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n"
				      "FDSize:\t8\nGroups:\t10 20 \nNStgid:\t42\n"));
	assert_non_null(strstr(s.buf, "\nVmSize:\t     148 kB\n"));
	assert_non_null(strstr(s.buf, "\nVmRSS:\t      72 kB\n"));
	assert_non_null(strstr(s.buf, "\nVmExe:\t       4 kB\n"));
	assert_non_null(strstr(s.buf, "\nVmStk:\t     132 kB\n"));
	assert_non_null(strstr(s.buf, "\nThreads:\t1\nSigQ:\t0/1024\n"));
	assert_non_null(strstr(s.buf, "\nSigBlk:\t0000000000010000\nSigIgn:\t0000000000000002\n"
				      "SigCgt:\t0000000000010000\n"));
	assert_non_null(strstr(s.buf, "\nCapEff:\t0000000000000000\n"));
	assert_int_equal(s.buf[s.len - 1], '\n');
	seqbuf_free(&s);
}

static void test_meminfo(void **state)
{
	struct seqbuf s = {0};
	mem_total_bytes = 256ull << 20;
	fake_committed = 64ull << 20;
	fake_cached = 16ull << 20;
	fake_dirty = 8192;
	proc_meminfo_show(&s);
	assert_memory_equal(s.buf,
			    "MemTotal:         262144 kB\n"
			    "MemFree:          180224 kB\n"
			    "MemAvailable:     196608 kB\n"
			    "Buffers:               0 kB\n"
			    "Cached:            16384 kB\n"
			    "SwapCached:            0 kB\n",
			    168);
	assert_non_null(strstr(s.buf, "\nSwapTotal:             0 kB\n"
				      "SwapFree:              0 kB\n"));
	assert_non_null(strstr(s.buf, "\nDirty:                 8 kB\n"));
	assert_non_null(strstr(s.buf, "\nCommitted_AS:      65536 kB\n"));
	assert_non_null(strstr(s.buf, "\nHardwareCorrupted:     0 kB\n"));
	assert_non_null(strstr(s.buf, "\nHugePages_Total:       0\n"));
	assert_non_null(strstr(s.buf, "\nHugepagesize:       2048 kB\n"
				      "Hugetlb:               0 kB\n"));
	/* More committed than there is: nothing free, never a wrapped number. */
	fake_committed = 300ull << 20;
	s.len = 0;
	proc_meminfo_show(&s);
	assert_non_null(strstr(s.buf, "\nMemFree:               0 kB\n"));
	seqbuf_free(&s);
}

static void test_uptime(void **state)
{
	struct seqbuf s = {0};
	boot_mono_ns = 1000000000;
	fake_mono_ns = boot_mono_ns + 12345678900ull;
	proc_uptime_show(&s);
	assert_memory_equal(s.buf, "12.34 ", 6);
	assert_int_equal(s.buf[s.len - 1], '\n');
	seqbuf_free(&s);
}

/* --- the tree ----------------------------------------------------------------------- */

static struct inode *lookup(struct inode *dir, const char *name)
{
	struct inode *i = NULL;
	assert_int_equal(dir->iop->lookup(dir, name, &i), 0);
	return i;
}

static struct inode *walk(struct inode *dir, const char *path)
{
	char *copy = strdup(path), *save;
	struct inode *i = dir;
	igrab(i);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		struct inode *next = lookup(i, c);
		iput(i);
		i = next;
	}
	free(copy);
	return i;
}

static int open_file(struct inode *i, unsigned flags, struct file *f)
{
	*f = (struct file){.refcount = 1, .flags = flags, .inode = i, .fop = i->fop};
	return i->fop->open(i, f);
}

/* The whole file, read in small pieces. */
static char *read_all(struct inode *i)
{
	struct file f;
	static char buf[8192];
	size_t n = 0;
	ssize_t r;
	assert_int_equal(open_file(i, O_RDONLY, &f), 0);
	while ((r = i->fop->read(&f, buf + n, 7, &f.pos)) > 0)
		n += r;
	assert_int_equal(r, 0);
	buf[n] = '\0';
	i->fop->release(&f);
	return buf;
}

static int readlink_(struct inode *i, char *buf)
{
	int n = i->iop->readlink(i, buf, 63);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* The symlink at path below dir reads as target. */
static void assert_link(struct inode *dir, const char *path, const char *target)
{
	char buf[64];
	struct inode *i = walk(dir, path);
	assert_int_equal(readlink_(i, buf), strlen(target));
	assert_string_equal(buf, target);
	iput(i);
}

struct names {
	struct dir_ctx ctx;
	char all[512];
};

static bool names_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
		       unsigned dtype)
{
	struct names *c = container_of(ctx, struct names, ctx);
	size_t at = strlen(c->all);
	snprintf(c->all + at, sizeof(c->all) - at, "%.*s ", (int)len, name);
	return strlen(c->all) < 40; /* a small buffer: resume often */
}

static int list_dir(struct inode *dir, struct names *c)
{
	struct file f = {.refcount = 1, .inode = dir, .fop = dir->fop};
	char part[512] = "";
	memset(c, 0, sizeof(*c));
	c->ctx.emit = names_emit;
	for (;;) {
		c->all[0] = '\0';
		loff_t before = c->ctx.pos;
		int err = dir->fop->readdir(&f, &c->ctx);
		if (err)
			return err;
		strcat(part, c->all);
		if (c->ctx.pos == before)
			break;
	}
	strcpy(c->all, part);
	return 0;
}

static struct super_block *mount_fs(const char *name)
{
	const struct fs_type *t = find_filesystem(name);
	struct super_block *sb;
	assert_non_null(t);
	assert_int_equal(t->mount(t, name, 0, NULL, &sb), 0);
	return sb;
}

static void umount_fs(struct super_block *sb)
{
	sb->ops->put_super(sb);
	assert_int_equal(nr_inodes, 0);
}

static void test_tree(void **state)
{
	struct super_block *sb = mount_fs("proc");
	struct inode *root = sb->root, *i, *pid;
	struct names c;

	assert_int_equal(list_dir(root, &c), 0);
	assert_non_null(strstr(c.all, ". .. self thread-self mounts meminfo "));
	assert_non_null(strstr(c.all, " sys 1 42 "));

	assert_link(root, "self", "42");
	assert_link(root, "thread-self", "42/task/42");

	pid = lookup(root, "42");
	assert_true(S_ISDIR(pid->mode));
	assert_int_equal(pid->uid, 1000);
	assert_ptr_equal(lookup(root, "42"), pid); /* the same inode while it lives */
	iput(pid);
	assert_int_equal(root->iop->lookup(root, "043", &i), -ENOENT);
	assert_int_equal(root->iop->lookup(root, "7", &i), -ENOENT);

	i = lookup(pid, "stat");
	assert_memory_equal(read_all(i), "42 (sh) R 1 ", 12);
	iput(i);
	i = lookup(pid, "cmdline");
	assert_memory_equal(read_all(i), "arg0\0arg1\0", 10);
	iput(i);
	assert_link(pid, "exe", "/bin/busybox");

	i = lookup(pid, "fd");
	assert_int_equal(list_dir(i, &c), 0);
	assert_string_equal(c.all, ". .. 0 3 ");
	assert_link(i, "3", "pipe:[77]");
	assert_link(i, "0", "/dev/console");
	struct inode *fd;
	assert_int_equal(i->iop->lookup(i, "1", &fd), -ENOENT);
	assert_int_equal(i->iop->lookup(i, "100", &fd), -ENOENT);
	iput(i);
	i = walk(pid, "fdinfo/3");
	assert_string_equal(read_all(i), "pos:\t0\nflags:\t02000001\nmnt_id:\t0\nino:\t77\n");
	iput(i);

	i = walk(pid, "task");
	assert_int_equal(list_dir(i, &c), 0);
	assert_string_equal(c.all, ". .. 42 ");
	iput(i);
	i = walk(pid, "task/42/status");
	assert_non_null(strstr(read_all(i), "\nPid:\t42\n"));
	iput(i);

	/* The process goes: its entries resolve to nothing, even cached ones. */
	i = lookup(pid, "status");
	fake_procs[1] = NULL;
	struct file f;
	assert_int_equal(open_file(i, O_RDONLY, &f), -ENOENT);
	assert_int_equal(pid->iop->lookup(pid, "stat", &fd), -ENOENT);
	assert_int_equal(root->iop->lookup(root, "42", &fd), -ENOENT);
	assert_int_equal(list_dir(pid, &c), -ENOENT);
	assert_int_equal(list_dir(root, &c), 0);
	assert_null(strstr(c.all, " 42 "));
	iput(i);
	iput(pid);
	umount_fs(sb);
}

static void test_sysctl(void **state)
{
	struct super_block *sb = mount_fs("proc");
	struct inode *i = walk(sb->root, "sys/kernel/hostname");
	struct file f;
	assert_int_equal(i->mode, S_IFREG | 0644);
	assert_int_equal(open_file(i, O_WRONLY | O_TRUNC, &f), 0);
	assert_int_equal(i->fop->write(&f, "guest\n", 6, &f.pos), 6);
	i->fop->release(&f);
	assert_string_equal(uts_nodename, "guest");
	assert_string_equal(read_all(i), "guest\n");
	struct iattr a = {.valid = ATTR_SIZE};
	assert_int_equal(i->iop->setattr(i, &a), 0);
	a.valid = ATTR_MODE;
	assert_int_equal(i->iop->setattr(i, &a), -EPERM);
	iput(i);
	i = walk(sb->root, "sys/kernel/osrelease");
	assert_string_equal(read_all(i), UTS_RELEASE "\n");
	iput(i);

	/* Read-only files refuse writers; a read from offset 0 takes a new snapshot (the
	 * open file's private data starts with its seqbuf). */
	i = lookup(sb->root, "meminfo");
	assert_int_equal(open_file(i, O_RDWR, &f), -EACCES);
	assert_int_equal(open_file(i, O_RDONLY, &f), 0);
	char buf[32];
	loff_t pos = 0;
	fake_committed = 0;
	assert_int_equal(i->fop->read(&f, buf, sizeof(buf), &pos), sizeof(buf));
	fake_committed = 1ull << 20;
	pos = 10;
	i->fop->read(&f, buf, sizeof(buf), &pos);
	assert_null(strstr(((struct seqbuf *)f.priv)->buf, "Committed_AS:       1024"));
	pos = 0;
	i->fop->read(&f, buf, sizeof(buf), &pos);
	assert_non_null(strstr(((struct seqbuf *)f.priv)->buf, "Committed_AS:       1024 kB"));
	i->fop->release(&f);
	iput(i);

	i = lookup(sb->root, "filesystems");
	assert_non_null(strstr(read_all(i), "nodev\tproc\n"));
	iput(i);
	umount_fs(sb);
}

static void test_sysfs(void **state)
{
	static struct blkdev ubda = {
	    .name = "ubda", .size = 1 << 30, .major = 98, .minor = 0, .ops = &fake_noio_blk_ops};
	assert_int_equal(blk_register(&ubda), 0);
	struct super_block *sb = mount_fs("sysfs");
	struct names c;
	struct inode *i = lookup(sb->root, "block");
	assert_int_equal(list_dir(i, &c), 0);
	assert_string_equal(c.all, ". .. ubda ");
	iput(i);
	i = walk(sb->root, "block/ubda/size");
	assert_string_equal(read_all(i), "2097152\n");
	iput(i);
	i = walk(sb->root, "block/ubda/dev");
	assert_string_equal(read_all(i), "98:0\n");
	blk_unregister(&ubda);
	struct file f;
	assert_int_equal(open_file(i, O_RDONLY, &f), -ENOENT);
	iput(i);
	i = walk(sb->root, "devices/system/cpu/online");
	assert_memory_equal(read_all(i), "0", 1);
	iput(i);
	i = walk(sb->root, "fs/cgroup");
	assert_int_equal(list_dir(i, &c), 0);
	assert_string_equal(c.all, ". .. ");
	iput(i);
	umount_fs(sb);
}

int main(void)
{
	procfs_register();
	sysfs_register();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_stat, setup),
	    cmocka_unit_test_setup(test_statm_maps, setup),
	    cmocka_unit_test_setup(test_status, setup),
	    cmocka_unit_test_setup(test_meminfo, setup),
	    cmocka_unit_test_setup(test_uptime, setup),
	    cmocka_unit_test_setup(test_tree, setup),
	    cmocka_unit_test_setup(test_sysctl, setup),
	    cmocka_unit_test_setup(test_sysfs, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
