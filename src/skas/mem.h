/* Guest memory access from the kernel process, shared by the ptrace and seccomp
 * platforms: process_vm_readv/writev (the host allows it to the parent with the same
 * uid), falling back to /proc/<pid>/mem, which also writes through read-only mappings
 * as a debugger does (text that is being loaded). */
#ifndef SKAS_MEM_H
#define SKAS_MEM_H

#include "../kernel/kernel.h"

/* 0 or -EFAULT; partial transfers are failures. */
int skas_mem_read(pid_t pid, void *dst, uaddr_t src, size_t n);
int skas_mem_write(pid_t pid, uaddr_t dst, const void *src, size_t n);
/* Where the host mapped its vDSO in pid's address space (guests get it as
 * AT_SYSINFO_EHDR), or 0. */
uaddr_t skas_find_vdso(pid_t pid);

#endif
