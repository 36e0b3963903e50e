# shellcheck shell=bash
# tests/integration/lib.sh: helpers for integration test cases (sourced by run.sh).
#
# A case (cases/NAME.sh) is a bash fragment that runs once per mode. It boots the guest
# with guest_run / vm_run / vm_start, then checks what came out with the expect_* and
# host_* helpers. A failed check is recorded and the case goes on, so one run shows every
# failure; the case fails if any check failed.
#
# Environment given to a case by run.sh:
#   ROOT     repository root            VMLINUX  the binary under test
#   MODE     skas | tt                  ROOTFS   the pristine example image (read only!)
#   WORK     a fresh directory for this case and mode (logs, images)
#   IMG      $WORK/rootfs.img, a private sparse copy of ROOTFS
#   UBD0     what guest_run passes as ubd0= (default $IMG; cow cases set "cow,base")
#   TIMEOUT  seconds one boot may take (default 60)
#   SMOKE_OK 0 if this mode hung in run.sh's smoke boot: boots then fail at once
#
# After a boot:
#   VM_RC    vmlinux's exit status        VM_LOG  everything it printed (stdout+stderr)
#   VM_OUT   what the guest script printed (guest_run only; CRs removed)
#   GUEST_RC the guest script's exit status (guest_run only; empty if it never finished)
#
# The guest sees no host files, so guest_run waits for the console shell's prompt and
# types the script into it: a heredoc writes it to /tmp/.vmtest.sh, then one line runs it
# between two markers and powers off. The console may echo input and prints prompts; the markers are printed with
# printf '%s' so that the echoed command line never contains them, and VM_OUT holds only
# what is between them. Write guest scripts with spaces, not tabs (the console shell's
# line editor treats TAB as completion), and keep lines under 1000 characters.

FAILS=0
CHECKS=0
VM_RC=
VM_LOG=
VM_OUT=
GUEST_RC=
VM_HUNG=0
VM_SKIPPED=0
GUEST_BAD=0
_boot=0
declare -A _bg_pid=() _bg_fd=() _bg_log=()

# --- recording ----------------------------------------------------------------------
note() { printf '%s\n' "$*" >>"$WORK/trace"; }

