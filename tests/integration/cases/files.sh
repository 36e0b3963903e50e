# files: rename, unlink, hard link, symlink, chmod, utimes, a large directory, a sparse
# file, truncate; checked in the guest and, after poweroff, from the host with debugfs.

guest_run '
mkdir /d
echo one > /d/a
mv /d/a /d/b
echo gone > /d/c
rm /d/c
ln /d/b /d/hard
ln -s b /d/sym
ln -s /nonexistent /d/dangling
chmod 0640 /d/b
touch -d "2001-02-03 04:05:06" /d/b
echo new > /d/new && mv /d/new /d/replaced && echo old > /d/target && mv /d/replaced /d/target
mkdir -p /d/sub/deeper && mv /d/sub /d/moved && rmdir /d/moved/deeper
echo "b=$(cat /d/b) hard=$(cat /d/hard) sym=$(cat /d/sym) target=$(cat /d/target)"
echo "links=$(stat -c %h /d/b)"
[ "$(stat -c %i /d/b)" = "$(stat -c %i /d/hard)" ] && echo same-inode=yes
echo "readlink=$(readlink /d/sym)"
echo "mode=$(stat -c %a /d/b)"
[ -e /d/a ] || [ -e /d/c ] || echo unlinked=yes
[ ! -e /d/dangling ] && [ -L /d/dangling ] && echo dangling=yes
echo "mtime=$(stat -c %Y /d/b)"
mkdir /big
i=0
while [ $i -lt 2000 ]; do echo $i > /big/f$i; i=$((i + 1)); done
echo "big=$(ls /big | wc -l)"
echo "big-1999=$(cat /big/f1999)"
rm /big/f1000 /big/f1001
echo "big-after-rm=$(ls /big | wc -l)"
dd if=/dev/urandom of=/sparse bs=4096 count=1 seek=25000 2>/dev/null
echo "sparse-size=$(stat -c %s /sparse)"
echo "sparse-kb=$(du -k /sparse | cut -f1)"
echo "sparse-hole=$(head -c 4096 /sparse | tr -d "\000" | wc -c)"
printf "0123456789" > /trunc && truncate -s 4 /trunc && echo "trunc=$(cat /trunc)"
truncate -s 100000 /trunc && echo "trunc-grow=$(stat -c %s /trunc)"
'
expect_exit 0
expect_guest_status 0
expect_output '^b=one hard=one sym=one target=new$'
expect_value links 2
expect_value same-inode yes
expect_value readlink b
expect_value mode 640
expect_value unlinked yes
expect_value dangling yes
expect_value mtime "$(date -u -d '2001-02-03 04:05:06' +%s)"
expect_value big 2000
expect_value big-1999 1999
expect_value big-after-rm 1998
expect_value sparse-size 102404096
expect_value sparse-hole 0
kb=$(out_value sparse-kb)
if [ "${kb:-999999}" -lt 1000 ] 2>/dev/null; then ok "sparse file uses ${kb}K"; else
	fail "sparse file: want under 1000K allocated for a 100M file with one block, got '${kb}'K"
fi
expect_value trunc 0123
expect_value trunc-grow 100000

# From the host.
expect_eq "debugfs cat /d/b" "$(host_debugfs_cat "$IMG" /d/b)" one
expect_eq "debugfs cat /d/target" "$(host_debugfs_cat "$IMG" /d/target)" new
check "/d/a is gone (rename)" eval '! host_exists "$IMG" /d/a'
check "/d/c is gone (unlink)" eval '! host_exists "$IMG" /d/c'
check "/d/new and /d/replaced are gone" eval '! host_exists "$IMG" /d/new && ! host_exists "$IMG" /d/replaced'
check "/d/sub was renamed to /d/moved" eval '! host_exists "$IMG" /d/sub && host_exists "$IMG" /d/moved'
check "/d/moved/deeper was removed" eval '! host_exists "$IMG" /d/moved/deeper'
expect_eq "links of /d/b" "$(host_stat_field "$IMG" /d/b 'Links: \([0-9]*\)')" 2
expect_eq "inode of /d/hard" "$(host_stat_field "$IMG" /d/hard 'Inode: \([0-9]*\)')" \
	"$(host_stat_field "$IMG" /d/b 'Inode: \([0-9]*\)')"
expect_eq "mode of /d/b" "$(host_stat_field "$IMG" /d/b 'Mode: *\([0-7]*\)')" 0640
expect_eq "type of /d/sym" "$(host_stat_field "$IMG" /d/sym 'Type: \([a-z]*\)')" symlink
expect_eq "target of /d/sym" "$(host_stat_field "$IMG" /d/sym 'link dest: "\([^"]*\)"')" b
expect_eq "target of /d/dangling" "$(host_stat_field "$IMG" /d/dangling 'link dest: "\([^"]*\)"')" /nonexistent
expect_eq "mtime of /d/b" "$(host_stat_field "$IMG" /d/b 'mtime: 0x\([0-9a-f]*\)')" \
	"$(printf '%x' "$(date -u -d '2001-02-03 04:05:06' +%s)")"
expect_eq "entries in /big" \
	"$(host_debugfs "$IMG" 'ls -l /big' | grep -cE ' f[0-9]+ *$')" 1998
expect_eq "debugfs cat /big/f1234" "$(host_debugfs_cat "$IMG" /big/f1234)" 1234
check "/big/f1000 is gone" eval '! host_exists "$IMG" /big/f1000'
expect_eq "size of /sparse" "$(host_stat_field "$IMG" /sparse 'Size: \([0-9]*\)')" 102404096
blocks=$(host_stat_field "$IMG" /sparse 'Blockcount: \([0-9]*\)')
if [ "${blocks:-999999}" -lt 2000 ] 2>/dev/null; then ok "/sparse has $blocks sectors"; else
	fail "/sparse: want under 2000 512-byte sectors allocated, got '$blocks'"
fi
expect_eq "debugfs cat /trunc | head -c 4" "$(host_debugfs_cat "$IMG" /trunc | head -c 4)" 0123
host_e2fsck_clean "$IMG"
