/* tmpfs and devtmpfs through their operation tables, on a fake VFS: names, links,
 * renames, eviction of unlinked inodes, readdir resuming at ctx->pos, the size limit,
 * and the nodes devtmpfs makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_pseudo_kernel.h"
#include <sys/statfs.h>
#include <sys/sysmacros.h>

static struct fs_type tmpfs_test_type = {.name = "tmpfs"};

static struct super_block *mount_tmpfs(const char *data)
{
	struct super_block *sb;
	assert_int_equal(tmpfs_fill_super(&tmpfs_test_type, "tmpfs", 0, data, 01777, &sb), 0);
	return sb;
}

/* put_super releases everything (and sb) when nothing is open. */
static void umount_sb(struct super_block *sb)
{
	sb->ops->put_super(sb);
	assert_int_equal(nr_inodes, 0);
}

static struct inode *lookup(struct inode *dir, const char *name)
{
	struct inode *i = NULL;
	assert_int_equal(dir->iop->lookup(dir, name, &i), 0);
	return i;
}

static struct inode *create(struct inode *dir, const char *name)
{
	struct inode *i;
	assert_int_equal(dir->iop->create(dir, name, S_IFREG | 0644, 0, &i), 0);
	return i;
}

static struct inode *mkdir_(struct inode *dir, const char *name)
{
	struct inode *i;
	assert_int_equal(dir->iop->mkdir(dir, name, 0755, &i), 0);
	return i;
}

static ssize_t write_at(struct inode *i, const char *buf, size_t n, loff_t pos)
{
	struct file f = {.refcount = 1, .flags = O_RDWR, .inode = i, .fop = i->fop};
	return i->fop->write(&f, buf, n, &pos);
}

/* readdir into a buffer that takes per_call entries at a time. */
struct collect {
	struct dir_ctx ctx;
	int room, n;
	char names[32][32];
	uint64_t inos[32];
};

static bool collect_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
			 unsigned dtype)
{
	struct collect *c = container_of(ctx, struct collect, ctx);
	if (!c->room || c->n == 32)
		return false;
	c->room--;
	snprintf(c->names[c->n], sizeof(c->names[0]), "%.*s", (int)len, name);
	c->inos[c->n++] = ino;
	return true;
}

static bool readdir_step(struct inode *dir, struct collect *c, int per_call)
{
	struct file f = {.refcount = 1, .inode = dir, .fop = dir->fop};
	int before = c->n;
	c->ctx.emit = collect_emit;
	c->room = per_call;
	assert_int_equal(dir->fop->readdir(&f, &c->ctx), 0);
	return c->n > before;
}

static void readdir_all(struct inode *dir, struct collect *c, int per_call)
{
	memset(c, 0, sizeof(*c));
	while (readdir_step(dir, c, per_call))
		;
}

static void test_create_lookup(void **state)
{
	struct super_block *sb = mount_tmpfs(NULL);
	struct inode *root = sb->root, *a = create(root, "a"), *b;
	assert_int_equal(root->mode, S_IFDIR | 01777);
	assert_true(S_ISREG(a->mode));
	assert_int_equal(a->nlink, 1);
	assert_int_equal(a->refcount, 2); /* the name and ours */
	assert_ptr_equal(lookup(root, "a"), a);
	iput(a);
	assert_int_equal(root->iop->create(root, "a", S_IFREG | 0644, 0, &b), -EEXIST);
	assert_int_equal(root->iop->lookup(root, "nope", &b), -ENOENT);
	assert_int_equal(root->iop->create(root, "dev", S_IFCHR | 0600, makedev(1, 3), &b), 0);
	assert_int_equal(b->rdev, makedev(1, 3));
	assert_null(b->fop); /* the VFS finds the driver */
	iput(b);
	iput(a);
	umount_sb(sb);
}

static void test_mkdir_rmdir(void **state)
{
	struct super_block *sb = mount_tmpfs(NULL);
	struct inode *root = sb->root, *d = mkdir_(root, "d"), *f = create(d, "f");
	assert_int_equal(root->nlink, 3);
	assert_int_equal(d->nlink, 2);
	assert_int_equal(root->iop->rmdir(root, "d"), -ENOTEMPTY);
	assert_int_equal(root->iop->unlink(root, "d"), -EISDIR);
	assert_int_equal(d->iop->rmdir(d, "f"), -ENOTDIR);
	assert_int_equal(d->iop->unlink(d, "f"), 0);
	assert_int_equal(f->nlink, 0);
	iput(f);
	assert_int_equal(root->iop->rmdir(root, "d"), 0);
	assert_int_equal(root->nlink, 2);
	assert_int_equal(d->nlink, 0);
	/* The removed directory lives on while referenced; ".." is now itself. */
	struct collect c;
	readdir_all(d, &c, 8);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.inos[1], d->ino);
	iput(d);
	umount_sb(sb);
}

