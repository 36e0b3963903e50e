/* The host side of the console: the guest's /dev/console reads the host input fd and
 * writes the host output fd. The kernel thread reads input when the fd is readable and
 * only as much as the line discipline can take; what it cannot take yet stays in the
 * host fd (flow control), so a script piped into vmlinux is never cut. */
#include "console.h"
#include "tty.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

struct chan {
	bool set;
	int in, out; /* -1: null */
};

static struct chan chan_default, chan_con0;
static struct tty con;
static bool initialized, started, throttled, in_tty;
static int in_fd = -1, out_fd = -1, winch_fd = -1, pump_fd = -1;
static struct kevent in_ev, winch_ev;
/* For console_restore(), which may run in a signal handler. */
static struct termios saved_termios;
static volatile sig_atomic_t saved_fd = -1;

/* One side of a channel: 0 with *fd set, -1 malformed, -2 a channel we lack. */
static int parse_side(const char *s, size_t len, int *fd)
{
	static const char *const unsupported[] = {"pts", "pty:", "port:", "xterm", "tty:"};
	long v = 0;

	if (len == 4 && !strncmp(s, "null", 4)) {
		*fd = -1;
		return 0;
	}
	if (len > 3 && !strncmp(s, "fd:", 3)) {
		for (size_t i = 3; i < len; i++) {
			if (s[i] < '0' || s[i] > '9' || v > 100000000)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		*fd = (int)v;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (!strncmp(s, unsupported[i], strlen(unsupported[i])))
			return -2;
	return -1;
}

static int parse_chan(const char *key, const char *val, struct chan *c)
{
	const char *comma = strchr(val, ',');
	size_t len = comma ? (size_t)(comma - val) : strlen(val);
	int r = parse_side(val, len, &c->in);

	if (!r && comma)
		r = parse_side(comma + 1, strlen(comma + 1), &c->out);
	else if (!r)
		c->out = c->in;
	if (r == -2)
		fprintf(stderr, "vmlinux: %s=%s: not supported yet (use fd:N, fd:N,fd:M or null)\n",
			key, val);
	else if (r)
		fprintf(stderr,
			"vmlinux: %s=%s: bad console channel (use fd:N, fd:N,fd:M or null)\n", key,
			val);
	c->set = !r;
	return r ? -1 : 0;
}

int console_setup(const char *key, const char *value)
{
	struct chan ignored;
	const char *num;

	if (!strcmp(key, "con"))
		return parse_chan(key, value, &chan_default);
	if (!strcmp(key, "con0"))
		return parse_chan(key, value, &chan_con0);
	num = !strncmp(key, "con", 3) || !strncmp(key, "ssl", 3) ? key + 3 : NULL;
	if (num && strspn(num, "0123456789") == strlen(num))
		/* Other consoles and serial lines: there is only console 0 for now. */
		return parse_chan(key, value, &ignored);
	fprintf(stderr, "vmlinux: %s=%s: unknown console option\n", key, value);
	return -1;
}

struct tty *console_tty(void)
{
	return &con;
}

void console_restore(void)
{
	int fd = saved_fd;

	if (fd >= 0)
		tcsetattr(fd, TCSANOW, &saved_termios);
}

/* Output blocks the kernel thread until the host takes it: the simplest flow control
 * for a console, and what the guest expects of a slow terminal. */
static void write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w > 0) {
			buf += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			poll(&p, 1, -1);
		} else if (!(w < 0 && errno == EINTR)) {
			return; /* the host output is gone: drop */
		}
	}
}

void console_write(const char *buf, size_t n)
{
	if (!initialized)
		write_all(2, buf, n);
	else if (out_fd >= 0)
		write_all(out_fd, buf, n);
}

static ssize_t con_write(struct tty *t, const char *buf, size_t n)
{
	if (out_fd >= 0)
		write_all(out_fd, buf, n);
	return (ssize_t)n;
}

