/* The kernel services the tty layer uses beyond the common fake (fake_tty_kernel.c):
 * signals (recorded), the event loop (recorded), opening by path (recorded, the file is
 * "not there"). Guest memory, sleeping and the clock are fake_kernel.h's. */
#ifndef FAKE_TTY_KERNEL_H
#define FAKE_TTY_KERNEL_H

#include "fake_kernel.h"
#include "kernel/fs/fs.h"

/* Every kill_pgrp/send_signal, as {target, sig, to a group}. */
struct fake_sig {
	pid_t target;
	int sig;
	bool pgrp;
};
extern struct fake_sig fake_sigs[32];
extern int fake_nsigs;
/* What pgrp_is_orphaned() and sig_ignored() answer. */
extern bool fake_orphaned, fake_ignored;

/* The watched fds (kevent_add). */
extern struct kevent *fake_kevents[4];
extern int fake_nkevents;

/* The last path kern_open() was asked for. */
extern char fake_opened[64];

#endif
