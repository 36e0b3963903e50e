/* The tty layer and its line discipline (N_TTY), after Linux's n_tty.c and tty_io.c:
 * input editing and echo, output processing, signals from the keyboard, job control
 * and the controlling terminal of a session. */
#include "tty.h"
#include "../task.h"
#include <poll.h>
#include <sys/sysmacros.h>
#include <termios.h>

#define IFL(t, f) ((t)->termios.c_iflag & (f))
#define OFL(t, f) ((t)->termios.c_oflag & (f))
#define LFL(t, f) ((t)->termios.c_lflag & (f))
#define CC(t, i) ((t)->termios.c_cc[i])
#define IDX(x) ((x) & (N_TTY_BUF - 1))

/* termios2 ioctls: the header defines them with a struct that glibc lacks. */
#define K_TCGETS2 0x802C542Au
#define K_TCSETS2 0x402C542Bu
#define K_TCSETSW2 0x402C542Cu
#define K_TCSETSF2 0x402C542Du

struct ktermios2 {
	struct ktermios t;
	uint32_t c_ispeed, c_ospeed;
};
_Static_assert(sizeof(struct ktermios) == 36, "kernel struct termios is 36 bytes");
_Static_assert(sizeof(struct ktermios2) == 44, "kernel struct termios2 is 44 bytes");

enum { ERASE, WERASE, KILL };

static struct list ttys = LIST_INIT(ttys);

static struct process *cur_proc(void)
{
	return current ? current->proc : NULL;
}

static size_t read_cnt(const struct tty *t)
{
	return t->read_head - t->read_tail;
}

/* A c_cc entry of 0 is _POSIX_VDISABLE: it matches no input byte. */
static bool is_cc(const struct tty *t, uint8_t c, int i)
{
	return CC(t, i) && c == CC(t, i);
}

static bool is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_cont(const struct tty *t, uint8_t c)
{
	return IFL(t, IUTF8) && (c & 0xc0) == 0x80;
}

void tty_init(struct tty *t, const struct tty_ops *ops, const char *name, dev_t dev)
{
	static const uint8_t cc[KNCCS] = {
	    [VINTR] = 003,    [VQUIT] = 034,   [VERASE] = 0177, [VKILL] = 025, [VEOF] = 004,
	    [VMIN] = 1,	      [VSTART] = 021,  [VSTOP] = 023,	[VSUSP] = 032, [VREPRINT] = 022,
	    [VDISCARD] = 017, [VWERASE] = 027, [VLNEXT] = 026,
	};

	memset(t, 0, sizeof(*t));
	t->ops = ops;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->dev = dev;
	t->termios.c_iflag = ICRNL | IXON;
	t->termios.c_oflag = OPOST | ONLCR;
	t->termios.c_cflag = B38400 | CS8 | CREAD | HUPCL;
	t->termios.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	memcpy(t->termios.c_cc, cc, sizeof(cc));
	t->ispeed = t->ospeed = 38400;
	waitq_init(&t->read_wait);
	waitq_init(&t->write_wait);
	list_init(&t->link);
	if (dev)
		list_add_tail(&t->link, &ttys);
}

static void session_clear_tty(pid_t sid)
{
	for (struct process *p = process_next(NULL); p; p = process_next(p))
		if (p->sid == sid)
			p->tty = NULL;
}

void tty_remove(struct tty *t)
{
	list_del(&t->link);
	for (struct process *p = process_next(NULL); p; p = process_next(p))
		if (p->tty == t)
			p->tty = NULL;
	t->session = t->pgrp = 0;
}

static struct tty *tty_lookup(dev_t dev)
{
	/* tty0 (the current virtual terminal) and tty1 are the console here. */
	if (major(dev) == 4 && minor(dev) <= 1)
		dev = makedev(5, 1);
	list_for_each(it, &ttys)
	{
		struct tty *t = list_entry(it, struct tty, link);
		if (t->dev == dev)
			return t;
	}
	return NULL;
}

/* --- output ------------------------------------------------------------------------ */

