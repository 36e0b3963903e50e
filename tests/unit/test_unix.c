/* AF_UNIX sockets and the socket syscall layer on memfs: socket() errors, socketpairs of
 * each type, names in the filesystem and the abstract name space, listen/connect/accept,
 * datagrams by address, shutdown and close, poll, SCM_RIGHTS and SCM_CREDENTIALS,
 * socket options, sendmmsg/recvmmsg. Guest addresses are host pointers and a blocking
 * sleep reports a signal at once (fake_kernel.c), so "would block" shows up as
 * -EAGAIN (non-blocking) or -ERESTARTSYS (blocking). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_vfs_memfs.h"
#include "../../src/kernel/net/net.h"
#include <linux/sockios.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/un.h>

static struct process proc;
static struct task task;

static int setup(void **state)
{
	memfs_world_setup(&proc, &task);
	proc.pid = 42;
	return 0;
}

static int teardown(void **state)
{
	memfs_world_teardown(&task);
	return 0;
}

static void pair(int type, int sv[2])
{
	assert_int_equal(SC(socketpair, AF_UNIX, type, 0, U(sv)), 0);
}

static socklen_t mkaddr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

/* An abstract name: "\0" + name, without a trailing NUL. */
static socklen_t mkabstract(struct sockaddr_un *sun, const char *name)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path + 1, name, strlen(name));
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static int xsocket(int type)
{
	int fd = SC(socket, AF_UNIX, type, 0);
	assert_true(fd >= 0);
	return fd;
}

static unsigned revents(int fd, short events)
{
	struct pollfd p = {fd, events, 0};
	SC(poll, U(&p), 1, 0);
	return (unsigned short)p.revents;
}

static int getint_opt(int fd, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	assert_int_equal(SC(getsockopt, fd, SOL_SOCKET, name, U(&v), U(&len)), 0);
	assert_int_equal(len, sizeof(v));
	return v;
}

/* --- socket() ----------------------------------------------------------------------- */

