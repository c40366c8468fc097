#!/bin/bash
# A hostile IMAP server: one that answers a message FETCH with a 2 GB
# literal streamed as fast as it can, one that answers SEARCH with bytes
# that are no response. crmgate cuts the first at max_message_size,
# shows both errors in source list, keeps retrying with backoff, stores
# nothing, and its memory stays bounded.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
printf 'x\n' > "$WORK/pw"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; cleanup' EXIT
cd "$WORK" || exit 1
start_hostile() {	# MODE: sets PORT
    PORT=$((20000 + RANDOM % 30000))
    python3 "$top_srcdir/tests/integration/hostile-imap.py" $PORT "$1" >/dev/null 2>>"$WORK/hostile.log" &
    PIDS+=($!)
    for _ in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
        sleep 0.1
    done
}
listed() { "$CRMGATE" source list | grep -Eq -- "$1"; }

start_hostile endless; ENDLESS=$PORT
start_hostile malformed; MALFORMED=$PORT
"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port $ENDLESS --plain-insecure \
    --user a@acme.example --password-file "$WORK/pw" >/dev/null 2>&1
"$CRMGATE" source add imap --workspace Acme --host 127.0.0.1 --port $MALFORMED --plain-insecure \
    --user b@acme.example --password-file "$WORK/pw" >/dev/null 2>&1
"$CRMGATE" --smtp-listen "" --max-message-size 1M --source-backoff-max 2 --source-timeout 10 serve \
    2>>"$WORK/serve.log" &
SERVE=$!
PIDS+=($SERVE)

wait_for 60 listed "connection cut"
like "$("$CRMGATE" source list | grep -A3 '^1 ')" "UID FETCH \(BODY.PEEK\[\]\): the server sent more than [0-9]+ bytes at once; connection cut" \
    "a 2 GB literal is cut off past max_message_size, and shown"
wait_for 60 listed "^2 .* error "
like "$("$CRMGATE" source list | grep -A3 '^2 ')" "last error at .*UID SEARCH: (unparsable server response|protocol error|connection lost)" \
    "a malformed SEARCH answer is an error shown on its source"
retried() { [ "$(cat $ENDLESS.connections 2>/dev/null)" -ge 3 ]; }
wait_for 30 retried
ok "$([ "$(cat $ENDLESS.connections)" -ge 3 ]; echo $?)" \
    "the sync keeps retrying the hostile server ($(cat $ENDLESS.connections) connections)"
peak=$(awk '/^VmHWM/ { print int($2 / 1024) }' /proc/$SERVE/status)
diag "crmgate serve peak memory after $(cat $ENDLESS.connections) endless literals: $peak MB"
# uncapped, each connection would buffer the whole 2 GB; 600 MB leaves
# room for AddressSanitizer's quarantine (256 MB) in the asan build
ok "$([ "$peak" -lt 600 ]; echo $?)" "its memory stays bounded (peak $peak MB, cap 1 MB per literal, 2 GB sent)"
is "$(count interactions)" 0 "nothing is stored from either"
kill -0 $SERVE 2>/dev/null
is "$?" 0 "crmgate serve is still running"
kill $SERVE; wait $SERVE
is "$?" 0 "  and stops cleanly"
done_testing
