/* The N_TTY line discipline driven through a fake device: editing, echo, signals,
 * input and output translation, non-canonical reads, termios ioctls, job control. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_tty_kernel.h"
#include "kernel/drivers/tty.h"
#include <poll.h>
#include <sys/sysmacros.h>
#include <termios.h>

/* The fake device: output is captured. */
static char out[8192];
static size_t outlen;

static ssize_t drv_write(struct tty *t, const char *buf, size_t n)
{
	assert_true(outlen + n <= sizeof(out));
	memcpy(out + outlen, buf, n);
	outlen += n;
	return (ssize_t)n;
}

static const struct tty_ops drv = {.write = drv_write};

static struct tty tty;
/* Session 10: the shell (leader), a foreground job (group 20), a background job (30). */
static struct process sh, fg, bg;
static struct task task;
static struct file file;

static int setup(void **state)
{
	tty_init(&tty, &drv, "ttyT", 0);
	memset(out, 0, sizeof(out));
	outlen = 0;
	sh = (struct process){.pid = 10, .pgid = 10, .sid = 10, .tty = &tty};
	fg = (struct process){.pid = 20, .pgid = 20, .sid = 10, .tty = &tty};
	bg = (struct process){.pid = 30, .pgid = 30, .sid = 10, .tty = &tty};
	memset(fake_procs, 0, sizeof(fake_procs));
	fake_procs[0] = &sh;
	fake_procs[1] = &fg;
	fake_procs[2] = &bg;
	task = (struct task){.tid = 20, .proc = &fg};
	current = &task;
	tty.session = 10;
	tty.pgrp = 20;
	file = (struct file){.flags = O_RDWR, .priv = &tty};
	fake_nsigs = fake_sleeps = 0;
	fake_orphaned = fake_ignored = false;
	fake_sleep_hook = NULL;
	return 0;
}

static void feed(const char *s)
{
	tty_receive(&tty, s, strlen(s));
}

static ssize_t rd(char *buf, size_t n)
{
	memset(buf, 0, n);
	return tty_read(&tty, &file, buf, n);
}

static long ioc(unsigned cmd, void *arg)
{
	return tty_ioctl(&tty, &file, cmd, (uint64_t)(uintptr_t)arg, false);
}

static void expect_out(const char *s)
{
	assert_int_equal(outlen, strlen(s));
	assert_memory_equal(out, s, outlen);
	outlen = 0;
}

static void set_lflag(uint32_t clear, uint32_t set, int vmin, int vtime)
{
	struct ktermios kt;

	assert_int_equal(ioc(TCGETS, &kt), 0);
	kt.c_lflag = (kt.c_lflag & ~clear) | set;
	kt.c_cc[VMIN] = (uint8_t)vmin;
	kt.c_cc[VTIME] = (uint8_t)vtime;
	assert_int_equal(ioc(TCSETS, &kt), 0);
}

static void test_canon_erase(void **state)
{
	char buf[64];

	feed("abx\x7f"
	     "c\n");
	expect_out("abx\b \bc\r\n");
	assert_int_equal(rd(buf, sizeof(buf)), 4);
	assert_string_equal(buf, "abc\n");
	/* ^H erases as well; nothing left to erase echoes nothing */
	feed("\b\bq\bok\n");
	expect_out("q\b \bok\r\n");
	assert_int_equal(rd(buf, sizeof(buf)), 3);
	assert_string_equal(buf, "ok\n");
}

static void test_canon_kill_werase(void **state)
{
	char buf[64];

	feed("junk\x15good\n");
	expect_out("junk\b \b\b \b\b \b\b \bgood\r\n");
	assert_int_equal(rd(buf, sizeof(buf)), 5);
	assert_string_equal(buf, "good\n");

	feed("foo bar\x17"
	     "baz\n");
	assert_int_equal(rd(buf, sizeof(buf)), 8);
	assert_string_equal(buf, "foo baz\n");

	/* without ECHOKE the kill character is echoed, then a newline (ECHOK) */
	outlen = 0;
	set_lflag(ECHOKE, 0, 1, 0);
	feed("xy\x15z\n");
	expect_out("xy^U\r\nz\r\n");
	assert_int_equal(rd(buf, sizeof(buf)), 2);
	assert_string_equal(buf, "z\n");
}

