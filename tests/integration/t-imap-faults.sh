#!/bin/bash
# Connected mailboxes when things go wrong: a mailbox of 5,000 messages
# whose server is stopped in the middle of the first sync and started
# again (every message stored once), and two gateways on one database
# (only the lease holder syncs; the other takes over when it dies).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot.sh"

dovecot_start_or_fail
dovecot_add_user sales@acme.example 'pa55'
printf 'pa55\n' > "$WORK/sales.pw"
"$CRMGATE" workspace add Acme --domain acme.example >/dev/null

listed() { "$CRMGATE" source list | grep -Eq -- "$1"; }
at_least() { [ "$(count interactions)" -ge "$1" ]; }

serve() { local name=$1; shift; serve_sources "$name" --source-lease 3 "$@"; }
trap 'stop_serves; dovecot_stop; cleanup' EXIT

# ---- 5,000 messages, the server stopped mid-sync and restarted --------
N=5000
box="$DOVECOT_DIR/home/sales@acme.example/Maildir/new"
awk -v n=$N -v dir="$box" 'BEGIN {
    for (i = 1; i <= n; i++) {
        f = sprintf("%s/%d.M%dP1.bulk", dir, 1700000000 + i, i)
        printf "From: Customer %d <c%d@customer%d.example>\n", i, i, i % 50 > f
        printf "To: sales@acme.example\n" > f
        printf "Subject: Order %d\n", i > f
        printf "Message-ID: <order-%d@customer.example>\n", i > f
        printf "Date: Mon, 16 Nov 2026 10:%02d:%02d +0000\n\n", (i / 60) % 60, i % 60 > f
        printf "Please confirm order %d. Regards, customer %d.\n", i, i > f
        close(f)
    }
}'
chown -R "$DOVECOT_MAIL_USER:$DOVECOT_MAIL_GROUP" "$DOVECOT_DIR/home"

"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port "$DOVECOT_PORT" \
    --plain-insecure --user sales@acme.example --password-file "$WORK/sales.pw" >/dev/null
serve A --source-poll 1 --batch-size 100
wait_for 60 at_least 1
dovecot_stop
mid=$(count interactions)
diag "stored when the server stopped: $mid of $N"
ok "$([ "$mid" -lt "$N" ]; echo $?)" "the server stopped in the middle of the sync"
wait_for 30 listed "last error at .*connect|last error at .*connection|last error at .*server closed|last error at .*lost"
like "$("$CRMGATE" source list)" "^1 +Acme +imap +error " "source list shows the error"
dovecot_start
wait_for 120 at_least $N
is "$(count interactions)" "$N" "after the restart every message is stored"
is "$(sql "SELECT count(DISTINCT metadata->>'message_id') FROM interactions")" "$N" "  each exactly once"
until_listed 20 "^1 +Acme +imap +idle "
like "$LIST" "^1 +Acme +imap +idle " "  and the source is idle again"
reconnects=$(grep -c "source 1: connected to" "$WORK/A.log")
ok "$([ "$reconnects" -ge 2 ]; echo $?)" "the sync reconnected by itself ($reconnects connections)"
stop_serves

# ---- two gateways, one source ----------------------------------------
serve A --source-poll 1
A=$LAST_SERVE
serve B --source-poll 1
B=$LAST_SERVE
wait_for 20 listed "synced by "
sleep 4		# longer than a lease: the other gateway has tried meanwhile
holder=$(sql "SELECT lease_holder FROM sources WHERE id = 1")
holder_pid=$(echo "$holder" | cut -d: -f2)
ok "$([ "$holder_pid" = "$A" ] || [ "$holder_pid" = "$B" ]; echo $?)" \
    "one of the two gateways holds the lease ($holder)"
if [ "$holder_pid" = "$A" ]; then other=$B; other_log=B; else other=$A; other_log=A; fi
before_other=$(grep -c "source 1: connected to" "$WORK/$other_log.log")
mail "$WORK/while-two.eml" "Zed <zed@customer.example>" sales@acme.example "While two run" \
    "Tue, 24 Nov 2026 09:00:00 +0000"
dovecot_deliver sales@acme.example INBOX "$WORK/while-two.eml"
wait_for 20 at_least $((N + 1))
sleep 2
is "$(count interactions)" "$((N + 1))" "new mail is stored once while two gateways run"
after_other=$(grep -c "source 1: connected to" "$WORK/$other_log.log")
is "$after_other" "$before_other" "the gateway without the lease does not connect"

kill -9 "$holder_pid"
wait "$holder_pid" 2>/dev/null
mail "$WORK/after-death.eml" "Zed <zed@customer.example>" sales@acme.example "After the death" \
    "Tue, 24 Nov 2026 09:10:00 +0000"
dovecot_deliver sales@acme.example INBOX "$WORK/after-death.eml"
wait_for 40 at_least $((N + 2))
is "$(count interactions)" "$((N + 2))" "the other gateway takes over when the lease expires"
new_holder=$(sql "SELECT lease_holder FROM sources WHERE id = 1")
is "$(echo "$new_holder" | cut -d: -f2)" "$other" "  and holds the lease now"
stop_serves

# ---- a server without IDLE is polled ----------------------------------
dovecot_stop
echo "imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE UNSELECT UIDPLUS NAMESPACE" \
    >> "$DOVECOT_CONF"
dovecot_start
serve C --source-poll 2
mail "$WORK/polled.eml" "Zed <zed@customer.example>" sales@acme.example "Found by polling" \
    "Tue, 24 Nov 2026 09:20:00 +0000"
dovecot_deliver sales@acme.example INBOX "$WORK/polled.eml"
wait_for 40 at_least $((N + 3))
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' = 'Found by polling'")" 1 \
    "without IDLE, new mail is found by polling"
like "$(cat "$WORK/C.log")" "no IDLE: polling every 2 s" "  and the log says it polls"
stop_serves

done_testing
