/* AF_UNIX sockets, after Linux's net/unix/af_unix.c: SOCK_STREAM, SOCK_DGRAM and
 * SOCK_SEQPACKET (SOCK_RAW is taken as SOCK_DGRAM, as Linux does).
 *
 * A socket's state is a struct usock. Data travels as skbs queued on the receiver; each
 * skb holds a reference to its sender, whose send buffer (wmem, against SO_SNDBUF) it is
 * charged to until the receiver consumes it, so a writer blocks when its own unread data
 * fills its send buffer. Datagrams to a socket that is not connected back to the sender
 * also wait while the receiver has more than max_dgram_qlen of them queued.
 *
 * Names: a filesystem path (bind creates an S_IFSOCK node through the VFS; connect looks
 * the path up and finds the socket bound to that inode), an abstract name (sun_path[0]
 * == 0, a name space of its own per socket type), or an autobind name ("\0" + 5 hex
 * digits). A stream or seqpacket connect queues an "embryo" socket, already connected
 * to the client, on the listener; accept() hands it out.
 *
 * Not done: the garbage collector for sockets whose only references are in flight in
 * SCM_RIGHTS messages (such cycles leak until the guest kernel ends), MSG_OOB,
 * SO_PEEK_OFF, and the per-user limit on fds in flight. */
#include "net.h"
#include "../fs/internal.h"
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/un.h>

#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2
#define SHUTDOWN_MASK 3
#define MAX_DGRAM_QLEN 10 /* net.unix.max_dgram_qlen */
#define SKB_OVERHEAD 512  /* what a queued message costs besides its data */
#define SKB_MAX_CHUNK (64 * 1024)
#define UNIX_PATH_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path))
#define SUN_OFF ((int)offsetof(struct sockaddr_un, sun_path))

enum ustate { US_UNCONNECTED, US_LISTEN, US_CONNECTED };

struct unix_address {
	int refcount;
	int len; /* of the sockaddr_un, as getsockname reports it */
	struct sockaddr_un sun;
	char nul; /* a 108-byte path still ends in NUL */
};

struct usock {
	int refcount;
	int type;
	enum ustate state;
	bool dead;	    /* released */
	int shutdown;	    /* RCV_SHUTDOWN | SEND_SHUTDOWN */
	int err;	    /* pending error (SO_ERROR), positive */
	struct usock *peer; /* referenced */
	struct list rq;	    /* of struct skb: data, or embryos while listening */
	size_t rq_len, rq_bytes;
	size_t wmem, wdata; /* charged for our skbs in flight, and their data */
	int backlog;
	struct unix_address *addr; /* referenced */
	struct path path;	   /* the filesystem node of a path name */
	struct list bound_link;	   /* in bound_socks while named (not embryos) */
	struct waitq wait;	   /* data, room, connections, state changes */
	struct waitq peer_wait;	   /* senders waiting for room in our queue, or backlog */
	bool has_peercred;
	struct ucred peercred;
	int ngroups;
	gid_t groups[32];
};

struct skb {
	struct list link;
	size_t len, off; /* data, and what a stream reader has consumed */
	size_t truesize;
	struct usock *sender; /* referenced, charged */
	struct unix_address *addr;
	struct ucred creds;
	struct file **fp;
	int nfp;
	struct usock *embryo; /* a connection waiting for accept() */
	char data[];
};

static struct list bound_socks = LIST_INIT(bound_socks);

/* --- objects ------------------------------------------------------------------------ */

static struct usock *usock_new(int type)
{
	struct usock *u = xzalloc(sizeof(*u));
	u->refcount = 1;
	u->type = type;
	list_init(&u->rq);
	list_init(&u->bound_link);
	waitq_init(&u->wait);
	waitq_init(&u->peer_wait);
	return u;
}

static void addr_put(struct unix_address *a)
{
	if (a && --a->refcount == 0)
		free(a);
}

static struct unix_address *addr_new(const struct sockaddr_un *sun, int len)
{
	struct unix_address *a = xzalloc(sizeof(*a));
	a->refcount = 1;
	a->len = len;
	memcpy(&a->sun, sun, len);
	return a;
}

static void skb_free(struct skb *skb);

static void usock_put(struct usock *u)
{
	if (!u || --u->refcount > 0)
		return;
	while (!list_empty(&u->rq)) {
		struct skb *skb = list_entry(u->rq.next, struct skb, link);
		list_del(&skb->link);
		skb_free(skb);
	}
	list_del(&u->bound_link);
	addr_put(u->addr);
	if (u->path.dentry)
		path_put(&u->path);
	free(u);
}