static void test_unlink_evicts(void **state)
{
	struct super_block *sb = mount_tmpfs(NULL);
	struct inode *root = sb->root, *a = create(root, "a");
	int live = nr_inodes;
	assert_int_equal(write_at(a, "hello", 5, 0), 5);
	assert_int_equal(a->size, 5);
	assert_int_equal(a->blocks, 8);
	assert_int_equal(root->iop->unlink(root, "a"), 0);
	assert_int_equal(root->iop->unlink(root, "a"), -ENOENT);
	assert_int_equal(a->nlink, 0);
	assert_int_equal(nr_inodes, live); /* still open */
	char buf[8];
	loff_t pos = 0;
	struct file f = {.refcount = 1, .inode = a, .fop = a->fop};
	assert_int_equal(a->fop->read(&f, buf, sizeof(buf), &pos), 5);
	iput(a);
	assert_int_equal(nr_inodes, live - 1);
	struct statfs st;
	sb->ops->statfs(sb, &st);
	assert_int_equal(st.f_bfree, st.f_blocks); /* its page is given back */
	umount_sb(sb);
}

static void test_rename_replace(void **state)
{
	struct super_block *sb = mount_tmpfs(NULL);
	struct inode *root = sb->root, *x = create(root, "x"), *y = create(root, "y");
	int live = nr_inodes;
	assert_int_equal(root->iop->rename(root, "x", root, "y", 0), 0);
	assert_ptr_equal(lookup(root, "y"), x);
	iput(x);
	assert_int_equal(root->iop->lookup(root, "x", &x), -ENOENT);
	assert_int_equal(y->nlink, 0);
	iput(y);
	assert_int_equal(nr_inodes, live - 1);
	assert_int_equal(x->refcount, 2);
	iput(x);

	/* A directory moves: link counts and ".." follow. */
	struct inode *d1 = mkdir_(root, "d1"), *d2 = mkdir_(root, "d2"), *sub = mkdir_(d1, "sub");
	assert_int_equal(d1->iop->rename(d1, "sub", d2, "moved", 0), 0);
	assert_int_equal(d1->nlink, 2);
	assert_int_equal(d2->nlink, 3);
	struct collect c;
	readdir_all(sub, &c, 8);
	assert_string_equal(c.names[1], "..");
	assert_int_equal(c.inos[1], d2->ino);
	/* A directory over an empty one, then over a non-empty one. */
	struct inode *e = mkdir_(root, "e");
	assert_int_equal(d2->iop->rename(d2, "moved", root, "e", 0), 0);
	assert_int_equal(e->nlink, 0);
	assert_int_equal(d2->nlink, 2);
	assert_int_equal(root->iop->rename(root, "d1", root, "d2", 0), 0);
	assert_int_equal(root->iop->rename(root, "e", root, "d2", 0), 0);
	iput(e);
	iput(sub);
	iput(d1);
	iput(d2);
	umount_sb(sb);
}

static void test_rename_flags(void **state)
{
	struct super_block *sb = mount_tmpfs(NULL);
	struct inode *root = sb->root, *a = create(root, "a"), *d = mkdir_(root, "d");
	assert_int_equal(root->iop->rename(root, "a", root, "d", 1 /* NOREPLACE */), -EEXIST);
	assert_int_equal(root->iop->rename(root, "a", root, "d", 0), -EISDIR);
	assert_int_equal(root->iop->rename(root, "d", root, "a", 0), -ENOTDIR);
	assert_int_equal(root->iop->rename(root, "a", root, "d", 2 /* EXCHANGE */), 0);
	assert_ptr_equal(lookup(root, "a"), d);
	assert_ptr_equal(lookup(root, "d"), a);
	iput(a);
	iput(d);
	assert_int_equal(root->iop->rename(root, "a", root, "d", 0), -ENOTDIR);
	assert_int_equal(root->iop->rename(root, "zz", root, "d", 0), -ENOENT);
	assert_int_equal(root->nlink, 3);
	iput(a);
	iput(d);
	umount_sb(sb);
}

