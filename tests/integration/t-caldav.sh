#!/bin/bash
# The CalDAV client (src/caldav.c) against a real Radicale: discovery from
# the server root, the principal and /.well-known/caldav; sync-collection
# from nothing, then from a token (a changed and a removed event), a
# forgotten token; the getctag/getetag listing; calendar-multiget bodies
# that crmgate ingests as meetings. Radicale runs with its own config, on
# a random loopback port, htpasswd plain auth.
. "$(dirname "$0")/lib.sh"

CLIENT="$top_builddir/tests/integration/caldav_client"
ICS="$top_srcdir/tests/data/ics"
. "$(dirname "$0")/radicale.sh"
if ! radicale_installed; then
    echo "1..0 # SKIP radicale is not installed"
    exit 0
fi

trap 'radicale_stop; cleanup' EXIT
radicale_start tester:secret
U="$RADICALE_URL"
dav() { curl -s -u tester:secret -o /dev/null -w '%{http_code}' "$@"; }

is "$(dav -X MKCALENDAR "$U/tester/work/")" "201" "Radicale runs and a calendar is made"
is "$(dav -X MKCALENDAR "$U/tester/tasks/" -H 'Content-Type: application/xml' --data \
   '<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Tasks</D:displayname><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>')" \
   "201" "and a task list"
is "$(dav -T "$ICS/cancelled.ics" -H 'Content-Type: text/calendar' "$U/tester/work/demo.ics")" "201" "an event is put"
is "$(dav -T "$ICS/outlook-weekly-dst.ics" -H 'Content-Type: text/calendar' "$U/tester/work/sync.ics")" "201" "and a series"

client() { "$CLIENT" "$1" tester secret "${@:2}" 2>"$WORK/client.err"; }

is "$(client "$U/" discover | cut -d' ' -f1,2,4)" "calendar $U/tester/work/ sync-token" \
   "discovery from the server root finds the calendar, not the task list"
is "$(client "$U/tester/" discover | cut -d' ' -f2)" "$U/tester/work/" "discovery from the principal"
is "$(client "$U/.well-known/caldav" discover | cut -d' ' -f2)" "$U/tester/work/" \
   "discovery from /.well-known/caldav, and no password in the URL after the redirect"
is "$(client "$U/tester/work/" discover | cut -d' ' -f2)" "$U/tester/work/" "a calendar URL is that calendar"
"$CLIENT" "$U/" tester wrong discover >/dev/null 2>"$WORK/client.err"
is "$?" "1" "a wrong password fails"
like "$(cat "$WORK/client.err")" "401 authentication failed" "and says so"

out=$(client "$U/" sync "$U/tester/work/")
is "$(echo "$out" | grep -c '^changed ')" "2" "the first sync lists both events"
token1=$(echo "$out" | sed -n 's/^token //p')
like "$token1" "^http://radicale.org/ns/sync/" "and gives a sync token"
etag_demo=$(echo "$out" | sed -n 's|^changed /tester/work/demo.ics ||p')

mkdir -p "$WORK/bodies"
out=$(DUMP_DIR="$WORK/bodies" client "$U/" get "$U/tester/work/" /tester/work/demo.ics /tester/work/sync.ics /tester/work/gone.ics)
is "$(echo "$out" | cut -d' ' -f2,4 | sort | tr '\n' ' ')" "/tester/work/demo.ics icalendar /tester/work/sync.ics icalendar " \
   "calendar-multiget returns the bodies; a missing href is left out"
is "$(echo "$out" | sed -n 's|^item /tester/work/demo.ics \([^ ]*\) .*|\1|p')" "$etag_demo" "with the etags the sync gave"

"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
ingest Vendor --calendar-from 2024-03-01 --calendar-to 2024-06-01 "$WORK/bodies"
is "$INGEST_LINE" "ingested 6, duplicates 0, skipped 0, failed 0" "the bodies fetched over CalDAV ingest as meetings"

sed 's/^SEQUENCE:2/SEQUENCE:3/' "$ICS/cancelled.ics" > "$WORK/demo3.ics"
is "$(dav -T "$WORK/demo3.ics" -H 'Content-Type: text/calendar' "$U/tester/work/demo.ics")" "201" "an event is changed"
is "$(dav -X DELETE "$U/tester/work/sync.ics")" "200" "and one deleted"
out=$(client "$U/" sync "$U/tester/work/" "$token1")
is "$(echo "$out" | grep '^changed\|^removed' | cut -d' ' -f1,2 | tr '\n' ' ')" \
   "changed /tester/work/demo.ics removed /tester/work/sync.ics " "a sync from the token gives just the change and the removal"
token2=$(echo "$out" | sed -n 's/^token //p')
ok $([ -n "$token2" ] && [ "$token2" != "$token1" ]; echo $?) "and a new token"
is "$(client "$U/" sync "$U/tester/work/" "$token2" | tr '\n' ' ')" "token $token2 " "nothing changed: nothing listed"
is "$(client "$U/" sync "$U/tester/work/" "http://radicale.org/ns/sync/forgotten")" "token-invalid" \
   "a token the server does not know asks for a full sync"

out=$(client "$U/" list "$U/tester/work/")
like "$(echo "$out" | head -n 1)" '^ctag "' "the listing fallback gives the collection's getctag"
is "$(echo "$out" | grep '^item' | cut -d' ' -f2)" "/tester/work/demo.ics" "and every resource with its etag"

client "$U/" sync "$U/tester/nothere/" >/dev/null
is "$?" "1" "a calendar that does not exist is an error"
like "$(cat "$WORK/client.err")" "HTTP 404" "naming the status"

done_testing
