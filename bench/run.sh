#!/usr/bin/env bash
# bench/run.sh: the benchmark behind `make bench`. Runs the same static workloads program
# (bench/workloads.c) natively on the host, under ./vmlinux in each mode and, when it is
# installed, under real User-Mode Linux (linux.uml) on the same image, side by side in
# one run; prints the medians as a table, the ratios to native and to UML, and which of
# the project's performance goals are met (README.md, "Benchmarks").
#
#   ./bench/run.sh            (or: make bench; about 3.5 minutes on 2 cores)
#
# Environment (all optional):
#   BENCH_RUNS=5          runs of every workload in every column; the median is shown
#   BENCH_TARGET_MS=200   how long each per-operation loop runs inside the guest
#   BENCH_SHELL_ITERS=500 iterations of the shell loop (each runs [, echo | cat, $((...)))
#   BENCH_DISK_MB=64      size of the file of the disk workload
#   BENCH_TIMEOUT=120     seconds one boot may take before it counts as failed
#   BENCH_COLUMNS="native skas ptrace tt uml uml-nosysemu"   columns to run
#   BENCH_WORK=build/bench  scratch directory (images, logs, raw.tsv, results.txt)
#   VMLINUX=./vmlinux  ROOTFS=examples/rootfs/rootfs.img  UML=linux.uml  CC=gcc
#
# Columns: native = the workloads binary run directly on the host (disk figures then
# measure the host file system holding BENCH_WORK); skas = ./vmlinux mode=skas (the
# default); ptrace = ./vmlinux skas=ptrace; tt = ./vmlinux mode=tt; uml = linux.uml
# (SKAS0 with PTRACE_SYSEMU, run under `setarch -R`); uml-nosysemu = linux.uml nosysemu,
# getppid only (the reference of the TT goal). Every guest gets mem=256M, a read-write
# root and a private copy of the bench image (re-copied after any failed boot). The
# binary under test is a copy of $VMLINUX taken at the start.
#
# How: every workload runs in its own boot (init=/bench WORKLOAD), so a workload that
# fails or hangs in one mode costs only its own cell, which then reads "fail" ("12.3*":
# some runs failed, the median is of the others). Each column first boots once and
# powers off (not counted; one retry): a column that cannot fails every cell. Without
# linux.uml the UML cells read "n/a", with a note. Runs are interleaved (run 1 of every
# column, then run 2, ...), so slow drifts of a noisy host hit every column alike.
# Per-operation figures are timed inside the guest with CLOCK_MONOTONIC; boot figures
# are the host wall time of the whole vmlinux/linux.uml process. Results:
# $BENCH_WORK/results.txt (the report), raw.tsv (every measurement), logs/ (the output
# of every failed boot).
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

RUNS=${BENCH_RUNS:-5}
TARGET_MS=${BENCH_TARGET_MS:-200}
SHELL_ITERS=${BENCH_SHELL_ITERS:-500}
DISK_MB=${BENCH_DISK_MB:-64}
TIMEOUT=${BENCH_TIMEOUT:-120}
COLUMNS_WANTED=${BENCH_COLUMNS:-native skas ptrace tt uml uml-nosysemu}
WORK=${BENCH_WORK:-build/bench}
VMLINUX_SRC=${VMLINUX:-./vmlinux}
ROOTFS=${ROOTFS:-examples/rootfs/rootfs.img}
UML_BIN=${UML:-linux.uml}
CC=${CC:-gcc}
PATH=$PATH:/sbin:/usr/sbin

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }
for v in RUNS TARGET_MS SHELL_ITERS DISK_MB TIMEOUT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v must be a positive integer (got '${!v}')"
done
command -v debugfs >/dev/null || die "debugfs not found (Debian package e2fsprogs)"
[ -f "$ROOTFS" ] || die "$ROOTFS not found (make rootfs)"
[ -x "$VMLINUX_SRC" ] || die "$VMLINUX_SRC not found (make)"