static void test_links(void **state)
{
	struct super_block *sb = mount_tmpfs(NULL);
	struct inode *root = sb->root, *a = create(root, "a"), *s, *d = mkdir_(root, "d");
	assert_int_equal(root->iop->link(root, "b", a), 0);
	assert_int_equal(root->iop->link(root, "b", a), -EEXIST);
	assert_int_equal(root->iop->link(root, "dd", d), -EPERM);
	assert_int_equal(a->nlink, 2);
	assert_int_equal(root->iop->rename(root, "a", root, "b", 0), 0); /* same file */
	assert_ptr_equal(lookup(root, "a"), a);
	iput(a);
	assert_int_equal(root->iop->unlink(root, "a"), 0);
	assert_ptr_equal(lookup(root, "b"), a);
	iput(a);
	assert_int_equal(a->nlink, 1);

	assert_int_equal(root->iop->symlink(root, "s", "/some/where", &s), 0);
	assert_true(S_ISLNK(s->mode));
	char buf[32];
	assert_int_equal(s->iop->readlink(s, buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "/some/where", 11);
	assert_int_equal(s->iop->readlink(s, buf, 4), 4);
	iput(s);
	iput(a);
	iput(d);
	umount_sb(sb);
}

static void test_readdir_resume(void **state)
{
	struct super_block *sb = mount_tmpfs(NULL);
	struct inode *root = sb->root;
	const char *names[] = {"one", "two", "three", "four", "five"};
	for (size_t k = 0; k < ARRAY_SIZE(names); k++)
		iput(create(root, names[k]));
	struct collect c;
	for (int per = 1; per <= 3; per++) {
		readdir_all(root, &c, per);
		assert_int_equal(c.n, 7);
		assert_string_equal(c.names[0], ".");
		assert_string_equal(c.names[1], "..");
		for (size_t k = 0; k < ARRAY_SIZE(names); k++)
			assert_string_equal(c.names[k + 2], names[k]);
	}
	/* Removing the entry just read and the next one between calls: nothing twice,
	 * nothing skipped of what remains. */
	memset(&c, 0, sizeof(c));
	readdir_step(root, &c, 3); /* . .. one */
	assert_int_equal(root->iop->unlink(root, "one"), 0);
	assert_int_equal(root->iop->unlink(root, "two"), 0);
	iput(create(root, "six"));
	while (readdir_step(root, &c, 1))
		;
	assert_int_equal(c.n, 7);
	assert_string_equal(c.names[3], "three");
	assert_string_equal(c.names[6], "six");
	umount_sb(sb);
}

static void test_size_limit(void **state)
{
	struct super_block *sb = mount_tmpfs("size=8k,nr_inodes=3,mode=0755,uid=5,gid=6");
	struct inode *root = sb->root, *a = create(root, "a"), *b;
	assert_int_equal(root->mode, S_IFDIR | 0755);
	assert_int_equal(root->uid, 5);
	assert_int_equal(root->gid, 6);
	static char page[3 * 4096];
	assert_int_equal(write_at(a, page, sizeof(page), 0), 8192); /* cut short */
	assert_int_equal(write_at(a, page, 1, 8192), -ENOSPC);
	assert_int_equal(write_at(a, page, 10, 100), 10); /* within the file: free */
	struct statfs st;
	sb->ops->statfs(sb, &st);
	assert_int_equal(st.f_type, 0x01021994);
	assert_int_equal(st.f_blocks, 2);
	assert_int_equal(st.f_bfree, 0);
	assert_int_equal(st.f_files, 3);
	assert_int_equal(st.f_ffree, 1);
	iput(create(root, "b"));
	assert_int_equal(root->iop->create(root, "c", S_IFREG | 0644, 0, &b), -ENOSPC);
	/* Truncating gives the pages back. */
	struct iattr at = {.valid = ATTR_SIZE, .size = 100};
	assert_int_equal(a->iop->setattr(a, &at), 0);
	assert_int_equal(a->size, 100);
	assert_int_equal(a->blocks, 8);
	sb->ops->statfs(sb, &st);
	assert_int_equal(st.f_bfree, 1);
	at = (struct iattr){.valid = ATTR_MODE | ATTR_UID, .mode = 0600, .uid = 7};
	assert_int_equal(a->iop->setattr(a, &at), 0);
	assert_int_equal(a->mode, S_IFREG | 0600);
	assert_int_equal(a->uid, 7);
	at = (struct iattr){.valid = ATTR_SIZE};
	assert_int_equal(root->iop->setattr(root, &at), -EISDIR);
	iput(a);
	umount_sb(sb);

	struct super_block *bad;
	assert_int_equal(tmpfs_fill_super(&tmpfs_test_type, NULL, 0, "size=12q", 0, &bad), -EINVAL);
	assert_int_equal(tmpfs_fill_super(&tmpfs_test_type, NULL, 0, "mode=9", 0, &bad), -EINVAL);
	/* Percentages follow the memory size. */
	sb = mount_tmpfs("size=25%,relatime");
	sb->ops->statfs(sb, &st);
	assert_int_equal(st.f_blocks, mem_total_bytes / 4 / 4096);
	umount_sb(sb);
}

/* An unmount with a file still open: the file stays usable until its last reference,
 * then everything but sb is gone. */
static void test_umount_busy(void **state)
{
	struct super_block *sb = mount_tmpfs(NULL);
	struct inode *d = mkdir_(sb->root, "d"), *f = create(d, "f");
	iput(d);
	assert_int_equal(write_at(f, "data", 4, 0), 4);
	sb->ops->put_super(sb);
	assert_int_equal(nr_inodes, 1);
	assert_int_equal(f->nlink, 0);
	assert_int_equal(write_at(f, "more", 4, 4), 4);
	iput(f);
	assert_int_equal(nr_inodes, 0);
	assert_true(list_empty(&sb->inodes));
	free(sb);
}

static void test_devtmpfs(void **state)
{
	static struct chrdev devs[] = {
	    {1, 3, "null", NULL, {0}},
	    {5, 1, "console", NULL, {0}},
	    {136, ~0u, "pts", NULL, {0}},
	    {13, 63, "input/mice", NULL, {0}},
	};
	static struct blkdev ubda = {
	    .name = "ubda", .major = 98, .minor = 0, .ops = &fake_noio_blk_ops};
	for (size_t k = 0; k < ARRAY_SIZE(devs); k++)
		list_add_tail(&devs[k].link, &chrdev_list);
	assert_int_equal(blk_register(&ubda), 0);
	devtmpfs_register();
	const struct fs_type *t = find_filesystem("devtmpfs");
	assert_non_null(t);
	struct super_block *sb;
	assert_int_equal(t->mount(t, "devtmpfs", 0, NULL, &sb), 0);
	struct inode *root = sb->root, *i, *in;
	assert_int_equal(root->mode, S_IFDIR | 0755);
	i = lookup(root, "null");
	assert_int_equal(i->mode, S_IFCHR | 0666);
	assert_int_equal(i->rdev, makedev(1, 3));
	iput(i);
	i = lookup(root, "console");
	assert_int_equal(i->mode, S_IFCHR | 0600);
	iput(i);
	assert_int_equal(root->iop->lookup(root, "pts", &i), 0);
	assert_true(S_ISDIR(i->mode)); /* the directory, not a node for every minor */
	iput(i);
	in = lookup(root, "input");
	i = lookup(in, "mice");
	assert_int_equal(i->rdev, makedev(13, 63));
	iput(i);
	iput(in);
	i = lookup(root, "ubda");
	assert_int_equal(i->mode, S_IFBLK | 0660);
	assert_int_equal(i->rdev, makedev(98, 0));
	iput(i);
	i = lookup(root, "stderr");
	char buf[64];
	int n = i->iop->readlink(i, buf, sizeof(buf));
	assert_int_equal(n, 15);
	assert_memory_equal(buf, "/proc/self/fd/2", 15);
	iput(i);
	i = lookup(root, "shm");
	assert_int_equal(i->mode, S_IFDIR | 01777);
	iput(i);
	umount_sb(sb);
	for (size_t k = 0; k < ARRAY_SIZE(devs); k++)
		list_del(&devs[k].link);
	blk_unregister(&ubda);
}

int main(void)
{
	tmpfs_register();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_lookup),  cmocka_unit_test(test_mkdir_rmdir),
	    cmocka_unit_test(test_unlink_evicts),  cmocka_unit_test(test_rename_replace),
	    cmocka_unit_test(test_rename_flags),   cmocka_unit_test(test_links),
	    cmocka_unit_test(test_readdir_resume), cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_umount_busy),	   cmocka_unit_test(test_devtmpfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
