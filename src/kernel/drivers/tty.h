/* The tty layer: a line discipline (N_TTY) between a device (the host console, a pty
 * master) and the guest processes that read and write /dev/console, /dev/tty and
 * /dev/pts/N, with termios, job control and the controlling-terminal bookkeeping.
 * Everything here runs on the kernel thread; devices feed input with tty_receive(). */
#ifndef TTY_H
#define TTY_H

#include "../kernel.h"
#include "../sched.h"
#include "../fs/vfs.h"
#include <sys/ioctl.h> /* struct winsize */

#ifndef ERESTARTSYS
#define ERESTARTSYS 512 /* the syscall layer restarts or turns it into EINTR */
#endif

/* struct termios as the Linux kernel's ioctls see it (asm-generic/termbits.h), not
 * glibc's: 36 bytes, 19 control characters, no speed fields. */
#define KNCCS 19
struct ktermios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[KNCCS];
};

#define N_TTY_BUF 4096 /* input buffer; a power of two */

struct tty;
struct process;

/* What a device does for the tty. write() takes processed output; it must accept n
 * bytes when n <= write_room() (or always, with no write_room). */
struct tty_ops {
	ssize_t (*write)(struct tty *t, const char *buf, size_t n);
	size_t (*write_room)(struct tty *t);
	/* A reader consumed input: the device may feed more (flow control). */
	void (*unthrottle)(struct tty *t);
	/* Every open and close of a file on the tty (after the tty layer's checks). */
	int (*open)(struct tty *t, struct file *f);
	void (*close)(struct tty *t, struct file *f);
	void (*flush_output)(struct tty *t);
	size_t (*chars_in_buffer)(struct tty *t); /* TIOCOUTQ */
};

struct tty {
	const struct tty_ops *ops;
	void *priv;
	char name[16]; /* "console", "pts/3" */
	dev_t dev;
	struct list link; /* in the list of devices tty_open() finds */
	struct ktermios termios;
	uint32_t ispeed, ospeed; /* termios2 only */
	struct winsize ws;
	pid_t session, pgrp; /* controlling tty of session; its foreground group */
	int opens;
	bool hungup;		       /* reads return 0, writes -EIO */
	bool input_eof;		       /* the device's input ended: reads return 0 once drained */
	bool stopped;		       /* output stopped by ^S / TCOOFF */
	bool lnext;		       /* the next input byte is literal (^V) */
	unsigned column, canon_column; /* output column; where the edited line began */
	/* Input ring, monotonic indices: read_tail <= canon_head <= read_head. In canonical
	 * mode [canon_head, read_head) is the line being edited. */
	size_t read_tail, canon_head, read_head;
	uint8_t buf[N_TTY_BUF];
	uint8_t mark[N_TTY_BUF]; /* per byte: 0, TTY_DELIM (ends a line), TTY_EOFMARK */
	struct waitq read_wait, write_wait;
};
#define TTY_DELIM 1
#define TTY_EOFMARK 2

/* Set up a tty with Linux's default termios (tty_std_termios) and, if dev is not 0,
 * make it reachable through its device number. */
void tty_init(struct tty *t, const struct tty_ops *ops, const char *name, dev_t dev);
/* Forget a tty: it is no longer found by device number and no process keeps it as its
 * controlling terminal. */
void tty_remove(struct tty *t);

/* Device side (kernel-thread context). */
void tty_receive(struct tty *t, const char *buf, size_t n);
size_t tty_receive_room(const struct tty *t); /* bytes tty_receive() takes whole */
void tty_set_eof(struct tty *t);	      /* the device's input ended */
/* The device went away: SIGHUP/SIGCONT to the session leader, reads 0, writes -EIO. */
void tty_hangup(struct tty *t);
/* New window size; SIGWINCH to the foreground group if it changed. */
void tty_set_winsize(struct tty *t, const struct winsize *ws);

/* File side: the operations behind tty_fops, for drivers that wrap them (pty master). */
ssize_t tty_read(struct tty *t, struct file *f, void *buf, size_t n);
ssize_t tty_write(struct tty *t, struct file *f, const void *buf, size_t n);
/* master: issued on a pty master about its slave (no job-control checks). */
long tty_ioctl(struct tty *t, struct file *f, unsigned cmd, uint64_t arg, bool master);
unsigned tty_poll(struct tty *t, struct poll_table *pt);

/* Make t the controlling tty of the current process if it is a session leader without
 * one and t belongs to no session (what open() without O_NOCTTY does). */
void tty_open_ctty(struct tty *t);
/* The session leader p is exiting: SIGHUP to its terminal's foreground group and the
 * whole session loses its controlling tty. Call before p's pgid/sid go away. */
void tty_session_leader_exit(struct process *p);

/* /dev/tty (5,0), /dev/console (5,1), /dev/tty0 (4,0), /dev/tty1 (4,1) and the pty
 * slaves (136,N): tty_fops finds the tty by the inode's device number. */
extern const struct file_ops tty_fops;
void tty_devices_init(void); /* register_chrdev for 5:0, 5:1, 4:0, 4:1 */

/* ptys (pty.c): /dev/ptmx (5,2) and the devpts filesystem (fs/devpts.c). */
#define PTY_SLAVE_MAJOR 136
#define PTY_MAX 256
void pty_init(void); /* registers /dev/ptmx and the "devpts" filesystem */
struct pty_info {
	uid_t uid;
	gid_t gid;
	struct timespec ctime;
};
/* Does pty idx exist (its master is open)? Fills *info when it does. */
bool pty_info(unsigned idx, struct pty_info *info);
void devpts_init(void); /* register_filesystem("devpts") */
/* pty idx was (re)created: cached /dev/pts/idx nodes take its owner and times. */
void devpts_refresh(unsigned idx);

#endif
