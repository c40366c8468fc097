#!/bin/bash
# The attachment store's disk full: SMTP answers 4xx (the sender keeps the
# mail and retries) and stores nothing half-way; crmgate ingest names the
# message that could not be stored and stores its neighbours; once there
# is room again the retry is stored exactly once. The storage directory
# is a tiny tmpfs, so this needs root (it is skipped otherwise).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v mount >/dev/null; then
    echo "1..0 # SKIP needs root to mount a small tmpfs"
    exit 0
fi
STORE="$WORK/storage"
mkdir -p "$STORE"
if ! mount -t tmpfs -o size=128k tmpfs "$STORE"; then
    echo "1..0 # SKIP cannot mount a tmpfs here"
    exit 0
fi
trap 'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null; umount "$STORE" 2>/dev/null; cleanup' EXIT
SERVE_PID=

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
"$CRMGATE" workspace add-address Acme log@in.example.com
# strangers write to this dropbox in this test (the default is users only)
"$CRMGATE" workspace set Acme --dropbox-senders anyone

with_attachment() {	# FILE SUBJECT MESSAGE-ID: a mail carrying a 300 KB PDF
    {
        echo "From: Buyer <buyer@customer.example>"
        echo "To: rep@acme.example"
        echo "Subject: $2"
        echo "Message-ID: $3"
        echo "Date: Mon, 23 Nov 2026 10:00:00 +0000"
        echo "MIME-Version: 1.0"
        echo 'Content-Type: multipart/mixed; boundary="b"'
        echo
        echo "--b"
        echo "Content-Type: text/plain"
        echo
        echo "The signed contract is attached."
        echo "--b"
        echo "Content-Type: application/pdf; name=contract.pdf"
        echo "Content-Disposition: attachment; filename=contract.pdf"
        echo "Content-Transfer-Encoding: base64"
        echo
        head -c 300000 /dev/urandom | base64 -w 76
        echo "--b--"
    } > "$1"
}
with_attachment "$WORK/big.eml" "Signed contract" "<contract@customer.example>"
mail "$WORK/small.eml" "Buyer <buyer@customer.example>" rep@acme.example "Plain question"

# ---- crmgate ingest: the one that does not fit fails, its neighbour goes in
"$CRMGATE" --storage-dir "$STORE" ingest --workspace Acme "$WORK/big.eml" "$WORK/small.eml" \
    >"$WORK/out" 2>"$WORK/err"
rc=$?
is "$rc" 1 "ingest exits 1: one message failed"
is "$(tail -n 1 "$WORK/out")" "ingested 1, duplicates 0, skipped 0, failed 1" "  and its neighbour is stored"
like "$(cat "$WORK/err")" "big.eml: .*(No space left|space)" "  the failure names the file and the full disk"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' = 'Signed contract'")" 0 \
    "  nothing of the failed mail is stored"

# ---- SMTP: 4xx while full, stored once after room is made --------------
start_smtp_serve --dropbox-loop-limit 1000000 --storage-dir "$STORE"
# the server's answer to the end of DATA: the last reply before QUIT's
send() { swaks --server 127.0.0.1:$SMTP_PORT --from buyer@customer.example --to log@in.example.com \
    --data "$1" 2>&1 | grep -E '^<(-|\*\*) +[0-9]{3} ' | tail -n 2 | head -n 1; }
with_attachment "$WORK/big2.eml" "Second contract" "<contract2@customer.example>"
reply=$(send "$WORK/big2.eml")
like "$reply" "^<\*\* +4[0-9][0-9] " "a mail whose attachment finds the disk full gets 4xx"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' = 'Second contract'")" 0 \
    "  and nothing of it is stored"
mount -o remount,size=8m "$STORE"
reply=$(send "$WORK/big2.eml")
like "$reply" "^<- +250 " "the sender's retry, with room again, gets 250"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' = 'Second contract'")" 1 \
    "  and is stored once"
is "$(sql "SELECT count(*) FROM documents WHERE file_name = 'contract.pdf'")" 1 "  with its attachment"
path=$(sql "SELECT file_path FROM documents WHERE file_name = 'contract.pdf'")
is "$(stat -c %s "$path" 2>/dev/null)" 300000 "  whose file holds all its bytes"

done_testing
