#!/bin/bash
# A connected mailbox with a contact policy (issue 8): synced from a real
# Dovecot, "sent" makes contacts only of the people the owner wrote to;
# strangers' mail is still logged, and role addresses never become people.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot.sh"

dovecot_start_or_fail
trap 'stop_serves; dovecot_stop all; cleanup' EXIT
dovecot_add_user carol@acme.example 'pw-of-carol'
printf 'pw-of-carol\n' > "$WORK/carol.pw"
"$CRMGATE" workspace add Acme --domain acme.example >/dev/null

now=$(date -u -R)
mail "$WORK/in1.eml" "Cold Caller <cold@leads.example>" carol@acme.example "Buy our list" "$now"
mail "$WORK/in2.eml" "Shop Notifications <notifications@shop.example>" carol@acme.example "Your order" "$now"
mail "$WORK/sent1.eml" "Carol <carol@acme.example>" "Dana Buyer <dana@buyer.example>" "Our offer" "$now"
mail "$WORK/in3.eml" "Dana Buyer <dana@buyer.example>" carol@acme.example "Re: Our offer" "$now" "" \
     "Cc: Eli Boss <eli@buyer.example>"
dovecot_deliver carol@acme.example Sent "$WORK/sent1.eml"
dovecot_deliver carol@acme.example INBOX "$WORK/in1.eml" "$WORK/in2.eml" "$WORK/in3.eml"

"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port "$DOVECOT_TLS_PORT" --tls \
    --user carol@acme.example --password-file "$WORK/carol.pw" --ca-file "$DOVECOT_CA" \
    --folders Sent,INBOX --contacts sent >/dev/null 2>&1
is "$?" 0 "source add imap --contacts sent succeeds"
has_count() { [ "$(count interactions)" = "$1" ]; }
serve_sources A --source-lease 4 --source-poll 600
wait_for 30 has_count 4
is "$(count interactions)" 4 "every mail of the mailbox is logged"
is "$(sql "SELECT email FROM contacts ORDER BY email" | tr '\n' ' ')" "dana@buyer.example " \
   "only the person Carol wrote to became a contact"
is "$(sql "SELECT c.email FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE i.metadata->>'subject' = 'Re: Our offer'")" \
   "dana@buyer.example" "her reply is linked to her"
is "$(sql "SELECT count(*) FROM interaction_participants WHERE email IN ('cold@leads.example', 'eli@buyer.example', 'notifications@shop.example') AND contact_id IS NULL")" "3" \
   "strangers stay participants without a contact"
stop_serves
done_testing
