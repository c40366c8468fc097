#!/bin/bash
# The dropbox loop breaker: a sender storing more than dropbox_loop_limit
# mails within dropbox_loop_window seconds in a workspace is throttled;
# the excess is accepted (250) but not stored, and the log says why.
# Duplicates do not count, other senders are not affected, the window
# slides, and two gateways on one database count together.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
for u in alice bob carol dave; do
    "$CRMGATE" user add --workspace Acme --email $u@acme.example >/dev/null
done
"$CRMGATE" workspace add-address Acme log+acme@in.example.com
DBURL=$("$CRMGATE" db url)

stored_from() { sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' LIKE '%@$1'"; }
send() {	# send SENDER ID: one distinct mail
    smtp --from $1@acme.example --to log+acme@in.example.com \
         --header "From: $1@acme.example" --header "To: John <john@megacorp.example>" \
         --header "Message-Id: <$2@$1.test>" --body "mail $2"
}

printf 'dropbox_loop_limit = 5\n' > "$WORK/crmgate.conf"
start_smtp_serve -c "$WORK/crmgate.conf"
ok $? "crmgate serve starts with dropbox_loop_limit = 5"

answers=
send alice m1 >/dev/null
send alice m1 >/dev/null	# a duplicate: not counted
for i in 2 3 4 5 6 7 8; do
    answers="$answers$(answer "$(send alice m$i)" | cut -c1-3) "
done
is "$answers" "250 250 250 250 250 250 250 " "every mail of the flood is accepted with 250"
is "$(stored_from alice.test)" "5" "8 distinct mails from one sender: 5 stored"
is "$(grep -c 'reason=loop breaker: alice@acme.example sent [0-9]* mails to the dropbox within 120 minutes (limit 5)' "$WORK/serve.log")" "3" \
   "3 skipped, each logged with the loop breaker's reason"
like "$(grep 'loop breaker' "$WORK/serve.log" | head -n 1)" "smtp: [0-9A-F]+: workspace=Acme from=<alice@acme.example> .*reason=loop breaker: alice@acme.example sent 6 mails" \
     "the log line names the queue id, the workspace and the count"
is "$(sql "SELECT string_agg(metadata->>'message_id', ',' ORDER BY metadata->>'message_id') FROM interactions WHERE metadata->>'message_id' LIKE '%@alice.test'")" \
   "m1@alice.test,m2@alice.test,m3@alice.test,m4@alice.test,m5@alice.test" "the first five are the ones kept (the duplicate did not count)"
like "$(answer "$(send bob b1)")" "^250 " "another sender is not affected"
is "$(stored_from bob.test)" "1" "and stored"
is "$(sql "SELECT count(*) FROM dropbox_arrivals")" "6" "what was stored is what is counted"
is "$(sql "SET LOCAL role crmgate_tenant; SET LOCAL crmgate.workspace_id = '00000000-0000-0000-0000-000000000000'; SELECT count(*) FROM dropbox_arrivals")" \
   "0" "row-level security hides a workspace's arrivals from another"
is "$(sql "SET LOCAL role crmgate_tenant; SET LOCAL crmgate.workspace_id = '$(ws_id Acme)'; SELECT count(*) FROM dropbox_arrivals")" \
   "6" "and shows them to their own"
kill $SERVE_PID; wait $SERVE_PID

# the window slides: after it, the sender is counted afresh
start_smtp_serve --dropbox-loop-limit 2 --dropbox-loop-window 3
send carol c1 >/dev/null; send carol c2 >/dev/null; send carol c3 >/dev/null
is "$(stored_from carol.test)" "2" "limit 2: the third mail within 3 s is not stored"
sleep 3.5
send carol c4 >/dev/null
is "$(stored_from carol.test)" "3" "once the window has passed the sender's mail is stored again"
like "$(grep 'loop breaker: carol' "$WORK/serve.log")" "within 3 seconds \(limit 2\)" "a window of seconds is said in seconds"
grep -q 'loop breaker: carol' "$WORK/serve.log" || diag "$(grep -i 'carol' "$WORK/serve.log" | tail -n 8)"
is "$(sql "SELECT count(*) FROM dropbox_arrivals WHERE sender <> 'carol@acme.example'")" "0" \
   "arrivals older than the window are pruned"
kill $SERVE_PID; wait $SERVE_PID

# two gateways on one database count one sender together
start_smtp_serve --dropbox-loop-limit 5
P1=$SMTP_PORT; PID1=$SERVE_PID
start_smtp_serve --dropbox-loop-limit 5
P2=$SMTP_PORT; PID2=$SERVE_PID
for i in $(seq 1 6); do
    SMTP_PORT=$P1 send dave d1-$i >/dev/null &
    SMTP_PORT=$P2 send dave d2-$i >/dev/null &
done
answered() { [ "$(grep -c 'from=<dave@acme.example>' "$WORK/serve.log")" -ge 12 ]; }
wait_for 20 answered
ok $? "12 mails sent at once through two gateways are all answered"
is "$(stored_from dave.test)" "5" "and exactly 5 are stored"
kill $PID1 $PID2; wait $PID1 $PID2

done_testing
