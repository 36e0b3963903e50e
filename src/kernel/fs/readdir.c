/* Reading directories: getdents64(2) and the older getdents(2). The filesystem emits
 * entries into a kernel buffer; each record's d_off is the position after it, known
 * only once the filesystem has moved ctx->pos on, so it is filled in one entry late. */
#include "internal.h"

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* The old layout: d_type is the byte after the name's NUL, at the record's end. */
struct linux_dirent {
	unsigned long d_ino;
	unsigned long d_off;
	unsigned short d_reclen;
	char d_name[];
};

struct getdents_ctx {
	struct dir_ctx ctx;
	char *buf;
	size_t size, used;
	int64_t *prev_off; /* d_off of the last record, to be filled */
	bool old;	   /* struct linux_dirent */
	int err;
};

static bool emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino, unsigned dtype)
{
	struct getdents_ctx *g = container_of(ctx, struct getdents_ctx, ctx);
	size_t hdr = g->old ? offsetof(struct linux_dirent, d_name)
			    : offsetof(struct linux_dirent64, d_name);
	size_t reclen = ROUND_UP(hdr + len + 1 + (g->old ? 1 : 0), sizeof(long));
	if (g->prev_off)
		*g->prev_off = ctx->pos; /* the filesystem has moved past the previous one */
	if (g->used + reclen > g->size) {
		if (!g->used)
			g->err = -EINVAL; /* not even one entry fits */
		return false;
	}
	char *rec = g->buf + g->used;
	memset(rec, 0, reclen);
	if (g->old) {
		struct linux_dirent *d = (void *)rec;
		d->d_ino = ino;
		d->d_reclen = reclen;
		memcpy(d->d_name, name, len);
		rec[reclen - 1] = dtype;
		g->prev_off = (int64_t *)&d->d_off;
	} else {
		struct linux_dirent64 *d = (void *)rec;
		d->d_ino = ino;
		d->d_reclen = reclen;
		d->d_type = dtype;
		memcpy(d->d_name, name, len);
		g->prev_off = &d->d_off;
	}
	g->used += reclen;
	return true;
}

static long do_getdents(int fd, uaddr_t ubuf, size_t size, bool old)
{
	struct file *f;
	int err = fget_checked(fd, &f);
	if (err)
		return err;
	struct inode *i = f->inode;
	long r = 0;
	if (!i || !S_ISDIR(i->mode)) {
		r = -ENOTDIR;
	} else if (!f->fop || !f->fop->readdir) {
		r = -ENOTDIR;
	} else if (!(f->path.dentry && f->path.dentry->deleted)) {
		/* a removed directory reads as empty */
		size = MIN(size, (size_t)1 << 20);
		struct getdents_ctx g = {.ctx = {.emit = emit, .pos = f->pos},
					 .buf = xmalloc(size ? size : 1),
					 .size = size,
					 .old = old};
		r = f->fop->readdir(f, &g.ctx);
		r = MIN(r, 0L);
		if (g.prev_off)
			*g.prev_off = g.ctx.pos;
		f->pos = g.ctx.pos;
		if (g.used)
			r = copy_to_user(ubuf, g.buf, g.used) ? -EFAULT : (long)g.used;
		else if (g.err)
			r = g.err;
		free(g.buf);
	}
	fput(f);
	return r;
}

SYSCALL(getdents64)
{
	return do_getdents(a[0], a[1], a[2], false);
}

SYSCALL(getdents)
{
	return do_getdents(a[0], a[1], a[2], true);
}
