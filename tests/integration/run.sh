#!/usr/bin/env bash
# tests/integration/run.sh [CASE...]: boot the example image and check what the guest
# does, in every mode. With no CASE, runs every tests/integration/cases/*.sh.
#
# Each case runs once per mode in MODES, on its own fresh sparse copy of the image, as a
# separate bash process (see lib.sh for the helpers a case uses). One line per case and
# mode: PASS, or FAIL with what went wrong and the tail of vmlinux's output. Exit status
# 0 when everything passed.
#
# Environment:
#   MODES         modes to run (default "skas ptrace tt"; ptrace is skas=ptrace)
#   JOBS          cases run at once (default 2)
#   TIMEOUT       seconds one boot may take (default 60)
#   CASE_TIMEOUT  seconds one case (all its boots) may take (default 300)
#   VMLINUX       binary under test (default ./vmlinux)
#   ROOTFS        example image (default examples/rootfs/rootfs.img)
#   OUTDIR        where logs go (default tests/out/integration)
#   KEEP=1        keep the images and logs of passing cases too
#   VERBOSE=1     print each case's check trace, not only failures

set -u

here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
MODES=${MODES:-"skas ptrace tt"}

# mode_arg MODE: the command-line word that selects a mode: skas, tt, or ptrace (the
# SKAS mode through PTRACE_SYSEMU, skas=ptrace). Cases get it too (lib.sh uses it).
mode_arg() { if [ "$1" = ptrace ]; then echo skas=ptrace; else echo "mode=$1"; fi; }
export -f mode_arg
JOBS=${JOBS:-2}
TIMEOUT=${TIMEOUT:-60}
CASE_TIMEOUT=${CASE_TIMEOUT:-300}
VMLINUX=${VMLINUX:-$ROOT/vmlinux}
ROOTFS=${ROOTFS:-$ROOT/examples/rootfs/rootfs.img}
OUTDIR=${OUTDIR:-$ROOT/tests/out/integration}
KEEP=${KEEP:-0}
VERBOSE=${VERBOSE:-0}
export PATH=$PATH:/sbin:/usr/sbin

case ${1:-} in
-h | --help) sed -n '2,21s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

die() { echo "run.sh: $*" >&2; exit 2; }

