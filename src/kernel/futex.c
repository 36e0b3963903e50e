/* Futexes: waiters keyed by (address space, guest address). */
#define _GNU_SOURCE
#include "process.h"
#include "syscalls.h"
#include <linux/futex.h>

struct futex_waiter {
	struct list link;
	struct mm *mm;
	uaddr_t addr;
	uint32_t bitset;
	bool woken;
	struct waitq wq;
};

static struct list waiters = LIST_INIT(waiters);

static int futex_wake_bits(struct mm *mm, uaddr_t addr, int n, uint32_t bitset)
{
	int woken = 0;
	list_for_each_safe(it, nx, &waiters)
	{
		if (woken >= n)
			break;
		struct futex_waiter *w = list_entry(it, struct futex_waiter, link);
		if (w->mm == mm && w->addr == addr && (w->bitset & bitset)) {
			list_del(&w->link);
			w->woken = true;
			wake_up(&w->wq);
			woken++;
		}
	}
	return woken;
}

int futex_wake_addr(struct mm *mm, uaddr_t addr, int n)
{
	return futex_wake_bits(mm, addr, n, ~0u);
}

static long futex_wait(uaddr_t addr, uint32_t val, uaddr_t utime, uint32_t bitset, bool abs,
		       bool realtime)
{
	uint32_t cur;
	if (!bitset)
		return -EINVAL;
	if (GET_USER(cur, addr))
		return -EFAULT;
	if (cur != val)
		return -EAGAIN;
	uint64_t deadline = 0;
	if (utime) {
		struct timespec ts;
		if (copy_from_user(&ts, utime, sizeof(ts)))
			return -EFAULT;
		if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000 || ts.tv_sec < 0)
			return -EINVAL;
		uint64_t ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
		if (abs && realtime)
			deadline = ktime_mono() + (ns > ktime_real() ? ns - ktime_real() : 0);
		else
			deadline = abs ? ns : ktime_mono() + ns;
		if (!deadline)
			deadline = 1;
	}
	struct futex_waiter w = {.mm = current->mm, .addr = addr, .bitset = bitset};
	waitq_init(&w.wq);
	list_add_tail(&w.link, &waiters);
	int r = 0;
	while (!w.woken && !r)
		r = sleep_on_many((struct waitq *[]){&w.wq}, 1, true, deadline);
	if (!w.woken)
		list_del(&w.link);
	if (w.woken)
		return 0;
	return r == -ETIMEDOUT ? -ETIMEDOUT : -ERESTARTSYS;
}

static long futex_requeue(uaddr_t addr, int nwake, int nrequeue, uaddr_t addr2, bool cmp,
			  uint32_t val)
{
	struct mm *mm = current->mm;
	if (cmp) {
		uint32_t cur;
		if (GET_USER(cur, addr))
			return -EFAULT;
		if (cur != val)
			return -EAGAIN;
	}
	int n = futex_wake_bits(mm, addr, nwake, ~0u);
	list_for_each(it, &waiters)
	{
		struct futex_waiter *w = list_entry(it, struct futex_waiter, link);
		if (nrequeue <= 0)
			break;
		if (w->mm == mm && w->addr == addr) {
			w->addr = addr2;
			nrequeue--;
			n++;
		}
	}
	return n;
}

static long futex_wake_op(uaddr_t addr, int n1, uaddr_t addr2, int n2, uint32_t op)
{
	uint32_t old;
	if (GET_USER(old, addr2))
		return -EFAULT;
	int opc = (op >> 28) & 7, cmp = (op >> 24) & 15;
	uint32_t oparg = (op >> 12) & 0xfff, cmparg = op & 0xfff;
	if ((op >> 31) & 1)
		oparg = 1u << (oparg & 31);
	uint32_t nv = old;
	switch (opc) {
	case FUTEX_OP_SET:
		nv = oparg;
		break;
	case FUTEX_OP_ADD:
		nv = old + oparg;
		break;
	case FUTEX_OP_OR:
		nv = old | oparg;
		break;
	case FUTEX_OP_ANDN:
		nv = old & ~oparg;
		break;
	case FUTEX_OP_XOR:
		nv = old ^ oparg;
		break;
	default:
		return -ENOSYS;
	}
	if (PUT_USER(nv, addr2))
		return -EFAULT;
	long r = futex_wake_bits(current->mm, addr, n1, ~0u);
	bool hit = false;
	switch (cmp) {
	case FUTEX_OP_CMP_EQ:
		hit = old == cmparg;
		break;
	case FUTEX_OP_CMP_NE:
		hit = old != cmparg;
		break;
	case FUTEX_OP_CMP_LT:
		hit = (int)old < (int)cmparg;
		break;
	case FUTEX_OP_CMP_LE:
		hit = (int)old <= (int)cmparg;
		break;
	case FUTEX_OP_CMP_GT:
		hit = (int)old > (int)cmparg;
		break;
	case FUTEX_OP_CMP_GE:
		hit = (int)old >= (int)cmparg;
		break;
	}
	if (hit)
		r += futex_wake_bits(current->mm, addr2, n2, ~0u);
	return r;
}

SYSCALL(futex)
{
	uaddr_t addr = a[0], utime = a[3], addr2 = a[4];
	int op = (int)a[1], cmd = op & FUTEX_CMD_MASK;
	uint32_t val = (uint32_t)a[2], val3 = (uint32_t)a[5];
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	if (addr & 3)
		return -EINVAL;
	switch (cmd) {
	case FUTEX_WAIT:
		return futex_wait(addr, val, utime, ~0u, false, false);
	case FUTEX_WAIT_BITSET:
		return futex_wait(addr, val, utime, val3, true, realtime);
	case FUTEX_WAKE:
		return futex_wake_bits(current->mm, addr, (int)val, ~0u);
	case FUTEX_WAKE_BITSET:
		return val3 ? futex_wake_bits(current->mm, addr, (int)val, val3) : -EINVAL;
	case FUTEX_REQUEUE:
		return futex_requeue(addr, (int)val, (int)utime, addr2, false, 0);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(addr, (int)val, (int)utime, addr2, true, val3);
	case FUTEX_WAKE_OP:
		return futex_wake_op(addr, (int)val, addr2, (int)utime, val3);
	default:
		return -ENOSYS; /* PI futexes are not implemented */
	}
}
