/* The registries of filesystem types and character devices. */
#include "internal.h"

static struct list fs_types = LIST_INIT(fs_types);
struct list chrdev_list = LIST_INIT(chrdev_list);

void register_filesystem(struct fs_type *t)
{
	list_add_tail(&t->link, &fs_types);
}

const struct fs_type *find_filesystem(const char *name)
{
	list_for_each(it, &fs_types)
	{
		struct fs_type *t = list_entry(it, struct fs_type, link);
		if (!strcmp(t->name, name))
			return t;
	}
	return NULL;
}

const struct fs_type *next_filesystem(const struct fs_type *prev)
{
	const struct list *at = prev ? prev->link.next : fs_types.next;
	return at == &fs_types ? NULL : list_entry(at, struct fs_type, link);
}

void register_chrdev(unsigned major, unsigned minor, const char *name, const struct file_ops *fop)
{
	struct chrdev *c = xzalloc(sizeof(*c));
	c->major = major;
	c->minor = minor;
	c->name = name;
	c->fop = fop;
	list_add_tail(&c->link, &chrdev_list);
}

const struct file_ops *find_chrdev(dev_t rdev)
{
	const struct file_ops *any = NULL;
	list_for_each(it, &chrdev_list)
	{
		struct chrdev *c = list_entry(it, struct chrdev, link);
		if (c->major != major(rdev))
			continue;
		if (c->minor == minor(rdev))
			return c->fop;
		if (c->minor == CHRDEV_ANY_MINOR)
			any = c->fop;
	}
	return any;
}
