/* Moving data: read(2), write(2) and their positioned and vectored forms, lseek(2),
 * sendfile(2) and copy_file_range(2). Guest data passes through a kernel bounce buffer:
 * a vectored call gathers into (or scatters from) one buffer, so that a writev of at
 * most PIPE_BUF bytes reaches a pipe as one atomic write. */
#include "internal.h"
#include <sys/uio.h>

#define MAX_RW_COUNT 0x7ffff000L /* as Linux: no single call moves more */
#define BOUNCE_SIZE (128 * 1024)
#define LARGE_BOUNCE_SIZE (16 << 20)

/* A few bounce buffers are kept: malloc of this size would be an mmap each time. */
static void *bounce_cache[4];
static int bounce_cached;

static void *bounce_get(void)
{
	return bounce_cached ? bounce_cache[--bounce_cached] : xmalloc(BOUNCE_SIZE);
}

static void bounce_put(void *b)
{
	if (bounce_cached < (int)ARRAY_SIZE(bounce_cache))
		bounce_cache[bounce_cached++] = b;
	else
		free(b);
}

static bool is_stream(const struct file *f)
{
	mode_t m = f->inode ? f->inode->mode : 0;
	return S_ISFIFO(m) || S_ISSOCK(m) || is_pipe_file(f);
}

