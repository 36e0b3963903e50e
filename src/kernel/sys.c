/* System information, resource limits, credentials and other small calls. */
#define _GNU_SOURCE
#include "process.h"
#include "syscalls.h"
#include "fs/fs.h"
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The highest user address on x86-64 Linux, the limit for segment bases. */
#define TASK_SIZE_MAX 0x7ffffffff000ULL

char uts_nodename[65] = "vmlinux";
char uts_domainname[65] = "(none)";

SYSCALL(uname)
{
	struct utsname u;
	memset(&u, 0, sizeof(u));
	strcpy(u.sysname, "Linux");
	memcpy(u.nodename, uts_nodename, sizeof(uts_nodename));
	strcpy(u.release, UTS_RELEASE);
	strcpy(u.version, UTS_VERSION);
	strcpy(u.machine, "x86_64");
	memcpy(u.domainname, uts_domainname, sizeof(uts_domainname));
	return copy_to_user(a[0], &u, sizeof(u));
}

static long set_uts(char *dst, uaddr_t src, size_t len)
{
	if (cur_cred()->euid != 0)
		return -EPERM;
	if (len > 64)
		return -EINVAL;
	char buf[65] = {0};
	if (copy_from_user(buf, src, len))
		return -EFAULT;
	memcpy(dst, buf, 65);
	return 0;
}

SYSCALL(sethostname)
{
	return set_uts(uts_nodename, a[0], a[1]);
}

SYSCALL(setdomainname)
{
	return set_uts(uts_domainname, a[0], a[1]);
}

SYSCALL(sysinfo)
{
	struct sysinfo si;
	memset(&si, 0, sizeof(si));
	si.uptime = (ktime_mono() - boot_mono_ns) / 1000000000;
	si.totalram = mem_total_bytes;
	uint64_t used = mem_committed_bytes();
	si.freeram = used < mem_total_bytes ? mem_total_bytes - used : 0;
	si.procs = nr_processes;
	si.mem_unit = 1;
	return copy_to_user(a[0], &si, sizeof(si));
}

static long do_prlimit(struct process *p, unsigned res, uaddr_t unew, uaddr_t uold)
{
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	struct rlimit old = p->rlim[res], nv;
	if (unew) {
		if (copy_from_user(&nv, unew, sizeof(nv)))
			return -EFAULT;
		if (nv.rlim_cur > nv.rlim_max)
			return -EINVAL;
		if (nv.rlim_max > old.rlim_max && cur_cred()->euid != 0)
			return -EPERM;
		if (res == RLIMIT_NOFILE && nv.rlim_max > 1024 * 1024)
			return -EPERM;
	}
	if (uold && copy_to_user(uold, &old, sizeof(old)))
		return -EFAULT;
	if (unew)
		p->rlim[res] = nv;
	return 0;
}

SYSCALL(getrlimit)
{
	return do_prlimit(current->proc, (unsigned)a[0], 0, a[1]);
}

SYSCALL(setrlimit)
{
	return do_prlimit(current->proc, (unsigned)a[0], a[1], 0);
}

SYSCALL(prlimit64)
{
	struct process *p = a[0] ? find_process((pid_t)a[0]) : current->proc;
	if (!p)
		return -ESRCH;
	return do_prlimit(p, (unsigned)a[1], a[2], a[3]);
}

SYSCALL(getrusage)
{
	int who = (int)a[0];
	if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
		return -EINVAL;
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	return copy_to_user(a[1], &ru, sizeof(ru));
}

SYSCALL(times)
{
	struct tms t = {0};
	if (a[0] && copy_to_user(a[0], &t, sizeof(t)))
		return -EFAULT;
	return (long)((ktime_mono() - boot_mono_ns) / 10000000); /* clock ticks at 100 Hz */
}

/* Credentials: stored and reported; every guest runs as root for now but the rules of
 * the set*id calls are Linux's. */
SYSCALL(getuid)
{
	return cur_cred()->uid;
}
SYSCALL(geteuid)
{
	return cur_cred()->euid;
}
SYSCALL(getgid)
{
	return cur_cred()->gid;
}
SYSCALL(getegid)
{
	return cur_cred()->egid;
}

/* Change one set of ids (real, effective, saved; -1 keeps). Unprivileged callers may
 * only pick among their current ids. */
