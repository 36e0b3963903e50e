/* Sockets. socket.c is the syscall layer: it turns socket fds into struct socket, copies
 * addresses, iovecs and control messages between the guest and the kernel, keeps the
 * SOL_SOCKET options every family shares, and dispatches to the family's proto_ops.
 * unix.c is AF_UNIX (stream, datagram and seqpacket; filesystem and abstract names;
 * SCM_RIGHTS and SCM_CREDENTIALS).
 *
 * Networking proper (AF_INET, AF_INET6, AF_NETLINK, AF_PACKET) is a later issue: until a
 * TCP/IP stack is here, socket() gives -EAFNOSUPPORT for those families. */
#ifndef NET_H
#define NET_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "../fs/vfs.h"
#include "../syscalls.h"
#include <sys/socket.h>
#include <sys/uio.h>

struct socket;
struct file;

/* A family's ioctl does not know the command (never seen by the guest). */
#ifndef ENOIOCTLCMD
#define ENOIOCTLCMD 515
#endif

/* A cursor over the data of one message: guest iovecs (sendmsg, recvmsg, ...) or one
 * kernel buffer (read and write on a socket fd, where the VFS has bounced the data). */
struct msg_iter {
	bool kernel;		 /* iov[] bases are kernel pointers */
	const struct iovec *iov; /* kernel copy of the array */
	int cnt;
	size_t off;  /* into iov[0] */
	size_t left; /* bytes still to move */
};
/* Move n bytes (at most what is left) between the message and a kernel buffer and
 * advance: 0 or -EFAULT (the cursor then stands where the fault was). */
int miter_copy_from(struct msg_iter *it, void *dst, size_t n);	   /* message -> dst */
int miter_copy_to(struct msg_iter *it, const void *src, size_t n); /* src -> message */

/* SCM_RIGHTS files and SCM_CREDENTIALS of a message. */
#define SCM_MAX_FD 253
struct scm {
	struct file **fp; /* referenced */
	int nfp;
	bool has_creds; /* a control message named creds (sending) */
	struct ucred creds;
};
/* Drop what a struct scm holds. */
void scm_destroy(struct scm *s);

/* One sendmsg or recvmsg as the family sees it. */
struct kmsg {
	/* sending: the destination (kernel copy, namelen 0 for none); receiving: room
	 * for the source (sizeof(struct sockaddr_storage)), namelen set by the family
	 * (0: no address) */
	void *name;
	int namelen;
	struct msg_iter iter;
	/* sending: control messages parsed by the socket layer */
	struct scm scm;
	/* receiving: where control messages go (guest), and how much has gone there */
	uaddr_t ucontrol;
	size_t controllen, control_used;
	int msg_flags; /* receiving: MSG_TRUNC, MSG_CTRUNC, ... for msg_flags */
	int in_flags;  /* receiving: the call's flags (MSG_CMSG_CLOEXEC) */
};
/* Append a control message for recvmsg (as Linux's put_cmsg: MSG_CTRUNC when it does not
 * fit). */
int put_cmsg(struct kmsg *m, int level, int type, const void *data, size_t len);
/* Install received SCM_RIGHTS files in current's fd table and append the control
 * message; files that do not fit are dropped (MSG_CTRUNC). Takes over s->fp. */
void scm_detach_fds(struct kmsg *m, struct scm *s);

/* What a family implements. All buffers are kernel buffers except the message data
 * (struct msg_iter) and control (put_cmsg). Errors are negative errno values;
 * -ERESTARTSYS when a signal interrupts a blocking call without a timeout. */
