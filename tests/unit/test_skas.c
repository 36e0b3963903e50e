/* The seccomp SKAS platform (src/skas/seccomp.c) under the real scheduler: a tiny fake
 * kernel loads raw machine code into fresh address spaces, runs it and answers its
 * syscalls. Covers the syscall round trip (and prints its cost), registers and FP
 * state, faults, interrupts, fork and threads, host memory operations, and hostile
 * guests: forged stub syscalls, writes to the stub, scribbling on the channel.
 *
 * The platform is included whole so the tests can look at its host processes. */
#define _GNU_SOURCE
#include "skas/seccomp.c"
#include "kernel/task.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

const struct platform *platform = &skas_platform;
uaddr_t task_size = GUEST_TASK_SIZE; /* util.c checks guest ranges against it */

/* The pieces of the kernel the scheduler calls. */
bool signal_pending(struct task *t)
{
	return false;
}

/* --- guest code: position-independent, copied to CODE ------------------------------- */
#define CODE 0x10000000ULL
#define STACK 0x20000000ULL
#define STACK_SIZE 0x10000ULL
#define DATA 0x30000000ULL

#define STR_(x) #x
#define STR(x) STR_(x)

extern const char guest_start[], guest_end[], g_getppid[], g_args[], g_args_ret[], g_segv[],
    g_ud2[], g_int3[], g_spin[], g_exit42[], g_fork[], g_fp[], g_stub_open[], g_stub_execve[],
    g_stub_mmap[], g_stub_mprotect[], g_stub_clone[], g_stub_hello[], g_stub_doorbell[],
    g_ptrace_stub[], g_write_stub[], g_forge_chan[], g_unmap_chan[], g_int80[], g_mmap_chan[],
    g_uretprobe[], g_stub_fd[], g_stub_mmap_shared[];