mkdir -p "$WORK" || exit 1
WORK=$(cd "$WORK" && pwd)
rm -rf "$WORK/img" "$WORK/logs" "$WORK/native" "$WORK/uml"
mkdir -p "$WORK/img" "$WORK/logs" "$WORK/native" "$WORK/nbin" "$WORK/uml"
RAW=$WORK/raw.tsv
: >"$RAW"
T_START=$EPOCHREALTIME
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# --- the workloads binary and the bench image ----------------------------------------
W=$WORK/workloads
$CC -std=gnu11 -O2 -static -Wall -Wextra -o "$W" bench/workloads.c ||
	die "cannot build bench/workloads.c statically (static libc: Debian libc6-dev)"
if command -v readelf >/dev/null && readelf -l "$W" | grep -q INTERP; then
	die "$W is not static"
fi

# A snapshot of the binary under test, so a rebuild during the run changes nothing.
VM=$WORK/vmlinux
cp -f "$VMLINUX_SRC" "$VM" || die "cannot copy $VMLINUX_SRC"

IMG=$WORK/bench.img
cp --sparse=always -f "$ROOTFS" "$IMG" || die "cannot copy $ROOTFS"
debugfs -w -f - "$IMG" >"$WORK/debugfs.log" 2>&1 <<EOF
write $W bench
sif /bench mode 0100755
sif /bench uid 0
sif /bench gid 0
EOF
debugfs -R "stat /bench" "$IMG" 2>/dev/null | grep -q 'Size: [1-9]' ||
	{ cat "$WORK/debugfs.log" >&2; die "cannot put /bench into $IMG"; }
# Native runs use the image's own static busybox (the one the guests run).
rm -f "$WORK/nbin/"*
debugfs -R "dump /bin/busybox $WORK/nbin/busybox" "$IMG" >/dev/null 2>&1
chmod 0755 "$WORK/nbin/busybox" 2>/dev/null
[ -s "$WORK/nbin/busybox" ] || die "cannot extract /bin/busybox from $ROOTFS"
for a in sh true cat; do ln -s busybox "$WORK/nbin/$a"; done

# --- columns ---------------------------------------------------------------------------
declare -A LABEL=([native]=native [skas]=skas [ptrace]=skas=ptrace [tt]=tt [uml]=uml
	[uml-nosysemu]=uml-nosysemu)
declare -A OPT=([skas]=mode=skas [ptrace]=skas=ptrace [tt]=mode=tt)
declare -A NOTE=() DEAD=()
COLUMNS=()
SETARCH=()
# UML 6.1 sometimes runs out of memory while booting with address-space randomisation.
if setarch -R true 2>/dev/null; then SETARCH=(setarch -R); fi
UML_PATH=$(command -v "$UML_BIN" 2>/dev/null)
for c in $COLUMNS_WANTED; do
	[ -n "${LABEL[$c]:-}" ] || die "unknown column '$c' in BENCH_COLUMNS"
	case $c in uml | uml-nosysemu)
		if [ -z "$UML_PATH" ]; then
			NOTE[$c]="$UML_BIN not installed (Debian package user-mode-linux): column skipped"
		fi ;;
	esac
	COLUMNS+=("$c")
done

fresh_image() { cp --sparse=always -f "$IMG" "$WORK/img/$1.img"; }

