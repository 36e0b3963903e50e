/* Guest memory maps. The kernel keeps each address space's list of areas (VMAs) and
 * asks the platform to make the host mappings; pages live in the guest's host process,
 * so page faults and fork's copy-on-write are done by the host at native speed.
 * File mappings are private to the process (MAP_SHARED writes to files are not written
 * back yet): where the platform can map host fds (mode=skas), the file's memfd from
 * fs/filemap.c is mapped copy-on-write, without a copy; elsewhere the data is copied in
 * from the page cache when the mapping is made. mem= is enforced by counting committed
 * private memory, as Linux's strict overcommit does. */
#define _GNU_SOURCE
#include "mm.h"
#include "syscalls.h"
#include "fs/fs.h"
#include "fs/filemap.h"
#include <sys/mman.h>

#define VM_ACCOUNT 0x40000000 /* counted against mem= */
uaddr_t task_size;
uint64_t mem_total_bytes = 256ull << 20;
static uint64_t committed;

uint64_t mem_committed_bytes(void)
{
	return committed;
}

static void vma_account(struct vma *v, int sign)
{
	if (v->flags & VM_ACCOUNT)
		committed += sign * (int64_t)(v->end - v->start);
}

struct mm *mm_new(void)
{
	struct mm *mm = xzalloc(sizeof(*mm));
	mm->refcount = 1;
	list_init(&mm->vmas);
	return mm;
}

static struct vma *vma_dup(const struct vma *v)
{
	struct vma *n = xmalloc(sizeof(*n));
	*n = *v;
	list_init(&n->link);
	if (n->file)
		igrab(n->file);
	return n;
}

static void vma_free(struct vma *v)
{
	vma_account(v, -1);
	if (v->file)
		iput(v->file);
	list_del(&v->link);
	free(v);
}

static uint64_t mm_accounted(struct mm *mm)
{
	uint64_t n = 0;
	list_for_each(it, &mm->vmas)
	{
		struct vma *v = list_entry(it, struct vma, link);
		if (v->flags & VM_ACCOUNT)
			n += v->end - v->start;
	}
	return n;
}

bool mm_can_copy(struct mm *mm)
{
	return committed + mm_accounted(mm) <= mem_total_bytes;
}

struct mm *mm_copy(struct mm *old)
{
	struct mm *mm = mm_new();
	struct list *refc = &mm->vmas;
	int rc = mm->refcount;
	*mm = *old;
	mm->refcount = rc;
	mm->vmas = *refc;
	list_init(&mm->vmas);
	list_for_each(it, &old->vmas)
	{
		struct vma *v = vma_dup(list_entry(it, struct vma, link));
		vma_account(v, 1);
		list_add_tail(&v->link, &mm->vmas);
	}
	if (mm->exe)
		igrab(mm->exe);
	if (mm->exe_path.dentry)
		path_get(&mm->exe_path);
	return mm;
}

void mm_put(struct mm *mm)
{
	if (!mm || --mm->refcount > 0)
		return;
	while (!list_empty(&mm->vmas))
		vma_free(list_entry(mm->vmas.next, struct vma, link));
	if (mm->exe)
		iput(mm->exe);
	if (mm->exe_path.dentry)
		path_put(&mm->exe_path);
	free(mm);
}

struct vma *find_vma(struct mm *mm, uaddr_t addr)
{
	list_for_each(it, &mm->vmas)
	{
		struct vma *v = list_entry(it, struct vma, link);
		if (addr < v->end)
			return addr >= v->start ? v : NULL;
	}
	return NULL;
}

uint64_t mm_vsize(struct mm *mm)
{
	uint64_t n = 0;
	list_for_each(it, &mm->vmas)
	{
		struct vma *v = list_entry(it, struct vma, link);
		n += v->end - v->start;
	}
	return n;
}

uint64_t mm_rss_pages(struct mm *mm)
{
	/* The host knows residency; report committed pages as an upper bound. */
	uint64_t n = 0;
	list_for_each(it, &mm->vmas)
	{
		struct vma *v = list_entry(it, struct vma, link);
		if (v->file || (v->flags & VM_ACCOUNT))
			n += (v->end - v->start) / PAGE_SIZE;
	}
	return n;
}