__asm__(".pushsection .rodata\n"
	".globl guest_start, g_getppid, g_args, g_args_ret, g_segv, g_ud2, g_int3, g_spin\n"
	".globl g_exit42, g_fork, g_fp, g_stub_open, g_stub_execve, g_stub_mmap\n"
	".globl g_stub_mprotect, g_stub_clone, g_stub_hello, g_stub_doorbell, g_ptrace_stub\n"
	".globl g_write_stub, g_forge_chan, g_unmap_chan, g_int80, g_mmap_chan, g_uretprobe\n"
	".globl g_stub_fd, g_stub_mmap_shared\n"
	"guest_start:\n"

	/* r12 getppid calls, each must return 4242; exit 0 (1 on a wrong result). */
	"g_getppid:\n"
	"1: mov $110, %eax\n"
	"   syscall\n"
	"   cmp $4242, %rax\n"
	"   jne 2f\n"
	"   dec %r12\n"
	"   jnz 1b\n"
	"   mov $60, %eax\n"
	"   xor %edi, %edi\n"
	"   syscall\n"
	"2: mov $60, %eax\n"
	"   mov $1, %edi\n"
	"   syscall\n"
	"   ud2\n"

	/* Arguments in, result out, callee registers kept, fs base loaded. */
	"g_args:\n"
	"   mov $0x1111, %rdi\n"
	"   mov $0x2222, %rsi\n"
	"   mov $0x3333, %rdx\n"
	"   mov $0x4444, %r10\n"
	"   mov $0x5555, %r8\n"
	"   mov $0x6666, %r9\n"
	"   mov $0xaaaa, %rbx\n"
	"   mov $0xbbbb, %rbp\n"
	"   mov $0xcccc, %r12\n"
	"   mov $0xdddd, %r15\n"
	"   mov $500, %eax\n"
	"   syscall\n"
	"g_args_ret:\n"
	"   cmp $0xaaaa, %rbx\n"
	"   jne 9f\n"
	"   cmp $0xbbbb, %rbp\n"
	"   jne 9f\n"
	"   cmp $0xcccc, %r12\n"
	"   jne 9f\n"
	"   cmp $0xdddd, %r15\n"
	"   jne 9f\n"
	"   mov %rax, %rbx\n"
	"   mov %fs:0, %rdi\n"
	"   mov $501, %eax\n"
	"   syscall\n"
	"   mov $60, %eax\n"
	"   mov %rbx, %rdi\n"
	"   syscall\n"
	"9: mov $60, %eax\n"
	"   mov $99, %edi\n"
	"   syscall\n"

	"g_segv:\n"
	"   movq $1, 0\n"
	"   ud2\n"
	"g_ud2:\n"
	"   ud2\n"
	"g_int3:\n"
	"   int3\n"
	"   mov $60, %eax\n"
	"   mov $5, %edi\n"
	"   syscall\n"
	"g_spin:\n"
	"   jmp g_spin\n"
	"g_exit42:\n"
	"   mov $60, %eax\n"
	"   mov $42, %edi\n"
	"   syscall\n"

	/* fork (57): the child stores 0x55 at DATA and exits 7; the parent exits with
	 * what it finds at DATA afterwards. */
	"g_fork:\n"
	"   mov $57, %eax\n"
	"   syscall\n"
	"   test %rax, %rax\n"
	"   jnz 1f\n"
	"   movq $0x55, " STR(DATA) "\n"
				    "   mov $60, %eax\n"
				    "   mov $7, %edi\n"
				    "   syscall\n"
				    "1: mov $110, %eax\n"
				    "   syscall\n"
				    "   mov " STR(DATA) ", %rdi\n"
							"   mov $60, %eax\n"
							"   syscall\n"

							/* xmm0 = 0x0123456789abcdef; syscall 503;
							   then report xmm1 (set by the kernel). */
							"g_fp:\n"
							"   mov $0x0123456789abcdef, %rax\n"
							"   movq %rax, %xmm0\n"
							"   mov $503, %eax\n"
							"   syscall\n"
							"   movq %xmm1, %rdi\n"
							"   mov $504, %eax\n"
							"   syscall\n"
							"   mov $60, %eax\n"
							"   xor %edi, %edi\n"
							"   syscall\n"

							/* Hostile: the stub's own syscall
							   instruction with forged registers. */
							"g_stub_open:\n"
							"   lea path(%rip), %rsi\n"
							"   mov $-100, %rdi\n"
							"   xor %edx, %edx\n"
							"   mov $257, %eax\n"
							"   mov $" STR(SKAS_STUB_SYS_IP) " - 2, "
											 "%rcx\n"
											 "   jmp "
											 "*%rcx\n"
											 "g_stub_"
											 "execve:\n"
											 "   lea "
											 "path(%"
											 "rip), "
											 "%rdi\n"
											 "   xor "
											 "%esi, "
											 "%esi\n"
											 "   xor "
											 "%edx, "
											 "%edx\n"
											 "   mov "
											 "$59, "
											 "%eax\n"
											 "   mov "
											 "$" STR(SKAS_STUB_SYS_IP) " - 2, %rcx\n"
														   "   jmp *%rcx\n"
														   "g_stub_mmap:\n" /* map over the stub's text */
														   "   mov $" STR(SKAS_STUB_ADDR) ", %rdi\n"
																		  "   mov $4096, %esi\n"
																		  "   mov $7, %edx\n"
																		  "   mov $0x32, %r10d\n"
																		  "   mov $-1, %r8\n"
																		  "   xor %r9d, %r9d\n"
																		  "   mov $9, %eax\n"
																		  "   mov $" STR(SKAS_STUB_SYS_IP) " - 2, %rcx\n"
																						   "   jmp *%rcx\n"
																						   "g_stub_mprotect:\n" /* make the stub writable, with a length that wraps */
																						   "   mov $" STR(SKAS_STUB_ADDR) ", %rdi\n"
																										  "   mov $0xffff800010000000, %rsi\n"
																										  "   mov $3, %edx\n"
																										  "   mov $10, %eax\n"
																										  "   mov $" STR(SKAS_STUB_SYS_IP) " - 2, %rcx\n"
																														   "   jmp *%rcx\n"
																														   /* Forged clone and hello: the kernel must refuse them; the stub's `ret` comes
																														    * back here and the result is reported with syscall 502. */
																														   "g_stub_clone:\n"
																														   "   lea 1f(%rip), %rax\n"
																														   "   push %rax\n"
																														   "   mov $0x8000, %edi\n" /* CLONE_PARENT */
																														   "   xor %esi, %esi\n"
																														   "   xor %edx, %edx\n"
																														   "   xor %r10d, %r10d\n"
																														   "   xor %r8d, %r8d\n"
																														   "   mov $56, %eax\n"
																														   "   mov $" STR(SKAS_STUB_SYS_IP) " - 2, %rcx\n"
																																		    "   jmp *%rcx\n"
																																		    "1: mov %rax, %rdi\n"
																																		    "   mov $502, %eax\n"
																																		    "   syscall\n"
																																		    "   jmp g_exit42\n"
																																		    "g_stub_hello:\n"
																																		    "   lea 1b(%rip), %rax\n"
																																		    "   push %rax\n"
																																		    "   mov $" STR(SKAS_NOTIFY_HELLO) ", %edi\n"
																																						      "   mov $" STR(SKAS_NOTIFY_NR) ", %eax\n"
																																										     "   mov $" STR(SKAS_STUB_SYS_IP) " - 2, %rcx\n"
																																														      "   jmp *%rcx\n"
																																														      "g_stub_doorbell:\n"
																																														      "   lea 1b(%rip), %rax\n"
																																														      "   push %rax\n"
																																														      "   mov $" STR(
																																															  SKAS_NOTIFY_DOORBELL) ", %edi\n"
																																																		"   mov $" STR(
																																																		    SKAS_NOTIFY_NR) ", %eax\n"
																																																				    "   mov $" STR(SKAS_STUB_SYS_IP) " - 2, %rcx\n"
																																																								     "   jmp *%rcx\n"
																																																								     /* Asks for a file's fd no mapping is waiting for. */
																																																								     "g_stub_fd:\n"
																																																								     "   lea 1b(%rip), %rax\n"
																																																								     "   push %rax\n"
																																																								     "   mov $" STR(
																																																									 SKAS_NOTIFY_FD) ", %edi\n"
																																																											 "   mov $" STR(SKAS_NOTIFY_NR) ", %eax\n"
																																																															"   mov $" STR(SKAS_STUB_SYS_IP) " - 2, %rcx\n"
																																																																			 "   jmp *%rcx\n"
																																																																			 /* A shared file mapping below the guest top (of fd 0, were there one). */
																																																																			 "g_stub_mmap_shared:\n"
																																																																			 "   mov $0x40000000, %rdi\n"
																																																																			 "   mov $4096, %esi\n"
																																																																			 "   mov $1, %edx\n"
																																																																			 "   mov $0x11, %r10d\n"
																																																																			 "   xor %r8d, %r8d\n"
																																																																			 "   xor %r9d, %r9d\n"
																																																																			 "   mov $9, %eax\n"
																																																																			 "   mov $" STR(
																																																																			     SKAS_STUB_SYS_IP) " - 2, %rcx\n"
																																																																					       "   jmp *%rcx\n"
																																																																					       /* The ptrace platform's `syscall; int3`: just another guest syscall here. */
																																																																					       "g_ptrace_stub:\n"
																																																																					       "   lea path(%rip), %rsi\n"
																																																																					       "   mov $-100, %rdi\n"
																																																																					       "   xor %edx, %edx\n"
																																																																					       "   mov $257, %eax\n"
																																																																					       "   mov $" STR(SKAS_STUB_ADDR) ", %rcx\n"
																																																																									      "   jmp *%rcx\n"
																																																																									      "g_write_stub:\n"
																																																																									      "   mov $" STR(SKAS_STUB_ADDR) ", %rax\n"
																																																																													     "   movq $0, (%rax)\n"
																																																																													     "   jmp g_exit42\n"
																																																																													     /* Post a forged event on our own channel, then spin. */
																																																																													     "g_forge_chan:\n"
																																																																													     "   mov $" STR(
																																																																														 SKAS_SLOT_BASE) ", %rax\n"
																																																																																 "   movl $" STR(
																																																																																     SKAS_EV_SYSCALL) ", 8(%rax)\n"
																																																																																		      "   lock incl (%rax)\n"
																																																																																		      "   jmp g_spin\n"
																																																																																		      /* Unmap our own channel (where the signal stack is), then make a syscall. */
																																																																																		      "g_unmap_chan:\n"
																																																																																		      "   lea 1f(%rip), %rax\n"
																																																																																		      "   push %rax\n"
																																																																																		      "   mov $" STR(SKAS_SLOT_BASE) ", %rdi\n"
																																																																																						     "   mov $" STR(
																																																																																							 SKAS_CHAN_SIZE) ", %esi\n"
																																																																																									 "   mov $11, %eax\n"
																																																																																									 "   mov $" STR(
																																																																																									     SKAS_STUB_SYS_IP) " - 2, %rcx\n"
																																																																																											       "   jmp *%rcx\n"
																																																																																											       "1: mov $110, %eax\n"
																																																																																											       "   syscall\n"
																																																																																											       "   jmp g_exit42\n"
																																																																																											       /* Replace our own channel with anonymous memory, then make a syscall: the stub
																																																																																												* posts into memory the kernel does not see, and waits forever. */
																																																																																											       "g_mmap_chan:\n"
																																																																																											       "   lea 1f(%rip), %rax\n"
																																																																																											       "   push %rax\n"
																																																																																											       "   mov $" STR(
																																																																																												   SKAS_SLOT_BASE) ", %rdi\n"
																																																																																														   "   mov $" STR(
																																																																																														       SKAS_CHAN_SIZE) ", %esi\n"
																																																																																																       "   mov $3, %edx\n"
																																																																																																       "   mov $0x32, %r10d\n"
																																																																																																       "   mov $-1, %r8\n"
																																																																																																       "   xor %r9d, %r9d\n"
																																																																																																       "   mov $9, %eax\n"
																																																																																																       "   mov $" STR(
																																																																																																	   SKAS_STUB_SYS_IP) " - 2, %rcx\n"
																																																																																																			     "   jmp *%rcx\n"
																																																																																																			     "1: mov $110, %eax\n"
																																																																																																			     "   syscall\n"
																																																																																																			     "   jmp g_exit42\n"
																																																																																																			     /* The host's uretprobe syscall, which seccomp filters cannot stop. */
																																																																																																			     "g_uretprobe:\n"
																																																																																																			     "   mov $335, %eax\n"
																																																																																																			     "   syscall\n"
																																																																																																			     "   mov %rax, %rdi\n"
																																																																																																			     "   mov $502, %eax\n"
																																																																																																			     "   syscall\n"
																																																																																																			     "   jmp g_exit42\n"
																																																																																																			     "g_int80:\n"
																																																																																																			     "   mov $20, %eax\n"
																																																																																																			     "   int $0x80\n"
																																																																																																			     "   jmp g_exit42\n"
																																																																																																			     "path: .asciz \"/etc/passwd\"\n"
																																																																																																			     ".globl guest_end\n"
																																																																																																			     "guest_end:\n"
																																																																																																			     ".popsection\n");

