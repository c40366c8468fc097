#!/bin/bash
# The whole daemon under faults at once: one crmgate serve receives SMTP
# mail from 20 clients, syncs a 400-message Dovecot mailbox and a Radicale
# calendar, and runs the embedding worker, while PostgreSQL is killed
# (immediate shutdown) and started again, Dovecot and Radicale drop every
# connection by restarting, and the Voyage API answers 500 to everything
# for a while. Afterwards: every mail answered 250, every mailbox message
# and every event is stored exactly once, and every interaction has its
# vector.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot.sh"
. "$(dirname "$0")/radicale.sh"
. "$(dirname "$0")/embed-lib.sh"
SMTP_LOAD="${top_builddir:-.}/tests/bench/smtp_load"

SERVE_PID=
trap '[ -z "$SERVE_PID" ] || { kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null; }
      dovecot_stop all; radicale_stop; [ -z "$FAKE_PID" ] || kill $FAKE_PID 2>/dev/null; cleanup' EXIT

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
"$CRMGATE" workspace add-address Acme log@in.example.com
# strangers write to this dropbox in this test (the default is users only)
"$CRMGATE" workspace set Acme --dropbox-senders anyone
DBURL=$("$CRMGATE" db url)

# ---- the servers ---------------------------------------------------------
dovecot_start || { ok 1 "dovecot starts"; done_testing; exit 1; }
dovecot_add_user sales@acme.example pw
printf 'pw\n' > "$WORK/imap.pw"
N=400
box="$DOVECOT_DIR/home/sales@acme.example/Maildir/new"
awk -v n=$N -v dir="$box" 'BEGIN {
    for (i = 1; i <= n; i++) {
        f = sprintf("%s/%d.M%dP2.box", dir, 1700000000 + i, i)
        printf "From: Client %d <c%d@client%d.example>\nTo: sales@acme.example\n", i, i, i % 20 > f
        printf "Subject: Mailbox %d\nMessage-ID: <box-%d@client.example>\n", i, i > f
        printf "Date: Mon, 16 Nov 2026 11:%02d:%02d +0000\n\nAbout order %d.\n", (i / 60) % 60, i % 60, i > f
        close(f)
    }
}'
chown -R "$DOVECOT_MAIL_USER:$DOVECOT_MAIL_GROUP" "$DOVECOT_DIR/home"

radicale_start "alice:calpw" || { ok 1 "radicale starts"; done_testing; exit 1; }
printf 'calpw\n' > "$WORK/cal.pw"
curl -s -u alice:calpw -X MKCALENDAR "$RADICALE_URL/alice/work/" -H 'Content-Type: application/xml' \
    --data '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set></C:mkcalendar>' >/dev/null
for i in 1 2 3 4 5; do
    start=$(date -u -d "$i days" +%Y%m%dT100000Z)
    printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:fault-%d@acme.example\r\nDTSTAMP:20261120T000000Z\r\nDTSTART:%s\r\nDURATION:PT1H\r\nSUMMARY:Review %d\r\nORGANIZER:mailto:alice@acme.example\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:buyer%d@customer.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' \
        $i "$start" $i $i > "$WORK/ev$i.ics"
    curl -s -u alice:calpw -T "$WORK/ev$i.ics" -H 'Content-Type: text/calendar' \
        "$RADICALE_URL/alice/work/ev$i.ics" >/dev/null
done

start_fake
fake_control '{"faults": [{"kind": "500", "count": 100000}]}'

"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port "$DOVECOT_PORT" --plain-insecure \
    --user sales@acme.example --password-file "$WORK/imap.pw" >/dev/null 2>&1
"$CRMGATE" source add caldav --workspace Acme --url "$RADICALE_URL/" --user alice \
    --password-file "$WORK/cal.pw" >/dev/null 2>&1

# ---- the daemon, and everything going wrong ------------------------------
PORT=$((20000 + RANDOM % 30000))
CRMGATE_DATABASE_URL="$DBURL" "$CRMGATE" --smtp-listen 127.0.0.1:$PORT --dropbox-loop-limit 1000000 --source-poll 1 \
    --source-backoff-max 2 --voyage-base-url "$FAKE_URL" --embed-backoff-ms 50 --embed-poll 1 \
    --embed-lease 5 serve 2>>"$WORK/serve.log" &
SERVE_PID=$!
wait_for 20 swaks --server 127.0.0.1:$PORT --quit-after EHLO >/dev/null 2>&1
# the faults start a second into the load: first see a mail through, so
# that a slow start (routes, first connections) is not taken for them
probe() { swaks --server 127.0.0.1:$PORT --from probe@client.example --to log@in.example.com \
                --header "Subject: probe" 2>&1 | grep -q '^<- *250 .*queued as'; }