_t0=$(date +%s.%N)
_elapsed() { awk -v a="$_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

fail() {
	FAILS=$((FAILS + 1))
	printf '%s\n' "$*" >>"$WORK/failures"
	note "FAIL: $*"
}

ok() {
	CHECKS=$((CHECKS + 1))
	note "ok: $*"
}

# check DESCRIPTION COMMAND...: run COMMAND, record a failure if it fails.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# --- running vmlinux ----------------------------------------------------------------
# Every instance runs as `setsid $VMLINUX mode=$MODE quiet ARGS...` in the background
# (its own process group, so that it and whatever host processes it starts can be
# killed together), with stdin from a FIFO that stays open until it exits: the console
# never sees end-of-file, and input can be typed at any time.

_vm_skip() { # _vm_skip: refuse to boot when that could only wait out a timeout
	VM_SKIPPED=1
	GUEST_BAD=1
	if [ "${SMOKE_OK:-1}" = 0 ]; then
		echo "(not run: vmlinux hung in run.sh's smoke boot in mode=$MODE)" >"$VM_LOG"
		fail "not booted: vmlinux mode=$MODE hung in the smoke boot (see smoke log)"
		return 0
	fi
	if [ "$VM_HUNG" = 1 ]; then
		echo "(not run: an earlier boot in this case timed out)" >"$VM_LOG"
		fail "not booted: an earlier boot in this case timed out"
		return 0
	fi
	VM_SKIPPED=0
	GUEST_BAD=0
	return 1
}

# vm_start NAME ARGS...: start an instance called NAME in the background.
vm_start() {
	local name=$1
	shift
	_boot=$((_boot + 1))
	VM_LOG=$WORK/boot$_boot.$name.log
	printf '%s\n' "$VM_LOG" >"$WORK/last_log"
	VM_OUT=
	GUEST_RC=
	GUEST_BAD=0
	{
		printf '$'
		printf ' %q' "$VMLINUX" "$(mode_arg "$MODE")" quiet "$@"
		printf '   # %s at %ss, log %s\n' "$name" "$(_elapsed)" "$VM_LOG"
	} >>"$WORK/trace"
	_bg_log[$name]=$VM_LOG
	: >"$VM_LOG"
	if _vm_skip; then
		_bg_pid[$name]=
		return 1
	fi
	local fifo=$WORK/$name.fifo fd
	rm -f "$fifo"
	mkfifo "$fifo"
	exec {fd}<>"$fifo"
	setsid "$VMLINUX" "$(mode_arg "$MODE")" quiet "$@" <"$fifo" >"$VM_LOG" 2>&1 &
	_bg_pid[$name]=$!
	_bg_fd[$name]=$fd
	return 0
}

# vm_send NAME TEXT: type TEXT (a newline is added) on NAME's console.
vm_send() { [ -n "${_bg_pid[$1]}" ] && printf '%s\n' "$2" >&"${_bg_fd[$1]}"; }

# vm_send_file NAME FILE: type the contents of FILE on NAME's console.
vm_send_file() { [ -n "${_bg_pid[$1]}" ] && cat "$2" >&"${_bg_fd[$1]}"; }

# vm_wait_for NAME ERE [SECS]: wait until NAME's output has a line matching ERE (CRs and
# escape characters removed). Fails (and records it) if NAME exits or SECS pass first.
vm_wait_for() {
	local name=$1 re=$2 t=${3:-$TIMEOUT} i=0 pid=${_bg_pid[$1]}
	[ -n "$pid" ] || return 1
	while :; do
		if tr -d '\r\033' <"${_bg_log[$name]}" | grep -Eq -- "$re"; then return 0; fi
		kill -0 "$pid" 2>/dev/null || break
		[ "$i" -lt $((t * 10)) ] || break
		sleep 0.1
		i=$((i + 1))
	done
	tr -d '\r\033' <"${_bg_log[$name]}" | grep -Eq -- "$re" && return 0
	if kill -0 "$pid" 2>/dev/null; then
		fail "$name: no output matching /$re/ within ${t}s (log: ${_bg_log[$name]})"
	else
		fail "$name: vmlinux exited before printing a line matching /$re/ (log: ${_bg_log[$name]})"
	fi
	return 1
}

# vm_wait_prompt NAME [SECS]: wait until NAME's console ends with a shell prompt
# ("... # ", possibly followed by the line editor's cursor query ESC[6n).
vm_wait_prompt() {
	local name=$1 t=${2:-$TIMEOUT} i=0 pid=${_bg_pid[$1]}
	[ -n "$pid" ] || return 1
	while :; do
		if tail -c 200 "${_bg_log[$name]}" | tr -d '\r\033' | tail -n 1 |
			grep -Eq '[#$] ?(\[6n)?$'; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			fail "$name: vmlinux exited before a shell prompt appeared on the console (log: ${_bg_log[$name]})"
			return 1
		fi
		[ "$i" -lt $((t * 10)) ] || break
		sleep 0.1
		i=$((i + 1))
	done
	fail "$name: no shell prompt on the console within ${t}s (log: ${_bg_log[$name]})"
	return 1
}

# vm_kill NAME SIGNAL: send SIGNAL to NAME's vmlinux process (only that process).
vm_kill() { [ -n "${_bg_pid[$1]}" ] && kill -s "$2" "${_bg_pid[$1]}" 2>/dev/null; }

# _vm_group_left PGID: the live (non-zombie) host processes left in process group PGID.
_vm_group_left() {
	ps -e -o pid=,pgid=,stat=,args= 2>/dev/null |
		awk -v g="$1" '$2 == g && $3 !~ /^Z/ { print "      " $0 }'
}

# vm_stop NAME [SECS]: wait for NAME to exit, SIGKILL it (and its process group) after
# SECS. Checks that no host process of it outlives it. Sets VM_RC and VM_LOG.
vm_stop() {
	local name=$1 t=${2:-$TIMEOUT} pid=${_bg_pid[$1]} i=0
	VM_LOG=${_bg_log[$name]}
	if [ -z "$pid" ]; then
		VM_RC=124
		return 1
	fi
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $((t * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	local hung=0
	if kill -0 "$pid" 2>/dev/null; then
		hung=1
		kill -KILL -- "-$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	VM_RC=$?
	local fd=${_bg_fd[$name]}
	exec {fd}>&-
	_bg_pid[$name]=
	note "$name: exit status $VM_RC at $(_elapsed)s"
	if [ "$hung" = 1 ]; then
		VM_HUNG=1
		VM_RC=124
		fail "$name: vmlinux did not exit within ${t}s (killed; log: $VM_LOG)"
		return 1
	fi
	# Whatever host processes vmlinux started must be gone with it.
	local left
	i=0
	while left=$(_vm_group_left "$pid") && [ -n "$left" ] && [ "$i" -lt 20 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -n "$left" ]; then
		kill -KILL -- "-$pid" 2>/dev/null
		fail "$name: host processes outlived vmlinux by 2s (killed):
$left"
	fi
	return 0
}

_vm_cleanup() {
	local n
	for n in "${!_bg_pid[@]}"; do
		[ -n "${_bg_pid[$n]}" ] && kill -KILL -- "-${_bg_pid[$n]}" 2>/dev/null
	done
}
trap _vm_cleanup EXIT

# vm_run [--input FILE] [--timeout SECS] ARGS...: run one instance to its end, with FILE
# (or nothing) typed on its console at once. Sets VM_RC and VM_LOG. Returns non-zero only
# if it had to be killed.
vm_run() {
	local input='' t=$TIMEOUT
	while :; do
		case ${1:-} in
		--input) input=$2; shift 2 ;;
		--timeout) t=$2; shift 2 ;;
		*) break ;;
		esac
	done
	vm_start run "$@" || { VM_RC=124; return 1; }
	[ -n "$input" ] && vm_send_file run "$input"
	vm_stop run "$t"
}