#define ENTRY(sym) (CODE + (uint64_t)(sym - guest_start))

/* --- a tiny kernel ----------------------------------------------------------------- */

struct guest {
	struct uthread *ut;
	struct uregs regs;
};

static void guest_regs(struct uregs *r, uint64_t rip, uint64_t rsp)
{
	memset(r, 0, sizeof(*r));
	r->rip = rip;
	r->rsp = rsp;
	r->eflags = 0x202;
	r->cs = 0x33;
	r->ss = 0x2b;
}

/* A fresh address space with the guest code at CODE (read-only, written the way an ELF
 * loader does), a stack and a data page. */
static void load(struct guest *g, uint64_t entry)
{
	assert_int_equal(platform->spawn(&g->ut), 0);
	struct uthread *t = g->ut;
	assert_int_equal(platform->mmap(t, CODE, 0x10000, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0),
			 (long)CODE);
	assert_int_equal(platform->mprotect(t, CODE, 0x10000, PROT_READ | PROT_EXEC), 0);
	assert_int_equal(platform->write(t, CODE, guest_start, guest_end - guest_start), 0);
	assert_int_equal(platform->mmap(t, STACK, STACK_SIZE, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0),
			 (long)STACK);
	assert_int_equal(platform->mmap(t, DATA, 0x1000, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0),
			 (long)DATA);
	guest_regs(&g->regs, entry, STACK + STACK_SIZE - 64);
}

