/* ext2, ext3 and ext4 through libext2fs.
 *
 * libext2fs does the on-disk work (extents, htree directories, checksums, bitmaps);
 * this file maps VFS operations onto it and keeps struct inode in step with the disk.
 * Its I/O goes through ext_io.c, whose block reads and writes sleep the calling task:
 * libext2fs is not reentrant, so every entry into it holds the filesystem's kmutex.
 * Nothing that may call back into this filesystem or wait for it (iput, mark_inode_dirty,
 * the page cache) runs with that lock held.
 *
 * File data lives in the page cache (pagecache.c) and reaches the disk through
 * readpage/writepage. Those remember the last extent they looked up, so that the pages
 * of a file do not each walk the extent tree; reads of a sequential reader bring a
 * growing window of the following blocks along; writeback gives blocks to a run of
 * dirty pages at once, as one extent.
 *
 * The journal of ext3/ext4 is not used: metadata is written in place, as libext2fs
 * does. The filesystem is marked not clean while mounted read-write and clean again at
 * unmount, so e2fsck checks it after a crash. */
#define EXT_INTERNAL
#include "ext.h"
#include "pagecache.h"
#include "../task.h"
#include <dirent.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#define EXT_MAGIC 0xEF53
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif
#ifndef ST_RDONLY
#define ST_RDONLY 1
#endif
#define EXT2_FEATURE_RO_COMPAT_BTREE_DIR 0x0004
#define RESERVE_BLOCKS 16 /* libext2fs may corrupt the fs if it runs dry mid-operation */

struct ext_sb {
	ext2_filsys fs;
	struct kmutex lock;
	struct super_block *sb;
	uint16_t mount_state; /* s_state at mount, restored at unmount */
	bool errors;	      /* corruption seen at runtime */
	struct waitq evicted; /* woken when an inode's eviction ends */
};

/* Per inode, in i->priv: the last extent looked up (so that the pages of a file do not
 * each walk the extent tree and verify its checksums) and the read-ahead state. */
struct ext_inode {
	blk64_t lblk, pblk, len; /* logical [lblk, lblk + len) at pblk; len 0: none */
	bool uninit;
	uint64_t ra_next;  /* the page a sequential reader asks for next */
	unsigned ra_pages; /* read-ahead window */
};

/* i->priv of an inode being evicted: iget() still finds it until iput() frees it. */
static char dying;

static struct ext_inode *EI(struct inode *i)
{
	return i->priv == &dying ? NULL : i->priv;
}

static void forget_map(struct inode *i)
{
	if (EI(i))
		EI(i)->len = 0;
}

static const struct inode_ops ext_dir_iops, ext_file_iops, ext_link_iops, ext_special_iops;
static const struct file_ops ext_dir_fops, ext_file_fops;

static struct ext_sb *ES(struct super_block *sb)
{
	return sb->priv;
}

ext2_filsys lock_fs(struct super_block *sb)
{
	kmutex_lock(&ES(sb)->lock);
	return ES(sb)->fs;
}

void unlock_fs(struct super_block *sb)
{
	kmutex_unlock(&ES(sb)->lock);
}

bool is_ro(struct super_block *sb)
{
	return sb->flags & MS_RDONLY;
}

static bool is_corruption(errcode_t e)
{
	switch (e) {
	case EXT2_ET_DIR_CORRUPTED:
	case EXT2_ET_DIR_CSUM_INVALID:
	case EXT2_ET_INODE_CSUM_INVALID:
	case EXT2_ET_INODE_BITMAP_CSUM_INVALID:
	case EXT2_ET_BLOCK_BITMAP_CSUM_INVALID:
	case EXT2_ET_EXTENT_CSUM_INVALID:
	case EXT2_ET_EXT_ATTR_CSUM_INVALID:
	case EXT2_ET_SB_CSUM_INVALID:
	case EXT2_ET_BAD_CRC:
	case EXT2_ET_EXTENT_HEADER_BAD:
	case EXT2_ET_EXTENT_INDEX_BAD:
	case EXT2_ET_EXTENT_LEAF_BAD:
	case EXT2_ET_EXTENT_INVALID_LENGTH:
	case EXT2_ET_EXTENT_CYCLE:
	case EXT2_ET_BAD_BLOCK_NUM:
	case EXT2_ET_BAD_INODE_NUM:
	case EXT2_ET_BAD_IND_BLOCK:
	case EXT2_ET_BAD_DIND_BLOCK:
	case EXT2_ET_BAD_TIND_BLOCK:
	case EXT2_ET_BAD_EA_HEADER:
	case EXT2_ET_BAD_EA_BLOCK_NUM:
	case EXT2_ET_EA_BAD_NAME_LEN:
	case EXT2_ET_EA_BAD_VALUE_OFFSET:
	case EXT2_ET_EA_BAD_VALUE_SIZE:
	case EXT2_ET_EA_INODE_CORRUPTED:
	case EXT2_ET_INODE_CORRUPTED:
	case EXT2_ET_INODE_IS_GARBAGE:
	case EXT2_ET_CORRUPT_SUPERBLOCK:
	case EXT2_ET_FILESYSTEM_CORRUPTED:
	case EXT2_ET_GDESC_BAD_BLOCK_MAP:
	case EXT2_ET_GDESC_BAD_INODE_MAP:
	case EXT2_ET_GDESC_BAD_INODE_TABLE:
	case EXT2_ET_RESIZE_INODE_CORRUPT:
		return true;
	}
	return false;
}

/* A libext2fs error code as a negative Linux errno; corruption and I/O errors are
 * reported once on the console, as Linux does. */
static int ext_errno(struct ext_sb *es, errcode_t e, ext2_ino_t ino)
{
	switch (e) {
	case 0:
		return 0;
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_DIR_EXISTS:
	case EXT2_ET_FILE_EXISTS:
		return -EEXIST;
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_DIR_NO_SPACE_FOR_CSUM:
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_TOOSMALL:
	case EXT2_ET_EA_NO_SPACE:
	case EXT2_ET_EXTENT_NO_SPACE:
		return -ENOSPC;
	case EXT2_ET_RO_FILSYS:
	case EXT2_ET_FILE_RO:
		return -EROFS;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	case EXT2_ET_FILE_TOO_BIG:
		return -EFBIG;
	case EXT2_ET_INVALID_ARGUMENT:
		return -EINVAL;
	case EXT2_ET_SYMLINK_LOOP:
		return -ELOOP;
	case EXT2_ET_UNIMPLEMENTED:
	case EXT2_ET_OP_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	}
	const char *dev = es->sb ? es->sb->source : "?";
	if (e > 0 && e < 4096) { /* a host errno from the I/O manager */
		if (e == EIO)
			printk("vmlinux: %s: I/O error (inode %u)\n", dev, ino);
		return -(int)e;
	}
	if (is_corruption(e)) {
		printk("vmlinux: %s: %s (inode %u); run e2fsck\n", dev, error_message(e), ino);
		es->errors = true;
		return -EUCLEAN;
	}
	printk("vmlinux: %s: %s (inode %u)\n", dev, error_message(e), ino);
	return -EIO;
}

/* --- inodes ------------------------------------------------------------------------ */

#define FITS(in, f)                                                                                \
	(offsetof(struct ext2_inode_large, f) + sizeof((in)->f) <=                                 \
	 (size_t)(EXT2_GOOD_OLD_INODE_SIZE + (in)->i_extra_isize))

static struct timespec ts_get(uint32_t sec, uint32_t extra, bool has_extra)
{
	struct timespec ts = {.tv_sec = (int32_t)sec};
	if (has_extra) {
		ts.tv_sec += (int64_t)(extra & EXT4_EPOCH_MASK) << 32;
		ts.tv_nsec = extra >> EXT4_EPOCH_BITS;
	}
	return ts;
}

static void ts_put(struct timespec ts, uint32_t *sec, uint32_t *extra, bool has_extra)
{
	*sec = (uint32_t)ts.tv_sec;
	if (has_extra)
		*extra = ((uint32_t)((ts.tv_sec - (int32_t)ts.tv_sec) >> 32) & EXT4_EPOCH_MASK) |
			 (uint32_t)ts.tv_nsec << EXT4_EPOCH_BITS;
}

#define GET_TIME(in, f) ts_get((in)->i_##f, (in)->i_##f##_extra, FITS(in, i_##f##_extra))
#define PUT_TIME(in, f, ts) ts_put(ts, &(in)->i_##f, &(in)->i_##f##_extra, FITS(in, i_##f##_extra))