bool mm_grow_stack(struct mm *mm, uaddr_t addr)
{
	if (!mm || !addr || addr >= task_size)
		return false;
	/* The stack area just above addr, if any. */
	struct vma *stack = NULL;
	list_for_each(it, &mm->vmas)
	{
		struct vma *v = list_entry(it, struct vma, link);
		if (v->start > addr) {
			if (v->flags & MAP_GROWSDOWN)
				stack = v;
			break;
		}
		if (addr < v->end)
			return false; /* mapped: a real protection fault */
	}
	if (!stack)
		return false;
	uint64_t limit = MIN(current->proc->rlim[RLIMIT_STACK].rlim_cur, 1ull << 30);
	uaddr_t start = ROUND_DOWN(addr, PAGE_SIZE);
	/* Grow in steps, so a deep recursion does not fault on every page. */
	start =
	    start > 64 * 1024 ? MIN(start, ROUND_DOWN(stack->start - 64 * 1024, PAGE_SIZE)) : start;
	if (stack->end - start > limit)
		start = stack->end - limit;
	if (start > addr || start >= stack->start)
		return false;
	/* Keep a gap of a page below the stack and any other area. */
	struct list *prev = stack->link.prev;
	if (prev != &mm->vmas && list_entry(prev, struct vma, link)->end + PAGE_SIZE > start)
		return false;
	uint64_t grow = stack->start - start;
	if (committed + grow > mem_total_bytes)
		return false;
	if (platform->mmap(current->ut, start, grow, stack->prot, MAP_PRIVATE, -1, 0) < 0)
		return false;
	committed += grow;
	stack->start = start;
	return true;
}

static bool range_free(struct mm *mm, uaddr_t start, uaddr_t end)
{
	if (start < PAGE_SIZE * 16 || end > task_size || end < start)
		return false;
	list_for_each(it, &mm->vmas)
	{
		struct vma *v = list_entry(it, struct vma, link);
		if (v->start < end && start < v->end)
			return false;
	}
	return true;
}

uaddr_t mm_find_free(struct mm *mm, size_t len)
{
	uaddr_t top = mm->mmap_base ? mm->mmap_base : task_size;
	/* Walk the areas from the highest down, trying the gap above each. */
	for (struct list *it = mm->vmas.prev;; it = it->prev) {
		uaddr_t floor =
		    it == &mm->vmas ? PAGE_SIZE * 16 : list_entry(it, struct vma, link)->end;
		if (it != &mm->vmas && floor > top) {
			uaddr_t s = list_entry(it, struct vma, link)->start;
			top = MIN(top, s);
			continue;
		}
		if (top >= floor + len)
			return top - len;
		if (it == &mm->vmas)
			return 0;
		top = MIN(top, list_entry(it, struct vma, link)->start);
	}
}

/* Split v at addr (inside it); returns the upper part. Accounting is unchanged. */
static struct vma *vma_split(struct vma *v, uaddr_t addr)
{
	struct vma *n = vma_dup(v);
	n->start = addr;
	if (n->file)
		n->pgoff += (addr - v->start) / PAGE_SIZE;
	v->end = addr;
	list_add(&n->link, &v->link);
	return n;
}

/* Make area boundaries fall at start and end. */
static void vma_split_range(struct mm *mm, uaddr_t start, uaddr_t end)
{
	struct vma *v = find_vma(mm, start);
	if (v && v->start < start)
		vma_split(v, start);
	v = find_vma(mm, end - 1);
	if (v && v->end > end)
		vma_split(v, end);
}

static void vma_insert(struct mm *mm, struct vma *n)
{
	struct list *pos = &mm->vmas;
	list_for_each(it, &mm->vmas)
	{
		if (list_entry(it, struct vma, link)->start > n->start) {
			pos = it;
			break;
		}
	}
	list_add_tail(&n->link, pos);
	vma_account(n, 1);
	/* Merge with an identical anonymous neighbour below (brk grows this way). */
	if (n->link.prev != &mm->vmas && !n->file) {
		struct vma *p = list_entry(n->link.prev, struct vma, link);
		if (!p->file && p->end == n->start && p->prot == n->prot && p->flags == n->flags) {
			p->end = n->end;
			list_del(&n->link);
			free(n);
		}
	}
}

/* Remove [start, end) from the map (kernel side only). */
static void vma_remove_range(struct mm *mm, uaddr_t start, uaddr_t end)
{
	vma_split_range(mm, start, end);
	list_for_each_safe(it, nx, &mm->vmas)
	{
		struct vma *v = list_entry(it, struct vma, link);
		if (v->start >= start && v->end <= end)
			vma_free(v);
	}
}