# boot COLUMN OUTFILE WORKLOAD-ARGS...: run the workloads in COLUMN, output to OUTFILE.
# Sets RC (exit status; 124 = timed out) and WALL_MS (host wall time).
boot() {
	local col=$1 out=$2
	shift 2
	local t0=$EPOCHREALTIME
	case $col in
	native)
		(cd "$WORK/native" && timeout -k 5 "$TIMEOUT" "$W" --target "$TARGET_MS" "$@") \
			</dev/null >"$out" 2>&1
		RC=$? ;;
	skas | ptrace | tt)
		timeout -k 5 "$TIMEOUT" "$VM" "ubd0=$WORK/img/$col.img" mem=256M rw quiet \
			"${OPT[$col]}" con=fd:0,fd:1 init=/bench --target "$TARGET_MS" "$@" \
			</dev/null >"$out" 2>&1
		RC=$? ;;
	uml | uml-nosysemu)
		local extra=()
		[ "$col" = uml-nosysemu ] && extra=(nosysemu)
		timeout -k 5 "$TIMEOUT" "${SETARCH[@]}" "$UML_PATH" "ubd0=$WORK/img/$col.img" \
			mem=256M rw quiet con=null ssl=null con0=fd:0,fd:1 "uml_dir=$WORK/uml" \
			"umid=bench$$-$BOOTS" "${extra[@]}" init=/bench --poweroff \
			--target "$TARGET_MS" "$@" </dev/null >"$out" 2>&1
		RC=$? ;;
	esac
	local t1=$EPOCHREALTIME
	WALL_MS=$(awk -v a="${t0/,/.}" -v b="${t1/,/.}" 'BEGIN { printf "%.2f", (b - a) * 1000 }')
	BOOTS=$((BOOTS + 1))
}
BOOTS=0

# The figures a workload prints, in the order of the report.
declare -A FIGS=([getppid]=getppid_us [fork_exit]=fork_exit_us [fork_exec]=fork_exec_us
	[pipe]=pipe_GBps [mmap]=mmap_us
	[disk]="disk_seqwrite_MBps disk_seqread_MBps disk_randwrite_MBps disk_randread_MBps"
	[shell]=shell_ms [boot]=boot_ms [boot_exit]=boot_exit_ms)
WORKLOADS=(getppid fork_exit fork_exec pipe mmap disk shell boot boot_exit)

# args COLUMN WORKLOAD: the workloads command line (empty: not run in this column).
args() {
	local col=$1 w=$2 guest=1
	[ "$col" = native ] && guest=0
	if [ "$col" = uml-nosysemu ] && [ "$w" != getppid ]; then return; fi
	case $w in
	getppid | fork_exit | pipe | mmap) echo "$w" ;;
	fork_exec) if [ $guest = 1 ]; then echo "fork_exec /bin/true"; else echo "fork_exec $WORK/nbin/true"; fi ;;
	disk) if [ $guest = 1 ]; then echo "disk /bench.dat $DISK_MB"; else echo "disk $WORK/native/bench.dat $DISK_MB"; fi ;;
	shell) if [ $guest = 1 ]; then echo "shell $SHELL_ITERS /bin/sh"; else echo "shell $SHELL_ITERS $WORK/nbin/sh"; fi ;;
	boot) [ $guest = 1 ] && echo "poweroff" ;;
	boot_exit) case $col in skas | ptrace | tt) echo "(init=/bin/true)" ;; esac ;;
	esac
}

# run_cell COLUMN WORKLOAD RUN: one measurement; appends to raw.tsv.
run_cell() {
	local col=$1 w=$2 r=$3 a out
	a=$(args "$col" "$w")
	[ -n "$a" ] || return 0
	out=$WORK/logs/$col.$w.$r.out
	if [ "$w" = boot_exit ]; then
		local t0=$EPOCHREALTIME
		timeout -k 5 "$TIMEOUT" "$VM" "ubd0=$WORK/img/$col.img" mem=256M quiet \
			"${OPT[$col]}" con=fd:0,fd:1 init=/bin/true </dev/null >"$out" 2>&1
		RC=$?
		local t1=$EPOCHREALTIME
		WALL_MS=$(awk -v a="${t0/,/.}" -v b="${t1/,/.}" 'BEGIN { printf "%.2f", (b - a) * 1000 }')
	else
		# shellcheck disable=SC2086 # the arguments are words without blanks
		boot "$col" "$out" $a
	fi
	local ok=1 f v
	if [ "$RC" != 0 ]; then
		ok=0
	elif [ "$w" = boot ] || [ "$w" = boot_exit ]; then
		printf '%s\t%s\t%s\t%s\n' "$col" "$r" "${FIGS[$w]}" "$WALL_MS" >>"$RAW"
	fi
	if [ "$w" != boot ] && [ "$w" != boot_exit ]; then
		for f in ${FIGS[$w]}; do
			v=$(tr -d '\r' <"$out" | awk -v f="$f" '$1 == f && NF == 2 && $2 ~ /^[0-9.]+$/ { print $2; exit }')
			if [ -n "$v" ]; then
				printf '%s\t%s\t%s\t%s\n' "$col" "$r" "$f" "$v" >>"$RAW"
			else
				ok=0
			fi
		done
	fi
	if [ $ok = 1 ]; then
		rm -f "$out"
	else
		local why="exit status $RC"
		[ "$RC" = 124 ] && why="timed out after ${TIMEOUT}s"
		say "${LABEL[$col]} $w run $r failed ($why): see $out"
		echo "# ${LABEL[$col]} $w run $r failed ($why)" >>"$out"
		# A killed or failed guest may leave its image dirty: give the next boot a clean one.
		[ "$col" != native ] && fresh_image "$col"
	fi
}

