#!/bin/bash
# Who may send to a workspace's BCC dropbox: its users (envelope sender or
# From), authenticated by the trusted front MTA's Authentication-Results
# when there are some; strangers get 550 5.7.1 and nothing is stored;
# "workspace set --dropbox-senders anyone" opens it. Driven by swaks.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
"$CRMGATE" user add --workspace Acme --email alice@acme.example --name "Alice Archer" >/dev/null
"$CRMGATE" workspace add-address Acme log+acme@in.example.com
"$CRMGATE" workspace add Globex --domain globex.example >/dev/null
"$CRMGATE" workspace add-address Globex log+globex@in.example.com
DBURL=$("$CRMGATE" db url)

stored() { sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' = '$1'"; }

# msg FILE FROM MESSAGE-ID [HEADER-LINES]: a mail to a customer, BCC the dropbox
msg() {
    { [ -z "${4:-}" ] || printf '%b\r\n' "$4"
      printf 'From: %s\r\nTo: John Smith <john@megacorp.example>\r\nSubject: proposal\r\n' "$2"
      printf 'Date: Mon, 06 May 2024 10:00:00 +0000\r\nMessage-ID: <%s>\r\n\r\nOur offer.\r\n' "$3"
    } > "$1"
}

start_serve
ok $? "crmgate serve starts"

msg "$WORK/m1.eml" "Alice Archer <alice@acme.example>" m1@acme.example
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/m1.eml")
like "$(answer "$out")" "^250 2.0.0 Ok: queued as" "a user's BCC is accepted with 250"
is "$(stored m1@acme.example)" "1" "and stored"

msg "$WORK/m2.eml" "Bob <bob@evil.example>" m2@evil.example
out=$(smtp --from bob@evil.example --to log+acme@in.example.com --data "$WORK/m2.eml")
is "$(answer "$out")" "550 5.7.1 sender bob@evil.example is not a user of workspace Acme (dropbox senders: users)" \
   "a stranger gets 550 5.7.1 naming the sender and the workspace"
is "$(stored m2@evil.example)" "0" "and nothing of it is stored"
is "$(sql "SELECT count(*) FROM contacts WHERE email LIKE '%megacorp.example'")" "1" "nor a contact made from it"

# a user's mail sent through another service: envelope of the user, From
# of a stranger (and the reverse)
msg "$WORK/m3.eml" "Sales Robot <robot@crm-vendor.example>" m3@acme.example
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/m3.eml")
like "$(answer "$out")" "^250 " "the envelope sender being a user is enough"
is "$(stored m3@acme.example)" "1" "and it is stored"
msg "$WORK/m4.eml" "Alice Archer <alice@acme.example>" m4@acme.example
out=$(smtp --from bounces+123@esp.example --to log+acme@in.example.com --data "$WORK/m4.eml")
like "$(answer "$out")" "^250 " "the From being a user is enough"

# a rep forwarding a customer's mail: judged by the rep, not the customer
printf 'From: Alice Archer <alice@acme.example>\r\nTo: log+acme@in.example.com\r\nSubject: Fwd: Budget\r\nMessage-ID: <fwd@acme.example>\r\nDate: Tue, 7 May 2024 09:00:00 +0000\r\n\r\nHot lead.\r\n\r\n---------- Forwarded message ---------\r\nFrom: Paula Buyer <paula@buyerco.example>\r\nDate: Mon, 6 May 2024 at 10:00\r\nTo: Alice Archer <alice@acme.example>\r\nSubject: Budget\r\n\r\nWe have budget.\r\n' > "$WORK/fwd.eml"
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/fwd.eml")
like "$(answer "$out")" "^250 " "a rep's forward of a customer's mail is accepted"
is "$(sql "SELECT c.email FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE i.metadata->'forwarded'->>'message_id' = 'fwd@acme.example'")" \
   "paula@buyerco.example" "and credited to the customer"

# SMTP to two workspaces, one refusing: the whole mail is refused
msg "$WORK/m5.eml" "Alice Archer <alice@acme.example>" m5@acme.example
out=$(smtp --from alice@acme.example --to log+acme@in.example.com,log+globex@in.example.com --data "$WORK/m5.eml")
is "$(answer "$out")" "550 5.7.1 sender alice@acme.example is not a user of workspace Globex (dropbox senders: users)" \
   "SMTP for two workspaces, one refusing: 550 naming the one that refuses"
is "$(stored m5@acme.example)" "0" "and not stored in the other either"

"$CRMGATE" workspace set Globex --dropbox-senders anyone
is "$?" "0" "workspace set --dropbox-senders anyone"
"$CRMGATE" workspace set Globex --dropbox-senders everybody 2>"$WORK/set.err"
is "$?" "2" "a value other than users or anyone is a usage error"
like "$(cat "$WORK/set.err")" "users or anyone" "and says what is allowed"
"$CRMGATE" workspace set Nowhere --dropbox-senders anyone 2>"$WORK/set.err"
like "$(cat "$WORK/set.err")" "no workspace named \"Nowhere\"" "an unknown workspace is named"
kill -HUP $SERVE_PID; sleep 0.5	# drop the cached workspace snapshots now
msg "$WORK/m6.eml" "Bob <bob@evil.example>" m6@evil.example
out=$(smtp --from bob@evil.example --to log+globex@in.example.com --data "$WORK/m6.eml")
like "$(answer "$out")" "^250 " "with dropbox senders anyone a stranger's mail is accepted"
is "$(stored m6@evil.example)" "1" "and stored"

# LMTP answers per recipient: Acme (users) refuses, Globex (anyone) takes it
msg "$WORK/m7.eml" "Bob <bob@evil.example>" m7@evil.example
out=$(swaks --server 127.0.0.1:$LMTP_PORT --protocol LMTP --from bob@evil.example \
      --to log+acme@in.example.com,log+globex@in.example.com --data "$WORK/m7.eml" 2>&1)
like "$out" "550 5.7.1 <log\+acme@in.example.com>: sender bob@evil.example is not a user of workspace Acme" \
     "LMTP: the workspace for users only refuses its recipient with 550 5.7.1"
like "$out" "250 2.0.0 Ok: logged <log\+globex@in.example.com>" "LMTP: the open workspace accepts its recipient"
is "$(sql "SELECT string_agg(w.name, ',') FROM interactions i JOIN workspaces w ON w.id = i.workspace_id WHERE metadata->>'message_id' = 'm7@evil.example'")" \
   "Globex" "and only the open workspace stores it"
stop_serve
like "$(cat "$WORK/serve.log")" "workspace=Acme from=<bob@evil.example> .*outcome=5.7.1 .* reason=sender bob@evil.example is not a user" \
     "the log says why a sender was refused"

# with a trusted front MTA, its verdicts decide for the user's address
start_serve --trusted-authserv-ids "mx.acme.example, mx2.acme.example"
msg "$WORK/a1.eml" "Alice Archer <alice@acme.example>" a1@acme.example \
    "Authentication-Results: mx.acme.example;\r\n\tspf=none smtp.mailfrom=alice@acme.example;\r\n\tdmarc=pass (p=reject dis=none) header.from=acme.example"
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/a1.eml")
like "$(answer "$out")" "^250 " "a trusted dmarc=pass for the user's domain is accepted"
is "$(stored a1@acme.example)" "1" "and stored"

msg "$WORK/a2.eml" "Alice Archer <alice@acme.example>" a2@acme.example \
    "Authentication-Results: mx.acme.example; dkim=fail header.d=acme.example;\r\n dmarc=fail (p=reject) header.from=acme.example"
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/a2.eml")
is "$(answer "$out")" "550 5.7.1 sender alice@acme.example of workspace Acme failed DMARC at mx.acme.example" \
   "a trusted dmarc=fail refuses a forged user with 550 5.7.1"
is "$(stored a2@acme.example)" "0" "and nothing is stored"

msg "$WORK/a3.eml" "Bob <bob@evil.example>" a3@evil.example \
    "Authentication-Results: mx.evil.example; spf=pass smtp.mailfrom=bob@evil.example;\r\n dmarc=pass header.from=evil.example"
out=$(smtp --from bob@evil.example --to log+acme@in.example.com --data "$WORK/a3.eml")
like "$(answer "$out")" "^550 5.7.1 sender bob@evil.example is not a user of workspace Acme" \
     "a forged pass from an untrusted authserv-id changes nothing for a stranger"

msg "$WORK/a4.eml" "Alice Archer <alice@acme.example>" a4@acme.example \
    "Authentication-Results: mx2.acme.example; dkim=pass header.d=mail.acme.example header.i=@mail.acme.example"
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/a4.eml")
like "$(answer "$out")" "^250 " "an aligned dkim=pass from the second trusted id is accepted"

msg "$WORK/a5.eml" "Sales Robot <robot@crm-vendor.example>" a5@acme.example \
    "Authentication-Results: mx.acme.example; spf=softfail smtp.mailfrom=alice@acme.example"
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/a5.eml")
like "$(answer "$out")" "^550 5.7.1 sender alice@acme.example of workspace Acme is not authenticated at mx.acme.example" \
     "an envelope user with spf=softfail is refused"
msg "$WORK/a6.eml" "Sales Robot <robot@crm-vendor.example>" a6@acme.example \
    "Authentication-Results: mx.acme.example; spf=pass smtp.mailfrom=alice@acme.example"
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/a6.eml")
like "$(answer "$out")" "^250 " "an envelope user with a trusted spf=pass is accepted"

msg "$WORK/a7.eml" "Alice Archer <alice@acme.example>" a7@acme.example
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/a7.eml")
like "$(answer "$out")" "^250 " "without any trusted field the user check alone decides"
stop_serve

# SIGHUP takes new trusted authserv-ids
printf 'trusted_authserv_ids =\n' > "$WORK/crmgate.conf"
start_serve -c "$WORK/crmgate.conf"
msg "$WORK/h1.eml" "Alice Archer <alice@acme.example>" h1@acme.example \
    "Authentication-Results: mx.acme.example; dmarc=fail header.from=acme.example"
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/h1.eml")
like "$(answer "$out")" "^250 " "with no trusted authserv-id configured, a user's mail is taken whatever its fields say"
printf 'trusted_authserv_ids = mx.acme.example\n' > "$WORK/crmgate.conf"
kill -HUP $SERVE_PID; sleep 0.5
msg "$WORK/h2.eml" "Alice Archer <alice@acme.example>" h2@acme.example \
    "Authentication-Results: mx.acme.example; dmarc=fail header.from=acme.example"
out=$(smtp --from alice@acme.example --to log+acme@in.example.com --data "$WORK/h2.eml")
like "$(answer "$out")" "^550 5.7.1 .*failed DMARC at mx.acme.example" "after SIGHUP the configured authserv-id is believed"
stop_serve

done_testing
