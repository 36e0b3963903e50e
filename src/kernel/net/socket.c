/* The socket syscalls: a socket is an open file (an anonymous S_IFSOCK inode) whose priv
 * is a struct socket; each call finds it, copies addresses, iovecs and control messages
 * between the guest and the kernel, and hands over to the family's proto_ops. The
 * SOL_SOCKET options every family shares are kept here.
 *
 * Families: AF_UNIX (unix.c). AF_INET, AF_INET6, AF_NETLINK, AF_PACKET and the rest give
 * -EAFNOSUPPORT for now: the guest TCP/IP stack is a later issue. */
#include "net.h"
#include "../fs/internal.h"
#include <sys/ioctl.h>
#include <sys/un.h>

#define NET_AF_MAX 46	/* AF_MAX of Linux 6.1 */
#define NET_SOCK_MAX 11 /* SOCK_PACKET + 1 */
#define SOCK_TYPE_MASK 0xf
#define SOMAXCONN_K 4096
#define OPTMEM_MAX 20480	 /* net.core.optmem_max: the largest control buffer */
#define MAX_RW_COUNT 0x7ffff000L /* as Linux: no single call moves more */
#define OPTVAL_MAX 256		 /* option values are copied through a buffer this big */

#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif
#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif
#ifndef SO_TIMESTAMP_NEW
#define SO_TIMESTAMP_NEW 63
#define SO_TIMESTAMPNS_NEW 64
#endif
#define SO_TIMESTAMP_OLD_K 29
#define SO_TIMESTAMPNS_OLD_K 35

/* --- the socket file ---------------------------------------------------------------- */

static const struct file_ops socket_fops;

struct socket *sock_from_file(struct file *f)
{
	return f && f->fop == &socket_fops ? f->priv : NULL;
}

static ssize_t sock_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	struct socket *s = f->priv;
	if (!n)
		return 0;
	struct iovec v = {buf, n};
	struct kmsg m = {.iter = {.kernel = true, .iov = &v, .cnt = 1, .left = n}};
	struct sockaddr_storage addr;
	m.name = &addr;
	return s->ops->recvmsg(s, &m, n, f->flags & O_NONBLOCK ? MSG_DONTWAIT : 0);
}

static ssize_t sock_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	struct socket *s = f->priv;
	struct iovec v = {(void *)buf, n};
	struct kmsg m = {.iter = {.kernel = true, .iov = &v, .cnt = 1, .left = n}};
	m.scm.creds = cur_ucred_scm();
	ssize_t r = s->ops->sendmsg(s, &m, n, f->flags & O_NONBLOCK ? MSG_DONTWAIT : 0);
	scm_destroy(&m.scm);
	return r;
}

static unsigned sock_poll(struct file *f, struct poll_table *pt)
{
	struct socket *s = f->priv;
	return s->ops->poll ? s->ops->poll(s, pt) : 0;
}

static long sock_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct socket *s = f->priv;
	long r = s->ops->ioctl ? s->ops->ioctl(s, cmd, arg) : -ENOIOCTLCMD;
	if (r != -ENOIOCTLCMD)
		return r;
	/* Interface ioctls (SIOCGIFCONF, ...) come with the network devices. */
	return -ENOTTY;
}

static void sock_release(struct file *f)
{
	struct socket *s = f->priv;
	if (!s)
		return;
	if (s->ops && s->ops->release)
		s->ops->release(s);
	free(s);
	f->priv = NULL;
}

static const struct file_ops socket_fops = {
    .read = sock_read,
    .write = sock_write,
    .poll = sock_poll,
    .ioctl = sock_ioctl,
    .release = sock_release,
};

static struct socket *sock_alloc(int family, int type, int protocol)
{
	struct socket *s = xzalloc(sizeof(*s));
	s->family = family;
	s->type = type;
	s->protocol = protocol;
	s->sndbuf = SOCK_DEF_BUF;
	s->rcvbuf = SOCK_DEF_BUF;
	s->rcvlowat = 1;
	return s;
}

/* The open file of a socket; flags: SOCK_NONBLOCK. */
static struct file *sock_file(struct socket *s, int flags)
{
	struct file *f = anon_file_new("socket", S_IFSOCK | 0777, &socket_fops, s,
				       O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0));
	s->file = f;
	return f;
}

static const struct net_proto_family *find_family(int family)
{
	switch (family) {
	case AF_UNIX:
		return &unix_family;
	default:
		/* AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, ...: networking is a later
		 * issue (no TCP/IP stack in the guest kernel yet). */
		return NULL;
	}
}

