# lib.sh - shared by the integration tests: TAP output, a throwaway
# crmgate home with its own embedded PostgreSQL, and mail fixtures.
# Sourced by bash scripts run from automake's TAP driver, which sets
# CRMGATE (the binary) and top_srcdir.

set -u
: "${CRMGATE:?CRMGATE must point at the crmgate binary}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
unset CRMGATE_DATABASE_URL CRMGATE_CONFIG

TEST_N=0
TEST_FAILED=0
export CRMGATE_HOME
CRMGATE_HOME=$(mktemp -d /tmp/crmgate-test.XXXXXX)
WORK="$CRMGATE_HOME/work"
mkdir -p "$WORK"

cleanup() {
    "$CRMGATE" db stop >/dev/null 2>&1
    rm -rf "$CRMGATE_HOME"
}
trap cleanup EXIT

ok() {		# ok STATUS DESCRIPTION
    TEST_N=$((TEST_N + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $TEST_N - $2"
    else
        echo "not ok $TEST_N - $2"
        TEST_FAILED=$((TEST_FAILED + 1))
    fi
}

is() {		# is GOT EXPECTED DESCRIPTION
    if [ "$1" = "$2" ]; then
        ok 0 "$3"
    else
        ok 1 "$3"
        echo "#   got:      '$1'"
        echo "#   expected: '$2'"
    fi
}

like() {	# like GOT REGEX DESCRIPTION
    if printf '%s' "$1" | grep -Eq -- "$2"; then
        ok 0 "$3"
    else
        ok 1 "$3"
        echo "#   got: '$1'"
        echo "#   not matching: '$2'"
    fi
}

diag() { echo "# $*"; }

done_testing() {
    echo "1..$TEST_N"
    [ "$TEST_FAILED" -eq 0 ]
}

DBURL=
sql() {		# sql QUERY: one value per line, columns joined by '|'
    [ -n "$DBURL" ] || DBURL=$("$CRMGATE" db url)
    psql -X -A -t -q "$DBURL" -c "$1"
}

# ingest WORKSPACE PATH...: runs crmgate ingest, keeps the last stdout line
# in INGEST_LINE, stderr in INGEST_ERR, the exit status in INGEST_RC.
ingest() {
    local ws=$1
    shift
    INGEST_OUT=$("$CRMGATE" ingest --workspace "$ws" "$@" 2>"$WORK/ingest.err")
    INGEST_RC=$?
    INGEST_LINE=$(printf '%s\n' "$INGEST_OUT" | tail -n 1)
    INGEST_ERR=$(cat "$WORK/ingest.err")
}

# mail FILE FROM TO SUBJECT [DATE] [MESSAGE-ID] [EXTRA-HEADERS] [BODY]
# writes a plain text mail; an empty MESSAGE-ID leaves the header out,
# "-" for DATE leaves out Date.
mail() {
    local file=$1 from=$2 to=$3 subject=$4
    local date=${5:-Mon, 06 May 2024 10:00:00 +0000}
    local mid=${6-<$(basename "$file").$$@test.example>}
    local extra=${7:-}
    local body=${8:-Hello from the test suite about $subject.}
    {
        echo "Received: from mx.test.example by mx.test.example; Mon, 06 May 2024 10:00:01 +0000"
        echo "From: $from"
        echo "To: $to"
        echo "Subject: $subject"
        [ "$date" = "-" ] || echo "Date: $date"
        [ -z "$mid" ] || echo "Message-ID: $mid"
        [ -z "$extra" ] || printf '%b\n' "$extra"
        echo "MIME-Version: 1.0"
        echo "Content-Type: text/plain; charset=utf-8"
        echo
        printf '%s\n' "$body"
    } > "$file"
}

ws_id() { sql "SELECT id FROM workspaces WHERE name = '$1'"; }
count() { sql "SELECT count(*) FROM $1"; }

wait_for() {	# wait_for SECONDS COMMAND...: until COMMAND succeeds (1: it never did)
    local limit=$1 i
    shift
    for i in $(seq $((limit * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# start_smtp_serve [FLAGS...]: crmgate serve on a free loopback port
# (SMTP_PORT), its pid in SERVE_PID, once it answers; 1 when it never did.
start_smtp_serve() {
    local try
    for try in 1 2 3 4 5; do
        SMTP_PORT=$((20000 + RANDOM % 30000))
        "$CRMGATE" --smtp-listen 127.0.0.1:$SMTP_PORT "$@" serve 2>>"$WORK/serve.log" &
        SERVE_PID=$!
        wait_for 5 swaks --server 127.0.0.1:$SMTP_PORT --quit-after EHLO >/dev/null 2>&1 && return 0
        kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null
    done
    return 1
}

# start_serve [FLAGS...]: crmgate serve with SMTP (SMTP_PORT) and LMTP
# (LMTP_PORT = SMTP_PORT + 1) on free loopback ports, its pid in
# SERVE_PID, once it answers; stop_serve ends it. smtp ARGS... runs swaks
# against it; last_reply [N] keeps the last N server replies of that.
SERVE_PID=
start_serve() {		# start_serve [FLAGS...]: on free ports, waits until it answers
    local try
    for try in 1 2 3 4 5; do
        SMTP_PORT=$((20000 + RANDOM % 30000)); LMTP_PORT=$((SMTP_PORT + 1))
        "$CRMGATE" --smtp-listen 127.0.0.1:$SMTP_PORT --lmtp-listen 127.0.0.1:$LMTP_PORT "$@" \
            serve 2>>"$WORK/serve.log" &
        SERVE_PID=$!
        for _ in $(seq 50); do
            if swaks --server 127.0.0.1:$SMTP_PORT --quit-after EHLO >/dev/null 2>&1; then
                return 0
            fi
            kill -0 $SERVE_PID 2>/dev/null || break
            sleep 0.1
        done
        kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null
    done
    return 1
}
stop_serve() { kill -TERM $SERVE_PID 2>/dev/null; wait $SERVE_PID; }
smtp() { swaks --server 127.0.0.1:$SMTP_PORT "$@" 2>&1; }
last_reply() { grep -E '^<[-*~ ]+[0-9]{3}' | tail -n "${1:-1}" | sed -E 's/^<[-*~ ]+//'; }
answer() { echo "$1" | last_reply 2 | head -n 1; }	# answer SWAKS-OUTPUT: the reply to the DATA

# A gateway that only syncs sources (no listener), its log in
# $WORK/NAME.log; stop_serves ends every one started.
SERVE_PIDS=()
serve_sources() {	# serve_sources NAME [FLAGS...]; its pid in LAST_SERVE
    local name=$1
    shift
    "$CRMGATE" --smtp-listen "" --source-backoff-max 2 "$@" serve 2>>"$WORK/$name.log" &
    SERVE_PIDS+=($!)
    LAST_SERVE=$!
}
stop_serves() {
    local p
    for p in "${SERVE_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${SERVE_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    SERVE_PIDS=()
}

# until_listed SECONDS REGEX: wait until "crmgate source list" matches;
# the last listing is in LIST either way, for the assertion that
# follows (a source polling every second is not always idle when
# listed twice in a row).
until_listed() {
    local limit=$1 re=$2 i
    for i in $(seq $((limit * 10))); do
        LIST=$("$CRMGATE" source list)
        printf '%s\n' "$LIST" | grep -Eq -- "$re" && return 0
        sleep 0.1
    done
    return 1
}