/* Run to the next event. */
static struct uevent step(struct guest *g)
{
	struct uevent ev;
	assert_int_equal(platform->run(g->ut, &g->regs, &ev), 0);
	return ev;
}

/* Answer syscalls until exit(2): getppid -> 4242, anything else -> -ENOSYS. Returns the
 * exit code; counts the syscalls. */
static int run_to_exit(struct guest *g, long *nsys)
{
	for (;;) {
		struct uevent ev = step(g);
		if (ev.kind != UEV_SYSCALL) {
			print_message("unexpected event %d signo %d at %#llx\n", ev.kind, ev.signo,
				      (unsigned long long)g->regs.rip);
			fail();
		}
		if (nsys)
			(*nsys)++;
		switch (g->regs.orig_rax) {
		case 110:
			g->regs.rax = 4242;
			break;
		case 60:
			return (int)g->regs.rdi;
		default:
			g->regs.rax = (uint64_t)-ENOSYS;
		}
	}
}

static void release(struct guest *g)
{
	platform->release(g->ut);
	g->ut = NULL;
}

/* The host processes of the platform that are still alive. */
static int children_alive(void)
{
	int n = 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", gettid());
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int pid;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid != ns_pid)
			n++;
	fclose(f);
	return n;
}

/* Released processes are reaped by the event loop once they are dead: wait for it. */
static int children_settle(int expect)
{
	uint64_t deadline = ktime_mono() + 2000000000ULL;
	int n;
	while ((n = children_alive()) != expect && ktime_mono() < deadline)
		sleep_on_many(NULL, 0, false, ktime_mono() + 1000000);
	return n;
}

/* --- the tests ------------------------------------------------------------------- */

static void test_getppid(void **state)
{
	struct guest g;
	load(&g, ENTRY(g_getppid));
	g.regs.r12 = 1000;
	long n = 0;
	assert_int_equal(run_to_exit(&g, &n), 0);
	assert_int_equal(n, 1001);
	release(&g);

	/* The round trip, measured (not asserted). */
	const long iters = 200000;
	load(&g, ENTRY(g_getppid));
	g.regs.r12 = 1000; /* warm up */
	assert_int_equal(run_to_exit(&g, NULL), 0);
	release(&g);
	load(&g, ENTRY(g_getppid));
	g.regs.r12 = iters;
	uint64_t t0 = ktime_mono();
	assert_int_equal(run_to_exit(&g, NULL), 0);
	uint64_t t1 = ktime_mono();
	release(&g);
	printf("   getppid round trip (seccomp platform): %.2f us\n",
	       (double)(t1 - t0) / 1000.0 / (double)iters);
}

static void test_registers(void **state)
{
	struct guest g;
	load(&g, ENTRY(g_args));
	/* fs base: a page whose first word the guest reads with %fs:0 */
	uint64_t magic = 0xfeedface12345678ULL;
	assert_int_equal(platform->write(g.ut, DATA, &magic, 8), 0);
	g.regs.fs_base = DATA;
	struct uevent ev = step(&g);
	assert_int_equal(ev.kind, UEV_SYSCALL);
	assert_int_equal(g.regs.orig_rax, 500);
	assert_int_equal(g.regs.rax, (uint64_t)-ENOSYS);
	assert_int_equal(g.regs.rdi, 0x1111);
	assert_int_equal(g.regs.rsi, 0x2222);
	assert_int_equal(g.regs.rdx, 0x3333);
	assert_int_equal(g.regs.r10, 0x4444);
	assert_int_equal(g.regs.r8, 0x5555);
	assert_int_equal(g.regs.r9, 0x6666);
	assert_int_equal(g.regs.rbx, 0xaaaa);
	assert_int_equal(g.regs.fs_base, DATA);
	assert_int_equal(g.regs.rip, ENTRY(g_args_ret));
	assert_int_equal(g.regs.cs, 0x33);
	g.regs.rax = 77;
	ev = step(&g);
	assert_int_equal(ev.kind, UEV_SYSCALL);
	assert_int_equal(g.regs.orig_rax, 501);
	assert_int_equal(g.regs.rdi, magic);
	assert_int_equal(run_to_exit(&g, NULL), 77);
	release(&g);
}

static void test_fpregs(void **state)
{
	struct guest g;
	load(&g, ENTRY(g_fp));
	struct ufpregs fp;
	struct uevent ev = step(&g);
	assert_int_equal(g.regs.orig_rax, 503);
	assert_int_equal(platform->get_fpregs(g.ut, &fp), 0);
	uint64_t x0, x1 = 0x1122334455667788ULL;
	memcpy(&x0, fp.fxsave + 160, 8);
	assert_int_equal(x0, 0x0123456789abcdefULL);
	memcpy(fp.fxsave + 176, &x1, 8);
	assert_int_equal(platform->set_fpregs(g.ut, &fp), 0);
	ev = step(&g);
	assert_int_equal(ev.kind, UEV_SYSCALL);
	assert_int_equal(g.regs.orig_rax, 504);
	assert_int_equal(g.regs.rdi, x1);
	assert_int_equal(run_to_exit(&g, NULL), 0);
	release(&g);
}

static void expect_fault(uint64_t entry, int signo, uint64_t addr)
{
	struct guest g;
	load(&g, entry);
	struct uevent ev = step(&g);
	assert_int_equal(ev.kind, UEV_FAULT);
	assert_int_equal(ev.signo, signo);
	if (signo == SIGSEGV)
		assert_int_equal(ev.addr, addr);
	/* The thread carries on where the kernel says. */
	g.regs.rip = ENTRY(g_exit42);
	assert_int_equal(run_to_exit(&g, NULL), 42);
	release(&g);
}

