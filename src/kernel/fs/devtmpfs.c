/* devtmpfs: a tmpfs whose root is filled at mount with a node for every registered
 * character and block device, the /dev/fd and std{in,out,err} links, and the pts and
 * shm directories. All mounts share one instance; devices registered after the mount
 * do not appear in it. */
#include "fs.h"
#include "pseudofs.h"
#include "../blkdev.h"
#include <sys/sysmacros.h>

/* Devices everyone may use; the rest are root's, as udev would leave them. */
static const struct {
	const char *name;
	mode_t mode;
} public_devs[] = {
    {"null", 0666},    {"zero", 0666}, {"full", 0666}, {"random", 0666},
    {"urandom", 0666}, {"tty", 0666},  {"ptmx", 0666}, {"kmsg", 0644},
};

static mode_t dev_mode(const char *name)
{
	for (size_t k = 0; k < ARRAY_SIZE(public_devs); k++)
		if (!strcmp(public_devs[k].name, name))
			return public_devs[k].mode;
	return 0600;
}

/* Make path (whose directories are created as needed) below root: a directory, a
 * symlink to target, or a device node. Failures leave the node out. */
static void dev_add(struct inode *root, const char *path, mode_t mode, dev_t rdev,
		    const char *target)
{
	char *copy = xstrdup(path), *name = copy, *slash;
	struct inode *dir = root, *i;
	igrab(dir);
	while ((slash = strchr(name, '/'))) {
		*slash = '\0';
		if (dir->iop->lookup(dir, name, &i) && dir->iop->mkdir(dir, name, 0755, &i))
			goto out;
		iput(dir);
		dir = i;
		name = slash + 1;
	}
	int err = S_ISDIR(mode)	  ? dir->iop->mkdir(dir, name, mode, &i)
		  : S_ISLNK(mode) ? dir->iop->symlink(dir, name, target, &i)
				  : dir->iop->create(dir, name, mode, rdev, &i);
	if (!err)
		iput(i);
out:
	iput(dir);
	free(copy);
}

static void devtmpfs_populate(struct inode *root)
{
	list_for_each(it, &chrdev_list)
	{
		struct chrdev *c = list_entry(it, struct chrdev, link);
		if (c->minor == CHRDEV_ANY_MINOR) /* a family (pty slaves): no one node */
			continue;
		dev_add(root, c->name, S_IFCHR | dev_mode(c->name), makedev(c->major, c->minor),
			NULL);
	}
	for (struct blkdev *d = blk_next(NULL); d; d = blk_next(d))
		dev_add(root, d->name, S_IFBLK | 0660, makedev(d->major, d->minor), NULL);
	dev_add(root, "fd", S_IFLNK, 0, "/proc/self/fd");
	dev_add(root, "stdin", S_IFLNK, 0, "/proc/self/fd/0");
	dev_add(root, "stdout", S_IFLNK, 0, "/proc/self/fd/1");
	dev_add(root, "stderr", S_IFLNK, 0, "/proc/self/fd/2");
	dev_add(root, "pts", S_IFDIR | 0755, 0, NULL);
	dev_add(root, "shm", S_IFDIR | 01777, 0, NULL);
}

/* One devtmpfs for the whole kernel, as in Linux: every mount shows the same nodes,
 * so /dev/console reached through any mount is the same inode (ttyname relies on it). */
static struct super_block *devtmpfs_sb;
static struct super_ops devtmpfs_sops;
static void (*tmpfs_put_super)(struct super_block *sb);

static void devtmpfs_put_super(struct super_block *sb)
{
	devtmpfs_sb = NULL;
	tmpfs_put_super(sb);
}

static int devtmpfs_mount(const struct fs_type *type, const char *source, unsigned long flags,
			  const char *data, struct super_block **out)
{
	if (devtmpfs_sb) {
		*out = devtmpfs_sb;
		return 0;
	}
	int err = tmpfs_fill_super(type, source, flags, data, 0755, out);
	if (err)
		return err;
	devtmpfs_populate((*out)->root);
	devtmpfs_sops = *(*out)->ops;
	tmpfs_put_super = devtmpfs_sops.put_super;
	devtmpfs_sops.put_super = devtmpfs_put_super;
	(*out)->ops = &devtmpfs_sops;
	devtmpfs_sb = *out;
	return 0;
}

static struct fs_type devtmpfs_type = {
    .name = "devtmpfs",
    .mount = devtmpfs_mount,
};

void devtmpfs_register(void)
{
	register_filesystem(&devtmpfs_type);
}
