#!/bin/bash
# Who becomes a contact (issue 8): role addresses, the per-source contact
# policy, the blocklist, free-mail corrections and accounts owning
# several domains, driven through the commands a CRM admin uses.
. "$(dirname "$0")/lib.sh"

contact() {	# contact WORKSPACE EMAIL: "first last|account name or B2C", empty if none
    sql "SELECT coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || '|' ||
                coalesce(a.name, 'B2C')
           FROM contacts c JOIN workspaces w ON w.id = c.workspace_id
           LEFT JOIN accounts a ON a.id = c.account_id
          WHERE w.name = '$1' AND c.email = '$2'"
}
n_contacts() { sql "SELECT count(*) FROM contacts c JOIN workspaces w ON w.id = c.workspace_id WHERE w.name = '$1'"; }
by_mid() {	# by_mid MESSAGE-ID: "contact email or -|account name or -|direction"
    sql "SELECT coalesce(c.email, '-') || '|' || coalesce(a.name, '-') || '|' || (i.metadata->>'direction')
           FROM interactions i LEFT JOIN contacts c ON c.id = i.contact_id
           LEFT JOIN accounts a ON a.id = i.account_id
          WHERE i.metadata->>'message_id' = '$1'"
}

# ---- role and system addresses -------------------------------------------
"$CRMGATE" workspace add Roles --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Roles --email rep@vendor.example >/dev/null
d="$WORK/roles"; mkdir -p "$d"
mail "$d/1.eml" "MegaCorp Billing <billing@megacorp.com>" "rep@vendor.example" "Invoice 42" \
     "Mon, 03 Jun 2024 09:00:00 +0000" "<role-1@megacorp.com>"
mail "$d/2.eml" "Portal <no-reply@portal.megacorp.com>" "rep@vendor.example" "Your ticket" \
     "Mon, 03 Jun 2024 10:00:00 +0000" "<role-2@megacorp.com>"
mail "$d/3.eml" "rep@vendor.example" "support@megacorp.com, Mary Jones <mary@megacorp.com>" "Escalation" \
     "Mon, 03 Jun 2024 11:00:00 +0000" "<role-3@vendor.example>"
ingest Roles "$d"
is "$INGEST_LINE" "ingested 3, duplicates 0, skipped 0, failed 0" "role addresses: the mails are logged"
is "$(contact Roles billing@megacorp.com)$(contact Roles no-reply@portal.megacorp.com)$(contact Roles support@megacorp.com)" "" \
   "role addresses: billing@, no-reply@ and support@ never become contacts"
is "$(by_mid role-1@megacorp.com)" "-|Megacorp|inbound" "role addresses: billing@'s domain still names the account"
is "$(by_mid role-2@megacorp.com)" "-|Megacorp|inbound" "role addresses: a subdomain's no-reply@ names the same account"
is "$(by_mid role-3@vendor.example)" "mary@megacorp.com|Megacorp|outbound" \
   "role addresses: the person, not support@, is the mail's contact"
is "$(sql "SELECT count(*) FROM interaction_participants p WHERE p.email = 'support@megacorp.com' AND p.contact_id IS NULL AND p.role = 'to'")" "1" \
   "role addresses: support@ is still listed as a participant, with no contact"

# ---- the contact policy of a source ----------------------------------------
"$CRMGATE" workspace add Policy --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Policy --email rep@vendor.example >/dev/null
d="$WORK/policy"; mkdir -p "$d/in" "$d/out" "$d/later" "$d/none"
mail "$d/in/1.eml" "Cold Caller <cold@leads.example>" "rep@vendor.example" "Buy our list" \
     "Mon, 03 Jun 2024 09:00:00 +0000" "<pol-1@leads.example>"
mail "$d/out/2.eml" "rep@vendor.example" "Dana Buyer <dana@buyer.example>" "Our offer" \
     "Mon, 03 Jun 2024 10:00:00 +0000" "<pol-2@vendor.example>"