struct proto_ops {
	int family;
	/* The last file reference is gone: let go of everything (sock->sk). */
	void (*release)(struct socket *sock);
	int (*bind)(struct socket *sock, const void *addr, int len);
	/* nonblock: O_NONBLOCK of the socket's file */
	int (*connect)(struct socket *sock, const void *addr, int len, bool nonblock);
	int (*socketpair)(struct socket *a, struct socket *b);
	int (*listen)(struct socket *sock, int backlog);
	/* Take a connection into newsock (same family, type and ops, no sk yet). */
	int (*accept)(struct socket *sock, struct socket *newsock, bool nonblock);
	/* The socket's (or its peer's) address into addr (sizeof(struct
	 * sockaddr_storage) bytes): its length, or -ENOTCONN. */
	int (*getname)(struct socket *sock, void *addr, bool peer);
	unsigned (*poll)(struct socket *sock, struct poll_table *pt);
	/* Socket ioctls (FIONREAD/SIOCINQ, SIOCOUTQ); -ENOIOCTLCMD for others. */
	long (*ioctl)(struct socket *sock, unsigned cmd, uint64_t arg);
	int (*shutdown)(struct socket *sock, int how);
	/* Options. SOL_SOCKET options go here first; -ENOPROTOOPT lets the socket layer
	 * handle them. For other levels, NULL means -EOPNOTSUPP. getsockopt: *len is the
	 * room in val (at most 256 bytes) and becomes the length written. */
	int (*setsockopt)(struct socket *sock, int level, int name, const void *val, int len);
	int (*getsockopt)(struct socket *sock, int level, int name, void *val, int *len);
	/* flags: MSG_DONTWAIT is set for O_NONBLOCK files. Bytes moved or an error. */
	ssize_t (*sendmsg)(struct socket *sock, struct kmsg *m, size_t len, int flags);
	ssize_t (*recvmsg)(struct socket *sock, struct kmsg *m, size_t len, int flags);
};

/* A family: socket() calls create with sock's family, type (without SOCK_NONBLOCK and
 * SOCK_CLOEXEC) and protocol set; it sets ops and sk or fails (-EPROTONOSUPPORT,
 * -ESOCKTNOSUPPORT). */
struct net_proto_family {
	int family;
	int (*create)(struct socket *sock, int protocol);
};
extern const struct net_proto_family unix_family;

/* SOL_SOCKET flags kept by the socket layer (struct socket.flags). */
#define SOCKF_REUSEADDR (1u << 0)
#define SOCKF_REUSEPORT (1u << 1)
#define SOCKF_KEEPALIVE (1u << 2)
#define SOCKF_BROADCAST (1u << 3)
#define SOCKF_DONTROUTE (1u << 4)
#define SOCKF_OOBINLINE (1u << 5)
#define SOCKF_PASSCRED (1u << 6)
#define SOCKF_PASSSEC (1u << 7)
#define SOCKF_DEBUG (1u << 8)
#define SOCKF_TIMESTAMP (1u << 9)
#define SOCKF_TIMESTAMPNS (1u << 10)
#define SOCKF_LINGER (1u << 11)

/* Default and limits of SO_SNDBUF and SO_RCVBUF (net.core.{w,r}mem_{default,max}). */
#define SOCK_DEF_BUF 212992
#define SOCK_MAX_BUF 212992
#define SOCK_MIN_SNDBUF 4608
#define SOCK_MIN_RCVBUF 2304

struct socket {
	int family, type, protocol;
	const struct proto_ops *ops;
	struct file *file; /* the open file (not referenced: it owns the socket) */
	void *sk;	   /* the family's state */
	/* SOL_SOCKET options */
	unsigned flags; /* SOCKF_* */
	int sndbuf, rcvbuf, rcvlowat;
	uint64_t rcvtimeo_ns, sndtimeo_ns; /* 0: block for good */
	int linger_secs, priority, mark;
};

/* The socket of an open file, or NULL. */
struct socket *sock_from_file(struct file *f);
/* Deadlines (CLOCK_MONOTONIC ns, 0 = none) for a blocking receive or send now. */
uint64_t sock_rcv_deadline(const struct socket *s);
uint64_t sock_snd_deadline(const struct socket *s);
/* Sleep on wq for a socket call: 0 when woken; at the deadline -EAGAIN; for a signal
 * -ERESTARTSYS without a deadline, -EINTR with one (as Linux's sock_intr_errno). */
int sock_wait(struct waitq *wq, uint64_t deadline);
/* Credentials of the current process as SO_PEERCRED gives them (tgid, euid, egid), and
 * as SCM_CREDENTIALS sends them (tgid, uid, gid). */
struct ucred cur_ucred_peer(void);
struct ucred cur_ucred_scm(void);

/* Every syscall handler of the socket layer, for the syscall table. */
#define NET_SYSCALLS(X)                                                                            \
	X(socket)                                                                                  \
	X(socketpair) X(bind) X(listen) X(accept) X(accept4) X(connect) X(getsockname)             \
	    X(getpeername) X(sendto) X(recvfrom) X(sendmsg) X(recvmsg) X(sendmmsg) X(recvmmsg)     \
		X(shutdown) X(setsockopt) X(getsockopt)

#define NET_SYSCALL_DECL(n) SYSCALL(n);
NET_SYSCALLS(NET_SYSCALL_DECL)
#undef NET_SYSCALL_DECL

#endif
