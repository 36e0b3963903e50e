# hostile: hostile guest programs (tests/hostile/) run as init and try to reach the host
# with raw instructions: raw syscalls at host paths, jumps into the stub's syscall
# instruction with forged registers, int $0x80 and 32-bit code, writes/maps/remaps of
# the stub's pages, kernel writes aimed at the stub, signal frames in it, ptrace /
# process_vm_writev / /proc/*/mem, pid scans, weird registers, lying executables, fork
# and thread bombs, mem= exhaustion. Each program prints PASS/FAIL lines and exits 0 only
# if the guest kernel contained every attack; vmlinux exits with init's status.
#
# The host checks its own side after every boot, whatever the guest said: a secret file
# (a random token, created just before) is unchanged and its token never appears in the
# output; no host path under the attacks' prefix (/tmp/vmlinux-hostile-<pid>-pwned-*) and
# nothing in vmlinux's host working directory was created; a host "sentinel" process the
# attacks try to kill is alive; vmlinux exited (no hang) with the expected status.
#
# skas=ptrace is a mode of its own in run.sh (MODES=ptrace). HOSTILE_PTRACE=1 also runs
# every boot of mode=skas a second time with skas=ptrace.

h_bin=$WORK/hostile-bin
h_prefix=/tmp/vmlinux-hostile-$$
h_secret=$h_prefix-secret
h_pwn=$h_prefix-pwned
h_cwd=$WORK/hostcwd
h_sentinel=

if ! "$ROOT/tests/hostile/build.sh" "$h_bin" >"$WORK/hostile-build.log" 2>&1; then
	fail "cannot build the hostile programs (tests/hostile/build.sh):
$(_show "$WORK/hostile-build.log")"
	return 0
fi
ok "built tests/hostile"

