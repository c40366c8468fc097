#!/bin/bash
# One meeting is one interaction, whoever's calendar or mailbox it came
# from: teammates' copies and the invitation mail are merged (participants
# the union, each answer its owner's), re-reading changes nothing, an
# internal meeting creates no contact, a declined occurrence is kept and
# marked until someone accepts.
. "$(dirname "$0")/lib.sh"

ICS="$top_srcdir/tests/data/ics"

"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Vendor --email alice@vendor.example --name "Alice Archer" >/dev/null
"$CRMGATE" user add --workspace Vendor --email bob@vendor.example --name "Bob Baker" >/dev/null

# ics FILE UID SEQUENCE [METHOD] -- VEVENT LINES on stdin (between DTSTAMP and END)
ics() {
    local file=$1 uid=$2 seq=$3 method=${4:-}
    {
        printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmgate test//EN\r\n'
        [ -n "$method" ] && printf 'METHOD:%s\r\n' "$method"
        printf 'BEGIN:VEVENT\r\nUID:%s\r\nSEQUENCE:%s\r\nDTSTAMP:20240301T100000Z\r\n' "$uid" "$seq"
        sed 's/$/\r/'
        printf 'END:VEVENT\r\nEND:VCALENDAR\r\n'
    } > "$WORK/$file"
}
meeting() {	# meeting UID SQL-EXPR
    sql "SELECT $2 FROM interactions WHERE type = 'meeting' AND metadata->>'uid' = '$1'"
}
partstats() {	# partstats UID: "email=PARTSTAT ..." sorted
    sql "SELECT string_agg((a->>'email') || '=' || coalesce(a->>'partstat', '-'), ' ' ORDER BY a->>'email')
           FROM interactions i, jsonb_array_elements(i.metadata->'attendees') a
          WHERE i.metadata->>'uid' = '$1'"
}
people() {	# people UID: participants "email:role" sorted
    sql "SELECT string_agg(p.email || ':' || p.role, ' ' ORDER BY p.email, p.role)
           FROM interaction_participants p JOIN interactions i ON i.id = p.interaction_id
          WHERE i.metadata->>'uid' = '$1'"
}

# ---- two teammates' copies of one meeting ---------------------------------
# Alice's calendar: she accepted, Bob is not listed (her server shows the
# attendees as they were when she was invited). Bob's: he is tentative,
# Alice's answer has not reached his copy yet.
ics alice.ics review-1@globex.com 2 <<'EOF'
DTSTART:20240320T140000Z
DTEND:20240320T150000Z
SUMMARY:Globex quarterly review
ORGANIZER;CN=Carol Client:mailto:carol@globex.com
ATTENDEE;PARTSTAT=ACCEPTED;CN=Carol Client:mailto:carol@globex.com
ATTENDEE;PARTSTAT=ACCEPTED;CN=Alice Archer:mailto:alice@vendor.example
EOF
ics bob.ics review-1@globex.com 2 <<'EOF'
DTSTART:20240320T140000Z
DTEND:20240320T150000Z
SUMMARY:Globex quarterly review
ORGANIZER;CN=Carol Client:mailto:carol@globex.com
ATTENDEE;PARTSTAT=ACCEPTED;CN=Carol Client:mailto:carol@globex.com
ATTENDEE;PARTSTAT=NEEDS-ACTION;CN=Alice Archer:mailto:alice@vendor.example
ATTENDEE;PARTSTAT=TENTATIVE;CN=Bob Baker:mailto:Bob@Vendor.example
EOF
ingest Vendor "$WORK/alice.ics"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "Alice's copy is a meeting"
ingest Vendor "$WORK/bob.ics"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "Bob's copy adds him to it"
is "$(meeting review-1@globex.com "count(*)")" "1" "one interaction for both copies"
is "$(people review-1@globex.com)" \
   "alice@vendor.example:attendee bob@vendor.example:attendee carol@globex.com:organizer carol@globex.com:attendee" \
   "both teammates are participants"
