#!/bin/bash
# Meetings: .ics files and invitations in mail become interactions of
# type meeting, one per occurrence, with their organizer and attendees
# matched like mail parties. Instants are UTC and right across daylight
# saving changes; a newer version of a meeting changes its row instead of
# adding one; a cancelled meeting is kept and marked.
. "$(dirname "$0")/lib.sh"

ICS="$top_srcdir/tests/data/ics"
OUTLOOK_UID=040000008200E00074C5B7101A82E00800000000B0C4D5E6F7A8D90100000000000000001000000012345678901234567890ABCDEF

"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Vendor --email alice@vendor.example --name "Alice Archer" >/dev/null
"$CRMGATE" user add --workspace Vendor --email rob@vendor.example --name "Robert Rep" >/dev/null
alice=$(sql "SELECT id FROM users WHERE email = 'alice@vendor.example'")
spring="--calendar-from 2024-03-01 --calendar-to 2024-05-01"

meeting() {	# meeting SQL-EXPR RECURRENCE-ID: a column of the Outlook occurrence
    sql "SELECT $1 FROM interactions WHERE type = 'meeting' AND metadata->>'uid' = '$OUTLOOK_UID'
         AND metadata->>'recurrence_id' = '$2'"
}

# ---- an Outlook series: DST, a moved occurrence, an EXDATE ---------------
ingest Vendor $spring "$ICS/outlook-weekly-dst.ics"
is "$INGEST_LINE" "ingested 5, duplicates 0, skipped 0, failed 0" \
   "an Outlook weekly series of six with one EXDATE gives five meetings"
is "$INGEST_RC" "0" "exit status 0"
is "$(sql "SELECT count(*) FROM interactions WHERE type = 'meeting'")" "5" "five meeting rows"
is "$(meeting "interacted_at" 2024-03-25T09:00:00Z)" "2024-03-25 09:00:00+00" \
   "10:00 in Berlin before the change to summer time is 09:00 UTC"
is "$(meeting "interacted_at" 2024-04-01T08:00:00Z)" "2024-04-01 08:00:00+00" \
   "10:00 in Berlin after the change is 08:00 UTC"
is "$(meeting "interacted_at || ' ' || (metadata->>'end')" 2024-03-18T09:00:00Z)" \
   "2024-03-19 13:00:00+00 2024-03-19T13:30:00Z" \
   "the occurrence moved to Tuesday 14:00 keeps its identity and has its new time"
is "$(meeting "content" 2024-03-18T09:00:00Z | head -n 1)" "MegaCorp rollout sync (moved to Tuesday)" \
   "the moved occurrence has its own summary"
is "$(sql "SELECT count(*) FROM interactions WHERE type = 'meeting' AND interacted_at::date = '2024-04-08'")" \
   "0" "the EXDATE'd occurrence is not stored"
is "$(sql "SELECT count(DISTINCT user_id) || ' ' || min(user_id::text) FROM interactions WHERE type = 'meeting'")" \
   "1 $alice" "the internal organizer sets user_id"
is "$(meeting "metadata->>'conference_url'" 2024-03-11T09:00:00Z)" \
   "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0" "the Teams link is kept"
is "$(meeting "metadata->'attendees'->1->>'partstat'" 2024-03-11T09:00:00Z)" "ACCEPTED" \
   "attendees keep their PARTSTAT in the metadata"
is "$(sql "SELECT string_agg(p.email || ':' || p.role || ':' || (p.contact_id IS NOT NULL) || ':' || (p.user_id IS NOT NULL), ' ' ORDER BY p.role, p.email)
           FROM interaction_participants p JOIN interactions i ON i.id = p.interaction_id
          WHERE i.metadata->>'recurrence_id' = '2024-03-11T09:00:00Z'")" \
   "alice@vendor.example:organizer:false:true david.doe@megacorp.com:attendee:true:false mary@megacorp.com:attendee:true:false" \
   "organizer and attendees are participants: users internal, outsiders contacts; the room is none"
is "$(sql "SELECT a.name || ' ' || count(*) FROM contacts c JOIN accounts a ON a.id = c.account_id GROUP BY a.name")" \
   "Megacorp 2" "the attendees' company becomes an account by their domain"
is "$(sql "SELECT count(*) FROM contacts WHERE email LIKE '%vendor.example'")" "0" \
   "neither the internal organizer nor the room becomes a contact"
