#!/bin/sh
# mkrootfs.sh OUTPUT.img: build the example root filesystem, a sparse ext4 image holding a
# busybox system, without root privileges.
#
#   ./examples/rootfs/mkrootfs.sh examples/rootfs/rootfs.img
#
# Source of the system: Debian's busybox-static (/bin/busybox; override with BUSYBOX=).
# Size: ROOTFS_SIZE (default 256M; any size mke2fs accepts: 64M, 1G, ...).
# The image is built in a staging directory with `mke2fs -t ext4 -d`, every inode is then
# owned by root and stamped with a fixed time (SOURCE_DATE_EPOCH, default 1700000000), and the
# filesystem UUID and hash seed are fixed: the same inputs give a byte-identical image.
# It is written to a temporary file and renamed over OUTPUT at the end, so an interrupted
# build never leaves a half-made image behind.
#
# What is inside: /bin/busybox and a symlink for each applet it lists (bin/ls,
# sbin/init, usr/bin/awk, ...), /etc (inittab, init.d/rcS, passwd, group, shadow,
# fstab, hostname, hosts, profile, mtab -> /proc/mounts), /dev with a few static nodes
# (devtmpfs is mounted over it at boot when the kernel has it), /root, /tmp (1777),
# /proc, /sys, /mnt, /home, /var, /run.

set -eu

