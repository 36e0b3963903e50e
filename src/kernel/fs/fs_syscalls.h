/* Every syscall handler of the VFS (sys_<name> in src/kernel/fs/), by its x86-64 Linux
 * name, for the syscall table: #define X(n) [__NR_##n] = sys_##n, FS_SYSCALLS(X). */
#ifndef FS_SYSCALLS_H
#define FS_SYSCALLS_H

#include "../syscalls.h"

#define FS_SYSCALLS(X)                                                                             \
	X(mount)                                                                                   \
	X(umount2) X(chroot) X(chdir) X(fchdir) X(getcwd) X(umask) X(open) X(openat) X(creat)      \
	    X(openat2) X(close) X(close_range) X(read) X(write) X(pread64) X(pwrite64) X(readv)    \
		X(writev) X(preadv) X(pwritev) X(preadv2) X(pwritev2) X(lseek) X(sendfile) X(      \
		    copy_file_range) X(stat) X(lstat) X(fstat) X(newfstatat) X(statx) X(statfs)    \
		    X(fstatfs) X(mkdir) X(mkdirat) X(mknod) X(mknodat) X(symlink) X(symlinkat)     \
			X(link) X(linkat) X(unlink) X(rmdir) X(unlinkat) X(rename) X(renameat)     \
			    X(renameat2) X(readlink) X(readlinkat) X(chmod) X(fchmod) X(fchmodat)  \
				X(chown) X(lchown) X(fchown) X(fchownat) X(utimensat) X(utimes)    \
				    X(futimesat) X(utime) X(truncate) X(ftruncate) X(fallocate)    \
					X(access) X(faccessat) X(faccessat2) X(getdents64)         \
					    X(getdents) X(fcntl) X(dup) X(dup2) X(dup3) X(ioctl)   \
						X(flock) X(pipe2) X(pipe) X(poll) X(ppoll)         \
						    X(select) X(pselect6) X(epoll_create1)         \
							X(epoll_create) X(epoll_ctl) X(epoll_wait) \
							    X(epoll_pwait) X(epoll_pwait2)         \
								X(eventfd2) X(eventfd) X(sync)     \
								    X(syncfs) X(fsync)             \
									X(fdatasync)               \
									    X(sync_file_range)

/* Prototypes of the handlers. */
#define FS_SYSCALL_DECL(n) SYSCALL(n);
FS_SYSCALLS(FS_SYSCALL_DECL)
#undef FS_SYSCALL_DECL

#endif
