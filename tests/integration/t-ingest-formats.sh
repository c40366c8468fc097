#!/bin/bash
# The same mail as .eml files, as an mbox and as a Maildir is the same
# mail: told apart by content, stored once, and once per workspace.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
"$CRMGATE" workspace add Other --domain other.example >/dev/null

eml="$WORK/eml"; mkdir -p "$eml"
for i in 1 2 3 4; do
    mail "$eml/$i.eml" "Buyer $i <buyer$i@megacorp.com>" "rep@vendor.example" "Quote $i" \
         "Tue, 0$i May 2024 09:00:00 +0000" "<quote-$i@megacorp.com>" "" \
         "Please send the quote.
From now on we order monthly."
done
# no Message-ID: deduplicated by content, and written with CRLF here
mail "$WORK/nomid.tmp" "Jane <jane@gmail.com>" "rep@vendor.example" "No id" \
     "Wed, 08 May 2024 09:00:00 +0000" ""
sed 's/$/\r/' "$WORK/nomid.tmp" > "$eml/5.eml"

# the same five as an mbox, with the writer's ">From " escaping, and
# with misleading names: detection is by content
mbox="$WORK/notes.txt"
for i in 1 2 3 4; do
    echo "From buyer$i@megacorp.com Tue May  0$i 09:00:00 2024"
    sed 's/^From now/>From now/' "$eml/$i.eml"
    echo
done > "$mbox"
{ echo "From jane@gmail.com Wed May  8 09:00:00 2024"; cat "$WORK/nomid.tmp"; echo; } >> "$mbox"
cp "$eml/1.eml" "$WORK/x.mbox"

md="$WORK/Maildir"; mkdir -p "$md/cur" "$md/new" "$md/tmp"
cp "$eml/1.eml" "$md/new/1714640400.M1P1.host"
for i in 2 3 4; do cp "$eml/$i.eml" "$md/cur/171464040$i.M${i}P1.host:2,S"; done
cp "$WORK/nomid.tmp" "$md/cur/1715158800.M5P1.host:2,S"
echo "half-delivered" > "$md/tmp/inprogress"

ingest Vendor "$eml"
is "$INGEST_LINE" "ingested 5, duplicates 0, skipped 0, failed 0" "a folder of .eml files is ingested"
is "$INGEST_RC" "0" "exit status 0 when nothing failed"
is "$(sql "SELECT count(*) FROM interactions")" "5" "five interactions stored"
before=$(sql "SELECT (SELECT count(*) FROM interactions) || '/' || (SELECT count(*) FROM contacts) || '/' || (SELECT count(*) FROM interaction_participants) || '/' || (SELECT count(*) FROM embedding_jobs)")

ingest Vendor "$mbox"
is "$INGEST_LINE" "ingested 0, duplicates 5, skipped 0, failed 0" "the same mail as an mbox named notes.txt is all duplicates"
ingest Vendor "$md"
is "$INGEST_LINE" "ingested 0, duplicates 5, skipped 0, failed 0" "the same mail as a Maildir is all duplicates (tmp/ skipped)"
ingest Vendor "$WORK/x.mbox"
is "$INGEST_LINE" "ingested 0, duplicates 1, skipped 0, failed 0" "an .eml named x.mbox is read as one message"
after=$(sql "SELECT (SELECT count(*) FROM interactions) || '/' || (SELECT count(*) FROM contacts) || '/' || (SELECT count(*) FROM interaction_participants) || '/' || (SELECT count(*) FROM embedding_jobs)")
is "$after" "$before" "re-ingesting added no interaction, contact, participant or job"
is "$(sql "SELECT count(*) FROM ingest_keys WHERE dedup_key LIKE 'sha256:%'")" "1" \
   "the mail without Message-ID is keyed by its content, CRLF or LF alike"
like "$(sql "SELECT content FROM interactions WHERE metadata->>'message_id' = 'quote-1@megacorp.com'")" \
   "From now on we order monthly" "the stored body is the original text"

ingest Other "$mbox"
is "$INGEST_LINE" "ingested 5, duplicates 0, skipped 0, failed 0" "another workspace gets its own copy of the same mail"
vendor=$(ws_id Vendor); other=$(ws_id Other)
is "$(sql "SELECT count(*) FROM interactions WHERE workspace_id = '$other'")" "5" "the second workspace has five interactions"
is "$(sql "SELECT count(*) FROM contacts WHERE workspace_id = '$vendor'")" "5" \
   "the first workspace has five contacts: its rep is internal"
is "$(sql "SELECT count(*) FROM contacts WHERE workspace_id = '$other'")" "6" \
   "the second has six: there rep@vendor.example is an outsider"
is "$(sql "SELECT count(*) FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE i.workspace_id <> c.workspace_id")" \
   "0" "no interaction points at another workspace's contact"
is "$(sql "SELECT count(*) FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.workspace_id <> c.workspace_id")" \
   "0" "no contact belongs to another workspace's account"

done_testing