static errcode_t read_ino(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *in)
{
	memset(in, 0, sizeof(*in));
	return ext2fs_read_inode_full(fs, ino, EXT2_INODE(in), sizeof(*in));
}

static errcode_t write_ino(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *in)
{
	return ext2fs_write_inode_full(fs, ino, EXT2_INODE(in), sizeof(*in));
}

/* Device numbers in i_block, as Linux stores them. */
static dev_t get_rdev(const struct ext2_inode_large *in)
{
	uint32_t old = in->i_block[0], new = in->i_block[1];
	if (old)
		return makedev((old >> 8) & 0xff, old & 0xff);
	return makedev((new & 0xfff00) >> 8, (new & 0xff) | ((new >> 12) & 0xfff00));
}

static void put_rdev(struct ext2_inode_large *in, dev_t rdev)
{
	unsigned ma = major(rdev), mi = minor(rdev);
	memset(in->i_block, 0, sizeof(in->i_block));
	if (ma < 256 && mi < 256)
		in->i_block[0] = ma << 8 | mi;
	else
		in->i_block[1] = (mi & 0xff) | ma << 8 | (mi & ~0xffu) << 12;
}

/* Copy what the disk says into the live inode. The size of a regular file belongs to
 * the page cache (it may be ahead of the disk until written back). */
static void fill_vfs(struct inode *i, ext2_filsys fs, struct ext2_inode_large *in)
{
	i->mode = in->i_mode;
	i->uid = inode_uid(*in);
	i->gid = inode_gid(*in);
	i->nlink = in->i_links_count;
	if (!S_ISREG(i->mode) || EXT2_I_SIZE(in) > i->size)
		i->size = EXT2_I_SIZE(in);
	i->blocks = ext2fs_get_stat_i_blocks(fs, EXT2_INODE(in));
	i->rdev = S_ISCHR(i->mode) || S_ISBLK(i->mode) ? get_rdev(in) : 0;
	i->atime = GET_TIME(in, atime);
	i->mtime = GET_TIME(in, mtime);
	i->ctime = GET_TIME(in, ctime);
}

static void set_ops(struct inode *i)
{
	if (S_ISDIR(i->mode)) {
		i->iop = &ext_dir_iops;
		i->fop = &ext_dir_fops;
	} else if (S_ISREG(i->mode)) {
		i->iop = &ext_file_iops;
		i->fop = &ext_file_fops;
	} else if (S_ISLNK(i->mode)) {
		i->iop = &ext_link_iops;
	} else {
		i->iop = &ext_special_iops; /* the VFS finds the driver or pipe */
	}
}

/* The live inode for ino (referenced), read from disk if it is not live yet. Called
 * with the lock held, so that no one else can instantiate it meanwhile. */
static int ext_iget(struct super_block *sb, ext2_ino_t ino, struct inode **out)
{
	struct inode *i = iget(sb, ino);
	if (i && i->priv == &dying) {
		i->refcount--; /* not iput: that would evict it a second time */
		return -EAGAIN;
	}
	if (i) {
		*out = i;
		return 0;
	}
	ext2_filsys fs = ES(sb)->fs;
	struct ext2_inode_large in;
	if (ino < EXT2_ROOT_INO || ino > fs->super->s_inodes_count)
		return ext_errno(ES(sb), EXT2_ET_BAD_INODE_NUM, ino);
	errcode_t e = read_ino(fs, ino, &in);
	if (e)
		return ext_errno(ES(sb), e, ino);
	if (!in.i_links_count || !in.i_mode)
		return ext_errno(ES(sb), EXT2_ET_INODE_IS_GARBAGE, ino); /* a deleted inode */
	i = new_inode(sb, in.i_mode);
	if (!i)
		return -ENOMEM;
	i->ino = ino;
	i->priv = xzalloc(sizeof(struct ext_inode));
	fill_vfs(i, fs, &in);
	set_ops(i);
	*out = i;
	return 0;
}

/* Refresh the live inode, if any, after changing it on disk: it comes back referenced,
 * for an iput() once the lock is dropped, unless it is being evicted (its eviction
 * sees the change: a link count of 0 makes it free the inode). */
static struct inode *refresh(struct super_block *sb, ext2_ino_t ino, struct ext2_inode_large *in,
			     bool *live)
{
	struct inode *i = iget(sb, ino);
	if (live)
		*live = i;
	if (i)
		fill_vfs(i, ES(sb)->fs, in);
	if (i && i->priv == &dying) {
		i->refcount--;
		return NULL;
	}
	return i;
}

static void put_all(struct inode **v, int n)
{
	for (int k = 0; k < n; k++)
		if (v[k])
			iput(v[k]);
}

/* Release the blocks, extended attributes and the inode itself. */
static errcode_t free_ino(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *in)
{
	if (!ext2fs_test_inode_bitmap2(fs->inode_map, ino))
		return 0;
	errcode_t e = ext2fs_free_ext_attr(fs, ino, in);
	if (!e && ext2fs_inode_has_valid_blocks2(fs, EXT2_INODE(in)))
		e = ext2fs_punch(fs, ino, EXT2_INODE(in), NULL, 0, ~0ULL);
	if (e)
		return e;
	in->i_links_count = 0;
	in->i_dtime = current_time().tv_sec;
	ext2fs_inode_size_set(fs, EXT2_INODE(in), 0);
	e = write_ino(fs, ino, in);
	if (!e)
		ext2fs_inode_alloc_stats2(fs, ino, -1, LINUX_S_ISDIR(in->i_mode));
	return e;
}

/* Drop one link (a directory: all of them) of ino; free it at once unless it is live,
 * in which case evict_inode frees it when the last reference goes. */
static errcode_t drop_link(struct super_block *sb, ext2_ino_t ino, struct inode **ref)
{
	ext2_filsys fs = ES(sb)->fs;
	struct ext2_inode_large in;
	errcode_t e = read_ino(fs, ino, &in);
	if (e)
		return e;
	if (LINUX_S_ISDIR(in.i_mode) || in.i_links_count <= 1)
		in.i_links_count = 0;
	else
		in.i_links_count--;
	PUT_TIME(&in, ctime, current_time());
	bool is_live;
	*ref = refresh(sb, ino, &in, &is_live);
	if (!in.i_links_count && !is_live)
		return free_ino(fs, ino, &in);
	return write_ino(fs, ino, &in);
}

/* Change a directory's link count by delta and stamp its mtime and ctime. */
static errcode_t touch_dir(struct super_block *sb, struct inode *dir, int delta)
{
	ext2_filsys fs = ES(sb)->fs;
	struct ext2_inode_large in;
	errcode_t e = read_ino(fs, dir->ino, &in);
	if (e)
		return e;
	if (delta > 0 && in.i_links_count != 1)
		in.i_links_count += delta;
	else if (delta < 0 && in.i_links_count > 2)
		in.i_links_count += delta;
	/* dir_nlink: past the limit a directory counts 1 ("many"); ext2fs_mkdir does
	 * not know that. */
	if (in.i_links_count >= EXT2_LINK_MAX)
		in.i_links_count = 1;
	struct timespec now = current_time();
	PUT_TIME(&in, mtime, now);
	PUT_TIME(&in, ctime, now);
	e = write_ino(fs, dir->ino, &in);
	fill_vfs(dir, fs, &in);
	return e;
}

static int ftype_of(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return EXT2_FT_REG_FILE;
	case S_IFDIR:
		return EXT2_FT_DIR;
	case S_IFCHR:
		return EXT2_FT_CHRDEV;
	case S_IFBLK:
		return EXT2_FT_BLKDEV;
	case S_IFIFO:
		return EXT2_FT_FIFO;
	case S_IFSOCK:
		return EXT2_FT_SOCK;
	case S_IFLNK:
		return EXT2_FT_SYMLINK;
	}
	return EXT2_FT_UNKNOWN;
}

static unsigned dtype_of(int ft)
{
	static const unsigned char map[] = {
	    [EXT2_FT_REG_FILE] = DT_REG, [EXT2_FT_DIR] = DT_DIR,   [EXT2_FT_CHRDEV] = DT_CHR,
	    [EXT2_FT_BLKDEV] = DT_BLK,	 [EXT2_FT_FIFO] = DT_FIFO, [EXT2_FT_SOCK] = DT_SOCK,
	    [EXT2_FT_SYMLINK] = DT_LNK,
	};
	return ft > 0 && ft < (int)sizeof(map) ? map[ft] : DT_UNKNOWN;
}

