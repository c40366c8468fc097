#!/bin/bash
# The seed's section 5.2 walkthroughs, as mail: a B2C customer and a B2B
# buying committee end up as the contacts, accounts and interactions the
# data model describes.
. "$(dirname "$0")/lib.sh"

# ---- Scenario 1: B2C ----------------------------------------------------
"$CRMGATE" workspace add Shop --domain shop.example >/dev/null
shop_user=$("$CRMGATE" user add --workspace Shop --email marketing@shop.example --name "Shop Marketing")
b2c="$WORK/b2c"; mkdir -p "$b2c"
mail "$b2c/1.eml" "Shop <marketing@shop.example>" "Jane Doe <jane.doe@gmail.com>" "Spring sale: 20% off Product X" \
     "Mon, 06 May 2024 08:00:00 +0000" "<news-1@shop.example>"
mail "$b2c/2.eml" "Shop <marketing@shop.example>" "Jane Doe <jane.doe@gmail.com>" "Your cart is waiting" \
     "Tue, 07 May 2024 08:00:00 +0000" "<news-2@shop.example>"
ingest Shop "$b2c"
is "$INGEST_LINE" "ingested 2, duplicates 0, skipped 0, failed 0" "B2C: marketing mails are ingested"
is "$(sql "SELECT first_name || ' ' || last_name || ' ' || lifecycle_stage || ' ' || coalesce(account_id::text, 'B2C') FROM contacts WHERE email = 'jane.doe@gmail.com'")" \
   "Jane Doe lead B2C" "B2C: Jane Doe is a lead with no account (free-mail never creates one)"
is "$(sql "SELECT count(*) FROM accounts a JOIN workspaces w ON w.id = a.workspace_id WHERE w.name = 'Shop'")" "0" \
   "B2C: no account exists in the shop's workspace"
is "$(sql "SELECT count(*) FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'jane.doe@gmail.com' AND i.type = 'email' AND i.metadata->>'direction' = 'outbound' AND i.user_id = '$shop_user'")" \
   "2" "B2C: both mails are outbound email interactions on Jane, logged by the user"
is "$(sql "SELECT count(*) FROM contacts WHERE email = 'marketing@shop.example'")" "0" \
   "B2C: the shop's own address is never a contact"
is "$(sql "SELECT count(*) FROM embedding_jobs j JOIN interactions i ON i.id = j.target_id WHERE j.status = 'pending' AND j.target_table = 'interactions' AND coalesce(j.input_text, i.content) LIKE 'Spring sale%' AND j.target_at = i.interacted_at")" \
   "1" "B2C: each mail waits in the embedding queue (its text is the content)"

# ---- Scenario 2: B2B ----------------------------------------------------
"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
rep=$("$CRMGATE" user add --workspace Vendor --email rep@vendor.example --name "Rita Rep")
b2b="$WORK/b2b"; mkdir -p "$b2b"
mail "$b2b/1.eml" "John Smith <john.smith@megacorp.com>" "Rita Rep <rep@vendor.example>" "Demo request" \
     "Mon, 03 Jun 2024 09:00:00 +0000" "<b2b-1@megacorp.com>"
mail "$b2b/2.eml" "Rita Rep <rep@vendor.example>" "John Smith <john.smith@megacorp.com>, Mary Jones <mary@megacorp.com>" \
     "Re: Demo request" "Tue, 04 Jun 2024 09:00:00 +0000" "<b2b-2@vendor.example>" \
     "Cc: \"Chen, David\" <david@eu.mail.megacorp.com>, Susan Lee <susan@megacorp.com>\nIn-Reply-To: <b2b-1@megacorp.com>"
mail "$b2b/3.eml" "Rita Rep <rep@vendor.example>" "Colleague <sam@vendor.example>" "Internal: MegaCorp deal review" \
     "Wed, 05 Jun 2024 09:00:00 +0000" "<b2b-3@vendor.example>"
mail "$b2b/4.eml" "john.smith@megacorp.com" "rep@vendor.example" "Follow-up without a display name" \
     "Thu, 06 Jun 2024 09:00:00 +0000" "<b2b-4@megacorp.com>"
cat > "$b2b/5.eml" <<'MAIL'
From: David Chen <david@eu.mail.megacorp.com>
To: Rita Rep <rep@vendor.example>
Subject: Requirements attached
Date: Fri, 07 Jun 2024 09:00:00 +0000
Message-ID: <b2b-5@megacorp.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="M"

--M
Content-Type: text/plain; charset=utf-8

Our requirements are attached.
--M
Content-Type: text/csv; name="requirements.csv"
Content-Disposition: attachment; filename="requirements.csv"
Content-Transfer-Encoding: base64

cmVxdWlyZW1lbnQscHJpb3JpdHkKU1NPLGhpZ2gK
--M--
MAIL
ingest Vendor "$b2b"
is "$INGEST_LINE" "ingested 5, duplicates 0, skipped 0, failed 0" "B2B: the deal's mails are ingested"
vendor=$(ws_id Vendor)
is "$(sql "SELECT name || ' ' || website FROM accounts WHERE workspace_id = '$vendor'")" "Megacorp megacorp.com" \
   "B2B: one account, Megacorp, for megacorp.com and its subdomains"