# --- smoke test: every column must boot and power off once (not counted) ---------------
ACTIVE=()
for c in "${COLUMNS[@]}"; do
	[ -n "${NOTE[$c]:-}" ] && continue
	if [ "$c" != native ]; then
		fresh_image "$c" || die "cannot copy the image"
		boot "$c" "$WORK/logs/$c.smoke.out" poweroff
		if [ "$RC" != 0 ]; then
			fresh_image "$c"
			boot "$c" "$WORK/logs/$c.smoke.out" poweroff
		fi
		if [ "$RC" != 0 ]; then
			why="exit status $RC"
			[ "$RC" = 124 ] && why="timed out after ${TIMEOUT}s"
			NOTE[$c]="does not boot ($why; see $WORK/logs/$c.smoke.out): every cell fails"
			DEAD[$c]=1
			say "${LABEL[$c]}: ${NOTE[$c]}"
			continue
		fi
		rm -f "$WORK/logs/$c.smoke.out"
	fi
	ACTIVE+=("$c")
done

say "columns: ${ACTIVE[*]:-none}; $RUNS runs; loops of ${TARGET_MS} ms; shell $SHELL_ITERS iterations; disk $DISK_MB MiB"
for r in $(seq 1 "$RUNS"); do
	say "run $r/$RUNS"
	for w in "${WORKLOADS[@]}"; do
		for c in "${ACTIVE[@]}"; do
			run_cell "$c" "$w" "$r"
		done
	done
done
# The images are remade by every run: do not leave 1.5 GB of sparse files behind.
rm -rf "$WORK/native" "$WORK/uml" "$WORK/img" "$IMG" "$WORK/debugfs.log"
T_END=$EPOCHREALTIME
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# --- report ----------------------------------------------------------------------------
# median COLUMN FIGURE -> "value count" (empty if nothing was measured).
median() {
	awk -F'\t' -v c="$1" -v f="$2" '$1 == c && $3 == f { print $4 }' "$RAW" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit;
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
			print m, NR }'
}
fmt() { awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v;
	else if (v >= 1) printf "%.2f", v; else printf "%.3f", v }'; }

ROWS=(getppid_us fork_exit_us fork_exec_us pipe_GBps mmap_us disk_seqwrite_MBps
	disk_seqread_MBps disk_randwrite_MBps disk_randread_MBps shell_ms boot_ms boot_exit_ms)