is "$(partstats review-1@globex.com)" \
   "alice@vendor.example=ACCEPTED bob@vendor.example=TENTATIVE carol@globex.com=ACCEPTED" \
   "each keeps the answer they gave: a copy still saying NEEDS-ACTION does not undo Alice's"
is "$(sql "SELECT count(*) FROM contacts")" "1" "the client is one contact"
row=$(meeting review-1@globex.com "id || ' ' || xmin")
ingest Vendor "$WORK/alice.ics" "$WORK/bob.ics"
is "$INGEST_LINE" "ingested 0, duplicates 2, skipped 0, failed 0" "both copies again are duplicates"
is "$(meeting review-1@globex.com "id || ' ' || xmin")" "$row" "and the row is not rewritten"
is "$(people review-1@globex.com | wc -w)" "4" "Alice's copy again does not drop Bob"

# the organizer's next version (higher SEQUENCE) moves it and lists Alice only
sed -e 's/^SEQUENCE:2/SEQUENCE:3/' -e 's/^DTSTART:20240320T140000Z/DTSTART:20240320T150000Z/' \
    -e 's/^DTEND:20240320T150000Z/DTEND:20240320T160000Z/' \
    "$WORK/alice.ics" > "$WORK/alice-moved.ics"
ingest Vendor "$WORK/alice-moved.ics"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "a moved version is taken"
is "$(meeting review-1@globex.com "interacted_at || ' ' || (metadata->>'sequence')")" \
   "2024-03-20 15:00:00+00 3" "at its new time, from the highest SEQUENCE"
is "$(people review-1@globex.com | wc -w)" "4" "Bob stays a participant"
ingest Vendor "$WORK/bob.ics"
is "$INGEST_LINE" "ingested 0, duplicates 1, skipped 0, failed 0" "Bob's older copy again changes nothing"
is "$(meeting review-1@globex.com "interacted_at")" "2024-03-20 15:00:00+00" "the time stays the newest"

# ---- an invitation mail and the same meeting from the calendar ------------
ingest Vendor "$ICS/invitation.eml"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "the invitation mail is the meeting"
sed -n '/^BEGIN:VCALENDAR/,/^END:VCALENDAR/p' "$ICS/invitation.eml" | \
    sed -e '/^METHOD:/d' -e 's/PARTSTAT=NEEDS-ACTION;RSVP=/PARTSTAT=ACCEPTED;RSVP=/' > "$WORK/kickoff.ics"
ingest Vendor "$WORK/kickoff.ics"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "Alice's calendar copy updates it"
is "$(meeting kickoff-0001@google.com "count(*)")" "1" "one interaction for mail and calendar"
is "$(sql "SELECT count(*) FROM interactions WHERE type = 'email'")" "0" "and no mail interaction"
is "$(partstats kickoff-0001@google.com)" "alice@vendor.example=ACCEPTED hank@globex.com=ACCEPTED" \
   "Alice's answer from her calendar"
ingest Vendor "$ICS/invitation.eml"
is "$INGEST_LINE" "ingested 0, duplicates 1, skipped 0, failed 0" "the mail again is a duplicate"
is "$(partstats kickoff-0001@google.com)" "alice@vendor.example=ACCEPTED hank@globex.com=ACCEPTED" \
   "and does not undo her answer"

# ---- an internal meeting ---------------------------------------------------
ics internal.ics standup-1@vendor.example 0 <<'EOF'
DTSTART:20240321T090000Z
DTEND:20240321T091500Z
SUMMARY:Team standup
ORGANIZER;CN=Alice Archer:mailto:alice@vendor.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@vendor.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dev@eng.vendor.example
ATTENDEE;CUTYPE=ROOM;PARTSTAT=ACCEPTED;CN=Room 1:mailto:c_room1@resource.calendar.google.com
EOF
contacts=$(sql "SELECT count(*) FROM contacts")
accounts=$(sql "SELECT count(*) FROM accounts")
ingest Vendor "$WORK/internal.ics"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "an internal meeting is stored"
is "$(meeting standup-1@vendor.example "metadata->>'direction'")" "internal" "its direction is internal"
is "$(sql "SELECT count(*) FROM contacts") $(sql "SELECT count(*) FROM accounts")" "$contacts $accounts" \
   "it creates no contact and no account (the room is no attendee)"