/* OPOST processing of one byte into out (room for 8); returns the bytes produced. */
static size_t opost_char(struct tty *t, uint8_t c, char *out)
{
	if (!OFL(t, OPOST)) {
		*out = (char)c;
		return 1;
	}
	switch (c) {
	case '\n':
		if (OFL(t, ONLRET))
			t->column = 0;
		if (OFL(t, ONLCR)) {
			out[0] = '\r';
			out[1] = '\n';
			t->column = 0;
			return 2;
		}
		break;
	case '\r':
		if (OFL(t, ONOCR) && t->column == 0)
			return 0;
		if (OFL(t, OCRNL)) {
			c = '\n';
			if (OFL(t, ONLRET))
				t->column = 0;
			break;
		}
		t->column = 0;
		break;
	case '\t': {
		unsigned spaces = 8 - (t->column & 7);

		t->column += spaces;
		if ((t->termios.c_oflag & TABDLY) == TAB3) {
			memset(out, ' ', spaces);
			return spaces;
		}
		break;
	}
	case '\b':
		if (t->column)
			t->column--;
		break;
	default:
		if (!is_ctl(c)) {
			if (OFL(t, OLCUC) && c >= 'a' && c <= 'z')
				c -= 'a' - 'A';
			if (!is_cont(t, c))
				t->column++;
		}
	}
	*out = (char)c;
	return 1;
}

static size_t write_room(struct tty *t)
{
	return t->ops->write_room ? t->ops->write_room(t) : SIZE_MAX;
}

/* Echo goes straight to the device; what does not fit (a full pty) is dropped. */
static void echo_raw(struct tty *t, const char *s, size_t n)
{
	char out[128];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		len += opost_char(t, (uint8_t)s[i], out + len);
		if (len + 8 > sizeof(out) || i + 1 == n) {
			len = MIN(len, write_room(t));
			if (len)
				t->ops->write(t, out, len);
			len = 0;
		}
	}
}

/* Control characters echo as ^X with ECHOCTL. */
static void echo_char(struct tty *t, uint8_t c)
{
	if (LFL(t, ECHOCTL) && is_ctl(c) && c != '\t') {
		char s[2] = {'^', (char)(c ^ 0100)};
		echo_raw(t, s, 2);
	} else {
		echo_raw(t, (const char *)&c, 1);
	}
}

static void start_output(struct tty *t)
{
	t->stopped = false;
	wake_up(&t->write_wait);
}

/* --- input ------------------------------------------------------------------------- */

static void put(struct tty *t, uint8_t c, uint8_t mark)
{
	t->buf[IDX(t->read_head)] = c;
	t->mark[IDX(t->read_head)] = mark;
	t->read_head++;
}

/* A line ends: newline, EOL or the EOF marker, which never reaches the reader. */
static void put_delim(struct tty *t, uint8_t c, uint8_t mark)
{
	if (read_cnt(t) >= N_TTY_BUF)
		return;
	put(t, c, mark);
	t->canon_head = t->read_head;
}

/* An ordinary byte. The last slot of the buffer is kept for a line end. */
static void put_char(struct tty *t, uint8_t c)
{
	bool canon = LFL(t, ICANON);

	if (read_cnt(t) >= N_TTY_BUF - 1)
		return;
	if (LFL(t, ECHO)) {
		if (canon && t->canon_head == t->read_head)
			t->canon_column = t->column;
		if (c == '\n' && !canon)
			echo_raw(t, "\n", 1);
		else
			echo_char(t, c);
	}
	put(t, c, 0);
	if (!canon)
		t->canon_head = t->read_head;
}

static void flush_input(struct tty *t)
{
	t->read_tail = t->canon_head = t->read_head;
	t->lnext = false;
	if (t->ops->unthrottle)
		t->ops->unthrottle(t);
}

static void flush_output(struct tty *t)
{
	if (t->ops->flush_output)
		t->ops->flush_output(t);
	wake_up(&t->write_wait);
}