static long set_ids(uint32_t *r, uint32_t *e, uint32_t *s, uint32_t *fs, int64_t nr, int64_t ne,
		    int64_t ns)
{
	bool priv = cur_cred()->euid == 0;
	int64_t want[3] = {nr, ne, ns};
	for (int i = 0; i < 3; i++) {
		uint32_t v = (uint32_t)want[i];
		if (want[i] == -1 || (int32_t)v == -1)
			continue;
		if (!priv && v != *r && v != *e && v != *s)
			return -EPERM;
	}
	if (nr != -1 && (int32_t)nr != -1)
		*r = (uint32_t)nr;
	if (ne != -1 && (int32_t)ne != -1)
		*e = (uint32_t)ne;
	if (ns != -1 && (int32_t)ns != -1)
		*s = (uint32_t)ns;
	*fs = *e;
	return 0;
}

#define CRED_UIDS(c) &(c)->uid, &(c)->euid, &(c)->suid, &(c)->fsuid
#define CRED_GIDS(c) &(c)->gid, &(c)->egid, &(c)->sgid, &(c)->fsgid

SYSCALL(setuid)
{
	struct creds *c = cur_cred();
	if (c->euid == 0)
		return set_ids(CRED_UIDS(c), a[0], a[0], a[0]);
	return set_ids(CRED_UIDS(c), -1, a[0], -1);
}

SYSCALL(setgid)
{
	struct creds *c = cur_cred();
	if (c->euid == 0)
		return set_ids(CRED_GIDS(c), a[0], a[0], a[0]);
	return set_ids(CRED_GIDS(c), -1, a[0], -1);
}

SYSCALL(setreuid)
{
	return set_ids(CRED_UIDS(cur_cred()), (int32_t)a[0], (int32_t)a[1], -1);
}

SYSCALL(setregid)
{
	return set_ids(CRED_GIDS(cur_cred()), (int32_t)a[0], (int32_t)a[1], -1);
}

SYSCALL(setresuid)
{
	return set_ids(CRED_UIDS(cur_cred()), (int32_t)a[0], (int32_t)a[1], (int32_t)a[2]);
}

SYSCALL(setresgid)
{
	return set_ids(CRED_GIDS(cur_cred()), (int32_t)a[0], (int32_t)a[1], (int32_t)a[2]);
}

static long put_ids(uaddr_t r, uaddr_t e, uaddr_t s, uint32_t vr, uint32_t ve, uint32_t vs)
{
	if (PUT_USER(vr, r) || PUT_USER(ve, e) || PUT_USER(vs, s))
		return -EFAULT;
	return 0;
}

SYSCALL(getresuid)
{
	struct creds *c = cur_cred();
	return put_ids(a[0], a[1], a[2], c->uid, c->euid, c->suid);
}

SYSCALL(getresgid)
{
	struct creds *c = cur_cred();
	return put_ids(a[0], a[1], a[2], c->gid, c->egid, c->sgid);
}

SYSCALL(setfsuid)
{
	struct creds *c = cur_cred();
	uint32_t old = c->fsuid;
	if (c->euid == 0 && (int32_t)a[0] != -1)
		c->fsuid = (uint32_t)a[0];
	return old;
}

SYSCALL(setfsgid)
{
	struct creds *c = cur_cred();
	uint32_t old = c->fsgid;
	if (c->euid == 0 && (int32_t)a[0] != -1)
		c->fsgid = (uint32_t)a[0];
	return old;
}

SYSCALL(getgroups)
{
	struct creds *c = cur_cred();
	int n = (int)a[0];
	if (n < 0)
		return -EINVAL;
	if (n == 0)
		return c->ngroups;
	if (n < c->ngroups)
		return -EINVAL;
	return copy_to_user(a[1], c->groups, c->ngroups * sizeof(gid_t)) ?: c->ngroups;
}

SYSCALL(setgroups)
{
	struct creds *c = cur_cred();
	if (c->euid != 0)
		return -EPERM;
	if (a[0] > ARRAY_SIZE(c->groups))
		return -EINVAL;
	if (copy_from_user(c->groups, a[1], a[0] * sizeof(gid_t)))
		return -EFAULT;
	c->ngroups = (int)a[0];
	return 0;
}

SYSCALL(capget)
{
	struct __user_cap_header_struct h;
	if (copy_from_user(&h, a[0], sizeof(h)))
		return -EFAULT;
	if (h.version != _LINUX_CAPABILITY_VERSION_3) {
		h.version = _LINUX_CAPABILITY_VERSION_3;
		PUT_USER(h, a[0]);
		return a[1] ? -EINVAL : 0;
	}
	bool root = cur_cred()->euid == 0;
	struct __user_cap_data_struct d[2];
	for (int i = 0; i < 2; i++)
		d[i].effective = d[i].permitted = root ? (i ? 0x1ff : ~0u) : 0,
		d[i].inheritable = 0;
	return a[1] ? copy_to_user(a[1], d, sizeof(d)) : 0;
}

SYSCALL(capset)
{
	return cur_cred()->euid == 0 ? 0 : -EPERM;
}