# guest_run [--no-wait] SCRIPT [ARGS...]: boot ubd0=$UBD0 (unless ARGS has a ubd0=) with
# the image's own init, wait for the console shell's prompt, type SCRIPT into it, power
# off. With --no-wait, everything is typed at once before the guest has booted (as
# `printf ... | vmlinux` does). Sets VM_RC, VM_LOG, VM_OUT, GUEST_RC.
guest_run() {
	local wait=1
	if [ "${1:-}" = --no-wait ]; then
		wait=0
		shift
	fi
	local script=$1
	shift
	local args=() a have_ubd0=0
	for a in "$@"; do case $a in ubd0=* | ubd0?*=*) have_ubd0=1 ;; esac; done
	[ "$have_ubd0" = 1 ] || args+=("ubd0=$UBD0")
	args+=("$@")
	# Strip leading tabs (as <<- would); refuse other tabs and control characters.
	script=$(printf '%s\n' "$script" | sed 's/^\t*//')
	if printf '%s' "$script" | tr -d '\n' | LC_ALL=C grep -q '[[:cntrl:]]'; then
		fail "guest script contains a tab or control character (write \\t, \\001 with printf)"
		return 1
	fi
	if printf '%s\n' "$script" | grep -qx '@@VMTEST_EOF@@'; then
		fail "guest script contains the heredoc terminator"
		return 1
	fi
	local input=$WORK/input$((_boot + 1)).txt
	{
		echo "cat > /tmp/.vmtest.sh <<'@@VMTEST_EOF@@'"
		printf '%s\n' "$script"
		echo "@@VMTEST_EOF@@"
		# One line, so that it is read (and echoed) whole before any of it runs.
		printf '%s\n' "printf '\\n@@%s@@\\n' BEGIN; sh /tmp/.vmtest.sh </dev/null 2>&1; printf '\\n@@%s:%s@@\\n' END \$?; rm -f /tmp/.vmtest.sh; sync; poweroff; sleep 30"
	} >"$input"
	local rc=0 stop=$TIMEOUT
	if vm_start guest "${args[@]}"; then
		if [ "$wait" = 1 ] && ! vm_wait_prompt guest "$TIMEOUT"; then
			rc=1
			stop=10 # no prompt: give the typed script a moment, no more
		fi
		vm_send_file guest "$input"
		vm_stop guest "$stop" || rc=1
	else
		VM_RC=124
		rc=1
	fi
	VM_OUT=$WORK/out$_boot.txt
	tr -d '\r' <"$VM_LOG" | awk '
		/@@BEGIN@@/ { on = 1; n = 0; next }
		/@@END:[0-9]+@@/ { on = 0; next }
		on { line[n++] = $0 }
		END { if (n > 0 && line[n-1] == "") n--; for (i = 0; i < n; i++) print line[i] }
	' >"$VM_OUT"
	GUEST_RC=$(tr -d '\r' <"$VM_LOG" | sed -n 's/.*@@END:\([0-9][0-9]*\)@@.*/\1/p' | tail -n 1)
	if ! tr -d '\r' <"$VM_LOG" | grep -q '@@BEGIN@@'; then
		GUEST_BAD=1
		[ "$rc" = 0 ] && fail "the guest script never started (no BEGIN marker on the console; log: $VM_LOG)"
		note "(checks of the guest's output are skipped until the next boot)"
		return 1
	fi
	if [ -z "$GUEST_RC" ]; then
		fail "the guest script did not finish (no END marker on the console; log: $VM_LOG)"
		return 1
	fi
	return "$rc"
}

