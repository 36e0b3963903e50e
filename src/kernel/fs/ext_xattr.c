/* Extended attributes of ext2/3/4 inodes through libext2fs, which keeps them in the
 * inode's extra space or an attribute block and translates POSIX ACLs between the
 * on-disk ext4 format and the Linux xattr format the syscalls use. */
#define EXT_INTERNAL
#include "vfs.h"
#include "ext.h"
#include <sys/xattr.h>

/* An open attribute handle of inode, read in, with the fs lock held. */
static int xattrs_open(struct inode *inode, struct ext2_xattr_handle **h)
{
	ext2_filsys fs = lock_fs(inode->sb);
	if (!ext2fs_has_feature_xattr(fs->super)) {
		unlock_fs(inode->sb);
		return -EOPNOTSUPP;
	}
	errcode_t e = ext2fs_xattrs_open(fs, (ext2_ino_t)inode->ino, h);
	if (!e) {
		e = ext2fs_xattrs_read(*h);
		if (e)
			ext2fs_xattrs_close(h);
	}
	if (e) {
		int r = ext_sb_errno(inode->sb, e, (ext2_ino_t)inode->ino);
		unlock_fs(inode->sb);
		return r;
	}
	return 0;
}

static void xattrs_close(struct inode *inode, struct ext2_xattr_handle **h)
{
	ext2fs_xattrs_close(h);
	unlock_fs(inode->sb);
}

/* A name space libext2fs does not know is one this filesystem does not keep. */
static int xattr_errno(struct inode *inode, errcode_t e)
{
	if (e == EXT2_ET_EA_KEY_NOT_FOUND)
		return -ENODATA;
	if (e == EXT2_ET_EA_BAD_NAME_LEN || e == EXT2_ET_EA_BAD_VALUE_SIZE)
		return -ERANGE;
	if (e == EXT2_ET_EA_NO_SPACE || e == EXT2_ET_BLOCK_ALLOC_FAIL)
		return -ENOSPC;
	return ext_sb_errno(inode->sb, e, (ext2_ino_t)inode->ino);
}

ssize_t ext_getxattr(struct inode *inode, const char *name, void *value, size_t size)
{
	struct ext2_xattr_handle *h;
	int r = xattrs_open(inode, &h);
	if (r)
		return r;
	void *v = NULL;
	size_t len = 0;
	errcode_t e = ext2fs_xattr_get(h, name, &v, &len);
	ssize_t ret;
	if (e)
		ret = xattr_errno(inode, e);
	else if (size && len > size)
		ret = -ERANGE;
	else {
		if (size)
			memcpy(value, v, len);
		ret = (ssize_t)len;
	}
	if (v)
		ext2fs_free_mem(&v);
	xattrs_close(inode, &h);
	return ret;
}

/* The handle for a change to name (a writable filesystem), and in *get whether name is
 * there (0) or not (EXT2_ET_EA_KEY_NOT_FOUND, or another error of libext2fs). */
static int xattrs_open_rw(struct inode *inode, const char *name, struct ext2_xattr_handle **h,
			  errcode_t *get)
{
	if (is_ro(inode->sb))
		return -EROFS;
	int r = xattrs_open(inode, h);
	if (r)
		return r;
	void *old = NULL;
	size_t oldlen;
	*get = ext2fs_xattr_get(*h, name, &old, &oldlen);
	if (old)
		ext2fs_free_mem(&old);
	return 0;
}

int ext_setxattr(struct inode *inode, const char *name, const void *value, size_t size, int flags)
{
	struct ext2_xattr_handle *h;
	errcode_t e;
	int r = xattrs_open_rw(inode, name, &h, &e);
	if (r)
		return r;
	bool exists = !e;
	if (e && e != EXT2_ET_EA_KEY_NOT_FOUND)
		r = xattr_errno(inode, e);
	else if ((flags & XATTR_CREATE) && exists)
		r = -EEXIST;
	else if ((flags & XATTR_REPLACE) && !exists)
		r = -ENODATA;
	else if ((e = ext2fs_xattr_set(h, name, value, size)) != 0)
		r = xattr_errno(inode, e);
	xattrs_close(inode, &h);
	return r;
}

int ext_removexattr(struct inode *inode, const char *name)
{
	struct ext2_xattr_handle *h;
	errcode_t e;
	int r = xattrs_open_rw(inode, name, &h, &e);
	if (r)
		return r;
	if (!e)
		e = ext2fs_xattr_remove(h, name);
	r = e ? xattr_errno(inode, e) : 0;
	xattrs_close(inode, &h);
	return r;
}

struct list_ctx {
	char *list;
	size_t size, len;
};

static int list_one(char *name, char *value, size_t value_len, void *data)
{
	struct list_ctx *c = data;
	size_t n = strlen(name) + 1;
	if (c->size && c->len + n <= c->size)
		memcpy(c->list + c->len, name, n);
	c->len += n;
	return 0; /* continue */
}

ssize_t ext_listxattr(struct inode *inode, char *list, size_t size)
{
	struct ext2_xattr_handle *h;
	int r = xattrs_open(inode, &h);
	if (r)
		return r == -EOPNOTSUPP ? 0 : r;
	struct list_ctx c = {list, size, 0};
	errcode_t e = ext2fs_xattrs_iterate(h, list_one, &c);
	xattrs_close(inode, &h);
	if (e)
		return xattr_errno(inode, e);
	if (size && c.len > size)
		return -ERANGE;
	return (ssize_t)c.len;
}
