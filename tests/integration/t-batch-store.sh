#!/bin/bash
# A batch stores what the same mail stored one message at a time stores.
# A folder given to one "crmgate ingest" is stored by one set-based call
# per batch (crmgate_store_batch); a file given alone by one call for the
# message (crmgate_store_interaction). The mails below put the order
# rules inside one batch: a contact first seen without a name and named
# later, first seen where the policy may not create it and created
# later, a role address creating its domain's account before a person,
# a contact that existed without name or account, one address twice in
# a mail, a repeated Message-ID, an attachment, internal-only mail. Each
# policy gets two workspaces, one per way; their rows, named by what
# they are (not by ids), must be the same, and must be what the rules
# say. Cut into batches of three, two of them committing at once over
# two connections, the folder must give the same rows but for what
# depends on which batch commits first (a contact's name).
. "$(dirname "$0")/lib.sh"

M="$WORK/mail"
mkdir -p "$M" "$WORK/pre"
d() { echo "Mon, 06 May 2024 1$1:00:00 +0000"; }
mail "$WORK/pre/p.eml" "pat@oldco.example" "rep@ours.example" "Before" "$(d 0)" "<pre@t>"
mail "$M/m01.eml" "bob@acme.example" "rep@ours.example" "Nameless Bob" "$(d 1)" "<m01@t>"
mail "$M/m02.eml" "info@acme.example" "rep@ours.example" "Role address" "$(d 1)" "<m02@t>"
mail "$M/m03.eml" "Rep One <rep@ours.example>" "Bob Builder <bob@acme.example>" "Named Bob" \
    "$(d 2)" "<m03@t>" "Cc: Bob B <bob@acme.example>, Ann <ann@acme.example>"
mail "$M/m04.eml" "Bob Other <bob@acme.example>" "rep@ours.example" "Bob again" "$(d 3)" "<m04@t>"
mail "$M/m05.eml" "Carol <carol@gmail.com>" "rep@ours.example" "Free mail" "$(d 4)" "<m05@t>"
mail "$M/m06.eml" "Carol <carol@gmail.com>" "rep@ours.example" "Free mail" "$(d 4)" "<m05@t>"
{
    echo "From: Rep One <rep@ours.example>"
    echo "To: Dan Doe <dan@newco.example>, Eve <eve@newco.example>"
    echo "Subject: Offer attached"
    echo "Date: $(d 5)"
    echo "Message-ID: <m07@t>"
    echo "MIME-Version: 1.0"
    echo 'Content-Type: multipart/mixed; boundary="b1"'
    echo
    echo "--b1"
    echo "Content-Type: text/plain; charset=utf-8"
    echo
    echo "The offer is attached."
    echo "--b1"
    echo "Content-Type: application/pdf; name=offer.pdf"
    echo "Content-Disposition: attachment; filename=offer.pdf"
    echo "Content-Transfer-Encoding: base64"
    echo
    echo "JVBERi0xLjQKJcTl8uXrp/Og0MTGCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCg=="
    echo "--b1--"
} > "$M/m07.eml"
mail "$M/m08.eml" "Dan Doe <dan@newco.example>" "rep@ours.example" "Reply from Dan" "$(d 6)" \
    "<m08@t>" "Cc: desk@ours.example"
mail "$M/m09.eml" "rep@ours.example" "desk@ours.example" "Internal only" "$(d 7)" "<m09@t>"
mail "$M/m10.eml" "Pat Smith <pat@oldco.example>" "rep@ours.example" "Pat named" "$(d 8)" "<m10@t>"

for ws in DS DO SS SO DP; do
    "$CRMGATE" workspace add "$ws" --domain ours.example >/dev/null
    "$CRMGATE" user add --workspace "$ws" --email rep@ours.example --name "Rep One" >/dev/null
    # pat exists before, with neither name nor account
    "$CRMGATE" --create_accounts false ingest --workspace "$ws" "$WORK/pre/p.eml" >/dev/null
done
sql "UPDATE contacts SET first_name = NULL, last_name = NULL WHERE email = 'pat@oldco.example'"
is "$(sql "SELECT count(*) FROM contacts WHERE email = 'pat@oldco.example'
             AND account_id IS NULL AND first_name IS NULL")" 5 "pat exists in every workspace, nameless, without account"

