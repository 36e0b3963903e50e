# trim: fstrim in the guest (FITRIM on ext4) discards the free blocks, and the ubd driver
# punches holes in the host image file; with the `t` flag (no TRIM) it keeps them.

trim_script='
dd if=/dev/urandom of=/big bs=1M count=32 2>/dev/null
sync
rm /big
sync
fstrim -v /
echo "trim-rc=$?"'

alloc_kib() { du -k "$1" | cut -f1; }

guest_run "$trim_script"
expect_exit 0
expect_value trim-rc 0
host_e2fsck_clean "$IMG"
kib=$(alloc_kib "$IMG")
if [ "$kib" -lt 16384 ]; then ok "trimmed image allocates ${kib} KiB"; else
	fail "after fstrim the image still allocates ${kib} KiB (want < 16 MiB)"
fi

fresh_image "$WORK/notrim.img"
guest_run "$trim_script" "ubd0t=$WORK/notrim.img"
expect_exit 0
kib=$(alloc_kib "$WORK/notrim.img")
if [ "$kib" -ge 32768 ]; then ok "with ubd0t the image keeps ${kib} KiB"; else
	fail "with ubd0t (no TRIM) the image allocates only ${kib} KiB"
fi
host_e2fsck_clean "$WORK/notrim.img"