static struct skb *skb_alloc(size_t len)
{
	struct skb *skb = xzalloc(sizeof(*skb) + len);
	list_init(&skb->link);
	skb->len = len;
	skb->truesize = len + SKB_OVERHEAD;
	return skb;
}

/* Charge skb to its sender u, with u's name, the message's credentials and (take_fds)
 * its SCM_RIGHTS files. */
static void skb_own(struct skb *skb, struct usock *u, struct scm *scm, bool take_fds)
{
	skb->sender = u;
	u->refcount++;
	u->wmem += skb->truesize;
	u->wdata += skb->len;
	skb->creds = scm->creds;
	if (u->addr) {
		skb->addr = u->addr;
		u->addr->refcount++;
	}
	if (take_fds && scm->nfp) {
		skb->fp = scm->fp;
		skb->nfp = scm->nfp;
		scm->fp = NULL;
		scm->nfp = 0;
	}
}

static void skb_free(struct skb *skb)
{
	struct usock *s = skb->sender;
	if (s) {
		s->wmem -= skb->truesize;
		s->wdata -= skb->len;
		wake_up(&s->wait); /* room in its send buffer */
	}
	addr_put(skb->addr);
	for (int k = 0; k < skb->nfp; k++)
		fput(skb->fp[k]);
	free(skb->fp);
	free(skb);
	usock_put(s);
}

static void queue_skb(struct usock *to, struct skb *skb)
{
	list_add_tail(&skb->link, &to->rq);
	to->rq_len++;
	to->rq_bytes += skb->len - skb->off;
	wake_up(&to->wait);
}

static void unlink_skb(struct usock *from, struct skb *skb)
{
	list_del(&skb->link);
	from->rq_len--;
	from->rq_bytes -= skb->len - skb->off;
}

static struct skb *first_skb(struct usock *u)
{
	return list_empty(&u->rq) ? NULL : list_entry(u->rq.next, struct skb, link);
}

static void set_peercred(struct usock *u)
{
	u->has_peercred = true;
	u->peercred = cur_ucred_peer();
	u->ngroups = 0;
	if (current && current->proc) {
		const struct creds *c = &current->proc->cred;
		u->ngroups = MIN(c->ngroups, (int)ARRAY_SIZE(u->groups));
		memcpy(u->groups, c->groups, sizeof(gid_t) * u->ngroups);
	}
}

static void copy_peercred(struct usock *to, const struct usock *from)
{
	to->has_peercred = from->has_peercred;
	to->peercred = from->peercred;
	to->ngroups = from->ngroups;
	memcpy(to->groups, from->groups, sizeof(to->groups));
}

/* Throw away a receive queue; embryos of a listener are released. */
static void purge_queue(struct usock *u, bool embryos);
static void usock_release(struct usock *u, bool embryo);

static void purge_queue(struct usock *u, bool embryos)
{
	struct list q;
	list_init(&q);
	if (!list_empty(&u->rq)) {
		/* move the whole queue aside: freeing may release other sockets */
		q.next = u->rq.next;
		q.prev = u->rq.prev;
		q.next->prev = &q;
		q.prev->next = &q;
		list_init(&u->rq);
	}
	u->rq_len = u->rq_bytes = 0;
	while (!list_empty(&q)) {
		struct skb *skb = list_entry(q.next, struct skb, link);
		list_del(&skb->link);
		if (skb->embryo) {
			struct usock *e = skb->embryo;
			skb->embryo = NULL;
			if (embryos)
				usock_release(e, true);
			else
				usock_put(e);
		}
		skb_free(skb);
	}
}

/* The socket is closed (or an embryo dies with its listener): drops the reference the
 * socket (or the listener's queue) held. */
static void usock_release(struct usock *u, bool embryo)
{
	u->dead = true;
	u->shutdown = SHUTDOWN_MASK;
	list_del(&u->bound_link);
	if (u->path.dentry) {
		path_put(&u->path);
		u->path = (struct path){NULL, NULL};
	}
	enum ustate state = u->state;
	struct usock *peer = u->peer;
	u->peer = NULL;
	u->state = US_UNCONNECTED;
	wake_up(&u->peer_wait);
	wake_up(&u->wait);
	if (peer) {
		if (u->type == SOCK_STREAM || u->type == SOCK_SEQPACKET) {
			/* no more writes, and the reader sees the end */
			peer->shutdown = SHUTDOWN_MASK;
			if (!list_empty(&u->rq) || embryo)
				peer->err = ECONNRESET;
			wake_up(&peer->wait);
			wake_up(&peer->peer_wait);
		}
		usock_put(peer);
	}
	purge_queue(u, state == US_LISTEN);
	usock_put(u);
}

