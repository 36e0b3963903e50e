# memory: with mem=64M, a guest that asks for more memory than that gets ENOMEM (the
# allocation fails in the guest), keeps running, and powers off normally.

guest_run '
dd if=/dev/zero of=/dev/null bs=100M count=1
echo "dd-100M=$?"
echo "alive=$(echo yes)"
dd if=/dev/zero of=/dev/null bs=1M count=4
echo "dd-1M=$?"
echo "memtotal-kb=$(awk "/^MemTotal:/ { print \$2 }" /proc/meminfo)"
echo "still=$(head -c 100000 /dev/zero | wc -c)"
' mem=64M
expect_exit 0
expect_guest_status 0
got=$(out_value dd-100M)
case $got in
"" | 0) fail "dd bs=100M with mem=64M: want a non-zero status (ENOMEM), got '${got:-<none>}'" ;;
*) ok "dd bs=100M failed with $got" ;;
esac
expect_value alive yes
expect_value dd-1M 0
kb=$(out_value memtotal-kb)
if [ -n "$kb" ] && [ "$kb" -gt 0 ] && [ "$kb" -le 65536 ] 2>/dev/null; then
	ok "MemTotal ${kb} kB"
else
	fail "/proc/meminfo MemTotal with mem=64M: want 1..65536 kB, got '${kb:-<none>}'"
fi
expect_value still 100000
host_e2fsck_clean "$IMG"