mail "$d/later/3.eml" "Dana Buyer <dana@buyer.example>" "rep@vendor.example" "Re: Our offer" \
     "Tue, 04 Jun 2024 10:00:00 +0000" "<pol-3@buyer.example>" "Cc: Eli Boss <eli@buyer.example>"
ingest Policy --contacts sent "$d/in"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "policy sent: inbound mail from a stranger is still logged"
is "$(n_contacts Policy)" "0" "policy sent: a stranger who wrote in is not made a contact"
is "$(by_mid pol-1@leads.example)" "-|-|inbound" "policy sent: ...nor an account for his domain"
ingest Policy --contacts sent "$d/out"
is "$(contact Policy dana@buyer.example)" "Dana Buyer|Buyer" "policy sent: someone a user wrote to becomes a contact"
ingest Policy --contacts sent "$d/later"
is "$(by_mid pol-3@buyer.example)" "dana@buyer.example|Buyer|inbound" "policy sent: her reply is linked to the existing contact"
is "$(contact Policy eli@buyer.example)" "" "policy sent: a new person copied on her reply is not created"
mail "$d/none/4.eml" "rep@vendor.example" "Dana Buyer <dana@buyer.example>, New Person <new@buyer.example>" "Agenda" \
     "Wed, 05 Jun 2024 10:00:00 +0000" "<pol-4@vendor.example>"
ingest Policy --contacts none "$d/none"
is "$(by_mid pol-4@vendor.example)" "dana@buyer.example|Buyer|outbound" "policy none: existing contacts are still linked"
is "$(contact Policy new@buyer.example)" "" "policy none: nobody new is created"
ingest Policy --contacts everyone "$d/none"
is "$INGEST_RC" "2" "policy: an unknown policy name is a usage error"
like "$INGEST_ERR" "--contacts everyone" "policy: the error names the bad value"
"$CRMGATE" workspace add Default --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Default --email rep@vendor.example >/dev/null
ingest Default "$d/in"
is "$(contact Default cold@leads.example)" "Cold Caller|Leads" "policy: sent_and_received is the default"

# ---- the blocklist ---------------------------------------------------------
"$CRMGATE" workspace add Block --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Block --email rep@vendor.example >/dev/null
"$CRMGATE" blocklist add --workspace Block @Spam.example
is "$?" "0" "blocklist: a domain is added"
"$CRMGATE" blocklist add --workspace Block Eve@Rival.example
"$CRMGATE" blocklist add --workspace Block @rival-too.example
"$CRMGATE" blocklist add --workspace Block eve@rival.example 2>"$WORK/err"
is "$?" "0" "blocklist: adding an entry twice changes nothing"
is "$("$CRMGATE" blocklist list --workspace Block | tr '\n' ' ')" "@rival-too.example @spam.example eve@rival.example " \
   "blocklist: the list shows entries lower-cased"
"$CRMGATE" blocklist remove --workspace Block @rival-too.example
is "$("$CRMGATE" blocklist list --workspace Block | wc -l)" "2" "blocklist: an entry is removed"
"$CRMGATE" blocklist remove --workspace Block @never.example 2>"$WORK/err"
is "$?" "1" "blocklist: removing what is not listed fails"
like "$(cat "$WORK/err")" "@never.example is not on Block's blocklist" "blocklist: ...and says so"
"$CRMGATE" blocklist add --workspace Block "not an address" 2>"$WORK/err"
is "$?" "2" "blocklist: junk is a usage error"
"$CRMGATE" blocklist add --workspace Nowhere @x.example 2>"$WORK/err"
is "$?" "2" "blocklist: an unknown workspace is a usage error"
like "$(cat "$WORK/err")" "no workspace named \"Nowhere\"" "blocklist: ...named in the error"
d="$WORK/block"; mkdir -p "$d"
mail "$d/1.eml" "Deals <deals@mx.spam.example>" "rep@vendor.example" "Cheap pills" \
     "Mon, 03 Jun 2024 09:00:00 +0000" "<blk-1@spam.example>"
