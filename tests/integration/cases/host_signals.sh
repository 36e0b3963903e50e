# host_signals: SIGTERM from the host shuts the guest down cleanly: vmlinux exits with
# 128+15, the image is clean and holds what the guest had written.

vm_start t "ubd0=$IMG"
if vm_wait_prompt t; then
	vm_send t "echo term-data > /root/term.txt; printf '\\n%s-%s\\n' TERM READY"
	vm_wait_for t '^TERM-READY' && vm_kill t TERM
fi
vm_stop t
expect_exit 143
host_e2fsck_clean "$IMG"
expect_eq "debugfs cat /root/term.txt" "$(host_debugfs_cat "$IMG" /root/term.txt)" term-data

# The same for a one-shot init.
vm_start h "ubd0=$IMG" init=/bin/sleep 100
sleep 1
vm_kill h HUP
vm_stop h
expect_exit 129
host_e2fsck_clean "$IMG"
