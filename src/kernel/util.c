/* Small services every part of the kernel uses: logging, allocation, guest memory. */
#define _GNU_SOURCE
#include "kernel.h"
#include "task.h"
#include "mm.h"
#include <limits.h>
#include <unistd.h>

bool kernel_quiet;
uint64_t boot_mono_ns;
void (*printk_sink)(const char *buf, size_t n);
void (*exit_hook)(void);

void printk(const char *fmt, ...)
{
	if (kernel_quiet)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = MIN(n, (int)sizeof(buf) - 1);
	if (printk_sink) {
		printk_sink(buf, n);
	} else if (write(STDOUT_FILENO, buf, n) < 0) {
		/* nowhere left to report to */
	}
}

void panic(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (exit_hook)
		exit_hook();
	fprintf(stderr, "vmlinux: %s\n", buf);
	_exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		panic("out of host memory (%zu bytes)", n);
	return p;
}

void *xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		panic("out of host memory (%zu bytes)", n);
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

int copy_from_user(void *dst, uaddr_t src, size_t n)
{
	if (!n)
		return 0;
	if (!guest_range_ok(src, n))
		return -EFAULT;
	return platform->read(current->ut, dst, src, n);
}

int copy_to_user(uaddr_t dst, const void *src, size_t n)
{
	if (!n)
		return 0;
	if (!guest_range_ok(dst, n))
		return -EFAULT;
	return platform->write(current->ut, dst, src, n);
}

long strncpy_from_user(char *dst, uaddr_t src, size_t max)
{
	/* Read in chunks that do not cross a page, so a string that ends just before an
	 * unmapped page is still read. */
	size_t got = 0;
	while (got < max) {
		size_t chunk = PAGE_SIZE - ((src + got) & (PAGE_SIZE - 1));
		chunk = MIN(chunk, max - got);
		if (copy_from_user(dst + got, src + got, chunk))
			return -EFAULT;
		char *nul = memchr(dst + got, 0, chunk);
		if (nul)
			return nul - dst;
		got += chunk;
	}
	return -ENAMETOOLONG;
}

int getname(uaddr_t src, char **out)
{
	char *buf = xmalloc(PATH_MAX);
	long n = strncpy_from_user(buf, src, PATH_MAX);
	if (n < 0) {
		free(buf);
		return n;
	}
	if (n == 0) {
		free(buf);
		return -ENOENT;
	}
	*out = buf;
	return 0;
}