static void test_socket_errors_and_fstat(void **state)
{
	assert_int_equal(SC(socket, AF_INET, SOCK_STREAM, 0), -EAFNOSUPPORT);
	assert_int_equal(SC(socket, AF_INET6, SOCK_DGRAM, 0), -EAFNOSUPPORT);
	assert_int_equal(SC(socket, AF_NETLINK, SOCK_RAW, 0), -EAFNOSUPPORT);
	assert_int_equal(SC(socket, AF_PACKET, SOCK_RAW, 0), -EAFNOSUPPORT);
	assert_int_equal(SC(socket, 1000, SOCK_STREAM, 0), -EAFNOSUPPORT);
	assert_int_equal(SC(socket, AF_UNIX, 12, 0), -EINVAL);
	assert_int_equal(SC(socket, AF_UNIX, SOCK_STREAM | 0x100, 0), -EINVAL);
	assert_int_equal(SC(socket, AF_UNIX, SOCK_STREAM, 7), -EPROTONOSUPPORT);
	assert_int_equal(SC(socket, AF_UNIX, SOCK_RDM, 0), -ESOCKTNOSUPPORT);
	int sv[2];
	assert_int_equal(SC(socketpair, AF_INET, SOCK_STREAM, 0, U(sv)), -EAFNOSUPPORT);

	int fd = SC(socket, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, PF_UNIX);
	assert_true(fd >= 0);
	assert_true(fd_get_cloexec(fd));
	assert_int_equal(SC(fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK);
	struct stat st;
	assert_int_equal(SC(fstat, fd, U(&st)), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0777);
	assert_int_equal(getint_opt(fd, SO_TYPE), SOCK_STREAM);
	assert_int_equal(getint_opt(fd, SO_DOMAIN), AF_UNIX);
	assert_int_equal(getint_opt(fd, SO_PROTOCOL), PF_UNIX);
	assert_int_equal(getint_opt(fd, SO_ERROR), 0);
	assert_int_equal(getint_opt(fd, SO_ACCEPTCONN), 0);
	assert_int_equal(SC(lseek, fd, 0, SEEK_CUR), -ESPIPE);
	/* a fresh stream socket is writable and hung up, as in Linux */
	assert_int_equal(revents(fd, POLLIN | POLLOUT), POLLOUT | POLLHUP);
	char c;
	assert_int_equal(SC(read, fd, U(&c), 1), -EINVAL);
	assert_int_equal(SC(write, fd, U("x"), 1), -ENOTCONN);
	assert_int_equal(SC(getpeername, fd, U(&st), U(&(socklen_t){sizeof(st)})), -ENOTCONN);
	SC(close, fd);

	/* SOCK_RAW is a datagram socket */
	fd = SC(socket, AF_UNIX, SOCK_RAW, 0);
	assert_true(fd >= 0);
	assert_int_equal(getint_opt(fd, SO_TYPE), SOCK_DGRAM);
	SC(close, fd);

	/* socket calls on what is not a socket */
	int pfd[2];
	assert_int_equal(SC(pipe, U(pfd)), 0);
	assert_int_equal(SC(listen, pfd[0], 1), -ENOTSOCK);
	assert_int_equal(SC(shutdown, 99, SHUT_RD), -EBADF);
	SC(close, pfd[0]);
	SC(close, pfd[1]);
}

/* --- socketpairs -------------------------------------------------------------------- */

static void test_stream_pair(void **state)
{
	int sv[2];
	pair(SOCK_STREAM, sv);
	assert_int_equal(SC(write, sv[0], U("hello "), 6), 6);
	assert_int_equal(SC(sendto, sv[0], U("world"), 5, 0, 0, 0), 5);
	int n = 0;
	assert_int_equal(SC(ioctl, sv[1], FIONREAD, U(&n)), 0);
	assert_int_equal(n, 11);
	assert_int_equal(SC(ioctl, sv[0], SIOCOUTQ, U(&n)), 0);
	assert_int_equal(n, 11);
	assert_int_equal(revents(sv[1], POLLIN | POLLOUT), POLLIN | POLLOUT);
	char buf[32] = {0};
	/* a stream has no boundaries; peek leaves the data */
	assert_int_equal(SC(recvfrom, sv[1], U(buf), 8, MSG_PEEK, 0, 0), 8);
	assert_memory_equal(buf, "hello wo", 8);
	assert_int_equal(SC(read, sv[1], U(buf), sizeof(buf)), 11);
	assert_memory_equal(buf, "hello world", 11);
	assert_int_equal(SC(ioctl, sv[0], SIOCOUTQ, U(&n)), 0);
	assert_int_equal(n, 0);
	/* empty: non-blocking -EAGAIN, blocking sleeps (the fake sleep is a signal) */
	assert_int_equal(SC(recvfrom, sv[1], U(buf), 4, MSG_DONTWAIT, 0, 0), -EAGAIN);
	int before = fake_sleeps;
	assert_int_equal(SC(read, sv[1], U(buf), 4), -ERESTARTSYS);
	assert_int_equal(fake_sleeps, before + 1);
	assert_int_equal(revents(sv[1], POLLIN), 0);

	/* peer credentials: both ends were made by this process */
	struct ucred cr;
	socklen_t len = sizeof(cr);
	assert_int_equal(SC(getsockopt, sv[0], SOL_SOCKET, SO_PEERCRED, U(&cr), U(&len)), 0);
	assert_int_equal(len, sizeof(cr));
	assert_int_equal(cr.pid, 42);
	assert_int_equal(cr.uid, 0);

	/* unbound socketpair ends have family-only names */
	struct sockaddr_un sun;
	len = sizeof(sun);
	assert_int_equal(SC(getsockname, sv[0], U(&sun), U(&len)), 0);
	assert_int_equal(len, sizeof(sa_family_t));
	assert_int_equal(sun.sun_family, AF_UNIX);
	len = sizeof(sun);
	assert_int_equal(SC(getpeername, sv[0], U(&sun), U(&len)), 0);
	assert_int_equal(len, sizeof(sa_family_t));

	/* addresses on a connected stream */
	assert_int_equal(SC(sendto, sv[0], U("x"), 1, 0, U(&sun), sizeof(sun)), -EISCONN);
	assert_int_equal(SC(recvfrom, sv[1], U(buf), 1, MSG_OOB, 0, 0), -EOPNOTSUPP);

	/* MSG_WAITALL waits for all of it; a partial read then sleeps */
	assert_int_equal(SC(write, sv[0], U("abc"), 3), 3);
	assert_int_equal(SC(recvfrom, sv[1], U(buf), 5, MSG_WAITALL, 0, 0), 3);
	SC(close, sv[0]);
	SC(close, sv[1]);
}

static void test_stream_shutdown_and_close(void **state)
{
	int sv[2];
	char buf[16];
	pair(SOCK_STREAM, sv);
	assert_int_equal(SC(shutdown, sv[0], 7), -EINVAL);
	assert_int_equal(SC(write, sv[0], U("bye"), 3), 3);
	assert_int_equal(SC(shutdown, sv[0], SHUT_WR), 0);
	/* the reader gets the data, then end of file, and sees the half close */
	assert_int_equal(revents(sv[1], POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
	assert_int_equal(SC(read, sv[1], U(buf), sizeof(buf)), 3);
	assert_int_equal(SC(read, sv[1], U(buf), sizeof(buf)), 0);
	/* writing after SHUT_WR: EPIPE and SIGPIPE, but not with MSG_NOSIGNAL */
	assert_int_equal(SC(write, sv[0], U("x"), 1), -EPIPE);
	assert_int_equal(fake_sigpipes, 1);
	assert_int_equal(SC(sendto, sv[0], U("x"), 1, MSG_NOSIGNAL, 0, 0), -EPIPE);
	assert_int_equal(fake_sigpipes, 1);
	/* the other direction still works */
	assert_int_equal(SC(write, sv[1], U("ok"), 2), 2);
	assert_int_equal(SC(read, sv[0], U(buf), sizeof(buf)), 2);
	SC(close, sv[0]);
	/* the peer is gone: hang up, end of file, EPIPE */
	assert_int_equal(revents(sv[1], POLLIN | POLLOUT) & (POLLHUP | POLLIN), POLLHUP | POLLIN);
	assert_int_equal(SC(read, sv[1], U(buf), sizeof(buf)), 0);
	assert_int_equal(SC(write, sv[1], U("x"), 1), -EPIPE);
	assert_int_equal(fake_sigpipes, 2);
	SC(close, sv[1]);

	/* closing with unread data resets the peer */
	pair(SOCK_STREAM, sv);
	assert_int_equal(SC(write, sv[1], U("unread"), 6), 6);
	SC(close, sv[0]);
	assert_true(revents(sv[1], POLLIN) & POLLERR);
	assert_int_equal(SC(read, sv[1], U(buf), sizeof(buf)), -ECONNRESET);
	assert_int_equal(SC(read, sv[1], U(buf), sizeof(buf)), 0);
	SC(close, sv[1]);
}

static void test_stream_send_buffer(void **state)
{
	int sv[2];
	pair(SOCK_STREAM, sv);
	int small = 4096;
	assert_int_equal(SC(setsockopt, sv[0], SOL_SOCKET, SO_SNDBUF, U(&small), sizeof(small)), 0);
	assert_int_equal(getint_opt(sv[0], SO_SNDBUF), 8192); /* doubled */
	static char big[100000];
	memset(big, 'z', sizeof(big));
	long total = 0, r;
	while ((r = SC(sendto, sv[0], U(big), sizeof(big), MSG_DONTWAIT, 0, 0)) > 0)
		total += r;
	assert_int_equal(r, -EAGAIN);
	assert_true(total >= 4000 && total < 20000);
	assert_false(revents(sv[0], POLLOUT) & POLLOUT);
	/* a blocking write takes nothing more and sleeps */
	assert_int_equal(SC(write, sv[0], U(big), 10), -ERESTARTSYS);
	static char sink[100000];
	long got = 0;
	while ((r = SC(recvfrom, sv[1], U(sink), sizeof(sink), MSG_DONTWAIT, 0, 0)) > 0)
		got += r;
	assert_int_equal(got, total);
	assert_true(revents(sv[0], POLLOUT) & POLLOUT);
	SC(close, sv[0]);
	SC(close, sv[1]);
}

static void test_dgram_and_seqpacket_pairs(void **state)
{
	int sv[2];
	char buf[16];
	pair(SOCK_DGRAM, sv);
	assert_int_equal(SC(write, sv[0], U("one"), 3), 3);
	assert_int_equal(SC(write, sv[0], U("three"), 5), 5);
	assert_int_equal(SC(sendto, sv[0], U(""), 0, 0, 0, 0), 0); /* an empty datagram */
	int n;
	assert_int_equal(SC(ioctl, sv[1], SIOCINQ, U(&n)), 0);
	assert_int_equal(n, 3); /* the first datagram */
	assert_int_equal(SC(read, sv[1], U(buf), sizeof(buf)), 3);
	/* a short buffer truncates; MSG_TRUNC returns the real length */
	struct iovec iov = {buf, 2};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	assert_int_equal(SC(recvmsg, sv[1], U(&mh), MSG_TRUNC), 5);
	assert_true(mh.msg_flags & MSG_TRUNC);
	assert_memory_equal(buf, "th", 2);
	assert_int_equal(SC(recvfrom, sv[1], U(buf), sizeof(buf), MSG_DONTWAIT, 0, 0), 0);
	assert_int_equal(SC(recvfrom, sv[1], U(buf), sizeof(buf), MSG_DONTWAIT, 0, 0), -EAGAIN);
	/* too big for the send buffer */
	static char huge[300000];
	assert_int_equal(SC(write, sv[0], U(huge), sizeof(huge)), -EMSGSIZE);
	assert_int_equal(SC(listen, sv[0], 1), -EOPNOTSUPP);
	assert_int_equal(SC(accept, sv[0], 0, 0), -EOPNOTSUPP);
	SC(close, sv[0]);
	/* a dead datagram peer refuses */
	assert_int_equal(SC(write, sv[1], U("x"), 1), -ECONNREFUSED);
	assert_int_equal(SC(write, sv[1], U("x"), 1), -ENOTCONN);
	SC(close, sv[1]);

	pair(SOCK_SEQPACKET, sv);
	assert_int_equal(SC(write, sv[0], U("rec1"), 4), 4);
	assert_int_equal(SC(write, sv[0], U("record2"), 7), 7);
	assert_int_equal(SC(read, sv[1], U(buf), sizeof(buf)), 4);
	assert_int_equal(SC(read, sv[1], U(buf), 3), 3); /* the rest is discarded */
	assert_int_equal(SC(recvfrom, sv[1], U(buf), sizeof(buf), MSG_DONTWAIT, 0, 0), -EAGAIN);
	SC(close, sv[0]);
	assert_true(revents(sv[1], POLLIN) & POLLHUP);
	assert_int_equal(SC(read, sv[1], U(buf), sizeof(buf)), 0);
	/* EPIPE without SIGPIPE, as Linux does for seqpacket */
	assert_int_equal(SC(write, sv[1], U("x"), 1), -EPIPE);
	assert_int_equal(fake_sigpipes, 0);
	SC(close, sv[1]);
}

/* --- names, listen, connect, accept ------------------------------------------------- */

static void test_bind_connect_accept_path(void **state)
{
	struct sockaddr_un sun, got;
	socklen_t alen = mkaddr(&sun, "/srv.sock"), len;
	int srv = xsocket(SOCK_STREAM);
	assert_int_equal(SC(listen, srv, 5), -EINVAL); /* not bound */
	assert_int_equal(SC(bind, srv, U(&sun), alen), 0);
	struct stat st;
	assert_int_equal(SC(stat, U("/srv.sock"), U(&st)), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);		 /* 0777 less the umask */
	assert_int_equal(SC(bind, srv, U(&sun), alen), -EINVAL); /* bound already */
	len = sizeof(got);
	assert_int_equal(SC(getsockname, srv, U(&got), U(&len)), 0);
	assert_int_equal(len, alen);
	assert_string_equal(got.sun_path, "/srv.sock");

	/* the name is taken, even for another socket type */
	int other = xsocket(SOCK_DGRAM);
	assert_int_equal(SC(bind, other, U(&sun), alen), -EADDRINUSE);

	int cl = xsocket(SOCK_STREAM);
	assert_int_equal(SC(connect, cl, U(&sun), alen), -ECONNREFUSED); /* not listening */
	struct sockaddr_un missing;
	socklen_t mlen = mkaddr(&missing, "/nope.sock");
	assert_int_equal(SC(connect, cl, U(&missing), mlen), -ENOENT);
	int ffd = SC(open, U("/plain"), O_CREAT | O_WRONLY, 0644);
	SC(close, ffd);
	mlen = mkaddr(&missing, "/plain");
	assert_int_equal(SC(connect, cl, U(&missing), mlen), -ECONNREFUSED);
	assert_int_equal(SC(connect, cl, U(&sun), 1), -EINVAL);
	/* another type bound there, listening or not */
	assert_int_equal(SC(connect, other, U(&sun), alen), -EPROTOTYPE);

	assert_int_equal(SC(listen, srv, 0), 0);
	assert_int_equal(getint_opt(srv, SO_ACCEPTCONN), 1);
	assert_int_equal(SC(connect, other, U(&sun), alen), -EPROTOTYPE);
	assert_int_equal(SC(accept4, srv, 0, 0, SOCK_NONBLOCK), -ERESTARTSYS); /* sleeps */
	assert_int_equal(SC(fcntl, srv, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(SC(accept, srv, 0, 0), -EAGAIN);
	assert_int_equal(SC(accept4, srv, 0, 0, 0x8000000), -EINVAL);

	assert_int_equal(revents(srv, POLLIN), 0);
	assert_int_equal(SC(connect, cl, U(&sun), alen), 0);
	assert_int_equal(revents(srv, POLLIN | POLLOUT), POLLIN);
	/* a backlog of 0 still takes one connection; the next waits (or -EAGAIN) */
	int cl2 = SC(socket, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(SC(connect, cl2, U(&sun), alen), -EAGAIN);
	assert_int_equal(SC(write, cl, U("early"), 5), 5); /* before accept */

	len = sizeof(got);
	memset(&got, 0xff, sizeof(got));
	int conn = SC(accept4, srv, U(&got), U(&len), SOCK_CLOEXEC);
	assert_true(conn >= 0);
	assert_true(fd_get_cloexec(conn));
	assert_int_equal(SC(connect, cl, U(&sun), alen), -EISCONN);
	assert_int_equal(len, sizeof(sa_family_t)); /* the client is unbound */
	assert_int_equal(got.sun_family, AF_UNIX);
	assert_int_equal(SC(fcntl, conn, F_GETFL) & O_NONBLOCK, 0);
	/* the accepted socket has the listener's name; the client's peer too */
	len = sizeof(got);
	assert_int_equal(SC(getsockname, conn, U(&got), U(&len)), 0);
	assert_string_equal(got.sun_path, "/srv.sock");
	len = sizeof(got);
	assert_int_equal(SC(getpeername, cl, U(&got), U(&len)), 0);
	assert_int_equal(len, alen);
	assert_string_equal(got.sun_path, "/srv.sock");
	/* a short room cuts the name but reports its full length */
	len = 4;
	memset(&got, 0, sizeof(got));
	assert_int_equal(SC(getpeername, cl, U(&got), U(&len)), 0);
	assert_int_equal(len, alen);
	assert_int_equal(got.sun_path[2], 0);
	assert_memory_equal(got.sun_path, "/s", 2);

	char buf[16] = {0};
	assert_int_equal(SC(read, conn, U(buf), sizeof(buf)), 5);
	assert_memory_equal(buf, "early", 5);
	assert_int_equal(SC(write, conn, U("reply"), 5), 5);
	assert_int_equal(SC(read, cl, U(buf), sizeof(buf)), 5);
	assert_memory_equal(buf, "reply", 5);
	struct ucred cr;
	len = sizeof(cr);
	assert_int_equal(SC(getsockopt, conn, SOL_SOCKET, SO_PEERCRED, U(&cr), U(&len)), 0);
	assert_int_equal(cr.pid, 42);

	/* now there is room for cl2 */
	assert_int_equal(SC(connect, cl2, U(&sun), alen), 0);
	/* closing the listener resets connections nobody accepted */
	SC(close, srv);
	assert_int_equal(SC(read, cl2, U(buf), sizeof(buf)), -ECONNRESET);
	assert_int_equal(SC(read, cl2, U(buf), sizeof(buf)), 0);
	/* the node stays; nobody listens there any more */
	assert_int_equal(SC(connect, other, U(&sun), alen), -ECONNREFUSED);
	assert_int_equal(SC(unlink, U("/srv.sock")), 0);
	/* accepted connections live on */
	assert_int_equal(SC(write, cl, U("still"), 5), 5);
	assert_int_equal(SC(read, conn, U(buf), sizeof(buf)), 5);
	SC(close, conn);
	SC(close, cl);
	SC(close, cl2);
	SC(close, other);
}

static void test_abstract_and_autobind(void **state)
{
	struct sockaddr_un sun, got;
	socklen_t alen = mkabstract(&sun, "lab"), len;
	int srv = xsocket(SOCK_SEQPACKET);
	assert_int_equal(SC(bind, srv, U(&sun), alen), 0);
	int dup = xsocket(SOCK_SEQPACKET);
	assert_int_equal(SC(bind, dup, U(&sun), alen), -EADDRINUSE);
	len = sizeof(got);
	assert_int_equal(SC(getsockname, srv, U(&got), U(&len)), 0);
	assert_int_equal(len, alen);
	assert_memory_equal(got.sun_path, "\0lab", 4);
	assert_int_equal(SC(listen, srv, 4), 0);
	/* abstract names are per type */
	int st = xsocket(SOCK_STREAM);
	assert_int_equal(SC(connect, st, U(&sun), alen), -ECONNREFUSED);
	assert_int_equal(SC(connect, dup, U(&sun), alen), 0);
	int conn = SC(accept, srv, 0, 0);
	assert_true(conn >= 0);
	assert_int_equal(SC(write, dup, U("pkt"), 3), 3);
	char buf[8];
	assert_int_equal(SC(read, conn, U(buf), 8), 3);
	/* a name of one more byte is another name */
	socklen_t longer = alen + 1;
	assert_int_equal(SC(connect, st, U(&sun), longer), -ECONNREFUSED);

	/* autobind: a 5-hex-digit abstract name */
	assert_int_equal(SC(bind, st, U(&sun), sizeof(sa_family_t)), 0);
	len = sizeof(got);
	assert_int_equal(SC(getsockname, st, U(&got), U(&len)), 0);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 6);
	assert_int_equal(got.sun_path[0], 0);
	for (int k = 1; k <= 5; k++)
		assert_non_null(strchr("0123456789abcdef", got.sun_path[k]));
	assert_int_equal(SC(bind, st, U(&sun), sizeof(sa_family_t)), 0); /* already bound: fine */
	SC(close, conn);
	SC(close, srv);
	SC(close, dup);
	SC(close, st);
	/* the name is free again */
	srv = xsocket(SOCK_SEQPACKET);
	assert_int_equal(SC(bind, srv, U(&sun), alen), 0);
	SC(close, srv);
}

static void test_dgram_addresses(void **state)
{
	struct sockaddr_un ssun, csun, got;
	socklen_t slen = mkaddr(&ssun, "/log.sock"), clen = mkaddr(&csun, "/client.sock"), len;
	int srv = xsocket(SOCK_DGRAM), cl = xsocket(SOCK_DGRAM), anon = xsocket(SOCK_DGRAM);
	assert_int_equal(SC(bind, srv, U(&ssun), slen), 0);
	assert_int_equal(SC(write, cl, U("x"), 1), -ENOTCONN);
	/* from an unbound socket: no source address */
	assert_int_equal(SC(sendto, anon, U("anon"), 4, 0, U(&ssun), slen), 4);
	char buf[16];
	len = sizeof(got);
	assert_int_equal(SC(recvfrom, srv, U(buf), sizeof(buf), 0, U(&got), U(&len)), 4);
	assert_int_equal(len, 0);
	/* from a bound one: its name */
	assert_int_equal(SC(bind, cl, U(&csun), clen), 0);
	assert_int_equal(SC(sendto, cl, U("named"), 5, 0, U(&ssun), slen), 5);
	len = sizeof(got);
	assert_int_equal(SC(recvfrom, srv, U(buf), sizeof(buf), 0, U(&got), U(&len)), 5);
	assert_int_equal(len, clen);
	assert_string_equal(got.sun_path, "/client.sock");
	/* reply by address */
	assert_int_equal(SC(sendto, srv, U("back"), 4, 0, U(&got), len), 4);
	assert_int_equal(SC(read, cl, U(buf), sizeof(buf)), 4);

	/* a socket connected elsewhere takes nothing from strangers */
	assert_int_equal(SC(connect, srv, U(&csun), clen), 0);
	assert_int_equal(SC(sendto, anon, U("no"), 2, 0, U(&ssun), slen), -EPERM);
	assert_int_equal(SC(sendto, cl, U("yes"), 3, 0, U(&ssun), slen), 3);
	assert_int_equal(SC(read, srv, U(buf), sizeof(buf)), 3);
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	assert_int_equal(SC(connect, srv, U(&unspec), sizeof(unspec)), 0);
	assert_int_equal(SC(sendto, anon, U("ok"), 2, 0, U(&ssun), slen), 2);
	assert_int_equal(SC(read, srv, U(buf), sizeof(buf)), 2);

	/* the receive queue of a socket that is not connected back is limited */
	int k;
	for (k = 0; k < 100; k++)
		if (SC(sendto, anon, U("q"), 1, MSG_DONTWAIT, U(&ssun), slen) != 1)
			break;
	assert_int_equal(k, 11);
	assert_int_equal(SC(sendto, anon, U("q"), 1, MSG_DONTWAIT, U(&ssun), slen), -EAGAIN);
	assert_int_equal(SC(sendto, anon, U("q"), 1, 0, U(&ssun), slen), -ERESTARTSYS);
	assert_int_equal(SC(connect, anon, U(&ssun), slen), 0);
	assert_false(revents(anon, POLLOUT) & POLLOUT);
	assert_int_equal(SC(read, srv, U(buf), sizeof(buf)), 1);
	assert_int_equal(SC(read, srv, U(buf), sizeof(buf)), 1);
	assert_true(revents(anon, POLLOUT) & POLLOUT);

	/* sending to a path nobody is bound to */
	SC(close, srv);
	assert_int_equal(SC(sendto, cl, U("x"), 1, 0, U(&ssun), slen), -ECONNREFUSED);
	assert_int_equal(SC(write, anon, U("x"), 1), -ECONNREFUSED);
	SC(close, cl);
	SC(close, anon);
}

/* --- control messages --------------------------------------------------------------- */

static void test_scm_rights(void **state)
{
	int sv[2], pfd[2];
	pair(SOCK_STREAM, sv);
	assert_int_equal(SC(pipe, U(pfd)), 0);
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {"F", 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = CMSG_SPACE(2 * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(c), (int[]){pfd[0], pfd[1]}, 2 * sizeof(int));
	assert_int_equal(SC(sendmsg, sv[0], U(&mh), 0), 1);
	/* a bad descriptor */
	memcpy(CMSG_DATA(c), (int[]){pfd[0], 63}, 2 * sizeof(int));
	assert_int_equal(SC(sendmsg, sv[0], U(&mh), 0), -EBADF);
	/* a malformed header */
	c->cmsg_len = 3;
	assert_int_equal(SC(sendmsg, sv[0], U(&mh), 0), -EINVAL);
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	c->cmsg_type = 77;
	assert_int_equal(SC(sendmsg, sv[0], U(&mh), 0), -EINVAL);
	c->cmsg_type = SCM_RIGHTS;

	/* data without descriptors after it is not glued to the message that has them */
	assert_int_equal(SC(write, sv[0], U("G"), 1), 1);
	char data[8];
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} rctl;
	struct iovec riov = {data, sizeof(data)};
	struct msghdr rm = {.msg_iov = &riov,
			    .msg_iovlen = 1,
			    .msg_control = rctl.buf,
			    .msg_controllen = sizeof(rctl.buf)};
	assert_int_equal(SC(recvmsg, sv[1], U(&rm), MSG_CMSG_CLOEXEC), 1);
	assert_int_equal(data[0], 'F');
	assert_int_equal(rm.msg_flags & MSG_CTRUNC, 0);
	assert_int_equal(rm.msg_controllen, CMSG_SPACE(2 * sizeof(int)));
	struct cmsghdr *rc = CMSG_FIRSTHDR(&rm);
	assert_non_null(rc);
	assert_int_equal(rc->cmsg_level, SOL_SOCKET);
	assert_int_equal(rc->cmsg_type, SCM_RIGHTS);
	assert_int_equal(rc->cmsg_len, CMSG_LEN(2 * sizeof(int)));
	int nfd[2];
	memcpy(nfd, CMSG_DATA(rc), sizeof(nfd));
	assert_true(nfd[0] > pfd[1] && nfd[1] > pfd[1]);
	assert_true(fd_get_cloexec(nfd[0]));
	/* the received write end feeds the original read end */
	assert_int_equal(SC(write, nfd[1], U("via"), 3), 3);
	assert_int_equal(SC(read, pfd[0], U(data), sizeof(data)), 3);
	assert_memory_equal(data, "via", 3);
	assert_int_equal(SC(read, sv[1], U(data), sizeof(data)), 1);
	assert_int_equal(data[0], 'G');
	SC(close, nfd[0]);
	SC(close, nfd[1]);

	/* too little control room: the descriptors are dropped, MSG_CTRUNC */
	memcpy(CMSG_DATA(c), (int[]){pfd[0], pfd[1]}, 2 * sizeof(int));
	assert_int_equal(SC(sendmsg, sv[0], U(&mh), 0), 1);
	rm.msg_controllen = CMSG_LEN(sizeof(int));
	rm.msg_flags = 0;
	assert_int_equal(SC(recvmsg, sv[1], U(&rm), 0), 1);
	assert_true(rm.msg_flags & MSG_CTRUNC);
	assert_int_equal(rm.msg_controllen, CMSG_LEN(sizeof(int)));
	memcpy(nfd, CMSG_DATA(CMSG_FIRSTHDR(&rm)), sizeof(int));
	assert_false(fd_get_cloexec(nfd[0]));
	SC(close, nfd[0]);
	/* only one was installed: the next free fd is the one it got */
	int probe = SC(dup, 0);
	assert_int_equal(probe, nfd[0]);
	SC(close, probe);

	/* over a datagram pair, with peek */
	SC(close, sv[0]);
	SC(close, sv[1]);
	pair(SOCK_DGRAM, sv);
	assert_int_equal(SC(sendmsg, sv[0], U(&mh), 0), 1);
	rm.msg_controllen = sizeof(rctl.buf);
	assert_int_equal(SC(recvmsg, sv[1], U(&rm), MSG_PEEK), 1);
	memcpy(nfd, CMSG_DATA(CMSG_FIRSTHDR(&rm)), sizeof(nfd));
	SC(close, nfd[0]);
	SC(close, nfd[1]);
	rm.msg_controllen = sizeof(rctl.buf);
	assert_int_equal(SC(recvmsg, sv[1], U(&rm), 0), 1);
	assert_int_equal(rm.msg_controllen, CMSG_SPACE(2 * sizeof(int)));
	memcpy(nfd, CMSG_DATA(CMSG_FIRSTHDR(&rm)), sizeof(nfd));
	SC(close, nfd[0]);
	SC(close, nfd[1]);
	/* descriptors in flight go when the receiver closes */
	assert_int_equal(SC(sendmsg, sv[0], U(&mh), 0), 1);
	SC(close, sv[1]);
	SC(close, pfd[0]);
	SC(close, pfd[1]);
	SC(close, sv[0]);
}

static void test_scm_credentials(void **state)
{
	int sv[2];
	pair(SOCK_DGRAM, sv);
	int one = 1;
	assert_int_equal(SC(setsockopt, sv[1], SOL_SOCKET, SO_PASSCRED, U(&one), sizeof(one)), 0);
	assert_int_equal(getint_opt(sv[1], SO_PASSCRED), 1);
	proc.cred.uid = proc.cred.euid = proc.cred.suid = 1000;
	proc.cred.gid = proc.cred.egid = proc.cred.sgid = 100;
	assert_int_equal(SC(write, sv[0], U("c"), 1), 1);
	char data[4];
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {data, sizeof(data)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.buf,
			   .msg_controllen = sizeof(ctl.buf)};
	assert_int_equal(SC(recvmsg, sv[1], U(&m), 0), 1);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, SCM_CREDENTIALS);
	struct ucred cr;
	memcpy(&cr, CMSG_DATA(c), sizeof(cr));
	assert_int_equal(cr.pid, 42);
	assert_int_equal(cr.uid, 1000);
	assert_int_equal(cr.gid, 100);

	/* a process may only send credentials it has */
	struct msghdr s = {.msg_iov = &(struct iovec){"d", 1},
			   .msg_iovlen = 1,
			   .msg_control = ctl.buf,
			   .msg_controllen = sizeof(ctl.buf)};
	c = CMSG_FIRSTHDR(&s);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(cr));
	cr = (struct ucred){1, 1000, 100};
	memcpy(CMSG_DATA(c), &cr, sizeof(cr));
	assert_int_equal(SC(sendmsg, sv[0], U(&s), 0), -EPERM);
	cr = (struct ucred){42, 0, 100};
	memcpy(CMSG_DATA(c), &cr, sizeof(cr));
	assert_int_equal(SC(sendmsg, sv[0], U(&s), 0), -EPERM);
	cr = (struct ucred){42, 1000, 100};
	memcpy(CMSG_DATA(c), &cr, sizeof(cr));
	assert_int_equal(SC(sendmsg, sv[0], U(&s), 0), 1);
	proc.cred = (struct creds){0};
	/* root may claim any */
	cr = (struct ucred){7, 7, 7};
	memcpy(CMSG_DATA(c), &cr, sizeof(cr));
	assert_int_equal(SC(sendmsg, sv[0], U(&s), 0), 1);
	m.msg_controllen = sizeof(ctl.buf);
	assert_int_equal(SC(recvmsg, sv[1], U(&m), 0), 1);
	memcpy(&cr, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(cr));
	assert_int_equal(cr.uid, 1000);
	m.msg_controllen = sizeof(ctl.buf);
	assert_int_equal(SC(recvmsg, sv[1], U(&m), 0), 1);
	memcpy(&cr, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(cr));
	assert_int_equal(cr.pid, 7);
	SC(close, sv[0]);
	SC(close, sv[1]);

	/* SO_PASSCRED autobinds on connect */
	struct sockaddr_un sun, got;
	socklen_t alen = mkabstract(&sun, "cred"), len = sizeof(got);
	int srv = xsocket(SOCK_STREAM), cl = xsocket(SOCK_STREAM);
	assert_int_equal(SC(bind, srv, U(&sun), alen), 0);
	assert_int_equal(SC(listen, srv, 1), 0);
	assert_int_equal(SC(setsockopt, cl, SOL_SOCKET, SO_PASSCRED, U(&one), sizeof(one)), 0);
	assert_int_equal(SC(connect, cl, U(&sun), alen), 0);
	assert_int_equal(SC(getsockname, cl, U(&got), U(&len)), 0);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 6);
	SC(close, cl);
	SC(close, srv);
}

/* --- options and batches ------------------------------------------------------------ */

static void test_options(void **state)
{
	int fd = xsocket(SOCK_STREAM);
	int v = 1000;
	assert_int_equal(SC(setsockopt, fd, SOL_SOCKET, SO_RCVBUF, U(&v), sizeof(v)), 0);
	assert_int_equal(getint_opt(fd, SO_RCVBUF), 2304); /* doubled, at least the minimum */
	v = 100000;
	assert_int_equal(SC(setsockopt, fd, SOL_SOCKET, SO_SNDBUF, U(&v), sizeof(v)), 0);
	assert_int_equal(getint_opt(fd, SO_SNDBUF), 200000);
	v = 1;
	assert_int_equal(SC(setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, U(&v), sizeof(v)), 0);
	assert_int_equal(getint_opt(fd, SO_REUSEADDR), 1);
	assert_int_equal(SC(setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, U(&v), 2), -EINVAL);
	assert_int_equal(SC(setsockopt, fd, SOL_SOCKET, SO_TYPE, U(&v), sizeof(v)), -ENOPROTOOPT);
	assert_int_equal(SC(setsockopt, fd, SOL_SOCKET, 9999, U(&v), sizeof(v)), -ENOPROTOOPT);
	assert_int_equal(SC(setsockopt, fd, IPPROTO_TCP, 1, U(&v), sizeof(v)), -EOPNOTSUPP);
	socklen_t len = sizeof(v);
	assert_int_equal(SC(getsockopt, fd, IPPROTO_TCP, 1, U(&v), U(&len)), -EOPNOTSUPP);
	assert_int_equal(SC(getsockopt, fd, SOL_SOCKET, 9999, U(&v), U(&len)), -ENOPROTOOPT);
	len = (socklen_t)-1;
	assert_int_equal(SC(getsockopt, fd, SOL_SOCKET, SO_TYPE, U(&v), U(&len)), -EINVAL);
	/* a short room gets the first bytes */
	short sh = 0;
	len = sizeof(sh);
	assert_int_equal(SC(getsockopt, fd, SOL_SOCKET, SO_TYPE, U(&sh), U(&len)), 0);
	assert_int_equal(len, 2);
	assert_int_equal(sh, SOCK_STREAM);
	struct timeval tv = {2, 500000}, out;
	assert_int_equal(SC(setsockopt, fd, SOL_SOCKET, SO_RCVTIMEO, U(&tv), sizeof(tv)), 0);
	len = sizeof(out);
	assert_int_equal(SC(getsockopt, fd, SOL_SOCKET, SO_RCVTIMEO, U(&out), U(&len)), 0);
	assert_int_equal(out.tv_sec, 2);
	assert_int_equal(out.tv_usec, 500000);
	tv.tv_usec = 2000000;
	assert_int_equal(SC(setsockopt, fd, SOL_SOCKET, SO_SNDTIMEO, U(&tv), sizeof(tv)), -EDOM);
	struct linger l = {1, 5}, lo;
	assert_int_equal(SC(setsockopt, fd, SOL_SOCKET, SO_LINGER, U(&l), sizeof(l)), 0);
	len = sizeof(lo);
	assert_int_equal(SC(getsockopt, fd, SOL_SOCKET, SO_LINGER, U(&lo), U(&len)), 0);
	assert_int_equal(lo.l_onoff, 1);
	assert_int_equal(lo.l_linger, 5);
	/* an unconnected socket has no peer credentials */
	struct ucred cr;
	len = sizeof(cr);
	assert_int_equal(SC(getsockopt, fd, SOL_SOCKET, SO_PEERCRED, U(&cr), U(&len)), 0);
	assert_int_equal(cr.pid, 0);
	assert_int_equal(cr.uid, (uid_t)-1);
	SC(close, fd);

	/* a receive timeout: a blocked read is interrupted with -EINTR, not restarted */
	int sv[2];
	pair(SOCK_STREAM, sv);
	tv = (struct timeval){1, 0};
	assert_int_equal(SC(setsockopt, sv[1], SOL_SOCKET, SO_RCVTIMEO, U(&tv), sizeof(tv)), 0);
	char c;
	/* the fake sleep with a deadline reports the timeout */
	assert_int_equal(SC(read, sv[1], U(&c), 1), -EAGAIN);
	SC(close, sv[0]);
	SC(close, sv[1]);
}

static void test_mmsg_and_vectors(void **state)
{
	int sv[2];
	pair(SOCK_DGRAM, sv);
	char a[] = "alpha", b[] = "be", c1[] = "ga", c2[] = "mma";
	struct iovec iv[4] = {{a, 5}, {b, 2}, {c1, 2}, {c2, 3}};
	struct mmsghdr mm[3] = {0};
	mm[0].msg_hdr.msg_iov = &iv[0];
	mm[0].msg_hdr.msg_iovlen = 1;
	mm[1].msg_hdr.msg_iov = &iv[1];
	mm[1].msg_hdr.msg_iovlen = 1;
	mm[2].msg_hdr.msg_iov = &iv[2];
	mm[2].msg_hdr.msg_iovlen = 2;
	assert_int_equal(SC(sendmmsg, sv[0], U(mm), 3, 0), 3);
	assert_int_equal(mm[2].msg_len, 5);
	char r[3][8];
	struct iovec riv[3] = {{r[0], 8}, {r[1], 8}, {r[2], 8}};
	struct mmsghdr rm[4] = {0};
	for (int k = 0; k < 3; k++) {
		rm[k].msg_hdr.msg_iov = &riv[k];
		rm[k].msg_hdr.msg_iovlen = 1;
	}
	rm[3] = rm[2];
	assert_int_equal(SC(recvmmsg, sv[1], U(rm), 4, MSG_WAITFORONE, 0), 3);
	assert_int_equal(rm[0].msg_len, 5);
	assert_int_equal(rm[1].msg_len, 2);
	assert_int_equal(rm[2].msg_len, 5);
	assert_memory_equal(r[2], "gamma", 5);
	assert_int_equal(SC(recvmmsg, sv[1], U(rm), 2, MSG_DONTWAIT, 0), -EAGAIN);

	/* writev on a stream socket gathers into one message */
	SC(close, sv[0]);
	SC(close, sv[1]);
	pair(SOCK_STREAM, sv);
	assert_int_equal(SC(writev, sv[0], U(iv), 4), 12);
	char all[16] = {0};
	assert_int_equal(SC(read, sv[1], U(all), sizeof(all)), 12);
	assert_string_equal(all, "alphabegamma");
	/* a bad buffer */
	assert_int_equal(SC(write, sv[0], 0, 4), -EFAULT);
	struct msghdr bad = {.msg_iov = iv, .msg_iovlen = UIO_MAXIOV + 1};
	assert_int_equal(SC(sendmsg, sv[0], U(&bad), 0), -EMSGSIZE);
	SC(close, sv[0]);
	SC(close, sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FIXTURE_TEST(test_socket_errors_and_fstat),
	    FIXTURE_TEST(test_stream_pair),
	    FIXTURE_TEST(test_stream_shutdown_and_close),
	    FIXTURE_TEST(test_stream_send_buffer),
	    FIXTURE_TEST(test_dgram_and_seqpacket_pairs),
	    FIXTURE_TEST(test_bind_connect_accept_path),
	    FIXTURE_TEST(test_abstract_and_autobind),
	    FIXTURE_TEST(test_dgram_addresses),
	    FIXTURE_TEST(test_scm_rights),
	    FIXTURE_TEST(test_scm_credentials),
	    FIXTURE_TEST(test_options),
	    FIXTURE_TEST(test_mmsg_and_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