static errcode_t link_entry(ext2_filsys fs, ext2_ino_t dir, const char *name, ext2_ino_t ino,
			    int ft)
{
	errcode_t e = ext2fs_link(fs, dir, name, ino, ft);
	if (e == EXT2_ET_DIR_NO_SPACE) {
		e = ext2fs_expand_dir(fs, dir);
		if (!e)
			e = ext2fs_link(fs, dir, name, ino, ft);
	}
	return e;
}

/* Owner of a new inode: the caller's fsuid, and the group of a setgid directory. */
static void new_owner(struct inode *dir, mode_t *mode, uid_t *uid, gid_t *gid)
{
	struct process *p = current ? current->proc : NULL;
	*uid = p ? p->cred.fsuid : 0;
	*gid = p ? p->cred.fsgid : 0;
	if (dir->mode & S_ISGID) {
		*gid = dir->gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	}
}

static void set_owner(struct ext2_inode_large *in, uid_t uid, gid_t gid)
{
	in->i_uid = uid;
	ext2fs_set_i_uid_high(*in, uid >> 16);
	in->i_gid = gid;
	ext2fs_set_i_gid_high(*in, gid >> 16);
}

static void set_times_now(struct ext2_inode_large *in)
{
	struct timespec now = current_time();
	PUT_TIME(in, atime, now);
	PUT_TIME(in, mtime, now);
	PUT_TIME(in, ctime, now);
	if (FITS(in, i_crtime_extra))
		ts_put(now, &in->i_crtime, &in->i_crtime_extra, true);
}

/* Checks every namespace operation starts with. */
static int check_name(struct inode *dir, const char *name, bool write)
{
	if (strlen(name) > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	if (write && is_ro(dir->sb))
		return -EROFS;
	return 0;
}

static bool low_space(ext2_filsys fs, blk64_t need)
{
	return ext2fs_free_blocks_count(fs->super) < need + RESERVE_BLOCKS;
}

static int ext_lookup(struct inode *dir, const char *name, struct inode **out)
{
	int r = check_name(dir, name, false);
	while (!r) {
		ext2_filsys fs = lock_fs(dir->sb);
		ext2_ino_t ino;
		errcode_t e = ext2fs_lookup(fs, dir->ino, name, strlen(name), NULL, &ino);
		r = e ? ext_errno(ES(dir->sb), e, dir->ino) : ext_iget(dir->sb, ino, out);
		unlock_fs(dir->sb);
		if (r != -EAGAIN)
			break;
		/* The inode is on its way out: wait until it is gone, then read it anew. */
		r = sleep_on(&ES(dir->sb)->evicted, false);
	}
	return r;
}

/* Fail with -EEXIST (or another error) when name is in dir. Lock held. */
static int must_not_exist(ext2_filsys fs, struct inode *dir, const char *name)
{
	ext2_ino_t ino;
	errcode_t e = ext2fs_lookup(fs, dir->ino, name, strlen(name), NULL, &ino);
	if (!e)
		return -EEXIST;
	return e == EXT2_ET_FILE_NOT_FOUND ? 0 : ext_errno(ES(dir->sb), e, dir->ino);
}

/* What create, mkdir and symlink make (lock held): the checks before an inode is
 * allocated (a negative errno), and how libext2fs makes inode ino, owned by uid:gid with
 * mode, and links it into dir as name. */
struct ext_new {
	int (*check)(ext2_filsys fs, struct inode *dir, const struct ext_new *n);
	errcode_t (*make)(ext2_filsys fs, struct inode *dir, const char *name, ext2_ino_t ino,
			  mode_t mode, uid_t uid, gid_t gid, const struct ext_new *n);
	dev_t rdev;	    /* create */
	const char *target; /* symlink */
};

static int ext_new(struct inode *dir, const char *name, mode_t mode, const struct ext_new *n,
		   struct inode **out)
{
	int r = check_name(dir, name, true);
	if (r)
		return r;
	struct super_block *sb = dir->sb;
	ext2_filsys fs = lock_fs(sb);
	ext2_ino_t ino = 0;
	errcode_t e = 0;
	if ((r = must_not_exist(fs, dir, name)) || (r = n->check(fs, dir, n)))
		goto out;
	uid_t uid;
	gid_t gid;
	new_owner(dir, &mode, &uid, &gid);
	e = ext2fs_new_inode(fs, dir->ino, mode, 0, &ino);
	if (!e)
		e = n->make(fs, dir, name, ino, mode, uid, gid, n);
	/* (ext2fs_mkdir counted the new ".." in the parent already.) */
	if (!e)
		e = touch_dir(sb, dir, 0);
	if (!e)
		r = ext_iget(sb, ino, out);
out:
	if (e)
		r = ext_errno(ES(sb), e, ino ? ino : dir->ino);
	unlock_fs(sb);
	return r;
}

static int one_block_free(ext2_filsys fs, struct inode *dir, const struct ext_new *n)
{
	return low_space(fs, 1) ? -ENOSPC : 0;
}

static errcode_t make_file(ext2_filsys fs, struct inode *dir, const char *name, ext2_ino_t ino,
			   mode_t mode, uid_t uid, gid_t gid, const struct ext_new *n)
{
	errcode_t e = 0;
	size_t isz = EXT2_INODE_SIZE(fs->super);
	char *buf = xzalloc(MAX(isz, sizeof(struct ext2_inode_large)));
	struct ext2_inode_large *in = (void *)buf;
	in->i_mode = mode;
	in->i_links_count = 1;
	set_owner(in, uid, gid);
	if (isz > EXT2_GOOD_OLD_INODE_SIZE)
		in->i_extra_isize = sizeof(*in) - EXT2_GOOD_OLD_INODE_SIZE;
	set_times_now(in);
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		put_rdev(in, n->rdev);
	} else if (S_ISREG(mode) && ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t h; /* writes an empty extent header into i_block */
		if (!(e = ext2fs_extent_open2(fs, ino, EXT2_INODE(in), &h)))
			ext2fs_extent_free(h);
	}
	/* The whole slot, so stale in-inode attributes of a previous owner go too. */
	if (!e)
		e = ext2fs_write_inode_full(fs, ino, EXT2_INODE(in), isz);
	if (!e)
		e = link_entry(fs, dir->ino, name, ino, ftype_of(mode));
	if (!e)
		ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
	free(buf);
	return e;
}

static int ext_create(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
		      struct inode **out)
{
	struct ext_new n = {.check = one_block_free, .make = make_file, .rdev = rdev};
	return ext_new(dir, name, mode, &n, out);
}

/* libext2fs makes a directory (target NULL) or a symlink and links it into dir itself. */
static errcode_t lib_make(ext2_filsys fs, ext2_ino_t dir, ext2_ino_t ino, const char *name,
			  const char *target)
{
	return target ? ext2fs_symlink(fs, dir, ino, name, target)
		      : ext2fs_mkdir(fs, dir, ino, name);
}

/* A directory or a symlink (n->target), once more after growing dir if it is full; then
 * its owner, mode and times. */
static errcode_t make_dir_or_link(ext2_filsys fs, struct inode *dir, const char *name,
				  ext2_ino_t ino, mode_t mode, uid_t uid, gid_t gid,
				  const struct ext_new *n)
{
	errcode_t e = lib_make(fs, dir->ino, ino, name, n->target);
	if (e == EXT2_ET_DIR_NO_SPACE) {
		e = ext2fs_expand_dir(fs, dir->ino);
		if (!e)
			e = lib_make(fs, dir->ino, ino, name, n->target);
	}
	if (e)
		return e;
	struct ext2_inode_large in;
	if ((e = read_ino(fs, ino, &in)))
		return e;
	in.i_mode = mode;
	set_owner(&in, uid, gid);
	set_times_now(&in);
	return write_ino(fs, ino, &in);
}

static int dir_room(ext2_filsys fs, struct inode *dir, const struct ext_new *n)
{
	if (low_space(fs, 2))
		return -ENOSPC;
	if (dir->nlink >= EXT2_LINK_MAX - 1 && !ext2fs_has_feature_dir_nlink(fs->super))
		return -EMLINK;
	return 0;
}

