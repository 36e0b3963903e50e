# signals_jobs: background jobs, kill, wait, traps, exit statuses of killed children,
# SIGPIPE, stop/continue, timeout.

guest_run '
sleep 100 &
kill %1
wait
echo "wait-all=$?"
sleep 100 &
pid=$!
kill $pid
wait $pid
echo "killed-term=$?"
sleep 100 &
pid=$!
kill -9 $pid
wait $pid
echo "killed-kill=$?"
trap "echo caught-usr1" USR1
kill -USR1 $$
echo after-trap
trap - USR1
sh -c "kill -TERM \$\$"
echo "self-term=$?"
sh -c "exit 3"
echo "exit-3=$?"
sh -c "trap \"echo exit-trap-ran\" EXIT; exit 0"
echo "pipe=$(yes | head -n 3 | wc -l)"
sleep 1 &
pid=$!
kill -STOP $pid
kill -CONT $pid
wait $pid
echo "stop-cont=$?"
timeout 1 sleep 10
echo "timeout=$?"
kill -0 $$ && echo self-alive=yes
(sleep 100; echo not-reached) &
pid=$!
# Wait until the child of the subshell has become sleep (killall matches names: before its
# exec it is still sh), then kill the subshell: its child lives on, as in Linux.
i=0; while [ $i -lt 40 ] && ! ps | grep -q "[s]leep 100"; do sleep 0.05; i=$((i+1)); done
kill $pid
wait $pid
echo "subshell=$?"
killall sleep 2>/dev/null
i=0; while [ $i -lt 40 ] && ps | grep -q "[s]leep 100"; do sleep 0.05; i=$((i+1)); done
echo "stray=$(ps | grep -c "[s]leep 100")"
'
expect_exit 0
expect_guest_status 0
expect_value wait-all 0
expect_value killed-term 143
expect_value killed-kill 137
expect_output '^caught-usr1$'
expect_output '^after-trap$'
expect_value self-term 143
expect_value exit-3 3
expect_output '^exit-trap-ran$'
expect_value pipe 3
expect_value stop-cont 0
expect_value timeout 143
expect_value self-alive yes
expect_no_output '^not-reached$'
expect_value subshell 143
expect_value stray 0
