/* vmlinux: boot. Parse UML's command line, open the disks, start the platform and the
 * console, mount the root filesystem and run init as guest PID 1. The guest's init exit
 * status becomes the process's exit status (UML panics instead). */
#define _GNU_SOURCE
#include "kernel.h"
#include "blkdev.h"
#include "exec.h"
#include "mm.h"
#include "process.h"
#include "syscalls.h"
#include "drivers/console.h"
#include "drivers/tty.h"
#include "fs/ext.h"
#include "fs/fs.h"
#include "fs/pseudofs.h"
#include "../ubd/ubd.h"
#include <ctype.h>
#include <limits.h>
#include <linux/reboot.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "0.1.0"

const struct platform *platform = &skas_platform;
extern void (*printk_sink)(const char *buf, size_t n);
extern void (*exit_hook)(void);
extern bool syscall_trace;
extern char uts_nodename[65];

static struct {
	const char *root;
	bool ro;
	const char *init;
	char **init_argv; /* arguments after init= */
	int init_argc;
	const char *umid, *uml_dir;
	char cmdline[4096];
} boot = {.root = "/dev/ubda", .ro = true};

static char **saved_argv;

static void usage(void)
{
	printf(
	    "Usage: vmlinux [options] [init=<program> [arguments...]]\n"
	    "Run a Linux guest kernel as an ordinary process, in the manner of User-Mode Linux.\n"
	    "\n"
	    "  ubd<N>[r][s][d][c][t]=<file>[,<base>]\n"
	    "                 block device ubda..ubdp (N = 0-15 or a-p) from an image file;\n"
	    "                 with <base>, <file> is a UML COW file over the read-only <base>.\n"
	    "                 r read-only, s synchronous, d no COW, c shared (no lock), t no TRIM\n"
	    "  mem=<size>     guest memory (K, M, G suffixes; default 256M)\n"
	    "  root=<dev>     root device (default /dev/ubda)\n"
	    "  ro | rw        mount the root read-only (default) or read-write\n"
	    "  init=<path>    program to run as PID 1; the words after it are its arguments\n"
	    "  quiet          no boot messages\n"
	    "  con=<chan> | con0=<chan> | ssl=<chan>\n"
	    "                 console channel: fd:<n>, fd:<in>,fd:<out>, null\n"
	    "  mode=skas|tt   how guest code runs (default skas)\n"
	    "  skas=ptrace    SKAS mode through PTRACE_SYSEMU\n"
	    "  umid=<name>    instance name; uml_dir=<dir> (accepted)\n"
	    "  strace         trace guest syscalls on stderr (debugging)\n"
	    "  --help, --version\n"
	    "\n"
	    "Not supported yet: eth<N>= (networking), hostfs=, mconsole=, con=pts|port.\n"
	    "The exit status is init's exit status (128+signal if init was killed).\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'G':
		v <<= 30;
		end++;
		break;
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'K':
		v <<= 10;
		end++;
		break;
	case 0:
		break;
	default:
		return -1;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static bool is_ubd_key(const char *key)
{
	return !strncmp(key, "ubd", 3) && key[3] &&
	       (isdigit((unsigned char)key[3]) || (key[3] >= 'a' && key[3] <= 'p'));
}

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "vmlinux: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return -1;
}

static int parse_args(int argc, char **argv)
{
	size_t used = 0;
	for (int i = 1; i < argc; i++) {
		used += snprintf(boot.cmdline + used, sizeof(boot.cmdline) - used, "%s%s",
				 i > 1 ? " " : "", argv[i]);
		used = MIN(used, sizeof(boot.cmdline) - 1);
	}
	for (int i = 1; i < argc; i++) {
		char *arg = argv[i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage();
			exit(0);
		}
		if (!strcmp(arg, "--version")) {
			printf("vmlinux %s (Linux-ABI guest kernel %s)\n", VERSION,
			       "6.1.0-vmlinux");
			exit(0);
		}
		char *eq = strchr(arg, '=');
		char key[64];
		size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
		if (klen >= sizeof(key))
			return fail("unknown option '%s' (see --help)", arg);
		memcpy(key, arg, klen);
		key[klen] = 0;
		const char *val = eq ? eq + 1 : NULL;

		if (!strcmp(key, "quiet") && !val)
			kernel_quiet = true;
		else if (!strcmp(key, "ro") && !val)
			boot.ro = true;
		else if (!strcmp(key, "rw") && !val)
			boot.ro = false;
		else if (!strcmp(key, "strace") && !val)
			syscall_trace = true;
		else if (!val)
			return fail("unknown option '%s' (see --help)", arg);
		else if (is_ubd_key(key)) {
			if (ubd_setup(key, val))
				return -1;
		} else if (!strcmp(key, "mem")) {
			if (parse_size(val, &mem_total_bytes) || mem_total_bytes < (16 << 20))
				return fail("mem=%s: expected a size of at least 16M, like 256M",
					    val);
		} else if (!strcmp(key, "root")) {
			boot.root = val;
		} else if (!strcmp(key, "init")) {
			if (!*val)
				return fail("init=: empty path%s", "");
			boot.init = val;
			boot.init_argv = argv + i + 1;
			boot.init_argc = argc - i - 1;
			break; /* the rest belongs to init */
		} else if (!strcmp(key, "con") || !strncmp(key, "con", 3) || !strcmp(key, "ssl")) {
			if (console_setup(key, val))
				return -1;
		} else if (!strcmp(key, "mode")) {
			if (!strcmp(val, "skas"))
				platform = &skas_platform;
			else if (!strcmp(val, "tt"))
				platform = &tt_platform;
			else
				return fail("mode=%s: expected skas or tt", val);
		} else if (!strcmp(key, "skas")) {
			if (strcmp(val, "ptrace"))
				return fail("skas=%s: expected ptrace", val);
			platform = &skas_ptrace_platform;
		} else if (!strcmp(key, "umid")) {
			boot.umid = val;
		} else if (!strcmp(key, "uml_dir")) {
			boot.uml_dir = val;
		} else if (!strncmp(key, "eth", 3) || !strcmp(key, "hostfs") ||
			   !strcmp(key, "mconsole")) {
			return fail("%s: not supported yet", arg);
		} else {
			return fail("unknown option '%s' (see --help)", arg);
		}
	}
	return 0;
}

static void console_sink(const char *buf, size_t n)
{
	/* The console is raw: turn newlines into CR LF as the tty layer would. */
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			console_write(buf + start, i - start);
			console_write("\r\n", 2);
			start = i + 1;
		}
	}
	console_write(buf + start, n - start);
}

