/* Common definitions for the guest kernel: lists, logging, guest memory access.
 * Everything under src/kernel/ includes this; nothing here knows how guest code runs. */
#ifndef KERNEL_H
#define KERNEL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ROUND_UP(x, a) (((x) + (a)-1) & ~((__typeof__(x))(a)-1))
#define ROUND_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define PAGE_SIZE 4096UL
#define container_of(p, T, m) ((T *)((char *)(p)-offsetof(T, m)))

/* Circular doubly linked list, as in Linux. */
struct list {
	struct list *next, *prev;
};
#define LIST_INIT(name)                                                                            \
	{                                                                                          \
		&(name), &(name)                                                                   \
	}
static inline void list_init(struct list *l)
{
	l->next = l->prev = l;
}
static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}
static inline void list_add_tail(struct list *n, struct list *head)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}
static inline void list_add(struct list *n, struct list *head)
{
	list_add_tail(n, head->next);
}
static inline void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}
#define list_entry(p, T, m) container_of(p, T, m)
#define list_for_each(it, head) for (struct list *it = (head)->next; it != (head); it = it->next)
#define list_for_each_safe(it, nx, head)                                                           \
	for (struct list *it = (head)->next, *nx = it->next; it != (head); it = nx, nx = it->next)

/* Console log of the guest kernel (boot messages, warnings). Silent with "quiet". */
extern bool kernel_quiet;
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A fatal host-side error: one line on stderr, clean shutdown of the console, exit(1). */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *xmalloc(size_t n);
void *xzalloc(size_t n);
char *xstrdup(const char *s);

/* Guest virtual addresses are plain integers: the kernel never dereferences them. */
typedef uint64_t uaddr_t;
/* No guest address is at or above this (the x86-64 user address limit). */
#define USER_TOP 0x800000000000ULL

/* Copy to and from the current task's address space. Return 0 or -EFAULT. */
int copy_from_user(void *dst, uaddr_t src, size_t n);
int copy_to_user(uaddr_t dst, const void *src, size_t n);
/* Copy a NUL-terminated string of at most max bytes (including NUL).
 * Returns its length, -EFAULT, or -ENAMETOOLONG. */
long strncpy_from_user(char *dst, uaddr_t src, size_t max);
/* Copy a path (PATH_MAX) into a fresh buffer; *out must be freed. */
int getname(uaddr_t src, char **out);

#define GET_USER(var, addr) copy_from_user(&(var), (addr), sizeof(var))
#define PUT_USER(var, addr) copy_to_user((addr), &(var), sizeof(var))

/* Monotonic and realtime clocks of the guest, in nanoseconds. */
uint64_t ktime_mono(void);
uint64_t ktime_real(void);
/* Boot time, for /proc/uptime and /proc/<pid>/stat. */
extern uint64_t boot_mono_ns;

#endif