static void isig(struct tty *t, int sig, uint8_t c)
{
	if (!LFL(t, NOFLSH)) {
		flush_input(t);
		flush_output(t);
	}
	if (IFL(t, IXON))
		start_output(t);
	if (LFL(t, ECHO))
		echo_char(t, c);
	if (t->pgrp > 0)
		kill_pgrp(t->pgrp, sig);
}

/* Screen column after echoing the edited line up to (not including) end. */
static unsigned line_column(struct tty *t, size_t end)
{
	unsigned col = t->canon_column;

	for (size_t i = t->canon_head; i != end; i++) {
		uint8_t c = t->buf[IDX(i)];

		if (c == '\t')
			col = (col | 7) + 1;
		else if (is_ctl(c))
			col += LFL(t, ECHOCTL) ? 2 : 0;
		else if (!is_cont(t, c))
			col++;
	}
	return col;
}

/* ERASE, WERASE and KILL in canonical mode, with their echo (n_tty's eraser()). */
static void eraser(struct tty *t, int kind, uint8_t key)
{
	unsigned alnums = 0;

	if (t->read_head == t->canon_head)
		return;
	if (kind == KILL) {
		if (!LFL(t, ECHO)) {
			t->read_head = t->canon_head;
			return;
		}
		if (!LFL(t, ECHOK) || !LFL(t, ECHOKE) || !LFL(t, ECHOE)) {
			t->read_head = t->canon_head;
			echo_char(t, key);
			if (LFL(t, ECHOK))
				echo_raw(t, "\n", 1);
			return;
		}
	}
	while (t->read_head != t->canon_head) {
		size_t head = t->read_head;
		uint8_t c;

		/* A UTF-8 character goes as a whole. */
		do
			c = t->buf[IDX(--head)];
		while (is_cont(t, c) && head != t->canon_head);
		if (is_cont(t, c))
			break;
		if (kind == WERASE) {
			bool alnum = (c >= '0' && c <= '9') ||
				     ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';

			if (alnum)
				alnums++;
			else if (alnums)
				break;
		}
		t->read_head = head;
		if (LFL(t, ECHO)) {
			if (kind == ERASE && !LFL(t, ECHOE)) {
				echo_char(t, key);
			} else if (c == '\t') {
				unsigned col = line_column(t, head);
				unsigned n = t->column > col ? MIN(t->column - col, 8u) : 0;

				while (n--)
					echo_raw(t, "\b", 1);
			} else {
				if (is_ctl(c) && LFL(t, ECHOCTL))
					echo_raw(t, "\b \b", 3);
				if (!is_ctl(c) || LFL(t, ECHOCTL))
					echo_raw(t, "\b \b", 3);
			}
		}
		if (kind == ERASE)
			break;
	}
}

static void reprint(struct tty *t, uint8_t key)
{
	echo_char(t, key);
	echo_raw(t, "\n", 1);
	t->canon_column = t->column;
	for (size_t i = t->canon_head; i != t->read_head; i++)
		echo_char(t, t->buf[IDX(i)]);
}

