#!/bin/bash
# Many workers, nothing done twice: a backlog of 5,000 jobs drained by two
# crmgate embed processes at once embeds every text exactly once; a worker
# killed with SIGKILL mid-request leaves its jobs to be taken over when
# their lease runs out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/embed-lib.sh"

start_fake
"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
gen_mbox "$WORK/backlog.mbox" 5000 backlog 6
ingest Vendor "$WORK/backlog.mbox"
is "$INGEST_LINE" "ingested 5000, duplicates 0, skipped 0, failed 0" "a backlog of 5,000 mails is queued"

# a little latency per request, so that both workers are busy at once
fake_control '{"latency_ms": 20}'
"$CRMGATE" --voyage-base-url "$FAKE_URL" --embed-batch-size 100 embed --once >"$WORK/w1" 2>"$WORK/w1.err" &
p1=$!
"$CRMGATE" --voyage-base-url "$FAKE_URL" --embed-batch-size 100 embed --once >"$WORK/w2" 2>"$WORK/w2.err" &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
is "$rc1 $rc2" "0 0" "two workers drain the backlog together"
n1=$(sed -n 's/^embedded \([0-9]*\),.*/\1/p' "$WORK/w1")
n2=$(sed -n 's/^embedded \([0-9]*\),.*/\1/p' "$WORK/w2")
is "$((n1 + n2))" "5000" "between them they embedded 5,000 texts"
ok "$([ "$n1" -gt 0 ] && [ "$n2" -gt 0 ]; echo $?)" "both took a share ($n1 and $n2)"
is "$(fake_stat texts)" "5000" "Voyage was sent 5,000 texts"
is "$(fake_stat duplicates)" "0" "and no text twice"
is "$(sql "SELECT count(*) FROM interactions WHERE embedding IS NOT NULL")" "5000" "every interaction has its vector"
is "$(sql "SELECT count(*) FROM embedding_jobs WHERE status <> 'done' OR attempts <> 1")" "0" \
   "every job is done, on its first attempt"

# ---- a worker killed mid-request -----------------------------------------
gen_mbox "$WORK/more.mbox" 300 more 2
ingest Vendor "$WORK/more.mbox"
fake_reset
fake_control '{"latency_ms": 3000}'
"$CRMGATE" --voyage-base-url "$FAKE_URL" --embed-batch-size 100 --embed-lease 2 embed >"$WORK/w3" 2>&1 &
p3=$!
for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM embedding_jobs WHERE status = 'running'")" -gt 0 ] && break
    sleep 0.05
done
held=$(sql "SELECT count(*) FROM embedding_jobs WHERE status = 'running'")
kill -KILL $p3; wait $p3 2>/dev/null
is "$held" "100" "the worker held a batch of 100 when it was killed"
is "$(sql "SELECT count(DISTINCT claimed_by) FROM embedding_jobs WHERE status = 'running'")" "1" \
   "its jobs stay claimed by the dead worker"
sql "CREATE TABLE killed AS SELECT id FROM embedding_jobs WHERE status = 'running'" >/dev/null
# the fake still answers the dead worker's request, to nobody: let it, then
# count afresh (the dead worker's texts were sent once already: the price
# of at-least-once delivery)
for _ in $(seq 100); do [ "$(fake_stat ok_requests)" = "1" ] && break; sleep 0.1; done
fake_reset
# wait for the dead worker's lease to run out (2 s), not for a result
for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM embedding_jobs WHERE status = 'running' AND lease_until > now()")" = "0" ] && break
    sleep 0.1
done
embed_once --embed-batch-size 100
is "$EMBED_OUT" "embedded 300, failed 0, requeued 0, truncated 0, empty 0" "another worker takes over the dead one's jobs"
is "$(sql "SELECT count(*) FROM embedding_jobs j JOIN killed k USING (id) WHERE j.status = 'done' AND j.attempts = 2")" "100" \
   "each of them done on its second attempt"
is "$(sql "SELECT count(*) FROM interactions WHERE embedding IS NULL")" "0" "no interaction is left without its vector"
is "$(fake_stat duplicates)" "0" "and the survivor embedded each text once"

done_testing
