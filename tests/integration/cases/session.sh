# session: the scripted session from the issue, with a check on every step, then a second
# boot that sees what the first one wrote, and host-side checks of the image.

guest_run '
echo "== ls"
ls -la /
echo "== mounts"
cat /proc/mounts
echo "== ps"
ps
echo "== files"
echo hi > /root/f
echo "f=$(cat /root/f)"
mkdir -p /a/b
cp -a /bin /a/b
echo "cp-count=$(ls /a/b/bin | wc -l)/$(ls /bin | wc -l)"
echo "cp-link=$(readlink /a/b/bin/ls)"
cmp /bin/busybox /a/b/bin/busybox && echo cp-data=same
n=$(find / -xdev | wc -l)
echo "find-count=$n"
echo "== dd"
dd if=/dev/urandom of=/x bs=1M count=8 2>&1
echo "x-size=$(stat -c %s /x)"
echo "x-md5=$(md5sum /x | cut -d" " -f1)"
echo "== text tools"
echo "sort=$(printf "pear\napple\nfig\n" | sort | tr "\n" " ")"
echo "sort-n=$(printf "10\n9\n100\n" | sort -n | tr "\n" " ")"
echo "sed=$(echo hello world | sed -e s/world/there/ -e s/l/L/g)"
echo "awk=$(printf "1 2\n3 4\n" | awk "{ s += \$1 * \$2 } END { print s }")"
echo "grep=$(grep -c "^root:" /etc/passwd)"
echo "grep-v=$(printf "a\nb\nc\n" | grep -v b | tr -d "\n")"
echo "== archives"
tar -C / -czf /t.tgz etc bin && echo tar-create=ok
mkdir /u && tar -C /u -xzf /t.tgz && echo tar-extract=ok
diff -r /etc /u/etc && echo tar-etc=same
echo "tar-bin=$(ls /u/bin | wc -l)/$(ls /bin | wc -l)"
gzip -c /x > /x.gz && echo "gz-md5=$(gunzip -c /x.gz | md5sum | cut -d" " -f1)"
echo "== jobs"
sleep 100 &
kill %1
wait
echo jobs=done
'
expect_exit 0
expect_guest_status 0
# ls -la /
expect_output '^drwxrwxrwt .* tmp$'
expect_output '^d[rwx-]{9} .* etc$'
expect_output '^d[rwx-]{9} .* bin$'
# /proc/mounts: the root filesystem read-write, and proc
expect_output '^[^ ]+ / ext[234] rw'
expect_output '^proc /proc proc '
# ps: init is PID 1
expect_output '^ *1 +root +.*init'
expect_value f hi
count=$(out_value cp-count)
expect_eq "files copied by cp -a /bin (copy/original)" "${count%/*}" "${count#*/}"
expect_value cp-link /bin/busybox
expect_value cp-data same
n=$(out_value find-count)
# The example image holds about 300 paths; the copy of /bin adds about 80.
if [ "${n:-0}" -ge 350 ] 2>/dev/null; then ok "find / -xdev counts $n"; else
	fail "find / -xdev | wc -l: want at least 350 (the image and a copy of /bin), got '${n}'"
fi
expect_output '^8\+0 records out'
expect_value x-size 8388608
x_md5=$(out_value x-md5)
expect_value gz-md5 "$x_md5"
expect_value sort 'apple fig pear '
expect_value sort-n '9 10 100 '
expect_value sed 'heLLo there'
expect_value awk 14
expect_value grep 1
expect_value grep-v ac
expect_value tar-create ok
expect_value tar-extract ok
expect_value tar-etc same
count=$(out_value tar-bin)
expect_eq "files in /bin after the tar round trip (copy/original)" "${count%/*}" "${count#*/}"
expect_value jobs 'done'

# The host sees the same data.
expect_eq "md5 of /x read back by debugfs" "$(host_md5 "$IMG" /x)" "$x_md5"
expect_eq "/root/f read back by debugfs" "$(host_debugfs_cat "$IMG" /root/f)" hi
host_e2fsck_clean "$IMG"

# The next boot sees it too.
guest_run '
echo "f=$(cat /root/f)"
echo "x-md5=$(md5sum /x | cut -d" " -f1)"
'
expect_exit 0
expect_value f hi
expect_value x-md5 "$x_md5"
host_e2fsck_clean "$IMG"
