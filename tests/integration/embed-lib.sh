# embed-lib.sh - sourced after lib.sh by the embedding tests: the fake
# Voyage API (tests/fake-voyage) on a loopback port, and generated mail.

FAKE_PID=
trap 'if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null; fi; cleanup' EXIT

start_fake() {	# sets FAKE_URL; the key it accepts is VOYAGE_API_KEY
    rm -f "$WORK/fake.port"
    python3 "$top_srcdir/tests/fake-voyage" --port-file "$WORK/fake.port" >/dev/null 2>>"$WORK/fake.log" &
    FAKE_PID=$!
    for _ in $(seq 200); do [ -s "$WORK/fake.port" ] && break; sleep 0.05; done
    FAKE_URL="http://127.0.0.1:$(cat "$WORK/fake.port")"
    export VOYAGE_API_KEY=test-key
}

fake_control() { curl -s -X POST --data "$1" "$FAKE_URL/_control" >/dev/null; }
fake_reset() { curl -s -X POST "$FAKE_URL/_reset" >/dev/null; }
fake_stat() {	# fake_stat NAME: one counter of GET /_stats
    curl -s "$FAKE_URL/_stats" | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

# embed_once [--KEY VALUE]...: crmgate embed --once against the fake with
# short retry delays; stdout in EMBED_OUT, stderr in EMBED_ERR, EMBED_RC.
embed_once() {
    EMBED_OUT=$("$CRMGATE" --voyage-base-url "$FAKE_URL" --embed-backoff-ms 20 "$@" \
                embed --once 2>"$WORK/embed.err")
    EMBED_RC=$?
    EMBED_ERR=$(cat "$WORK/embed.err")
}

# gen_mbox FILE COUNT TAG [MONTHS]: COUNT mails in one mbox, each with its
# own text (TAG and a number among sales words), dated over MONTHS months
# of 2024 starting in January (default 1).
gen_mbox() {
    python3 - "$@" <<'PY'
import random, sys
path, count, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
months = int(sys.argv[4]) if len(sys.argv) > 4 else 1
rnd = random.Random(tag)
words = ("price contract renewal discount meeting demo invoice security audit roadmap "
         "feature bug support onboarding churn competitor budget pilot legal procurement "
         "timeline integration migration training dashboard report quota forecast").split()
with open(path, "w") as f:
    for i in range(count):
        m = 1 + i % months
        f.write("From sender@example Mon Jan  1 00:00:00 2024\n")
        f.write("From: Buyer %d <buyer%d@customer%d.example>\n" % (i % 50, i % 50, i % 9))
        f.write("To: rep@vendor.example\n")
        f.write("Subject: %s %d\n" % (tag, i))
        f.write("Date: %02d %s 2024 10:%02d:00 +0000\n" % (1 + i % 28, "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[m - 1], i % 60))
        f.write("Message-ID: <%s-%d@customer.example>\n\n" % (tag, i))
        f.write("%s %d %s\n\n" % (tag, i, " ".join(rnd.choice(words) for _ in range(40))))
PY
}
