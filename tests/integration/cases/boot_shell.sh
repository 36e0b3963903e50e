# boot_shell: boot with the normal init, run a command in the console shell, power off.
# Checks: the command's output, a prompt from /etc/profile with the host name from
# /etc/hostname, exit status 0 after poweroff, and a clean filesystem afterwards.

guest_run '
echo hello-from-guest
echo "pid1=$(cat /proc/1/comm 2>/dev/null || echo unknown)"
echo "hostname=$(hostname)"
echo "uname=$(uname -s)"
'
expect_exit 0
expect_guest_status 0
expect_output '^hello-from-guest$'
expect_value hostname vmlinux
expect_value uname Linux
expect_value pid1 init
# The login shell's prompt (PS1='\u@\h:\w\$ ' in /etc/profile).
expect_log 'root@vmlinux:[^ ]*# '
host_e2fsck_clean "$IMG"

# Input typed before the guest has booted is not lost: `printf ... | vmlinux` works.
guest_run --no-wait 'echo "early=$(echo typed-ahead)"'
expect_exit 0
expect_value early typed-ahead
host_e2fsck_clean "$IMG"
