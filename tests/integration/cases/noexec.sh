# noexec: executing files that are not valid programs fails in the guest (the kernel says
# ENOEXEC or EACCES; the shell reports it) and nothing else is harmed; #! scripts run.

guest_run '
printf "garbage\001\002\003\n" > /root/junk
chmod +x /root/junk
/root/junk
echo "junk-rc=$?"
printf "\177ELF\002\001\001\000broken-elf-header\n" > /root/badelf
chmod +x /root/badelf
/root/badelf
echo "badelf-rc=$?"
head -c 64 /bin/busybox > /root/truncated
chmod +x /root/truncated
/root/truncated
echo "truncated-rc=$?"
printf "#!/bin/sh\necho \"script-args:\$#:\$1:\$2\"\nexit 5\n" > /root/script.sh
chmod 755 /root/script.sh
/root/script.sh one two
echo "script-rc=$?"
printf "#!/no/such/interpreter\n" > /root/badinterp
chmod +x /root/badinterp
/root/badinterp
echo "badinterp-rc=$?"
cp /bin/busybox /root/noperm && chmod 644 /root/noperm
/root/noperm true
echo "noperm-rc=$?"
echo still-alive
'
expect_exit 0
expect_guest_status 0
for v in junk-rc badelf-rc truncated-rc badinterp-rc noperm-rc; do
	got=$(out_value "$v")
	case $got in
	"" | 0) fail "$v: want a non-zero status, got '${got:-<none>}'" ;;
	*) ok "$v=$got" ;;
	esac
done
# No execute permission: EACCES, which sh reports as 126.
expect_value noperm-rc 126
expect_value badinterp-rc 127
expect_output '^script-args:2:one:two$'
expect_value script-rc 5
expect_output '^still-alive$'
