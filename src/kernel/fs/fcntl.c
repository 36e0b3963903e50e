/* Descriptor control: fcntl(2), dup(2) and friends, ioctl(2)'s generic part, flock(2).
 * Advisory locks are accepted but not recorded: every lock is granted. */
#include "internal.h"
#include <sys/file.h>
#include <sys/ioctl.h>

/* File status flags that F_SETFL may change. */
#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

static long do_lock(struct file *f, int cmd, uaddr_t ufl)
{
	struct flock fl;
	if (copy_from_user(&fl, ufl, sizeof(fl)))
		return -EFAULT;
	if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
		return -EINVAL;
	if (fl.l_type == F_RDLCK && (f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (fl.l_type == F_WRLCK && (f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
		fl.l_type = F_UNLCK; /* nobody holds a conflicting lock */
		return copy_to_user(ufl, &fl, sizeof(fl));
	}
	return 0;
}

SYSCALL(fcntl)
{
	int fd = a[0], cmd = a[1];
	uint64_t arg = a[2];
	struct file *f;
	int err = fget_raw(fd, &f);
	if (err)
		return err;
	long r = 0;
	bool path_ok = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_GETFD ||
		       cmd == F_SETFD || cmd == F_GETFL;
	if ((f->flags & O_PATH) && !path_ok) {
		fput(f);
		return -EBADF;
	}
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((int)arg < 0 || arg >= cur_rlimit(RLIMIT_NOFILE)) {
			r = -EINVAL;
			break;
		}
		r = fd_alloc_from(fget_ref(f), arg, cmd == F_DUPFD_CLOEXEC);
		if (r < 0)
			fput(f);
		break;
	case F_GETFD:
		r = fd_get_cloexec(fd) ? FD_CLOEXEC : 0;
		break;
	case F_SETFD:
		fd_set_cloexec(fd, arg & FD_CLOEXEC);
		break;
	case F_GETFL:
		r = f->flags;
		break;
	case F_SETFL:
		f->flags = (f->flags & ~SETFL_MASK) | (arg & SETFL_MASK);
		break;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		r = do_lock(f, cmd, arg);
		break;
	case F_GETOWN:
	case F_GETSIG:
	case F_GETLEASE:
		r = cmd == F_GETLEASE ? F_UNLCK : 0;
		break;
	case F_SETOWN:
	case F_SETSIG:
	case F_NOTIFY:
		break;
	case F_SETLEASE:
		r = -EINVAL;
		break;
	case F_SETPIPE_SZ:
	case F_GETPIPE_SZ:
		r = is_pipe_file(f) ? pipe_fcntl(f, cmd, arg) : -EBADF;
		break;
	default:
		r = -EINVAL;
	}
	fput(f);
	return r;
}

/* --- dup ---------------------------------------------------------------------------- */

SYSCALL(dup)
{
	struct file *f;
	int err = fget_raw(a[0], &f);
	if (err)
		return err;
	int fd = fd_install(f, 0);
	if (fd < 0)
		fput(f);
	return fd;
}

static long do_dup3(int oldfd, int newfd, int flags)
{
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	struct file *f;
	int err = fget_raw(oldfd, &f);
	if (err)
		return err;
	int r = fd_replace(newfd, f, flags & O_CLOEXEC);
	if (r < 0)
		fput(f);
	return r;
}

SYSCALL(dup2)
{
	struct file *f;
	if (a[0] == a[1]) {
		int err = fget_raw(a[0], &f);
		if (err)
			return err;
		fput(f);
		return a[1];
	}
	return do_dup3(a[0], a[1], 0);
}

SYSCALL(dup3)
{
	if ((int)a[0] == (int)a[1])
		return -EINVAL;
	return do_dup3(a[0], a[1], a[2]);
}

/* --- ioctl and flock ---------------------------------------------------------------- */

SYSCALL(ioctl)
{
	int fd = a[0];
	unsigned cmd = a[1];
	uint64_t arg = a[2];
	struct file *f;
	int err = fget_checked(fd, &f);
	if (err)
		return err;
	long r = 0;
	int v;
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
		fd_set_cloexec(fd, cmd == FIOCLEX);
		break;
	case FIONBIO:
	case FIOASYNC:
		if (GET_USER(v, arg)) {
			r = -EFAULT;
			break;
		}
		unsigned bit = cmd == FIONBIO ? O_NONBLOCK : O_ASYNC;
		f->flags = v ? f->flags | bit : f->flags & ~bit;
		if (f->fop && f->fop->ioctl && cmd == FIOASYNC)
			f->fop->ioctl(f, cmd, arg); /* drivers may want to know */
		break;
	default:
		if (f->inode && S_ISREG(f->inode->mode) && cmd == FIONREAD) {
			v = f->inode->size > (uint64_t)f->pos
				? MIN(f->inode->size - f->pos, (uint64_t)INT32_MAX)
				: 0;
			r = PUT_USER(v, arg);
		} else if (f->fop && f->fop->ioctl) {
			r = f->fop->ioctl(f, cmd, arg);
		} else {
			r = -ENOTTY;
		}
	}
	fput(f);
	return r;
}

SYSCALL(flock)
{
	int op = a[1] & ~LOCK_NB;
	if (op != LOCK_SH && op != LOCK_EX && op != LOCK_UN)
		return -EINVAL;
	struct file *f;
	int err = fget_raw(a[0], &f);
	if (!err)
		fput(f);
	return err;
}