is "$(sql "SELECT count(*) FROM embedding_jobs WHERE target_id IN (SELECT id FROM interactions WHERE type = 'meeting')")" \
   "5" "each meeting is queued for embedding"

before=$(sql "SELECT (SELECT count(*) FROM interactions) || '/' || (SELECT count(*) FROM interaction_participants) || '/' || (SELECT count(*) FROM embedding_jobs)")
ingest Vendor $spring "$ICS/outlook-weekly-dst.ics"
is "$INGEST_LINE" "ingested 0, duplicates 5, skipped 0, failed 0" "the same file again is all duplicates"
is "$(sql "SELECT (SELECT count(*) FROM interactions) || '/' || (SELECT count(*) FROM interaction_participants) || '/' || (SELECT count(*) FROM embedding_jobs)")" \
   "$before" "and adds no row, participant or job"

# ---- a newer version: the moved occurrence moves again, to April ---------
moved_id=$(meeting id 2024-03-18T09:00:00Z)
sed -e '/RECURRENCE-ID/,/END:VEVENT/{s/^SEQUENCE:1/SEQUENCE:2/;s/20240319T140000/20240402T160000/;s/20240319T143000/20240402T163000/;s/moved to Tuesday/moved to April/}' \
    "$ICS/outlook-weekly-dst.ics" > "$WORK/update.ics"
# and a new attendee for the moved one
sed -i '/^RECURRENCE-ID/i ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;CN=Susan Sue:mailto:susan@megacorp.com' "$WORK/update.ics"
ingest Vendor $spring "$WORK/update.ics"
is "$INGEST_LINE" "ingested 1, duplicates 4, skipped 0, failed 0" \
   "a higher SEQUENCE of one occurrence updates that one; the others are unchanged"
is "$(sql "SELECT count(*) FROM interactions WHERE type = 'meeting'")" "5" "still five meetings: no second row"
is "$(meeting "id" 2024-03-18T09:00:00Z)" "$moved_id" "the updated meeting keeps its id"
is "$(meeting "interacted_at || ' ' || tableoid::regclass" 2024-03-18T09:00:00Z)" \
   "2024-04-02 14:00:00+00 interactions_y2024m04" "it moved to its new time, and to April's partition"
is "$(meeting "content" 2024-03-18T09:00:00Z | head -n 1)" "MegaCorp rollout sync (moved to April)" "its text is the new one"
is "$(meeting "(metadata->>'sequence') || ' ' || (metadata->>'replaced_revision')" 2024-03-18T09:00:00Z)" "2 1" \
   "the metadata says which version it is and which it replaced"
is "$(sql "SELECT string_agg(email || '@' || interacted_at, ' ' ORDER BY email) FROM interaction_participants WHERE interaction_id = '$moved_id'")" \
   "alice@vendor.example@2024-04-02 14:00:00+00 mary@megacorp.com@2024-04-02 14:00:00+00 susan@megacorp.com@2024-04-02 14:00:00+00" \
   "participants are refreshed, with the new date"
is "$(sql "SELECT status || ' ' || target_at FROM embedding_jobs WHERE target_id = '$moved_id'")" \
   "pending 2024-04-02 14:00:00+00" "one embedding job for the new text, pointing at the new row"
ingest Vendor $spring "$ICS/outlook-weekly-dst.ics"
is "$INGEST_LINE" "ingested 0, duplicates 5, skipped 0, failed 0" "the older version arriving late changes nothing"
is "$(meeting "content" 2024-03-18T09:00:00Z | head -n 1)" "MegaCorp rollout sync (moved to April)" "the newer text stays"

# ---- cancelled: kept and marked --------------------------------------------
sed -e 's/^METHOD:CANCEL/METHOD:REQUEST/' -e 's/^STATUS:CANCELLED/STATUS:CONFIRMED/' -e 's/^SEQUENCE:2/SEQUENCE:1/' \
    "$ICS/cancelled.ics" > "$WORK/demo-request.ics"
ingest Vendor "$WORK/demo-request.ics"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "a Google invitation is a meeting"
demo_id=$(sql "SELECT id FROM interactions WHERE metadata->>'uid' = '7kukuqrfedlm2f9t0vr42q2ab8@google.com'")
ingest Vendor "$ICS/cancelled.ics"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "its cancellation is a new version"
is "$(sql "SELECT id || ' ' || (metadata->>'cancelled') || ' ' || (metadata->>'status') || ' ' || (metadata->>'method') FROM interactions WHERE metadata->>'uid' = '7kukuqrfedlm2f9t0vr42q2ab8@google.com'")" \
   "$demo_id true CANCELLED CANCEL" "the cancelled meeting is kept, the same row, marked cancelled"