/* Fill a fresh mapping with file data from off; the rest stays zero. */
static int fill_from_file(struct file *f, uaddr_t addr, size_t len, uint64_t off)
{
	size_t chunk = 256 * 1024;
	char *buf = xmalloc(chunk);
	int err = 0;
	for (size_t done = 0; done < len;) {
		ssize_t n = kernel_read(f, buf, MIN(chunk, len - done), off + done);
		if (n < 0) {
			err = (int)n;
			break;
		}
		if (n == 0)
			break;
		if (copy_to_user(addr + done, buf, n)) {
			err = -EFAULT;
			break;
		}
		done += n;
	}
	free(buf);
	return err;
}

/* Anonymous memory, or a private copy of the file's data read in now. */
static long map_copy(struct file *file, uaddr_t addr, size_t len, int prot, int flags, uint64_t off)
{
	int hprot = file ? (prot | PROT_WRITE) : prot;
	int hflags = (file || !(flags & MAP_SHARED)) ? MAP_PRIVATE : MAP_SHARED;
	long r =
	    platform->mmap(current->ut, addr, len, hprot, hflags | (flags & MAP_NORESERVE), -1, 0);
	if (r < 0 || !file)
		return r;
	int err = fill_from_file(file, addr, len, off);
	if (!err && hprot != prot)
		err = platform->mprotect(current->ut, addr, len, prot);
	if (err)
		platform->munmap(current->ut, addr, len);
	return err;
}

/* The platform said once that it cannot map host fds (the ptrace platforms). */
static bool no_fd_mmap;

/* The file's memfd for a mapping, if the file's data is the page cache's and the
 * platform may take it. */
static struct filemap *file_memfd(struct file *file)
{
	if (no_fd_mmap || !file->fop || file->fop->read != generic_file_read)
		return NULL;
	return filemap_get(file->inode);
}

/* The file's pages from its memfd, copy-on-write: no copy. Whole pages past the end of
 * the file are anonymous zero pages, as with the copy (Linux raises SIGBUS there); the
 * rest of the last page is zeros in the memfd, as on Linux. -ENOSYS: copy instead (also
 * when the host refuses the memfd, say executable memfds). */
static long map_memfd(struct filemap *fm, uaddr_t addr, size_t len, int prot, uint64_t off)
{
	size_t flen = off < fm->bytes ? MIN(len, fm->bytes - off) : 0;
	long r = 0;
	if (flen)
		r = platform->mmap(current->ut, addr, flen, prot, MAP_PRIVATE | MAP_FIXED, fm->fd,
				   (off_t)off);
	if (r == -ENOSYS)
		no_fd_mmap = true;
	if (r == -ENOSYS || r == -EPERM || r == -EACCES)
		return -ENOSYS;
	if (r >= 0 && flen < len)
		r = platform->mmap(current->ut, addr + flen, len - flen, prot, MAP_PRIVATE, -1, 0);
	if (r < 0)
		platform->munmap(current->ut, addr, len);
	return r;
}

long do_mmap(uaddr_t addr, size_t len, int prot, int flags, struct file *file, uint64_t off)
{
	struct mm *mm = current->mm;
	if (!len)
		return -EINVAL;
	if (off & (PAGE_SIZE - 1))
		return -EINVAL;
	len = ROUND_UP(len, PAGE_SIZE);
	if (len > task_size)
		return -ENOMEM;
	int type = flags & (MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE);
	if (!type)
		return -EINVAL;
	if (flags & MAP_FIXED) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (addr + len > task_size || addr + len < addr)
			return -ENOMEM;
	} else {
		addr = ROUND_DOWN(addr, PAGE_SIZE);
		if (!addr || !range_free(mm, addr, addr + len))
			addr = mm_find_free(mm, len);
		if (!addr)
			return -ENOMEM;
	}
	/* Strict accounting, as Linux's overcommit mode 2: every private writable page and
	 * all anonymous memory counts, MAP_NORESERVE or not. */
	bool account = ((prot & PROT_WRITE) || !file) && !(file && (flags & MAP_SHARED));
	if (account && committed + len > mem_total_bytes)
		return -ENOMEM;
	if (flags & MAP_FIXED_NOREPLACE && !range_free(mm, addr, addr + len))
		return -EEXIST;

	/* Read the file in (this may sleep) before the map changes. */
	struct filemap *fm = file ? file_memfd(file) : NULL;
	vma_remove_range(mm, addr, addr + len);
	long r = fm ? map_memfd(fm, addr, len, prot, off) : -ENOSYS;
	if (fm) {
		filemap_put(fm);
		if (no_fd_mmap)
			filemap_drop(file->inode); /* no use for it here */
	}
	if (r == -ENOSYS)
		r = map_copy(file, addr, len, prot, flags, off);
	if (r < 0)
		return r;
	struct vma *v = xzalloc(sizeof(*v));
	v->start = addr;
	v->end = addr + len;
	v->prot = prot;
	v->flags =
	    (flags & (MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_STACK)) |
	    (account ? VM_ACCOUNT : 0);
	if (file) {
		v->file = file->inode;
		igrab(v->file);
		v->pgoff = off / PAGE_SIZE;
	}
	list_init(&v->link);
	vma_insert(mm, v);
	return (long)addr;
}

