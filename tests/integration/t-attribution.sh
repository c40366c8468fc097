#!/bin/bash
# The labelled attribution set (tests/attribution): every message and
# meeting of every scenario goes through crmgate as the labels say
# (ingest with a contact policy, or the SMTP dropbox), each into its own
# workspace of one database; then each item's outcome, direction, user,
# contact and account are compared with its labels, and precision and
# recall of contact creation and of account links over the whole set
# must both be 1.000. The comparing is done by attribution.py beside
# this script; see tests/attribution/README.md for the label format.
. "$(dirname "$0")/lib.sh"

LABELS="$top_srcdir/tests/attribution/labels.txt"
HELPER="$top_srcdir/tests/integration/attribution.py"
export CRMGATE

tap() {		# tap: "ok - X" / "not ok - X" lines into ok(); the rest as is
    local line
    while IFS= read -r line; do
        case $line in
        "ok - "*) ok 0 "${line#ok - }";;
        "not ok - "*) ok 1 "${line#not ok - }";;
        *) echo "$line";;
        esac
    done
}
helper() {	# helper COMMAND: attribution.py COMMAND, its failure an assertion
    python3 "$HELPER" "$1" "$LABELS" > "$WORK/helper.$1" 2> "$WORK/helper.$1.err"
    local rc=$?
    tap < "$WORK/helper.$1"
    ok $rc "attribution.py $1 ran to its end"
    [ $rc -eq 0 ] || sed 's/^/#   /' "$WORK/helper.$1.err" | tail -n 20
}

helper check

export DBURL
DBURL=$("$CRMGATE" db url)
ok $? "the embedded database is up"
helper init

# the loop breaker's limit is small here so that the Relaymark scenario
# trips it in five mails; the other dropbox senders send at most three
if "$CRMGATE" --dropbox_loop_limit 3 db url >/dev/null 2>&1; then
    loop_flags=(--dropbox_loop_limit 3)
else
    loop_flags=()
    diag "this crmgate has no dropbox_loop_limit setting: serving with its defaults"
fi
start_smtp_serve "${loop_flags[@]}"
ok $? "crmgate serve answers on the dropbox port"
sleep 0.5	# the dropbox routes load right after start
export SMTP_PORT

helper run

kill -TERM "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID" 2>/dev/null
done_testing
