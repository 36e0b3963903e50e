#!/bin/sh
# tests/hostile/build.sh OUTDIR: build the hostile guest programs (static x86-64, not PIE:
# some attacks need their data below 4 GiB and at fixed addresses) into OUTDIR.
#
#   escape   raw syscalls, jumps into the stub, int $0x80 / 32-bit code, vsyscall, ring 0
#   stubmem  mapping, protecting, remapping and writing the stub's pages; signal frames
#   procs    ptrace, process_vm_*, /proc/*/mem, pid scans against init and the host
#   regs     wild registers through rt_sigreturn, rsp, fs/gs base; init's own death
#   badexec  executables that lie (not ELF, bad segments, interpreters, #! loops, argv)
#   bomb     fork and thread bombs; fork multiplying memory (mem=64M)
#   memhog   mem= exhaustion by malloc, brk, MAP_NORESERVE, file maps, tmpfs, pipes
#
# Each program runs as the guest's init: see hostile.h for its arguments and output, and
# tests/integration/cases/hostile.sh for how the host runs and checks them.
# Environment: CC (default cc), CFLAGS (added).
set -eu

[ $# -eq 1 ] || { sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2; }
out=$1
src=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-cc}
mkdir -p "$out"
for prog in escape stubmem procs regs badexec bomb memhog; do
	bin=$out/$prog
	# Up to date when newer than its source and the shared header.
	if [ -x "$bin" ] && [ "$bin" -nt "$src/$prog.c" ] && [ "$bin" -nt "$src/hostile.h" ]; then
		continue
	fi
	# shellcheck disable=SC2086
	"$cc" -std=gnu11 -static -no-pie -O2 -Wall -Wextra -Wno-missing-field-initializers \
		${CFLAGS:-} -o "$bin.tmp" "$src/$prog.c" # CFLAGS: words on purpose
	mv "$bin.tmp" "$bin"
done