static void test_faults(void **state)
{
	expect_fault(ENTRY(g_segv), SIGSEGV, 0);
	expect_fault(ENTRY(g_ud2), SIGILL, 0);
	expect_fault(ENTRY(g_int3), SIGTRAP, 0);
	/* Writes to the stub's text fail like any write to read-only memory. */
	expect_fault(ENTRY(g_write_stub), SIGSEGV, SKAS_STUB_ADDR);
}

static struct uthread *to_interrupt;
static void interrupter(void *arg)
{
	sleep_on_many(NULL, 0, false, ktime_mono() + 20000000);
	platform->interrupt(to_interrupt);
}

static void test_interrupt(void **state)
{
	struct guest g;
	load(&g, ENTRY(g_spin));
	to_interrupt = g.ut;
	kthread_create("interrupter", interrupter, NULL);
	struct uevent ev = step(&g);
	assert_int_equal(ev.kind, UEV_INTERRUPT);
	assert_int_equal(g.regs.rip, ENTRY(g_spin));
	g.regs.rip = ENTRY(g_exit42);
	assert_int_equal(run_to_exit(&g, NULL), 42);
	release(&g);
}

struct runner {
	struct guest g;
	int code;
	bool done;
	struct waitq wq;
};

static void run_task(void *arg)
{
	struct runner *r = arg;
	r->code = run_to_exit(&r->g, NULL);
	r->done = true;
	wake_up(&r->wq);
}

static void clone_test(bool share_vm)
{
	int before = children_settle(0);
	struct guest g;
	load(&g, ENTRY(g_fork));
	struct uevent ev = step(&g);
	assert_int_equal(ev.kind, UEV_SYSCALL);
	assert_int_equal(g.regs.orig_rax, 57);
	struct runner child = {.g.regs = g.regs};
	waitq_init(&child.wq);
	assert_int_equal(platform->clone(g.ut, share_vm, &child.g.ut), 0);
	assert_int_equal(children_alive(), before + 2);
	child.g.regs.rax = 0;
	g.regs.rax = 1234;
	/* The child runs to its exit first, then the parent looks at DATA. */
	kthread_create("child", run_task, &child);
	wait_event(&child.wq, child.done, false, 0);
	assert_int_equal(child.code, 7);
	release(&child.g);
	assert_int_equal(run_to_exit(&g, NULL), share_vm ? 0x55 : 0);
	release(&g);
	assert_int_equal(children_settle(before), before);
}

static void test_fork(void **state)
{
	clone_test(false);
}

static void test_thread(void **state)
{
	clone_test(true);
	/* Two threads of one address space making syscalls at once, each with its own
	 * channel, plus a forked process. */
	struct runner r[3];
	memset(r, 0, sizeof(r));
	load(&r[0].g, ENTRY(g_getppid));
	r[1].g.regs = r[0].g.regs;
	r[2].g.regs = r[0].g.regs;
	assert_int_equal(platform->clone(r[0].g.ut, true, &r[1].g.ut), 0);
	assert_int_equal(platform->clone(r[1].g.ut, false, &r[2].g.ut), 0);
	r[1].g.regs.rsp -= 0x1000;
	for (int i = 0; i < 3; i++) {
		waitq_init(&r[i].wq);
		r[i].g.regs.r12 = 20000;
		r[i].code = -1;
		kthread_create("runner", run_task, &r[i]);
	}
	for (int i = 0; i < 3; i++) {
		wait_event(&r[i].wq, r[i].done, false, 0);
		assert_int_equal(r[i].code, 0);
		release(&r[i].g);
	}
}

/* Forks of two address spaces at once: clones in flight together. */
struct forker {
	struct guest g;
	int ok;
	bool done;
	struct waitq *wq;
};

static void fork_task(void *arg)
{
	struct forker *f = arg;
	for (int i = 0; i < 10; i++) {
		struct uthread *t;
		if (platform->clone(f->g.ut, i & 1, &t) == 0) {
			struct guest c = {.ut = t, .regs = f->g.regs};
			c.regs.r12 = 3;
			if (run_to_exit(&c, NULL) == 0)
				f->ok++;
			platform->release(t);
		}
	}
	f->done = true;
	wake_up(f->wq);
}

static void test_concurrent_clones(void **state)
{
	struct waitq wq;
	waitq_init(&wq);
	struct forker f[2];
	memset(f, 0, sizeof(f));
	for (int i = 0; i < 2; i++) {
		load(&f[i].g, ENTRY(g_getppid));
		f[i].g.regs.rsp -= 0x2000 * (i + 1);
		f[i].wq = &wq;
		kthread_create("forker", fork_task, &f[i]);
	}
	wait_event(&wq, f[0].done && f[1].done, false, 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f[i].ok, 10);
		release(&f[i].g);
	}
}

