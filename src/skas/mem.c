/* Guest memory access for the SKAS platforms (see mem.h). */
#define _GNU_SOURCE
#include "mem.h"
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

static int mem_rw(pid_t pid, void *buf, uaddr_t addr, size_t n, bool write)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -EFAULT;
	ssize_t r = write ? pwrite(fd, buf, n, addr) : pread(fd, buf, n, addr);
	close(fd);
	return r == (ssize_t)n ? 0 : -EFAULT;
}

int skas_mem_read(pid_t pid, void *dst, uaddr_t src, size_t n)
{
	struct iovec l = {dst, n}, r = {(void *)src, n};
	if (n == 0 || process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)n)
		return 0;
	return mem_rw(pid, dst, src, n, false);
}

int skas_mem_write(pid_t pid, uaddr_t dst, const void *src, size_t n)
{
	struct iovec l = {(void *)src, n}, r = {(void *)dst, n};
	if (n == 0 || process_vm_writev(pid, &l, 1, &r, 1, 0) == (ssize_t)n)
		return 0;
	return mem_rw(pid, (void *)src, dst, n, true);
}

uaddr_t skas_find_vdso(pid_t pid)
{
	char path[64], line[256];
	uaddr_t vdso = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "[vdso]"))
			vdso = strtoull(line, NULL, 16);
	}
	fclose(f);
	return vdso;
}