static void input_cb(struct kevent *ev, uint32_t revents)
{
	char buf[1024];
	size_t room = tty_receive_room(&con);
	ssize_t r;

	if (!room) {
		kevent_del(&in_ev);
		throttled = true;
		return;
	}
	/* One read per readiness report: the fd stays blocking (it is often the user's
	 * shell's terminal, whose O_NONBLOCK we must not change), and one read of a
	 * readable fd does not block. */
	r = read(in_fd, buf, MIN(room, sizeof(buf)));
	if (r > 0) {
		tty_receive(&con, buf, (size_t)r);
		return;
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* End of a piped or scripted input (or a host terminal that hung up): the guest
	 * reads end-of-file from now on. */
	kevent_del(&in_ev);
	tty_set_eof(&con);
}

static void con_unthrottle(struct tty *t)
{
	size_t room = tty_receive_room(t);

	/* Wait for a good amount of room, unless a reader now waits for more input. */
	if (!throttled || !room || (room < N_TTY_BUF / 4 && t->canon_head != t->read_tail))
		return;
	throttled = false;
	kevent_add(&in_ev);
}

static void winch_cb(struct kevent *ev, uint32_t revents)
{
	struct signalfd_siginfo si;
	struct winsize ws;

	while (read(winch_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	if (!ioctl(in_tty ? in_fd : out_fd, TIOCGWINSZ, &ws))
		tty_set_winsize(&con, &ws);
}

/* Input is watched from the first open of the console, on the kernel thread: nobody
 * reads it before, and the event loop surely runs by then. */
static int con_open(struct tty *t, struct file *f)
{
	if (started)
		return 0;
	started = true;
	if (winch_fd >= 0) {
		winch_ev = (struct kevent){.fd = winch_fd, .events = EPOLLIN, .cb = winch_cb};
		kevent_add(&winch_ev);
	}
	if (in_fd < 0)
		return 0;
	in_ev = (struct kevent){.fd = in_fd, .events = EPOLLIN, .cb = input_cb};
	if (kevent_add(&in_ev)) {
		/* epoll refuses regular files (and /dev/null): they are always readable, so
		 * an eventfd that always is stands in for them. */
		pump_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
		in_ev.fd = pump_fd;
		if (pump_fd < 0 || kevent_add(&in_ev)) {
			printk("console: cannot watch input fd %d\n", in_fd);
			tty_set_eof(&con);
		}
	}
	return 0;
}

static const struct tty_ops con_ops = {
    .write = con_write,
    .unthrottle = con_unthrottle,
    .open = con_open,
};

static bool fd_ok(int fd)
{
	if (fd < 0 || fcntl(fd, F_GETFD) >= 0)
		return true;
	fprintf(stderr, "vmlinux: console fd %d: %s\n", fd, strerror(errno));
	return false;
}

int console_init(void)
{
	struct chan c = chan_con0.set	   ? chan_con0
			: chan_default.set ? chan_default
					   : (struct chan){true, 0, 1};
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	struct termios raw;

	if (!fd_ok(c.in) || !fd_ok(c.out))
		return -1;
	in_fd = c.in;
	out_fd = c.out;
	in_tty = in_fd >= 0 && isatty(in_fd);
	if (in_tty && !tcgetattr(in_fd, &saved_termios)) {
		raw = saved_termios;
		cfmakeraw(&raw);
		saved_fd = in_fd;
		atexit(console_restore);
		tcsetattr(in_fd, TCSANOW, &raw);
	}
	if (in_tty || (out_fd >= 0 && isatty(out_fd))) {
		sigset_t set;
		struct winsize host;

		if (!ioctl(in_tty ? in_fd : out_fd, TIOCGWINSZ, &host) && host.ws_row &&
		    host.ws_col)
			ws = host;
		/* Blocked here, before other threads exist, so that every thread inherits the
		 * mask and the signal waits in the signalfd. */
		sigemptyset(&set);
		sigaddset(&set, SIGWINCH);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		winch_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	}
	tty_init(&con, &con_ops, "console", makedev(5, 1));
	con.termios.c_iflag |= IUTF8;
	con.ws = ws;
	initialized = true;
	return 0;
}