wait_for 30 probe
ok $? "the daemon logs a first mail before the faults begin"
SMTP_LOAD_ACCEPTED="$WORK/accepted" SMTP_LOAD_PAUSE_MS=150 \
    "$SMTP_LOAD" 127.0.0.1 $PORT 20 600 log@in.example.com storm > "$WORK/load" &
LOAD=$!
sleep 1
# PostgreSQL killed: immediate shutdown, crash recovery on the way back
pg_pid=$(head -n 1 "$CRMGATE_HOME/pg/data/postmaster.pid")
kill -QUIT "$pg_pid"
dovecot_stop; radicale_stop
sleep 2
dovecot_start
radicale_start_again() {	# same port, same collections
    radicale --config "$RAD_DIR/config" >>"$RAD_DIR/log" 2>&1 &
    RAD_PID=$!
}
radicale_start_again
"$CRMGATE" status >/dev/null		# starts the cluster again
wait $LOAD
diag "$(head -n 1 "$WORK/load")"
# on a busy machine the storm can end before PostgreSQL is back: more
# mail once it is, which the daemon must take without being restarted
wait_for 60 probe
ok $? "the daemon logs mail again once PostgreSQL is back"
SMTP_LOAD_ACCEPTED="$WORK/accepted.after" \
    "$SMTP_LOAD" 127.0.0.1 $PORT 5 40 log@in.example.com after > "$WORK/load.after"
diag "after the restart: $(head -n 1 "$WORK/load.after")"
cat "$WORK/accepted.after" >> "$WORK/accepted"

# ---- afterwards -----------------------------------------------------------
imap_done() { [ "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' LIKE 'Mailbox %'")" = "$N" ]; }
cal_done() { [ "$(sql "SELECT count(*) FROM interactions WHERE type = 'meeting'")" = 5 ]; }
wait_for 120 imap_done
wait_for 60 cal_done
accepted=$(wc -l < "$WORK/accepted")
like "$(head -n 1 "$WORK/load")" "accepted, [1-9][0-9]* temporary" \
    "while PostgreSQL was down, SMTP clients got 4xx, not 250"
ok "$([ "$(wc -l < "$WORK/accepted.after")" -eq 40 ]; echo $?)" \
    "SMTP clients got 250 for all 40 mails sent after the restart ($accepted of 640 in all)"
[ "$accepted" -gt 0 ] || diag "$(grep -v 'outcome=2.0.0' "$WORK/serve.log" | tail -n 20)"
stored_once=$(psql -X -A -t -q "$DBURL" -c "CREATE TEMP TABLE acc (id text)" -c "\\copy acc FROM '$WORK/accepted'" \
    -c "SELECT count(*) FROM acc a WHERE (SELECT count(*) FROM interactions i WHERE i.metadata->>'message_id' = a.id) = 1")
is "$stored_once" "$accepted" "every mail answered 250 is stored exactly once"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' LIKE 'Mailbox %'")" "$N" \
    "all $N mailbox messages are stored"
is "$(sql "SELECT count(*) FROM (SELECT metadata->>'message_id' FROM interactions WHERE metadata->>'message_id' IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d")" 0 \
    "no mail is stored twice"
is "$(sql "SELECT count(*) FROM interactions WHERE type = 'meeting'")" 5 "every calendar event is stored, once"
api_tried() { [ "$(fake_stat requests)" -ge 3 ]; }
wait_for 120 api_tried
ok "$([ "$(fake_stat requests)" -ge 3 ]; echo $?)" "the embedding worker kept meeting the failing API ($(fake_stat requests) requests)"
is "$(sql "SELECT count(*) FROM embedding_jobs WHERE status = 'failed'")" 0 "  and failed no job for it"
fake_reset		# the API is back
all_embedded() { [ "$(sql "SELECT count(*) FROM interactions WHERE embedding IS NULL")" = 0 ]; }
wait_for 120 all_embedded
is "$(sql "SELECT count(*) FROM interactions WHERE embedding IS NULL")" 0 \
    "once the API is back, every interaction gets its vector"
is "$(sql "SELECT count(*) FROM embedding_jobs WHERE status <> 'done'")" 0 "  and every job is done"
kill -TERM $SERVE_PID; wait $SERVE_PID
is "$?" 0 "the daemon stops cleanly afterwards"
SERVE_PID=
done_testing