SYSCALL(prctl)
{
	struct process *p = current->proc;
	switch (a[0]) {
	case PR_SET_NAME: {
		char name[16];
		long n = strncpy_from_user(name, a[1], sizeof(name));
		if (n == -EFAULT)
			return -EFAULT;
		name[15] = 0;
		memcpy(p->comm, name, sizeof(name));
		return 0;
	}
	case PR_GET_NAME:
		return copy_to_user(a[1], p->comm, sizeof(p->comm));
	case PR_SET_PDEATHSIG:
	case PR_SET_DUMPABLE:
	case PR_SET_NO_NEW_PRIVS:
	case PR_SET_CHILD_SUBREAPER:
	case PR_SET_SECCOMP: /* guests cannot filter guest syscalls yet */
		return a[0] == PR_SET_SECCOMP ? -EINVAL : 0;
	case PR_GET_DUMPABLE:
		return 1;
	case PR_GET_NO_NEW_PRIVS:
		return 0;
	case PR_CAPBSET_READ:
		return a[1] < 41 ? 1 : -EINVAL;
	default:
		return -EINVAL;
	}
}

SYSCALL(personality)
{
	return a[0] == 0xffffffff || a[0] == 0 ? 0 : -EINVAL;
}

SYSCALL(sched_yield)
{
	yield();
	return 0;
}

SYSCALL(sched_getaffinity)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t len = a[1];
	if (len < sizeof(uint64_t) || (len & 7))
		return -EINVAL;
	uint64_t mask = ncpu >= 64 ? ~0ull : (1ull << ncpu) - 1;
	uint64_t zero = 0;
	for (size_t i = 0; i < len; i += 8)
		if (copy_to_user(a[2] + i, i ? &zero : &mask, 8))
			return -EFAULT;
	return 8;
}

SYSCALL(sched_setaffinity)
{
	return 0;
}
SYSCALL(sched_getparam)
{
	int zero = 0;
	return PUT_USER(zero, a[1]);
}
SYSCALL(sched_setparam)
{
	return 0;
}
SYSCALL(sched_getscheduler)
{
	return 0; /* SCHED_OTHER */
}
SYSCALL(sched_setscheduler)
{
	return a[1] == 0 ? 0 : -EPERM;
}
SYSCALL(sched_get_priority_max)
{
	return a[0] == 1 || a[0] == 2 ? 99 : 0;
}
SYSCALL(sched_get_priority_min)
{
	return a[0] == 1 || a[0] == 2 ? 1 : 0;
}
SYSCALL(sched_rr_get_interval)
{
	struct timespec ts = {0, 100000000};
	return copy_to_user(a[1], &ts, sizeof(ts));
}
SYSCALL(getpriority)
{
	return 20; /* nice 0, in the syscall's 40-nice encoding */
}
SYSCALL(setpriority)
{
	return 0;
}

SYSCALL(getcpu)
{
	unsigned zero = 0;
	if (a[0] && PUT_USER(zero, a[0]))
		return -EFAULT;
	if (a[1] && PUT_USER(zero, a[1]))
		return -EFAULT;
	return 0;
}

SYSCALL(getrandom)
{
	size_t n = MIN(a[1], 1 << 20);
	char *buf = xmalloc(n);
	ssize_t got = getrandom(buf, n, (unsigned)a[2] & GRND_NONBLOCK);
	long r = got < 0 ? -errno : copy_to_user(a[0], buf, got) ?: got;
	free(buf);
	return r;
}

SYSCALL(arch_prctl)
{
	switch (a[0]) {
	case 0x1002: /* ARCH_SET_FS */
		if (a[1] >= TASK_SIZE_MAX)
			return -EPERM;
		current->regs.fs_base = a[1];
		return 0;
	case 0x1001: /* ARCH_SET_GS */
		if (a[1] >= TASK_SIZE_MAX)
			return -EPERM;
		current->regs.gs_base = a[1];
		return 0;
	case 0x1003: /* ARCH_GET_FS */
		return PUT_USER(current->regs.fs_base, a[1]);
	case 0x1004: /* ARCH_GET_GS */
		return PUT_USER(current->regs.gs_base, a[1]);
	case 0x3001: /* ARCH_CET_STATUS */
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

SYSCALL(syslog)
{
	switch (a[0]) {
	case 10: /* SYSLOG_ACTION_SIZE_BUFFER */
		return 4096;
	case 0:
	case 1:
	case 6:
	case 7:
	case 8:
	case 9:
		return 0;
	default:
		return 0; /* the kernel log is not kept: reads return nothing */
	}
}

SYSCALL(membarrier)
{
	/* MEMBARRIER_CMD_QUERY: no commands; every other command is refused. */
	return a[0] == 0 ? 0 : -EINVAL;
}