/* --- names -------------------------------------------------------------------------- */

static int validate_addr(const struct sockaddr_un *sun, int len)
{
	if (len <= SUN_OFF || len > (int)sizeof(struct sockaddr_un))
		return -EINVAL;
	if (sun->sun_family != AF_UNIX)
		return -EINVAL;
	return 0;
}

/* The path of a filesystem name, NUL-terminated. */
static void sun_path_of(const struct sockaddr_un *sun, int len, char *path)
{
	memcpy(path, sun->sun_path, len - SUN_OFF);
	path[len - SUN_OFF] = '\0';
}

static struct usock *find_abstract(const struct sockaddr_un *sun, int len, int type, bool any_type)
{
	list_for_each(it, &bound_socks)
	{
		struct usock *u = list_entry(it, struct usock, bound_link);
		if (u->path.dentry || (!any_type && u->type != type) || u->addr->len != len)
			continue;
		if (!memcmp(u->addr->sun.sun_path, sun->sun_path, len - SUN_OFF))
			return u;
	}
	return NULL;
}

static struct usock *find_by_inode(const struct inode *i)
{
	list_for_each(it, &bound_socks)
	{
		struct usock *u = list_entry(it, struct usock, bound_link);
		const struct inode *b = u->path.dentry ? u->path.dentry->inode : NULL;
		if (b && b->sb == i->sb && b->ino == i->ino)
			return u;
	}
	return NULL;
}

/* The socket an address names: -ENOENT (and other path errors) for a missing path,
 * -ECONNREFUSED when nobody is bound there, -EPROTOTYPE for another socket type. */