is "$(sql "SELECT c.email || ' ' || (c.account_id IS NULL) FROM contacts c WHERE email = 'jane@gmail.com'")" \
   "jane@gmail.com true" "a free-mail attendee is a contact without account"

# ---- Apple: New York across the autumn change, all-day ---------------------
ingest Vendor --calendar-from 2024-10-01 --calendar-to 2024-12-01 "$ICS/apple-new-york.ics"
is "$INGEST_LINE" "ingested 5, duplicates 0, skipped 0, failed 0" "an Apple calendar: four weekly meetings and an all-day one"
is "$(sql "SELECT string_agg(to_char(interacted_at AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), ' ' ORDER BY interacted_at) FROM interactions WHERE metadata->>'uid' = '6E1F2C3A-9B7D-4E8F-A1B2-C3D4E5F60718'")" \
   "10-24 13:00 10-31 13:00 11-07 14:00 11-14 14:00" "09:00 in New York is 13:00 UTC in EDT, 14:00 UTC in EST"
is "$(sql "SELECT interacted_at || ' ' || (metadata->>'all_day') || ' ' || (metadata->>'end') FROM interactions WHERE metadata->>'uid' = '0D3E5A77-1111-4C2B-9E3A-ALLDAY000001'")" \
   "2024-11-05 00:00:00+00 true 2024-11-07T00:00:00Z" "an all-day event is at 00:00 UTC of its day"
is "$(sql "SELECT metadata->>'direction' || ' ' || (user_id IS NOT NULL) || ' ' || c.email FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE metadata->>'recurrence_id' = '2024-10-24T13:00:00Z'")" \
   "outbound true hank@globex.com" "our rep's meeting with an outsider: outbound, credited to the rep, about the outsider"

# same SEQUENCE, other content (a sync of an edit that did not bump it)
sed 's|Agenda in the doc|New agenda in the doc|' "$ICS/apple-new-york.ics" > "$WORK/apple-edit.ics"
ingest Vendor --calendar-from 2024-10-01 --calendar-to 2024-12-01 "$WORK/apple-edit.ics"
is "$INGEST_LINE" "ingested 4, duplicates 1, skipped 0, failed 0" \
   "an edit with the same SEQUENCE updates the four occurrences it changed"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'uid' = '6E1F2C3A-9B7D-4E8F-A1B2-C3D4E5F60718' AND content LIKE '%New agenda%'")" \
   "4" "all four carry the new text, still four rows"

# a REPLY is one attendee's view: it never overwrites the meeting
sed -e 's/^SEQUENCE:0/SEQUENCE:5/' -e 's/^SUMMARY:Pipeline review with Globex/SUMMARY:Accepted: Pipeline review/' \
    -e 's/^PRODID:.*/&\nMETHOD:REPLY/' "$ICS/apple-new-york.ics" > "$WORK/apple-reply.ics"
ingest Vendor --calendar-from 2024-10-01 --calendar-to 2024-12-01 "$WORK/apple-reply.ics"
is "$INGEST_LINE" "ingested 0, duplicates 5, skipped 0, failed 0" "a REPLY with a higher SEQUENCE is a duplicate"
is "$(sql "SELECT count(*) FROM interactions WHERE content LIKE 'Accepted:%'")" "0" "and the meetings keep their text"

# ---- bad files go to stderr, the rest goes in -------------------------------
cp "$ICS/garbage.ics" "$WORK/garbage.txt"
ingest Vendor "$WORK/garbage.txt" "$ICS/no-dtstart.ics" "$ICS/truncated.ics" "$ICS/python-icalendar/america_new_york.ics"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 3" "three bad calendars fail, the good one is stored"
is "$INGEST_RC" "1" "exit status 1 when some failed"
like "$INGEST_ERR" "garbage.txt: not iCalendar" "a garbage file is named with its reason"
like "$INGEST_ERR" "no-dtstart.ics: event nostart-1@example.com: no DTSTART" "an event without DTSTART is named by file and UID"
like "$INGEST_ERR" "truncated.ics: truncated iCalendar" "a truncated file is named"
ingest Vendor "$ICS/python-icalendar/issue_112_missing_tzinfo_on_exdate.ics"
is "$INGEST_LINE" "ingested 0, duplicates 0, skipped 1, failed 0" \
   "a Google export of a 2013 series has nothing in today's window: skipped"
