# dynamic: unmodified dynamically linked programs of the host's Debian (bash, coreutils,
# python3 with its standard library) run in the guest: the ELF interpreter, shared
# libraries mapped from files, threads, futexes, subprocesses, AF_UNIX sockets, xattrs.
# The image is made here from the host's own binaries and their libraries, so the test
# needs no network.

dyn_root=$WORK/dynroot
dyn_img=$WORK/dynamic.img
# Debian's python3 (not one from PATH: that may be a pyenv shim), stdlib in /usr/lib.
py=$(readlink -f /usr/bin/python3 2>/dev/null || true)
[ -x "$py" ] || py=
pyver=${py##*/python}

# dyn_copy FILE...: each file and the shared libraries it needs, at their own paths.
dyn_copy() {
	local f lib
	for f in "$@"; do
		cp -L --parents "$f" "$dyn_root"/ 2>/dev/null || return 1
		for lib in $(ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
			[ -e "$dyn_root$lib" ] || cp -L --parents "$lib" "$dyn_root"/ || return 1
		done
	done
}

rm -rf "$dyn_root"
mkdir -p "$dyn_root"/{etc,root,tmp,proc,dev,bin,usr/bin}
if ! dyn_copy /bin/bash /bin/ls /bin/cat /usr/bin/sort /usr/bin/sha256sum /usr/bin/seq \
	/usr/bin/wc /usr/bin/id /usr/bin/stat /usr/bin/env /usr/bin/touch /usr/bin/rm /usr/bin/tr \
	/usr/bin/tail /usr/bin/cut /bin/sleep; then
	fail "cannot copy the host's bash and coreutils with their libraries"
	return 0
fi
if [ -n "$py" ]; then
	dyn_copy "$py" || fail "cannot copy $py"
	ln -sf "$(basename "$py")" "$dyn_root/usr/bin/python3"
	# The standard library, without its tests and tools (a few tens of MiB).
	tar -C / --exclude='__pycache__' --exclude='test' --exclude='idlelib' \
		--exclude='tkinter' --exclude='ensurepip' --exclude='lib2to3' \
		--exclude='site-packages' --exclude='dist-packages' \
		-cf - "usr/lib/python$pyver" 2>/dev/null | tar -C "$dyn_root" -xf -
	for so in "/usr/lib/python$pyver"/lib-dynload/*.so; do dyn_copy "$so" 2>/dev/null; done
fi
echo 'root:x:0:0:root:/root:/bin/bash' >"$dyn_root/etc/passwd"
echo 'root:x:0:' >"$dyn_root/etc/group"
if ! mke2fs -q -t ext4 -E root_owner=0:0 -d "$dyn_root" "$dyn_img" 512M >"$WORK/dyn-mke2fs.log" 2>&1; then
	fail "mke2fs -d of the dynamic image failed: $(_show "$WORK/dyn-mke2fs.log")"
	return 0
fi
rm -rf "$dyn_root"
ok "built an image of the host's dynamic programs"

# bash and coreutils: arithmetic, arrays, pipes, substitutions, job control of a child.
vm_run "ubd0=$dyn_img" rw init=/bin/bash -c '
set -e
a=(3 1 2); echo "bash-array=${#a[@]}:$(printf "%s\n" "${a[@]}" | sort | tr -d "\n")"
echo "bash-arith=$(( (7 * 6) % 40 ))"
echo "seq-sum=$(seq 1 100 | while read n; do s=$((${s:-0} + n)); echo $s; done | tail -n 1)"
echo hello > /root/h; echo "sha=$(sha256sum < /root/h | cut -c1-16 2>/dev/null || sha256sum < /root/h)"
echo "ls=$(ls -l /root/h | wc -l)"
echo "id=$(id -u):$(id -g)"
sleep 0.1 2>/dev/null & wait $! || true
echo "stat=$(stat -c %s /root/h)"
rm /root/h
echo dynamic-bash-done'
expect_exit 0
expect_log '^bash-array=3:123$'
expect_log '^bash-arith=2$'
expect_log '^seq-sum=5050$'
expect_log '^ls=1$'
expect_log '^id=0:0$'
expect_log '^stat=6$'
expect_log '^dynamic-bash-done$'
if tr -d '\r' <"$VM_LOG" | grep -q 'not implemented'; then
	fail "a program reported a missing syscall: $(tr -d '\r' <"$VM_LOG" | grep -m1 'not implemented')"
fi

if [ -z "$py" ]; then
	note "no Debian python3 on this host: the python part is skipped"
	return 0
fi

# python3: threads, subprocess, AF_UNIX sockets with fd passing, xattrs, hashlib.
vm_run "ubd0=$dyn_img" rw init=/usr/bin/python3 -c '
import os, socket, subprocess, threading, hashlib, json
r = []
ts = [threading.Thread(target=lambda i=i: r.append(i * i)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print("py-threads=%d" % sum(r))
print("py-sub=%s" % subprocess.run(["/bin/bash", "-c", "echo $((6*7))"], capture_output=True, text=True).stdout.strip())
a, b = socket.socketpair()
a.sendall(b"ping"); print("py-sock=%s" % b.recv(4).decode())
rfd, wfd = os.pipe(); socket.send_fds(a, [b"fd"], [wfd]); msg, fds, _, _ = socket.recv_fds(b, 2, 1)
os.write(fds[0], b"via-passed-fd"); print("py-fdpass=%s" % os.read(rfd, 64).decode())
open("/root/x", "w").write("x")
os.setxattr("/root/x", "user.k", b"v"); print("py-xattr=%s" % os.getxattr("/root/x", "user.k").decode())
print("py-json=%s" % json.dumps({"a": [1, 2]}, sort_keys=True))
print("py-sha=%s" % hashlib.sha256(b"abc").hexdigest()[:12])
'
expect_exit 0
expect_log '^py-threads=140$'
expect_log '^py-sub=42$'
expect_log '^py-sock=ping$'
expect_log '^py-fdpass=via-passed-fd$'
expect_log '^py-xattr=v$'
expect_log '^py-json=\{"a": \[1, 2\]\}$'
expect_log '^py-sha=ba7816bf8f01$'
host_e2fsck_clean "$dyn_img"