static int find_other(const struct sockaddr_un *sun, int len, int type, struct usock **out)
{
	if (!sun->sun_path[0]) {
		*out = find_abstract(sun, len, type, false);
		return *out ? 0 : -ECONNREFUSED;
	}
	char path[UNIX_PATH_MAX + 1];
	sun_path_of(sun, len, path);
	struct path p;
	int err = path_lookup_at(AT_FDCWD, path, LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	struct inode *i = p.dentry->inode;
	struct usock *u = NULL;
	err = inode_permission(i, MAY_WRITE);
	if (!err && !S_ISSOCK(i->mode))
		err = -ECONNREFUSED;
	if (!err && !(u = find_by_inode(i)))
		err = -ECONNREFUSED;
	if (!err && u->type != type)
		err = -EPROTOTYPE;
	path_put(&p);
	*out = u;
	return err;
}

static void hash_bound(struct usock *u, struct unix_address *a)
{
	u->addr = a;
	list_add_tail(&u->bound_link, &bound_socks);
}

static int unix_autobind(struct usock *u)
{
	static unsigned ordernum;
	if (u->addr)
		return 0;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int len = SUN_OFF + 6;
	for (unsigned tries = 0; tries <= 0xfffff; tries++) {
		char hex[8];
		snprintf(hex, sizeof(hex), "%05x", ordernum);
		memcpy(sun.sun_path + 1, hex, 5);
		ordernum = (ordernum + 1) & 0xfffff;
		if (!find_abstract(&sun, len, u->type, true)) {
			hash_bound(u, addr_new(&sun, len));
			return 0;
		}
	}
	return -ENOSPC;
}

static int bind_path(struct usock *u, const struct sockaddr_un *sun, int len)
{
	char path[UNIX_PATH_MAX + 1];
	sun_path_of(sun, len, path);
	int alen = strlen(path) + SUN_OFF + 1;
	if (u->addr)
		return -EINVAL;
	struct lookup_last l;
	int err = path_last_at(AT_FDCWD, path, 0, &l);
	if (err)
		return err;
	if (l.type != LAST_NORM || l.child) {
		err = -EADDRINUSE;
	} else if (l.slash) {
		err = -ENOENT;
	} else {
		mode_t umask = current && current->fs ? current->fs->umask : 022;
		struct dentry *d;
		err = vfs_create(&l, S_IFSOCK | (0777 & ~umask), 0, &d);
		if (err == -EEXIST)
			err = -EADDRINUSE;
		if (!err) {
			struct path p = {l.parent.mnt, d};
			if (u->addr) {
				err = -EINVAL; /* bound meanwhile, while the node was made */
			} else {
				path_get(&p);
				u->path = p;
				struct sockaddr_un s = {.sun_family = AF_UNIX};
				memcpy(s.sun_path, path, alen - SUN_OFF);
				hash_bound(u, addr_new(&s, alen));
			}
			dput(d);
		}
	}
	lookup_last_put(&l);
	return err;
}

static int unix_bind(struct socket *sock, const void *addr, int len)
{
	struct usock *u = sock->sk;
	const struct sockaddr_un *sun = addr;
	if (len == SUN_OFF && sun->sun_family == AF_UNIX)
		return unix_autobind(u);
	int err = validate_addr(sun, len);
	if (err)
		return err;
	if (sun->sun_path[0])
		return bind_path(u, sun, len);
	if (u->addr)
		return -EINVAL;
	if (find_abstract(sun, len, u->type, false))
		return -EADDRINUSE;
	hash_bound(u, addr_new(sun, len));
	return 0;
}

static int unix_getname(struct socket *sock, void *addr, bool peer)
{
	struct usock *u = sock->sk;
	struct unix_address *a = u->addr;
	if (peer) {
		if (!u->peer)
			return -ENOTCONN;
		a = u->peer->addr;
	}
	if (!a) {
		((struct sockaddr_un *)addr)->sun_family = AF_UNIX;
		return sizeof(sa_family_t);
	}
	memcpy(addr, &a->sun, a->len);
	return a->len;
}

/* --- connections -------------------------------------------------------------------- */

static bool may_send(const struct usock *u, const struct usock *other)
{
	return !other->peer || other->peer == u;
}

/* u stops talking to other (a datagram socket connects elsewhere or other died). */
static void dgram_disconnected(struct usock *u, struct usock *other)
{
	if (!list_empty(&u->rq)) {
		purge_queue(u, false);
		wake_up(&u->peer_wait);
		/* one side of a two-way datagram pair is gone: the other one hears of it */
		if (!other->dead && other->peer == u) {
			other->err = ECONNRESET;
			wake_up(&other->wait);
		}
	}
}

static int stream_connect(struct socket *sock, const struct sockaddr_un *sun, int len,
			  bool nonblock)
{
	struct usock *u = sock->sk, *other;
	int err = validate_addr(sun, len);
	if (err)
		return err;
	if ((sock->flags & SOCKF_PASSCRED) && !u->addr && (err = unix_autobind(u)))
		return err;
	uint64_t deadline = sock_snd_deadline(sock);
	for (;;) {
		if ((err = find_other(sun, len, u->type, &other)))
			return err;
		if (other->state != US_LISTEN || (other->shutdown & RCV_SHUTDOWN))
			return -ECONNREFUSED;
		if (other->rq_len <= (size_t)other->backlog)
			break;
		/* the backlog is full: wait for accept() */
		if (nonblock)
			return -EAGAIN;
		other->refcount++;
		err = sock_wait(&other->peer_wait, deadline);
		usock_put(other);
		if (err)
			return err;
	}
	if (u->state == US_CONNECTED)
		return -EISCONN;
	if (u->state != US_UNCONNECTED)
		return -EINVAL;
	/* the server's end, already connected to us, waits in the listener's queue */
	struct usock *n = usock_new(u->type); /* the queue's reference */
	n->state = US_CONNECTED;
	n->peer = u;
	u->refcount++;
	set_peercred(n);
	if (other->addr) {
		n->addr = other->addr;
		n->addr->refcount++;
	}
	if (other->path.dentry) {
		n->path = other->path;
		path_get(&n->path);
	}
	u->peer = n;
	n->refcount++;
	u->state = US_CONNECTED;
	copy_peercred(u, other);
	struct skb *skb = skb_alloc(0);
	skb->embryo = n;
	queue_skb(other, skb);
	return 0;
}

static int dgram_connect(struct socket *sock, const struct sockaddr_un *sun, int len)
{
	struct usock *u = sock->sk, *other, *old;
	if (len < (int)sizeof(sa_family_t))
		return -EINVAL;
	if (sun->sun_family == AF_UNSPEC) {
		/* dissolve the association */
		old = u->peer;
		u->peer = NULL;
		u->state = US_UNCONNECTED;
		if (old) {
			dgram_disconnected(u, old);
			usock_put(old);
		}
		return 0;
	}
	int err = validate_addr(sun, len);
	if (err)
		return err;
	if ((sock->flags & SOCKF_PASSCRED) && !u->addr && (err = unix_autobind(u)))
		return err;
	if ((err = find_other(sun, len, u->type, &other)))
		return err;
	if (!may_send(u, other))
		return -EPERM;
	other->refcount++;
	old = u->peer;
	u->peer = other;
	u->state = US_CONNECTED;
	if (old) {
		if (old != other)
			dgram_disconnected(u, old);
		usock_put(old);
	}
	return 0;
}

static int unix_connect(struct socket *sock, const void *addr, int len, bool nonblock)
{
	if (sock->type == SOCK_DGRAM)
		return dgram_connect(sock, addr, len);
	return stream_connect(sock, addr, len, nonblock);
}

static int unix_socketpair(struct socket *a, struct socket *b)
{
	struct usock *ua = a->sk, *ub = b->sk;
	ua->peer = ub;
	ub->refcount++;
	ub->peer = ua;
	ua->refcount++;
	set_peercred(ua);
	set_peercred(ub);
	ua->state = ub->state = US_CONNECTED;
	return 0;
}

static int unix_listen(struct socket *sock, int backlog)
{
	struct usock *u = sock->sk;
	if (!u->addr)
		return -EINVAL; /* no listening on an unbound socket */
	if (u->state != US_UNCONNECTED && u->state != US_LISTEN)
		return -EINVAL;
	if (backlog > u->backlog)
		wake_up(&u->peer_wait); /* more room for waiting connects */
	u->backlog = backlog;
	u->state = US_LISTEN;
	set_peercred(u);
	return 0;
}

static int unix_accept(struct socket *sock, struct socket *newsock, bool nonblock)
{
	struct usock *u = sock->sk;
	if (u->state != US_LISTEN)
		return -EINVAL;
	uint64_t deadline = sock_rcv_deadline(sock);
	while (list_empty(&u->rq)) {
		if (u->shutdown & RCV_SHUTDOWN)
			return -EINVAL;
		if (nonblock)
			return -EAGAIN;
		int err = sock_wait(&u->wait, deadline);
		if (err)
			return err;
		if (u->state != US_LISTEN)
			return -EINVAL;
	}
	struct skb *skb = first_skb(u);
	unlink_skb(u, skb);
	wake_up(&u->peer_wait);
	struct usock *n = skb->embryo;
	skb->embryo = NULL;
	skb_free(skb);
	newsock->sk = n; /* the queue's reference becomes the socket's */
	newsock->flags |= sock->flags & (SOCKF_PASSCRED | SOCKF_PASSSEC);
	return 0;
}

static int unix_shutdown(struct socket *sock, int how)
{
	struct usock *u = sock->sk;
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	int mode = how + 1; /* SHUT_RD -> RCV_SHUTDOWN, SHUT_WR -> SEND_SHUTDOWN */
	u->shutdown |= mode;
	wake_up(&u->wait);
	wake_up(&u->peer_wait);
	struct usock *other = u->peer;
	if (other && u->type != SOCK_DGRAM) {
		int pm = (mode & RCV_SHUTDOWN ? SEND_SHUTDOWN : 0) |
			 (mode & SEND_SHUTDOWN ? RCV_SHUTDOWN : 0);
		other->shutdown |= pm;
		wake_up(&other->wait);
		wake_up(&other->peer_wait);
	}
	return 0;
}

/* --- data --------------------------------------------------------------------------- */

static void copy_name(struct kmsg *m, const struct unix_address *a)
{
	if (!m->name)
		return;
	m->namelen = a ? a->len : 0;
	if (a)
		memcpy(m->name, &a->sun, a->len);
}

static bool creds_eq(const struct ucred *a, const struct ucred *b)
{
	return a->pid == b->pid && a->uid == b->uid && a->gid == b->gid;
}

/* The SCM_RIGHTS files of skb for a receiver: moved, or (peek) new references. */
static void take_fds(struct skb *skb, struct scm *scm, bool peek)
{
	if (!skb->nfp)
		return;
	if (peek) {
		scm->fp = xmalloc(sizeof(struct file *) * skb->nfp);
		for (int k = 0; k < skb->nfp; k++)
			scm->fp[k] = fget_ref(skb->fp[k]);
	} else {
		scm->fp = skb->fp;
		skb->fp = NULL;
	}
	scm->nfp = skb->nfp;
	if (!peek)
		skb->nfp = 0;
}

static int pending_error(struct usock *u)
{
	int e = u->err;
	u->err = 0;
	return -e;
}

static ssize_t stream_sendmsg(struct socket *sock, struct kmsg *m, size_t len, int flags)
{
	struct usock *u = sock->sk;
	size_t sent = 0;
	ssize_t err = 0;
	bool fds_done = false;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (m->namelen)
		return u->state == US_CONNECTED ? -EISCONN : -EOPNOTSUPP;
	if (u->state != US_CONNECTED || !u->peer)
		return -ENOTCONN;
	if (u->shutdown & SEND_SHUTDOWN)
		goto pipe_err;
	uint64_t deadline = sock_snd_deadline(sock);
	size_t chunk_max = MIN((size_t)MAX(sock->sndbuf / 2 - 64, 1), (size_t)SKB_MAX_CHUNK);
	while (sent < len) {
		struct usock *other = u->peer;
		for (;;) {
			if (other->dead || (other->shutdown & RCV_SHUTDOWN) ||
			    (u->shutdown & SEND_SHUTDOWN))
				goto pipe_err;
			if (u->wmem < (size_t)sock->sndbuf)
				break;
			if (flags & MSG_DONTWAIT) {
				err = -EAGAIN;
				goto out;
			}
			if ((err = sock_wait(&u->wait, deadline)))
				goto out;
		}
		size_t size = MIN(len - sent, chunk_max);
		struct skb *skb = skb_alloc(size);
		if (miter_copy_from(&m->iter, skb->data, size)) {
			skb_free(skb);
			err = -EFAULT;
			goto out;
		}
		skb_own(skb, u, &m->scm, !fds_done);
		fds_done = true;
		queue_skb(other, skb);
		sent += size;
	}
	return sent;
pipe_err:
	if (!sent && !(flags & MSG_NOSIGNAL))
		send_signal_task(current, SIGPIPE, NULL);
	err = -EPIPE;
out:
	return sent ? (ssize_t)sent : err;
}

static ssize_t stream_recvmsg(struct socket *sock, struct kmsg *m, size_t len, int flags)
{
	struct usock *u = sock->sk;
	if (u->state != US_CONNECTED)
		return -EINVAL;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	bool peek = flags & MSG_PEEK;
	size_t target = flags & MSG_WAITALL ? len : MIN((size_t)sock->rcvlowat, len);
	if (!target)
		target = 1;
	uint64_t deadline = sock_rcv_deadline(sock);
	size_t copied = 0;
	ssize_t err = 0;
	struct scm scm = {0};
	bool have_creds = false, named = false;
	struct skb *last = NULL; /* peeking: the last skb looked at */
	m->namelen = 0;
	for (;;) {
		struct list *next = last ? last->link.next : u->rq.next;
		struct skb *skb = next == &u->rq ? NULL : list_entry(next, struct skb, link);
		if (!skb) {
			if (copied >= target || (peek && copied))
				break;
			if (u->err) {
				err = pending_error(u);
				break;
			}
			if (u->shutdown & RCV_SHUTDOWN)
				break;
			if (flags & MSG_DONTWAIT) {
				err = -EAGAIN;
				break;
			}
			if ((err = sock_wait(&u->wait, deadline)))
				break;
			continue;
		}
		/* never glue together data from different writers when credentials go along */
		if (have_creds) {
			if (!creds_eq(&skb->creds, &scm.creds))
				break;
		} else if (sock->flags & SOCKF_PASSCRED) {
			scm.creds = skb->creds;
			have_creds = true;
		}
		if (!named) {
			copy_name(m, skb->addr);
			named = true;
		}
		size_t chunk = MIN(skb->len - skb->off, len - copied);
		if (miter_copy_to(&m->iter, skb->data + skb->off, chunk)) {
			if (!copied)
				err = -EFAULT;
			break;
		}
		copied += chunk;
		if (!peek) {
			skb->off += chunk;
			u->rq_bytes -= chunk;
			take_fds(skb, &scm, false);
			if (skb->off < skb->len)
				break;
			unlink_skb(u, skb);
			skb_free(skb);
			if (scm.nfp)
				break;
		} else {
			if (skb->nfp) {
				take_fds(skb, &scm, true);
				break;
			}
			last = skb;
		}
		if (copied >= len)
			break;
	}
	if (copied) {
		if (have_creds)
			put_cmsg(m, SOL_SOCKET, SCM_CREDENTIALS, &scm.creds, sizeof(scm.creds));
		if (scm.nfp)
			scm_detach_fds(m, &scm);
	}
	scm_destroy(&scm);
	return copied ? (ssize_t)copied : err;
}

static ssize_t dgram_sendmsg(struct socket *sock, struct kmsg *m, size_t len, int flags)
{
	struct usock *u = sock->sk, *other = NULL;
	const struct sockaddr_un *sun = NULL;
	int err;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (u->type == SOCK_SEQPACKET) {
		if (u->err)
			return pending_error(u);
		if (u->state != US_CONNECTED)
			return -ENOTCONN;
		m->namelen = 0;
	}
	if (m->namelen) {
		sun = m->name;
		if ((err = validate_addr(sun, m->namelen)))
			return err;
	} else if (!u->peer) {
		return -ENOTCONN;
	}
	if ((sock->flags & SOCKF_PASSCRED) && !u->addr && (err = unix_autobind(u)))
		return err;
	if (len > (size_t)sock->sndbuf - 32)
		return -EMSGSIZE;
	bool block = !(flags & MSG_DONTWAIT);
	uint64_t deadline = sock_snd_deadline(sock);
	while (u->wmem >= (size_t)sock->sndbuf) {
		if (u->shutdown & SEND_SHUTDOWN)
			return -EPIPE;
		if (!block)
			return -EAGAIN;
		if ((err = sock_wait(&u->wait, deadline)))
			return err;
	}
	if (u->shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	struct skb *skb = skb_alloc(len);
	if (miter_copy_from(&m->iter, skb->data, len)) {
		skb_free(skb);
		return -EFAULT;
	}
	skb_own(skb, u, &m->scm, true);
	if (!sun) {
		other = u->peer;
		other->refcount++;
	}
	for (;;) {
		if (!other) {
			err = -ECONNRESET;
			if (!sun)
				goto out_free;
			if ((err = find_other(sun, m->namelen, u->type, &other)))
				goto out_free;
			other->refcount++;
		}
		err = -EPERM;
		if (!may_send(u, other))
			goto out_put;
		if (other->dead) {
			if (u->type == SOCK_SEQPACKET) {
				err = -EPIPE;
				goto out_put;
			}
			if (u->peer == other) {
				/* our peer is gone: we are no longer connected */
				u->peer = NULL;
				u->state = US_UNCONNECTED;
				dgram_disconnected(u, other);
				usock_put(other); /* u->peer's reference */
				err = -ECONNREFUSED;
				goto out_put;
			}
			usock_put(other);
			other = NULL;
			continue;
		}
		err = -EPIPE;
		if (other->shutdown & RCV_SHUTDOWN)
			goto out_put;
		if (other != u && other->peer != u && other->rq_len > MAX_DGRAM_QLEN) {
			if (!block) {
				err = -EAGAIN;
				goto out_put;
			}
			if ((err = sock_wait(&other->peer_wait, deadline)))
				goto out_put;
			continue;
		}
		break;
	}
	queue_skb(other, skb);
	usock_put(other);
	return len;
out_put:
	usock_put(other);
out_free:
	skb_free(skb);
	return err;
}

static ssize_t dgram_recvmsg(struct socket *sock, struct kmsg *m, size_t len, int flags)
{
	struct usock *u = sock->sk;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	bool seq = u->type == SOCK_SEQPACKET;
	if (seq && u->state != US_CONNECTED)
		return -ENOTCONN;
	uint64_t deadline = sock_rcv_deadline(sock);
	for (;;) {
		if (u->err)
			return pending_error(u);
		if (!list_empty(&u->rq))
			break;
		if (flags & MSG_DONTWAIT)
			return seq && (u->shutdown & RCV_SHUTDOWN) ? 0 : -EAGAIN;
		if (u->shutdown & RCV_SHUTDOWN)
			return 0;
		int err = sock_wait(&u->wait, deadline);
		if (err)
			return err;
	}
	struct skb *skb = first_skb(u);
	bool peek = flags & MSG_PEEK;
	if (!peek) {
		unlink_skb(u, skb);
		wake_up(&u->peer_wait); /* room for waiting senders */
	}
	m->namelen = 0;
	copy_name(m, skb->addr);
	size_t size = skb->len;
	if (size > len) {
		m->msg_flags |= MSG_TRUNC;
		size = len;
	}
	ssize_t ret = flags & MSG_TRUNC ? (ssize_t)skb->len : (ssize_t)size;
	if (miter_copy_to(&m->iter, skb->data, size)) {
		ret = -EFAULT;
	} else {
		if (sock->flags & SOCKF_PASSCRED)
			put_cmsg(m, SOL_SOCKET, SCM_CREDENTIALS, &skb->creds, sizeof(skb->creds));
		struct scm scm = {0};
		take_fds(skb, &scm, peek);
		if (scm.nfp)
			scm_detach_fds(m, &scm);
	}
	if (!peek)
		skb_free(skb);
	return ret;
}

/* --- readiness, ioctls, options ----------------------------------------------------- */

static bool writable(const struct socket *sock, const struct usock *u)
{
	return u->wmem * 4 <= (size_t)sock->sndbuf;
}

static unsigned stream_poll(struct socket *sock, struct poll_table *pt)
{
	struct usock *u = sock->sk;
	unsigned mask = 0;
	poll_wait(pt, &u->wait);
	if (u->err)
		mask |= POLLERR;
	if (u->shutdown == SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (u->shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (!list_empty(&u->rq))
		mask |= POLLIN | POLLRDNORM;
	if (u->state == US_UNCONNECTED)
		mask |= POLLHUP;
	/* writable also once the other side has shut down: no stuck writers */
	if (u->state != US_LISTEN && writable(sock, u))
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

static unsigned dgram_poll(struct socket *sock, struct poll_table *pt)
{
	struct usock *u = sock->sk;
	unsigned mask = 0;
	poll_wait(pt, &u->wait);
	if (u->err)
		mask |= POLLERR;
	if (u->shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (u->shutdown == SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (!list_empty(&u->rq))
		mask |= POLLIN | POLLRDNORM;
	if (u->type == SOCK_SEQPACKET && u->state == US_UNCONNECTED)
		mask |= POLLHUP;
	bool w = writable(sock, u);
	struct usock *other = u->peer;
	if (w && other && other->peer != u && other->rq_len > MAX_DGRAM_QLEN) {
		w = false;
		poll_wait(pt, &other->peer_wait);
	}
	if (w)
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

static long unix_ioctl(struct socket *sock, unsigned cmd, uint64_t arg)
{
	struct usock *u = sock->sk;
	int v;
	switch (cmd) {
	case SIOCOUTQ:
		v = MIN(u->wdata, (size_t)INT32_MAX);
		return PUT_USER(v, arg);
	case SIOCINQ:
		if (u->state == US_LISTEN)
			return -EINVAL;
		if (u->type == SOCK_DGRAM)
			v = list_empty(&u->rq) ? 0 : first_skb(u)->len;
		else
			v = MIN(u->rq_bytes, (size_t)INT32_MAX);
		return PUT_USER(v, arg);
	default:
		return -ENOIOCTLCMD;
	}
}

static int unix_getsockopt(struct socket *sock, int level, int name, void *val, int *len)
{
	struct usock *u = sock->sk;
	int v;
	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	switch (name) {
	case SO_PEERCRED: {
		struct ucred c = {0, (uid_t)-1, (gid_t)-1};
		if (u->has_peercred)
			c = u->peercred;
		memcpy(val, &c, sizeof(c));
		*len = sizeof(c);
		return 0;
	}
	case SO_PEERGROUPS: {
		if (!u->has_peercred)
			return -ENODATA;
		int need = u->ngroups * sizeof(gid_t);
		if (*len < need) {
			*len = need;
			return -ERANGE;
		}
		memcpy(val, u->groups, need);
		*len = need;
		return 0;
	}
	case SO_ERROR:
		v = -pending_error(u);
		break;
	case SO_ACCEPTCONN:
		v = u->state == US_LISTEN;
		break;
	default:
		return -ENOPROTOOPT;
	}
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

static void unix_release(struct socket *sock)
{
	struct usock *u = sock->sk;
	sock->sk = NULL;
	if (u)
		usock_release(u, false);
}

/* What the three socket types share. */
#define UNIX_COMMON_OPS                                                                            \
	.family = AF_UNIX, .release = unix_release, .bind = unix_bind, .connect = unix_connect,    \
	.socketpair = unix_socketpair, .getname = unix_getname, .ioctl = unix_ioctl,               \
	.shutdown = unix_shutdown, .getsockopt = unix_getsockopt

static const struct proto_ops unix_stream_ops = {
    UNIX_COMMON_OPS,	 .listen = unix_listen,	    .accept = unix_accept,
    .poll = stream_poll, .sendmsg = stream_sendmsg, .recvmsg = stream_recvmsg,
};

static const struct proto_ops unix_dgram_ops = {
    UNIX_COMMON_OPS,
    .poll = dgram_poll,
    .sendmsg = dgram_sendmsg,
    .recvmsg = dgram_recvmsg,
};

static const struct proto_ops unix_seqpacket_ops = {
    UNIX_COMMON_OPS,	.listen = unix_listen,	  .accept = unix_accept,
    .poll = dgram_poll, .sendmsg = dgram_sendmsg, .recvmsg = dgram_recvmsg,
};

static int unix_create(struct socket *sock, int protocol)
{
	if (protocol && protocol != PF_UNIX)
		return -EPROTONOSUPPORT;
	switch (sock->type) {
	case SOCK_STREAM:
		sock->ops = &unix_stream_ops;
		break;
	case SOCK_RAW:
		sock->type = SOCK_DGRAM; /* as Linux: BSD had it, nobody uses it */
					 /* fall through */
	case SOCK_DGRAM:
		sock->ops = &unix_dgram_ops;
		break;
	case SOCK_SEQPACKET:
		sock->ops = &unix_seqpacket_ops;
		break;
	default:
		return -ESOCKTNOSUPPORT;
	}
	sock->sk = usock_new(sock->type);
	return 0;
}

const struct net_proto_family unix_family = {
    .family = AF_UNIX,
    .create = unix_create,
};