acct=$(sql "SELECT id FROM accounts WHERE workspace_id = '$vendor'")
is "$(sql "SELECT domain FROM account_domains WHERE account_id = '$acct'")" "megacorp.com" "B2B: the account owns its registrable domain"
is "$(sql "SELECT string_agg(email, ',' ORDER BY email) FROM contacts WHERE workspace_id = '$vendor' AND account_id = '$acct'")" \
   "david@eu.mail.megacorp.com,john.smith@megacorp.com,mary@megacorp.com,susan@megacorp.com" \
   "B2B: John, Mary, David and Susan are contacts of Megacorp"
is "$(sql "SELECT first_name || '/' || last_name FROM contacts WHERE email = 'david@eu.mail.megacorp.com'")" "David/Chen" \
   "B2B: \"Chen, David\" is David Chen"
is "$(sql "SELECT count(*) FROM contacts WHERE email LIKE '%@vendor.example'")" "0" "B2B: colleagues never become contacts"
is "$(sql "SELECT count(*) FROM interactions WHERE workspace_id = '$vendor' AND account_id = '$acct'")" "4" \
   "B2B: every external mail is linked to the Megacorp account"
iid=$(sql "SELECT id FROM interactions WHERE metadata->>'message_id' = 'b2b-2@vendor.example'")
is "$(sql "SELECT string_agg(role || ':' || email, ',' ORDER BY role, email) FROM interaction_participants WHERE interaction_id = '$iid'")" \
   "from:rep@vendor.example,to:john.smith@megacorp.com,to:mary@megacorp.com,cc:david@eu.mail.megacorp.com,cc:susan@megacorp.com" \
   "B2B: the reply has a participant per party with its role"
is "$(sql "SELECT user_id FROM interaction_participants WHERE interaction_id = '$iid' AND role = 'from'")" "$rep" \
   "B2B: the rep takes part as a user, not a contact"
is "$(sql "SELECT c.email || ' ' || (i.user_id = '$rep') || ' ' || (i.metadata->>'direction') FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE i.id = '$iid'")" \
   "john.smith@megacorp.com true outbound" "B2B: an outbound reply is credited to its first external recipient and the rep"
is "$(sql "SELECT (metadata->>'direction') || ' ' || coalesce(contact_id::text, 'none') FROM interactions WHERE metadata->>'message_id' = 'b2b-3@vendor.example'")" \
   "internal none" "B2B: mail among colleagues is stored as internal, with no contact"
is "$(sql "SELECT first_name || ' ' || last_name FROM contacts WHERE email = 'john.smith@megacorp.com'")" "John Smith" \
   "B2B: a later mail without a display name does not erase John's name"

doc=$(sql "SELECT d.file_name || '|' || d.file_path || '|' || d.file_size_bytes || '|' || (d.account_id = '$acct') FROM documents d JOIN interaction_documents l ON l.document_id = d.id JOIN interactions i ON i.id = l.interaction_id WHERE i.metadata->>'message_id' = 'b2b-5@megacorp.com'")
IFS='|' read -r dname dpath dsize dacct <<< "$doc"
is "$dname" "requirements.csv" "attachment: a documents row linked to its interaction"
is "$dacct" "true" "attachment: the document belongs to the account too"
case "$dpath" in "$CRMGATE_HOME"/storage/*) ok 0 "attachment: stored under the storage directory";; *) ok 1 "attachment: stored under the storage directory ($dpath)";; esac
is "$(cat "$dpath" 2>/dev/null)" "$(printf 'requirement,priority\nSSO,high')" "attachment: the file holds the decoded bytes"
is "$(stat -c %s "$dpath" 2>/dev/null)" "$dsize" "attachment: its size is recorded"
is "$(sha256sum < "$dpath" | cut -d' ' -f1)" "$(basename "$dpath")" "attachment: the file is named by its SHA-256"

# create_accounts off: contacts still link to existing accounts only
mail "$WORK/globex.eml" "Hank <hank@globex.io>" "rep@vendor.example" "Partnership" "" "<globex-1@globex.io>"
mail "$WORK/mega.eml" "New Person <new.person@megacorp.com>" "rep@vendor.example" "Hello" "" "<mega-9@megacorp.com>"
"$CRMGATE" --create_accounts false ingest --workspace Vendor "$WORK/globex.eml" "$WORK/mega.eml" >/dev/null
is "$(sql "SELECT coalesce(account_id::text, 'none') FROM contacts WHERE email = 'hank@globex.io'")" "none" \
   "with --create_accounts false a new company creates no account"
is "$(sql "SELECT account_id FROM contacts WHERE email = 'new.person@megacorp.com'")" "$acct" \
   "with --create_accounts false a contact still joins an existing account"

done_testing