int do_munmap(uaddr_t addr, size_t len)
{
	if ((addr & (PAGE_SIZE - 1)) || !len)
		return -EINVAL;
	len = ROUND_UP(len, PAGE_SIZE);
	if (addr + len > task_size || addr + len < addr)
		return -EINVAL;
	vma_remove_range(current->mm, addr, addr + len);
	return platform->munmap(current->ut, addr, len);
}

int do_mprotect(uaddr_t addr, size_t len, int prot)
{
	struct mm *mm = current->mm;
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	len = ROUND_UP(len, PAGE_SIZE);
	uaddr_t end = addr + len;
	/* The whole range must be mapped. */
	for (uaddr_t a = addr; a < end;) {
		struct vma *v = find_vma(mm, a);
		if (!v)
			return -ENOMEM;
		a = v->end;
	}
	/* Private file pages made writable become the process's own memory: count them. */
	uint64_t charge = 0;
	if (prot & PROT_WRITE) {
		list_for_each(it, &mm->vmas)
		{
			struct vma *v = list_entry(it, struct vma, link);
			if (v->end <= addr || v->start >= end || (v->flags & VM_ACCOUNT) ||
			    (v->flags & MAP_SHARED))
				continue;
			charge += MIN(v->end, end) - MAX(v->start, addr);
		}
		if (committed + charge > mem_total_bytes)
			return -ENOMEM;
	}
	int err = platform->mprotect(current->ut, addr, len, prot);
	if (err)
		return err;
	vma_split_range(mm, addr, end);
	list_for_each(it, &mm->vmas)
	{
		struct vma *v = list_entry(it, struct vma, link);
		if (v->start >= addr && v->end <= end) {
			v->prot = prot;
			if (charge && !(v->flags & VM_ACCOUNT) && !(v->flags & MAP_SHARED)) {
				v->flags |= VM_ACCOUNT;
				vma_account(v, 1);
			}
		}
	}
	return 0;
}

SYSCALL(mmap)
{
	uaddr_t addr = a[0];
	size_t len = a[1];
	int prot = (int)a[2], flags = (int)a[3], fd = (int)a[4];
	uint64_t off = a[5];
	if (flags & MAP_ANONYMOUS)
		return do_mmap(addr, len, prot, flags, NULL, 0);
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	long r;
	if (!S_ISREG(f->inode->mode))
		r = -ENODEV;
	else if ((f->flags & O_ACCMODE) == O_WRONLY)
		r = -EACCES;
	else if ((flags & MAP_SHARED) && (prot & PROT_WRITE) && (f->flags & O_ACCMODE) != O_RDWR)
		r = -EACCES;
	else
		r = do_mmap(addr, len, prot, flags, f, off);
	fput(f);
	return r;
}

SYSCALL(munmap)
{
	return do_munmap(a[0], a[1]);
}

SYSCALL(mprotect)
{
	return do_mprotect(a[0], a[1], (int)a[2]);
}