static int sock_create(int family, int type, int protocol, struct socket **out)
{
	if (family < 0 || family >= NET_AF_MAX)
		return -EAFNOSUPPORT;
	if (type < 0 || type >= NET_SOCK_MAX)
		return -EINVAL;
	if (family == AF_INET && type == SOCK_PACKET)
		family = AF_PACKET; /* the old way of asking for packet sockets */
	const struct net_proto_family *pf = find_family(family);
	if (!pf)
		return -EAFNOSUPPORT;
	struct socket *s = sock_alloc(family, type, protocol);
	int err = pf->create(s, protocol);
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

/* The socket at fd: a referenced file, -EBADF or -ENOTSOCK. */
static int sockfd(int fd, struct file **fp, struct socket **sp)
{
	struct file *f;
	int err = fget_checked(fd, &f);
	if (err)
		return err;
	struct socket *s = sock_from_file(f);
	if (!s) {
		fput(f);
		return -ENOTSOCK;
	}
	*fp = f;
	*sp = s;
	return 0;
}

/* --- helpers for the families ------------------------------------------------------- */

uint64_t sock_rcv_deadline(const struct socket *s)
{
	return s && s->rcvtimeo_ns ? ktime_mono() + s->rcvtimeo_ns : 0;
}

uint64_t sock_snd_deadline(const struct socket *s)
{
	return s && s->sndtimeo_ns ? ktime_mono() + s->sndtimeo_ns : 0;
}

int sock_wait(struct waitq *wq, uint64_t deadline)
{
	int r = sleep_on_many(&wq, 1, true, deadline);
	if (r == -ETIMEDOUT)
		return -EAGAIN;
	if (r == -EINTR)
		return deadline ? -EINTR : -ERESTARTSYS;
	return r;
}

/* The current process's pid with its effective or its real ids. */
static struct ucred cur_ucred(bool effective)
{
	struct ucred u = {0, 0, 0};
	if (current && current->proc) {
		const struct creds *c = &current->proc->cred;
		u.pid = current->proc->pid;
		u.uid = effective ? c->euid : c->uid;
		u.gid = effective ? c->egid : c->gid;
	}
	return u;
}

struct ucred cur_ucred_peer(void)
{
	return cur_ucred(true);
}

struct ucred cur_ucred_scm(void)
{
	return cur_ucred(false);
}

static int miter_move(struct msg_iter *it, char *p, size_t n, bool from_msg)
{
	n = MIN(n, it->left);
	while (n && it->cnt > 0) {
		const struct iovec *v = it->iov;
		size_t avail = v->iov_len - it->off;
		if (!avail) {
			it->iov++;
			it->cnt--;
			it->off = 0;
			continue;
		}
		size_t k = MIN(avail, n);
		uintptr_t base = (uintptr_t)v->iov_base + it->off;
		if (it->kernel) {
			if (from_msg)
				memcpy(p, (const void *)base, k);
			else
				memcpy((void *)base, p, k);
		} else if (from_msg ? copy_from_user(p, base, k) : copy_to_user(base, p, k)) {
			return -EFAULT;
		}
		p += k;
		n -= k;
		it->off += k;
		it->left -= k;
	}
	return 0;
}

int miter_copy_from(struct msg_iter *it, void *dst, size_t n)
{
	return miter_move(it, dst, n, true);
}

int miter_copy_to(struct msg_iter *it, const void *src, size_t n)
{
	return miter_move(it, (char *)src, n, false);
}

void scm_destroy(struct scm *s)
{
	for (int k = 0; k < s->nfp; k++)
		if (s->fp[k])
			fput(s->fp[k]);
	free(s->fp);
	s->fp = NULL;
	s->nfp = 0;
}

int put_cmsg(struct kmsg *m, int level, int type, const void *data, size_t len)
{
	size_t room = m->controllen > m->control_used ? m->controllen - m->control_used : 0;
	if (!m->ucontrol || room < sizeof(struct cmsghdr)) {
		m->msg_flags |= MSG_CTRUNC;
		return 0;
	}
	size_t cmlen = CMSG_LEN(len);
	if (room < cmlen) {
		m->msg_flags |= MSG_CTRUNC;
		cmlen = room;
	}
	struct cmsghdr h = {.cmsg_len = cmlen, .cmsg_level = level, .cmsg_type = type};
	uaddr_t at = m->ucontrol + m->control_used;
	if (copy_to_user(at, &h, sizeof(h)) ||
	    copy_to_user(at + CMSG_LEN(0), data, cmlen - CMSG_LEN(0)))
		return -EFAULT;
	cmlen = CMSG_SPACE(len);
	m->control_used += MIN(cmlen, room);
	return 0;
}

void scm_detach_fds(struct kmsg *m, struct scm *s)
{
	size_t room =
	    m->ucontrol && m->controllen > m->control_used ? m->controllen - m->control_used : 0;
	int fdmax =
	    room > sizeof(struct cmsghdr) ? (room - sizeof(struct cmsghdr)) / sizeof(int) : 0;
	int n = MIN(fdmax, s->nfp), i;
	int *fds = xmalloc(sizeof(int) * (n ? n : 1));
	unsigned cloexec = m->in_flags & MSG_CMSG_CLOEXEC ? O_CLOEXEC : 0;
	for (i = 0; i < n; i++) {
		int fd = fd_install(s->fp[i], cloexec);
		if (fd < 0)
			break;
		s->fp[i] = NULL;
		fds[i] = fd;
	}
	if (i > 0) {
		size_t cmlen = CMSG_LEN(i * sizeof(int));
		struct cmsghdr h = {
		    .cmsg_len = cmlen, .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS};
		uaddr_t at = m->ucontrol + m->control_used;
		if (!copy_to_user(at, &h, sizeof(h)) &&
		    !copy_to_user(at + CMSG_LEN(0), fds, i * sizeof(int)))
			m->control_used += MIN(CMSG_SPACE(i * sizeof(int)), room);
	}
	if (i < s->nfp)
		m->msg_flags |= MSG_CTRUNC;
	free(fds);
	scm_destroy(s);
}

/* Control messages of a send (__scm_send): SCM_RIGHTS and SCM_CREDENTIALS. */
static int scm_parse(struct socket *sock, const char *ctl, size_t len, struct scm *scm)
{
	size_t off = 0;
	while (off + sizeof(struct cmsghdr) <= len) {
		struct cmsghdr c;
		memcpy(&c, ctl + off, sizeof(c));
		if (c.cmsg_len < sizeof(struct cmsghdr) || c.cmsg_len > len - off)
			return -EINVAL;
		const char *data = ctl + off + CMSG_LEN(0);
		size_t dlen = c.cmsg_len - CMSG_LEN(0);
		if (c.cmsg_level == SOL_SOCKET) {
			switch (c.cmsg_type) {
			case SCM_RIGHTS: {
				if (sock->family != AF_UNIX)
					return -EINVAL;
				int num = dlen / sizeof(int);
				if (num <= 0)
					break;
				if (num > SCM_MAX_FD || scm->nfp + num > SCM_MAX_FD)
					return -EINVAL;
				if (!scm->fp)
					scm->fp = xzalloc(sizeof(struct file *) * SCM_MAX_FD);
				for (int k = 0; k < num; k++) {
					int fd;
					memcpy(&fd, data + k * sizeof(int), sizeof(int));
					struct file *f;
					if (fd < 0 || fget_raw(fd, &f))
						return -EBADF;
					scm->fp[scm->nfp++] = f;
				}
				break;
			}
			case SCM_CREDENTIALS: {
				struct ucred u;
				if (c.cmsg_len != CMSG_LEN(sizeof(struct ucred)))
					return -EINVAL;
				memcpy(&u, data, sizeof(u));
				if (u.uid == (uid_t)-1 || u.gid == (gid_t)-1)
					return -EINVAL;
				const struct creds *cr =
				    current && current->proc ? &current->proc->cred : NULL;
				bool admin = !cr || cr->euid == 0;
				bool ok = admin || (current && u.pid == current->proc->pid);
				ok = ok && (admin || u.uid == cr->uid || u.uid == cr->euid ||
					    u.uid == cr->suid);
				ok = ok && (admin || u.gid == cr->gid || u.gid == cr->egid ||
					    u.gid == cr->sgid);
				if (!ok)
					return -EPERM;
				scm->creds = u;
				scm->has_creds = true;
				break;
			}
			default:
				return -EINVAL;
			}
		}
		off += CMSG_ALIGN(c.cmsg_len);
	}
	return 0;
}

/* --- addresses ---------------------------------------------------------------------- */

static int addr_from_user(uaddr_t uaddr, int len, struct sockaddr_storage *k)
{
	memset(k, 0, sizeof(*k));
	if (len < 0 || len > (int)sizeof(*k))
		return -EINVAL;
	if (len && copy_from_user(k, uaddr, len))
		return -EFAULT;
	return 0;
}

/* Linux's move_addr_to_user: *ulen is the room; it becomes the full length. */
static int addr_to_user(const void *k, int klen, uaddr_t uaddr, uaddr_t ulen)
{
	int len;
	if (GET_USER(len, ulen))
		return -EFAULT;
	if (len > klen)
		len = klen;
	if (len < 0)
		return -EINVAL;
	if (len && copy_to_user(uaddr, k, len))
		return -EFAULT;
	return PUT_USER(klen, ulen) ? -EFAULT : 0;
}

/* --- creating ------------------------------------------------------------------------ */

SYSCALL(socket)
{
	int family = a[0], type = a[1], protocol = a[2];
	int flags = type & ~SOCK_TYPE_MASK;
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	struct socket *s;
	int err = sock_create(family, type & SOCK_TYPE_MASK, protocol, &s);
	if (err)
		return err;
	struct file *f = sock_file(s, flags);
	int fd = fd_install(f, flags & SOCK_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0)
		fput(f);
	return fd;
}

SYSCALL(socketpair)
{
	int family = a[0], type = a[1], protocol = a[2];
	uaddr_t usv = a[3];
	int flags = type & ~SOCK_TYPE_MASK;
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	type &= SOCK_TYPE_MASK;
	struct socket *s1, *s2;
	int err = sock_create(family, type, protocol, &s1);
	if (err)
		return err;
	if ((err = sock_create(family, type, protocol, &s2))) {
		if (s1->ops->release)
			s1->ops->release(s1);
		free(s1);
		return err;
	}
	struct file *f1 = sock_file(s1, flags), *f2 = sock_file(s2, flags);
	err = s1->ops->socketpair ? s1->ops->socketpair(s1, s2) : -EOPNOTSUPP;
	if (err) {
		fput(f1);
		fput(f2);
		return err;
	}
	unsigned fdflags = flags & SOCK_CLOEXEC ? O_CLOEXEC : 0;
	int fds[2] = {fd_install(f1, fdflags), -1};
	if (fds[0] >= 0)
		fds[1] = fd_install(f2, fdflags);
	if (fds[1] < 0) {
		if (fds[0] >= 0)
			fd_close(fds[0]);
		else
			fput(f1);
		fput(f2);
		return -EMFILE;
	}
	if (copy_to_user(usv, fds, sizeof(fds))) {
		fd_close(fds[0]);
		fd_close(fds[1]);
		return -EFAULT;
	}
	return 0;
}

/* --- names and connections ---------------------------------------------------------- */

/* bind and connect: the socket at fd and the address of len bytes at uaddr. */
static long do_bind_connect(int fd, uaddr_t uaddr, int len, bool connect)
{
	struct file *f;
	struct socket *s;
	struct sockaddr_storage addr;
	int err = sockfd(fd, &f, &s);
	if (err)
		return err;
	err = addr_from_user(uaddr, len, &addr);
	if (!err && connect)
		err = s->ops->connect ? s->ops->connect(s, &addr, len, f->flags & O_NONBLOCK)
				      : -EOPNOTSUPP;
	else if (!err)
		err = s->ops->bind ? s->ops->bind(s, &addr, len) : -EOPNOTSUPP;
	fput(f);
	return err;
}

SYSCALL(bind)
{
	return do_bind_connect(a[0], a[1], a[2], false);
}

SYSCALL(connect)
{
	return do_bind_connect(a[0], a[1], a[2], true);
}

SYSCALL(listen)
{
	struct file *f;
	struct socket *s;
	int err = sockfd(a[0], &f, &s);
	if (err)
		return err;
	int backlog = a[1];
	if ((unsigned)backlog > SOMAXCONN_K)
		backlog = SOMAXCONN_K;
	err = s->ops->listen ? s->ops->listen(s, backlog) : -EOPNOTSUPP;
	fput(f);
	return err;
}

static long do_accept(int fd, uaddr_t uaddr, uaddr_t ulen, int flags)
{
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	struct file *f;
	struct socket *s;
	int err = sockfd(fd, &f, &s);
	if (err)
		return err;
	if (!s->ops->accept) {
		fput(f);
		return -EOPNOTSUPP;
	}
	struct socket *ns = sock_alloc(s->family, s->type, s->protocol);
	ns->ops = s->ops;
	err = s->ops->accept(s, ns, f->flags & O_NONBLOCK);
	fput(f);
	if (err) {
		free(ns);
		return err;
	}
	struct file *nf = sock_file(ns, flags);
	if (uaddr) {
		struct sockaddr_storage ss;
		int len = ns->ops->getname(ns, &ss, true);
		err = len < 0 ? -ECONNABORTED : addr_to_user(&ss, len, uaddr, ulen);
		if (err) {
			fput(nf);
			return err;
		}
	}
	int nfd = fd_install(nf, flags & SOCK_CLOEXEC ? O_CLOEXEC : 0);
	if (nfd < 0)
		fput(nf); /* no room for the fd: the connection is lost */
	return nfd;
}

SYSCALL(accept)
{
	return do_accept(a[0], a[1], a[2], 0);
}

SYSCALL(accept4)
{
	return do_accept(a[0], a[1], a[2], a[3]);
}

static long do_getname(int fd, uaddr_t uaddr, uaddr_t ulen, bool peer)
{
	struct file *f;
	struct socket *s;
	int err = sockfd(fd, &f, &s);
	if (err)
		return err;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	int len = s->ops->getname ? s->ops->getname(s, &ss, peer) : -EOPNOTSUPP;
	err = len < 0 ? len : addr_to_user(&ss, len, uaddr, ulen);
	fput(f);
	return err;
}

SYSCALL(getsockname)
{
	return do_getname(a[0], a[1], a[2], false);
}

SYSCALL(getpeername)
{
	return do_getname(a[0], a[1], a[2], true);
}

SYSCALL(shutdown)
{
	struct file *f;
	struct socket *s;
	int err = sockfd(a[0], &f, &s);
	if (err)
		return err;
	err = s->ops->shutdown ? s->ops->shutdown(s, (int)a[1]) : -EOPNOTSUPP;
	fput(f);
	return err;
}

/* --- sending and receiving ---------------------------------------------------------- */

/* The guest's iovec array into iov (allocated when more than fast holds); the total,
 * capped as Linux does at MAX_RW_COUNT, or an error. */
static ssize_t import_iovec(uaddr_t uiov, size_t cnt, struct iovec *fast, size_t nfast,
			    struct iovec **out)
{
	if (cnt > UIO_MAXIOV)
		return -EMSGSIZE;
	struct iovec *iov = cnt <= nfast ? fast : xmalloc(sizeof(*iov) * cnt);
	*out = iov;
	if (cnt && copy_from_user(iov, uiov, sizeof(*iov) * cnt))
		return -EFAULT;
	size_t total = 0;
	for (size_t k = 0; k < cnt; k++) {
		if ((ssize_t)iov[k].iov_len < 0)
			return -EINVAL;
		if (iov[k].iov_len > (size_t)MAX_RW_COUNT - total)
			iov[k].iov_len = MAX_RW_COUNT - total;
		total += iov[k].iov_len;
	}
	return total;
}

/* The destination of a send (namelen bytes at uname, 0: none) into addr, and the
 * sender's credentials: how every send starts. */
static int send_begin(struct kmsg *m, struct sockaddr_storage *addr, uaddr_t uname, int namelen)
{
	int err = addr_from_user(uname, namelen, addr);
	if (err)
		return err;
	m->name = namelen ? addr : NULL;
	m->namelen = namelen;
	m->scm.creds = cur_ucred_scm();
	return 0;
}

/* Hand total bytes in iov[cnt] to the protocol: a send, or a receive whose source
 * address, if uname is not 0, goes to uname with its length at ulen (as Linux's
 * move_addr_to_user). A non-blocking file makes the call MSG_DONTWAIT. */
static long sock_xfer(struct socket *s, struct file *f, struct kmsg *m, struct iovec *iov,
		      size_t cnt, size_t total, int flags, bool send, uaddr_t uname, uaddr_t ulen)
{
	struct sockaddr_storage addr;
	m->iter = (struct msg_iter){.iov = iov, .cnt = cnt, .left = total};
	if (!send) {
		memset(&addr, 0, sizeof(addr));
		m->name = &addr;
		m->in_flags = flags;
	}
	if (f->flags & O_NONBLOCK)
		flags |= MSG_DONTWAIT;
	if (send)
		return s->ops->sendmsg(s, m, total, flags);
	long r = s->ops->recvmsg(s, m, total, flags);
	m->name = NULL; /* addr is gone on return */
	if (r >= 0 && uname) {
		int e = addr_to_user(&addr, m->namelen, uname, ulen);
		if (e)
			r = e;
	}
	return r;
}

/* One sendmsg: hdr is the guest's msghdr, copied (its pointers are guest addresses). */
static long do_sendmsg(struct socket *s, struct file *f, struct msghdr *hdr, int flags)
{
	struct sockaddr_storage addr;
	struct iovec fast[8], *iov = NULL;
	struct kmsg m = {0};
	char *ctl = NULL;
	long err;
	int namelen = hdr->msg_name ? hdr->msg_namelen : 0;
	if (namelen < 0)
		return -EINVAL;
	if ((err = send_begin(&m, &addr, (uaddr_t)hdr->msg_name, MIN(namelen, (int)sizeof(addr)))))
		return err;
	ssize_t total =
	    import_iovec((uaddr_t)hdr->msg_iov, hdr->msg_iovlen, fast, ARRAY_SIZE(fast), &iov);
	if (total < 0) {
		err = total;
		goto out;
	}
	if (hdr->msg_controllen > INT_MAX || hdr->msg_controllen > OPTMEM_MAX) {
		err = -ENOBUFS;
		goto out;
	}
	if (hdr->msg_controllen) {
		ctl = xmalloc(hdr->msg_controllen);
		if (copy_from_user(ctl, (uaddr_t)hdr->msg_control, hdr->msg_controllen)) {
			err = -EFAULT;
			goto out;
		}
		if ((err = scm_parse(s, ctl, hdr->msg_controllen, &m.scm)))
			goto out;
	}
	err = sock_xfer(s, f, &m, iov, hdr->msg_iovlen, total, flags, true, 0, 0);
out:
	scm_destroy(&m.scm);
	free(ctl);
	if (iov != fast)
		free(iov);
	return err;
}

/* One recvmsg into the guest's msghdr at umsg (hdr is its copy). */
static long do_recvmsg(struct socket *s, struct file *f, struct msghdr *hdr, uaddr_t umsg,
		       int flags)
{
	struct iovec fast[8], *iov = NULL;
	struct kmsg m = {0};
	long err;
	if (!hdr->msg_name)
		hdr->msg_namelen = 0;
	if ((int)hdr->msg_namelen < 0)
		return -EINVAL;
	ssize_t total =
	    import_iovec((uaddr_t)hdr->msg_iov, hdr->msg_iovlen, fast, ARRAY_SIZE(fast), &iov);
	if (total < 0) {
		err = total;
		goto out;
	}
	m.ucontrol = (uaddr_t)hdr->msg_control;
	m.controllen = hdr->msg_controllen;
	m.msg_flags = flags & MSG_CMSG_CLOEXEC;
	err = sock_xfer(s, f, &m, iov, hdr->msg_iovlen, total, flags, false, (uaddr_t)hdr->msg_name,
			umsg + offsetof(struct msghdr, msg_namelen));
	if (err < 0)
		goto out;
	int fl = m.msg_flags;
	size_t cl = m.control_used;
	if (PUT_USER(fl, umsg + offsetof(struct msghdr, msg_flags)) ||
	    PUT_USER(cl, umsg + offsetof(struct msghdr, msg_controllen)))
		err = -EFAULT;
out:
	if (iov != fast)
		free(iov);
	return err;
}

/* sendto and recvfrom: one buffer (len bytes at ubuf), the peer's name at uname. */
static long do_sendto_recvfrom(int fd, uaddr_t ubuf, size_t len, int flags, uaddr_t uname,
			       uint64_t namelen, bool send)
{
	struct file *f;
	struct socket *s;
	int err = sockfd(fd, &f, &s);
	if (err)
		return err;
	struct iovec v = {(void *)(uintptr_t)ubuf, MIN(len, (size_t)MAX_RW_COUNT)};
	struct sockaddr_storage addr;
	struct kmsg m = {0};
	long r = 0;
	if (send)
		r = send_begin(&m, &addr, uname, uname ? (int)namelen : 0);
	if (!r)
		r = sock_xfer(s, f, &m, &v, 1, v.iov_len, flags, send, send ? 0 : uname, namelen);
	scm_destroy(&m.scm);
	fput(f);
	return r;
}

SYSCALL(sendto)
{
	return do_sendto_recvfrom(a[0], a[1], a[2], a[3], a[4], a[5], true);
}

SYSCALL(recvfrom)
{
	return do_sendto_recvfrom(a[0], a[1], a[2], a[3], a[4], a[5], false);
}

/* sendmsg and recvmsg: one message, described by the guest's msghdr at umsg. */
static long do_msg(int fd, uaddr_t umsg, int flags, bool send)
{
	struct file *f;
	struct socket *s;
	struct msghdr hdr;
	int err = sockfd(fd, &f, &s);
	if (err)
		return err;
	long r = -EFAULT;
	if (!copy_from_user(&hdr, umsg, sizeof(hdr)))
		r = send ? do_sendmsg(s, f, &hdr, flags) : do_recvmsg(s, f, &hdr, umsg, flags);
	fput(f);
	return r;
}

SYSCALL(sendmsg)
{
	return do_msg(a[0], a[1], a[2], true);
}

SYSCALL(recvmsg)
{
	return do_msg(a[0], a[1], a[2], false);
}

/* sendmmsg and recvmmsg: up to vlen messages of the guest's mmsghdr array at umm, each
 * one's length written back; receiving, until the timeout at uts (0: none) is over. The
 * count done, or the first error if none was. */
static long do_mmsg(int fd, uaddr_t umm, unsigned vlen, int flags, uaddr_t uts, bool send)
{
	struct file *f;
	struct socket *s;
	int err = sockfd(fd, &f, &s);
	if (err)
		return err;
	vlen = MIN(vlen, (unsigned)UIO_MAXIOV);
	uint64_t deadline = 0;
	struct timespec ts;
	if (uts) {
		if (copy_from_user(&ts, uts, sizeof(ts))) {
			fput(f);
			return -EFAULT;
		}
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) {
			fput(f);
			return -EINVAL;
		}
		deadline = ktime_mono() + ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	}
	long r = 0;
	unsigned n;
	for (n = 0; n < vlen; n++) {
		struct mmsghdr mh;
		uaddr_t at = umm + n * sizeof(mh);
		if (copy_from_user(&mh.msg_hdr, at, sizeof(mh.msg_hdr))) {
			r = -EFAULT;
			break;
		}
		r = send ? do_sendmsg(s, f, &mh.msg_hdr, flags)
			 : do_recvmsg(s, f, &mh.msg_hdr, at, flags);
		if (r < 0)
			break;
		unsigned len = r;
		if (PUT_USER(len, at + offsetof(struct mmsghdr, msg_len))) {
			r = -EFAULT;
			break;
		}
		if (!send && (flags & MSG_WAITFORONE))
			flags |= MSG_DONTWAIT;
		if (uts && ktime_mono() >= deadline) {
			n++;
			break;
		}
	}
	if (uts) {
		uint64_t now = ktime_mono(), left = deadline > now ? deadline - now : 0;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		if (copy_to_user(uts, &ts, sizeof(ts)) && !n)
			r = -EFAULT;
	}
	fput(f);
	return n ? (long)n : r;
}

