# bad_input: what users get for bad command lines and bad images: one line of error, a
# non-zero exit, no hang, no crash dump, and the files involved unchanged.

bad() { # bad ARGS...: run vmlinux expecting it to refuse at once
	VM_HUNG=0
	vm_run --timeout 20 "$@"
}

# A missing image.
bad "ubd0=$WORK/no-such.img"
expect_error_line 'no-such\.img'

# An unreadable image (root reads everything, so only as another user).
if [ "$(id -u)" != 0 ]; then
	cp --sparse=always "$IMG" "$WORK/unreadable.img"
	chmod 000 "$WORK/unreadable.img"
	bad "ubd0=$WORK/unreadable.img"
	expect_error_line 'unreadable\.img'
fi

# A file that is not an ext filesystem.
head -c 1048576 /dev/zero >"$WORK/zeros.img"
zeros_md5=$(file_md5 "$WORK/zeros.img")
bad "ubd0=$WORK/zeros.img"
expect_error_line ''
expect_eq "zeros.img md5 after the attempt" "$(file_md5 "$WORK/zeros.img")" "$zeros_md5"

# A corrupted superblock (the primary one zeroed).
cp --sparse=always "$IMG" "$WORK/badsb.img"
dd if=/dev/zero of="$WORK/badsb.img" bs=1024 seek=1 count=1 conv=notrunc status=none
badsb_md5=$(file_md5 "$WORK/badsb.img")
bad "ubd0=$WORK/badsb.img"
expect_error_line ''
expect_eq "badsb.img md5 after the attempt" "$(file_md5 "$WORK/badsb.img")" "$badsb_md5"

# An unknown option.
img_md5=$(file_md5 "$IMG")
bad "ubd0=$IMG" --frobnicate
expect_error_line 'frobnicate'
expect_eq "image md5 after --frobnicate" "$(file_md5 "$IMG")" "$img_md5"

# --help and --version: exit 0 without booting.
vm_run --timeout 20 --help
expect_exit 0
expect_log 'ubd'
vm_run --timeout 20 --version
expect_exit 0
expect_log '[0-9]'

# A COW file whose base changed size, then mtime: refused, and nothing written.
base=$WORK/base.img
cp --sparse=always "$IMG" "$base"
host_make_cow "$WORK/c.cow" "$base"
cow_md5=$(file_md5 "$WORK/c.cow")
mtime=$(stat -c %Y "$base")
size=$(stat -c %s "$base")
truncate -s $((size + 4096)) "$base"
touch -d "@$mtime" "$base"
base_md5=$(file_md5 "$base")
bad "ubd0=$WORK/c.cow"
expect_error_line 'size|chang|base|backing'
expect_eq "base md5 after the refused COW" "$(file_md5 "$base")" "$base_md5"
expect_eq "COW md5 after the refused COW" "$(file_md5 "$WORK/c.cow")" "$cow_md5"
truncate -s "$size" "$base"
touch -d "@$((mtime + 10))" "$base"
bad "ubd0=$WORK/c.cow"
expect_error_line 'mtime|time|chang|base|backing'
expect_eq "COW md5 after the refused COW (mtime)" "$(file_md5 "$WORK/c.cow")" "$cow_md5"
# Put the base back as it was: the COW file works again.
touch -d "@$mtime" "$base"
VM_HUNG=0
vm_run "ubd0=$WORK/c.cow" init=/bin/true
expect_exit 0

# A second instance on an image that is in use.
VM_HUNG=0
vm_start first "ubd0=$IMG"
if vm_wait_prompt first; then
	bad "ubd0=$IMG"
	expect_error_line 'in use|lock|busy'
	vm_send first poweroff
fi
vm_stop first
expect_exit 0
host_e2fsck_clean "$IMG"