is "$(sql "SELECT count(*) FROM interaction_participants p JOIN interactions i ON i.id = p.interaction_id
           WHERE i.metadata->>'uid' = 'standup-1@vendor.example' AND p.contact_id IS NOT NULL")" "0" \
   "no participant is a contact"

# ---- a declined occurrence of a weekly series -----------------------------
ics weekly.ics weekly-1@vendor.example 0 <<'EOF'
DTSTART:20240401T100000Z
DTEND:20240401T103000Z
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Weekly sync with Globex
ORGANIZER:mailto:alice@vendor.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@vendor.example
ATTENDEE;PARTSTAT=ACCEPTED;CN=Carol Client:mailto:carol@globex.com
END:VEVENT
BEGIN:VEVENT
UID:weekly-1@vendor.example
SEQUENCE:0
DTSTAMP:20240301T100000Z
RECURRENCE-ID:20240408T100000Z
DTSTART:20240408T100000Z
DTEND:20240408T103000Z
SUMMARY:Weekly sync with Globex
ORGANIZER:mailto:alice@vendor.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@vendor.example
ATTENDEE;PARTSTAT=DECLINED;CN=Carol Client:mailto:carol@globex.com
EOF
weekly() {	# weekly RECURRENCE-ID EXPR
    sql "SELECT $2 FROM interactions WHERE metadata->>'uid' = 'weekly-1@vendor.example'
         AND metadata->>'recurrence_id' = '$1'"
}
ingest Vendor --calendar-from 2024-03-25 --calendar-to 2024-05-01 "$WORK/weekly.ics"
is "$INGEST_LINE" "ingested 3, duplicates 0, skipped 0, failed 0" "three occurrences"
is "$(weekly 2024-04-08T10:00:00Z "(metadata->>'declined') || ' ' || (metadata->'declined_by')::text")" \
   'true ["carol@globex.com"]' "the occurrence the client declined is kept, marked declined"
is "$(sql "SELECT string_agg(metadata->>'declined', ' ' ORDER BY interacted_at) FROM interactions
           WHERE metadata->>'uid' = 'weekly-1@vendor.example'")" "false true false" \
   "the other occurrences are not"
ics reply.ics weekly-1@vendor.example 0 REPLY <<'EOF'
RECURRENCE-ID:20240408T100000Z
DTSTART:20240408T100000Z
DTEND:20240408T103000Z
SUMMARY:Accepted: Weekly sync with Globex
ORGANIZER:mailto:alice@vendor.example
ATTENDEE;PARTSTAT=ACCEPTED;CN=Carol Client:mailto:carol@globex.com
EOF
ingest Vendor "$WORK/reply.ics"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "her later acceptance is taken"
is "$(weekly 2024-04-08T10:00:00Z "(metadata->>'declined') || ' ' || (metadata->'declined_by')::text || ' ' || content")" \
   'false [] Weekly sync with Globex' "it clears the mark, and a reply does not change the text"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'uid' = 'weekly-1@vendor.example'")" "3" \
   "still three occurrences"
ingest Vendor --calendar-from 2024-03-25 --calendar-to 2024-05-01 "$WORK/weekly.ics"
is "$(weekly 2024-04-08T10:00:00Z "metadata->>'declined'")" "false" \
   "the organizer's older copy again does not undo her own answer"