declare -A DESC=([getppid_us]="getppid round trip (us)"
	[fork_exit_us]="fork+exit+wait (us)"
	[fork_exec_us]="fork+exec /bin/true+wait (us)"
	[pipe_GBps]="pipe throughput (GB/s)"
	[mmap_us]="mmap 1MiB+touch+munmap (us)"
	[disk_seqwrite_MBps]="disk seq write+fsync (MB/s)"
	[disk_seqread_MBps]="disk seq read (MB/s)"
	[disk_randwrite_MBps]="disk 4K rand write+fsync (MB/s)"
	[disk_randread_MBps]="disk 4K rand read (MB/s)"
	[shell_ms]="shell loop x$SHELL_ITERS (ms)"
	[boot_ms]="boot+init+poweroff, wall (ms)"
	[boot_exit_ms]="boot, init=/bin/true exits (ms)")
higher_better() { case $1 in *_GBps | *_MBps) return 0 ;; esac; return 1; }

declare -A MED=() CNT=()
for f in "${ROWS[@]}"; do
	for c in "${COLUMNS[@]}"; do
		read -r m n <<<"$(median "$c" "$f")"
		[ -n "${m:-}" ] || continue
		MED[$c.$f]=$m
		CNT[$c.$f]=$n
	done
done

# cell COLUMN FIGURE: the printed median ("-" not applicable, "fail", "n/a" skipped).
cell() {
	local c=$1 f=$2 w
	if [ -n "${MED[$c.$f]:-}" ]; then
		local s
		s=$(fmt "${MED[$c.$f]}")
		[ "${CNT[$c.$f]}" -lt "$RUNS" ] && s="$s*"
		echo "$s"
		return
	fi
	for w in "${WORKLOADS[@]}"; do
		case " ${FIGS[$w]} " in *" $f "*) break ;; esac
	done
	if [ -z "$(args "$c" "$w")" ]; then echo "-"
	elif [ -n "${DEAD[$c]:-}" ]; then echo "fail"
	elif [ -n "${NOTE[$c]:-}" ]; then echo "n/a"
	else echo "fail"; fi
}

# spread COLUMN FIGURE: "min..max" of the runs.
spread() {
	local lo hi
	read -r lo hi <<<"$(awk -F'\t' -v c="$1" -v f="$2" '$1 == c && $3 == f { print $4 }' "$RAW" |
		sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) print lo, hi }')"
	if [ -z "${lo:-}" ]; then echo "-"; else echo "$(fmt "$lo")..$(fmt "$hi")"; fi
}

# slowdown COLUMN REF FIGURE: how many times slower COLUMN is than REF (>1 = slower).
slowdown() {
	local a=${MED[$1.$3]:-} b=${MED[$2.$3]:-}
	if [ -z "$a" ] || [ -z "$b" ]; then echo "-"; return; fi
	if higher_better "$3"; then
		awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "-" }'
	else
		awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
	fi
}