static int ext_mkdir(struct inode *dir, const char *name, mode_t mode, struct inode **out)
{
	struct ext_new n = {.check = dir_room, .make = make_dir_or_link};
	return ext_new(dir, name, S_IFDIR | (mode & 07777), &n, out);
}

static int symlink_room(ext2_filsys fs, struct inode *dir, const struct ext_new *n)
{
	if (strlen(n->target) >= fs->blocksize)
		return -ENAMETOOLONG;
	return one_block_free(fs, dir, n);
}

static int ext_symlink(struct inode *dir, const char *name, const char *target, struct inode **out)
{
	struct ext_new n = {.check = symlink_room, .make = make_dir_or_link, .target = target};
	return ext_new(dir, name, S_IFLNK | 0777, &n, out);
}

static int ext_link(struct inode *dir, const char *name, struct inode *target)
{
	int r = check_name(dir, name, true);
	if (r)
		return r;
	if (S_ISDIR(target->mode))
		return -EPERM;
	struct super_block *sb = dir->sb;
	ext2_filsys fs = lock_fs(sb);
	struct ext2_inode_large in;
	errcode_t e = 0;
	if ((r = must_not_exist(fs, dir, name)))
		goto out;
	e = read_ino(fs, target->ino, &in);
	if (e)
		goto out;
	if (!in.i_links_count) {
		r = -ENOENT;
		goto out;
	}
	if (in.i_links_count >= EXT2_LINK_MAX) {
		r = -EMLINK;
		goto out;
	}
	e = link_entry(fs, dir->ino, name, target->ino, ftype_of(in.i_mode));
	if (e)
		goto out;
	in.i_links_count++;
	PUT_TIME(&in, ctime, current_time());
	e = write_ino(fs, target->ino, &in);
	fill_vfs(target, fs, &in);
	if (!e)
		e = touch_dir(sb, dir, 0);
out:
	if (e)
		r = ext_errno(ES(sb), e, target->ino);
	unlock_fs(sb);
	return r;
}

static int empty_proc(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset,
		      int blocksize, char *buf, void *priv)
{
	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE || !d->inode)
		return 0;
	*(bool *)priv = false;
	return DIRENT_ABORT;
}

/* 0 if the directory holds nothing but "." and "..", else -ENOTEMPTY or an error. */
static int dir_empty(struct super_block *sb, ext2_ino_t ino)
{
	bool empty = true;
	errcode_t e = ext2fs_dir_iterate2(ES(sb)->fs, ino, 0, NULL, empty_proc, &empty);
	if (e)
		return ext_errno(ES(sb), e, ino);
	return empty ? 0 : -ENOTEMPTY;
}