# the two ways: the folder in one call; each file alone, in name order
for policy in sent_and_received:D sent:S; do
    p=${policy%%:*} w=${policy##*:}
    ingest "${w}S" --contacts "$p" "$M"
    is "$INGEST_LINE" "ingested 9, duplicates 1, skipped 0, failed 0" "$p: the folder in one call"
    is "$INGEST_ERR" "" "$p: and as a set, not refused and stored one by one"
    total=0
    for f in "$M"/*.eml; do
        ingest "${w}O" --contacts "$p" "$f"
        case $INGEST_LINE in "ingested 1,"*) total=$((total + 1));; esac
    done
    is "$total" 9 "$p: the files one call each"
done

# everything a workspace holds, by name
dump() {
    local ws
    ws=$(ws_id "$1")
    sql "SELECT 'account', a.name, a.website FROM accounts a WHERE a.workspace_id = '$ws' ORDER BY 2, 3"
    sql "SELECT 'contact', c.email, coalesce(c.first_name, '-'), coalesce(c.last_name, '-'),
                coalesce(a.website, '-')
           FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id
          WHERE c.workspace_id = '$ws' ORDER BY 2"
    sql "SELECT 'interaction', k.dedup_key, i.type, md5(i.content), coalesce(c.email, '-'),
                coalesce(a.website, '-'), coalesce(u.email, '-'), i.interacted_at,
                i.metadata - 'source' - 'ref'
           FROM ingest_keys k JOIN interactions i ON i.id = k.interaction_id
           LEFT JOIN contacts c ON c.id = i.contact_id LEFT JOIN accounts a ON a.id = i.account_id
           LEFT JOIN users u ON u.id = i.user_id
          WHERE k.workspace_id = '$ws' ORDER BY 2"
    sql "SELECT 'participant', k.dedup_key, p.email, p.role, coalesce(p.display_name, '-'),
                coalesce(c.email, '-'), coalesce(u.email, '-')
           FROM ingest_keys k JOIN interaction_participants p ON p.interaction_id = k.interaction_id
           LEFT JOIN contacts c ON c.id = p.contact_id LEFT JOIN users u ON u.id = p.user_id
          WHERE k.workspace_id = '$ws' ORDER BY 2, 3, 4"
    sql "SELECT 'document', k.dedup_key, d.file_name, d.mime_type, d.file_size_bytes,
                coalesce(c.email, '-'), coalesce(a.website, '-'), coalesce(u.email, '-')
           FROM ingest_keys k JOIN interaction_documents x ON x.interaction_id = k.interaction_id
           JOIN documents d ON d.id = x.document_id
           LEFT JOIN contacts c ON c.id = d.contact_id LEFT JOIN accounts a ON a.id = d.account_id
           LEFT JOIN users u ON u.id = d.uploaded_by_id
          WHERE k.workspace_id = '$ws' ORDER BY 2, 3"
    sql "SELECT 'embedding job', k.dedup_key, j.input_text IS NULL, j.target_at, j.status
           FROM ingest_keys k JOIN embedding_jobs j ON j.target_id = k.interaction_id
          WHERE k.workspace_id = '$ws' ORDER BY 2"
}
for w in D S; do
    dump "${w}S" > "$WORK/$w.set"
    dump "${w}O" > "$WORK/$w.one"
    diff "$WORK/$w.one" "$WORK/$w.set" > "$WORK/$w.diff"
    ok $? "$w: the batch stored the rows that one message at a time stored"
    sed 's/^/#   /' "$WORK/$w.diff" | head -n 20
done
is "$(grep -c '^interaction|' "$WORK/D.set")" 10 "the dump holds every interaction (9 and the one before)"

# four batches of three, two at a time
line=$("$CRMGATE" --batch-size 3 ingest --workspace DP "$M" 2>"$WORK/p.err" | tail -n 1)
is "$line" "ingested 9, duplicates 1, skipped 0, failed 0" "batches of three: every mail counted once"
is "$(cat "$WORK/p.err")" "" "and no batch refused as a whole"
dump DP > "$WORK/P.set"
diff <(grep -v '^contact|' "$WORK/D.set") <(grep -v '^contact|' "$WORK/P.set") > "$WORK/P.diff"
ok $? "batches of three store the interactions, participants, documents and jobs of one batch"
sed 's/^/#   /' "$WORK/P.diff" | head -n 20
is "$(grep '^contact|' "$WORK/P.set" | cut -d'|' -f2,5)" "$(grep '^contact|' "$WORK/D.set" | cut -d'|' -f2,5)" \
   "and the same contacts, at the same accounts"

# A batch meeting a key stored before: its keys go in plainly until one
# exists, then again without it. The new mails are stored once each, in
# time-ordered ids (RFC 9562 version 7) ascending in the batch's order
# (a mail stored alone, crmgate_store_interaction(), keeps a random one).
mkdir -p "$WORK/again"
cp "$M/m01.eml" "$WORK/again/a0.eml"
for i in 1 2; do
    mail "$WORK/again/a$i.eml" "new$i@acme.example" "rep@ours.example" "New $i" "$(d 6)" "<again-$i@t>"
done
line=$("$CRMGATE" --batch-size 3 ingest --workspace DP "$WORK/again" 2>"$WORK/again.err" | tail -n 1)
is "$line" "ingested 2, duplicates 1, skipped 0, failed 0" "a batch meeting a stored key: the old mail a duplicate"
is "$(cat "$WORK/again.err")" "" "  and the batch not refused as a whole"
again_id() {	# the id of mail <again-N@t> in DP
    sql "SELECT i.id FROM interactions i JOIN workspaces w ON w.id = i.workspace_id
          WHERE w.name = 'DP' AND i.metadata->>'message_id' = 'again-$1@t'"
}
is "$(again_id 1 | wc -l) $(again_id 2 | wc -l)" "1 1" "  and the new ones stored once each"
is "$(again_id 1 | cut -c15) $(again_id 2 | cut -c15)" "7 7" "  their ids version 7 UUIDs"
is "$(sql "SELECT '$(again_id 1)'::uuid < '$(again_id 2)'::uuid")" t "  ascending in the order of the batch"

# and those rows are what the rules say
contact() { grep "^contact|$2|" "$WORK/$1.set" | cut -d'|' -f3-; }
main_party() { grep "^interaction|mid:$2|" "$WORK/$1.set" | cut -d'|' -f5-7; }
is "$(contact D bob@acme.example)" "Bob|Builder|acme.example" "bob: created nameless, named by the first mail with his name"
is "$(contact D pat@oldco.example)" "Pat|Smith|oldco.example" "pat: the existing contact gets a name and an account"
is "$(contact D carol@gmail.com)" "Carol|-|-" "carol: free mail, no account"
is "$(contact D info@acme.example)" "" "info@: a role address is no contact"
is "$(main_party D m01@t)" "bob@acme.example|acme.example|rep@ours.example" "m01 is bob's, at acme"
is "$(main_party D m09@t)" "-|-|rep@ours.example" "internal mail has no contact"
is "$(grep -c "^participant|mid:m03@t|bob@acme.example|" "$WORK/D.set")" 2 "bob is both To and Cc of m03"
is "$(grep "^document|mid:m07@t|" "$WORK/D.set" | cut -d'|' -f3,6,7)" "offer.pdf|dan@newco.example|newco.example" \
    "the attachment is a document of dan and newco"
is "$(main_party S m01@t)" "-|-|rep@ours.example" "sent: m01 links no contact, and acme has no account yet"
is "$(main_party S m05@t)" "-|-|rep@ours.example" "sent: m05 links no contact"
is "$(grep "^account|" "$WORK/S.set" | cut -d'|' -f3 | tr '\n' ' ')" "acme.example newco.example oldco.example " \
    "sent: accounts made by the role address, the mail sent to newco, and pat"
is "$(main_party S m04@t)" "bob@acme.example|acme.example|rep@ours.example" "sent: m04 links bob, created by m03"
is "$(contact S bob@acme.example)" "Bob|Builder|acme.example" "sent: bob created where rep wrote to him"
is "$(contact S carol@gmail.com)" "" "sent: carol only wrote in: no contact"
is "$(contact S pat@oldco.example)" "Pat|Smith|oldco.example" "sent: the existing pat is linked and filled"
# Two at a time, each batch commits its new contacts before the rest of
# it. A mail the database refuses in that rest (here a trigger refuses
# its text) spoils only its batch's second transaction: its neighbours
# are stored one by one, it fails with the reason, and the contacts the
# first transaction made stay - once each.
mkdir -p "$WORK/pf"
for i in 1 2 3 4 5 6; do
    subject="People first $i"
    [ "$i" = 5 ] && subject="Poisoned $i"
    mail "$WORK/pf/$i.eml" "Buyer $i <buyer$i@pfirst.example>" "rep@ours.example" "$subject" \
         "Mon, 0$i Apr 2024 10:00:00 +0000" "<pf-$i@t>" "Cc: Dana <dana@pfirst.example>"
done
sql "CREATE FUNCTION t_poison() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN IF NEW.content LIKE '%Poisoned%' THEN RAISE EXCEPTION 'poisoned mail'; END IF;
           RETURN NEW; END \$\$" >/dev/null
sql "CREATE TRIGGER t_poison BEFORE INSERT ON interactions FOR EACH ROW EXECUTE FUNCTION t_poison()" >/dev/null
"$CRMGATE" workspace add PF --domain ours.example >/dev/null
"$CRMGATE" user add --workspace PF --email rep@ours.example >/dev/null
line=$("$CRMGATE" --batch-size 3 ingest --workspace PF "$WORK/pf" 2>"$WORK/pf.err" | tail -n 1)
sql "DROP TRIGGER t_poison ON interactions" >/dev/null
is "$line" "ingested 5, duplicates 0, skipped 0, failed 1" "people first: the neighbours of a refused mail are stored"
like "$(cat "$WORK/pf.err")" "5.eml.*poisoned mail" "and the refused one is named, with the reason"
pf=$(ws_id PF)
is "$(sql "SELECT count(*) FROM interactions WHERE workspace_id = '$pf' AND contact_id IS NOT NULL")" 5 \
   "each stored mail is linked to its sender"
is "$(sql "SELECT string_agg(email || ':' || coalesce(first_name, '-'), ' ' ORDER BY email)
             FROM contacts WHERE workspace_id = '$pf'")" \
   "buyer1@pfirst.example:Buyer buyer2@pfirst.example:Buyer buyer3@pfirst.example:Buyer buyer4@pfirst.example:Buyer buyer5@pfirst.example:Buyer buyer6@pfirst.example:Buyer dana@pfirst.example:Dana" \
   "the refused mail's sender stays a contact, and no contact is doubled"

# A server that gives only one connection: the second, opened while the
# first batch is parsed, is refused, and the import goes on over one.
sql "CREATE ROLE crmgate_one LOGIN CONNECTION LIMIT 1 IN ROLE $(sql "SELECT current_user")" >/dev/null
mkdir -p "$WORK/one"
for i in 1 2 3 4 5; do
    mail "$WORK/one/$i.eml" "buyer$i@oneconn.example" "rep@ours.example" "One connection $i" \
         "Mon, 0$i Mar 2021 10:00:00 +0000" "<one-$i@t>"
done
one_url=$(printf '%s' "$("$CRMGATE" db url)" | sed 's/user=[^ ]*/user=crmgate_one/')
INGEST_OUT=$(CRMGATE_DATABASE_URL="$one_url" "$CRMGATE" ingest --workspace DS "$WORK/one" 2>"$WORK/one.err")
is "$(printf '%s\n' "$INGEST_OUT" | tail -n 1)" "ingested 5, duplicates 0, skipped 0, failed 0" \
   "with the second connection refused, every mail is stored over one"
like "$(cat "$WORK/one.err")" "storing over one connection: .*too many connections" "and the log says why"
is "$(sql "SELECT count(*) FROM contacts WHERE email LIKE 'buyer%@oneconn.example'")" "5" "their senders are contacts"
done_testing