report() {
	local c f
	echo "vmlinux benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -sr)"
	echo "host load average: $LOAD_START at the start, $LOAD_END at the end"
	echo "median of $RUNS runs (* = some runs failed; see $WORK/logs); loops of $TARGET_MS ms;"
	echo "disk file $DISK_MB MiB; shell: sh -c 'while ...; echo \$i | cat >/dev/null ...' x $SHELL_ITERS"
	for c in "${COLUMNS[@]}"; do
		[ -n "${NOTE[$c]:-}" ] && echo "note: ${LABEL[$c]}: ${NOTE[$c]}"
	done
	echo
	printf '%-33s' "figure"
	for c in "${COLUMNS[@]}"; do printf ' %12s' "${LABEL[$c]}"; done
	echo
	for f in "${ROWS[@]}"; do
		printf '%-33s' "${DESC[$f]}"
		for c in "${COLUMNS[@]}"; do printf ' %12s' "$(cell "$c" "$f")"; done
		echo
	done

	echo
	echo "spread of the runs (min..max; a wide one means the host was busy):"
	printf '%-33s' "figure"
	for c in "${COLUMNS[@]}"; do printf ' %14s' "${LABEL[$c]}"; done
	echo
	for f in "${ROWS[@]}"; do
		printf '%-33s' "${DESC[$f]}"
		for c in "${COLUMNS[@]}"; do printf ' %14s' "$(spread "$c" "$f")"; done
		echo
	done

	local refs=()
	for c in native uml; do
		[[ " ${COLUMNS[*]} " == *" $c "* ]] && [ -z "${NOTE[$c]:-}" ] && refs+=("$c")
	done
	local ref
	for ref in "${refs[@]}"; do
		echo
		echo "slowdown vs $ref (how many times slower; < 1 = faster):"
		printf '%-33s' "figure"
		for c in "${COLUMNS[@]}"; do
			[ "$c" = "$ref" ] || [ "$c" = native ] || [ "$c" = uml-nosysemu ] && continue
			printf ' %12s' "${LABEL[$c]}"
		done
		echo
		for f in "${ROWS[@]}"; do
			printf '%-33s' "${DESC[$f]}"
			for c in "${COLUMNS[@]}"; do
				[ "$c" = "$ref" ] || [ "$c" = native ] || [ "$c" = uml-nosysemu ] && continue
				printf ' %12s' "$(slowdown "$c" "$ref" "$f")"
			done
			echo
		done
	done

	echo
	echo "goals (checked on the default mode, skas, unless named):"
	goal() { # goal TEXT COLUMN FIGURE OP LIMIT [LIMIT-TEXT]
		local text=$1 c=$2 f=$3 op=$4 lim=$5 v=${MED[$2.$3]:-} verdict
		if [ -z "$v" ] || [ -z "$lim" ]; then
			verdict="not measured"
		elif awk -v v="$v" -v l="$lim" -v op="$op" 'BEGIN { exit !(op == "<=" ? v <= l : v >= l) }'; then
			verdict="MET"
		else
			verdict="NOT MET"
		fi
		local shown="-"
		[ -n "$v" ] && shown=$(fmt "$v")
		printf '  %-52s %-12s %s\n' "$text" "$verdict" "(${LABEL[$c]}: $shown${6:+; $6})"
	}
	goal "getppid <= 1 us (skas)" skas getppid_us "<=" 1
	local nosys=${MED[uml-nosysemu.getppid_us]:-} tt_lim ref_text
	if [ -n "$nosys" ]; then
		tt_lim=$(awk -v v="$nosys" 'BEGIN { print v * 1.2 }')
		ref_text="1.2 x UML nosysemu $(fmt "$nosys") = $(fmt "$tt_lim")"
	else
		tt_lim=$(awk 'BEGIN { print 1.2 * 103 }')
		ref_text="UML nosysemu not measured: 1.2 x the brief's 103 us"
	fi
	goal "getppid within 1.2x of UML nosysemu (tt)" tt getppid_us "<=" "$tt_lim" "$ref_text"
	goal "fork+exec+wait <= 1 ms" skas fork_exec_us "<=" 1000
	goal "fork+exit+wait <= 300 us" skas fork_exit_us "<=" 300
	goal "boot to init and poweroff <= 20 ms" skas boot_ms "<=" 20
	goal "pipe >= 1.5 GB/s" skas pipe_GBps ">=" 1.5
	local uml_w=${MED[uml.disk_seqwrite_MBps]:-}
	goal "root-disk write+fsync >= real UML's" skas disk_seqwrite_MBps ">=" "$uml_w" \
		"UML: $([ -n "$uml_w" ] && fmt "$uml_w" || echo not measured)"
	for c in ptrace tt; do
		[ -n "${MED[$c.getppid_us]:-}" ] || continue
		echo "  (${LABEL[$c]}: getppid $(cell $c getppid_us) us, fork+exec $(cell $c fork_exec_us) us," \
			"fork+exit $(cell $c fork_exit_us) us, boot $(cell $c boot_ms) ms, pipe $(cell $c pipe_GBps) GB/s)"
	done
	echo
	awk -v a="${T_START/,/.}" -v b="${T_END/,/.}" -v n="$BOOTS" \
		'BEGIN { printf "benchmark time %.0f s, %d boots\n", b - a, n }'
}

report | tee "$WORK/results.txt"