# --- what to run --------------------------------------------------------------------
cases=()
if [ $# -gt 0 ]; then
	for c in "$@"; do
		c=${c%.sh}
		c=${c##*/}
		[ -f "$here/cases/$c.sh" ] || die "no such case: $here/cases/$c.sh"
		cases+=("$c")
	done
else
	for f in "$here"/cases/*.sh; do
		[ -f "$f" ] && cases+=("$(basename "$f" .sh)")
	done
fi
[ ${#cases[@]} -gt 0 ] || die "no test cases in $here/cases"

# --- preflight ----------------------------------------------------------------------
case $VMLINUX in /*) ;; *) VMLINUX=$PWD/$VMLINUX ;; esac
case $ROOTFS in /*) ;; *) ROOTFS=$PWD/$ROOTFS ;; esac
[ -x "$VMLINUX" ] || die "$VMLINUX is not built (run: make)"
[ -f "$ROOTFS" ] || die "$ROOTFS is missing (run: make rootfs)"
for t in timeout e2fsck debugfs md5sum mkfifo; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (Debian: apt-get install e2fsprogs coreutils)"
done
mkdir -p "$OUTDIR" || die "cannot create $OUTDIR"
rm -rf "$OUTDIR/results"
mkdir -p "$OUTDIR/results"

# The smoke boot: does vmlinux exit at all in this mode (init=/bin/true)? A mode that
# hangs here would make every case wait out its timeout, so its cases fail at once.
declare -A smoke
echo "integration: ${#cases[@]} cases x modes [$MODES], $JOBS at a time, logs in $OUTDIR"
for m in $MODES; do
	d=$OUTDIR/smoke.$m
	rm -rf "$d"
	mkdir -p "$d"
	cp --sparse=always "$ROOTFS" "$d/rootfs.img"
	start=$(date +%s.%N)
	timeout -k 5 20 "$VMLINUX" "ubd0=$d/rootfs.img" "$(mode_arg "$m")" quiet init=/bin/true </dev/null >"$d/log" 2>&1
	rc=$?
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	rm -f "$d/rootfs.img"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		smoke[$m]=0
		echo "smoke mode=$m: vmlinux did not exit within 20s; this mode's boots will fail at once (log: $d/log)"
	else
		smoke[$m]=1
		echo "smoke mode=$m: init=/bin/true -> exit $rc in ${secs}s"
	fi
done

# --- one case in one mode -----------------------------------------------------------
run_one() {
	local c=$1 m=$2
	local work=$OUTDIR/$c.$m
	rm -rf "$work"
	mkdir -p "$work"
	: >"$work/failures"
	: >"$work/trace"
	local start end rc
	start=$(date +%s)
	(
		cd "$ROOT" || exit 2
		export ROOT VMLINUX ROOTFS TIMEOUT
		export MODE=$m WORK=$work IMG=$work/rootfs.img UBD0=$work/rootfs.img
		export SMOKE_OK=${smoke[$m]}
		cp --sparse=always "$ROOTFS" "$IMG" || exit 2
		# shellcheck disable=SC2016 # expanded by the inner bash
		exec timeout -k 10 "$CASE_TIMEOUT" bash -c '
			source "$1" || exit 2
			source "$2"
			rc=$?
			[ "$FAILS" = 0 ] && [ "$rc" = 0 ] && exit 0
			[ "$FAILS" = 0 ] && fail "the case script itself exited with status $rc"
			exit 1
		' case "$here/lib.sh" "$here/cases/$c.sh"
	) >"$work/case.log" 2>&1
	rc=$?
	end=$(date +%s)
	local report line
	if [ "$rc" = 0 ]; then
		line="PASS  $c [$m] ($((end - start))s)"
		echo PASS >"$OUTDIR/results/$c.$m"
		report=$line
		[ "$VERBOSE" = 1 ] && report+=$'\n'$(sed 's/^/    /' "$work/trace")
	else
		line="FAIL  $c [$m] ($((end - start))s)"
		echo FAIL >"$OUTDIR/results/$c.$m"
		[ "$rc" = 124 ] || [ "$rc" = 137 ] &&
			echo "the case did not finish within CASE_TIMEOUT=${CASE_TIMEOUT}s" >>"$work/failures"
		report=$line$'\n'$(sed 's/^/    /' "$work/failures")
		if [ -s "$work/case.log" ]; then
			report+=$'\n'"    case script output (last lines):"$'\n'$(tail -n 10 "$work/case.log" | sed 's/^/      : /')
		fi
		if [ -s "$work/last_log" ]; then
			local last
			last=$(cat "$work/last_log")
			report+=$'\n'"    last vmlinux output ($last):"$'\n'$(tr -d '\r' <"$last" | tail -n 15 | sed 's/^/      > /')
		fi
		report+=$'\n'"    trace: $work/trace"
	fi
	printf '%s\n' "$report"
	if [ "$KEEP" != 1 ]; then
		find "$work" -name '*.img' -delete 2>/dev/null
		[ "$rc" = 0 ] && rm -rf "$work"
	fi
	return 0
}

# --- run them, JOBS at a time -------------------------------------------------------
start_all=$(date +%s)
running=0
for c in "${cases[@]}"; do
	for m in $MODES; do
		if [ "$running" -ge "$JOBS" ]; then
			wait -n
			running=$((running - 1))
		fi
		run_one "$c" "$m" &
		running=$((running + 1))
	done
done
wait

pass=0
failed=()
for c in "${cases[@]}"; do
	for m in $MODES; do
		if [ "$(cat "$OUTDIR/results/$c.$m" 2>/dev/null)" = PASS ]; then
			pass=$((pass + 1))
		else
			failed+=("${c}[$m]")
		fi
	done
done
total=$((pass + ${#failed[@]}))
echo "integration: $pass/$total passed in $(($(date +%s) - start_all))s${failed[*]:+; failed: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
