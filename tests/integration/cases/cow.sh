# cow: copy-on-write files in UML's format. The base image is never written; a COW file
# alone reopens its base; several instances share one base at once; a kill -9 leaves
# the base untouched.

base=$IMG
base_md5=$(file_md5 "$base")
cow=$WORK/cow.img
UBD0=$cow,$base

guest_run '
echo cow-data > /root/cow.txt
sync
echo "wrote=$(cat /root/cow.txt)"
'
expect_exit 0
expect_value wrote cow-data
expect_eq "base md5 after a COW boot" "$(file_md5 "$base")" "$base_md5"
if [ -f "$cow" ]; then
	ok "COW file created"
	expect_eq "COW magic" "$(cow_header_field "$cow" 0 4)" $((0x4F4F4F4D))
	expect_eq "COW version" "$(cow_header_field "$cow" 4 4)" 3
	expect_eq "COW backing mtime" "$(cow_header_field "$cow" 8 4)" "$(stat -c %Y "$base")"
	expect_eq "COW backing size" "$(cow_header_field "$cow" 12 8)" "$(stat -c %s "$base")"
	expect_eq "COW sector size" "$(cow_header_field "$cow" 20 4)" 512
	expect_eq "COW alignment" "$(cow_header_field "$cow" 24 4)" 4096
	expect_eq "COW backing file" "$(realpath "$(cow_backing_path "$cow")")" "$(realpath "$base")"
else
	fail "ubd0=$UBD0 did not create $cow"
fi
check "base still has no /root/cow.txt" eval '! host_exists "$base" /root/cow.txt'
host_e2fsck_clean "$base"

# The COW file alone: its header names the base.
UBD0=$cow
guest_run 'echo "read=$(cat /root/cow.txt)"'
expect_exit 0
expect_value read cow-data
expect_eq "base md5 after reopening the COW file" "$(file_md5 "$base")" "$base_md5"

# A hand-made COW file (as UML writes it) works too.
host_make_cow "$WORK/made.cow" "$base"
guest_run 'echo "made-cow=$(cat /etc/hostname)"; echo made > /root/made.txt' "ubd0=$WORK/made.cow"
expect_exit 0
expect_value made-cow vmlinux

# Two instances on one base at once, each with its own COW file, isolated.
vm_start a "ubd0=$WORK/a.cow,$base"
if vm_wait_prompt a; then
	vm_send a "echo only-in-a > /root/a.txt; sync; printf '\\n%s-%s\\n' A READY"
	vm_wait_for a '^A-READY'
fi
guest_run '
echo "b-sees-a=$(cat /root/a.txt 2>/dev/null || echo no)"
echo "b-sees-cow=$(cat /root/cow.txt 2>/dev/null || echo no)"
echo only-in-b > /root/b.txt
' "ubd0=$WORK/b.cow,$base"
expect_exit 0
expect_value b-sees-a no
expect_value b-sees-cow no
vm_send a "printf '\\n%s=%s\\n' a-sees-b \$(cat /root/b.txt 2>/dev/null || echo no); poweroff"
vm_stop a
expect_exit 0
expect_log '^a-sees-b=no'
expect_eq "base md5 after two instances" "$(file_md5 "$base")" "$base_md5"

# kill -9 of an instance leaves the base untouched and the COW file reusable.
vm_start k "ubd0=$WORK/k.cow,$base"
if vm_wait_prompt k; then
	vm_send k "dd if=/dev/urandom of=/k bs=1M count=4 2>/dev/null; sync; printf '\\n%s-%s\\n' K WROTE"
	vm_wait_for k '^K-WROTE' && vm_kill k KILL
fi
vm_stop k 10
expect_eq "base md5 after kill -9" "$(file_md5 "$base")" "$base_md5"
host_e2fsck_clean "$base"
guest_run 'echo "k-size=$(stat -c %s /k)"' "ubd0=$WORK/k.cow"
expect_exit 0
expect_value k-size 4194304
expect_eq "base md5 at the end" "$(file_md5 "$base")" "$base_md5"