ssize_t vfs_read(struct file *f, void *buf, size_t n, loff_t *pos)
{
	if ((f->flags & O_PATH) || (f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (f->inode && S_ISDIR(f->inode->mode))
		return -EISDIR;
	if (!f->fop || !f->fop->read)
		return -EINVAL;
	return f->fop->read(f, buf, MIN(n, (size_t)MAX_RW_COUNT), pos);
}

ssize_t vfs_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	if ((f->flags & O_PATH) || (f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (!f->fop || !f->fop->write)
		return -EINVAL;
	if ((f->flags & O_APPEND) && f->inode && S_ISREG(f->inode->mode))
		*pos = f->inode->size;
	return f->fop->write(f, buf, MIN(n, (size_t)MAX_RW_COUNT), pos);
}

ssize_t kernel_read(struct file *f, void *buf, size_t n, loff_t pos)
{
	return vfs_read(f, buf, n, &pos);
}

ssize_t kernel_write(struct file *f, const void *buf, size_t n, loff_t pos)
{
	return vfs_write(f, buf, n, &pos);
}

/* --- guest buffers ------------------------------------------------------------------ */

/* A cursor over a guest iovec array. */
struct iov_iter {
	const struct iovec *iov;
	int cnt;
	size_t off;  /* into iov[0] */
	size_t left; /* bytes still to move */
};

/* Copy the next n bytes between the guest and kbuf, without moving the cursor. */
static int iter_copy(const struct iov_iter *it, void *kbuf, size_t n, bool to_user)
{
	const struct iovec *v = it->iov;
	size_t off = it->off;
	for (int k = 0; n; v++, k++, off = 0) {
		if (k >= it->cnt)
			return -EFAULT;
		size_t len = MIN(n, v->iov_len - off);
		uaddr_t u = (uaddr_t)v->iov_base + off;
		int err = to_user ? copy_to_user(u, kbuf, len) : copy_from_user(kbuf, u, len);
		if (err)
			return err;
		kbuf = (char *)kbuf + len;
		n -= len;
	}
	return 0;
}

static void iter_advance(struct iov_iter *it, size_t n)
{
	it->left -= n;
	while (n && it->cnt) {
		size_t len = MIN(n, it->iov->iov_len - it->off);
		n -= len;
		it->off += len;
		if (it->off == it->iov->iov_len) {
			it->iov++;
			it->cnt--;
			it->off = 0;
		}
	}
}

/* Move it->left bytes between f at *pos and the guest. A read of a stream or terminal
 * returns whatever the first call gave, never sleeping again after data came. */
static ssize_t rw_iter(struct file *f, struct iov_iter *it, loff_t *pos, bool write)
{
	ssize_t done = 0, r = 0;
	bool regular = f->inode && (S_ISREG(f->inode->mode) || S_ISBLK(f->inode->mode));
	/* A device or stream sees the whole request in one call (a 1 MiB read of
	 * /dev/urandom returns 1 MiB), so it gets a buffer of that size. */
	size_t bsize = BOUNCE_SIZE;
	if (!regular && it->left > BOUNCE_SIZE)
		bsize = MIN(it->left, (size_t)LARGE_BOUNCE_SIZE);
	void *buf = bsize == BOUNCE_SIZE ? bounce_get() : xmalloc(bsize);
	while (it->left) {
		size_t n = MIN(it->left, bsize);
		if (write) {
			r = iter_copy(it, buf, n, false);
			if (!r)
				r = vfs_write(f, buf, n, pos);
		} else {
			r = vfs_read(f, buf, n, pos);
			if (r > 0 && iter_copy(it, buf, r, true))
				r = -EFAULT;
		}
		if (r <= 0)
			break;
		iter_advance(it, r);
		done += r;
		if ((size_t)r < n || (!write && !regular))
			break;
	}
	if (bsize == BOUNCE_SIZE)
		bounce_put(buf);
	else
		free(buf);
	return done ? done : r;
}

static int iov_import(uaddr_t uiov, unsigned long cnt, struct iovec **out, size_t *total)
{
	if (cnt > IOV_MAX)
		return -EINVAL;
	struct iovec *iov = xmalloc((cnt ? cnt : 1) * sizeof(*iov));
	if (copy_from_user(iov, uiov, cnt * sizeof(*iov))) {
		free(iov);
		return -EFAULT;
	}
	size_t sum = 0;
	for (unsigned long k = 0; k < cnt; k++) {
		if ((ssize_t)iov[k].iov_len < 0) {
			free(iov);
			return -EINVAL;
		}
		size_t room = MAX_RW_COUNT - sum;
		iov[k].iov_len = MIN(iov[k].iov_len, room);
		sum += iov[k].iov_len;
	}
	*out = iov;
	*total = sum;
	return 0;
}

/* pos < 0: the file position; else an explicit offset (pread and friends). */
static ssize_t do_rw(int fd, uaddr_t uiov, unsigned long cnt, loff_t pos, bool write, bool vector,
		     int rwf)
{
	struct file *f;
	int err = fget_checked(fd, &f);
	if (err)
		return err;
	struct iovec one, *iov = &one;
	size_t total;
	if (vector) {
		err = iov_import(uiov, cnt, &iov, &total);
	} else {
		one = (struct iovec){(void *)uiov, MIN(cnt, (size_t)MAX_RW_COUNT)};
		total = one.iov_len;
		cnt = 1;
	}
	ssize_t r = err;
	if (!err) {
		struct iov_iter it = {iov, cnt, 0, total};
		if (pos >= 0 && is_stream(f)) {
			r = -ESPIPE;
		} else if (pos >= 0) {
			r = rw_iter(f, &it, &pos, write);
		} else {
			unsigned saved = f->flags;
			if (rwf & RWF_NOWAIT)
				f->flags |= O_NONBLOCK;
			if (rwf & RWF_APPEND)
				f->flags |= O_APPEND;
			r = rw_iter(f, &it, &f->pos, write);
			f->flags = (f->flags & ~(O_NONBLOCK | O_APPEND)) |
				   (saved & (O_NONBLOCK | O_APPEND));
		}
		if (vector)
			free(iov);
	}
	fput(f);
	return r;
}

SYSCALL(read)
{
	return do_rw(a[0], a[1], a[2], -1, false, false, 0);
}

SYSCALL(write)
{
	return do_rw(a[0], a[1], a[2], -1, true, false, 0);
}

SYSCALL(pread64)
{
	return (loff_t)a[3] < 0 ? -EINVAL : do_rw(a[0], a[1], a[2], a[3], false, false, 0);
}

SYSCALL(pwrite64)
{
	return (loff_t)a[3] < 0 ? -EINVAL : do_rw(a[0], a[1], a[2], a[3], true, false, 0);
}

SYSCALL(readv)
{
	return do_rw(a[0], a[1], a[2], -1, false, true, 0);
}

SYSCALL(writev)
{
	return do_rw(a[0], a[1], a[2], -1, true, true, 0);
}

/* On x86-64 the offset is whole in a[3] (pos_l); pos_h adds nothing. */
SYSCALL(preadv)
{
	return (loff_t)a[3] < 0 ? -EINVAL : do_rw(a[0], a[1], a[2], a[3], false, true, 0);
}

SYSCALL(pwritev)
{
	return (loff_t)a[3] < 0 ? -EINVAL : do_rw(a[0], a[1], a[2], a[3], true, true, 0);
}

#define RWF_SUPPORTED (RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND)

/* preadv2/pwritev2: an offset of -1 means the file position. */
static long rw2(const uint64_t *a, bool write)
{
	int rwf = a[5];
	loff_t pos = a[3];
	if (rwf & ~RWF_SUPPORTED || pos < -1)
		return -EINVAL;
	return do_rw(a[0], a[1], a[2], pos, write, true, rwf);
}

SYSCALL(preadv2)
{
	return rw2(a, false);
}

SYSCALL(pwritev2)
{
	return rw2(a, true);
}

/* --- seeking ------------------------------------------------------------------------ */

static loff_t generic_llseek(struct file *f, loff_t off, int whence)
{
	loff_t size = f->inode ? (loff_t)f->inode->size : 0;
	switch (whence) {
	case SEEK_SET:
		break;
	case SEEK_CUR:
		off += f->pos;
		break;
	case SEEK_END:
		off += size;
		break;
	case SEEK_DATA:
		if (off < 0 || off >= size)
			return -ENXIO;
		break;
	case SEEK_HOLE:
		if (off < 0 || off >= size)
			return -ENXIO;
		off = size;
		break;
	default:
		return -EINVAL;
	}
	if (off < 0)
		return -EINVAL;
	f->pos = off;
	return off;
}

SYSCALL(lseek)
{
	struct file *f;
	int err = fget_checked(a[0], &f);
	if (err)
		return err;
	loff_t r;
	if (is_stream(f))
		r = -ESPIPE;
	else if (f->fop && f->fop->llseek)
		r = f->fop->llseek(f, a[1], a[2]);
	else if (f->inode && S_ISCHR(f->inode->mode))
		r = -ESPIPE; /* terminals and other devices without a position */
	else
		r = generic_llseek(f, a[1], a[2]);
	fput(f);
	return r;
}

/* --- in-kernel copies --------------------------------------------------------------- */

static ssize_t copy_range(struct file *in, loff_t *inpos, struct file *out, loff_t *outpos,
			  size_t len)
{
	void *buf = bounce_get();
	ssize_t done = 0, r = 0;
	len = MIN(len, (size_t)MAX_RW_COUNT);
	while ((size_t)done < len) {
		size_t n = MIN(len - done, (size_t)BOUNCE_SIZE);
		r = vfs_read(in, buf, n, inpos);
		if (r <= 0)
			break;
		ssize_t w = vfs_write(out, buf, r, outpos);
		if (w < r) {
			/* the reader went further than the writer: step it back */
			*inpos -= r - MAX(w, 0);
			if (w > 0)
				done += w;
			r = w;
			break;
		}
		done += w;
		if ((size_t)r < n)
			break;
	}
	bounce_put(buf);
	return done ? done : r;
}

/* Files and optional guest offsets for sendfile and copy_file_range. */
static ssize_t copy_files(int infd, uaddr_t uinoff, int outfd, uaddr_t uoutoff, size_t len)
{
	struct file *in, *out;
	int err = fget_checked(infd, &in);
	if (err)
		return err;
	if ((err = fget_checked(outfd, &out))) {
		fput(in);
		return err;
	}
	loff_t inoff = 0, outoff = 0, *inpos = &in->pos, *outpos = &out->pos;
	ssize_t r = 0;
	if ((uinoff && GET_USER(inoff, uinoff)) || (uoutoff && GET_USER(outoff, uoutoff)))
		r = -EFAULT;
	else if (inoff < 0 || outoff < 0)
		r = -EINVAL;
	if (!r && ((uinoff && is_stream(in)) || (uoutoff && is_stream(out))))
		r = -ESPIPE;
	if (!r) {
		if (uinoff)
			inpos = &inoff;
		if (uoutoff)
			outpos = &outoff;
		r = copy_range(in, inpos, out, outpos, len);
		if (uinoff && PUT_USER(inoff, uinoff))
			r = -EFAULT;
		if (uoutoff && PUT_USER(outoff, uoutoff))
			r = -EFAULT;
	}
	fput(in);
	fput(out);
	return r;
}

SYSCALL(sendfile)
{
	return copy_files(a[1], a[2], a[0], 0, a[3]);
}

SYSCALL(copy_file_range)
{
	if (a[5])
		return -EINVAL;
	return copy_files(a[0], a[1], a[2], a[3], a[4]);
}