static void test_echoctl_and_tabs(void **state)
{
	char buf[64];

	feed("\x01");
	expect_out("^A");
	feed("\x7f"); /* ^A took two columns */
	expect_out("\b \b\b \b");
	feed("a\tb\x7f\x7f");
	expect_out("a\tb\b \b\b\b\b\b\b\b\b");
	feed("\n");
	assert_int_equal(rd(buf, sizeof(buf)), 2);
	assert_string_equal(buf, "a\n");
	/* ^V quotes the next byte */
	outlen = 0;
	feed("\x16\x03\n");
	expect_out("^\b^C\r\n");
	assert_int_equal(rd(buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\x03\n", 2);
	assert_int_equal(fake_nsigs, 0);
}

static void test_isig(void **state)
{
	char buf[64];

	feed("abc\x03");
	expect_out("abc^C");
	assert_int_equal(fake_nsigs, 1);
	assert_int_equal(fake_sigs[0].target, 20);
	assert_int_equal(fake_sigs[0].sig, SIGINT);
	assert_true(fake_sigs[0].pgrp);
	/* the typed line was flushed */
	file.flags |= O_NONBLOCK;
	assert_int_equal(rd(buf, sizeof(buf)), -EAGAIN);
	feed("\x1c\x1a");
	assert_int_equal(fake_nsigs, 3);
	assert_int_equal(fake_sigs[1].sig, SIGQUIT);
	assert_int_equal(fake_sigs[2].sig, SIGTSTP);
	/* no ISIG: ^C is data */
	set_lflag(ISIG, 0, 1, 0);
	feed("\x03\n");
	assert_int_equal(rd(buf, sizeof(buf)), 2);
	assert_int_equal(fake_nsigs, 3);
}

static void test_input_translation(void **state)
{
	struct ktermios kt;
	char buf[64];

	feed("hi\r");
	expect_out("hi\r\n");
	assert_int_equal(rd(buf, sizeof(buf)), 3);
	assert_string_equal(buf, "hi\n");

	assert_int_equal(ioc(TCGETS, &kt), 0);
	kt.c_iflag |= IGNCR;
	assert_int_equal(ioc(TCSETS, &kt), 0);
	feed("a\rb\n");
	assert_int_equal(rd(buf, sizeof(buf)), 3);
	assert_string_equal(buf, "ab\n");

	kt.c_iflag = INLCR;
	kt.c_lflag &= ~(uint32_t)ICANON;
	kt.c_cc[VMIN] = 0;
	assert_int_equal(ioc(TCSETS, &kt), 0);
	feed("a\n");
	assert_int_equal(rd(buf, sizeof(buf)), 2);
	assert_string_equal(buf, "a\r");
}

static void test_output(void **state)
{
	struct ktermios kt;

	assert_int_equal(tty_write(&tty, &file, "a\nb", 3), 3);
	expect_out("a\r\nb");
	assert_int_equal(ioc(TCGETS, &kt), 0);
	kt.c_oflag |= TAB3;
	assert_int_equal(ioc(TCSETS, &kt), 0);
	assert_int_equal(tty_write(&tty, &file, "\nab\tc", 5), 5);
	expect_out("\r\nab      c");
	kt.c_oflag &= ~(uint32_t)OPOST;
	assert_int_equal(ioc(TCSETS, &kt), 0);
	assert_int_equal(tty_write(&tty, &file, "a\nb\t", 4), 4);
	expect_out("a\nb\t");
}

static char *hook_feed;
static uint64_t hook_deadline;

static int feed_hook(bool interruptible, uint64_t deadline)
{
	hook_deadline = deadline;
	if (hook_feed) {
		feed(hook_feed);
		hook_feed = NULL;
		return 0;
	}
	return fake_sleep_alone(interruptible, deadline);
}

static void test_vmin_vtime(void **state)
{
	char buf[64];

	fake_sleep_hook = feed_hook;
	/* VMIN=3 VTIME=0: waits for three bytes */
	set_lflag(ICANON | ECHO, 0, 3, 0);
	feed("ab");
	hook_feed = "c";
	assert_int_equal(rd(buf, sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(fake_sleeps, 1);
	assert_int_equal(hook_deadline, 0);

	/* VMIN=0 VTIME=0: never waits */
	set_lflag(0, 0, 0, 0);
	assert_int_equal(rd(buf, sizeof(buf)), 0);
	assert_int_equal(fake_sleeps, 1);

	/* VMIN=0 VTIME=5: half a second for the first byte, then 0 */
	set_lflag(0, 0, 0, 5);
	uint64_t start = fake_mono_ns;
	assert_int_equal(rd(buf, sizeof(buf)), 0);
	assert_int_equal(hook_deadline, start + 500000000ull);

	/* VMIN=2 VTIME=1: no timer before the first byte, then 0.1 s between bytes */
	set_lflag(0, 0, 2, 1);
	hook_feed = "x";
	assert_int_equal(rd(buf, sizeof(buf)), 1);
	assert_string_equal(buf, "x");
	assert_int_equal(hook_deadline, fake_mono_ns);
	feed("xyz");
	assert_int_equal(rd(buf, 2), 2);
	assert_int_equal(rd(buf, sizeof(buf)), 1);
	assert_string_equal(buf, "z");

	/* a signal while waiting: the call restarts */
	set_lflag(0, 0, 1, 0);
	assert_int_equal(rd(buf, sizeof(buf)), -ERESTARTSYS);
	file.flags |= O_NONBLOCK;
	assert_int_equal(rd(buf, sizeof(buf)), -EAGAIN);
}

static void test_termios_roundtrip(void **state)
{
	struct ktermios kt, kt2;
	uint32_t t2[11];
	char buf[16];

	assert_int_equal(sizeof(kt), 36);
	assert_int_equal(ioc(TCGETS, &kt), 0);
	assert_true(kt.c_lflag & ICANON);
	assert_true(kt.c_oflag & ONLCR);
	assert_int_equal(kt.c_cc[VINTR], 3);
	assert_int_equal(kt.c_cc[VEOF], 4);
	assert_int_equal(kt.c_cc[VMIN], 1);
	kt.c_lflag &= ~(uint32_t)ECHO;
	kt.c_cc[VERASE] = '#';
	assert_int_equal(ioc(TCSETSW, &kt), 0);
	memset(&kt2, 0xff, sizeof(kt2));
	assert_int_equal(ioc(TCGETS, &kt2), 0);
	assert_memory_equal(&kt, &kt2, sizeof(kt));
	feed("ab#c\n");
	expect_out("");
	assert_int_equal(rd(buf, sizeof(buf)), 3);
	assert_string_equal(buf, "ac\n");
	/* TCSETSF drops pending input */
	feed("zz\n");
	assert_int_equal(ioc(TCSETSF, &kt), 0);
	file.flags |= O_NONBLOCK;
	assert_int_equal(rd(buf, sizeof(buf)), -EAGAIN);
	/* termios2 carries the speeds */
	assert_int_equal(ioc(0x802C542Au, t2), 0);
	assert_memory_equal(t2, &kt, sizeof(kt));
	assert_int_equal(t2[9], 38400);
	assert_int_equal(t2[10], 38400);
}

static void test_eof(void **state)
{
	char buf[16];

	feed("\x04");
	expect_out("");
	assert_int_equal(rd(buf, sizeof(buf)), 0);
	feed("abc\x04");
	assert_int_equal(rd(buf, sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(rd(buf, sizeof(buf)), -ERESTARTSYS); /* ^D was eaten with "abc" */
	feed("abc\x04");
	assert_int_equal(rd(buf, 2), 2);
	assert_int_equal(rd(buf, 2), 1);
	assert_string_equal(buf, "c");
	assert_int_equal(rd(buf, 2), -ERESTARTSYS);
	/* the device's input ended: what is left, then 0 for good */
	feed("tail");
	tty_set_eof(&tty);
	assert_int_equal(rd(buf, sizeof(buf)), 4);
	assert_int_equal(rd(buf, sizeof(buf)), 0);
	assert_int_equal(rd(buf, sizeof(buf)), 0);
	assert_true(tty_poll(&tty, NULL) & POLLIN);
}

static void test_job_control(void **state)
{
	struct ktermios kt;
	char buf[16];

	task.proc = &bg;
	assert_int_equal(rd(buf, sizeof(buf)), -ERESTARTSYS);
	assert_int_equal(fake_nsigs, 1);
	assert_int_equal(fake_sigs[0].target, 30);
	assert_int_equal(fake_sigs[0].sig, SIGTTIN);
	fake_orphaned = true;
	assert_int_equal(rd(buf, sizeof(buf)), -EIO);
	fake_orphaned = false;
	fake_ignored = true;
	assert_int_equal(rd(buf, sizeof(buf)), -EIO);
	fake_ignored = false;
	task.blocked = SIGBIT(SIGTTIN);
	assert_int_equal(rd(buf, sizeof(buf)), -EIO);
	task.blocked = 0;

	/* writing is fine until TOSTOP; changing termios never is */
	assert_int_equal(tty_write(&tty, &file, "x", 1), 1);
	assert_int_equal(ioc(TCGETS, &kt), 0);
	fake_nsigs = 0;
	kt.c_lflag |= TOSTOP;
	assert_int_equal(ioc(TCSETS, &kt), -ERESTARTSYS);
	assert_int_equal(fake_sigs[0].sig, SIGTTOU);
	task.proc = &fg;
	assert_int_equal(ioc(TCSETS, &kt), 0);
	task.proc = &bg;
	assert_int_equal(tty_write(&tty, &file, "x", 1), -ERESTARTSYS);
	assert_int_equal(fake_sigs[1].target, 30);
	assert_int_equal(fake_sigs[1].sig, SIGTTOU);
	/* a process whose controlling tty it is not is never stopped */
	bg.tty = NULL;
	assert_int_equal(tty_write(&tty, &file, "x", 1), 1);
}

static void test_ctty(void **state)
{
	struct process lead = {.pid = 50, .pgid = 50, .sid = 50};
	struct process mem = {.pid = 51, .pgid = 51, .sid = 50};
	struct process other = {.pid = 60, .pgid = 60, .sid = 60};
	struct tty t2;
	struct inode ino = {.rdev = makedev(136, 9)};
	struct file f2 = {.flags = O_RDWR};
	int v;

	fake_procs[3] = &lead;
	fake_procs[4] = &mem;
	fake_procs[5] = &other;
	tty.session = tty.pgrp = 0;
	sh.tty = fg.tty = bg.tty = NULL;
	task.proc = &mem;
	assert_int_equal(ioc(TIOCSCTTY, 0), -EPERM); /* not a session leader */
	assert_int_equal(ioc(TIOCGPGRP, &v), -ENOTTY);
	task.proc = &lead;
	assert_int_equal(ioc(TIOCSCTTY, 0), 0);
	assert_ptr_equal(lead.tty, &tty);
	assert_int_equal(ioc(TIOCGPGRP, &v), 0);
	assert_int_equal(v, 50);
	assert_int_equal(ioc(TIOCGSID, &v), 0);
	assert_int_equal(v, 50);
	mem.tty = &tty;
	v = 51;
	assert_int_equal(ioc(TIOCSPGRP, &v), 0);
	assert_int_equal(tty.pgrp, 51);
	/* the shell ignores SIGTTOU, or it would stop itself from the background */
	fake_ignored = true;
	v = 99;
	assert_int_equal(ioc(TIOCSPGRP, &v), -ESRCH);
	v = 60;
	assert_int_equal(ioc(TIOCSPGRP, &v), -EPERM);
	/* another leader cannot take it without stealing */
	task.proc = &other;
	assert_int_equal(ioc(TIOCSCTTY, 0), -EPERM);

	/* the leader exits: SIGHUP to the foreground group, the session loses the tty */
	tty_session_leader_exit(&lead);
	assert_int_equal(fake_nsigs, 1);
	assert_int_equal(fake_sigs[0].target, 51);
	assert_int_equal(fake_sigs[0].sig, SIGHUP);
	assert_null(lead.tty);
	assert_null(mem.tty);
	assert_int_equal(tty.session, 0);

	/* open() without O_NOCTTY by a leader without a tty makes it the ctty */
	tty_init(&t2, &drv, "pts9", makedev(136, 9));
	assert_int_equal(tty_fops.open(&ino, &f2), 0);
	assert_ptr_equal(f2.priv, &t2);
	assert_ptr_equal(other.tty, &t2);
	assert_int_equal(t2.session, 60);
	tty_fops.release(&f2);
	other.tty = NULL;
	t2.session = 0;
	f2.flags = O_RDWR | O_NOCTTY;
	assert_int_equal(tty_fops.open(&ino, &f2), 0);
	assert_null(other.tty);
	tty_fops.release(&f2);
	/* /dev/tty is the caller's controlling tty */
	ino.rdev = makedev(5, 0);
	assert_int_equal(tty_fops.open(&ino, &f2), -ENXIO);
	other.tty = &t2;
	assert_int_equal(tty_fops.open(&ino, &f2), 0);
	assert_ptr_equal(f2.priv, &t2);
	tty_fops.release(&f2);
	tty_remove(&t2);
	assert_null(other.tty);
	ino.rdev = makedev(136, 9);
	assert_int_equal(tty_fops.open(&ino, &f2), -ENXIO);
}

static void test_misc_ioctls(void **state)
{
	struct winsize ws = {.ws_row = 30, .ws_col = 100}, ws2;
	int v;

	assert_int_equal(ioc(TIOCSWINSZ, &ws), 0);
	assert_int_equal(fake_nsigs, 1);
	assert_int_equal(fake_sigs[0].target, 20);
	assert_int_equal(fake_sigs[0].sig, SIGWINCH);
	assert_int_equal(ioc(TIOCSWINSZ, &ws), 0);
	assert_int_equal(fake_nsigs, 1); /* unchanged: no signal */
	assert_int_equal(ioc(TIOCGWINSZ, &ws2), 0);
	assert_memory_equal(&ws, &ws2, sizeof(ws));

	feed("ab\ncd");
	assert_int_equal(ioc(FIONREAD, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(tty_poll(&tty, NULL), POLLOUT | POLLWRNORM | POLLIN | POLLRDNORM);
	set_lflag(ICANON, 0, 1, 0);
	assert_int_equal(ioc(FIONREAD, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(ioc(TCFLSH, (void *)(uintptr_t)TCIFLUSH), 0);
	assert_int_equal(ioc(FIONREAD, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(tty_poll(&tty, NULL), POLLOUT | POLLWRNORM);
	assert_int_equal(ioc(TCFLSH, (void *)(uintptr_t)7), -EINVAL);
	assert_int_equal(ioc(TCXONC, (void *)(uintptr_t)TCOON), 0);
	assert_int_equal(ioc(TIOCOUTQ, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ioc(TIOCGETD, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ioc(0x4B44 /* KDGKBMODE */, &v), -ENOTTY);
	assert_int_equal(ioc(0x12345678, &v), -ENOTTY);
	assert_int_equal(ioc(TCGETS, NULL), -EFAULT);
	v = 1;
	assert_int_equal(ioc(FIONBIO, &v), 0);
	assert_true(file.flags & O_NONBLOCK);
}

static void test_poll_canon(void **state)
{
	feed("ab");
	assert_false(tty_poll(&tty, NULL) & POLLIN);
	feed("\n");
	assert_true(tty_poll(&tty, NULL) & POLLIN);
}

static void test_flow_control(void **state)
{
	char buf[16];

	/* ^S stops output (writers would sleep), ^Q starts it again */
	feed("\x13");
	assert_true(tty.stopped);
	assert_false(tty_poll(&tty, NULL) & POLLOUT);
	assert_int_equal(tty_write(&tty, &file, "x", 1), -ERESTARTSYS);
	feed("\x11");
	assert_false(tty.stopped);
	assert_int_equal(tty_write(&tty, &file, "x", 1), 1);
	/* a full buffer keeps room for the newline that ends the line */
	file.flags |= O_NONBLOCK;
	set_lflag(ECHO, 0, 1, 0);
	for (int i = 0; i < N_TTY_BUF + 10; i++)
		feed("a");
	assert_int_equal(tty_receive_room(&tty), 1);
	feed("\n");
	assert_int_equal(rd(buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(tty_receive_room(&tty), 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_canon_erase, setup),
	    cmocka_unit_test_setup(test_canon_kill_werase, setup),
	    cmocka_unit_test_setup(test_echoctl_and_tabs, setup),
	    cmocka_unit_test_setup(test_isig, setup),
	    cmocka_unit_test_setup(test_input_translation, setup),
	    cmocka_unit_test_setup(test_output, setup),
	    cmocka_unit_test_setup(test_vmin_vtime, setup),
	    cmocka_unit_test_setup(test_termios_roundtrip, setup),
	    cmocka_unit_test_setup(test_eof, setup),
	    cmocka_unit_test_setup(test_job_control, setup),
	    cmocka_unit_test_setup(test_ctty, setup),
	    cmocka_unit_test_setup(test_misc_ioctls, setup),
	    cmocka_unit_test_setup(test_poll_canon, setup),
	    cmocka_unit_test_setup(test_flow_control, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