static void receive_char(struct tty *t, uint8_t c)
{
	if (IFL(t, ISTRIP))
		c &= 0x7f;
	if (IFL(t, IUCLC) && LFL(t, IEXTEN) && c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if (t->lnext) {
		t->lnext = false;
		if (LFL(t, ECHO) && LFL(t, ECHOCTL))
			echo_raw(t, "\b", 1); /* over the "^" shown for ^V */
		put_char(t, c);
		return;
	}
	if (IFL(t, IXON)) {
		if (is_cc(t, c, VSTART)) {
			start_output(t);
			return;
		}
		if (is_cc(t, c, VSTOP)) {
			t->stopped = true;
			return;
		}
		if (t->stopped && IFL(t, IXANY))
			start_output(t);
	}
	if (LFL(t, ISIG)) {
		int sig = is_cc(t, c, VINTR)   ? SIGINT
			  : is_cc(t, c, VQUIT) ? SIGQUIT
			  : is_cc(t, c, VSUSP) ? SIGTSTP
					       : 0;

		if (sig) {
			isig(t, sig, c);
			return;
		}
	}
	if (c == '\r') {
		if (IFL(t, IGNCR))
			return;
		if (IFL(t, ICRNL))
			c = '\n';
	} else if (c == '\n' && IFL(t, INLCR)) {
		c = '\r';
	}
	if (LFL(t, ICANON)) {
		/* ^H erases too: terminals send either it or DEL for backspace. */
		if (is_cc(t, c, VERASE) || c == '\b') {
			eraser(t, ERASE, c);
			return;
		}
		if (is_cc(t, c, VKILL)) {
			eraser(t, KILL, c);
			return;
		}
		if (LFL(t, IEXTEN)) {
			if (is_cc(t, c, VWERASE)) {
				eraser(t, WERASE, c);
				return;
			}
			if (is_cc(t, c, VLNEXT)) {
				t->lnext = true;
				if (LFL(t, ECHO) && LFL(t, ECHOCTL)) {
					if (t->canon_head == t->read_head)
						t->canon_column = t->column;
					echo_raw(t, "^", 1);
				}
				return;
			}
			if (is_cc(t, c, VREPRINT) && LFL(t, ECHO)) {
				reprint(t, c);
				return;
			}
		}
		if (c == '\n') {
			if (LFL(t, ECHO) || LFL(t, ECHONL))
				echo_raw(t, "\n", 1);
			put_delim(t, c, TTY_DELIM);
			return;
		}
		if (is_cc(t, c, VEOF)) {
			put_delim(t, c, TTY_EOFMARK);
			return;
		}
		if (is_cc(t, c, VEOL) || (LFL(t, IEXTEN) && is_cc(t, c, VEOL2))) {
			if (LFL(t, ECHO)) {
				if (t->canon_head == t->read_head)
					t->canon_column = t->column;
				echo_char(t, c);
			}
			put_delim(t, c, TTY_DELIM);
			return;
		}
	}
	put_char(t, c);
}

void tty_receive(struct tty *t, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		receive_char(t, (uint8_t)buf[i]);
	wake_up(&t->read_wait);
}

size_t tty_receive_room(const struct tty *t)
{
	size_t used = read_cnt(t);
	size_t left = used < N_TTY_BUF - 1 ? N_TTY_BUF - 1 - used : 0;

	/* A full buffer without a whole line must still take the newline that ends it:
	 * what comes before it is dropped rather than stall the writer for good. */
	if (!left && LFL(t, ICANON) && t->canon_head == t->read_tail)
		left = 1;
	return left;
}

void tty_set_eof(struct tty *t)
{
	t->input_eof = true;
	t->canon_head = t->read_head; /* the unfinished line is read as it is */
	wake_up(&t->read_wait);
}

void tty_hangup(struct tty *t)
{
	for (struct process *p = process_next(NULL); p; p = process_next(p)) {
		if (p->tty != t)
			continue;
		if (p->pid == p->sid) {
			send_signal(p, SIGHUP, NULL);
			send_signal(p, SIGCONT, NULL);
		}
		p->tty = NULL;
	}
	t->session = t->pgrp = 0;
	t->hungup = true;
	wake_up(&t->read_wait);
	wake_up(&t->write_wait);
}

void tty_set_winsize(struct tty *t, const struct winsize *ws)
{
	if (!memcmp(ws, &t->ws, sizeof(*ws)))
		return;
	t->ws = *ws;
	if (t->pgrp > 0)
		kill_pgrp(t->pgrp, SIGWINCH);
}

/* --- job control ------------------------------------------------------------------- */

/* A process of a background group touches its controlling terminal (Linux's
 * __tty_check_change): stop its group with sig, or fail when it cannot be stopped. */
static int job_control(struct tty *t, int sig)
{
	struct process *p = cur_proc();

	if (!p || p->tty != t || t->pgrp <= 0 || p->pgid == t->pgrp)
		return 0;
	if (sig_ignored(p, sig) || (current->blocked & SIGBIT(sig)))
		return sig == SIGTTIN ? -EIO : 0;
	if (pgrp_is_orphaned(p->pgid))
		return -EIO;
	kill_pgrp(p->pgid, sig);
	return -ERESTARTSYS;
}

static void set_ctty(struct process *p, struct tty *t)
{
	p->tty = t;
	t->session = p->sid;
	t->pgrp = p->pgid;
}

void tty_open_ctty(struct tty *t)
{
	struct process *p = cur_proc();

	if (p && p->pid == p->sid && !p->tty && !t->session)
		set_ctty(p, t);
}

/* The leader gives up its terminal: SIGHUP (and SIGCONT unless it is exiting) to the
 * foreground group; nobody in the session keeps the terminal. */
static void disassociate(struct process *leader, bool on_exit)
{
	struct tty *t = leader->tty;

	if (t->session == leader->sid) {
		if (t->pgrp > 0) {
			kill_pgrp(t->pgrp, SIGHUP);
			if (!on_exit)
				kill_pgrp(t->pgrp, SIGCONT);
		}
		t->session = t->pgrp = 0;
	}
	session_clear_tty(leader->sid);
	leader->tty = NULL;
}

void tty_session_leader_exit(struct process *p)
{
	if (p && p->pid == p->sid && p->tty)
		disassociate(p, true);
}

/* --- file operations --------------------------------------------------------------- */

static bool nonblocking(const struct file *f)
{
	return f && (f->flags & O_NONBLOCK);
}

static bool input_available(const struct tty *t, bool poll)
{
	size_t amt = 1;

	if (LFL(t, ICANON))
		return t->canon_head != t->read_tail;
	if (poll && !CC(t, VTIME) && CC(t, VMIN))
		amt = CC(t, VMIN);
	return read_cnt(t) >= amt;
}

/* Copy one line at most. The EOF marker ends the read without being copied; it goes
 * with the last bytes of its line, alone it makes the read return 0. */
static size_t canon_copy(struct tty *t, uint8_t *out, size_t n)
{
	size_t copied = 0;

	while (copied < n && t->read_tail != t->canon_head) {
		size_t i = IDX(t->read_tail++);

		if (t->mark[i] == TTY_EOFMARK)
			return copied;
		out[copied++] = t->buf[i];
		if (t->mark[i] == TTY_DELIM)
			return copied;
	}
	if (t->read_tail != t->canon_head && t->mark[IDX(t->read_tail)] == TTY_EOFMARK)
		t->read_tail++;
	return copied;
}

static size_t raw_copy(struct tty *t, uint8_t *out, size_t n)
{
	size_t copied = 0;

	while (copied < n && t->read_tail != t->read_head) {
		size_t i = IDX(t->read_tail++);

		if (t->mark[i] != TTY_EOFMARK) /* left over from canonical mode */
			out[copied++] = t->buf[i];
	}
	t->canon_head = t->read_head;
	return copied;
}

ssize_t tty_read(struct tty *t, struct file *f, void *buf, size_t n)
{
	uint64_t vtime = CC(t, VTIME) * 100000000ull;
	size_t minimum = CC(t, VMIN), copied = 0, tail = t->read_tail;
	uint64_t deadline = 0;
	bool can_wait = true;
	ssize_t ret;
	int r = job_control(t, SIGTTIN);

	if (r)
		return r;
	if (!n)
		return 0;
	/* Non-canonical: VMIN>0 waits for VMIN bytes, VTIME then times the gap between
	 * bytes; VMIN=0 waits VTIME for any byte at all, or not at all. */
	if (!minimum) {
		minimum = 1;
		if (vtime)
			deadline = ktime_mono() + vtime;
		else
			can_wait = false;
	}
	for (;;) {
		if (LFL(t, ICANON)) {
			if (t->canon_head != t->read_tail) {
				copied = canon_copy(t, buf, n);
				break;
			}
		} else if (t->read_head != t->read_tail) {
			copied += raw_copy(t, (uint8_t *)buf + copied, n - copied);
			if (copied >= minimum || copied == n)
				break;
			if (vtime && CC(t, VMIN))
				deadline = ktime_mono() + vtime;
			continue;
		}
		if (t->hungup || t->input_eof || (!LFL(t, ICANON) && !can_wait))
			break;
		if (nonblocking(f)) {
			ret = copied ? (ssize_t)copied : -EAGAIN;
			goto out;
		}
		r = sleep_on_many((struct waitq *[]){&t->read_wait}, 1, true, deadline);
		if (r == -ETIMEDOUT) {
			can_wait = false;
		} else if (r) {
			ret = copied ? (ssize_t)copied : -ERESTARTSYS;
			goto out;
		}
	}
	ret = (ssize_t)copied;
out:
	if (t->read_tail != tail && t->ops->unthrottle)
		t->ops->unthrottle(t);
	return ret;
}

ssize_t tty_write(struct tty *t, struct file *f, const void *buf, size_t n)
{
	const uint8_t *in = buf;
	char out[1024];
	size_t done = 0;

	if (t->hungup)
		return -EIO;
	if (LFL(t, TOSTOP)) {
		int r = job_control(t, SIGTTOU);

		if (r)
			return r;
	}
	while (done < n) {
		size_t room = write_room(t), len = 0;

		if (t->hungup)
			return done ? (ssize_t)done : -EIO;
		/* 8: the most one byte can become (a tab). */
		if (t->stopped || room < 8) {
			if (nonblocking(f))
				return done ? (ssize_t)done : -EAGAIN;
			if (sleep_on(&t->write_wait, true))
				return done ? (ssize_t)done : -ERESTARTSYS;
			continue;
		}
		room = MIN(room, sizeof(out));
		while (done < n && len + 8 <= room)
			len += opost_char(t, in[done++], out + len);
		if (len)
			t->ops->write(t, out, len);
	}
	return (ssize_t)done;
}

unsigned tty_poll(struct tty *t, struct poll_table *pt)
{
	unsigned mask = 0;

	if (pt) {
		poll_wait(pt, &t->read_wait);
		poll_wait(pt, &t->write_wait);
	}
	if (t->hungup)
		return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLHUP | POLLERR;
	if (input_available(t, true) || t->input_eof)
		mask |= POLLIN | POLLRDNORM;
	if (!t->stopped && write_room(t) >= 8)
		mask |= POLLOUT | POLLWRNORM;
	return mask;
}

/* --- ioctl ------------------------------------------------------------------------- */

static long put_int(uint64_t arg, int v)
{
	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long get_int(uint64_t arg, int *v)
{
	return copy_from_user(v, arg, sizeof(*v)) ? -EFAULT : 0;
}

static void set_termios(struct tty *t, const struct ktermios *nt)
{
	bool was_canon = LFL(t, ICANON);

	t->termios = *nt;
	if (!was_canon && LFL(t, ICANON) && read_cnt(t))
		/* What was typed in raw mode is readable at once, as one line. */
		t->mark[IDX(t->read_head - 1)] = TTY_DELIM;
	if (was_canon != !!LFL(t, ICANON)) {
		t->canon_head = t->read_head;
		t->lnext = false;
	}
	if (!IFL(t, IXON) && t->stopped)
		start_output(t);
	wake_up(&t->read_wait); /* VMIN/VTIME or the mode changed what a reader waits for */
}

/* Bytes the next reads would return: in canonical mode whole lines only. */
static int inq(const struct tty *t)
{
	int n = 0;

	if (!LFL(t, ICANON))
		return (int)read_cnt(t);
	for (size_t i = t->read_tail; i != t->canon_head; i++)
		n += t->mark[IDX(i)] != TTY_EOFMARK;
	return n;
}

static bool is_ctty(const struct tty *t)
{
	struct process *p = cur_proc();

	return p && p->tty == t;
}

static long tiocsctty(struct tty *t, struct file *f, uint64_t arg)
{
	struct process *p = cur_proc();
	bool admin = p && p->cred.euid == 0;

	if (!p)
		return -EPERM;
	if (p->pid == p->sid && t->session == p->sid)
		return 0;
	if (p->pid != p->sid || p->tty)
		return -EPERM;
	if ((f->flags & O_ACCMODE) == O_WRONLY && !admin)
		return -EPERM;
	if (t->session) {
		if (arg != 1 || !admin)
			return -EPERM;
		session_clear_tty(t->session); /* root steals it */
	}
	set_ctty(p, t);
	return 0;
}

static long tiocspgrp(struct tty *t, uint64_t arg)
{
	struct process *p = cur_proc();
	bool found = false;
	int pgrp;

	if (!p || p->tty != t || t->session != p->sid)
		return -ENOTTY;
	if (get_int(arg, &pgrp))
		return -EFAULT;
	if (pgrp < 0)
		return -EINVAL;
	for (struct process *q = process_next(NULL); q; q = process_next(q)) {
		if (q->pgid != pgrp || q->state == PROC_DEAD)
			continue;
		if (q->sid != p->sid)
			return -EPERM;
		found = true;
	}
	if (!found)
		return -ESRCH;
	t->pgrp = pgrp;
	return 0;
}

long tty_ioctl(struct tty *t, struct file *f, unsigned cmd, uint64_t arg, bool master)
{
	/* Changing the terminal from a background group stops it with SIGTTOU. */
#define CHECK_CHANGE()                                                                             \
	do {                                                                                       \
		int __r = master ? 0 : job_control(t, SIGTTOU);                                    \
		if (__r)                                                                           \
			return __r;                                                                \
	} while (0)
	struct process *p = cur_proc();
	int v;

	switch (cmd) {
	case TCGETS:
		return copy_to_user(arg, &t->termios, sizeof(t->termios)) ? -EFAULT : 0;
	case K_TCGETS2: {
		struct ktermios2 t2 = {t->termios, t->ispeed, t->ospeed};

		return copy_to_user(arg, &t2, sizeof(t2)) ? -EFAULT : 0;
	}
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
	case K_TCSETS2:
	case K_TCSETSW2:
	case K_TCSETSF2: {
		bool two = cmd == K_TCSETS2 || cmd == K_TCSETSW2 || cmd == K_TCSETSF2;
		struct ktermios2 t2;

		if (copy_from_user(&t2, arg, two ? sizeof(t2) : sizeof(t2.t)))
			return -EFAULT;
		CHECK_CHANGE();
		if (cmd == TCSETSF || cmd == K_TCSETSF2)
			flush_input(t);
		if (two) {
			t->ispeed = t2.c_ispeed;
			t->ospeed = t2.c_ospeed;
		}
		/* TCSETSW waits for output to drain: output is never queued here. */
		set_termios(t, &t2.t);
		return 0;
	}
	case TCSBRK:
	case TCSBRKP:
	case TIOCSBRK:
	case TIOCCBRK:
	case TIOCEXCL:
	case TIOCNXCL:
		return 0;
	case TCXONC:
		CHECK_CHANGE();
		switch (arg) {
		case TCOOFF:
			t->stopped = true;
			return 0;
		case TCOON:
			start_output(t);
			return 0;
		case TCIOFF:
		case TCION: {
			uint8_t c = CC(t, arg == TCIOFF ? VSTOP : VSTART);

			if (c)
				t->ops->write(t, (const char *)&c, 1);
			return 0;
		}
		}
		return -EINVAL;
	case TCFLSH:
		CHECK_CHANGE();
		if (arg > TCIOFLUSH)
			return -EINVAL;
		if (arg != TCOFLUSH)
			flush_input(t);
		if (arg != TCIFLUSH)
			flush_output(t);
		return 0;
	case TIOCSCTTY:
		return master ? -ENOTTY : tiocsctty(t, f, arg);
	case TIOCNOTTY:
		if (master || !is_ctty(t))
			return -ENOTTY;
		if (p->pid == p->sid)
			disassociate(p, false);
		p->tty = NULL;
		return 0;
	case TIOCGPGRP:
		if (!master && !is_ctty(t))
			return -ENOTTY;
		return put_int(arg, t->pgrp);
	case TIOCSPGRP:
		CHECK_CHANGE();
		return tiocspgrp(t, arg);
	case TIOCGSID:
		if ((!master && !is_ctty(t)) || !t->session)
			return -ENOTTY;
		return put_int(arg, t->session);
	case TIOCOUTQ:
		return put_int(arg, t->ops->chars_in_buffer ? (int)t->ops->chars_in_buffer(t) : 0);
	case FIONREAD:
		return put_int(arg, inq(t));
	case TIOCSTI: {
		char c;

		if (!is_ctty(t) && !(p && p->cred.euid == 0))
			return -EPERM;
		if (copy_from_user(&c, arg, 1))
			return -EFAULT;
		tty_receive(t, &c, 1);
		return 0;
	}
	case TIOCGWINSZ:
		return copy_to_user(arg, &t->ws, sizeof(t->ws)) ? -EFAULT : 0;
	case TIOCSWINSZ: {
		struct winsize ws;

		if (copy_from_user(&ws, arg, sizeof(ws)))
			return -EFAULT;
		tty_set_winsize(t, &ws);
		return 0;
	}
	case TIOCGETD:
		return put_int(arg, 0); /* N_TTY */
	case TIOCSETD:
		if (get_int(arg, &v))
			return -EFAULT;
		return v ? -EINVAL : 0;
	case TIOCGDEV: {
		unsigned ma = major(t->dev), mi = minor(t->dev);

		return put_int(arg, (int)((mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12)));
	}
	case FIONBIO:
		if (get_int(arg, &v))
			return -EFAULT;
		if (v)
			f->flags |= O_NONBLOCK;
		else
			f->flags &= ~(unsigned)O_NONBLOCK;
		return 0;
	}
	return -ENOTTY;
#undef CHECK_CHANGE
}

static int tty_fop_open(struct inode *inode, struct file *f)
{
	dev_t dev = inode->rdev;
	struct process *p = cur_proc();
	/* /dev/tty, /dev/console and /dev/tty0 never become a controlling tty by open. */
	bool noctty = (f->flags & O_NOCTTY) || dev == makedev(5, 0) || dev == makedev(5, 1) ||
		      dev == makedev(4, 0);
	struct tty *t = dev == makedev(5, 0) ? (p ? p->tty : NULL) : tty_lookup(dev);
	int r;

	if (!t)
		return -ENXIO;
	if (t->hungup)
		return -EIO;
	if (t->ops->open && (r = t->ops->open(t, f)))
		return r;
	t->opens++;
	f->priv = t;
	if (!noctty)
		tty_open_ctty(t);
	return 0;
}

static ssize_t tty_fop_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	return tty_read(f->priv, f, buf, n);
}

static ssize_t tty_fop_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	return tty_write(f->priv, f, buf, n);
}

static long tty_fop_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	return tty_ioctl(f->priv, f, cmd, arg, false);
}

static unsigned tty_fop_poll(struct file *f, struct poll_table *pt)
{
	return tty_poll(f->priv, pt);
}

static loff_t tty_fop_llseek(struct file *f, loff_t off, int whence)
{
	return -ESPIPE;
}

static void tty_fop_release(struct file *f)
{
	struct tty *t = f->priv;

	t->opens--;
	if (t->ops->close)
		t->ops->close(t, f); /* may free t (the last file of a pty slave) */
}

const struct file_ops tty_fops = {
    .open = tty_fop_open,
    .read = tty_fop_read,
    .write = tty_fop_write,
    .ioctl = tty_fop_ioctl,
    .poll = tty_fop_poll,
    .llseek = tty_fop_llseek,
    .release = tty_fop_release,
};

void tty_devices_init(void)
{
	register_chrdev(5, 0, "tty", &tty_fops);
	register_chrdev(5, 1, "console", &tty_fops);
	register_chrdev(4, 0, "tty0", &tty_fops);
	register_chrdev(4, 1, "tty1", &tty_fops);
}
