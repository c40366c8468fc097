#!/bin/bash
# The embedding worker fills interactions.embedding from the queue through
# the Voyage API (a local fake); crmgate search finds mail by meaning in a
# date window and reads only that window's partitions.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/embed-lib.sh"

start_fake
"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Vendor --email rep@vendor.example >/dev/null
d="$WORK/mail"; mkdir -p "$d"
gen_mbox "$d/bulk.mbox" 60 bulk 3
mail "$d/cfo.eml" "Carla Cfo <carla@initech.example>" "rep@vendor.example" "Renewal pricing concerns" \
     "Tue, 13 Feb 2024 09:00:00 +0000" "<cfo-1@initech.example>" "" \
     "Our CFO is worried that the renewal price of the analytics module went up forty percent. We need a discount before we sign."
mail "$d/lunch.eml" "Pat <pat@globex.example>" "rep@vendor.example" "Lunch" \
     "Wed, 06 Mar 2024 12:00:00 +0000" "<lunch-1@globex.example>" "" "Shall we meet for lunch on Friday near the office?"
ingest Vendor "$d"
is "$INGEST_LINE" "ingested 62, duplicates 0, skipped 0, failed 0" "62 mails over three months are ingested and queued"

# ---- refusals ------------------------------------------------------------
embed_once --embedding-dimension 512
is "$EMBED_RC" "2" "a dimension the schema cannot hold is refused (exit 2)"
like "$EMBED_ERR" "interactions.embedding is vector\(1024\), but embedding_dimension is 512" \
     "and the reason names the column and both dimensions"
is "$(fake_stat requests)" "0" "and nothing is sent to Voyage"
out=$(env -u VOYAGE_API_KEY "$CRMGATE" --voyage-base-url "$FAKE_URL" embed --once 2>&1); rc=$?
is "$rc" "2" "without an API key the worker refuses to start"
like "$out" "no Voyage API key" "and says so"
echo wrong-key > "$WORK/key"
embed_once --voyage-api-key-file "$WORK/key"
is "$EMBED_RC" "1" "a key Voyage refuses stops crmgate embed --once (exit 1)"
like "$EMBED_ERR" "the Voyage API key is refused: HTTP 401" "and says the key is refused"
is "$(sql "SELECT count(*) FROM embedding_jobs WHERE status = 'pending'")" "62" "and no job is failed for it"
ok "$(grep -c wrong-key "$WORK/embed.err")" "the key never appears in the log"