printf 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:sec-1@example.com\r\nDTSTART:20240101T000000Z\r\nRRULE:FREQ=SECONDLY;BYMONTH=12\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' > "$WORK/secondly.ics"
ingest Vendor "$WORK/secondly.ics"
is "$INGEST_LINE" "ingested 0, duplicates 0, skipped 0, failed 1" "a rule by the second is refused at once"
like "$INGEST_ERR" "sec-1@example.com: RRULE:FREQ=SECONDLY.* is no meeting's recurrence" "with its reason"
ingest Vendor --calendar-from 2024-01-01 --calendar-to 2025-01-01 "$ICS/huge-count.ics"
is "$INGEST_LINE" "ingested 0, duplicates 0, skipped 0, failed 1" "a series flooding the window is refused"
like "$INGEST_ERR" "flood-1@example.com: recurrence expands to more than 5000 occurrences" "with its reason"

# ---- an invitation by mail: one touchpoint, the meeting --------------------
ingest Vendor "$ICS/invitation.eml"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "an invitation mail is logged once, as the meeting"
is "$(sql "SELECT type || ' ' || interacted_at FROM interactions WHERE metadata->>'uid' = 'kickoff-0001@google.com'")" \
   "meeting 2024-03-20 14:00:00+00" "the meeting is at its own time (15:00 CET)"
is "$(sql "SELECT metadata->'invitation_mail'->>'message_id' || ' ' || (metadata->>'conference_url') FROM interactions WHERE metadata->>'uid' = 'kickoff-0001@google.com'")" \
   "invite-kickoff-1@globex.com https://meet.google.com/xyz-abcd-efg" "it names the mail that brought it"
is "$(sql "SELECT count(*) FROM interactions WHERE type = 'email' AND metadata->>'message_id' = 'invite-kickoff-1@globex.com'")" \
   "0" "the mail is not stored besides the meeting"
is "$(sql "SELECT string_agg(p.email || ':' || p.role, ' ' ORDER BY p.role, p.email) FROM interaction_participants p JOIN interactions i ON i.id = p.interaction_id WHERE i.metadata->>'uid' = 'kickoff-0001@google.com'")" \
   "hank@globex.com:organizer alice@vendor.example:attendee hank@globex.com:attendee" "its organizer and attendees are participants"
ingest Vendor "$ICS/invitation.eml"
is "$INGEST_LINE" "ingested 0, duplicates 1, skipped 0, failed 0" "the same invitation again is a duplicate"

# ---- an invitation forwarded to the dropbox over SMTP ----------------------
"$CRMGATE" workspace add-address Vendor log+vendor@in.example.com
port=
for try in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    "$CRMGATE" --smtp-listen 127.0.0.1:$port serve 2>>"$WORK/serve.log" &
    serve_pid=$!
    for _ in $(seq 50); do
        swaks --server 127.0.0.1:$port --quit-after EHLO >/dev/null 2>&1 && break 2
        kill -0 $serve_pid 2>/dev/null || break
        sleep 0.1
    done
    kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null
done
sleep 0.3	# the dropbox routes load right after start
sed -e 's/kickoff-0001@google.com/kickoff-0002@google.com/' -e 's/invite-kickoff-1@/invite-kickoff-2@/' \
    -e 's/20240320T1/20240321T1/' "$ICS/invitation.eml" > "$WORK/invitation2.eml"
out=$(swaks --server 127.0.0.1:$port --from alice@vendor.example --to log+vendor@in.example.com \
      --data "$WORK/invitation2.eml" 2>&1)
like "$out" "250 2.0.0" "an invitation forwarded to the dropbox is accepted"
is "$(sql "SELECT type || ' ' || interacted_at || ' ' || (metadata->>'source') FROM interactions WHERE metadata->>'uid' = 'kickoff-0002@google.com'")" \
   "meeting 2024-03-21 14:00:00+00 smtp" "and logs the meeting"
is "$(sql "SELECT count(*) FROM interactions WHERE type = 'email' AND metadata->>'message_id' = 'invite-kickoff-2@globex.com'")" \
   "0" "and not the mail besides it"
kill -TERM $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null

is "$(sql "SELECT count(*) FROM interactions i JOIN interaction_participants p ON p.interaction_id = i.id WHERE p.interacted_at <> i.interacted_at")" \
   "0" "every participant row carries its interaction's date"

done_testing
