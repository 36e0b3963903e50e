/* Guest memory: the kernel's map of each address space (VMAs) and the mem= budget.
 * The pages themselves live in the guest's host address space (see platform.h). */
#ifndef MM_H
#define MM_H

#include "task.h"

struct mm *mm_new(void);
/* A copy of the map for a forked child (the platform copies the pages). */
struct mm *mm_copy(struct mm *mm);
void mm_put(struct mm *mm);
/* Would a fork's copy of mm fit in mem=? */
bool mm_can_copy(struct mm *mm);

/* Map into the current address space. addr is a hint unless MAP_FIXED. file may be
 * NULL (anonymous). Returns the address or a negative errno. */
long do_mmap(uaddr_t addr, size_t len, int prot, int flags, struct file *file, uint64_t off);
int do_munmap(uaddr_t addr, size_t len);
int do_mprotect(uaddr_t addr, size_t len, int prot);
/* An unmapped range of len bytes, searched top-down below mmap_base. */
uaddr_t mm_find_free(struct mm *mm, size_t len);
/* Does [addr, addr+len) lie inside mapped areas? */
struct vma *find_vma(struct mm *mm, uaddr_t addr);
/* A fault at addr just below a stack area grows it (up to RLIMIT_STACK); true if it
 * did. The kernel also calls it before writing a signal frame. */
bool mm_grow_stack(struct mm *mm, uaddr_t addr);
/* The initial size of a stack area; it grows on demand. */
#define STACK_INITIAL (256 * 1024)

extern uaddr_t task_size;

/* Does [addr, addr + len) lie below the guest top? Everything above belongs to the
 * platform (the stub, its channel, the host vDSO): the kernel never reads or writes
 * there on a guest's behalf, whatever address the guest passes. */
static inline bool guest_range_ok(uaddr_t addr, size_t len)
{
	return addr + len >= addr && addr + len <= task_size;
}

#endif