usage() {
	sed -n '2,20s/^# \{0,1\}//p' "$0"
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
"" | -*) usage >&2; exit 2 ;;
esac
[ $# -eq 1 ] || { usage >&2; exit 2; }

out=$1
size=${ROOTFS_SIZE:-256M}
busybox=${BUSYBOX:-/bin/busybox}
epoch=${SOURCE_DATE_EPOCH:-1700000000}
uuid=${ROOTFS_UUID:-5a1e7c0d-0000-4000-8000-766d6c696e78}

die() { echo "mkrootfs.sh: $*" >&2; exit 1; }
# mke2fs and debugfs take the time from E2FSPROGS_FAKE_TIME, which they ignore when it is 0.
[ "$epoch" -gt 0 ] 2>/dev/null || die "SOURCE_DATE_EPOCH must be a positive number of seconds"

PATH=$PATH:/sbin:/usr/sbin
for t in mke2fs debugfs; do
	command -v "$t" >/dev/null 2>&1 ||
		die "$t not found (Debian package e2fsprogs: apt-get install e2fsprogs)"
done
[ -x "$busybox" ] ||
	die "$busybox not found (Debian package busybox-static: apt-get install busybox-static)"
# The guest needs a static busybox: the image carries no shared libraries.
if command -v readelf >/dev/null 2>&1 && readelf -l "$busybox" 2>/dev/null | grep -q 'INTERP'; then
	die "$busybox is dynamically linked; install busybox-static (apt-get install busybox-static)"
fi

outdir=$(dirname -- "$out")
[ -d "$outdir" ] || die "directory $outdir does not exist"
work=$(mktemp -d "${TMPDIR:-/tmp}/mkrootfs.XXXXXX")
tmpimg="$out.tmp.$$"
trap 'rm -rf "$work"; rm -f "$tmpimg"' EXIT
trap 'exit 130' INT TERM
root=$work/root
umask 022

# --- directory tree -----------------------------------------------------------------
mkdir -p "$root"
for d in bin sbin usr/bin usr/sbin etc etc/init.d dev proc sys mnt home var var/log \
	var/run run root tmp; do
	mkdir -p "$root/$d"
done
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"

cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
"$busybox" --list-full | LC_ALL=C sort | while IFS= read -r applet; do
	case $applet in
	bin/busybox | "" | /* | *..*) continue ;;
	esac
	mkdir -p "$root/$(dirname -- "$applet")"
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
[ -L "$root/sbin/init" ] || ln -s /bin/busybox "$root/sbin/init"

# --- /etc ---------------------------------------------------------------------------
cat >"$root/etc/inittab" <<'EOF'
# busybox init: see busybox's examples/inittab. The console shell starts at once.
::sysinit:/etc/init.d/rcS
::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
::shutdown:/bin/sync
EOF

cat >"$root/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# Early boot: pseudo filesystems, a writable root, the host name.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -o remount,rw /
[ -s /etc/hostname ] && hostname -F /etc/hostname
exit 0
EOF
chmod 0755 "$root/etc/init.d/rcS"

cat >"$root/etc/fstab" <<'EOF'
# <fs>      <mount point>  <type>    <options>         <dump> <pass>
/dev/ubda   /              ext4      defaults          0      1
proc        /proc          proc      defaults          0      0
sysfs       /sys           sysfs     defaults          0      0
devpts      /dev/pts       devpts    defaults          0      0
tmpfs       /tmp           tmpfs     mode=1777         0      0
EOF

echo vmlinux >"$root/etc/hostname"

cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	vmlinux
EOF

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF

cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
EOF

# root has an empty password (login and su work without one); the others are locked.
cat >"$root/etc/shadow" <<'EOF'
root::19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
chmod 0640 "$root/etc/shadow"

cat >"$root/etc/profile" <<'EOF'
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
if [ "$(id -u)" = 0 ]; then export HOME=/root; fi
export PS1='\u@\h:\w\$ '
umask 022
EOF

ln -s /proc/mounts "$root/etc/mtab"

# --- fixed timestamps ---------------------------------------------------------------
find "$root" -exec touch -h -d "@$epoch" {} +

# --- the image ----------------------------------------------------------------------
rm -f "$tmpimg"
: >"$tmpimg"
E2FSPROGS_FAKE_TIME=$epoch mke2fs -q -F -t ext4 -T default -L rootfs -U "$uuid" \
	-E "root_owner=0:0,hash_seed=$uuid,lazy_itable_init=0,nodiscard" \
	-d "$root" "$tmpimg" "$size" ||
	die "mke2fs failed"

# Static device nodes (mke2fs -d cannot copy them without root), root ownership and
# fixed times for every inode (mke2fs -d keeps the builder's uid and the current ctime).
{
	echo "cd /dev"
	echo "mknod console c 5 1"
	echo "mknod null c 1 3"
	echo "mknod zero c 1 5"
	echo "mknod full c 1 7"
	echo "mknod random c 1 8"
	echo "mknod urandom c 1 9"
	echo "mknod tty c 5 0"
	echo "mknod ptmx c 5 2"
	echo "cd /"
	echo "sif /dev/console mode 020600"
	for n in null zero full random urandom tty ptmx; do
		echo "sif /dev/$n mode 020666"
	done
	{
		(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | sed 's|^\.||')
		echo /
		echo /lost+found
		for n in 7 8; do echo "<$n>"; done
		for n in console null zero full random urandom tty ptmx; do echo "/dev/$n"; done
	} | while IFS= read -r p; do
		case $p in "<"*) ;; *) for f in uid gid; do echo "sif \"$p\" $f 0"; done ;; esac
		for f in atime mtime ctime crtime; do echo "sif \"$p\" $f @$epoch"; done
		for f in atime_extra mtime_extra ctime_extra crtime_extra; do echo "sif \"$p\" $f 0"; done
	done
} >"$work/fixup.cmds"
E2FSPROGS_FAKE_TIME=$epoch debugfs -w -f "$work/fixup.cmds" "$tmpimg" >"$work/fixup.log" 2>&1 ||
	{ cat "$work/fixup.log" >&2; die "debugfs fixup failed"; }
if grep -v -e '^debugfs' -e '^Allocated inode' "$work/fixup.log" | grep -q .; then
	grep -v -e '^debugfs' -e '^Allocated inode' "$work/fixup.log" | head -5 >&2
	die "debugfs fixup reported errors"
fi

if command -v e2fsck >/dev/null 2>&1; then
	e2fsck -fn "$tmpimg" >"$work/fsck.log" 2>&1 ||
		{ cat "$work/fsck.log" >&2; die "the new image does not pass e2fsck -fn"; }
fi

mv -f "$tmpimg" "$out"
echo "mkrootfs.sh: wrote $out ($size ext4, busybox $("$busybox" 2>&1 | head -1 | sed 's/^BusyBox \(v[^ ]*\).*/\1/'))"
