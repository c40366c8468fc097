#!/bin/bash
# Hostile SMTP clients: a 10 MB command line, a 10 MB line inside DATA, a
# command dripped a byte at a time, a message trickled a line a second.
# Each gets a clear refusal, the listener's memory stays bounded, and the
# session ends in bounded time.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
"$CRMGATE" workspace add-address Acme log@in.example.com
# strangers write to this dropbox in this test (the default is users only)
"$CRMGATE" workspace set Acme --dropbox-senders anyone
SERVE_PID=
start_smtp_serve --dropbox-loop-limit 1000000 --smtp-timeout 2 --smtp-data-timeout 4
trap 'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null; cleanup' EXIT
abuse() { python3 "$(dirname "$0")/smtp-abuser.py" 127.0.0.1 $SMTP_PORT "$1" 2>&1; }
peak_kb() { awk '/^VmHWM/ { print $2 }' /proc/$SERVE_PID/status; }

before=$(peak_kb)
out=$(abuse longline)
like "$out" "500 5\.5\.2" "a 10 MB command line gets 500 5.5.2"
is "$(printf '%s\n' "$out" | sed -n '/^500 5\.5\.2/,$p' | grep -c '^250 ')" 1 \
    "  and the session goes on (the NOOP after it is answered)"
out=$(abuse dataline)
like "$out" "554 5\.6\.0 Error: line too long" "a 10 MB line in a message gets 554 5.6.0"
is "$(count interactions)" 0 "  and nothing is stored"
after=$(peak_kb)
grew=$(( (after - before) / 1024 ))
diag "listener peak memory: $((before / 1024)) MB before, $((after / 1024)) MB after 20 MB of long lines"
ok "$([ "$grew" -lt 16 ]; echo $?)" "the listener does not keep the long lines (peak grew ${grew} MB)"

out=$(abuse drip)
like "$out" "421 4\.4\.2 .*timeout" "a command dripped a byte every 0.5 s gets 421 4.4.2"
like "$out" "closed after 1?[0-9] s" "  and is closed within seconds, not after the 30 s drip"
out=$(abuse slowdata)
like "$out" "421 4\.4\.2 .*timeout" "a message trickled a line a second gets 421 past smtp_data_timeout"
like "$out" "closed after 1?[0-9] s" "  and is closed within seconds, not after 30 s"
is "$(count interactions)" 0 "  and nothing is stored"

out=$(swaks --server 127.0.0.1:$SMTP_PORT --from a@customer.example --to log@in.example.com \
      --header "Subject: still here" 2>&1)
like "$out" "250 2\.0\.0" "after all that, a normal client is served"
done_testing