# --- checks on the last boot --------------------------------------------------------
_show() { # _show FILE: the first and last lines of FILE, indented, for a failure message
	if [ "$(wc -l <"$1")" -le 30 ]; then
		sed 's/^/      | /' "$1"
	else
		head -n 10 "$1" | sed 's/^/      | /'
		echo "      | ..."
		tail -n 15 "$1" | sed 's/^/      | /'
	fi
}

_skipped() { # the last boot was not even started: checks of it are moot
	if [ "$VM_SKIPPED" = 1 ]; then
		note "skipped: ${FUNCNAME[1]} (not booted)"
		return 0
	fi
	return 1
}

_guest_bad() { # the last guest_run never ran its script: its output checks are moot
	if [ "$GUEST_BAD" = 1 ]; then
		note "skipped: ${FUNCNAME[1]} (the guest script did not run)"
		return 0
	fi
	return 1
}

# expect_exit N: vmlinux exited with status N.
expect_exit() {
	_skipped && return 1
	if [ "$VM_RC" = "$1" ]; then ok "exit status $1"; else
		fail "vmlinux exit status: want $1, got $VM_RC"
	fi
}

# expect_exit_nonzero: vmlinux failed cleanly (not 0, not killed by a signal or timeout).
expect_exit_nonzero() {
	_skipped && return 1
	if [ "$VM_RC" = 0 ]; then
		fail "vmlinux exit status: want non-zero, got 0"
	elif [ "$VM_RC" = 124 ] || [ "$VM_RC" -ge 128 ]; then
		fail "vmlinux exit status: want a clean error exit, got $VM_RC (timeout or signal)"
	else ok "exit status $VM_RC (non-zero)"; fi
}

# expect_guest_status N: the guest script exited with status N.
expect_guest_status() {
	_guest_bad && return 1
	if [ "$GUEST_RC" = "$1" ]; then ok "guest status $1"; else
		fail "guest script exit status: want $1, got ${GUEST_RC:-none}"
	fi
}

# expect_output ERE [DESCRIPTION]: the guest script printed a line matching ERE.
expect_output() {
	_guest_bad && return 1
	if grep -Eq -- "$1" "$VM_OUT" 2>/dev/null; then ok "output /$1/"; else
		fail "${2:-guest output} has no line matching /$1/; it was:
$(_show "$VM_OUT")"
	fi
}

# expect_no_output ERE: no line of the guest script's output matches ERE.
expect_no_output() {
	_guest_bad && return 1
	if ! grep -Eq -- "$1" "$VM_OUT" 2>/dev/null; then ok "no output /$1/"; else
		fail "guest output has a line matching /$1/: $(grep -E -m1 -- "$1" "$VM_OUT")"
	fi
}

# expect_log ERE: anything vmlinux printed (console, errors) has a line matching ERE.
expect_log() {
	_skipped && return 1
	if tr -d '\r' <"$VM_LOG" | grep -Eq -- "$1"; then ok "log /$1/"; else
		fail "vmlinux output has no line matching /$1/; it was:
$(_show "$VM_LOG")"
	fi
}

# out_value TAG: the text after "TAG=" on the guest output's last line starting with it.
out_value() { sed -n "s/^$1=//p" "$VM_OUT" 2>/dev/null | tail -n 1; }

# expect_value TAG WANT: the guest printed TAG=WANT (the last TAG= line counts).
expect_value() {
	_guest_bad && return 1
	local got
	got=$(out_value "$1")
	if [ "$got" = "$2" ]; then ok "$1=$2"; else
		fail "guest value $1: want '$2', got '${got:-<none>}'"
	fi
}

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1 = '$3'"; else fail "$1: want '$3', got '$2'"; fi
}

