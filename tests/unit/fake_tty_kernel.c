/* Fakes of the kernel services the tty layer uses beyond fake_kernel.c: processes and
 * signals (recorded), the event loop, and what devpts and TIOCGPTPEER touch of the VFS.
 * See fake_tty_kernel.h. */
#include "fake_tty_kernel.h"
#include "kernel/fs/pseudofs.h"

struct process *init_process;

/* signals: every kill_pgrp/send_signal is recorded as {target, sig} */
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