SYSCALL(sendmmsg)
{
	return do_mmsg(a[0], a[1], a[2], a[3], 0, true);
}

SYSCALL(recvmmsg)
{
	return do_mmsg(a[0], a[1], a[2], a[3], a[4], false);
}

/* --- options ------------------------------------------------------------------------- */

static const struct {
	int name;
	unsigned flag;
} flag_opts[] = {
    {SO_DEBUG, SOCKF_DEBUG},
    {SO_REUSEADDR, SOCKF_REUSEADDR},
    {SO_REUSEPORT, SOCKF_REUSEPORT},
    {SO_KEEPALIVE, SOCKF_KEEPALIVE},
    {SO_BROADCAST, SOCKF_BROADCAST},
    {SO_DONTROUTE, SOCKF_DONTROUTE},
    {SO_OOBINLINE, SOCKF_OOBINLINE},
    {SO_PASSCRED, SOCKF_PASSCRED},
    {SO_PASSSEC, SOCKF_PASSSEC},
    {SO_TIMESTAMP_OLD_K, SOCKF_TIMESTAMP},
    {SO_TIMESTAMPNS_OLD_K, SOCKF_TIMESTAMPNS},
    {SO_TIMESTAMP_NEW, SOCKF_TIMESTAMP},
    {SO_TIMESTAMPNS_NEW, SOCKF_TIMESTAMPNS},
};

