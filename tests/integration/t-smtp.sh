#!/bin/bash
# crmgate serve as a dropbox MTA, driven by a real SMTP client (swaks):
# 250 only after the rows are committed, 550 for strangers, 552 for
# oversize, one reply per recipient over LMTP, 451 while the database is
# away, and a clean exit on SIGTERM.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
"$CRMGATE" user add --workspace Acme --email alice@acme.example --name "Alice Archer" >/dev/null
"$CRMGATE" workspace add-address Acme log+acme@in.example.com
"$CRMGATE" workspace add Globex --domain globex.example >/dev/null
"$CRMGATE" workspace add-address Globex log+globex@in.example.com
# strangers write to this dropbox in this test (the default is users only)
"$CRMGATE" workspace set Acme --dropbox-senders anyone
"$CRMGATE" workspace set Globex --dropbox-senders anyone
DBURL=$("$CRMGATE" db url)


start_serve
ok $? "crmgate serve starts and answers EHLO"
ehlo=$(smtp --quit-after EHLO)
for ext in PIPELINING "SIZE [0-9]+" 8BITMIME ENHANCEDSTATUSCODES SMTPUTF8; do
    like "$ehlo" "250[- ]$ext" "EHLO announces $ext"
done

out=$(smtp --from alice@acme.example --to log+acme@in.example.com \
      --header "To: John Smith <john.smith@megacorp.com>" --header "Subject: Our proposal" \
      --header "Message-Id: <bcc-1@acme.example>" --body "Here is our proposal for 40 seats.")
like "$(answer "$out")" "^250 2.0.0 Ok: queued as" "a BCC to the dropbox is answered 250"
is "$(sql "SELECT metadata->>'direction' || ' ' || c.email || ' ' || (metadata->>'source') FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE metadata->>'message_id' = 'bcc-1@acme.example'")" \
   "outbound john.smith@megacorp.com smtp" "the 250 means it is stored: outbound, credited to the recipient"
is "$(sql "SELECT count(*) FROM contacts WHERE email LIKE 'log+%'")" "0" "the dropbox address never becomes a contact"

out=$(smtp --from alice@acme.example --to log+acme@in.example.com \
      --header "Message-Id: <bcc-1@acme.example>" --body "again")
like "$(answer "$out")" "^250 " "the same mail again is accepted"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' = 'bcc-1@acme.example'")" "1" "and stored once"

sleep 1.1
"$CRMGATE" workspace add-address Acme new-box@in.example.com
out=$(smtp --from alice@acme.example --to new-box@in.example.com --header "Message-Id: <newbox@acme.example>")
like "$(answer "$out")" "^250 " "a dropbox added while the daemon runs is accepted at once"

out=$(smtp --from alice@acme.example --to stranger@elsewhere.example)
like "$(answer "$out")" "^550 5.1.1 <stranger@elsewhere.example>" \
     "a recipient that is no dropbox gets 550 5.1.1: no relaying"

out=$(smtp --from alice@acme.example --to log+acme@in.example.com,log+globex@in.example.com \
      --header "To: Hank <hank@megacorp.com>" --header "Message-Id: <two-ws@acme.example>" --body "shared")
like "$(answer "$out")" "^250 " "a mail to two workspaces' dropboxes is accepted"
is "$(sql "SELECT string_agg(w.name, ',' ORDER BY w.name) FROM interactions i JOIN workspaces w ON w.id = i.workspace_id WHERE metadata->>'message_id' = 'two-ws@acme.example'")" \
   "Acme,Globex" "it becomes one interaction in each workspace"
is "$(sql "SELECT count(DISTINCT contact_id) FROM interactions WHERE metadata->>'message_id' = 'two-ws@acme.example'")" "2" \
   "sharing no contact"

out=$(smtp --pipeline --from alice@acme.example --to log+acme@in.example.com,nobody@in.example.com \
      --header "Message-Id: <piped@acme.example>" --body "pipelined")
like "$out" "550 5.1.1 <nobody@in.example.com>" "with PIPELINING the bad recipient is refused"
like "$(answer "$out")" "^250 " "and the message to the good one is stored"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' = 'piped@acme.example'")" "1" "pipelined mail is in the database"

out=$(swaks --server 127.0.0.1:$LMTP_PORT --protocol LMTP --from alice@acme.example \
      --to log+acme@in.example.com,log+globex@in.example.com,bad@in.example.com \
      --header "Message-Id: <lmtp-1@acme.example>" --body "over lmtp" 2>&1)
