#!/bin/bash
# Robots are not conversations: auto-replies and bounces are skipped, a
# bounce marks the contact whose address failed; mailing lists go in.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
d="$WORK/mail"; mkdir -p "$d"
mail "$d/1-first.eml" "Gone Soon <gone@megacorp.com>" "rep@vendor.example" "Hello" "Mon, 06 May 2024 10:00:00 +0000" "<first@megacorp.com>"
ingest Vendor "$d/1-first.eml"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "a human's mail creates the contact"

mail "$d/ooo.eml" "Mary <mary@megacorp.com>" "rep@vendor.example" "Out of office" "" "<ooo@megacorp.com>" "Auto-Submitted: auto-replied"
mail "$d/xar.eml" "Bob <bob@megacorp.com>" "rep@vendor.example" "Away" "" "<xar@megacorp.com>" "X-Autoreply: yes"
mail "$d/human.eml" "Carl <carl@megacorp.com>" "rep@vendor.example" "Re: pricing" "" "<human@megacorp.com>" "Auto-Submitted: no"
mail "$d/list.eml" "Dora <dora@megacorp.com>" "users@lists.example.org" "[users] release notes" "" "<list@megacorp.com>" \
     "List-Id: Users <users.lists.example.org>\nPrecedence: list"
cat > "$d/dsn.eml" <<'MAIL'
From: Mail Delivery System <MAILER-DAEMON@mx.vendor.example>
To: rep@vendor.example
Subject: Undelivered Mail Returned to Sender
Date: Tue, 07 May 2024 10:00:00 +0000
Message-ID: <dsn@mx.vendor.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain

This is the mail system. Your message could not be delivered.
--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.vendor.example

Final-Recipient: rfc822; Gone@MegaCorp.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@megacorp.com>: Recipient address
 rejected: User unknown
--R--
MAIL
ingest Vendor "$d/ooo.eml" "$d/xar.eml" "$d/human.eml" "$d/list.eml" "$d/dsn.eml"
is "$INGEST_LINE" "ingested 2, duplicates 0, skipped 3, failed 0" "two auto-replies and a bounce are skipped"
is "$INGEST_RC" "0" "skipping is not failing: exit status 0"
is "$(sql "SELECT count(*) FROM contacts WHERE email IN ('mary@megacorp.com', 'bob@megacorp.com')")" "0" \
   "an out-of-office reply creates no contact"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' IN ('ooo@megacorp.com', 'xar@megacorp.com', 'dsn@mx.vendor.example')")" \
   "0" "no interaction for robots"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' = 'human@megacorp.com'")" "1" \
   "Auto-Submitted: no is a human: stored"
is "$(sql "SELECT metadata->>'list_id' FROM interactions WHERE metadata->>'message_id' = 'list@megacorp.com'")" \
   "Users <users.lists.example.org>" "mailing-list mail is stored, with its List-Id"
is "$(sql "SELECT custom_fields->'email_bounced'->>'status' FROM contacts WHERE email = 'gone@megacorp.com'")" "5.1.1" \
   "the bounce marks the contact whose address failed"
like "$(sql "SELECT custom_fields->'email_bounced'->>'diagnostic' FROM contacts WHERE email = 'gone@megacorp.com'")" \
     "User unknown" "with the server's diagnostic"

done_testing
