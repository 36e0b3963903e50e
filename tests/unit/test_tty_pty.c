/* ptys and devpts: /dev/ptmx makes a master and /dev/pts/N; the master's writes are the
 * slave's input, the slave's output is the master's to read; hangup on master close. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_tty_kernel.h"
#include "kernel/drivers/tty.h"
#include <dirent.h>
#include <poll.h>
#include <sys/sysmacros.h>
#include <termios.h>

static struct process proc = {.pid = 7, .pgid = 7, .sid = 7, .cred = {.fsuid = 1000, .fsgid = 100}};
static struct task task = {.tid = 7, .proc = &proc};

static int open_dev(unsigned ma, unsigned mi, struct file *f)
{
	struct inode ino = {.rdev = makedev(ma, mi)};
	const struct file_ops *fop = find_chrdev(makedev(ma, mi));

	*f = (struct file){.flags = O_RDWR, .fop = fop};
	return fop ? fop->open(&ino, f) : -ENXIO;
}

static ssize_t rd(struct file *f, char *buf, size_t n)
{
	memset(buf, 0, n);
	return f->fop->read(f, buf, n, NULL);
}

static ssize_t wr(struct file *f, const char *s)
{
	return f->fop->write(f, s, strlen(s), NULL);
}

static long ioc(struct file *f, unsigned cmd, void *arg)
{
	return f->fop->ioctl(f, cmd, (uint64_t)(uintptr_t)arg);
}

struct names {
	struct dir_ctx ctx;
	char buf[256];
};

static bool emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino, unsigned dt)
{
	struct names *n = (struct names *)ctx;

	strncat(n->buf, name, len);
	strcat(n->buf, dt == DT_CHR ? "c " : "d ");
	return true;
}

static void test_pty(void **state)
{
	struct file m, s, s2;
	struct super_block *sb;
	struct inode *i;
	struct names names = {.ctx = {.emit = emit}};
	struct winsize ws = {.ws_row = 40, .ws_col = 120}, ws2;
	char buf[64];
	int n;

	current = &task;
	fake_procs[0] = &proc;
	tty_devices_init();
	pty_init();
	const struct fs_type *devpts = find_filesystem("devpts");
	assert_non_null(devpts);
	assert_int_equal(devpts->mount(devpts, "devpts", 0, "gid=5,mode=620", &sb), 0);

	assert_int_equal(open_dev(5, 2, &m), 0);
	assert_int_equal(ioc(&m, TIOCGPTN, &n), 0);
	assert_int_equal(n, 0);
	/* locked until unlockpt() */
	assert_int_equal(open_dev(136, 0, &s), -EIO);
	n = 0;
	assert_int_equal(ioc(&m, TIOCSPTLCK, &n), 0);
	assert_int_equal(open_dev(136, 0, &s), 0);
	/* TIOCGPTPEER opens it by its name under /dev/pts */
	assert_int_equal(ioc(&m, TIOCGPTPEER, (void *)(uintptr_t)(O_RDWR | O_NOCTTY)), -ENOENT);
	assert_string_equal(fake_opened, "/dev/pts/0");
	assert_int_equal(ioc(&m, TIOCGPTPEER, (void *)(uintptr_t)O_CREAT), -EINVAL);
	/* opened by a session leader without a tty: it is now its controlling tty */
	assert_ptr_equal(proc.tty, s.priv);

	/* devpts shows it, owned by the opener, with the mount's gid and mode */
	assert_int_equal(sb->root->iop->lookup(sb->root, "0", &i), 0);
	assert_int_equal(i->rdev, makedev(136, 0));
	assert_int_equal(i->mode, S_IFCHR | 0620);
	assert_int_equal(i->uid, 1000);
	assert_int_equal(i->gid, 5);
	assert_int_equal(sb->root->iop->lookup(sb->root, "1", &i), -ENOENT);
	assert_int_equal(sb->root->iop->lookup(sb->root, "00", &i), -ENOENT);
	assert_int_equal(sb->root->iop->lookup(sb->root, "ptmx", &i), 0);
	assert_int_equal(i->rdev, makedev(5, 2));
	assert_int_equal(sb->root->fop->readdir(NULL, &names.ctx), 0);
	assert_string_equal(names.buf, ".d ..d ptmxc 0c ");

	/* master -> slave input, with the slave's echo coming back to the master */
	assert_int_equal(wr(&m, "ls\r"), 3);
	assert_int_equal(rd(&s, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "ls\n");
	assert_int_equal(rd(&m, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "ls\r\n");
	/* slave output -> master */
	assert_int_equal(wr(&s, "hi\n"), 3);
	assert_int_equal(ioc(&m, FIONREAD, &n), 0);
	assert_int_equal(n, 4);
	assert_true(m.fop->poll(&m, NULL) & POLLIN);
	assert_int_equal(rd(&m, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "hi\r\n");
	m.flags |= O_NONBLOCK;
	assert_int_equal(rd(&m, buf, sizeof(buf)), -EAGAIN);
	assert_false(m.fop->poll(&m, NULL) & POLLIN);

	/* ^C typed on the master signals the slave's foreground group */
	assert_int_equal(wr(&m, "\x03"), 1);
	assert_int_equal(fake_nsigs, 1);
	assert_int_equal(fake_sigs[0].target, 7);
	assert_int_equal(fake_sigs[0].sig, SIGINT);
	assert_int_equal(rd(&m, buf, sizeof(buf)), 2); /* the echoed ^C */

	/* termios and window size set through the master act on the slave */
	assert_int_equal(ioc(&m, TIOCSWINSZ, &ws), 0);
	assert_int_equal(ioc(&s, TIOCGWINSZ, &ws2), 0);
	assert_int_equal(ws2.ws_col, 120);
	assert_int_equal(ioc(&m, TIOCGPGRP, &n), 0);
	assert_int_equal(n, 7);

	/* every slave closed: the master reads EIO */
	s.fop->release(&s);
	assert_int_equal(rd(&m, buf, sizeof(buf)), -EIO);
	assert_true(m.fop->poll(&m, NULL) & POLLHUP);

	/* master closed: the slave hangs up, its session leader gets SIGHUP */
	assert_int_equal(open_dev(136, 0, &s), 0);
	assert_int_equal(open_dev(5, 0, &s2), 0); /* /dev/tty */
	assert_ptr_equal(s2.priv, s.priv);
	fake_nsigs = 0;
	m.fop->release(&m);
	assert_int_equal(fake_nsigs, 2);
	assert_int_equal(fake_sigs[0].sig, SIGHUP);
	assert_false(fake_sigs[0].pgrp);
	assert_int_equal(fake_sigs[1].sig, SIGCONT);
	assert_null(proc.tty);
	assert_int_equal(rd(&s, buf, sizeof(buf)), 0);
	assert_int_equal(wr(&s, "x"), -EIO);
	assert_int_equal(sb->root->iop->lookup(sb->root, "0", &i), -ENOENT);
	s.fop->release(&s);
	s2.fop->release(&s2);
	/* gone: a new master reuses the number, its node takes the new owner */
	assert_int_equal(open_dev(136, 0, &s), -ENXIO);
	proc.cred.fsuid = 2000;
	assert_int_equal(open_dev(5, 2, &m), 0);
	assert_int_equal(ioc(&m, TIOCGPTN, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(i->ino, 2); /* ptmx */
	list_for_each(it, &sb->inodes)
	{
		struct inode *pi = list_entry(it, struct inode, sb_link);

		if (pi->rdev == makedev(136, 0))
			assert_int_equal(pi->uid, 2000);
	}
	m.fop->release(&m);

	list_for_each_safe(it, nx, &sb->inodes)
	{
		struct inode *pi = list_entry(it, struct inode, sb_link);

		if (pi != sb->root)
			iput(pi);
	}
	sb->ops->put_super(sb); /* frees sb: nothing of it is left */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
