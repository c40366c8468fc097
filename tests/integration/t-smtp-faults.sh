#!/bin/bash
# Nothing lost, nothing doubled, under faults: 500 mails from concurrent
# clients while crmgate serve is killed with SIGKILL and restarted, and
# again while PostgreSQL is stopped and started. Every mail answered 250
# is stored exactly once; no mail is stored twice; what was not stored
# was not answered 250.
. "$(dirname "$0")/lib.sh"
SMTP_LOAD="${top_builddir:-.}/tests/bench/smtp_load"

"$CRMGATE" workspace add Acme --domain bench.example >/dev/null
"$CRMGATE" workspace add-address Acme log@in.example.com
# strangers write to this dropbox in this test (the default is users only)
"$CRMGATE" workspace set Acme --dropbox-senders anyone
DBURL=$("$CRMGATE" db url)
PORT=$((20000 + RANDOM % 30000))

serve() {	# serve [ENV=VALUE...]: on $PORT, waits until it answers
    env "$@" "$CRMGATE" --smtp-listen 127.0.0.1:$PORT --dropbox-loop-limit 1000000 serve 2>>"$WORK/serve.log" &
    SERVE_PID=$!
    for _ in $(seq 100); do
        swaks --server 127.0.0.1:$PORT --quit-after EHLO >/dev/null 2>&1 && { sleep 0.3; return 0; }
        sleep 0.05
    done
    return 1
}

check_exactly_once() {	# check_exactly_once TAG ACCEPTED-FILE
    local tag=$1 file=$2 accepted stored_ok twice
    accepted=$(wc -l < "$file")
    stored_ok=$(psql -X -A -t -q "$DBURL" -c "CREATE TEMP TABLE acc (id text)" \
        -c "\\copy acc FROM '$file'" \
        -c "SELECT count(*) FROM acc a WHERE (SELECT count(*) FROM interactions i WHERE i.metadata->>'message_id' = a.id) = 1")
    twice=$(sql "SELECT count(*) FROM (SELECT metadata->>'message_id' FROM interactions WHERE metadata->>'message_id' LIKE 'load-$tag-%' GROUP BY 1 HAVING count(*) > 1) d")
    ok $([ "$accepted" -gt 0 ]; echo $?) "$tag: some of the 500 mails were accepted ($accepted)"
    is "$stored_ok" "$accepted" "$tag: every mail answered 250 is stored exactly once"
    is "$twice" "0" "$tag: no mail is stored twice"
}

# 1. the daemon is killed with SIGKILL mid-run and started again
serve
SMTP_LOAD_ACCEPTED="$WORK/acc1" SMTP_LOAD_PAUSE_MS=40 \
    "$SMTP_LOAD" 127.0.0.1 $PORT 20 500 log@in.example.com kill > "$WORK/load1" &
LOAD=$!
sleep 0.5
kill -KILL $SERVE_PID; wait $SERVE_PID 2>/dev/null
serve
wait $LOAD
diag "$(cat "$WORK/load1" | head -n 1)"
like "$(head -n 1 "$WORK/load1")" "[0-9]+ broken" "kill: the clients saw their connections drop"
check_exactly_once kill "$WORK/acc1"
kill -TERM $SERVE_PID; wait $SERVE_PID

# 2. PostgreSQL stops mid-run and comes back
serve CRMGATE_DATABASE_URL="$DBURL"
SMTP_LOAD_ACCEPTED="$WORK/acc2" SMTP_LOAD_PAUSE_MS=40 \
    "$SMTP_LOAD" 127.0.0.1 $PORT 20 500 log@in.example.com pgrestart > "$WORK/load2" &
LOAD=$!
sleep 0.4
"$CRMGATE" db stop >/dev/null
sleep 0.5
"$CRMGATE" status >/dev/null		# starts the cluster again
wait $LOAD
diag "$(cat "$WORK/load2" | head -n 1)"
like "$(head -n 1 "$WORK/load2")" "accepted, [1-9][0-9]* temporary" \
     "pgrestart: while the database was away the clients got 4xx, not 250"
check_exactly_once pgrestart "$WORK/acc2"
kill -TERM $SERVE_PID; wait $SERVE_PID
is "$?" "0" "the daemon still stops cleanly afterwards"

done_testing