SYSCALL(brk)
{
	struct mm *mm = current->mm;
	uaddr_t want = a[0];
	if (want < mm->start_brk)
		return mm->brk;
	uaddr_t old_top = ROUND_UP(mm->brk, PAGE_SIZE), new_top = ROUND_UP(want, PAGE_SIZE);
	if (new_top > old_top) {
		if (!range_free(mm, old_top, new_top))
			return mm->brk;
		long r = do_mmap(old_top, new_top - old_top, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
		if (r < 0)
			return mm->brk;
	} else if (new_top < old_top) {
		do_munmap(new_top, old_top - new_top);
	}
	mm->brk = want;
	return mm->brk;
}

SYSCALL(mremap)
{
	struct mm *mm = current->mm;
	uaddr_t old = a[0], new_addr = a[4];
	size_t old_len = ROUND_UP(a[1], PAGE_SIZE), new_len = ROUND_UP(a[2], PAGE_SIZE);
	int flags = (int)a[3];
	if ((old & (PAGE_SIZE - 1)) || !new_len || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) &&
	    (!(flags & MREMAP_MAYMOVE) || (new_addr & (PAGE_SIZE - 1)) ||
	     !guest_range_ok(new_addr, new_len) || new_addr < PAGE_SIZE * 16))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && new_addr < old + old_len && old < new_addr + new_len)
		return -EINVAL; /* overlapping source and destination */
	struct vma *v = find_vma(mm, old);
	if (!v || old + old_len > v->end)
		return -EFAULT;
	if (!(flags & MREMAP_FIXED)) {
		if (new_len <= old_len) {
			if (new_len < old_len)
				do_munmap(old + new_len, old_len - new_len);
			return old;
		}
		/* Grow in place when the space after is free. */
		if (old + old_len == v->end && range_free(mm, old + old_len, old + new_len)) {
			long r = do_mmap(old + old_len, new_len - old_len, v->prot,
					 (v->flags & (MAP_SHARED | MAP_PRIVATE)) | MAP_FIXED |
					     MAP_ANONYMOUS,
					 NULL, 0);
			return r < 0 ? r : (long)old;
		}
		if (!(flags & MREMAP_MAYMOVE))
			return -ENOMEM;
		new_addr = mm_find_free(mm, new_len);
		if (!new_addr)
			return -ENOMEM;
	}
	bool account = v->flags & VM_ACCOUNT;
	if (account && new_len > old_len && committed + new_len - old_len > mem_total_bytes)
		return -ENOMEM;
	vma_remove_range(mm, new_addr, new_addr + new_len);
	long r = platform->mremap(current->ut, old, old_len, new_len, new_addr);
	if (r < 0)
		return r;
	struct vma *n = vma_dup(v);
	n->start = new_addr;
	n->end = new_addr + new_len;
	if (n->file)
		n->pgoff += (old - v->start) / PAGE_SIZE;
	vma_remove_range(mm, old, old + old_len);
	vma_insert(mm, n);
	return (long)new_addr;
}

SYSCALL(madvise)
{
	int advice = (int)a[2];
	size_t len = ROUND_UP(a[1], PAGE_SIZE);
	if (a[0] & (PAGE_SIZE - 1))
		return -EINVAL;
	/* Every page of the range must be mapped (as Linux: ENOMEM otherwise). */
	if (!guest_range_ok(a[0], len))
		return -ENOMEM;
	for (uaddr_t p = a[0]; p < a[0] + len;) {
		struct vma *v = find_vma(current->mm, p);
		if (!v)
			return -ENOMEM;
		p = v->end;
	}
	if (advice == MADV_DONTNEED || advice == MADV_FREE)
		return platform->madvise(current->ut, a[0], len, MADV_DONTNEED);
	return 0; /* other advice is a hint the host does not need */
}

SYSCALL(msync)
{
	return (a[0] & (PAGE_SIZE - 1)) ? -EINVAL : 0;
}

SYSCALL(mincore)
{
	size_t pages = ROUND_UP(a[1], PAGE_SIZE) / PAGE_SIZE;
	unsigned char ones[256];
	memset(ones, 1, sizeof(ones));
	for (size_t i = 0; i < pages; i += sizeof(ones))
		if (copy_to_user(a[2] + i, ones, MIN(sizeof(ones), pages - i)))
			return -EFAULT;
	return 0;
}

/* Locking pages in memory is meaningless for guest memory the host may swap. */
SYSCALL(mlock)
{
	return 0;
}
SYSCALL(munlock)
{
	return 0;
}
SYSCALL(mlockall)
{
	return 0;
}
SYSCALL(munlockall)
{
	return 0;
}

int access_process_vm(struct process *p, uaddr_t addr, void *buf, size_t len, bool write)
{
	if (!guest_range_ok(addr, len))
		return -EFAULT;
	list_for_each(it, &p->threads)
	{
		struct task *t = list_entry(it, struct task, thread_link);
		if (!t->ut)
			continue;
		return write ? platform->write(t->ut, addr, buf, len)
			     : platform->read(t->ut, buf, addr, len);
	}
	return -ESRCH;
}
