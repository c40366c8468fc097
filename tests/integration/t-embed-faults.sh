#!/bin/bash
# The embedding worker under a misbehaving Voyage API: rate limits, server
# errors, timeouts and malformed answers are retried and end embedded or
# visibly failed; a text Voyage refuses fails alone, with Voyage's reason
# shown by crmgate status, and the worker goes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/embed-lib.sh"

start_fake
"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
batch=0
queue() {	# queue N: N new mails, queued for embedding
    batch=$((batch + 1))
    gen_mbox "$WORK/b$batch.mbox" "$1" "batch$batch"
    ingest Vendor "$WORK/b$batch.mbox"
}
pending() { sql "SELECT count(*) FROM embedding_jobs WHERE status IN ('pending', 'running')"; }

queue 20
fake_control '{"faults": [{"kind": "429", "retry_after": 1, "count": 3}]}'
embed_once --embed-batch-size 20
is "$EMBED_OUT" "embedded 20, failed 0, requeued 0, truncated 0, empty 0" "a 429 storm is waited out and every job embedded"
is "$(fake_stat requests)" "4" "three 429s, then the request that succeeded"
like "$EMBED_ERR" "HTTP 429: Rate limit exceeded.; retrying in [0-9]+ ms" "each retry is logged with its reason"
like "$EMBED_ERR" "retrying in 1[0-9]{3} ms" "the wait honours Retry-After: 1 (backoff alone would be 20-40 ms)"
is "$(fake_stat duplicates)" "0" "retries embed no text twice"

queue 10
fake_reset
fake_control '{"faults": [{"kind": "500", "count": 2}]}'
embed_once
is "$EMBED_OUT" "embedded 10, failed 0, requeued 0, truncated 0, empty 0" "500 twice, then success: all embedded"
is "$(fake_stat requests)" "3" "after two retries"

queue 10
fake_reset
fake_control '{"faults": [{"kind": "503", "count": 100}]}'
embed_once --embed-max-retries 2
is "$EMBED_RC" "1" "Voyage down for good: crmgate embed --once gives up (exit 1)"
like "$EMBED_ERR" "Voyage is unavailable: HTTP 503: Internal server error. \\(after 2 retries\\)" "and says why"
is "$(sql "SELECT count(*) || ' ' || sum(attempts) FROM embedding_jobs WHERE status = 'pending' AND last_error LIKE 'HTTP 503%'")" "10 0" \
   "the jobs wait in the queue with the reason, no attempt used up by the outage"
fake_reset
embed_once
is "$EMBED_OUT" "embedded 10, failed 0, requeued 0, truncated 0, empty 0" "when Voyage is back they are embedded"

queue 10
fake_reset
fake_control '{"faults": [{"kind": "timeout", "sleep": 3}]}'
embed_once --embed-timeout 1
is "$EMBED_OUT" "embedded 10, failed 0, requeued 0, truncated 0, empty 0" "a request that times out is retried"
like "$EMBED_ERR" "Timeout was reached|timed out" "and the timeout is logged"

queue 10
fake_reset
fake_control '{"faults": [{"kind": "malformed"}, {"kind": "short"}]}'
embed_once
is "$EMBED_OUT" "embedded 10, failed 0, requeued 0, truncated 0, empty 0" "a cut-off body and a short answer are retried"
like "$EMBED_ERR" "malformed response: not JSON" "the malformed body is named in the log"
like "$EMBED_ERR" "malformed response: 9 embeddings for 10 texts" "so is the answer missing a vector"

queue 5
fake_reset
fake_control '{"faults": [{"kind": "malformed", "count": 100}]}'
embed_once --embed-max-retries 1 --embed-max-attempts 2
is "$EMBED_RC" "1" "an API that keeps answering garbage: crmgate embed exits 1"
is "$EMBED_OUT" "embedded 0, failed 5, requeued 10, truncated 0, empty 0" \
   "the jobs were tried twice each, then failed"
is "$(pending)" "0" "nothing is left hanging in the queue"
like "$("$CRMGATE" status)" "Vendor +5 +gave up after 2 attempts" "crmgate status shows why they failed"

# A text Voyage refuses (400) fails alone; the others in its request are embedded.
fake_reset
batch=$((batch + 1))
gen_mbox "$WORK/p.mbox" 12 poison
sed -i 's/^poison 7 /poison 7 FORBIDDENWORD /' "$WORK/p.mbox"
ingest Vendor "$WORK/p.mbox"
fake_control '{"poison": "FORBIDDENWORD"}'
embed_once
is "$EMBED_RC" "1" "a job refused by Voyage makes crmgate embed exit 1"
is "$EMBED_OUT" "embedded 11, failed 1, requeued 0, truncated 0, empty 0" "the one refused text fails, its neighbours are embedded"
is "$(sql "SELECT i.metadata->>'message_id' || ': ' || j.last_error FROM embedding_jobs j JOIN interactions i ON i.id = j.target_id WHERE j.status = 'failed' AND j.last_error LIKE 'HTTP 400%'")" \
   "poison-7@customer.example: HTTP 400: input contains the forbidden word FORBIDDENWORD" "the failed job keeps Voyage's reason"
status=$("$CRMGATE" status)
like "$status" "^Vendor +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +0 +6" "crmgate status counts the failed jobs"
like "$status" "Vendor +1 +HTTP 400: input contains the forbidden word FORBIDDENWORD" "and shows Voyage's reason"
queue 3
embed_once
is "$EMBED_OUT" "embedded 3, failed 0, requeued 0, truncated 0, empty 0" "the worker goes on with new jobs"

done_testing