# ---- the declined rule ------------------------------------------------------
declined() { sql "SELECT crmgate_meeting_declined('$1'::jsonb)->>'declined'"; }
is "$(declined '{"organizer":{"email":"hank@globex.com","internal":false},"attendees":[
      {"email":"hank@globex.com","partstat":"ACCEPTED","internal":false},
      {"email":"alice@vendor.example","partstat":"DECLINED","internal":true},
      {"email":"bob@vendor.example","partstat":"DECLINED","internal":true},
      {"email":"c_room@resource.calendar.google.com","cutype":"ROOM","partstat":"ACCEPTED","internal":false}]}')" \
   "true" "an external organizer's meeting every teammate declined is declined"
is "$(declined '{"organizer":{"email":"hank@globex.com","internal":false},"attendees":[
      {"email":"alice@vendor.example","partstat":"DECLINED","internal":true},
      {"email":"bob@vendor.example","partstat":"ACCEPTED","internal":true}]}')" \
   "false" "not while one teammate goes"
is "$(declined '{"organizer":{"email":"alice@vendor.example","internal":true},"calendar_owners":["bob@vendor.example"],"attendees":[
      {"email":"carol@globex.com","partstat":"ACCEPTED","internal":false},
      {"email":"bob@vendor.example","partstat":"DECLINED","internal":true,"own_answer":true}]}')" \
   "true" "the calendar's owner declining in their own copy marks it"
is "$(declined '{"organizer":{"email":"alice@vendor.example","internal":true},"calendar_owners":["bob@vendor.example"],"attendees":[
      {"email":"carol@globex.com","partstat":"ACCEPTED","internal":false},
      {"email":"bob@vendor.example","partstat":"DECLINED","internal":true,"own_answer":false}]}')" \
   "false" "another copy's word for the owner does not"

is "$(sql "SELECT count(*) FROM interactions i JOIN interaction_participants p ON p.interaction_id = i.id WHERE p.interacted_at <> i.interacted_at")" \
   "0" "every participant row carries its interaction's date"


# ---- two teammates' CalDAV calendars (Radicale) -----------------------------
. "$(dirname "$0")/radicale.sh"
if ! radicale_installed; then
    diag "radicale is not installed: the CalDAV part is skipped"
    done_testing
    exit $?
fi
PW='s3cret-Pa55-meet'
trap 'stop_serves; radicale_stop; cleanup' EXIT
radicale_start "alice:$PW" "bob:$PW"
ok $? "radicale starts with two users"
U="$RADICALE_URL"
printf '%s\n' "$PW" > "$WORK/dav.pw"
dav() { curl -s -u "$1:$PW" -o /dev/null -w '%{http_code}' "${@:2}"; }
mkcal() { dav "$1" -X MKCALENDAR "$U/$1/work/"; }
put() { dav "$1" -T "$2" -H 'Content-Type: text/calendar; charset=utf-8' "$U/$1/work/demo.ics"; }
D=$(date -u -d "3 days" +%Y%m%d)
# Alice's server leaves her (the owner) out; Bob declined in his copy
ics dav-alice.ics demo-1@globex.com 0 <<EOF
DTSTART:${D}T140000Z
DTEND:${D}T150000Z
SUMMARY:Globex demo
ORGANIZER;CN=Carol Client:mailto:carol@globex.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@globex.com
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@vendor.example
EOF
ics dav-bob.ics demo-1@globex.com 0 <<EOF
DTSTART:${D}T140000Z
DTEND:${D}T150000Z
SUMMARY:Globex demo
ORGANIZER;CN=Carol Client:mailto:carol@globex.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@globex.com
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:alice@vendor.example
ATTENDEE;PARTSTAT=DECLINED:mailto:bob@vendor.example
EOF
is "$(mkcal alice)$(mkcal bob)$(put alice "$WORK/dav-alice.ics")$(put bob "$WORK/dav-bob.ics")" \
   201201201201 "each teammate's calendar holds the meeting"
"$CRMGATE" source add caldav --workspace Vendor --url "$U/" --user alice --owner alice@vendor.example \
    --password-file "$WORK/dav.pw" >/dev/null
