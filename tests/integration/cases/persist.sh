# persist: what the guest writes and syncs is on the image after poweroff and after a
# host kill -9, readable by the next boot and by the host (debugfs); e2fsck agrees.

guest_run '
echo persist-data-1 > /root/persist.txt
sync
echo "wrote=$(cat /root/persist.txt)"
'
expect_exit 0
expect_value wrote persist-data-1
expect_eq "debugfs cat /root/persist.txt" "$(host_debugfs_cat "$IMG" /root/persist.txt)" persist-data-1
host_e2fsck_clean "$IMG"

guest_run '
echo "read=$(cat /root/persist.txt)"
echo persist-data-2 >> /root/persist.txt
'
expect_exit 0
expect_value read persist-data-1
expect_eq "debugfs cat after append" "$(host_debugfs_cat "$IMG" /root/persist.txt)" "persist-data-1
persist-data-2"
host_e2fsck_clean "$IMG"

# kill -9 after sync: the synced data is there and e2fsck can repair the rest.
vm_start killed "ubd0=$IMG"
vm_send killed "echo killed-data > /root/killed.txt; sync; printf '\\n%s-%s\\n' SYNCED OK"
if vm_wait_for killed '^SYNCED-OK' "$TIMEOUT"; then
	vm_kill killed KILL
fi
vm_stop killed 10
expect_eq "debugfs cat of a synced file after kill -9" \
	"$(host_debugfs_cat "$IMG" /root/killed.txt)" killed-data
e2fsck -fy "$IMG" >"$WORK/e2fsck-repair.log" 2>&1
rc=$?
if [ "$rc" -le 1 ]; then ok "e2fsck -fy after kill -9 (exit $rc)"; else
	fail "e2fsck -fy could not repair the image after kill -9 (exit $rc; $WORK/e2fsck-repair.log)"
fi
host_e2fsck_clean "$IMG"

guest_run 'echo "after-kill=$(cat /root/killed.txt)"'
expect_exit 0
expect_value after-kill killed-data
host_e2fsck_clean "$IMG"
