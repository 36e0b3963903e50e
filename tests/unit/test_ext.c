/* ext2/ext3/ext4 through ext.c on images made by the host's mke2fs, checked afterwards
 * with the host's e2fsck and debugfs. The block device is a fake over the image file. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_ext_env.h"
#include "kernel/fs/ext.h"
#include "kernel/fs/pagecache.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static char dir[64], img[128];

/* --- host tools ------------------------------------------------------------------ */

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Output of a shell command (static buffer). */
static const char *sh_out(const char *fmt, ...)
{
	static char out[65536];
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	return out;
}

static void mkimg(const char *type, const char *opts, const char *size)
{
	assert_int_equal(sh("mke2fs -q -F -t %s %s %s %s >/dev/null 2>&1", type, opts, img, size),
			 0);
}

static void fsck_clean(void)
{
	int r = sh("e2fsck -fn %s >%s/fsck.log 2>&1", img, dir);
	if (r)
		fprintf(stderr, "%s", sh_out("cat %s/fsck.log", dir));
	assert_int_equal(r, 0);
}

static void poke(uint64_t off, const void *data, size_t len)
{
	int fd = open(img, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
	close(fd);
}

/* --- a little VFS ---------------------------------------------------------------- */

static struct super_block *mnt_dev(const char *type, unsigned long flags, bool dev_ro, int *err)
{
	fake_blk_add("ubda", img, dev_ro);
	const struct fs_type *t = find_filesystem(type);
	assert_non_null(t);
	struct super_block *sb = NULL;
	fake_log_clear();
	*err = t->mount(t, "ubda", flags, NULL, &sb);
	if (*err)
		fake_blk_remove_all();
	return sb;
}

static struct super_block *mnt(const char *type, unsigned long flags)
{
	int err;
	struct super_block *sb = mnt_dev(type, flags, false, &err);
	if (err)
		fprintf(stderr, "%s", fake_log);
	assert_int_equal(err, 0);
	assert_non_null(sb->root);
	assert_int_equal(sb->root->ino, 2);
	assert_true(S_ISDIR(sb->root->mode));
	return sb;
}

static int mnt_err(const char *type, unsigned long flags)
{
	int err;
	struct super_block *sb = mnt_dev(type, flags, false, &err);
	assert_null(sb);
	return err;
}

/* As the VFS unmounts: write back, then put_super; every inode must be gone. */
static void umnt(struct super_block *sb)
{
	assert_int_equal(pagecache_sync(sb), 0);
	assert_int_equal(sb->ops->sync(sb, true), 0);
	sb->ops->put_super(sb);
	assert_true(list_empty(&sb->inodes));
	assert_null(sb->priv);
	free(sb);
	fake_blk_remove_all();
}

static struct inode *lk(struct inode *d, const char *name)
{
	struct inode *i = NULL;
	int r = d->iop->lookup(d, name, &i);
	if (r)
		fail_msg("lookup %s: %d", name, r);
	return i;
}

static int lk_err(struct inode *d, const char *name)
{
	struct inode *i = NULL;
	int r = d->iop->lookup(d, name, &i);
	if (!r)
		iput(i);
	return r;
}

/* Put f, unmount and check the image, mount it again: the inode at name in the root. */
static struct inode *reopen(struct super_block **sb, struct inode *f, const char *name)
{
	iput(f);
	umnt(*sb);
	fsck_clean();
	*sb = mnt("ext4", 0);
	return lk((*sb)->root, name);
}

static struct inode *mk(struct inode *d, const char *name, mode_t mode, dev_t rdev)
{
	struct inode *i = NULL;
	int r = S_ISDIR(mode) ? d->iop->mkdir(d, name, mode, &i)
			      : d->iop->create(d, name, mode, rdev, &i);
	if (r)
		fail_msg("create %s: %d", name, r);
	assert_int_equal(i->mode, mode);
	return i;
}

static void wr(struct inode *i, const void *buf, size_t n, loff_t off)
{
	struct file f = {.inode = i, .flags = O_RDWR, .fop = i->fop, .refcount = 1};
	assert_int_equal(i->fop->write(&f, buf, n, &off), (ssize_t)n);
}

static ssize_t rd(struct inode *i, void *buf, size_t n, loff_t off)
{
	struct file f = {.inode = i, .flags = O_RDONLY, .fop = i->fop, .refcount = 1};
	return i->fop->read(&f, buf, n, &off);
}

static int do_fsync(struct inode *i)
{
	struct file f = {.inode = i, .flags = O_RDWR, .fop = i->fop, .refcount = 1};
	return i->fop->fsync(&f, false);
}

struct listing {
	struct dir_ctx ctx;
	int limit, taken, n;
	char name[1024][64];
	uint64_t ino[1024];
	unsigned type[1024];
};

static bool emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino, unsigned dt)
{
	struct listing *l = container_of(ctx, struct listing, ctx);
	if (l->taken == l->limit)
		return false;
	assert_true(l->n < 1024 && len < 64);
	memcpy(l->name[l->n], name, len);
	l->name[l->n][len] = 0;
	l->ino[l->n] = ino;
	l->type[l->n++] = dt;
	l->taken++;
	return true;
}

