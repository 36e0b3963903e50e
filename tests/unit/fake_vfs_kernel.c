/* The kernel services the VFS core uses beyond fake_kernel.c, faked for the VFS tests:
 * signals sent are only counted, and there is no page cache to sync. */
#include "fake_vfs_memfs.h"

int fake_sigpipes;

int send_signal_task(struct task *t, int sig, const struct ksiginfo *info)
{
	if (sig == SIGPIPE)
		fake_sigpipes++;
	return 0;
}

int pagecache_sync(struct super_block *sb)
{
	return 0;
}
