/* sysfs: a small read-only tree of what programs look for: block devices
 * (/sys/block/<dev>/{size,dev,ro,removable,stat}), terminals (/sys/class/tty/<dev>/dev),
 * the CPUs (/sys/devices/system/cpu/{online,possible,present}), and the empty
 * /sys/kernel and /sys/fs/cgroup directories. */
#include "fs.h"
#include "pseudofs.h"
#include "../blkdev.h"
#include <sys/sysmacros.h>

#define SYSFS_MAGIC 0x62656572

/* Arguments of a device's entries: its number, and which kind of device it is. */
enum { A_MAJOR, A_MINOR, A_KIND };
enum { K_NONE, K_BLOCK, K_CHAR };

static struct blkdev *node_blkdev(struct inode *i)
{
	return blk_lookup_dev(PINODE(i)->arg[A_MAJOR], PINODE(i)->arg[A_MINOR]);
}

static bool is_tty(const struct chrdev *c)
{
	return (c->major == 4 || c->major == 5) && c->minor != CHRDEV_ANY_MINOR &&
	       !strchr(c->name, '/');
}

static const struct chrdev *node_chrdev(struct inode *i)
{
	list_for_each(it, &chrdev_list)
	{
		const struct chrdev *c = list_entry(it, struct chrdev, link);
		if (c->major == PINODE(i)->arg[A_MAJOR] && c->minor == PINODE(i)->arg[A_MINOR])
			return c;
	}
	return NULL;
}

static int show_dev(struct seqbuf *s, struct inode *i)
{
	seqbuf_printf(s, "%ld:%ld\n", PINODE(i)->arg[A_MAJOR], PINODE(i)->arg[A_MINOR]);
	return 0;
}

static int show_size(struct seqbuf *s, struct inode *i)
{
	seqbuf_printf(s, "%llu\n", (unsigned long long)(node_blkdev(i)->size / 512));
	return 0;
}

static int show_ro(struct seqbuf *s, struct inode *i)
{
	seqbuf_printf(s, "%d\n", node_blkdev(i)->readonly);
	return 0;
}

/* I/O statistics are not kept: the 17 counters of Linux 5.5+, all zero. */
static int show_blk_stat(struct seqbuf *s, struct inode *i)
{
	for (int k = 0; k < 17; k++)
		seqbuf_printf(s, k ? " %8u" : "%8u", 0);
	seqbuf_puts(s, "\n");
	return 0;
}

static int show_cpus(struct seqbuf *s, struct inode *i)
{
	int n = pseudo_ncpus();
	seqbuf_printf(s, n == 1 ? "0\n" : "0-%d\n", n - 1);
	return 0;
}

static const struct pnode blk_dir, tty_dir;

/* The cursor is the index in the device list. */
static bool blocks_next(struct inode *dir, uint64_t *cursor, struct pdyn_ent *e)
{
	struct blkdev *d = blk_next(NULL);
	for (uint64_t k = 0; d && k < *cursor; k++)
		d = blk_next(d);
	if (!d)
		return false;
	snprintf(e->name, sizeof(e->name), "%s", d->name);
	e->node = &blk_dir;
	e->arg[A_MAJOR] = d->major;
	e->arg[A_MINOR] = d->minor;
	e->arg[A_KIND] = K_BLOCK;
	return true;
}

static bool ttys_next(struct inode *dir, uint64_t *cursor, struct pdyn_ent *e)
{
	uint64_t k = 0;
	list_for_each(it, &chrdev_list)
	{
		const struct chrdev *c = list_entry(it, struct chrdev, link);
		if (!is_tty(c) || k++ < *cursor)
			continue;
		*cursor = k - 1;
		snprintf(e->name, sizeof(e->name), "%s", c->name);
		e->node = &tty_dir;
		e->arg[A_MAJOR] = c->major;
		e->arg[A_MINOR] = c->minor;
		e->arg[A_KIND] = K_CHAR;
		return true;
	}
	return false;
}

#define FILE_(var, fname, fn) static const struct pnode var = {fname, S_IFREG | 0444, .show = fn}
#define PDIR(var, dname, ...)                                                                      \
	static const struct pnode *const var##_children[] = {__VA_ARGS__, NULL};                   \
	static const struct pnode var = {dname, S_IFDIR | 0755, .children = var##_children}
#define EMPTY_DIR(var, dname)                                                                      \
	static const struct pnode var = {.name = dname, .mode = S_IFDIR | 0755}

FILE_(dev_file, "dev", show_dev);
FILE_(blk_size, "size", show_size);
FILE_(blk_ro, "ro", show_ro);
FILE_(blk_stat, "stat", show_blk_stat);
static const struct pnode blk_removable = {"removable", S_IFREG | 0444, .text = "0\n"};
PDIR(blk_dir, "", &blk_size, &dev_file, &blk_ro, &blk_removable, &blk_stat);
PDIR(tty_dir, "", &dev_file);

static const struct pnode sys_block = {"block", S_IFDIR | 0755, .next = blocks_next};
static const struct pnode class_tty = {"tty", S_IFDIR | 0755, .next = ttys_next};
PDIR(sys_class, "class", &class_tty);
FILE_(cpu_online, "online", show_cpus);
FILE_(cpu_possible, "possible", show_cpus);
FILE_(cpu_present, "present", show_cpus);
PDIR(sys_cpu, "cpu", &cpu_online, &cpu_possible, &cpu_present);
PDIR(sys_system, "system", &sys_cpu);
PDIR(sys_devices, "devices", &sys_system);
EMPTY_DIR(sys_kernel, "kernel");
EMPTY_DIR(fs_cgroup, "cgroup");
PDIR(sys_fs, "fs", &fs_cgroup);
PDIR(sys_root, "", &sys_block, &sys_class, &sys_devices, &sys_fs, &sys_kernel);

static int sysfs_revalidate(struct inode *i)
{
	switch (PINODE(i)->arg[A_KIND]) {
	case K_BLOCK:
		return node_blkdev(i) ? 0 : -ENOENT;
	case K_CHAR:
		return node_chrdev(i) ? 0 : -ENOENT;
	default:
		return 0;
	}
}

static const struct pseudo_fs sysfs = {
    .root = &sys_root,
    .magic = SYSFS_MAGIC,
    .revalidate = sysfs_revalidate,
};

static int sysfs_mount(const struct fs_type *type, const char *source, unsigned long flags,
		       const char *data, struct super_block **out)
{
	return pseudo_mount(&sysfs, type, source, flags, out);
}

static struct fs_type sysfs_type = {
    .name = "sysfs",
    .mount = sysfs_mount,
};

void sysfs_register(void)
{
	register_filesystem(&sysfs_type);
}
