#!/bin/bash
# Connected mailboxes against a real Dovecot: source add/list/remove, the
# first sync's --since window, Sent mail as outbound, new mail through
# IDLE, a UIDVALIDITY reset without duplicates, a refused message that
# does not stop the sync, certificate and password failures shown in
# source list, and secrets that never reach the database or the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot.sh"

dovecot_enable_oauth2 't0ken-for-alice' alice@acme.example
dovecot_start_or_fail
dovecot_add_user alice@acme.example 'c0rrect horse'
printf 'c0rrect horse\n' > "$WORK/alice.pw"
printf 'wrong\n' > "$WORK/bad.pw"

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null

listed() { "$CRMGATE" source list | grep -Eq -- "$1"; }
inbox_validity() { sql "SELECT state->>'uidvalidity' FROM source_cursors WHERE folder = 'INBOX'"; }
stored_subjects() { sql "SELECT metadata->>'subject' FROM interactions ORDER BY 1" | tr '\n' ',' ; }
has_count() { [ "$(count interactions)" = "$1" ]; }

serve() { local name=$1; shift; serve_sources "$name" --source-lease 4 "$@"; }
trap 'stop_serves; dovecot_stop all; cleanup' EXIT

# ---- source add, list, remove -----------------------------------------
out=$("$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --user alice@acme.example \
      --password-file "$WORK/missing.pw" 2>&1)
is "$?" 2 "a missing password file is a usage error"
like "$out" "missing.pw" "  and the error names the file"
"$CRMGATE" source add imap --workspace Nope --host 127.0.0.1 --user a@b.example \
    --password-file "$WORK/alice.pw" >/dev/null 2>&1
is "$?" 2 "an unknown workspace is refused"
"$CRMGATE" source add imap --workspace Acme --host h --user u --password-file "$WORK/alice.pw" \
    --oauth2-token-file "$WORK/alice.pw" >/dev/null 2>&1
is "$?" 2 "a password and a token at once is a usage error"

# ---- first sync with a --since window ----------------------------------
mail "$WORK/old1.eml" "Olga <olga@oldco.example>" alice@acme.example "Old news one" \
    "Tue, 07 Jan 2020 10:00:00 +0000"
mail "$WORK/old2.eml" "Olga <olga@oldco.example>" alice@acme.example "Old news two" \
    "Wed, 08 Jan 2020 10:00:00 +0000"
mail "$WORK/new1.eml" "Bob Buyer <bob@customer.example>" alice@acme.example "Pricing question" \
    "Mon, 23 Nov 2026 10:00:00 +0000"
mail "$WORK/new2.eml" "Bob Buyer <bob@customer.example>" alice@acme.example "Follow-up" \
    "Mon, 23 Nov 2026 11:00:00 +0000"
mail "$WORK/sent1.eml" "Alice Archer <alice@acme.example>" "Bob Buyer <bob@customer.example>" \
    "Re: Pricing question" "Mon, 23 Nov 2026 12:00:00 +0000"
dovecot_deliver_dated alice@acme.example INBOX 2020-01-08 "$WORK/old1.eml" "$WORK/old2.eml"
dovecot_deliver alice@acme.example INBOX "$WORK/new1.eml" "$WORK/new2.eml"
dovecot_deliver alice@acme.example Sent "$WORK/sent1.eml"

since=$(date -u -d '30 days ago' +%F)
id=$("$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port "$DOVECOT_TLS_PORT" --tls \
     --user alice@acme.example --password-file "$WORK/alice.pw" --ca-file "$DOVECOT_CA" \
     --folders INBOX,Sent --since "$since" 2>"$WORK/add.err")
is "$?" 0 "source add imap succeeds"
like "$(cat "$WORK/add.err")" "alice@acme.example added as a user" \
    "the mailbox's owner becomes a user of the workspace"
list=$("$CRMGATE" source list)
like "$list" "^1 +Acme +imap +new +never" "source list shows the new source, never synced"
is "$(sql "SELECT count(*) FROM sources WHERE settings::text LIKE '%c0rrect%'")" 0 \
    "the password is not stored, only its file's path"

serve A --source-poll 600
wait_for 30 has_count 3
is "$(stored_subjects)" "Follow-up,Pricing question,Re: Pricing question," \
    "the first sync takes the mail since --since, from INBOX and Sent"
is "$(sql "SELECT metadata->>'direction' FROM interactions WHERE metadata->>'subject' = 'Re: Pricing question'")" \
    outbound "mail in Sent from the owner is outbound"
is "$(sql "SELECT u.email FROM interactions i JOIN users u ON u.id = i.user_id WHERE metadata->>'subject' = 'Re: Pricing question'")" \
    alice@acme.example "  and the owner is its user"
is "$(sql "SELECT c.email FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE metadata->>'subject' = 'Pricing question'")" \
    bob@customer.example "the sender of inbox mail is the contact"
is "$(sql "SELECT DISTINCT metadata->>'source' FROM interactions")" imap "interactions record their source"
like "$(sql "SELECT metadata->>'source_ref' FROM interactions WHERE metadata->>'subject' = 'Follow-up'")" \
    "^imap://alice%40acme.example@127.0.0.1:$DOVECOT_TLS_PORT/INBOX;UID=[0-9]+\$" \
    "  and the message's IMAP URL (RFC 5092)"
wait_for 10 listed '^1 .* idle '

list=$("$CRMGATE" source list)
like "$list" "^1 +Acme +imap +idle +[0-9-]+ [0-9:]+ +3 +0 +0 +0" \
    "source list: idle, last sync time, 3 stored"
like "$list" "synced by " "source list shows who holds the lease"
is "$(sql "SELECT state->>'uidvalidity' <> '' FROM source_cursors WHERE folder = 'INBOX'")" t \
    "the INBOX cursor keeps its UIDVALIDITY"

# ---- new mail arrives through IDLE (polling is 10 minutes away) --------
mail "$WORK/idle.eml" "Carol <carol@other.example>" alice@acme.example "Arrived while idle" \
    "Tue, 24 Nov 2026 09:00:00 +0000"
dovecot_deliver alice@acme.example INBOX "$WORK/idle.eml"
wait_for 20 has_count 4
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' = 'Arrived while idle'")" 1 \
    "new mail reaches the database through IDLE"

# ---- a message the sync cannot log is recorded, and the sync goes on ---
stop_serves
{
    echo "From: Big <big@bulk.example>"; echo "To: alice@acme.example"
    echo "Subject: Huge"; echo "Message-ID: <huge@bulk.example>"
    echo "Date: Tue, 24 Nov 2026 09:30:00 +0000"; echo
    head -c 300000 /dev/zero | tr '\0' 'x' | fold -w 76
} > "$WORK/huge.eml"
mail "$WORK/after.eml" "Dan <dan@customer.example>" alice@acme.example "After the huge one" \
    "Tue, 24 Nov 2026 09:40:00 +0000"
dovecot_deliver alice@acme.example INBOX "$WORK/huge.eml"
dovecot_deliver alice@acme.example INBOX "$WORK/after.eml"
serve A --source-poll 600 --max-message-size 100000
wait_for 30 has_count 5
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' = 'After the huge one'")" 1 \
    "the mail after a refused one is stored"
failure=$(sql "SELECT folder || ' ' || ref || ': ' || reason FROM source_failures")
like "$failure" "^INBOX imap://[^ ]*/INBOX;UID=[0-9]+: message of [0-9]+ bytes exceeds max_message_size" \
    "the refused message is recorded with its UID and reason"
wait_for 10 listed '^1 .* 1 +alice'
like "$("$CRMGATE" source list)" "^1 +Acme +imap +idle .* +1 +alice" "source list counts it failed"

# ---- UIDVALIDITY reset: the folder is synced again, nothing doubled ----
before=$(count interactions)
old_validity=$(inbox_validity)
dovecot_recreate alice@acme.example INBOX
validity_changed() { [ "$(inbox_validity)" != "$old_validity" ]; }
wait_for 40 validity_changed
sleep 1		# the re-sync's last chunk
new_validity=$(inbox_validity)
ok "$([ -n "$new_validity" ] && [ "$new_validity" != "$old_validity" ]; echo $?)" \
    "the new UIDVALIDITY is taken ($old_validity -> $new_validity)"
is "$(count interactions)" "$before" "the re-sync stores nothing twice"
like "$(cat "$WORK/A.log")" "UIDVALIDITY changed from $old_validity" "the log says why it re-synced"
stop_serves

# ---- failures are shown, retried, and never leak the secret ------------
"$CRMGATE" source remove 1
is "$?" 0 "source remove"
is "$(count sources)" 0 "  the source is gone"
"$CRMGATE" source remove 1 >/dev/null 2>&1
is "$?" 1 "removing it again fails"

"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port "$DOVECOT_TLS_PORT" --tls \
    --user alice@acme.example --password-file "$WORK/alice.pw" >/dev/null 2>&1
"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port "$DOVECOT_PORT" --starttls \
    --user alice@acme.example --password-file "$WORK/bad.pw" --ca-file "$DOVECOT_CA" >/dev/null 2>&1
"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port "$DOVECOT_PORT" --starttls \
    --user alice@acme.example --password-file "$WORK/alice.pw" --ca-file "$DOVECOT_CA" >/dev/null 2>&1
printf 't0ken-for-alice\n' > "$WORK/alice.token"
printf 'expired-token\n' > "$WORK/stale.token"
"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port "$DOVECOT_TLS_PORT" \
    --user alice@acme.example --oauth2-token-file "$WORK/alice.token" --ca-file "$DOVECOT_CA" \
    >/dev/null 2>&1
"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port "$DOVECOT_TLS_PORT" \
    --user alice@acme.example --oauth2-token-file "$WORK/stale.token" --ca-file "$DOVECOT_CA" \
    >/dev/null 2>&1
serve B --source-poll 600
wait_for 30 listed 'certificate not trusted'
list=$("$CRMGATE" source list)
like "$list" "last error at .*: 127.0.0.1: certificate not trusted" \
    "a certificate the system does not trust is refused, and shown"
wait_for 30 listed 'LOGIN as alice@acme.example: login refused'
like "$("$CRMGATE" source list)" "LOGIN as alice@acme.example: login refused \(server said: .*uthentication failed" \
    "a wrong password is shown with the server's words"
wait_for 20 listed '^4 .* idle '
# sources 4 and 5 read the same mailbox: one stores the message new to
# the CRM, the other finds it a duplicate
like "$("$CRMGATE" source list)" "^4 +Acme +imap +idle .* +(1 +4|0 +5) +0 +0 " \
    "STARTTLS with a trusted CA syncs (known mail counted as duplicates)"
wait_for 20 listed '^5 .* idle '
like "$("$CRMGATE" source list)" "^5 +Acme +imap +idle .* +(1 +4|0 +5) +0 +0 " \
    "XOAUTH2 with a valid access token syncs"
wait_for 20 listed 'XOAUTH2 as alice@acme.example: login refused'
like "$("$CRMGATE" source list | grep -A2 '^6 ')" "XOAUTH2 as alice@acme.example: login refused" \
    "an access token the server refuses is shown on its source"
attempts=$(grep -c "source 2: 127.0.0.1: certificate not trusted" "$WORK/B.log")
ok "$([ "$attempts" -ge 2 ]; echo $?)" "a failing source is retried ($attempts attempts seen)"
stop_serves
if grep -q "c0rrect horse" "$WORK"/*.log; then leaked=1; else leaked=0; fi
is "$leaked" 0 "the password appears in no log"
if grep -q "wrong" "$WORK/B.log"; then leaked=1; else leaked=0; fi
is "$leaked" 0 "  nor does a wrong one"
if grep -q "t0ken-for-alice" "$WORK"/*.log; then leaked=1; else leaked=0; fi
is "$leaked" 0 "  nor the access token"
is "$(sql "SELECT count(*) FROM sources WHERE settings::text LIKE '%t0ken%'")" 0 \
    "  and the token is not stored"

done_testing