# The programs go into /hostile/ on this case's image.
{
	echo "mkdir /hostile"
	for p in "$h_bin"/*; do
		echo "write $p /hostile/$(basename "$p")"
		echo "sif /hostile/$(basename "$p") mode 0100755"
	done
} >"$WORK/hostile-debugfs.cmds"
if ! debugfs -w -f "$WORK/hostile-debugfs.cmds" "$IMG" >"$WORK/hostile-debugfs.log" 2>&1 ||
	! host_exists "$IMG" /hostile/escape; then
	fail "cannot copy the hostile programs into the image:
$(_show "$WORK/hostile-debugfs.log")"
	return 0
fi

# The host's side: a secret, a sentinel, an empty working directory for vmlinux.
h_token=HOSTILE-TOKEN-$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')
h_umask=$(umask)
umask 077
printf '%s\n' "$h_token" >"$h_secret"
umask "$h_umask"
h_secret_md5=$(file_md5 "$h_secret")
mkdir -p "$h_cwd"

h_start_sentinel() {
	sleep 100000 >/dev/null 2>&1 &
	h_sentinel=$!
}
h_cleanup() {
	[ -n "$h_sentinel" ] && kill "$h_sentinel" 2>/dev/null
	rm -rf "$h_prefix"-*
}
trap 'h_cleanup; _vm_cleanup' EXIT
h_start_sentinel
# vmlinux runs in an empty directory of its own: the host processes of guest address
# spaces inherit it, so a relative path reaching the host would land there.
cd "$h_cwd" || return 0

# h_check_host WHAT: the host's side after a boot.
h_check_host() {
	local what=$1 left p
	if [ ! -f "$h_secret" ]; then
		fail "$what: the host secret $h_secret is gone"
		printf '%s\n' "$h_token" >"$h_secret"
	elif [ "$(file_md5 "$h_secret")" != "$h_secret_md5" ]; then
		fail "$what: the host secret $h_secret was changed"
		printf '%s\n' "$h_token" >"$h_secret"
	else
		ok "$what: host secret untouched"
	fi
	if tr -d '\r' <"$VM_LOG" | grep -qF -- "$h_token"; then
		fail "$what: the host secret's token appears in the guest's output (log: $VM_LOG)"
	else
		ok "$what: token not in the output"
	fi
	left=
	for p in "$h_prefix"-*; do
		[ -e "$p" ] && [ "$p" != "$h_secret" ] && left+=$p$'\n'
	done
	left=${left%$'\n'}
	if [ -n "$left" ]; then
		fail "$what: the guest created host paths:
$(printf '%s\n' "$left" | sed 's/^/      | /')"
		printf '%s\n' "$left" | while IFS= read -r p; do rm -rf -- "$p"; done
	else
		ok "$what: no host path created under $h_prefix-*"
	fi
	left=$(ls -A "$h_cwd")
	if [ -n "$left" ]; then
		fail "$what: the guest created files in vmlinux's host working directory $h_cwd:
$(printf '%s\n' "$left" | sed 's/^/      | /')"
		rm -rf "${h_cwd:?}"/* "${h_cwd:?}"/.[!.]* 2>/dev/null
	else
		ok "$what: host working directory untouched"
	fi
	if kill -0 "$h_sentinel" 2>/dev/null; then
		ok "$what: host sentinel $h_sentinel alive"
	else
		fail "$what: the host sentinel process $h_sentinel was killed"
		h_start_sentinel
	fi
}

# h_check_result WHAT: the program's verdict: RESULT with fail=0, no FAIL lines.
h_check_result() {
	local what=$1 fails
	fails=$(tr -d '\r' <"$VM_LOG" | grep -E '^FAIL ' | head -n 40)
	if [ -n "$fails" ]; then
		fail "$what: the guest program reported failures:
$(printf '%s\n' "$fails" | sed 's/^/      | /')"
	fi
	if tr -d '\r' <"$VM_LOG" | grep -Eq '^RESULT pass=[0-9]+ fail=0$'; then
		ok "$what: RESULT fail=0"
	elif [ -z "$fails" ]; then
		fail "$what: no RESULT line from the guest program (log: $VM_LOG):
$(_show "$VM_LOG")"
	fi
}

# h_boot WHAT WANT_RC TIMEOUT "VMLINUX ARGS" PROG ARGS...: boot with init=/hostile/PROG,
# then check the exit status (WANT_RC: a number, or "clean" for 0 or 128+signal), the
# verdict (when WANT_RC is 0) and the host's side. In mode=skas, again with skas=ptrace.
h_boot() {
	local what=$1 want=$2 t=$3 vmargs=$4 prog=$5 plat
	shift 5
	local plats=("")
	[ "$MODE" = skas ] && [ "${HOSTILE_PTRACE:-0}" = 1 ] && plats+=("skas=ptrace")
	for plat in "${plats[@]}"; do
		local w="$what${plat:+ [$plat]}"
		# shellcheck disable=SC2086 # vmargs is a list of words
		vm_run --timeout "$t" "ubd0=$IMG" $plat rw $vmargs "init=/hostile/$prog" \
			--secret "$h_secret" --pwn "$h_pwn" --sentinel "$h_sentinel" "$@"
		if [ "$VM_HUNG" = 1 ]; then
			# vm_stop recorded the hang; show where it stopped and go on with the
			# other attacks.
			fail "$w: vmlinux hung; its last lines:
$(tr -d '\r' <"$VM_LOG" | tail -n 8 | sed 's/^/      | /')"
			VM_HUNG=0
		elif [ "$want" = clean ]; then
			if [ "$VM_RC" = 0 ] || { [ "$VM_RC" -gt 128 ] && [ "$VM_RC" -lt 160 ]; } 2>/dev/null; then
				ok "$w: exit status $VM_RC"
			else
				fail "$w: vmlinux exit status $VM_RC, want 0 or 128+signal"
			fi
		elif [ "$VM_RC" = "$want" ]; then
			ok "$w: exit status $want"
		else
			fail "$w: vmlinux exit status: want $want, got $VM_RC"
		fi
		[ "$want" = 0 ] && h_check_result "$w"
		h_check_host "$w"
	done
}

# --- escapes through instructions ---------------------------------------------------
h_boot "escape (raw syscalls, stub jumps, int 0x80, 32-bit code, vsyscall, ring 0)" \
	0 120 "" escape all

# --- the stub's pages -------------------------------------------------------------------
h_boot "stubmem (map/protect/remap/write the stub, kernel writes into it, signal frames)" \
	0 120 "" stubmem all
# Breaking the stub through a kernel write: the kernel must neither hang nor die.
h_boot "stubbreak (stub overwritten with ud2, then used by the kernel)" \
	0 20 "" stubmem stubbreak

# --- other processes --------------------------------------------------------------------
h_boot "procs (ptrace, process_vm_writev, /proc/*/mem, pid scan)" 0 120 "" procs all