static void test_memory_ops(void **state)
{
	struct guest g;
	load(&g, ENTRY(g_getppid));
	struct uthread *t = g.ut;
	char buf[16] = "hello, guest", out[16];
	uint64_t a = 0x40000000, b = 0x50000000;
	assert_int_equal(platform->mmap(t, a, 0x2000, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
			 (long)a);
	assert_int_equal(platform->write(t, a + 0x1000, buf, sizeof(buf)), 0);
	assert_int_equal(platform->mremap(t, a, 0x2000, 0x3000, b), (long)b);
	assert_int_not_equal(platform->read(t, out, a + 0x1000, sizeof(out)), 0);
	assert_int_equal(platform->read(t, out, b + 0x1000, sizeof(out)), 0);
	assert_string_equal(out, buf);
	assert_int_equal(platform->madvise(t, b, 0x3000, MADV_DONTNEED), 0);
	assert_int_equal(platform->read(t, out, b + 0x1000, sizeof(out)), 0);
	assert_int_equal(out[0], 0);
	assert_int_equal(platform->munmap(t, b, 0x3000), 0);
	assert_int_not_equal(platform->read(t, out, b, 1), 0);
	/* exec: every guest mapping goes, the stub stays. */
	assert_int_equal(platform->exec_reset(t), 0);
	assert_int_not_equal(platform->read(t, out, CODE, 1), 0);
	assert_int_not_equal(platform->read(t, out, STACK, 1), 0);
	assert_int_equal(platform->read(t, out, SKAS_STUB_ADDR, 2), 0);
	assert_int_equal((uint8_t)out[0], 0x0f);
	assert_int_equal(platform->mmap(t, CODE, 0x10000, PROT_READ | PROT_WRITE | PROT_EXEC,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
			 (long)CODE);
	assert_int_equal(platform->write(t, CODE, guest_start, guest_end - guest_start), 0);
	assert_int_equal(platform->mmap(t, STACK, STACK_SIZE, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
			 (long)STACK);
	guest_regs(&g.regs, ENTRY(g_getppid), STACK + STACK_SIZE);
	g.regs.r12 = 3;
	assert_int_equal(run_to_exit(&g, NULL), 0);
	release(&g);
}

/* Host fds in t's process (-1: cannot tell); *ino: the inode of the last one. */
static int host_fds(struct uthread *t, ino_t *ino)
{
	char path[64], fdp[330];
	snprintf(path, sizeof(path), "/proc/%d/fd", t->pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		struct stat st;
		snprintf(fdp, sizeof(fdp), "%s/%s", path, e->d_name);
		if (ino && stat(fdp, &st) == 0)
			*ino = st.st_ino;
	}
	closedir(d);
	return n;
}

static ino_t ino_of(int fd)
{
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* A sealed memfd holding the guest code at offset 0x1000, after a page of fill. */
static int code_memfd(uint8_t fill)
{
	int fd = memfd_create("test-file", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	char page[0x1000];
	memset(page, fill, sizeof(page));
	assert_int_equal(write(fd, page, sizeof(page)), sizeof(page));
	size_t n = guest_end - guest_start;
	assert_int_equal(write(fd, guest_start, n), (ssize_t)n);
	assert_int_equal(ftruncate(fd, 0x1000 + ROUND_UP(n, 0x1000)), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

/* File mappings: the fd is lent to the stub, which keeps it only while the same file is
 * mapped again; the pages are copy-on-write, code runs from them, and threads and forks
 * (other pids of the family) get their own loans. */
static void test_file_mmap(void **state)
{
	const uint64_t file_code = 0x11000000, a = 0x40000000;
	int fd = code_memfd(0x5a), fd2 = code_memfd(0xa5);
	struct guest g;
	load(&g, ENTRY(g_getppid));
	struct uthread *t = g.ut;
	assert_int_equal(host_fds(t, NULL), 0);
	assert_int_equal(platform->mmap(t, file_code, 0x10000, PROT_READ | PROT_EXEC,
					MAP_PRIVATE | MAP_FIXED, fd, 0x1000),
			 (long)file_code);
	ino_t ino = 0;
	assert_int_equal(host_fds(t, &ino), 1);
	assert_int_equal(ino, ino_of(fd));
	/* The same file again: the kept fd; another file: a new loan in its place. */
	assert_int_equal(platform->mmap(t, a, 0x1000, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0),
			 (long)a);
	assert_int_equal(host_fds(t, &ino), 1);
	assert_int_equal(ino, ino_of(fd));
	assert_int_equal(platform->mmap(t, a + 0x1000, 0x1000, PROT_READ, MAP_PRIVATE, fd2, 0),
			 (long)a + 0x1000);
	assert_int_equal(host_fds(t, &ino), 1);
	assert_int_equal(ino, ino_of(fd2));
	char out[16];
	assert_int_equal(platform->read(t, out, a + 0x1000, 1), 0);
	assert_int_equal((uint8_t)out[0], 0xa5);
	/* Any other command closes it. */
	assert_int_equal(platform->mprotect(t, a + 0x1000, 0x1000, PROT_READ), 0);
	assert_int_equal(host_fds(t, NULL), 0);
	assert_int_equal(platform->read(t, out, a, sizeof(out)), 0);
	for (size_t k = 0; k < sizeof(out); k++)
		assert_int_equal((uint8_t)out[k], 0x5a);
	/* The kernel writes a read-only private page (as exec clears a segment's tail): the
	 * process gets its own copy, the file stays as it is. */
	assert_int_equal(platform->write(t, a, "copy", 4), 0);
	assert_int_equal(platform->read(t, out, a, 4), 0);
	assert_memory_equal(out, "copy", 4);
	assert_int_equal(pread(fd, out, 4, 0), 4);
	assert_int_equal((uint8_t)out[0], 0x5a);
	/* Code runs from the file's pages, with no fd left in the process. */
	assert_int_equal(platform->mmap(t, a + 0x2000, 0x1000, PROT_READ, MAP_PRIVATE, fd2, 0),
			 (long)a + 0x2000);
	g.regs.rip = file_code + (ENTRY(g_getppid) - CODE);
	g.regs.r12 = 3;
	struct uevent ev = step(&g);
	assert_int_equal(ev.kind, UEV_SYSCALL);
	assert_int_equal(g.regs.orig_rax, 110);
	assert_int_equal(host_fds(t, NULL), 0);
	/* A thread and a fork of it map too (each its own pid, the loan goes to it). */
	struct uthread *th, *ch;
	assert_int_equal(platform->clone(t, true, &th), 0);
	assert_int_equal(platform->clone(th, false, &ch), 0);
	assert_int_equal(platform->mmap(th, a + 0x1000, 0x1000, PROT_READ, MAP_PRIVATE, fd, 0),
			 (long)a + 0x1000);
	assert_int_equal(platform->mmap(ch, a + 0x2000, 0x1000, PROT_READ, MAP_PRIVATE, fd, 0x1000),
			 (long)a + 0x2000);
	assert_int_equal(platform->read(t, out, a + 0x1000, 1), 0);
	assert_int_equal((uint8_t)out[0], 0x5a);
	assert_int_equal(platform->read(t, out, a + 0x2000, 1), 0);
	assert_int_equal((uint8_t)out[0], 0xa5);
	assert_int_equal(platform->read(ch, out, a + 0x2000, 2), 0);
	assert_memory_equal(out, guest_start, 2);
	assert_int_equal(host_fds(th, NULL), 1);
	assert_int_equal(host_fds(ch, NULL), 1);
	assert_true(list_empty(&fd_loans));
	platform->release(ch);
	platform->release(th);
	g.regs.rax = 4242;
	assert_int_equal(run_to_exit(&g, NULL), 0);
	release(&g);
	close(fd2);

	/* What it costs (printed, not asserted): a loan each time (an anonymous mapping
	 * between), the kept fd, an anonymous mapping. */
	load(&g, ENTRY(g_getppid));
	const int n = 200;
	uint64_t t0 = ktime_mono();
	for (int i = 0; i < n; i++) {
		assert_int_equal(platform->mmap(g.ut, a, 0x2000, PROT_READ, MAP_PRIVATE, fd, 0),
				 (long)a);
		assert_int_equal(platform->mmap(g.ut, a + 0x2000, 0x1000, PROT_READ,
						MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
				 (long)a + 0x2000);
	}
	uint64_t t1 = ktime_mono();
	for (int i = 0; i < n; i++)
		assert_int_equal(platform->mmap(g.ut, a, 0x2000, PROT_READ, MAP_PRIVATE, fd, 0),
				 (long)a);
	uint64_t t2 = ktime_mono();
	for (int i = 0; i < n; i++)
		assert_int_equal(
		    platform->mmap(g.ut, a, 0x2000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		    (long)a);
	uint64_t t3 = ktime_mono();
	release(&g);
	close(fd);
	printf("   file mmap: lent %.1f us, kept %.1f us; anonymous mmap %.1f us\n",
	       (t1 - t0) / 1e3 / n - (t3 - t2) / 1e3 / n, (t2 - t1) / 1e3 / n, (t3 - t2) / 1e3 / n);
}

/* The host's view of a guest process: no fds, no_new_privs, seccomp filter, own session
 * and, where the host allows, own namespaces. */
static void test_confinement(void **state)
{
	struct guest g;
	load(&g, ENTRY(g_getppid));
	pid_t pid = g.ut->pid;
	char path[128], line[256];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	assert_non_null(d);
	int nfd = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			nfd++;
	closedir(d);
	assert_int_equal(nfd, 0);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	int nnp = -1, sec = -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "NoNewPrivs: %d", &nnp);
		sscanf(line, "Seccomp: %d", &sec);
	}
	fclose(f);
	assert_int_equal(nnp, 1);
	assert_int_equal(sec, 2);
	assert_int_not_equal(getsid(pid), getsid(0));
	if (ns_pidfd >= 0) {
		char a[64], b[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		ssize_t n1 = readlink(path, a, sizeof(a) - 1);
		ssize_t n2 = readlink("/proc/self/ns/net", b, sizeof(b) - 1);
		assert_true(n1 > 0 && n2 > 0);
		a[n1] = b[n2] = 0;
		assert_string_not_equal(a, b);
		printf("   guest address spaces run in their own namespaces (%s)\n",
		       ns_flags & CLONE_NEWUSER ? "user, mount, net, ipc, uts"
						: "mount, net, ipc, uts");
	} else {
		printf("   the host allows no namespaces: guest address spaces share the host's\n");
	}
	g.regs.r12 = 1;
	assert_int_equal(run_to_exit(&g, NULL), 0);
	release(&g);
}

/* A guest that is killed by the filter: run() says it is gone. */
static void expect_killed(uint64_t entry, int sig)
{
	struct guest g;
	load(&g, entry);
	struct uevent ev = step(&g);
	assert_int_equal(ev.kind, UEV_GONE);
	assert_true(g.ut->exit_code == CLD_KILLED || g.ut->exit_code == CLD_DUMPED);
	assert_int_equal(g.ut->exit_status, sig);
	release(&g);
}

static void test_hostile(void **state)
{
	int before = children_settle(0);
	/* Forbidden calls from the stub's syscall instruction kill the process. */
	expect_killed(ENTRY(g_stub_open), SIGSYS);
	expect_killed(ENTRY(g_stub_execve), SIGSYS);
	expect_killed(ENTRY(g_stub_mmap), SIGSYS);
	expect_killed(ENTRY(g_stub_mprotect), SIGSYS);
	expect_killed(ENTRY(g_stub_mmap_shared), SIGSYS);
	/* So do 32-bit syscalls. */
	expect_killed(ENTRY(g_int80), SIGSYS);
	/* A thread whose channel (and signal stack) is gone cannot take its trap. */
	expect_killed(ENTRY(g_unmap_chan), SIGSEGV);

	/* Forged clone and hello: refused by the kernel, no process created. */
	struct guest g;
	load(&g, ENTRY(g_stub_clone));
	struct uevent ev = step(&g);
	assert_int_equal(ev.kind, UEV_SYSCALL);
	assert_int_equal(g.regs.orig_rax, 502);
	assert_int_equal((long)g.regs.rdi, -EPERM);
	assert_int_equal(run_to_exit(&g, NULL), 42);
	release(&g);
	load(&g, ENTRY(g_stub_hello));
	ev = step(&g);
	assert_int_equal(g.regs.orig_rax, 502);
	assert_int_equal((long)g.regs.rdi, -EPERM);
	release(&g);
	load(&g, ENTRY(g_stub_fd));
	ev = step(&g);
	assert_int_equal(g.regs.orig_rax, 502);
	assert_int_equal((long)g.regs.rdi, -EPERM);
	release(&g);
	load(&g, ENTRY(g_stub_doorbell));
	ev = step(&g);
	assert_int_equal(g.regs.orig_rax, 502);
	assert_int_equal((long)g.regs.rdi, 0);
	release(&g);

	/* The ptrace platform's syscall instruction is not the stub's: an ordinary trap. */
	load(&g, ENTRY(g_ptrace_stub));
	ev = step(&g);
	assert_int_equal(ev.kind, UEV_SYSCALL);
	assert_int_equal(g.regs.orig_rax, 257);
	assert_int_equal(g.regs.rip, SKAS_STUB_ADDR + 2);
	g.regs.rax = (uint64_t)-EACCES;
	ev = step(&g);
	assert_int_equal(ev.kind, UEV_FAULT);
	assert_int_equal(ev.signo, SIGTRAP);
	release(&g);

	/* A forged event on the guest's own channel: the kernel sees some event from a
	 * thread that is in fact still running; nothing else. */
	load(&g, ENTRY(g_forge_chan));
	ev = step(&g);
	assert_true(ev.kind == UEV_SYSCALL || ev.kind == UEV_INTERRUPT);
	release(&g);

	/* A guest that broke its own stub cannot outlive an interrupt (a signal, a kill). */
	load(&g, ENTRY(g_mmap_chan));
	to_interrupt = g.ut;
	kthread_create("interrupter", interrupter, NULL);
	uint64_t t0 = ktime_mono();
	ev = step(&g);
	assert_int_equal(ev.kind, UEV_GONE);
	assert_true(ktime_mono() - t0 < 3000000000ULL);
	release(&g);

	/* uretprobe passes every seccomp filter; the guest still gets ENOSYS. */
	load(&g, ENTRY(g_uretprobe));
	ev = step(&g);
	assert_int_equal(ev.kind, UEV_SYSCALL);
	assert_int_equal(g.regs.orig_rax, 335);
	g.regs.rax = (uint64_t)-ENOSYS;
	ev = step(&g);
	assert_int_equal(g.regs.orig_rax, 502);
	assert_int_equal((long)g.regs.rdi, -ENOSYS);
	release(&g);

	assert_int_equal(children_settle(before), before);
	/* And the platform still works. */
	load(&g, ENTRY(g_getppid));
	g.regs.r12 = 10;
	assert_int_equal(run_to_exit(&g, NULL), 0);
	release(&g);
}

/* What address spaces and forks cost (printed, not asserted). */
static void test_costs(void **state)
{
	const int n = 20;
	uint64_t t0 = ktime_mono();
	for (int i = 0; i < n; i++) {
		struct uthread *t;
		assert_int_equal(platform->spawn(&t), 0);
		platform->release(t);
	}
	uint64_t t1 = ktime_mono();
	struct guest g;
	load(&g, ENTRY(g_getppid));
	uint64_t t2 = ktime_mono();
	for (int i = 0; i < n; i++) {
		struct uthread *t;
		assert_int_equal(platform->clone(g.ut, false, &t), 0);
		platform->release(t);
	}
	uint64_t t3 = ktime_mono();
	for (int i = 0; i < n; i++) {
		struct uthread *t;
		assert_int_equal(platform->clone(g.ut, true, &t), 0);
		platform->release(t);
	}
	uint64_t t4 = ktime_mono();
	release(&g);
	printf("   spawn + release %.0f us, fork + release %.0f us, thread + release %.0f us\n",
	       (t1 - t0) / 1e3 / n, (t3 - t2) / 1e3 / n, (t4 - t3) / 1e3 / n);
}

/* --- main: the tests run as a kernel task under the real scheduler ------------------- */

static int result;

static void tests_main(void *arg)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_getppid),	cmocka_unit_test(test_registers),
	    cmocka_unit_test(test_fpregs),	cmocka_unit_test(test_faults),
	    cmocka_unit_test(test_interrupt),	cmocka_unit_test(test_fork),
	    cmocka_unit_test(test_thread),	cmocka_unit_test(test_concurrent_clones),
	    cmocka_unit_test(test_memory_ops),	cmocka_unit_test(test_file_mmap),
	    cmocka_unit_test(test_confinement), cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_costs),
	};
	if (getenv("SKAS_TEST"))
		cmocka_set_test_filter(getenv("SKAS_TEST"));
	result = cmocka_run_group_tests(tests, NULL, NULL);
	platform->shutdown();
	sched_stop();
}

int main(void)
{
	int err = platform->init();
	if (err) {
		fprintf(stderr, "skas platform init: %s\n", strerror(-err));
		return 1;
	}
	kthread_create("tests", tests_main, NULL);
	sched_run();
	return result;
}