static int remove_entry(struct inode *dir, const char *name, bool want_dir)
{
	int r = check_name(dir, name, true);
	if (r)
		return r;
	struct super_block *sb = dir->sb;
	ext2_filsys fs = lock_fs(sb);
	struct inode *live = NULL;
	struct ext2_inode_large in;
	ext2_ino_t ino = 0;
	errcode_t e = ext2fs_lookup(fs, dir->ino, name, strlen(name), NULL, &ino);
	if (!e)
		e = read_ino(fs, ino, &in);
	if (e)
		goto out;
	if (want_dir && !LINUX_S_ISDIR(in.i_mode)) {
		r = -ENOTDIR;
		goto out;
	}
	if (!want_dir && LINUX_S_ISDIR(in.i_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (want_dir && (r = dir_empty(sb, ino)))
		goto out;
	e = ext2fs_unlink(fs, dir->ino, name, ino, 0);
	if (!e)
		e = drop_link(sb, ino, &live);
	/* A removed directory's ".." no longer points at dir. */
	if (!e)
		e = touch_dir(sb, dir, want_dir ? -1 : 0);
out:
	if (e)
		r = ext_errno(ES(sb), e, ino ? ino : dir->ino);
	unlock_fs(sb);
	if (live)
		iput(live);
	return r;
}

static int ext_unlink(struct inode *dir, const char *name)
{
	return remove_entry(dir, name, false);
}

static int ext_rmdir(struct inode *dir, const char *name)
{
	return remove_entry(dir, name, true);
}

struct set_entry {
	const char *name;
	ext2_ino_t ino;
	int ft;
	bool done, filetype;
};

static int set_entry_proc(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset,
			  int blocksize, char *buf, void *priv)
{
	struct set_entry *s = priv;
	size_t len = ext2fs_dirent_name_len(d);
	if (!d->inode || len != strlen(s->name) || memcmp(d->name, s->name, len))
		return 0;
	d->inode = s->ino;
	if (s->filetype)
		ext2fs_dirent_set_file_type(d, s->ft);
	s->done = true;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

/* Point the existing entry name of dir at ino, in place. */
static errcode_t set_entry(ext2_filsys fs, ext2_ino_t dir, const char *name, ext2_ino_t ino, int ft)
{
	struct set_entry s = {name, ino, ft, false, ext2fs_has_feature_filetype(fs->super)};
	errcode_t e = ext2fs_dir_iterate2(fs, dir, 0, NULL, set_entry_proc, &s);
	return e ? e : s.done ? 0 : EXT2_ET_FILE_NOT_FOUND;
}

/* Rename: link the new name first, then remove the old one, so that a crash in
 * between leaves an extra link (which e2fsck counts) rather than a lost file. */
static int ext_rename(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
		      unsigned flags)
{
	int r = check_name(odir, oname, true);
	if (!r)
		r = check_name(ndir, nname, true);
	if (r)
		return r;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	struct super_block *sb = odir->sb;
	ext2_filsys fs = lock_fs(sb);
	struct inode *live[3] = {NULL, NULL, NULL};
	struct ext2_inode_large sin, din;
	ext2_ino_t src = 0, dst = 0;
	int odelta = 0, ndelta = 0;
	errcode_t e = ext2fs_lookup(fs, odir->ino, oname, strlen(oname), NULL, &src);
	if (!e)
		e = read_ino(fs, src, &sin);
	if (e)
		goto out;
	e = ext2fs_lookup(fs, ndir->ino, nname, strlen(nname), NULL, &dst);
	if (e == EXT2_ET_FILE_NOT_FOUND)
		dst = e = 0;
	else if (!e)
		e = read_ino(fs, dst, &din);
	if (e)
		goto out;
	bool sdir = LINUX_S_ISDIR(sin.i_mode), ddir = dst && LINUX_S_ISDIR(din.i_mode);
	if (dst && (flags & RENAME_NOREPLACE)) {
		r = -EEXIST;
		goto out;
	}
	if (!dst && (flags & RENAME_EXCHANGE)) {
		r = -ENOENT;
		goto out;
	}
	if (dst == src)
		goto out; /* two names of one inode: nothing to do */
	if (flags & RENAME_EXCHANGE) {
		e = set_entry(fs, odir->ino, oname, dst, ftype_of(din.i_mode));
		if (!e)
			e = set_entry(fs, ndir->ino, nname, src, ftype_of(sin.i_mode));
		if (!e && odir != ndir && sdir)
			e = set_entry(fs, src, "..", ndir->ino, EXT2_FT_DIR);
		if (!e && odir != ndir && ddir)
			e = set_entry(fs, dst, "..", odir->ino, EXT2_FT_DIR);
		if (odir != ndir) {
			odelta = ddir - sdir;
			ndelta = sdir - ddir;
		}
		if (!e)
			e = read_ino(fs, dst, &din);
		if (!e) {
			PUT_TIME(&din, ctime, current_time());
			e = write_ino(fs, dst, &din);
			live[1] = refresh(sb, dst, &din, NULL);
		}
	} else {
		if (dst && sdir != ddir) {
			r = sdir ? -ENOTDIR : -EISDIR;
			goto out;
		}
		if (ddir && (r = dir_empty(sb, dst)))
			goto out;
		if (dst)
			e = set_entry(fs, ndir->ino, nname, src, ftype_of(sin.i_mode));
		else
			e = link_entry(fs, ndir->ino, nname, src, ftype_of(sin.i_mode));
		if (!e)
			e = ext2fs_unlink(fs, odir->ino, oname, src, 0);
		if (!e && dst)
			e = drop_link(sb, dst, &live[1]);
		if (!e && sdir && odir != ndir)
			e = set_entry(fs, src, "..", ndir->ino, EXT2_FT_DIR);
		if (sdir && odir != ndir) {
			odelta--;
			ndelta++;
		}
		if (ddir)
			ndelta--; /* the replaced directory's ".." */
	}
	if (e)
		goto out;
	e = read_ino(fs, src, &sin);
	if (!e) {
		PUT_TIME(&sin, ctime, current_time());
		e = write_ino(fs, src, &sin);
		live[0] = refresh(sb, src, &sin, NULL);
	}
	if (!e && odir != ndir)
		e = touch_dir(sb, odir, odelta);
	if (!e)
		e = touch_dir(sb, ndir, odir == ndir ? odelta + ndelta : ndelta);
out:
	if (e)
		r = ext_errno(ES(sb), e, src ? src : odir->ino);
	unlock_fs(sb);
	put_all(live, 3);
	return r;
}

static int ext_readlink(struct inode *inode, char *buf, size_t size)
{
	ext2_filsys fs = lock_fs(inode->sb);
	struct ext2_inode_large in;
	char *blk = NULL;
	int r;
	errcode_t e = read_ino(fs, inode->ino, &in);
	if (e)
		goto out;
	size_t len = MIN((size_t)EXT2_I_SIZE(&in), size);
	if (ext2fs_is_fast_symlink(EXT2_INODE(&in))) {
		len = MIN(len, sizeof(in.i_block));
		memcpy(buf, in.i_block, len);
	} else {
		blk64_t pblk = 0;
		blk = xmalloc(fs->blocksize);
		len = MIN(len, fs->blocksize);
		e = ext2fs_bmap2(fs, inode->ino, EXT2_INODE(&in), NULL, 0, 0, NULL, &pblk);
		if (!e && !pblk)
			e = EXT2_ET_INODE_CORRUPTED;
		if (!e)
			e = ext_io_read_data(fs->io, pblk, 1, blk, 0);
		if (!e)
			memcpy(buf, blk, len);
	}
	r = len;
out:
	if (e)
		r = ext_errno(ES(inode->sb), e, inode->ino);
	unlock_fs(inode->sb);
	free(blk);
	return r;
}

static int ext_setattr(struct inode *inode, const struct iattr *a)
{
	struct super_block *sb = inode->sb;
	if (is_ro(sb))
		return -EROFS;
	if ((a->valid & ATTR_SIZE) && !S_ISREG(inode->mode))
		return S_ISDIR(inode->mode) ? -EISDIR : -EINVAL;
	/* Before the lock: it waits for pages under I/O, which needs the lock. */
	if (a->valid & ATTR_SIZE)
		pagecache_truncate(inode, a->size);
	ext2_filsys fs = lock_fs(sb);
	struct ext2_inode_large in;
	errcode_t e = 0;
	if (a->valid & ATTR_SIZE) {
		ext2_file_t f;
		forget_map(inode);
		e = ext2fs_file_open(fs, inode->ino, EXT2_FILE_WRITE, &f);
		if (!e) {
			e = ext2fs_file_set_size2(f, a->size);
			errcode_t e2 = ext2fs_file_close(f);
			e = e ? e : e2;
		}
	}
	if (!e)
		e = read_ino(fs, inode->ino, &in);
	if (e)
		goto out;
	if (a->valid & ATTR_MODE)
		in.i_mode = (in.i_mode & S_IFMT) | (a->mode & 07777);
	if (a->valid & (ATTR_UID | ATTR_GID))
		set_owner(&in, a->valid & ATTR_UID ? a->uid : inode_uid(in),
			  a->valid & ATTR_GID ? a->gid : inode_gid(in));
	if (a->valid & ATTR_ATIME)
		PUT_TIME(&in, atime, a->atime);
	if (a->valid & ATTR_MTIME)
		PUT_TIME(&in, mtime, a->mtime);
	if (a->valid & ATTR_CTIME)
		PUT_TIME(&in, ctime, a->ctime);
	e = write_ino(fs, inode->ino, &in);
	if (a->valid & ATTR_SIZE)
		inode->size = a->size;
	fill_vfs(inode, fs, &in);
out:
	unlock_fs(sb);
	return ext_errno(ES(sb), e, inode->ino);
}

/* --- file data ------------------------------------------------------------------- */

#define RA_MAX_BYTES (1u << 20)
#define ALLOC_MAX_BYTES (4u << 20) /* within the block cache, which holds the zeroing */

static void remember(struct inode *i, blk64_t lblk, blk64_t pblk, blk64_t len, bool uninit)
{
	struct ext_inode *ei = EI(i);
	if (ei)
		*ei = (struct ext_inode){lblk, pblk, len, uninit, ei->ra_next, ei->ra_pages};
}

/* Map logical block lblk: its physical block (0 in a hole) and how many blocks from
 * lblk on are mapped contiguously (at least 1; a block map is probed up to max);
 * unwritten extents are flagged. */
static errcode_t map_block(ext2_filsys fs, struct inode *i, struct ext2_inode_large *in,
			   blk64_t lblk, blk64_t max, blk64_t *pblk, blk64_t *count, bool *uninit)
{
	struct ext_inode *ei = EI(i);
	*count = 1;
	*uninit = false;
	if (ei && ei->len && lblk >= ei->lblk && lblk - ei->lblk < ei->len) {
		*pblk = ei->pblk + (lblk - ei->lblk);
		*count = ei->len - (lblk - ei->lblk);
		*uninit = ei->uninit;
		return 0;
	}
	if (!(in->i_flags & EXT4_EXTENTS_FL)) { /* ext2/ext3 block map */
		errcode_t e = ext2fs_bmap2(fs, i->ino, EXT2_INODE(in), NULL, 0, lblk, NULL, pblk);
		while (!e && *pblk && *count < max) {
			blk64_t next = 0;
			e = ext2fs_bmap2(fs, i->ino, EXT2_INODE(in), NULL, 0, lblk + *count, NULL,
					 &next);
			if (next != *pblk + *count)
				break;
			++*count;
		}
		if (!e && *pblk)
			remember(i, lblk, *pblk, *count, false);
		return e;
	}
	ext2_extent_handle_t h;
	struct ext2fs_extent ex;
	errcode_t e = ext2fs_extent_open2(fs, i->ino, EXT2_INODE(in), &h);
	if (e)
		return e;
	e = ext2fs_extent_goto(h, lblk);
	if (!e)
		e = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ex);
	ext2fs_extent_free(h);
	*pblk = 0;
	if (e == EXT2_ET_EXTENT_NOT_FOUND || e == EXT2_ET_EXTENT_NO_NEXT ||
	    e == EXT2_ET_NO_CURRENT_NODE)
		return 0; /* a hole */
	if (e || lblk < ex.e_lblk || lblk - ex.e_lblk >= ex.e_len)
		return e;
	*pblk = ex.e_pblk + (lblk - ex.e_lblk);
	*count = ex.e_len - (lblk - ex.e_lblk);
	*uninit = ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT;
	remember(i, ex.e_lblk, ex.e_pblk, ex.e_len, *uninit);
	return 0;
}

/* Read one page: the blocks it covers, merged into runs; holes, unwritten extents and
 * anything past EOF read as zeros. A sequential reader gets a growing read-ahead
 * window, read along with the page in the same request. */
static int ext_readpage(struct inode *inode, uint64_t index, void *page)
{
	if (!ES(inode->sb)->fs)
		return -EIO; /* unmounted under an open file */
	ext2_filsys fs = lock_fs(inode->sb);
	unsigned bs = fs->blocksize, per = PAGE_SIZE / bs;
	blk64_t eof = (inode->size + bs - 1) / bs;
	struct ext_inode *ei = EI(inode);
	unsigned ra = 0;
	if (ei) {
		bool seq = index == ei->ra_next || index == 0;
		ei->ra_pages = seq ? MIN(MAX(ei->ra_pages * 2, 4u), RA_MAX_BYTES / PAGE_SIZE) : 0;
		ei->ra_next = index + 1;
		ra = ei->ra_pages * per;
	}
	struct ext2_inode_large in;
	errcode_t e = read_ino(fs, inode->ino, &in);
	for (unsigned k = 0; k < per && !e;) {
		blk64_t lblk = index * per + k, pblk = 0, count = 1;
		bool uninit = false;
		if (lblk < eof)
			e = map_block(fs, inode, &in, lblk, per - k + ra, &pblk, &count, &uninit);
		if (e)
			break;
		if (!pblk || uninit) {
			memset((char *)page + k * bs, 0, bs);
			k++;
			continue;
		}
		unsigned n = MIN(MIN(count, per - k), eof - lblk);
		blk64_t after = MIN(count, eof - lblk) - n; /* mapped on, within EOF */
		e = ext_io_read_data(fs->io, pblk, n, (char *)page + k * bs, MIN(after, ra));
		k += n;
	}
	unlock_fs(inode->sb);
	return ext_errno(ES(inode->sb), e, inode->ino);
}

/* Give blocks to the hole at lblk: in extent files, to it and the dirty pages after it
 * at once (one extent update instead of one per block). Lock held. */
static errcode_t alloc_blocks(ext2_filsys fs, struct inode *i, struct ext2_inode_large *in,
			      uint64_t index, blk64_t lblk)
{
	unsigned bs = fs->blocksize, per = PAGE_SIZE / bs;
	forget_map(i);
	if (!(in->i_flags & EXT4_EXTENTS_FL)) {
		blk64_t pblk;
		return ext2fs_bmap2(fs, i->ino, EXT2_INODE(in), NULL, BMAP_ALLOC, lblk, NULL,
				    &pblk);
	}
	uint64_t pages = 1 + pagecache_dirty_run(i, index, ALLOC_MAX_BYTES / PAGE_SIZE - 1);
	blk64_t end = MIN((index + pages) * per, (i->size + bs - 1) / bs);
	if (low_space(fs, end - lblk))
		end = lblk + 1;
	/* Initialized and zeroed: zeros cost a copy in the cache, overwritten right away
	 * by the data; and it lets libext2fs grow the extent on the left. */
	errcode_t e =
	    ext2fs_fallocate(fs, EXT2_FALLOCATE_FORCE_INIT | EXT2_FALLOCATE_ZERO_BLOCKS, i->ino,
			     EXT2_INODE(in), ~0ULL, lblk, MAX(end, lblk + 1) - lblk);
	errcode_t e2 = write_ino(fs, i->ino, in);
	return e ? e : e2;
}

/* Write the first len bytes of one page, allocating blocks as needed. */
static int ext_writepage(struct inode *inode, uint64_t index, const void *page, size_t len)
{
	if (is_ro(inode->sb))
		return -EROFS;
	if (!ES(inode->sb)->fs)
		return -EIO;
	ext2_filsys fs = lock_fs(inode->sb);
	unsigned bs = fs->blocksize, per = PAGE_SIZE / bs, n = MIN((len + bs - 1) / bs, per);
	struct ext2_inode_large in;
	char *tail = NULL;
	errcode_t e = read_ino(fs, inode->ino, &in);
	if (!e && low_space(fs, n))
		e = EXT2_ET_BLOCK_ALLOC_FAIL;
	for (unsigned k = 0; k < n && !e;) {
		blk64_t lblk = index * per + k, pblk = 0, count = 1;
		bool uninit = false;
		e = map_block(fs, inode, &in, lblk, n - k, &pblk, &count, &uninit);
		if (!e && !pblk) {
			e = alloc_blocks(fs, inode, &in, index, lblk);
			if (!e)
				e = map_block(fs, inode, &in, lblk, n - k, &pblk, &count, &uninit);
			if (!e && !pblk)
				e = EXT2_ET_BLOCK_ALLOC_FAIL;
		}
		if (!e && uninit) {
			/* Writing makes an unwritten extent's block real (and splits it). */
			forget_map(inode);
			e = ext2fs_bmap2(fs, inode->ino, EXT2_INODE(&in), NULL, BMAP_SET, lblk,
					 NULL, &pblk);
			count = 1;
		}
		if (e)
			break;
		unsigned m = MIN(count, n - k);
		const char *src = (const char *)page + k * bs;
		if ((k + m) * bs > len) { /* ends with the last, partial block: zeros past EOF */
			tail = xzalloc(m * bs);
			memcpy(tail, src, len - k * bs);
			src = tail;
		}
		e = ext_io_write_data(fs->io, pblk, m, src);
		k += m;
	}
	if (!e)
		inode->blocks = ext2fs_get_stat_i_blocks(fs, EXT2_INODE(&in));
	unlock_fs(inode->sb);
	free(tail);
	return ext_errno(ES(inode->sb), e, inode->ino);
}

/* Data waits in the page cache and gets its blocks at writeback, so a full disk would
 * only show at fsync. Refuse a write up front when what it adds past EOF, plus all
 * that is dirty, cannot fit; after writing back what is dirty, check once more. */
static ssize_t ext_file_write(struct file *f, const void *buf, size_t n, loff_t *pos)
{
	struct inode *i = f->inode;
	ext2_filsys fs = ES(i->sb)->fs;
	uint64_t start = (f->flags & O_APPEND) ? i->size : (uint64_t)*pos;
	if (fs && n && *pos >= 0 && !is_ro(i->sb)) {
		unsigned bs = fs->blocksize;
		uint64_t from = MAX(start, i->size), to = start + n;
		blk64_t need = to > from ? (to + bs - 1) / bs - from / bs : 0;
		for (int pass = 0;; pass++) {
			uint64_t cached, dirty;
			pagecache_stats(&cached, &dirty);
			if (!low_space(fs, need + (pass ? 0 : dirty / bs)))
				break;
			if (pass)
				return -ENOSPC;
			pagecache_sync(i->sb);
		}
	}
	return generic_file_write(f, buf, n, pos);
}

/* --- directories ----------------------------------------------------------------- */

/* Directory positions are byte offsets of entries (block * blocksize + offset), as in
 * Linux for non-indexed directories: stable across calls while entries come and go. */
static int ext_readdir(struct file *f, struct dir_ctx *ctx)
{
	struct inode *inode = f->inode;
	ext2_filsys fs = lock_fs(inode->sb);
	unsigned bs = fs->blocksize;
	bool ft = ext2fs_has_feature_filetype(fs->super);
	struct ext2_inode_large in;
	char *buf = xmalloc(bs);
	errcode_t e = read_ino(fs, inode->ino, &in);
	uint64_t size = EXT2_I_SIZE(&in);
	while (!e && ctx->pos >= 0 && (uint64_t)ctx->pos < size) {
		blk64_t lblk = ctx->pos / bs, pblk = 0;
		unsigned from = ctx->pos % bs;
		e = ext2fs_bmap2(fs, inode->ino, EXT2_INODE(&in), NULL, 0, lblk, NULL, &pblk);
		if (!e && pblk)
			e = ext2fs_read_dir_block4(fs, pblk, buf, 0, inode->ino);
		for (unsigned off = 0; !e && pblk && off < bs;) {
			struct ext2_dir_entry *d = (void *)(buf + off);
			unsigned rec;
			e = ext2fs_get_rec_len(fs, d, &rec);
			unsigned nlen = ext2fs_dirent_name_len(d);
			if (!e && (rec < 8 || rec % 4 || off + rec > bs || nlen + 8 > rec))
				e = EXT2_ET_DIR_CORRUPTED;
			if (e)
				break;
			if (off >= from && d->inode) {
				unsigned dt =
				    ft ? dtype_of(ext2fs_dirent_file_type(d)) : DT_UNKNOWN;
				if (!ctx->emit(ctx, d->name, nlen, d->inode, dt))
					goto out;
			}
			off += rec;
			if (off > from)
				ctx->pos = lblk * bs + off;
		}
		if (!e)
			ctx->pos = (lblk + 1) * bs;
	}
out:
	unlock_fs(inode->sb);
	free(buf);
	return ext_errno(ES(inode->sb), e, inode->ino);
}

static int ext_dir_fsync(struct file *f, bool datasync)
{
	struct super_block *sb = f->inode->sb;
	return sb->ops->sync(sb, true);
}

/* --- superblock ------------------------------------------------------------------ */

static int ext_statfs(struct super_block *sb, struct statfs *st)
{
	ext2_filsys fs = lock_fs(sb);
	struct ext2_super_block *s = fs->super;
	blk64_t overhead = fs->desc_blocks + s->s_first_data_block +
			   (blk64_t)fs->group_desc_count * (fs->inode_blocks_per_group + 2);
	blk64_t total = ext2fs_blocks_count(s), free = ext2fs_free_blocks_count(s);
	blk64_t reserved = ext2fs_r_blocks_count(s);
	memset(st, 0, sizeof(*st));
	st->f_type = EXT_MAGIC;
	st->f_bsize = st->f_frsize = fs->blocksize;
	st->f_blocks = total > overhead ? total - overhead : total;
	st->f_bfree = free;
	st->f_bavail = free > reserved ? free - reserved : 0;
	st->f_files = s->s_inodes_count;
	st->f_ffree = s->s_free_inodes_count;
	uint32_t u[4];
	memcpy(u, s->s_uuid, sizeof(u));
	st->f_fsid.__val[0] = u[0] ^ u[1];
	st->f_fsid.__val[1] = u[2] ^ u[3];
	st->f_namelen = EXT2_NAME_LEN;
	st->f_flags = is_ro(sb) ? ST_RDONLY : 0;
	unlock_fs(sb);
	return 0;
}

/* Lock held. Superblock, descriptors and bitmaps only when they changed. */
static errcode_t flush_fs(ext2_filsys fs, bool wait)
{
	errcode_t e = 0;
	if (!(fs->flags & EXT2_FLAG_RW))
		return 0;
	if (fs->flags & (EXT2_FLAG_DIRTY | EXT2_FLAG_BB_DIRTY | EXT2_FLAG_IB_DIRTY))
		e = ext2fs_flush2(fs, EXT2_FLAG_FLUSH_NO_SYNC);
	return e ? e : ext_io_sync(fs->io, wait);
}

static int ext_sync(struct super_block *sb, bool wait)
{
	ext2_filsys fs = lock_fs(sb);
	errcode_t e = flush_fs(fs, wait);
	unlock_fs(sb);
	return ext_errno(ES(sb), e, 0);
}

static int ext_write_inode(struct inode *i)
{
	if (is_ro(i->sb) || !ES(i->sb)->fs)
		return 0;
	ext2_filsys fs = lock_fs(i->sb);
	struct ext2_inode_large in;
	errcode_t e = read_ino(fs, i->ino, &in);
	if (!e) {
		in.i_mode = (in.i_mode & S_IFMT) | (i->mode & 07777);
		set_owner(&in, i->uid, i->gid);
		/* Growing only: shrinking frees blocks and goes through setattr. */
		if (S_ISREG(i->mode) && i->size > EXT2_I_SIZE(&in))
			e = ext2fs_inode_size_set(fs, EXT2_INODE(&in), i->size);
		PUT_TIME(&in, atime, i->atime);
		PUT_TIME(&in, mtime, i->mtime);
		PUT_TIME(&in, ctime, i->ctime);
	}
	if (!e)
		e = write_ino(fs, i->ino, &in);
	unlock_fs(i->sb);
	return ext_errno(ES(i->sb), e, i->ino);
}

static void ext_evict_inode(struct inode *i)
{
	struct ext_sb *es = ES(i->sb);
	free(EI(i));
	i->priv = &dying;
	pagecache_evict(i);
	if (!i->nlink && !is_ro(i->sb) && es->fs) {
		ext2_filsys fs = lock_fs(i->sb);
		struct ext2_inode_large in;
		errcode_t e = read_ino(fs, i->ino, &in);
		if (!e && !in.i_links_count)
			e = free_ino(fs, i->ino, &in);
		unlock_fs(i->sb);
		ext_errno(es, e, i->ino);
	}
	wake_up(&es->evicted);
}

/* Lock held: read-write to read-only and back, marking the fs clean or in use. */
static errcode_t set_rw(struct ext_sb *es, bool rw)
{
	ext2_filsys fs = es->fs;
	struct ext2_super_block *s = fs->super;
	errcode_t e;
	if (rw) {
		ext_io_set_rw(fs->io, true);
		fs->flags |= EXT2_FLAG_RW | EXT2_FLAG_DIRTY;
		if ((e = ext2fs_read_bitmaps(fs)))
			return e;
		es->mount_state = s->s_state;
		s->s_state &= ~EXT2_VALID_FS;
		s->s_mnt_count++;
		s->s_mtime = current_time().tv_sec;
		ext2fs_mark_super_dirty(fs);
		/* Written now, not flushed: a host crash loses more than this anyway, and
		 * a flush would cost every boot a disk barrier. */
		return flush_fs(fs, false);
	}
	s->s_state = es->mount_state;
	if (es->errors)
		s->s_state = (s->s_state & ~EXT2_VALID_FS) | EXT2_ERROR_FS;
	if ((e = ext2fs_set_gdt_csum(fs)))
		return e;
	ext2fs_mark_super_dirty(fs);
	e = flush_fs(fs, true);
	fs->flags &= ~EXT2_FLAG_RW;
	ext_io_set_rw(fs->io, false);
	return e;
}

static void ext_put_super(struct super_block *sb)
{
	struct ext_sb *es = ES(sb);
	pagecache_sync(sb);
	if (sb->root) {
		iput(sb->root);
		sb->root = NULL;
	}
	ext2_filsys fs = lock_fs(sb);
	errcode_t e = 0;
	if (!is_ro(sb))
		e = set_rw(es, false);
	errcode_t e2 = ext2fs_close2(fs, 0);
	if (e || e2)
		printk("vmlinux: %s: unmount: %s\n", sb->source, error_message(e ? e : e2));
	es->fs = NULL;
	unlock_fs(sb);
	/* Inodes still live would evict into freed state: keep it (they find fs gone). */
	if (list_empty(&sb->inodes)) {
		sb->priv = NULL;
		free(es);
	}
}

static int ext_remount(struct super_block *sb, unsigned long flags)
{
	bool ro = flags & MS_RDONLY;
	if (ro == is_ro(sb))
		return 0;
	if (ro)
		pagecache_sync(sb);
	lock_fs(sb);
	errcode_t e = 0;
	struct blkdev *dev = blk_lookup(sb->source);
	if (!ro && (!dev || dev->readonly))
		e = EXT2_ET_RO_FILSYS;
	else
		e = set_rw(ES(sb), !ro);
	if (!e)
		sb->flags = ro ? sb->flags | MS_RDONLY : sb->flags & ~MS_RDONLY;
	unlock_fs(sb);
	return ext_errno(ES(sb), e, 0);
}

/* --- mounting -------------------------------------------------------------------- */

#define INCOMPAT_OK                                                                                \
	(EXT2_FEATURE_INCOMPAT_FILETYPE | EXT2_FEATURE_INCOMPAT_META_BG |                          \
	 EXT3_FEATURE_INCOMPAT_RECOVER | EXT3_FEATURE_INCOMPAT_EXTENTS |                           \
	 EXT4_FEATURE_INCOMPAT_FLEX_BG | EXT4_FEATURE_INCOMPAT_EA_INODE |                          \
	 EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_CSUM_SEED |                           \
	 EXT4_FEATURE_INCOMPAT_LARGEDIR)
/* Readable, but libext2fs would not keep them right when writing. */
#define RO_COMPAT_RO_ONLY                                                                          \
	(EXT4_FEATURE_RO_COMPAT_QUOTA | EXT4_FEATURE_RO_COMPAT_PROJECT |                           \
	 EXT4_FEATURE_RO_COMPAT_VERITY | EXT4_FEATURE_RO_COMPAT_SHARED_BLOCKS |                    \
	 EXT4_FEATURE_RO_COMPAT_READONLY | EXT4_FEATURE_RO_COMPAT_BIGALLOC |                       \
	 EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT)
/* What Linux accepts when asked for "ext2" or "ext3" rather than "ext4". */
#define EXT2_INCOMPAT (EXT2_FEATURE_INCOMPAT_FILETYPE | EXT2_FEATURE_INCOMPAT_META_BG)
#define EXT3_INCOMPAT (EXT2_INCOMPAT | EXT3_FEATURE_INCOMPAT_RECOVER)
#define EXT23_RO_COMPAT                                                                            \
	(EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE |                 \
	 EXT2_FEATURE_RO_COMPAT_BTREE_DIR)

static const char *feature_name(uint32_t incompat)
{
	if (incompat & EXT4_FEATURE_INCOMPAT_INLINE_DATA)
		return "inline_data";
	if (incompat & EXT4_FEATURE_INCOMPAT_ENCRYPT)
		return "encrypt";
	if (incompat & EXT4_FEATURE_INCOMPAT_CASEFOLD)
		return "casefold";
	if (incompat & EXT3_FEATURE_INCOMPAT_JOURNAL_DEV)
		return "journal_dev";
	if (incompat & EXT4_FEATURE_INCOMPAT_MMP)
		return "mmp";
	return "unknown";
}

/* One line naming the device and why it cannot be mounted, or 0. */
static int check_features(ext2_filsys fs, const char *type, const char *src, bool ro)
{
	struct ext2_super_block *s = fs->super;
	if (s->s_feature_incompat & EXT3_FEATURE_INCOMPAT_RECOVER) {
		printk("vmlinux: %s: journal needs recovery; run e2fsck -fy <image> on the host\n",
		       src);
		return -EUCLEAN;
	}
	uint32_t bad = s->s_feature_incompat & ~INCOMPAT_OK;
	if (bad) {
		printk("vmlinux: %s: unsupported ext4 feature %s (0x%x)\n", src, feature_name(bad),
		       bad);
		return -EINVAL;
	}
	bool ext2 = !strcmp(type, "ext2"), ext3 = !strcmp(type, "ext3");
	if ((ext2 && (s->s_feature_incompat & ~EXT2_INCOMPAT)) ||
	    (ext3 && (s->s_feature_incompat & ~EXT3_INCOMPAT)) ||
	    ((ext2 || ext3) && !ro && (s->s_feature_ro_compat & ~EXT23_RO_COMPAT))) {
		printk("vmlinux: %s: couldn't mount as %s due to feature incompatibilities\n", src,
		       type);
		return -EINVAL;
	}
	if (!ro && (s->s_feature_ro_compat & RO_COMPAT_RO_ONLY)) {
		printk("vmlinux: %s: filesystem features 0x%x are supported read-only; mount with "
		       "-o ro\n",
		       src, s->s_feature_ro_compat & RO_COMPAT_RO_ONLY);
		return -EROFS;
	}
	if (fs->blocksize > PAGE_SIZE) {
		printk("vmlinux: %s: block size %u larger than the page size is not supported\n",
		       src, fs->blocksize);
		return -EINVAL;
	}
	return 0;
}

static int open_errno(errcode_t e)
{
	switch (e) {
	case EXT2_ET_BAD_MAGIC:
	case EXT2_ET_UNSUPP_FEATURE:
	case EXT2_ET_REV_TOO_HIGH:
	case EXT2_ET_UNEXPECTED_BLOCK_SIZE:
		return -EINVAL;
	case EXT2_ET_RO_UNSUPP_FEATURE:
	case EROFS:
		return -EROFS;
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case ENXIO:
		return -ENXIO;
	case EIO:
	case EXT2_ET_SHORT_READ:
		return -EIO;
	}
	return -EUCLEAN; /* a damaged superblock or group descriptors */
}

static const struct super_ops ext_sops;

/* Give up on a filesystem that could not be mounted: write nothing to it. */
static void close_unwritten(ext2_filsys fs)
{
	fs->flags &= ~(EXT2_FLAG_RW | EXT2_FLAG_DIRTY | EXT2_FLAG_BB_DIRTY | EXT2_FLAG_IB_DIRTY);
	ext_io_set_rw(fs->io, false);
	ext2fs_close2(fs, EXT2_FLAG_FLUSH_NO_SYNC);
}

static int ext_mount(const struct fs_type *type, const char *source, unsigned long flags,
		     const char *data, struct super_block **out)
{
	struct blkdev *dev = blk_lookup(source);
	if (!dev) {
		printk("vmlinux: %s: no such block device\n", source);
		return -ENXIO;
	}
	bool ro = (flags & MS_RDONLY) || dev->readonly;
	if (ro && !(flags & MS_RDONLY))
		printk("vmlinux: %s: write-protected, mounting read-only\n", source);
	ext2_filsys fs = NULL;
	int oflags = EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP | (ro ? 0 : EXT2_FLAG_RW);
	errcode_t e = ext2fs_open2(source, NULL, oflags, 0, 0, &ext_io_manager, &fs);
	if (e) {
		printk("vmlinux: %s: %s\n", source,
		       e == EXT2_ET_BAD_MAGIC ? "not an ext2/ext3/ext4 filesystem (bad magic)"
					      : error_message(e));
		return open_errno(e);
	}
	int r = check_features(fs, type->name, source, ro);
	if (!r && (e = ext2fs_check_desc(fs))) {
		printk("vmlinux: %s: %s\n", source, error_message(e));
		r = -EUCLEAN;
	}
	if (r) {
		close_unwritten(fs);
		return r;
	}
	struct ext_sb *es = xzalloc(sizeof(*es));
	es->fs = fs;
	es->mount_state = fs->super->s_state;
	kmutex_init(&es->lock);
	waitq_init(&es->evicted);
	struct super_block *sb = xzalloc(sizeof(*sb));
	es->sb = sb;
	sb->type = type;
	sb->ops = &ext_sops;
	sb->dev = makedev(dev->major, dev->minor);
	sb->flags = flags | (ro ? MS_RDONLY : 0);
	sb->magic = EXT_MAGIC;
	snprintf(sb->source, sizeof(sb->source), "%s", source);
	sb->priv = es;
	list_init(&sb->inodes);
	if (fs->super->s_state & EXT2_ERROR_FS)
		printk("vmlinux: %s: filesystem has errors; run e2fsck\n", source);
	kmutex_lock(&es->lock);
	e = ro ? 0 : set_rw(es, true);
	bool marked = !ro && !e;
	if (e) {
		printk("vmlinux: %s: %s\n", source, error_message(e));
		r = open_errno(e);
	} else {
		r = ext_iget(sb, EXT2_ROOT_INO, &sb->root);
		if (!r && !S_ISDIR(sb->root->mode)) {
			printk("vmlinux: %s: root inode is not a directory; run e2fsck\n", source);
			r = -EUCLEAN;
		}
	}
	kmutex_unlock(&es->lock);
	if (r) {
		if (sb->root)
			iput(sb->root);
		kmutex_lock(&es->lock);
		if (marked && !set_rw(es, false)) /* back to the state it was found in */
			ext2fs_close2(fs, 0);
		else
			close_unwritten(fs);
		kmutex_unlock(&es->lock);
		free(es);
		free(sb);
		return r;
	}
	*out = sb;
	return 0;
}

int ext_sb_errno(struct super_block *sb, errcode_t e, ext2_ino_t ino)
{
	return ext_errno(ES(sb), e, ino);
}

#define EXT_XATTR_OPS                                                                              \
	.getxattr = ext_getxattr, .setxattr = ext_setxattr, .listxattr = ext_listxattr,            \
	.removexattr = ext_removexattr

static const struct inode_ops ext_dir_iops = {
    .lookup = ext_lookup,
    .create = ext_create,
    .mkdir = ext_mkdir,
    .symlink = ext_symlink,
    .link = ext_link,
    .unlink = ext_unlink,
    .rmdir = ext_rmdir,
    .rename = ext_rename,
    .setattr = ext_setattr,
    EXT_XATTR_OPS,
};

static const struct inode_ops ext_file_iops = {
    .setattr = ext_setattr,
    .readpage = ext_readpage,
    .writepage = ext_writepage,
    EXT_XATTR_OPS,
};

static const struct inode_ops ext_link_iops = {
    .readlink = ext_readlink,
    .setattr = ext_setattr,
    EXT_XATTR_OPS,
};

static const struct inode_ops ext_special_iops = {
    .setattr = ext_setattr,
    EXT_XATTR_OPS,
};

static const struct file_ops ext_file_fops = {
    .read = generic_file_read,
    .write = ext_file_write,
    .fsync = generic_file_fsync,
};

static const struct file_ops ext_dir_fops = {
    .readdir = ext_readdir,
    .fsync = ext_dir_fsync,
    .ioctl = ext_dir_ioctl,
};

static const struct super_ops ext_sops = {
    .statfs = ext_statfs,
    .sync = ext_sync,
    .write_inode = ext_write_inode,
    .evict_inode = ext_evict_inode,
    .put_super = ext_put_super,
    .remount = ext_remount,
};

static struct fs_type ext_types[] = {
    {.name = "ext4", .needs_dev = true, .mount = ext_mount},
    {.name = "ext3", .needs_dev = true, .mount = ext_mount},
    {.name = "ext2", .needs_dev = true, .mount = ext_mount},
};

void ext_fs_register(void)
{
	initialize_ext2_error_table();
	for (size_t k = 0; k < ARRAY_SIZE(ext_types); k++)
		register_filesystem(&ext_types[k]);
}