"$CRMGATE" source add caldav --workspace Vendor --url "$U/" --user bob --owner Bob@Vendor.example \
    --password-file "$WORK/dav.pw" >/dev/null
is "$(sql "SELECT string_agg(settings->>'owner', ' ' ORDER BY id) FROM sources")" \
   "alice@vendor.example bob@vendor.example" "source add caldav --owner records the owner"
serve_sources dav --source-poll 1
demo_owners() { [ "$(meeting demo-1@globex.com "jsonb_array_length(metadata->'calendar_owners')")" = "$1" ]; }
wait_for 30 demo_owners 2
is "$(meeting demo-1@globex.com "count(*)")" "1" "both calendars' copies are one interaction"
is "$(people demo-1@globex.com)" \
   "alice@vendor.example:attendee bob@vendor.example:attendee carol@globex.com:organizer carol@globex.com:attendee" \
   "both owners are participants, Alice though her server left her out"
is "$(partstats demo-1@globex.com)" \
   "alice@vendor.example=NEEDS-ACTION bob@vendor.example=DECLINED carol@globex.com=ACCEPTED" \
   "Bob's answer is his own copy's, Alice's the only one known"
is "$(meeting demo-1@globex.com "(metadata->>'declined') || ' ' || (metadata->'declined_by')::text")" \
   'false ["bob@vendor.example"]' "Bob declined; the meeting still happens with Alice"
row=$(meeting demo-1@globex.com "id || ' ' || xmin")
sleep 3	# polls that find nothing new
is "$(meeting demo-1@globex.com "id || ' ' || xmin")" "$row" "re-polling both calendars rewrites nothing"
sed 's/PARTSTAT=DECLINED:mailto:bob/PARTSTAT=ACCEPTED:mailto:bob/' "$WORK/dav-bob.ics" > "$WORK/dav-bob2.ics"
put bob "$WORK/dav-bob2.ics" >/dev/null
bob_accepted() {
    [ "$(partstats demo-1@globex.com)" = "alice@vendor.example=NEEDS-ACTION bob@vendor.example=ACCEPTED carol@globex.com=ACCEPTED" ]
}
wait_for 20 bob_accepted
ok $? "Bob accepting in his calendar is taken"
[ "$TEST_FAILED" -eq 0 ] || { diag "$(partstats demo-1@globex.com)"; diag "$("$CRMGATE" source list)"; diag "$(tail -5 "$WORK/dav.log")"; }
is "$(meeting demo-1@globex.com "(metadata->'declined_by')::text")" '[]' "the decline is cleared"
is "$(meeting demo-1@globex.com "count(*)")" "1" "still one interaction"
is "$(meeting demo-1@globex.com "jsonb_array_length(metadata->'caldav_hrefs')")" "2" \
   "the meeting knows both calendars' resources"
is "$(dav alice -X DELETE "$U/alice/work/demo.ics")" 200 "Alice deletes it from her calendar"
alice_gone() { [ "$(meeting demo-1@globex.com "metadata->'caldav_hrefs'->>0")" = "$U/bob/work/demo.ics" ]; }
wait_for 20 alice_gone
ok $? "her resource is taken off the meeting"
is "$(meeting demo-1@globex.com "coalesce(metadata->>'caldav_deleted', 'no') || ' ' || (metadata->>'cancelled')")" \
   "no false" "and it is not cancelled: it is still in Bob's calendar"
is "$(people demo-1@globex.com | wc -w)" "4" "nobody drops out"
is "$(dav bob -X DELETE "$U/bob/work/demo.ics")" 200 "Bob deletes it too"
cancelled() { [ "$(meeting demo-1@globex.com "metadata->>'caldav_deleted'")" = "true" ]; }
wait_for 20 cancelled
ok $? "the meeting in no calendar any more is kept, marked cancelled"
stop_serves

done_testing