mail "$d/2.eml" "Eve <eve@rival.example>" "rep@vendor.example" "Poaching" \
     "Mon, 03 Jun 2024 10:00:00 +0000" "<blk-2@rival.example>" "Cc: Ann Client <ann@client.example>"
mail "$d/3.eml" "rep@vendor.example" "Rita <rita@rival.example>" "Hello Rita" \
     "Mon, 03 Jun 2024 11:00:00 +0000" "<blk-3@vendor.example>"
ingest Block "$d"
is "$INGEST_LINE" "ingested 2, duplicates 0, skipped 1, failed 0" "blocklist: mail with only blocked outsiders is skipped"
like "$INGEST_ERR" "1.eml: skipped: every external party is on the workspace's blocklist: deals@mx.spam.example" \
     "blocklist: the skip names the file and the blocked address"
is "$(sql "SELECT count(*) FROM interaction_participants p JOIN workspaces w ON w.id = p.workspace_id WHERE w.name = 'Block' AND p.email LIKE '%rival.example'")" "1" \
   "blocklist: a blocked party is no participant (an unblocked colleague of hers is)"
is "$(contact Block eve@rival.example)" "" "blocklist: a blocked address creates no contact"
is "$(by_mid blk-2@rival.example)" "ann@client.example|Client|inbound" "blocklist: the mail goes to the other outsider"
is "$(contact Block rita@rival.example)" "Rita |Rival" "blocklist: an address is blocked alone, not its domain"
"$CRMGATE" blocklist remove --workspace Block eve@rival.example
mail "$d/4.eml" "Eve <eve@rival.example>" "rep@vendor.example" "Truce" \
     "Tue, 04 Jun 2024 10:00:00 +0000" "<blk-4@rival.example>"
ingest Block "$d/4.eml"
is "$(contact Block eve@rival.example)" "Eve |Rival" "blocklist: once removed, the address is logged again"
cat > "$d/spam.ics" <<'ICS'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:blocked-meeting-1@spam.example
DTSTAMP:20240601T000000Z
DTSTART:20240605T100000Z
DTEND:20240605T110000Z
SUMMARY:Webinar you never asked for
ORGANIZER:mailto:events@spam.example
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:rep@vendor.example
END:VEVENT
END:VCALENDAR
ICS
ingest Block --calendar-from 2024-05-01 --calendar-to 2024-07-01 "$d/spam.ics"
is "$INGEST_LINE" "ingested 0, duplicates 0, skipped 1, failed 0" "blocklist: a meeting organised by a blocked domain is skipped"

# ---- free-mail corrections -------------------------------------------------
"$CRMGATE" workspace add Free --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Free --email rep@vendor.example >/dev/null
"$CRMGATE" freemail remove --workspace Free GMAIL.com
"$CRMGATE" freemail add --workspace Free mail.smallisp.example 2>"$WORK/err"
like "$(cat "$WORK/err")" "taken as its registrable domain smallisp.example" "freemail: a host is reduced to its registrable domain"
is "$("$CRMGATE" freemail list --workspace Free | tr '\t\n' ': ')" "gmail.com:corporate smallisp.example:free-mail " \
   "freemail: the corrections are listed"
d="$WORK/free"; mkdir -p "$d"
mail "$d/1.eml" "Gus <gus@gmail.com>" "rep@vendor.example" "Hi" "Mon, 03 Jun 2024 09:00:00 +0000" "<fm-1@gmail.com>"
mail "$d/2.eml" "Pat <pat@smallisp.example>" "rep@vendor.example" "Hi" "Mon, 03 Jun 2024 10:00:00 +0000" "<fm-2@smallisp.example>"
mail "$d/3.eml" "Yan <yan@yahoo.co.uk>" "rep@vendor.example" "Hi" "Mon, 03 Jun 2024 11:00:00 +0000" "<fm-3@yahoo.co.uk>"
ingest Free "$d"
is "$(contact Free gus@gmail.com)" "Gus |Gmail" "freemail: a domain removed from the list is a company"
is "$(contact Free pat@smallisp.example)" "Pat |B2C" "freemail: a domain added to the list keeps contacts B2C"
is "$(contact Free yan@yahoo.co.uk)" "Yan |B2C" "freemail: the built-in list still holds for the rest"
ingest Roles "$WORK/free/1.eml"
is "$(contact Roles gus@gmail.com)" "Gus |B2C" "freemail: corrections belong to their workspace only"
"$CRMGATE" freemail reset --workspace Free gmail.com
is "$("$CRMGATE" freemail list --workspace Free | wc -l)" "1" "freemail: reset forgets a correction"
"$CRMGATE" freemail reset --workspace Free gmail.com 2>/dev/null
is "$?" "1" "freemail: resetting what is not corrected fails"