/* Stop everything and leave: the exit path of poweroff, halt, init's exit and host
 * SIGTERM. Runs in task context (unmounting may wait for the disk). */
static bool shutting_down;

static __attribute__((noreturn)) void kernel_shutdown(int code, bool restart)
{
	shutting_down = true;
	for (struct process *p = process_next(NULL); p; p = process_next(p))
		if (p != current->proc && p->state != PROC_ZOMBIE)
			send_signal(p, SIGKILL, NULL);
	/* Let the killed threads run to their end (bounded: a second at most). */
	uint64_t deadline = ktime_mono() + 1000000000ull;
	for (;;) {
		int live = 0;
		for (struct process *p = process_next(NULL); p; p = process_next(p))
			if (p != current->proc && p->state != PROC_ZOMBIE)
				live++;
		if (!live || ktime_mono() > deadline)
			break;
		yield();
	}
	vfs_sync_all();
	if (vfs_umount_all())
		printk("vmlinux: some filesystems could not be unmounted cleanly\n");
	blk_close_all();
	ubd_shutdown();
	platform->shutdown();
	printk(restart ? "Restarting system.\n" : "Power down.\n");
	console_restore();
	if (restart) {
		execv("/proc/self/exe", saved_argv);
		fprintf(stderr, "vmlinux: reboot failed: %s\n", strerror(errno));
		_exit(1);
	}
	fflush(stdout);
	_exit(code);
}

static void init_exited(int status)
{
	if (shutting_down)
		return; /* the task shutting down kills init on its way */
	int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (!kernel_quiet && code)
		printk("init exited with status %d\n", code);
	kernel_shutdown(code, false);
}

SYSCALL(reboot)
{
	if (a[0] != LINUX_REBOOT_MAGIC1 ||
	    (a[1] != LINUX_REBOOT_MAGIC2 && a[1] != LINUX_REBOOT_MAGIC2A &&
	     a[1] != LINUX_REBOOT_MAGIC2B && a[1] != LINUX_REBOOT_MAGIC2C))
		return -EINVAL;
	if (cur_cred()->euid != 0)
		return -EPERM;
	switch ((unsigned)a[2]) {
	case LINUX_REBOOT_CMD_RESTART:
	case LINUX_REBOOT_CMD_RESTART2:
		kernel_shutdown(0, true);
	case LINUX_REBOOT_CMD_HALT:
	case LINUX_REBOOT_CMD_POWER_OFF:
		kernel_shutdown(0, false);
	case LINUX_REBOOT_CMD_CAD_ON:
	case LINUX_REBOOT_CMD_CAD_OFF:
		return 0;
	default:
		return -EINVAL;
	}
}

