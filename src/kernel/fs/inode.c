/* The inode cache: inodes as the VFS allocates, finds and frees them for every
 * filesystem, and their timestamps. */
#include "internal.h"

long nr_inodes;

struct timespec current_time(void)
{
	uint64_t ns = ktime_real();
	return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

struct inode *new_inode(struct super_block *sb, mode_t mode)
{
	struct inode *i = xzalloc(sizeof(*i));
	i->sb = sb;
	i->mode = mode;
	i->nlink = 1;
	i->refcount = 1;
	i->atime = i->mtime = i->ctime = current_time();
	nr_inodes++;
	if (current && current->proc) {
		i->uid = current->proc->cred.fsuid;
		i->gid = current->proc->cred.fsgid;
	}
	list_init(&i->sb_link);
	if (sb) {
		i->ino = ++sb->next_ino;
		if (!sb->inodes.next)
			list_init(&sb->inodes);
		list_add_tail(&i->sb_link, &sb->inodes);
	}
	return i;
}

struct inode *iget(struct super_block *sb, uint64_t ino)
{
	if (!sb->inodes.next)
		return NULL;
	list_for_each(it, &sb->inodes)
	{
		struct inode *i = list_entry(it, struct inode, sb_link);
		if (i->ino == ino) {
			i->refcount++;
			return i;
		}
	}
	return NULL;
}

void igrab(struct inode *i)
{
	i->refcount++;
}

/* The last reference is gone: the filesystem lets go of it (and of its storage when
 * nlink is 0), then the VFS frees the struct it allocated in new_inode(). */
void iput(struct inode *i)
{
	if (!i || --i->refcount > 0)
		return;
	/* Out of the inode cache first: eviction may sleep on the disk, and an iget()
	 * meanwhile must read a fresh inode rather than find this dying one. */
	list_del(&i->sb_link);
	if (i->sb && i->sb->ops && i->sb->ops->evict_inode)
		i->sb->ops->evict_inode(i);
	free(i);
	nr_inodes--;
}

void mark_inode_dirty(struct inode *i)
{
	if (i->sb && i->sb->ops && i->sb->ops->write_inode)
		i->sb->ops->write_inode(i);
}

void inode_touch(struct inode *i, bool atime, bool mtime, bool ctime)
{
	struct timespec now = current_time();
	if (atime)
		i->atime = now;
	if (mtime)
		i->mtime = now;
	if (ctime)
		i->ctime = now;
	if (atime || mtime || ctime)
		mark_inode_dirty(i);
}

void setattr_copy(struct inode *i, const struct iattr *a)
{
	if (a->valid & ATTR_MODE)
		i->mode = (i->mode & S_IFMT) | (a->mode & 07777);
	if (a->valid & ATTR_UID)
		i->uid = a->uid;
	if (a->valid & ATTR_GID)
		i->gid = a->gid;
	if (a->valid & ATTR_ATIME)
		i->atime = a->atime;
	if (a->valid & ATTR_MTIME)
		i->mtime = a->mtime;
	if (a->valid & ATTR_CTIME)
		i->ctime = a->ctime;
}