# ---- the queue drains ----------------------------------------------------
echo test-key > "$WORK/key"
embed_once --voyage-api-key-file "$WORK/key" --embed-batch-size 25
is "$EMBED_OUT" "embedded 62, failed 0, requeued 0, truncated 0, empty 0" "crmgate embed --once drains the queue"
is "$EMBED_RC" "0" "and exits 0"
is "$(sql "SELECT count(*) FROM interactions WHERE embedding IS NOT NULL")" "62" "every interaction has its vector"
is "$(sql "SELECT count(*) FROM interactions WHERE abs((embedding <#> embedding) + 1) > 0.001")" "0" \
   "the vectors are unit length (inner product is cosine)"
is "$(sql "SELECT string_agg(DISTINCT status::text, ',') FROM embedding_jobs")" "done" "every job is done"
is "$(fake_stat max_batch)" "25" "a request carries at most a claimed batch"
is "$(fake_stat duplicates)" "0" "no text was embedded twice"

# ---- search --------------------------------------------------------------
search() { "$CRMGATE" --voyage-base-url "$FAKE_URL" search --workspace "$@" 2>"$WORK/search.err"; }
out=$(search Vendor --limit 3 "worried about the renewal price, want a discount")
like "$(printf '%s\n' "$out" | head -n 1)" "^2024-02-13 09:00  email .* Carla Cfo <carla@initech.example>  Initech" \
     "search finds the CFO's mail first, with date, type, contact and account"
like "$(printf '%s\n' "$out" | sed -n 2p)" "Renewal pricing concerns Our CFO is worried" "and a snippet of it"
is "$(printf '%s\n' "$out" | grep -c '^2024')" "3" "--limit 3 shows three matches"
is "$(fake_stat queries)" "1" "the query is embedded as a query, the mail as documents"
out=$(search Vendor --since 2024-03-01 --until 2024-03-31 "worried about the renewal price, want a discount")
is "$(printf '%s\n' "$out" | grep -c carla)" "0" "a March window leaves the February mail out"
is "$(printf '%s\n' "$out" | grep '^2024' | grep -vc '^2024-03-')" "0" "and shows only March mail"
out=$(search Vendor "lunch on friday")
like "$(printf '%s\n' "$out" | head -n 1)" "pat@globex.example" "a second query finds its own mail"
out=$(search Vendor --type meeting "lunch on friday")
is "$(printf '%s\n' "$out" | grep -c '^2024')" "0" "--type meeting finds no mail"
"$CRMGATE" workspace add Other >/dev/null
out=$(search Other "lunch on friday")
is "$(printf '%s\n' "$out" | grep -c '^2024')" "0" "another workspace sees none of Vendor's mail"
search Nobody "x" >/dev/null; is "$?" "2" "an unknown workspace is a usage error"

parts() { printf '%s\n' "$1" | grep -oE 'interactions_y[0-9]{4}m[0-9]{2}' | sort -u | tr '\n' ' '; }
plan=$(search Vendor --since 2024-02-01 --until 2024-02-29 --explain "renewal price")
is "$(parts "$plan")" "interactions_y2024m02 " "EXPLAIN: a February window reads only February's partition"
plan=$(search Vendor --since 2024-01-15 --until 2024-02-10 --explain "renewal price")
is "$(parts "$plan")" "interactions_y2024m01 interactions_y2024m02 " "EXPLAIN: a window over a month end reads those two months"
plan=$(search Vendor --explain "renewal price")
is "$(parts "$plan")" "interactions_y2024m01 interactions_y2024m02 interactions_y2024m03 " "EXPLAIN: no window reads every month"

# ---- an edited interaction is embedded again -----------------------------
cfo="FROM interactions WHERE metadata->>'message_id' = 'cfo-1@initech.example'"
old=$(sql "SELECT md5(embedding::text) $cfo")
sql "UPDATE interactions SET content = 'Pizza in the canteen, and the quarterly forecast.' WHERE metadata->>'message_id' = 'cfo-1@initech.example'" >/dev/null
sql "SELECT crmgate_requeue_embedding(workspace_id, 'interactions', id, interacted_at) $cfo" >/dev/null
sql "SELECT crmgate_requeue_embedding(workspace_id, 'interactions', id, interacted_at) $cfo" >/dev/null
is "$(sql "SELECT count(*) FROM embedding_jobs WHERE status = 'pending'")" "1" "re-queueing an edited row twice makes one job"
embed_once
is "$EMBED_OUT" "embedded 1, failed 0, requeued 0, truncated 0, empty 0" "the worker embeds it again"
ok "$([ "$(sql "SELECT md5(embedding::text) $cfo")" != "$old" ]; echo $?)" "its vector changed"
like "$(search Vendor --limit 1 "pizza canteen")" "carla@initech.example" "and search finds it by its new text"

# ---- long text, missing row ----------------------------------------------
sql "SELECT crmgate_requeue_embedding(workspace_id, 'interactions', id, interacted_at, 'embedding', repeat('é', 60000)) FROM interactions WHERE metadata->>'message_id' = 'lunch-1@globex.example'" >/dev/null
sql "SELECT crmgate_requeue_embedding(id, 'interactions', gen_random_uuid(), now()) FROM workspaces WHERE name = 'Vendor'" >/dev/null
embed_once
is "$EMBED_OUT" "embedded 1, failed 0, requeued 0, truncated 1, empty 1" \
   "a text over the model's context is truncated, a job whose row is gone has nothing to embed"
is "$(sql "SELECT last_error FROM embedding_jobs WHERE status = 'done' AND last_error LIKE 'truncated%'")" \
   "truncated: 96000 of 120000 bytes embedded (model context 32000 tokens)" "the truncation is recorded on the job"
like "$EMBED_ERR" "text of 120000 bytes truncated to 96000" "and logged"
is "$(sql "SELECT count(*) FROM embedding_jobs WHERE last_error = 'nothing embedded: the target row is gone'")" "1" \
   "the job of a missing row says so"

# a long mail's text is stored once: its job reads the row, the worker cuts
mkdir -p "$WORK/long"
mail "$WORK/long/spec.eml" "Pat <pat@globex.example>" "rep@vendor.example" "Specification" \
     "Thu, 07 Mar 2024 12:00:00 +0000" "<long-1@globex.example>" "" \
     "$(yes "The analytics module exports every quarter's figures to the warehouse." | head -n 2000)"
ingest Vendor "$WORK/long/spec.eml"
spec="FROM embedding_jobs e JOIN interactions i ON i.id = e.target_id WHERE i.metadata->>'message_id' = 'long-1@globex.example'"
is "$(sql "SELECT coalesce(e.input_text, '<null>') || ' ' || length(i.content) $spec")" "<null> 142015" \
   "a 142 kB mail is queued without a second copy of its text"
embed_once
is "$EMBED_OUT" "embedded 1, failed 0, requeued 0, truncated 1, empty 0" "the worker embeds it, cut to the model's context"
is "$(sql "SELECT e.last_error $spec")" \
   "truncated: 96000 of 142015 bytes embedded (model context 32000 tokens)" "and the job says how much of the mail that was"

# ---- crmgate serve runs the worker ---------------------------------------
mail "$d/late.eml" "Dora <dora@initech.example>" "rep@vendor.example" "Late mail" \
     "Fri, 15 Mar 2024 12:00:00 +0000" "<late-1@initech.example>" "" "A mail that arrives while serve runs."
ingest Vendor "$d/late.eml"
PORT=$((20000 + RANDOM % 30000))
"$CRMGATE" --voyage-base-url "$FAKE_URL" --embed-poll 1 --smtp-listen 127.0.0.1:$PORT serve 2>"$WORK/serve.log" &
pid=$!
for _ in $(seq 200); do
    [ "$(sql "SELECT count(*) FROM embedding_jobs WHERE status <> 'done'")" = "0" ] && break
    sleep 0.1
done
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' = 'late-1@initech.example' AND embedding IS NOT NULL")" "1" \
   "crmgate serve embeds newly queued mail"
kill -TERM $pid; wait $pid; rc=$?
is "$rc" "0" "and stops cleanly on SIGTERM"
like "$(cat "$WORK/serve.log")" "embedding worker on" "its log says the worker runs"

done_testing
