/* Guest processes and threads. A struct task is one guest thread with its own kernel
 * stack; a struct process is a thread group (what getpid() names). */
#ifndef TASK_H
#define TASK_H

#include "kernel.h"
#include "platform.h"
#include "sched.h"
#include "fs/vfs.h"
#include <signal.h>
#include <sys/resource.h>

#define NSIG_K 64
typedef uint64_t ksigset_t; /* bit (sig-1) */
#define SIGBIT(s) (1ULL << ((s)-1))

struct k_sigaction {
	uint64_t handler; /* SIG_DFL 0, SIG_IGN 1, or a guest address */
	uint64_t flags;
	uint64_t restorer;
	ksigset_t mask;
};

struct sighand {
	int refcount;
	struct k_sigaction action[NSIG_K];
};

/* A queued signal with its siginfo (guest layout, 128 bytes). */
struct ksiginfo {
	int signo, errno_, code, pad;
	union {
		uint8_t raw[112];
		struct {
			int32_t pid;
			uint32_t uid;
			int32_t status; /* SIGCHLD; or sigval for rt */
		} kill;
		struct {
			uint64_t addr;
		} fault;
	};
};

struct sigpending {
	ksigset_t set;
	struct list queue; /* of struct sigqueue */
};

struct vma {
	uaddr_t start, end;
	int prot;
	int flags; /* MAP_PRIVATE/MAP_SHARED/MAP_ANONYMOUS/MAP_GROWSDOWN/MAP_STACK */
	struct inode *file;
	uint64_t pgoff; /* in pages */
	struct list link;
};

/* A guest address space as the kernel sees it: its map of areas. The host side is the
 * platform's uthread. */
struct mm {
	int refcount;
	struct list vmas; /* sorted by start */
	uaddr_t start_brk, brk;
	uaddr_t mmap_base, start_stack;
	uaddr_t arg_start, arg_end, env_start, env_end;
	uaddr_t auxv_start, auxv_end;
	uint64_t total_pages; /* committed (counted against mem=) */
	struct inode *exe;
	struct path exe_path;
};

struct fdtable {
	int refcount;
	int max;
	struct file **fd;
	uint8_t *cloexec;
};

struct fs_struct {
	int refcount;
	struct path root, cwd;
	mode_t umask;
};

struct creds {
	uid_t uid, euid, suid, fsuid;
	gid_t gid, egid, sgid, fsgid;
	int ngroups;
	gid_t groups[32];
};

enum proc_state { PROC_RUNNING, PROC_STOPPED, PROC_ZOMBIE, PROC_DEAD };

struct tty;
struct process {
	pid_t pid; /* thread group id */
	pid_t pgid, sid;
	struct process *parent;
	struct list children, sibling;
	struct list threads; /* of struct task */
	int nthreads;
	enum proc_state state;
	int exit_code;		       /* wait status once a zombie */
	int stop_signal;	       /* while stopped */
	bool report_stop, report_cont; /* for WUNTRACED / WCONTINUED */
	bool group_exiting;
	struct sighand *sighand;
	struct sigpending shared_pending;
	struct rlimit rlim[RLIM_NLIMITS];
	struct creds cred;
	char comm[16];
	struct tty *tty;     /* controlling terminal */
	uint64_t start_time; /* ns since boot */
	uint64_t utime_ns, stime_ns;
	struct waitq child_wait; /* parent sleeps here in wait4 */
	struct itimer {
		uint64_t interval_ns;
		struct ktimer timer;
	} itimer_real;
	struct list all_link;
	int exit_signal; /* signal to parent on exit (SIGCHLD) */
};

enum task_state { TASK_RUNNING, TASK_SLEEPING, TASK_DEAD };

struct task {
	pid_t tid;
	struct process *proc;
	struct list thread_link;
	/* kernel side */
	void *kstack;
	size_t kstack_size;
	void *ksp; /* saved kernel stack pointer while switched out */
	enum task_state state;
	bool on_runq, is_kthread, sleep_intr, timed_out;
	struct list runq_link;
	struct list wait_links; /* sleeping on wait queues */
	char name[16];
	void (*kfn)(void *);
	void *karg;
	/* guest side */
	struct uthread *ut;
	struct uregs regs;
	struct mm *mm;
	struct fdtable *files;
	struct fs_struct *fs;
	ksigset_t blocked, saved_mask;
	ksigset_t real_blocked; /* blocked before rt_sigtimedwait unblocked its set */
	bool restore_saved_mask;
	struct sigpending pending;
	uaddr_t sas_sp;
	size_t sas_size;
	uaddr_t clear_child_tid;
	uaddr_t robust_list;
	bool exiting;
	struct waitq *vfork_done;
	bool *vfork_flag;
	bool in_user; /* running guest code (signals interrupt it) */
	bool stopped; /* in a job-control stop */
	int sys_nr;   /* syscall in progress, for restarts and /proc */
};

/* Iterate processes; find by pid (NULL when none or a zombie-less dead one). */
struct process *process_next(struct process *prev);
struct process *find_process(pid_t pid);
struct task *find_task(pid_t tid);
extern struct process *init_process;

/* Signals (signal.c). Process-directed and thread-directed sends; 0 or -errno. */
int send_signal(struct process *p, int sig, const struct ksiginfo *info);
int send_signal_task(struct task *t, int sig, const struct ksiginfo *info);
int kill_pgrp(pid_t pgid, int sig);
/* Is a signal pending and unblocked for the current task? */
bool signal_pending(struct task *t);
/* Is the process group orphaned (for SIGTSTP from a terminal)? */
bool pgrp_is_orphaned(pid_t pgid);
bool sig_ignored(struct process *p, int sig);

/* Read or write another process's memory (procfs cmdline/environ, ptrace). */
int access_process_vm(struct process *p, uaddr_t addr, void *buf, size_t len, bool write);

/* Summary numbers for /proc. */
uint64_t mm_vsize(struct mm *mm);
uint64_t mm_rss_pages(struct mm *mm);
/* Total memory the guest has (mem=) and how much is committed. */
extern uint64_t mem_total_bytes;
uint64_t mem_committed_bytes(void);
extern uint64_t kernel_nr_forks;

/* uname(2) and /proc/sys/kernel: the host and NIS domain names (sys.c; also written
 * through /proc/sys/kernel/{hostname,domainname}), the release and version. */
extern char uts_nodename[65], uts_domainname[65];
#define UTS_RELEASE "6.1.0-vmlinux"
#define UTS_VERSION "#1 SMP PREEMPT vmlinux"

#endif