static int buf_size(int val, bool force)
{
	/* SO_{SND,RCV}BUF: at most the sysctl maximum, doubled for bookkeeping */
	long v = force ? MIN((long)val, (long)INT32_MAX / 2)
		       : (long)MIN((unsigned)val, (unsigned)SOCK_MAX_BUF);
	return v < 0 ? 0 : (int)(v * 2);
}

static int sock_setsockopt_generic(struct socket *s, int name, const char *val, int len)
{
	int v;
	if (len < (int)sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	for (size_t k = 0; k < ARRAY_SIZE(flag_opts); k++) {
		if (flag_opts[k].name != name)
			continue;
		if (v)
			s->flags |= flag_opts[k].flag;
		else
			s->flags &= ~flag_opts[k].flag;
		return 0;
	}
	bool admin = cur_is_admin();
	switch (name) {
	case SO_SNDBUFFORCE:
	case SO_SNDBUF:
		if (name == SO_SNDBUFFORCE && !admin)
			return -EPERM;
		s->sndbuf = MAX(buf_size(v, name == SO_SNDBUFFORCE), SOCK_MIN_SNDBUF);
		return 0;
	case SO_RCVBUFFORCE:
	case SO_RCVBUF:
		if (name == SO_RCVBUFFORCE && !admin)
			return -EPERM;
		s->rcvbuf = MAX(buf_size(v, name == SO_RCVBUFFORCE), SOCK_MIN_RCVBUF);
		return 0;
	case SO_LINGER: {
		struct linger l;
		if (len < (int)sizeof(l))
			return -EINVAL;
		memcpy(&l, val, sizeof(l));
		if (!l.l_onoff) {
			s->flags &= ~SOCKF_LINGER;
		} else {
			s->flags |= SOCKF_LINGER;
			s->linger_secs = l.l_linger;
		}
		return 0;
	}
	case SO_PRIORITY:
		if ((v < 0 || v > 6) && !admin)
			return -EPERM;
		s->priority = v;
		return 0;
	case SO_MARK:
		if (!admin)
			return -EPERM;
		s->mark = v;
		return 0;
	case SO_RCVLOWAT:
		if (v < 0)
			v = INT32_MAX;
		s->rcvlowat = v ? v : 1;
		return 0;
	case SO_RCVTIMEO:
	case SO_SNDTIMEO:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_NEW: {
		struct timeval tv;
		if (len < (int)sizeof(tv))
			return -EINVAL;
		memcpy(&tv, val, sizeof(tv));
		if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return -EDOM;
		uint64_t ns = 0;
		if (tv.tv_sec < 0)
			ns = 1; /* as Linux: a negative timeout does not block at all */
		else
			ns = (uint64_t)tv.tv_sec * 1000000000ULL + tv.tv_usec * 1000ULL;
		if (name == SO_RCVTIMEO || name == SO_RCVTIMEO_NEW)
			s->rcvtimeo_ns = ns;
		else
			s->sndtimeo_ns = ns;
		return 0;
	}
	case SO_PEEK_OFF:
		return -EOPNOTSUPP;
	default:
		return -ENOPROTOOPT;
	}
}

/* SOL_SOCKET getsockopt: the value in val, its natural length in *len. */
static int sock_getsockopt_generic(struct socket *s, int name, void *val, int *len)
{
	int v = 0;
	for (size_t k = 0; k < ARRAY_SIZE(flag_opts); k++) {
		if (flag_opts[k].name == name) {
			v = !!(s->flags & flag_opts[k].flag);
			goto out_int;
		}
	}
	switch (name) {
	case SO_TYPE:
		v = s->type;
		break;
	case SO_PROTOCOL:
		v = s->protocol;
		break;
	case SO_DOMAIN:
		v = s->family;
		break;
	case SO_ERROR:
	case SO_NO_CHECK:
	case SO_BSDCOMPAT:
	case SO_ACCEPTCONN:
		v = 0;
		break;
	case SO_SNDBUF:
		v = s->sndbuf;
		break;
	case SO_RCVBUF:
		v = s->rcvbuf;
		break;
	case SO_PRIORITY:
		v = s->priority;
		break;
	case SO_MARK:
		v = s->mark;
		break;
	case SO_RCVLOWAT:
		v = s->rcvlowat;
		break;
	case SO_SNDLOWAT:
		v = 1;
		break;
	case SO_LINGER: {
		struct linger l = {!!(s->flags & SOCKF_LINGER), s->linger_secs};
		memcpy(val, &l, sizeof(l));
		*len = sizeof(l);
		return 0;
	}
	case SO_RCVTIMEO:
	case SO_SNDTIMEO:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_NEW: {
		uint64_t ns = name == SO_RCVTIMEO || name == SO_RCVTIMEO_NEW ? s->rcvtimeo_ns
									     : s->sndtimeo_ns;
		struct timeval tv = {ns / 1000000000, (ns % 1000000000) / 1000};
		memcpy(val, &tv, sizeof(tv));
		*len = sizeof(tv);
		return 0;
	}
	case SO_PEERCRED: {
		struct ucred u = {0, (uid_t)-1, (gid_t)-1};
		memcpy(val, &u, sizeof(u));
		*len = sizeof(u);
		return 0;
	}
	case SO_PEEK_OFF:
		return -EOPNOTSUPP;
	default:
		return -ENOPROTOOPT; /* SO_PEERSEC too: there is no security module */
	}
out_int:
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

SYSCALL(setsockopt)
{
	int level = a[1], name = a[2], len = a[4];
	uaddr_t uval = a[3];
	if (len < 0)
		return -EINVAL;
	struct file *f;
	struct socket *s;
	int err = sockfd(a[0], &f, &s);
	if (err)
		return err;
	char val[OPTVAL_MAX] = {0};
	int klen = MIN(len, OPTVAL_MAX);
	if (klen && copy_from_user(val, uval, klen)) {
		fput(f);
		return -EFAULT;
	}
	if (level == SOL_SOCKET) {
		err = s->ops->setsockopt ? s->ops->setsockopt(s, level, name, val, klen)
					 : -ENOPROTOOPT;
		if (err == -ENOPROTOOPT)
			err = sock_setsockopt_generic(s, name, val, klen);
	} else {
		err = s->ops->setsockopt ? s->ops->setsockopt(s, level, name, val, klen)
					 : -EOPNOTSUPP;
	}
	fput(f);
	return err;
}

SYSCALL(getsockopt)
{
	int level = a[1], name = a[2];
	uaddr_t uval = a[3], ulen = a[4];
	struct file *f;
	struct socket *s;
	int err = sockfd(a[0], &f, &s);
	if (err)
		return err;
	int len;
	if (GET_USER(len, ulen)) {
		fput(f);
		return -EFAULT;
	}
	if (len < 0) {
		fput(f);
		return -EINVAL;
	}
	char val[OPTVAL_MAX] = {0};
	int klen = MIN(len, OPTVAL_MAX);
	if (level == SOL_SOCKET) {
		err = s->ops->getsockopt ? s->ops->getsockopt(s, level, name, val, &klen)
					 : -ENOPROTOOPT;
		if (err == -ENOPROTOOPT) {
			klen = MIN(len, OPTVAL_MAX);
			err = sock_getsockopt_generic(s, name, val, &klen);
		}
	} else {
		err = s->ops->getsockopt ? s->ops->getsockopt(s, level, name, val, &klen)
					 : -EOPNOTSUPP;
	}
	if (!err) {
		/* the value, cut to the caller's room; the length written */
		klen = MIN(klen, len);
		if ((klen && copy_to_user(uval, val, klen)) || PUT_USER(klen, ulen))
			err = -EFAULT;
	} else if (err == -ERANGE && PUT_USER(klen, ulen)) {
		err = -EFAULT;
	}
	fput(f);
	return err;
}