/* Host SIGTERM/SIGHUP/SIGINT: a clean shutdown with 128+signal. */
static int host_signal;
static struct kevent host_sig_ev;
static void host_signal_event(struct kevent *ev, uint32_t revents)
{
	struct signalfd_siginfo si;
	if (read(ev->fd, &si, sizeof(si)) != sizeof(si) || host_signal)
		return;
	host_signal = (int)si.ssi_signo;
	if (init_process && init_process->state != PROC_ZOMBIE)
		send_signal(init_process, SIGKILL, NULL);
}

static void init_exit_status(int status)
{
	init_exited(host_signal ? (host_signal & 0x7f) : status);
}

static void start_init(void *unused)
{
	struct task *t = current;
	int err = vfs_mount_root(boot.root, "ext4", boot.ro ? MS_RDONLY : 0, NULL);
	if (err) {
		fprintf(stderr, "vmlinux: cannot mount root filesystem %s: %s\n", boot.root,
			strerror(-err));
		console_restore();
		_exit(1);
	}
	printk("VFS: Mounted root (ext4 filesystem) %s on device %s.\n",
	       boot.ro ? "readonly" : "read-write", boot.root);
	if (kern_mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) == 0)
		printk("devtmpfs: mounted\n");
	struct file *con;
	if (kern_open("/dev/console", O_RDWR, 0, &con) == 0) {
		for (int fd = 0; fd < 3; fd++)
			fd_install(fget_ref(con), 0);
		fput(con);
	} else {
		printk("Warning: unable to open an initial console.\n");
	}
	struct uthread *ut;
	if ((err = platform->spawn(&ut)))
		panic("cannot create the first address space: %s", strerror(-err));
	task_set_uthread(t, ut);

	const char *envp[] = {"HOME=/", "TERM=linux", NULL};
	const char *tries[] = {"/sbin/init", "/etc/init", "/bin/init", "/bin/sh"};
	int ntries = boot.init ? 1 : (int)ARRAY_SIZE(tries);
	for (int i = 0; i < ntries; i++) {
		const char *path = boot.init ? boot.init : tries[i];
		const char **argv = xzalloc(sizeof(char *) * (boot.init_argc + 2));
		argv[0] = path;
		for (int j = 0; boot.init && j < boot.init_argc; j++)
			argv[j + 1] = boot.init_argv[j];
		printk("Run %s as init process\n", path);
		struct strv_in in = {argv, envp};
		err = do_execve(AT_FDCWD, path, &in, 0);
		free(argv);
		if (!err)
			guest_loop(NULL);
		if (boot.init)
			break;
	}
	fprintf(stderr, "vmlinux: cannot run init %s: %s\n", boot.init ? boot.init : "/sbin/init",
		strerror(-err));
	kernel_shutdown(1, false);
}

int main(int argc, char **argv)
{
	saved_argv = argv;
	boot_mono_ns = ktime_mono();
	/* Host signals are read through signalfd by the kernel thread; block them before
	 * any other thread exists so that all threads inherit the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (parse_args(argc, argv))
		return 1;
	if (ubd_init())
		return 1;
	if (!blk_lookup(boot.root))
		return fail("root device %s does not exist (give it with ubd0=<image>)", boot.root),
		       1;
	int err = platform->init();
	if (err) {
		fprintf(stderr, "vmlinux: cannot start the %s platform: %s\n", platform->name,
			strerror(-err));
		return 1;
	}
	struct plat_layout lay;
	platform->layout(&lay);
	task_size = lay.task_size;
	/* As Linux's threads-max: a task per 128 KiB of memory, within sane bounds. */
	max_tasks = (int)MIN(MAX(mem_total_bytes / (128 * 1024), 128), 8192);

	sigset_t hs;
	sigemptyset(&hs);
	sigaddset(&hs, SIGTERM);
	sigaddset(&hs, SIGHUP);
	if (!isatty(STDIN_FILENO))
		sigaddset(&hs, SIGINT);
	host_sig_ev.fd = signalfd(-1, &hs, SFD_CLOEXEC | SFD_NONBLOCK);
	host_sig_ev.events = EPOLLIN;
	host_sig_ev.cb = host_signal_event;
	kevent_add(&host_sig_ev);

	if (console_init())
		return 1;
	exit_hook = console_restore;
	printk_sink = console_sink;
	printk("Linux version 6.1.0-vmlinux (vmlinux %s) #1 SMP\n", VERSION);
	printk("Kernel command line: %s\n", boot.cmdline);
	printk("Memory: %lluK available, platform %s\n",
	       (unsigned long long)(mem_total_bytes >> 10), platform->name);

	vfs_init();
	tmpfs_register();
	devtmpfs_register();
	procfs_register();
	sysfs_register();
	ext_fs_register();
	mem_devices_register();
	tty_devices_init();
	pty_init();
	procfs_set_cmdline(boot.cmdline);

	init_exit_hook = init_exit_status;
	process_create_init(start_init, NULL);
	sched_run();
	console_restore();
	return 0;
}