# expect_error_line PATTERN: vmlinux printed exactly one non-empty line, matching the ERE
# PATTERN (case-insensitive), and exited non-zero: what bad input must produce.
expect_error_line() {
	_skipped && return 1
	expect_exit_nonzero
	local n
	n=$(tr -d '\r' <"$VM_LOG" | grep -c .)
	if [ "$n" = 1 ]; then ok "one line of output"; else
		fail "want exactly one line of error output, got $n:
$(_show "$VM_LOG")"
	fi
	if [ -n "${1:-}" ]; then
		if tr -d '\r' <"$VM_LOG" | grep -Eiq -- "$1"; then ok "error /$1/"; else
			fail "error message does not match /$1/: $(head -c 300 "$VM_LOG")"
		fi
	fi
}

# --- the image, seen from the host --------------------------------------------------
# fresh_image DEST: a private sparse copy of the example image.
fresh_image() { cp --sparse=always "$ROOTFS" "$1"; }

# host_e2fsck_clean IMG: e2fsck -fn finds nothing to fix.
host_e2fsck_clean() {
	local log=$WORK/e2fsck.$_boot.log
	if e2fsck -fn "$1" >"$log" 2>&1; then ok "e2fsck -fn $1"; else
		fail "e2fsck -fn $(basename "$1") is not clean (exit $?):
$(_show "$log")"
	fi
}

# host_debugfs IMG REQUEST: run one debugfs request read-only, print its output.
host_debugfs() { debugfs -R "$2" "$1" 2>/dev/null; }

# host_debugfs_cat IMG PATH: the contents of PATH in IMG.
host_debugfs_cat() { debugfs -R "cat \"$2\"" "$1" 2>/dev/null; }

# host_exists IMG PATH: PATH exists in IMG.
host_exists() { debugfs -R "stat \"$2\"" "$1" 2>&1 | grep -q '^Inode:'; }

# host_md5 IMG PATH: md5 of PATH in IMG (empty if it cannot be read).
host_md5() {
	local tmp=$WORK/dump.$$
	rm -f "$tmp"
	debugfs -R "dump \"$2\" $tmp" "$1" >/dev/null 2>&1
	[ -f "$tmp" ] && md5sum <"$tmp" | cut -d' ' -f1
	rm -f "$tmp"
}

# host_stat_field IMG PATH REGEX: from debugfs' stat of PATH, the first match of the sed
# regex REGEX's group 1. e.g. host_stat_field "$IMG" /x 'Links: \([0-9]*\)'
host_stat_field() {
	debugfs -R "stat \"$2\"" "$1" 2>/dev/null | sed -n "s/.*$3.*/\\1/p" | head -n 1
}

file_md5() { md5sum <"$1" | cut -d' ' -f1; }

# --- COW files (UML's format, version 3) --------------------------------------------
# Big-endian header of 4128 bytes: magic 0x4F4F4F4D, version 3, backing mtime (u32),
# backing size (u64), sector size 512, alignment 4096, cow_format 0, backing path (4096
# bytes, NUL-padded); a bitmap (one bit per sector) at 8192; data after it, 4096-aligned.
_be() { # _be NBYTES VALUE: VALUE as NBYTES big-endian bytes
	local n=$1 v=$2 i fmt=
	for ((i = n - 1; i >= 0; i--)); do fmt+=$(printf '\\%03o' $(((v >> (8 * i)) & 255))); done
	# shellcheck disable=SC2059 # the format is built of octal escapes on purpose
	printf "$fmt"
}

# host_make_cow COW BASE: write an empty COW file for BASE (absolute path stored) with
# BASE's current size and mtime, as UML would.
host_make_cow() {
	local cow=$1 base size mtime sectors bitmap_len data_off
	base=$(realpath "$2")
	size=$(stat -c %s "$base")
	mtime=$(stat -c %Y "$base")
	sectors=$(((size + 511) / 512))
	bitmap_len=$(((sectors + 7) / 8))
	data_off=$(((8192 + bitmap_len + 4095) / 4096 * 4096))
	{
		_be 4 $((0x4F4F4F4D))
		_be 4 3
		_be 4 "$mtime"
		_be 8 "$size"
		_be 4 512
		_be 4 4096
		_be 4 0
		printf '%s' "$base"
	} >"$cow"
	truncate -s $((data_off + size)) "$cow"
}

# cow_header_field COW OFFSET NBYTES: a big-endian number from COW's header.
cow_header_field() {
	od -An -tu1 -j "$2" -N "$3" "$1" | awk '{ for (i = 1; i <= NF; i++) v = v * 256 + $i } END { printf "%.0f\n", v }'
}

# cow_backing_path COW: the backing file named in COW's header.
cow_backing_path() { dd if="$1" bs=1 skip=32 count=4096 status=none | tr -d '\0'; }
