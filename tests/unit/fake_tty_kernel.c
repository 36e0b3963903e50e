/* Fakes of the kernel services the tty layer uses: processes and signals (recorded),
 * guest memory (guest addresses are host pointers), sleeping (a test hook stands in for
 * other tasks and the clock), chrdev/filesystem registration and inodes for devpts. */
#include "kernel/task.h"
#include "kernel/fs/fs.h"
#include "kernel/fs/pseudofs.h"

struct task *current;
struct process *init_process;

/* processes */
struct process *fake_procs[8];
int fake_nprocs;

struct process *process_next(struct process *prev)
{
	int i = 0;

	if (prev) {
		while (i < fake_nprocs && fake_procs[i] != prev)
			i++;
		i++;
	}
	return i < fake_nprocs ? fake_procs[i] : NULL;
}

/* signals: every kill_pgrp/send_signal is recorded as {target, sig} */
struct fake_sig {
	pid_t target;
	int sig;
	bool pgrp;
};
struct fake_sig fake_sigs[32];
int fake_nsigs;
bool fake_orphaned, fake_ignored;

static void record(pid_t target, int sig, bool pgrp)
{
	if (fake_nsigs < (int)ARRAY_SIZE(fake_sigs))
		fake_sigs[fake_nsigs++] = (struct fake_sig){target, sig, pgrp};
}

int kill_pgrp(pid_t pgid, int sig)
{
	record(pgid, sig, true);
	return 0;
}

int send_signal(struct process *p, int sig, const struct ksiginfo *info)
{
	record(p->pid, sig, false);
	return 0;
}

bool pgrp_is_orphaned(pid_t pgid)
{
	return fake_orphaned;
}

bool sig_ignored(struct process *p, int sig)
{
	return fake_ignored;
}

/* guest memory */
int copy_from_user(void *dst, uaddr_t src, size_t n)
{
	if (!src)
		return -EFAULT;
	memcpy(dst, (const void *)(uintptr_t)src, n);
	return 0;
}

int copy_to_user(uaddr_t dst, const void *src, size_t n)
{
	if (!dst)
		return -EFAULT;
	memcpy((void *)(uintptr_t)dst, src, n);
	return 0;
}

/* scheduling: a sleeper calls the hook, which plays the rest of the world */
uint64_t fake_now = 1000000000;
int fake_wakeups, fake_sleeps;
int (*fake_sleep_hook)(uint64_t deadline);

void waitq_init(struct waitq *wq)
{
	list_init(&wq->sleepers);
}

void wake_up(struct waitq *wq)
{
	fake_wakeups++;
}

int sleep_on_many(struct waitq **wqs, int n, bool interruptible, uint64_t deadline)
{
	fake_sleeps++;
	if (fake_sleep_hook)
		return fake_sleep_hook(deadline);
	return -EINTR; /* nobody will ever wake us: say a signal came */
}

uint64_t ktime_mono(void)
{
	return fake_now;
}

struct poll_table;
void poll_wait(struct poll_table *pt, struct waitq *wq)
{
}

/* event loop */
struct kevent *fake_kevents[4];
int fake_nkevents;

int kevent_add(struct kevent *ev)
{
	fake_kevents[fake_nkevents++] = ev;
	return 0;
}

void kevent_del(struct kevent *ev)
{
	for (int i = 0; i < fake_nkevents; i++)
		if (fake_kevents[i] == ev)
			fake_kevents[i] = fake_kevents[--fake_nkevents];
}

/* registration */
struct chrdev fake_chrdevs[16];
int fake_nchrdevs;
const struct fs_type *fake_fs;

void register_chrdev(unsigned major, unsigned minor, const char *name,
		     const struct file_ops *fop)
{
	fake_chrdevs[fake_nchrdevs++] = (struct chrdev){major, minor, name, fop, {0, 0}};
}

void register_filesystem(struct fs_type *t)
{
	fake_fs = t;
}

/* inodes, for devpts */
struct inode *new_inode(struct super_block *sb, mode_t mode)
{
	struct inode *i = xzalloc(sizeof(*i));

	i->sb = sb;
	i->mode = mode;
	i->refcount = 1;
	list_add_tail(&i->sb_link, &sb->inodes);
	return i;
}

struct inode *iget(struct super_block *sb, uint64_t ino)
{
	list_for_each(it, &sb->inodes) {
		struct inode *i = list_entry(it, struct inode, sb_link);

		if (i->ino == ino) {
			i->refcount++;
			return i;
		}
	}
	return NULL;
}

void iput(struct inode *i)
{
	if (!i || --i->refcount > 0)
		return;
	list_del(&i->sb_link);
	free(i);
}

dev_t pseudo_anon_dev(void)
{
	return 42;
}

/* opening by path (TIOCGPTPEER): recorded, and the file is "not there" */
char fake_opened[64];

int kern_open(const char *path, int flags, mode_t mode, struct file **out)
{
	snprintf(fake_opened, sizeof(fake_opened), "%s", path);
	return -ENOENT;
}

int fd_install(struct file *f, unsigned flags)
{
	return -EMFILE;
}

void fput(struct file *f)
{
}

struct timespec current_time(void)
{
	return (struct timespec){1, 0};
}

/* misc */
void printk(const char *fmt, ...)
{
}

void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

void *xzalloc(size_t n)
{
	return memset(xmalloc(n), 0, n);
}

char *xstrdup(const char *s)
{
	return strcpy(xmalloc(strlen(s) + 1), s);
}