# ---- accounts owning several domains ---------------------------------------
"$CRMGATE" workspace add Multi --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Multi --email rep@vendor.example >/dev/null
acme=$("$CRMGATE" account add --workspace Multi --name "Acme Group" --domain acme.com --domain eu.acme.co.uk)
is "$?" "0" "accounts: an account is added with two domains"
is "$("$CRMGATE" account list --workspace Multi | cut -f1,3)" "$(printf 'Acme Group\tacme.co.uk,acme.com')" \
   "accounts: the listing shows both registrable domains"
"$CRMGATE" account add --workspace Multi --name "Acme Group" --domain acme-labs.io >/dev/null
is "$(sql "SELECT count(*) FROM accounts a JOIN workspaces w ON w.id = a.workspace_id WHERE w.name = 'Multi'")|$(sql "SELECT count(*) FROM account_domains WHERE account_id = '$acme'")" "1|3" \
   "accounts: adding a domain to an existing account keeps one account"
"$CRMGATE" account add --workspace Multi --name "Other" --domain acme.com 2>"$WORK/err"
is "$?" "1" "accounts: a domain owned by another account is refused"
like "$(cat "$WORK/err")" "acme.com already belongs to the account \"Acme Group\"" "accounts: ...naming the owner"
is "$(sql "SELECT count(*) FROM accounts WHERE name = 'Other'")" "0" "accounts: ...and nothing is half-made"
d="$WORK/multi"; mkdir -p "$d"
mail "$d/1.eml" "Al <al@acme.com>" "rep@vendor.example" "US" "Mon, 03 Jun 2024 09:00:00 +0000" "<mu-1@acme.com>"
mail "$d/2.eml" "Bea <bea@london.acme.co.uk>" "rep@vendor.example" "UK" "Mon, 03 Jun 2024 10:00:00 +0000" "<mu-2@acme.co.uk>"
mail "$d/3.eml" "Cy <cy@acme-labs.io>" "rep@vendor.example" "Labs" "Mon, 03 Jun 2024 11:00:00 +0000" "<mu-3@acme-labs.io>"
ingest Multi "$d"
is "$(contact Multi al@acme.com)/$(contact Multi bea@london.acme.co.uk)/$(contact Multi cy@acme-labs.io)" \
   "Al |Acme Group/Bea |Acme Group/Cy |Acme Group" "accounts: contacts of every domain link to the one account"

# ---- the policy is kept with a connected source ----------------------------
echo secret > "$WORK/pw"
"$CRMGATE" source add imap --workspace Policy --host imap.example --user rep@vendor.example \
    --password-file "$WORK/pw" --contacts sent >/dev/null
is "$(sql "SELECT settings->>'contacts' FROM sources WHERE kind = 'imap'")" "sent" "sources: --contacts is kept in the source's settings"
"$CRMGATE" source add caldav --workspace Policy --url https://cal.example/ --user rep \
    --password-file "$WORK/pw" >/dev/null
is "$(sql "SELECT settings->>'contacts' FROM sources WHERE kind = 'caldav'")" "sent_and_received" \
   "sources: a calendar's default policy is sent_and_received"
"$CRMGATE" source add imap --workspace Policy --host imap.example --user rep@vendor.example \
    --password-file "$WORK/pw" --contacts all 2>/dev/null
is "$?" "2" "sources: an unknown policy is refused"

done_testing
