#!/bin/bash
# Partitions are made on demand, one per UTC month seen, each with its
# HNSW and B-tree indexes; absurd dates fall back to a trustworthy one.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
d="$WORK/mail"; mkdir -p "$d"
now_rfc=$(date -u -R)
this_month=$(date -u +y%Ym%m)
mail "$d/old.eml" "a@megacorp.com" "rep@vendor.example" "Backfill from 2019" "Sun, 10 Mar 2019 12:00:00 +0000" "<p-1@megacorp.com>"
mail "$d/mid.eml" "b@megacorp.com" "rep@vendor.example" "June 2024" "Sat, 15 Jun 2024 12:00:00 +0000" "<p-2@megacorp.com>"
mail "$d/now.eml" "c@megacorp.com" "rep@vendor.example" "Today" "$now_rfc" "<p-3@megacorp.com>"
# a month boundary in another zone: 1 July 01:30 +0200 is 30 June UTC
mail "$d/edge.eml" "d@megacorp.com" "rep@vendor.example" "Edge" "Mon, 01 Jul 2024 01:30:00 +0200" "<p-4@megacorp.com>"
{
    echo "Received: from mx.megacorp.com by mx.vendor.example; Tue, 14 Feb 2023 08:00:00 +0000"
    echo "From: e@megacorp.com"; echo "To: rep@vendor.example"; echo "Subject: Epoch date"
    echo "Date: Thu, 01 Jan 1970 00:00:00 +0000"; echo "Message-ID: <p-5@megacorp.com>"; echo; echo "broken clock"
} > "$d/epoch.eml"
{
    echo "From: f@megacorp.com"; echo "To: rep@vendor.example"; echo "Subject: Far future"
    echo "Date: Fri, 01 Jan 2999 00:00:00 +0000"; echo "Message-ID: <p-6@megacorp.com>"; echo; echo "time traveller"
} > "$d/future.eml"

ingest Vendor "$d"
is "$INGEST_LINE" "ingested 6, duplicates 0, skipped 0, failed 0" "mail from four months is ingested"
parts=$(sql "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'interactions'::regclass")
for p in interactions_y2019m03 interactions_y2023m02 interactions_y2024m06 "interactions_$this_month"; do
    like ",$parts," ",$p," "partition $p exists"
    like "$(sql "SELECT indexdef FROM pg_indexes WHERE tablename = '$p'")" \
         "USING hnsw \(embedding vector_ip_ops\) WITH \(m='32', ef_construction='128'\)" "$p has its HNSW index"
    is "$(sql "SELECT count(*) FROM pg_indexes WHERE tablename = '$p' AND indexdef LIKE '%USING btree%'")" "7" \
       "$p has its B-tree indexes (key, workspace, contact, account, user, timeline, CalDAV resource)"
done
# mail text has no statistics worth sorting a sample of whole mails
# for: each month the store makes copies the parent's targets
for p in interactions_y2024m06 "interactions_$this_month"; do
    sql "ANALYZE $p" >/dev/null
    is "$(sql "SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_stats WHERE tablename = '$p' AND attname IN ('content', 'metadata', 'interacted_at', 'workspace_id')")" \
       "interacted_at,workspace_id" "ANALYZE of $p gathers statistics on its columns but content and metadata"
done
unlike_1970=$(sql "SELECT count(*) FROM pg_class WHERE relname LIKE 'interactions_y1970%' OR relname LIKE 'interactions_y2999%'")
is "$unlike_1970" "0" "no partition for 1970 or 2999"
is "$(sql "SELECT tableoid::regclass || ' ' || (metadata->>'date_source') FROM interactions WHERE metadata->>'message_id' = 'p-5@megacorp.com'")" \
   "interactions_y2023m02 received" "a 1970 Date falls back to the Received date"
is "$(sql "SELECT tableoid::regclass || ' ' || (metadata->>'date_source') FROM interactions WHERE metadata->>'message_id' = 'p-6@megacorp.com'")" \
   "interactions_$this_month ingest" "a Date in 2999 with no Received falls back to the time of import"
is "$(sql "SELECT tableoid::regclass FROM interactions WHERE metadata->>'message_id' = 'p-4@megacorp.com'")" \
   "interactions_y2024m06" "months are UTC months: 1 July 01:30 +0200 is June"
is "$(sql "SELECT tableoid::regclass FROM interactions WHERE metadata->>'message_id' = 'p-1@megacorp.com'")" \
   "interactions_y2019m03" "backfilled old mail goes to its own old month"

# a second gateway meeting the same new month does not trip over the first
mail "$WORK/a.eml" "g@megacorp.com" "rep@vendor.example" "Race A" "Wed, 10 Jan 2018 10:00:00 +0000" "<race-a@megacorp.com>"
mail "$WORK/b.eml" "h@megacorp.com" "rep@vendor.example" "Race B" "Thu, 11 Jan 2018 10:00:00 +0000" "<race-b@megacorp.com>"
"$CRMGATE" ingest --workspace Vendor "$WORK/a.eml" > "$WORK/ra" 2>&1 &
"$CRMGATE" ingest --workspace Vendor "$WORK/b.eml" > "$WORK/rb" 2>&1
wait
is "$(cat "$WORK/ra" "$WORK/rb" | sort | tr '\n' ';')" \
   "ingested 1, duplicates 0, skipped 0, failed 0;ingested 1, duplicates 0, skipped 0, failed 0;" \
   "two importers creating the same month concurrently both succeed"
is "$(sql "SELECT count(*) FROM interactions_y2018m01")" "2" "and both mails are in that month"

done_testing
