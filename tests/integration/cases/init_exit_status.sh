# init_exit_status: init's exit status becomes vmlinux's exit status (real UML panics).
# init= takes the program's arguments from the following command-line words, each host
# argument one guest argument.

vm_run "ubd0=$IMG" init=/bin/sh -c 'exit 7'
expect_exit 7

vm_run "ubd0=$IMG" init=/bin/false
expect_exit 1

vm_run "ubd0=$IMG" init=/bin/true
expect_exit 0

# Arguments reach init: sh -c SCRIPT ARG0 ARG1 ARG2 -> $0=x, $1=y, $2=z.
vm_run "ubd0=$IMG" init=/bin/sh -c 'echo "init-args:$#:$0:$1:$2"; exit 0' x y z
expect_exit 0
expect_log '^init-args:2:x:y:z$'

# A non-existent init: a clean error exit, not a hang or a crash dump.
vm_run "ubd0=$IMG" init=/no/such/init
expect_exit_nonzero

# The root filesystem was never written (mounted read-only, no remount): still clean.
host_e2fsck_clean "$IMG"
