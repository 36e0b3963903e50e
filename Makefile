# vmlinux: a Linux-ABI guest kernel that runs as an ordinary host process.
# `make` builds ./vmlinux, `make check` runs every test, `make run` boots the example.
-include config.mk

CC      ?= cc
CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
           -fno-strict-aliasing -MMD -MP $(CFG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  := $(CFG_LIBS) -lpthread
B       := build

KSRCS   := $(wildcard src/kernel/*.c src/kernel/fs/*.c src/kernel/net/*.c src/kernel/drivers/*.c src/skas/*.c src/tt/*.c src/ubd/*.c)
KOBJS   := $(KSRCS:%.c=$(B)/%.o) $(B)/src/kernel/switch.o $(B)/src/skas/stub_blob.o

.PHONY: all check unit integration bench rootfs run clean format deps
all: config.mk ./vmlinux

config.mk:
	@./configure

./vmlinux: $(KOBJS)
	$(CC) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<

# The stub: a tiny static program that every guest address space starts from. It is
# built freestanding at a fixed high address and embedded into vmlinux.
STUB_ADDR := 0x7ffff0000000
# stub.S must come first: stub_syscall is the first byte at STUB_ADDR. stub/fast.c is the
# seccomp side (mode=skas): position-independent code, no libc, no static data.
STUB_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -ffreestanding \
	       -fno-builtin -fPIE -fno-stack-protector -fno-asynchronous-unwind-tables \
	       -fcf-protection=none -fno-jump-tables -fno-reorder-functions -mgeneral-regs-only \
	       -fno-tree-loop-distribute-patterns -Isrc/skas
$(B)/stub.elf: src/skas/stub.S src/skas/stub/fast.c src/skas/seccomp_abi.h
	@mkdir -p $(B)
	$(CC) $(STUB_CFLAGS) -nostdlib -static -no-pie -Wl,-Ttext=$(STUB_ADDR) -Wl,--build-id=none \
	      -Wl,-z,noexecstack -Wl,-z,norelro -o $@ src/skas/stub.S src/skas/stub/fast.c
$(B)/src/skas/stub_blob.o: $(B)/stub.elf
	@mkdir -p $(dir $@)
	printf '.section .rodata\n.globl stub_elf, stub_elf_end\n.balign 16\nstub_elf:\n.incbin "%s"\nstub_elf_end:\n.section .note.GNU-stack,"",@progbits\n' $< | $(CC) -x assembler -c -o $@ -

# --- tests ---------------------------------------------------------------------------
# Unit tests: tests/unit/test_X.c links with the sources listed in tests/unit/test_X.deps.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
# A test is rebuilt when any source it lists changes.
.SECONDEXPANSION:
$(B)/tests/%: tests/unit/%.c tests/unit/%.deps $$(shell cat tests/unit/$$*.deps) $(KOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=address,undefined -Isrc -o $@ $< \
	      $(addprefix ,$(shell cat tests/unit/$*.deps)) $(LDLIBS) -lcmocka

unit: all $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

rootfs: examples/rootfs/rootfs.img
examples/rootfs/rootfs.img: examples/rootfs/mkrootfs.sh
	./examples/rootfs/mkrootfs.sh examples/rootfs/rootfs.img

integration: all rootfs
	./tests/integration/run.sh

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) integration

bench: all rootfs
	./bench/run.sh

run: deps
	$(MAKE) all rootfs
	./vmlinux ubd0=examples/rootfs/rootfs.img

deps:
	@./tools/deps.sh

format:
	clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf $(B) ./vmlinux config.mk

-include $(KOBJS:.o=.d)