like "$out" "550 5.1.1 <bad@in.example.com>" "LMTP refuses the unknown recipient at RCPT"
is "$(echo "$out" | grep -cE '^<[-*~ ]+250 2.0.0 Ok: logged <log\+(acme|globex)@in.example.com>')" "2" \
   "LMTP answers once per accepted recipient after DATA"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'source' = 'lmtp'")" "2" "both LMTP deliveries are stored"

# forwarded mail is credited to its original sender, the forwarder is the user
for fmt in gmail outlook apple thunderbird; do
    case $fmt in
    gmail) marker="---------- Forwarded message ---------"; d="Date: Mon, 6 May 2024 at 10:00";;
    outlook) marker="-----Original Message-----"; d="Sent: Monday, May 6, 2024 10:00 AM";;
    apple) marker="Begin forwarded message:"; d="Date: 6 May 2024 at 10:00:00 CEST";;
    thunderbird) marker="-------- Forwarded Message --------"; d="Date: Mon, 6 May 2024 10:00:00 +0200";;
    esac
    printf 'From: Alice Archer <alice@acme.example>\r\nTo: log+acme@in.example.com\r\nSubject: Fwd: Budget %s\r\nMessage-ID: <fwd-%s@acme.example>\r\nDate: Tue, 7 May 2024 09:00:00 +0000\r\n\r\nHot lead, please log.\r\n\r\n%s\r\nFrom: Paula Buyer <paula.%s@buyerco.example>\r\n%s\r\nTo: Alice Archer <alice@acme.example>\r\nSubject: Budget %s\r\n\r\nWe have budget for 40 seats in Q3.\r\n' \
        "$fmt" "$fmt" "$marker" "$fmt" "$d" "$fmt" > "$WORK/fwd-$fmt.eml"
    smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/fwd-$fmt.eml" >/dev/null
    row=$(sql "SELECT c.email || '|' || (i.metadata->>'direction') || '|' || (i.user_id = u.id) || '|' || (i.metadata->'forwarded'->>'note') || '|' || (i.metadata->'forwarded'->>'format') || '|' || (i.metadata->>'subject') FROM interactions i JOIN contacts c ON c.id = i.contact_id JOIN users u ON u.email = 'alice@acme.example' WHERE i.metadata->'forwarded'->>'message_id' = 'fwd-$fmt@acme.example'")
    is "$row" "paula.$fmt@buyerco.example|inbound|true|Hot lead, please log.|$fmt|Budget $fmt" \
       "a $fmt forward is credited to the original sender, inbound, with the forwarder as user and her note kept"
done
is "$(sql "SELECT count(*) FROM contacts c JOIN workspaces w ON w.id = c.workspace_id WHERE w.name = 'Acme' AND c.email = 'alice@acme.example'")" "0" "the forwarding rep is no contact of her workspace"

printf 'From: alice@acme.example\r\nTo: x@megacorp.com\r\nSubject: big\r\n\r\n%s\r\n' "$(head -c 3000 /dev/zero | tr '\0' 'x')" > "$WORK/big.eml"
stop_serve
is "$?" "0" "SIGTERM stops crmgate serve with exit status 0"
start_serve --max-message-size 2000
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/big.eml")
like "$(answer "$out")" "^552 5.3.4" "a message over max_message_size gets 552 5.3.4"
exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT
printf 'EHLO test.example\r\nMAIL FROM:<alice@acme.example> SIZE=999999\r\nQUIT\r\n' >&3
out=$(timeout 5 cat <&3)
exec 3<&-
like "$out" "552 5.3.4" "a SIZE= above the limit is refused at MAIL"
stop_serve

# STARTTLS with a certificate; and the session limits
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 2 -subj /CN=localhost >/dev/null 2>&1
start_serve --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" --smtp-timeout 2 \
    --max-connections-per-ip 220
like "$(smtp --quit-after EHLO)" "250-STARTTLS" "with tls_cert set EHLO offers STARTTLS"
out=$(smtp --tls --from alice@acme.example --to log+acme@in.example.com --header "Message-Id: <tls-1@acme.example>")
like "$out" "TLS started with cipher" "swaks negotiates TLS after STARTTLS"
like "$(answer "$out")" "^250 2.0.0" "mail over TLS is accepted"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' = 'tls-1@acme.example'")" "1" "and stored"

"${top_builddir:-.}/tests/bench/smtp_load" 127.0.0.1 $SMTP_PORT 200 400 log+acme@in.example.com c200 > "$WORK/c200"
like "$(head -n 1 "$WORK/c200")" "200 clients, 400 messages: 400 accepted, 0 temporary, 0 refused, 0 broken" \
     "200 simultaneous clients are all served"

exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT
head -c 5000 /dev/zero | tr '\0' 'a' >&3; printf '\r\nQUIT\r\n' >&3
out=$(timeout 5 cat <&3); exec 3<&-
like "$out" "500 5.5.2 Error: line too long" "a 5,000-byte command line gets 500 5.5.2"
like "$out" "221 2.0.0 Bye" "and the session goes on"

exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT
t0=$(date +%s); out=$(timeout 10 cat <&3); t1=$(date +%s); exec 3<&-
like "$out" "421 4.4.2 .* timeout exceeded" "a silent client is told 421 4.4.2 after smtp_timeout"
ok $([ $((t1 - t0)) -le 5 ]; echo $?) "within a bounded time ($((t1 - t0)) s for a 2 s timeout)"
stop_serve

start_serve --max-recipients 2
out=$(smtp --from alice@acme.example --to log+acme@in.example.com,log+globex@in.example.com,log+acme@in.example.com \
      --header "Message-Id: <rcpt-limit@acme.example>")
like "$out" "452 4.5.3 Error: too many recipients" "a recipient over max_recipients gets 452 4.5.3"
like "$(answer "$out")" "^250 " "and the message still goes to the accepted ones"
stop_serve

start_serve --max-connections-per-ip 2
exec 4<>/dev/tcp/127.0.0.1/$SMTP_PORT; exec 5<>/dev/tcp/127.0.0.1/$SMTP_PORT
# the banner comes after a session is counted: a fixed sleep was too
# short on a loaded machine
read -r -t 10 _ <&4; read -r -t 10 _ <&5
like "$(smtp --quit-after CONNECT)" "421 4.7.0 Error: too many connections from your address" \
     "a third session from one address gets 421 4.7.0"
exec 4<&- 5<&-
stop_serve

# SIGHUP reloads the configuration; sessions in progress go on
printf 'max_message_size = 2000\n' > "$WORK/crmgate.conf"
start_serve -c "$WORK/crmgate.conf"
like "$(smtp --quit-after EHLO)" "250-SIZE 2000" "the configuration file sets the size limit"
exec 6<>/dev/tcp/127.0.0.1/$SMTP_PORT
printf 'EHLO held.example\r\n' >&6
printf 'max_message_size = 50000\n' > "$WORK/crmgate.conf"
kill -HUP $SERVE_PID
sleep 0.5
like "$(smtp --quit-after EHLO)" "250-SIZE 50000" "after SIGHUP new sessions get the new limit"
printf 'QUIT\r\n' >&6
like "$(timeout 5 cat <&6)" "221 2.0.0 Bye" "a session open across the reload is not dropped"
exec 6<&-
printf 'max_message_size = nonsense\n' > "$WORK/crmgate.conf"
kill -HUP $SERVE_PID
sleep 0.5
like "$(smtp --quit-after EHLO)" "250-SIZE 50000" "a broken file on SIGHUP keeps the running configuration"
like "$(cat "$WORK/serve.log")" "reload refused, keeping the running configuration: .*crmgate.conf:1: max_message_size" \
     "and the log says which file, line and key"
stop_serve

# the database goes away: 451, then the retry is stored
CRMGATE_DATABASE_URL=$DBURL start_serve
"$CRMGATE" db stop >/dev/null
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --header "Message-Id: <dbdown@acme.example>" --body "while down")
like "$(answer "$out")" "^451 4.3.0" "while PostgreSQL is down the answer is 451 4.3.0, so the sender retries"
"$CRMGATE" status >/dev/null	# starts the embedded cluster again
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --header "Message-Id: <dbdown@acme.example>" --body "while down")
like "$(answer "$out")" "^250 " "once it is back the retry is accepted"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' = 'dbdown@acme.example'")" "1" "and stored exactly once"
stop_serve
# the gateway listens before its dropbox addresses are loaded: a mail
# sent the moment it answers waits for them instead of getting a 451
psql -X -q "$DBURL" -c "BEGIN; LOCK TABLE workspace_addresses; SELECT pg_sleep(1.5); COMMIT;" >/dev/null &
locker=$!
sleep 0.3
start_serve
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --header "Message-Id: <first@acme.example>" --body "first")
like "$(answer "$out")" "^250 " "a mail sent while the dropbox addresses are still loading is accepted"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' = 'first@acme.example'")" "1" "and stored"
wait $locker
stop_serve
like "$(cat "$WORK/serve.log")" "smtp: [0-9A-F]+: workspace=Acme from=<alice@acme.example> size=[0-9]+ outcome=2.0.0 Ok: logged" \
     "the log has one line per message with workspace, queue id and outcome"

done_testing
