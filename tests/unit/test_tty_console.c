/* The host console over pipes, as a scripted session sees it: option parsing, input
 * through the line discipline, output with ONLCR, flow control, end of input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_tty_kernel.h"
#include "kernel/drivers/console.h"
#include "kernel/drivers/tty.h"
#include <sys/epoll.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

static void test_setup_options(void **state)
{
	assert_int_equal(console_setup("con", "null"), 0);
	assert_int_equal(console_setup("con0", "fd:0,fd:1"), 0);
	assert_int_equal(console_setup("con0", "fd:3"), 0);
	assert_int_equal(console_setup("con0", "null,fd:1"), 0);
	assert_int_equal(console_setup("con1", "null"), 0);
	assert_int_equal(console_setup("ssl", "fd:2"), 0);
	assert_int_equal(console_setup("ssl3", "null"), 0);
	assert_int_equal(console_setup("con0", "pts"), -1);
	assert_int_equal(console_setup("ssl", "port:9000"), -1);
	assert_int_equal(console_setup("con", "xterm"), -1);
	assert_int_equal(console_setup("con0", "fd:"), -1);
	assert_int_equal(console_setup("con0", "fd:x"), -1);
	assert_int_equal(console_setup("con0", "fd:1,"), -1);
	assert_int_equal(console_setup("con0", ""), -1);
	assert_int_equal(console_setup("conx", "null"), -1);
}

static int in[2], out[2];
static struct file file;

static ssize_t rd(char *buf, size_t n)
{
	memset(buf, 0, n);
	return file.fop->read(&file, buf, n, NULL);
}

static void pump(void)
{
	assert_int_equal(fake_nkevents, 1);
	fake_kevents[0]->cb(fake_kevents[0], EPOLLIN);
}

static void expect_out(const char *s)
{
	char buf[256] = "";

	assert_int_equal(read(out[0], buf, sizeof(buf) - 1), strlen(s));
	assert_string_equal(buf, s);
}

static void test_session(void **state)
{
	static struct task task; /* whose memory the ioctls' arguments are in */
	struct inode ino = {.rdev = makedev(5, 1)};
	char opt[32], buf[64];
	static char big[6000];

	current = &task;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	snprintf(opt, sizeof(opt), "fd:%d,fd:%d", in[0], out[1]);
	assert_int_equal(console_setup("con0", opt), 0);
	assert_int_equal(console_init(), 0);
	tty_devices_init();
	file = (struct file){.flags = O_RDWR, .fop = &tty_fops};
	assert_int_equal(fake_nkevents, 0); /* input is watched from the first open on */
	assert_int_equal(tty_fops.open(&ino, &file), 0);
	assert_ptr_equal(file.priv, console_tty());
	assert_int_equal(fake_nkevents, 1);
	assert_int_equal(fake_kevents[0]->fd, in[0]);
	assert_int_equal(console_tty()->ws.ws_col, 80);

	/* a scripted line: echoed like typing, read as a line */
	assert_int_equal(write(in[1], "echo hi\n", 8), 8);
	pump();
	expect_out("echo hi\r\n");
	assert_int_equal(rd(buf, sizeof(buf)), 8);
	assert_string_equal(buf, "echo hi\n");
	assert_int_equal(file.fop->write(&file, "hi\n", 3, NULL), 3);
	expect_out("hi\r\n");
	console_write("boot\n", 5);
	expect_out("boot\n"); /* a pipe, not a raw terminal: no \r added */

	/* more input than the tty holds: the rest waits in the pipe, nothing is lost */
	struct ktermios kt = console_tty()->termios;
	kt.c_lflag &= ~(uint32_t)(ICANON | ECHO);
	assert_int_equal(file.fop->ioctl(&file, TCSETS, (uint64_t)(uintptr_t)&kt), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(write(in[1], big, sizeof(big)), sizeof(big));
	for (int i = 0; i < 10 && fake_nkevents; i++)
		pump();
	assert_int_equal(fake_nkevents, 0); /* throttled */
	size_t got = 0;
	while (got < sizeof(big)) {
		ssize_t r = rd(buf, sizeof(buf));

		assert_true(r > 0);
		assert_memory_equal(buf, big + got, (size_t)r);
		got += (size_t)r;
		while (got < sizeof(big) && fake_nkevents &&
		       console_tty()->read_head == console_tty()->read_tail)
			pump();
	}

	/* end of the script: reads return 0 from then on */
	kt.c_lflag |= ICANON | ECHO;
	assert_int_equal(file.fop->ioctl(&file, TCSETS, (uint64_t)(uintptr_t)&kt), 0);
	assert_int_equal(write(in[1], "poweroff", 8), 8);
	close(in[1]);
	pump();
	expect_out("poweroff");
	pump();
	assert_int_equal(fake_nkevents, 0);
	assert_int_equal(rd(buf, sizeof(buf)), 8);
	assert_int_equal(rd(buf, sizeof(buf)), 0);
	assert_int_equal(rd(buf, sizeof(buf)), 0);
	file.fop->release(&file);
	console_restore();
	close(in[0]);
	close(out[0]);
	close(out[1]);
	current = NULL;
}

static void test_bad_fd(void **state)
{
	assert_int_equal(console_setup("con0", "fd:987"), 0);
	assert_int_equal(console_init(), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_setup_options),
	    cmocka_unit_test(test_bad_fd),
	    cmocka_unit_test(test_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