/* All entries, per_call at a time, resuming from the position cookie. */
static struct listing *ls(struct inode *d, int per_call)
{
	struct listing *l = xzalloc(sizeof(*l));
	struct file f = {.inode = d, .fop = d->fop, .refcount = 1};
	l->ctx.emit = emit;
	do {
		l->limit = per_call;
		l->taken = 0;
		assert_int_equal(d->fop->readdir(&f, &l->ctx), 0);
	} while (l->taken);
	return l;
}

static int find(struct listing *l, const char *name)
{
	for (int k = 0; k < l->n; k++)
		if (!strcmp(l->name[k], name))
			return k;
	return -1;
}

/* --- fixtures -------------------------------------------------------------------- */

static int setup(void **state)
{
	strcpy(dir, "/tmp/test_ext.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	return 0;
}

static int teardown(void **state)
{
	fake_blk_remove_all();
	sh("rm -rf %s", dir);
	return 0;
}

/* --- the main exercise, for each flavour ----------------------------------------- */

#define BIG (100 * 1024 + 123)
#define SPARSE_AT (5ULL << 30)
static const struct timespec T1 = {1234567890, 123456789};

static void populate(struct super_block *sb)
{
	struct inode *root = sb->root;
	nlink_t root_links = root->nlink;

	struct inode *hello = mk(root, "hello", S_IFREG | 0644, 0);
	wr(hello, "hello world\n", 12, 0);
	assert_int_equal(hello->size, 12);

	/* A file of several pages, and a sparse one past 4 GiB. */
	struct inode *big = mk(root, "big", S_IFREG | 0600, 0);
	char *data = xmalloc(BIG);
	for (int k = 0; k < BIG; k++)
		data[k] = (char)(k * 31 + k / 4096);
	wr(big, data, BIG, 0);
	struct inode *sparse = mk(root, "sparse", S_IFREG | 0644, 0);
	wr(sparse, "far away", 8, SPARSE_AT);
	assert_int_equal(sparse->size, SPARSE_AT + 8);

	/* Directories, links of every kind, device nodes. */
	struct inode *d = mk(root, "dir", S_IFDIR | 0755, 0);
	assert_int_equal(d->nlink, 2);
	assert_int_equal(root->nlink, root_links + 1);
	iput(mk(d, "sub", S_IFREG | 0640, 0));
	struct inode *l = NULL;
	assert_int_equal(d->iop->symlink(d, "fast", "../hello", &l), 0);
	assert_true(S_ISLNK(l->mode));
	iput(l);
	char slow[301];
	memset(slow, 's', 300);
	slow[300] = 0;
	assert_int_equal(d->iop->symlink(d, "slow", slow, &l), 0);
	assert_int_equal(l->size, 300);
	iput(l);
	assert_int_equal(d->iop->link(d, "hlink", hello), 0);
	assert_int_equal(hello->nlink, 2);
	iput(mk(d, "fifo", S_IFIFO | 0644, 0));
	iput(mk(d, "sock", S_IFSOCK | 0755, 0));
	struct inode *null = mk(d, "null", S_IFCHR | 0666, makedev(1, 3));
	assert_int_equal(null->rdev, makedev(1, 3));
	iput(null);
	iput(mk(d, "bigdev", S_IFBLK | 0660, makedev(259, 300000)));

	/* Errors of the namespace operations. */
	struct inode *x;
	assert_int_equal(root->iop->create(root, "hello", S_IFREG | 0644, 0, &x), -EEXIST);
	assert_int_equal(root->iop->mkdir(root, "dir", S_IFDIR | 0755, &x), -EEXIST);
	assert_int_equal(lk_err(root, "nothere"), -ENOENT);
	assert_int_equal(root->iop->unlink(root, "nothere"), -ENOENT);
	assert_int_equal(root->iop->unlink(root, "dir"), -EISDIR);
	assert_int_equal(root->iop->rmdir(root, "hello"), -ENOTDIR);
	assert_int_equal(root->iop->rmdir(root, "dir"), -ENOTEMPTY);
	char longname[300];
	memset(longname, 'n', 256);
	longname[256] = 0;
	assert_int_equal(root->iop->create(root, longname, S_IFREG | 0644, 0, &x), -ENAMETOOLONG);
	assert_int_equal(lk_err(root, longname), -ENAMETOOLONG);
	longname[255] = 0;
	iput(mk(root, longname, S_IFREG | 0644, 0));
	assert_int_equal(root->iop->unlink(root, longname), 0);

	/* Enough entries to grow the directory over several blocks, then half gone. */
	struct inode *many = mk(root, "many", S_IFDIR | 0755, 0);
	char name[64];
	for (int k = 0; k < 300; k++) {
		snprintf(name, sizeof(name), "entry-%03d-padding-padding-padding", k);
		iput(mk(many, name, S_IFREG | 0644, 0));
	}
	struct listing *li = ls(many, 7);
	assert_int_equal(li->n, 302);
	assert_true(find(li, ".") >= 0 && find(li, "..") >= 0);
	assert_int_equal(li->ino[find(li, "..")], 2);
	assert_int_equal(li->type[find(li, ".")], DT_DIR);
	for (int k = 0; k < 300; k++) {
		snprintf(name, sizeof(name), "entry-%03d-padding-padding-padding", k);
		int at = find(li, name);
		assert_true(at >= 0);
		assert_int_equal(li->type[at], DT_REG);
	}
	free(li);
	for (int k = 0; k < 300; k += 2) {
		snprintf(name, sizeof(name), "entry-%03d-padding-padding-padding", k);
		assert_int_equal(many->iop->unlink(many, name), 0);
	}
	li = ls(many, 1000);
	assert_int_equal(li->n, 152);
	free(li);
	li = ls(d, 1000);
	assert_int_equal(li->type[find(li, "fast")], DT_LNK);
	assert_int_equal(li->type[find(li, "fifo")], DT_FIFO);
	assert_int_equal(li->type[find(li, "sock")], DT_SOCK);
	assert_int_equal(li->type[find(li, "null")], DT_CHR);
	assert_int_equal(li->type[find(li, "bigdev")], DT_BLK);
	free(li);

	/* Renames: across directories, over a file, a directory across parents. */
	iput(mk(root, "a", S_IFREG | 0644, 0));
	struct inode *b = mk(root, "b", S_IFREG | 0644, 0);
	uint64_t bino = b->ino;
	iput(b);
	struct inode *a = lk(root, "a");
	assert_int_equal(root->iop->rename(root, "a", root, "b", RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(root->iop->rename(root, "a", root, "b", 0), 0);
	assert_int_equal(lk_err(root, "a"), -ENOENT);
	b = lk(root, "b");
	assert_ptr_equal(a, b);
	assert_true(b->ino != bino);
	iput(a);
	iput(b);
	assert_int_equal(root->iop->rename(root, "b", d, "moved", 0), 0);
	struct inode *d1 = mk(root, "d1", S_IFDIR | 0755, 0);
	struct inode *d2 = mk(root, "d2", S_IFDIR | 0755, 0);
	struct inode *sd = mk(d1, "x", S_IFDIR | 0700, 0);
	iput(mk(sd, "inside", S_IFREG | 0644, 0));
	assert_int_equal(d1->nlink, 3);
	assert_int_equal(d1->iop->rename(d1, "x", d2, "y", 0), 0);
	assert_int_equal(d1->nlink, 2);
	assert_int_equal(d2->nlink, 3);
	li = ls(sd, 1000);
	assert_int_equal(li->ino[find(li, "..")], d2->ino);
	free(li);
	/* A directory over an empty one, not over a full one. */
	iput(mk(d1, "empty", S_IFDIR | 0755, 0));
	assert_int_equal(d2->iop->rename(d2, "y", d1, "empty", 0), 0);
	assert_int_equal(d1->nlink, 3);
	assert_int_equal(d2->nlink, 2);
	iput(mk(d2, "full", S_IFDIR | 0755, 0));
	struct inode *full = lk(d2, "full");
	iput(mk(full, "f", S_IFREG | 0644, 0));
	iput(full);
	iput(mk(d2, "other", S_IFDIR | 0755, 0));
	assert_int_equal(d2->iop->rename(d2, "other", d2, "full", 0), -ENOTEMPTY);
	/* Exchange a file and a directory across parents. */
	iput(mk(d2, "swapfile", S_IFREG | 0644, 0));
	assert_int_equal(d1->iop->rename(d1, "empty", d2, "swapfile", RENAME_EXCHANGE), 0);
	struct inode *sw = lk(d2, "swapfile");
	assert_ptr_equal(sw, sd);
	iput(sw);
	li = ls(sd, 1000);
	assert_int_equal(li->ino[find(li, "..")], d2->ino);
	free(li);
	assert_int_equal(d1->nlink, 2);
	assert_int_equal(d2->nlink, 5); /* full, other and now x */
	iput(sd);
	assert_int_equal(d2->iop->rmdir(d2, "other"), 0);
	assert_int_equal(d2->nlink, 4);

	/* Attributes. */
	struct iattr at = {.valid = ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_MTIME | ATTR_ATIME,
			   .mode = 0751,
			   .uid = 100000,
			   .gid = 100001,
			   .mtime = T1,
			   .atime = T1};
	struct inode *sub = lk(d, "sub");
	assert_int_equal(sub->iop->setattr(sub, &at), 0);
	assert_int_equal(sub->mode, S_IFREG | 0751);
	assert_int_equal(sub->uid, 100000);
	iput(sub);
	at = (struct iattr){.valid = ATTR_SIZE, .size = 5000};
	assert_int_equal(big->iop->setattr(big, &at), 0);
	assert_int_equal(big->size, 5000);
	at.size = 20000;
	assert_int_equal(big->iop->setattr(big, &at), 0);
	char *back = xzalloc(20000);
	assert_int_equal(rd(big, back, 30000, 0), 20000);
	assert_memory_equal(back, data, 5000);
	for (int k = 5000; k < 20000; k++)
		assert_int_equal(back[k], 0);
	free(back);
	free(data);

	/* An open file outlives its last name. */
	struct inode *o = mk(root, "open-unlinked", S_IFREG | 0644, 0);
	wr(o, "still here", 10, 0);
	assert_int_equal(do_fsync(o), 0);
	assert_int_equal(root->iop->unlink(root, "open-unlinked"), 0);
	assert_int_equal(o->nlink, 0);
	char buf[16];
	assert_int_equal(rd(o, buf, 16, 0), 10);
	assert_memory_equal(buf, "still here", 10);
	iput(o);

	struct statfs st;
	assert_int_equal(sb->ops->statfs(sb, &st), 0);
	assert_int_equal(st.f_type, 0xEF53);
	assert_true(st.f_bfree > 0 && st.f_bfree < st.f_blocks);
	assert_int_equal(st.f_namelen, 255);

	assert_int_equal(do_fsync(hello), 0);
	iput(hello);
	iput(big);
	iput(sparse);
	iput(d);
	iput(many);
	iput(d1);
	iput(d2);
}

/* Everything populate() left, read back through a fresh mount. */
static void verify(struct super_block *sb)
{
	struct inode *root = sb->root;
	struct inode *hello = lk(root, "hello");
	char buf[400];
	assert_int_equal(rd(hello, buf, sizeof(buf), 0), 12);
	assert_memory_equal(buf, "hello world\n", 12);
	assert_int_equal(hello->nlink, 2);
	struct inode *d = lk(root, "dir"), *l = lk(d, "fast");
	assert_int_equal(l->iop->readlink(l, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "../hello", 8);
	iput(l);
	l = lk(d, "slow");
	assert_int_equal(l->iop->readlink(l, buf, sizeof(buf)), 300);
	assert_int_equal(buf[0], 's');
	assert_int_equal(buf[299], 's');
	iput(l);
	struct inode *h2 = lk(d, "hlink");
	assert_ptr_equal(h2, hello);
	iput(h2);
	iput(hello);
	struct inode *n = lk(d, "null");
	assert_true(S_ISCHR(n->mode));
	assert_int_equal(n->rdev, makedev(1, 3));
	iput(n);
	n = lk(d, "bigdev");
	assert_true(S_ISBLK(n->mode));
	assert_int_equal(n->rdev, makedev(259, 300000));
	iput(n);
	n = lk(d, "sub");
	assert_int_equal(n->uid, 100000);
	assert_int_equal(n->gid, 100001);
	assert_int_equal(n->mode, S_IFREG | 0751);
	assert_int_equal(n->mtime.tv_sec, T1.tv_sec);
	assert_int_equal(n->mtime.tv_nsec, T1.tv_nsec);
	iput(n);
	iput(d);
	struct inode *s = lk(root, "sparse");
	assert_int_equal(s->size, SPARSE_AT + 8);
	assert_true(s->blocks < 64); /* the hole takes no space */
	assert_int_equal(rd(s, buf, 100, SPARSE_AT), 8);
	assert_memory_equal(buf, "far away", 8);
	assert_int_equal(rd(s, buf, 100, 1 << 20), 100);
	for (int k = 0; k < 100; k++)
		assert_int_equal(buf[k], 0);
	iput(s);
	s = lk(root, "big");
	assert_int_equal(s->size, 20000);
	iput(s);
	assert_int_equal(lk_err(root, "open-unlinked"), -ENOENT);
}

static void exercise(const char *type, const char *opts)
{
	mkimg(type, opts, "32M");
	struct super_block *sb = mnt(type, 0);
	/* Mounted read-write: the superblock says "not clean" on disk. */
	assert_non_null(strstr(sh_out("dumpe2fs -h %s 2>/dev/null", img), "not clean"));
	populate(sb);
	umnt(sb);
	fsck_clean();

	/* What the host tools see. */
	assert_string_equal(sh_out("debugfs -R 'cat /hello' %s 2>/dev/null", img), "hello world\n");
	assert_non_null(strstr(sh_out("debugfs -R 'stat /dir/fast' %s 2>/dev/null", img),
			       "Fast link dest: \"../hello\""));
	const char *s = sh_out("debugfs -R 'stat /dir/sub' %s 2>/dev/null", img);
	assert_non_null(strstr(s, "User: 100000"));
	assert_non_null(strstr(s, "Group: 100001"));
	s = sh_out("debugfs -R 'ls -l /dir' %s 2>/dev/null", img);
	assert_non_null(strstr(s, "hlink"));
	assert_non_null(strstr(s, "moved"));
	assert_non_null(
	    strstr(sh_out("debugfs -R 'stat /sparse' %s 2>/dev/null", img), "Size: 5368709128"));
	assert_non_null(strstr(sh_out("dumpe2fs -h %s 2>/dev/null", img), "clean"));

	sb = mnt(type, 0);
	verify(sb);
	umnt(sb);
	fsck_clean();
}

static void test_ext4(void **state)
{
	exercise("ext4", "");
}

static void test_ext4_4k(void **state)
{
	exercise("ext4", "-b 4096");
}

static void test_ext3(void **state)
{
	exercise("ext3", "");
}

static void test_ext2(void **state)
{
	exercise("ext2", "");
}

/* A file of many megabytes, written, read back and removed again. */
static void test_large_file(void **state)
{
	mkimg("ext4", "-b 4096", "64M");
	struct super_block *sb = mnt("ext4", 0);
	struct inode *f = mk(sb->root, "large", S_IFREG | 0644, 0);
	size_t chunk = 1 << 20;
	uint32_t *buf = xmalloc(chunk);
	for (int m = 0; m < 24; m++) {
		for (size_t k = 0; k < chunk / 4; k++)
			buf[k] = m * chunk + k;
		wr(f, buf, chunk, (loff_t)m * chunk);
	}
	assert_int_equal(do_fsync(f), 0);
	f = reopen(&sb, f, "large");
	assert_int_equal(f->size, 24 << 20);
	for (int m = 23; m >= 0; m -= 5) {
		assert_int_equal(rd(f, buf, chunk, (loff_t)m * chunk), chunk);
		for (size_t k = 0; k < chunk / 4; k += 997)
			assert_int_equal(buf[k], m * chunk + k);
	}
	iput(f);
	assert_int_equal(sb->root->iop->unlink(sb->root, "large"), 0);
	struct statfs st;
	assert_int_equal(sb->ops->statfs(sb, &st), 0);
	assert_true(st.f_bfree * 4096 > (uint64_t)50 << 20);
	umnt(sb);
	fsck_clean();
	free(buf);
}

/* Indexed (htree) directories, as Linux or e2fsck -D leave them: readdir skips the
 * index blocks, adding entries splits leaves. */
/* The name of test_htree's k-th file (a static buffer). */
static const char *htree_name(int k)
{
	static char name[64];
	snprintf(name, sizeof(name), "name-%04d-abcdefghijklmnopqrstuvwxyz", k);
	return name;
}

static void test_htree(void **state)
{
	mkimg("ext4", "-b 1024", "32M");
	struct super_block *sb = mnt("ext4", 0);
	struct inode *d = mk(sb->root, "idx", S_IFDIR | 0755, 0);
	for (int k = 0; k < 400; k++)
		iput(mk(d, htree_name(k), S_IFREG | 0644, 0));
	iput(d);
	umnt(sb);
	assert_true(sh("e2fsck -fyD %s >/dev/null 2>&1", img) <= 1);
	assert_non_null(strstr(sh_out("debugfs -R 'stat /idx' %s 2>/dev/null", img),
			       "Flags: 0x81000")); /* extents, index */
	sb = mnt("ext4", 0);
	d = lk(sb->root, "idx");
	struct listing *l = ls(d, 50);
	assert_int_equal(l->n, 402);
	free(l);
	for (int k = 400; k < 700; k++)
		iput(mk(d, htree_name(k), S_IFREG | 0644, 0));
	for (int k = 0; k < 700; k += 3)
		assert_int_equal(d->iop->unlink(d, htree_name(k)), 0);
	iput(lk(d, htree_name(650)));
	l = ls(d, 1000);
	assert_int_equal(l->n, 2 + 700 - 234);
	free(l);
	iput(d);
	umnt(sb);
	fsck_clean();
}

/* rm -r lists a directory in batches and removes each batch before the next: the
 * position cookie must still lead to every remaining entry. */
static void test_remove_while_listing(void **state)
{
	mkimg("ext4", "-b 1024", "16M");
	struct super_block *sb = mnt("ext4", 0);
	struct inode *d = mk(sb->root, "victims", S_IFDIR | 0755, 0);
	char name[64];
	for (int k = 0; k < 500; k++) {
		snprintf(name, sizeof(name), "victim-%d-%s", k, k % 3 ? "x" : "longer-name-here");
		iput(mk(d, name, S_IFREG | 0644, 0));
	}
	struct file f = {.inode = d, .fop = d->fop, .refcount = 1};
	struct listing *l = xzalloc(sizeof(*l));
	l->ctx.emit = emit;
	int removed = 0;
	do {
		l->n = l->taken = 0;
		l->limit = 7;
		assert_int_equal(d->fop->readdir(&f, &l->ctx), 0);
		for (int k = 0; k < l->n; k++) {
			if (strcmp(l->name[k], ".") && strcmp(l->name[k], "..")) {
				assert_int_equal(d->iop->unlink(d, l->name[k]), 0);
				removed++;
			}
		}
	} while (l->taken);
	free(l);
	assert_int_equal(removed, 500);
	assert_int_equal(sb->root->iop->rmdir(sb->root, "victims"), 0);
	iput(d);
	umnt(sb);
	fsck_clean();
}

/* Unwritten extents (fallocate) read as zeros; writing into one makes that part real. */
static void test_unwritten(void **state)
{
	mkimg("ext4", "-b 1024", "16M");
	assert_int_equal(sh("debugfs -w -R 'write /dev/null /pre' %s >/dev/null 2>&1 && "
			    "debugfs -w -R 'fallocate /pre 0 39' %s >/dev/null 2>&1 && "
			    "debugfs -w -R 'sif /pre size 40960' %s >/dev/null 2>&1",
			    img, img, img),
			 0);
	assert_non_null(strstr(sh_out("debugfs -R 'stat /pre' %s 2>/dev/null", img), "[u]"));
	fsck_clean();
	struct super_block *sb = mnt("ext4", 0);
	struct inode *f = lk(sb->root, "pre");
	assert_int_equal(f->size, 40960);
	char buf[8192];
	memset(buf, 1, sizeof(buf));
	assert_int_equal(rd(f, buf, sizeof(buf), 4096), sizeof(buf));
	for (size_t k = 0; k < sizeof(buf); k++)
		assert_int_equal(buf[k], 0);
	wr(f, "written", 7, 10000);
	assert_int_equal(do_fsync(f), 0);
	f = reopen(&sb, f, "pre");
	assert_int_equal(rd(f, buf, sizeof(buf), 8192), sizeof(buf));
	assert_memory_equal(buf + 10000 - 8192, "written", 7);
	for (size_t k = 0; k < sizeof(buf); k++)
		if (k < 10000 - 8192 || k >= 10000 - 8192 + 7)
			assert_int_equal(buf[k], 0);
	iput(f);
	umnt(sb);
}

/* 128-byte inodes have no room for nanoseconds or creation times. */
static void test_small_inodes(void **state)
{
	mkimg("ext4", "-I 128", "16M");
	struct super_block *sb = mnt("ext4", 0);
	struct inode *f = mk(sb->root, "f", S_IFREG | 0644, 0);
	struct iattr at = {.valid = ATTR_MTIME, .mtime = T1};
	assert_int_equal(f->iop->setattr(f, &at), 0);
	f = reopen(&sb, f, "f");
	assert_int_equal(f->mtime.tv_sec, T1.tv_sec);
	assert_int_equal(f->mtime.tv_nsec, 0);
	iput(f);
	umnt(sb);
}

static void test_not_ext(void **state)
{
	assert_int_equal(sh("truncate -s 4M %s", img), 0);
	assert_int_equal(mnt_err("ext4", 0), -EINVAL);
	assert_non_null(strstr(fake_log, "ubda"));
	assert_non_null(strstr(fake_log, "not an ext2/ext3/ext4 filesystem"));
	assert_int_equal(mnt_err("ext4", 0), -EINVAL); /* and nothing was left open */
	fake_log_clear();
	const struct fs_type *t = find_filesystem("ext2");
	struct super_block *sb;
	assert_int_equal(t->mount(t, "ubdq", 0, NULL, &sb), -ENXIO);
	assert_non_null(strstr(fake_log, "ubdq"));
}

static void test_corrupt_superblock(void **state)
{
	mkimg("ext4", "", "16M");
	uint32_t v = 12345;
	poke(1024 + 0, &v, 4); /* s_inodes_count: the checksum no longer matches */
	assert_int_equal(mnt_err("ext4", 0), -EUCLEAN);
	assert_non_null(strstr(fake_log, "ubda"));
	assert_non_null(strstr(fake_log, "uperblock"));
	assert_null(strchr(strchr(fake_log, '\n') + 1, '\n')); /* one line */
}

static void test_corrupt_descriptors(void **state)
{
	mkimg("ext2", "-b 1024", "16M");
	uint32_t v = 0x7fffff00;
	poke(2048 + 8, &v, 4); /* group 0's inode table, far outside the disk */
	assert_int_equal(mnt_err("ext2", 0), -EUCLEAN);
	assert_non_null(strstr(fake_log, "ubda"));
	assert_non_null(strstr(fake_log, "inode table"));
}

static void test_needs_recovery(void **state)
{
	mkimg("ext4", "", "16M");
	assert_int_equal(sh("debugfs -w -R 'feature needs_recovery' %s >/dev/null 2>&1", img), 0);
	char before[128];
	snprintf(before, sizeof(before), "%s", sh_out("md5sum < %s", img));
	assert_int_equal(mnt_err("ext4", 0), -EUCLEAN);
	assert_non_null(strstr(fake_log, "vmlinux: ubda: journal needs recovery; "
					 "run e2fsck -fy <image> on the host"));
	assert_string_equal(sh_out("md5sum < %s", img), before); /* left untouched */
}

static void test_unsupported_features(void **state)
{
	mkimg("ext4", "-O inline_data", "16M");
	assert_int_equal(mnt_err("ext4", 0), -EINVAL);
	assert_non_null(strstr(fake_log, "inline_data"));
	mkimg("ext4", "", "16M");
	assert_int_equal(mnt_err("ext2", 0), -EINVAL);
	assert_non_null(strstr(fake_log, "couldn't mount as ext2"));
	mkimg("ext4", "-O quota", "16M");
	assert_int_equal(mnt_err("ext4", 0), -EROFS);
	struct super_block *sb = mnt("ext4", MS_RDONLY);
	umnt(sb);
}

static void test_read_only(void **state)
{
	mkimg("ext4", "", "16M");
	struct super_block *sb = mnt("ext4", 0);
	struct inode *f = mk(sb->root, "f", S_IFREG | 0644, 0);
	wr(f, "data", 4, 0);
	iput(f);
	umnt(sb);
	char before[128];
	snprintf(before, sizeof(before), "%s", sh_out("md5sum < %s", img));

	sb = mnt("ext4", MS_RDONLY);
	struct inode *x, *r = sb->root;
	assert_int_equal(r->iop->create(r, "g", S_IFREG | 0644, 0, &x), -EROFS);
	assert_int_equal(r->iop->unlink(r, "f"), -EROFS);
	f = lk(r, "f");
	char buf[8];
	assert_int_equal(rd(f, buf, 8, 0), 4);
	struct iattr at = {.valid = ATTR_MODE, .mode = 0600};
	assert_int_equal(f->iop->setattr(f, &at), -EROFS);
	iput(f);
	umnt(sb);

	/* A write-protected device mounts read-only by itself. */
	int err;
	sb = mnt_dev("ext4", 0, true, &err);
	assert_int_equal(err, 0);
	assert_true(sb->flags & MS_RDONLY);
	assert_non_null(strstr(fake_log, "read-only"));
	umnt(sb);
	assert_string_equal(sh_out("md5sum < %s", img), before);
	fsck_clean();
}

static void test_remount(void **state)
{
	mkimg("ext3", "", "16M");
	struct super_block *sb = mnt("ext3", 0);
	struct inode *f = mk(sb->root, "f", S_IFREG | 0644, 0);
	wr(f, "one", 3, 0);
	assert_int_equal(pagecache_sync(sb), 0);
	assert_int_equal(sb->ops->remount(sb, MS_RDONLY), 0);
	assert_true(sb->flags & MS_RDONLY);
	fsck_clean(); /* clean while still mounted read-only */
	struct inode *x;
	assert_int_equal(sb->root->iop->create(sb->root, "g", S_IFREG, 0, &x), -EROFS);
	assert_int_equal(sb->ops->remount(sb, 0), 0);
	wr(f, "two", 3, 3);
	iput(f);
	umnt(sb);
	fsck_clean();
	assert_string_equal(sh_out("debugfs -R 'cat /f' %s 2>/dev/null", img), "onetwo");
}

static void test_runtime_corruption(void **state)
{
	mkimg("ext4", "", "16M");
	struct super_block *sb = mnt("ext4", 0);
	struct inode *d = mk(sb->root, "bad", S_IFDIR | 0755, 0);
	iput(mk(d, "victim", S_IFREG | 0644, 0));
	iput(d);
	umnt(sb);
	unsigned long blk =
	    strtoul(sh_out("debugfs -R 'bmap /bad 0' %s 2>/dev/null", img), NULL, 0);
	assert_true(blk > 0);
	uint8_t junk[16];
	memset(junk, 0x5a, sizeof(junk));
	poke(blk * 1024 + 30, junk, sizeof(junk));

	sb = mnt("ext4", 0);
	d = lk(sb->root, "bad");
	fake_log_clear();
	assert_int_equal(lk_err(d, "victim"), -EUCLEAN);
	assert_non_null(strstr(fake_log, "run e2fsck"));
	struct file fl = {.inode = d, .fop = d->fop};
	struct listing *l = xzalloc(sizeof(*l));
	l->ctx.emit = emit;
	l->limit = 100;
	assert_int_equal(d->fop->readdir(&fl, &l->ctx), -EUCLEAN);
	free(l);
	iput(d);
	umnt(sb);
	assert_non_null(strstr(sh_out("dumpe2fs -h %s 2>/dev/null", img), "with errors"));
}

static void test_enospc(void **state)
{
	mkimg("ext4", "-b 1024", "4M");
	struct super_block *sb = mnt("ext4", 0);
	struct inode *f = mk(sb->root, "filler", S_IFREG | 0644, 0);
	char *buf = xzalloc(1 << 20);
	memset(buf, 'x', 1 << 20);
	struct file fl = {.inode = f, .flags = O_WRONLY, .fop = f->fop, .refcount = 1};
	loff_t pos = 0;
	ssize_t r;
	/* The write that does not fit fails, not a later fsync. */
	while ((r = f->fop->write(&fl, buf, 256 << 10, &pos)) > 0)
		assert_true(pos <= 4 << 20);
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(do_fsync(f), 0);
	assert_true(pos >= 1 << 20);
	f = reopen(&sb, f, "filler");
	assert_int_equal(f->size, pos);
	assert_int_equal(rd(f, buf, 100, pos - 100), 100);
	assert_int_equal(buf[0], 'x');
	iput(f);
	assert_int_equal(sb->root->iop->unlink(sb->root, "filler"), 0);
	/* Room again once the file is gone. */
	f = mk(sb->root, "small", S_IFREG | 0644, 0);
	wr(f, buf, 1000, 0);
	assert_int_equal(do_fsync(f), 0);
	iput(f);
	umnt(sb);
	fsck_clean();
	free(buf);
}

int main(void)
{
	ext_fs_register();
	if (sh("command -v mke2fs e2fsck debugfs dumpe2fs >/dev/null")) {
		fprintf(stderr, "test_ext: e2fsprogs (mke2fs, e2fsck, debugfs) not installed\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    FIXTURE_TEST(test_ext4),
	    FIXTURE_TEST(test_ext4_4k),
	    FIXTURE_TEST(test_ext3),
	    FIXTURE_TEST(test_ext2),
	    FIXTURE_TEST(test_large_file),
	    FIXTURE_TEST(test_htree),
	    FIXTURE_TEST(test_remove_while_listing),
	    FIXTURE_TEST(test_unwritten),
	    FIXTURE_TEST(test_small_inodes),
	    FIXTURE_TEST(test_not_ext),
	    FIXTURE_TEST(test_corrupt_superblock),
	    FIXTURE_TEST(test_corrupt_descriptors),
	    FIXTURE_TEST(test_needs_recovery),
	    FIXTURE_TEST(test_unsupported_features),
	    FIXTURE_TEST(test_read_only),
	    FIXTURE_TEST(test_remount),
	    FIXTURE_TEST(test_runtime_corruption),
	    FIXTURE_TEST(test_enospc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