# --- registers --------------------------------------------------------------------------
h_boot "regs (sigreturn, rsp, fs/gs base)" 0 120 "" regs all
# init itself dies: vmlinux exits 128+signal.
h_boot "init stores into the stub" 139 30 "" regs init:stubwrite
h_boot "init jumps to the stub's int3" 133 30 "" regs init:int3
h_boot "init takes a signal with rsp non-canonical" 139 30 "" regs init:badrsp
h_boot "init sets fs base to a kernel address" clean 30 "" regs init:fsbase

# Host processes do not pile up behind guest threads the kernel gave up on (fs base at a
# kernel address, which PTRACE_SETREGS refuses; 200 times): counted while the guest
# waits after the attack.
h_plats=("")
[ "$MODE" = skas ] && [ "${HOSTILE_PTRACE:-0}" = 1 ] && h_plats+=("skas=ptrace")
for h_plat in "${h_plats[@]}"; do
	# shellcheck disable=SC2086 # h_plat is empty or one word
	vm_start fscount "ubd0=$IMG" $h_plat rw init=/hostile/regs --secret "$h_secret" \
		--pwn "$h_pwn" --sentinel "$h_sentinel" fsbase
	if vm_wait_for fscount '^HOSTILE-COUNT-HOST-PROCESSES-NOW' 120; then
		# vmlinux and every host process below it (guest address spaces may sit in
		# sessions of their own, so not the process group).
		# shellcheck disable=SC2154 # _bg_pid is lib.sh's
		h_n=$(ps -e -o pid=,ppid= 2>/dev/null | awk -v root="${_bg_pid[fscount]}" '
			{ parent[$1] = $2 }
			END {
				n = 0
				for (p in parent) {
					q = p
					for (i = 0; i < 64 && q != "" && q != root && q > 1; i++) q = parent[q]
					if (q == root) n++
				}
				print n
			}')
		if [ "$h_n" -le 16 ]; then
			ok "host processes of the instance after 200 killed children: $h_n${h_plat:+ [$h_plat]}"
		else
			fail "regs fsbase${h_plat:+ [$h_plat]}: the instance has $h_n host processes after 200 guest children with a kernel fs base were killed (they leak)"
		fi
	fi
	vm_stop fscount 120
	expect_exit 0
	h_check_host "regs fsbase (process count)${h_plat:+ [$h_plat]}"
done

# --- executables ------------------------------------------------------------------------
h_boot "badexec (not ELF, lying ELF, #! loops, argv)" 0 120 "" badexec all
# The shell: a non-ELF file fails with an error and the system keeps going.
vm_run --timeout 60 "ubd0=$IMG" rw init=/bin/sh -c \
	'mount -t proc proc /proc; printf "\177junk\001\002\n" >/tmp/junk; chmod 755 /tmp/junk; /tmp/junk; echo "junk-rc=$?"; /bin/true && echo still-alive; exit 0'
expect_exit 0
expect_log '^junk-rc=[1-9][0-9]*$'
expect_log '^still-alive$'

# --- bombs and memory ---------------------------------------------------------------------
h_boot "bomb (fork bomb, thread bomb)" 0 300 "" bomb forkbomb threadbomb
h_boot "bomb forkmem (mem=64M)" 0 120 "mem=64M" bomb forkmem
h_boot "memhog (mem=64M: malloc, brk, MAP_NORESERVE, file maps, tmpfs, pipes)" \
	0 120 "mem=64M" memhog all

cd "$ROOT" || true
host_e2fsck_clean "$IMG"
h_cleanup
