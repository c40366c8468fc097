#!/bin/bash
# Bad input is refused one message at a time, each with a reason naming
# the file; the rest of the batch still goes in.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
d="$WORK/batch"; mkdir -p "$d"
for i in $(seq 1 10); do
    mail "$d/good-$i.eml" "Buyer $i <buyer$i@megacorp.com>" "rep@vendor.example" "Good $i" \
         "Mon, 06 May 2024 10:0$((i % 10)):00 +0000" "<good-$i@megacorp.com>"
done
: > "$d/empty.eml"
head -c 4096 /dev/urandom > "$d/garbage.bin"
printf '\x89PNG\r\n\x1a\n' > "$d/picture.png"
mail "$d/huge.eml" "big@megacorp.com" "rep@vendor.example" "Huge" "" "<huge@megacorp.com>" "" "$(head -c 20000 /dev/zero | tr '\0' 'x')"
{
    echo "From: headers@megacorp.com"
    for i in $(seq 1 80); do echo "X-Spam-$i: $i"; done
    echo "Subject: many headers"; echo; echo "body"
} > "$d/headers.eml"
{
    echo "From: deep@megacorp.com"; echo "Subject: deep"; echo "MIME-Version: 1.0"
    echo "Content-Type: multipart/mixed; boundary=b0"; echo
    for i in $(seq 0 59); do echo "--b$i"; echo "Content-Type: multipart/mixed; boundary=b$((i + 1))"; echo; done
    echo "--b60"; echo "Content-Type: text/plain"; echo; echo "at the bottom"
} > "$d/deep.eml"
printf 'From: Bad Bytes <bytes@megacorp.com>\nTo: rep@vendor.example\nSubject: caf\xe9 \xff\xfe\nMessage-ID: <bytes@megacorp.com>\nContent-Type: text/plain; charset=utf-8\n\nnul \x00 here and \xc3\x28 there\n' > "$d/bytes.eml"

"$CRMGATE" --max_message_size 10000 --max_headers 50 --max_mime_depth 20 \
    ingest --workspace Vendor "$d" > "$WORK/out" 2> "$WORK/err"
rc=$?
is "$rc" "1" "exit status 1: some messages failed, the rest were stored"
is "$(tail -n 1 "$WORK/out")" "ingested 11, duplicates 0, skipped 0, failed 6" "the ten good mails and the odd-bytes mail are stored"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' LIKE 'Good %'")" "10" "all ten good neighbours are in the database"
is "$(wc -l < "$WORK/err")" "6" "one stderr line per refused file"
like "$(grep empty.eml "$WORK/err")" "ingest: .*/empty.eml: empty file" "an empty file is named as empty"
like "$(grep garbage.bin "$WORK/err")" "garbage.bin: not a mail message" "binary garbage is not a mail message"
like "$(grep picture.png "$WORK/err")" "picture.png: not a mail message" "a picture is not a mail message"
like "$(grep huge.eml "$WORK/err")" "huge.eml: message of [0-9]+ bytes exceeds the limit of 10000 bytes" "an oversized mail names the limit"
like "$(grep headers.eml "$WORK/err")" "headers.eml: too many header fields: [0-9]+ in one part \(limit 50\)" "too many headers names the limit"
like "$(grep deep.eml "$WORK/err")" "deep.eml: MIME nesting deeper than 20 levels" "deep MIME nesting names the limit"
row=$(sql "SELECT metadata->>'subject' FROM interactions WHERE metadata->>'message_id' = 'bytes@megacorp.com'")
like "$row" "^caf" "invalid UTF-8 in a header is stored as valid text"
like "$(sql "SELECT content FROM interactions WHERE metadata->>'message_id' = 'bytes@megacorp.com'")" "nul  here and .* there" \
     "a NUL byte and invalid UTF-8 in the body do not lose the text around them"

# an mbox with a bad message in the middle
mb="$WORK/archive.mbox"
for i in 1 2; do echo "From x Mon May  6 10:00:00 2024"; cat "$d/good-$i.eml" | sed "s/good-$i@/mbox-$i@/"; echo; done > "$mb"
echo "From x Mon May  6 10:00:00 2024" >> "$mb"; offset=$(( $(stat -c %s "$mb") - 32 ))
cat "$d/huge.eml" >> "$mb"; echo >> "$mb"
for i in 3 4; do echo "From x Mon May  6 10:00:00 2024"; cat "$d/good-$i.eml" | sed "s/good-$i@/mbox-$i@/"; echo; done >> "$mb"
"$CRMGATE" --max_message_size 10000 ingest --workspace Vendor "$mb" > "$WORK/out" 2> "$WORK/err"
is "$?" "1" "an mbox with one bad message exits 1"
is "$(tail -n 1 "$WORK/out")" "ingested 4, duplicates 0, skipped 0, failed 1" "its four neighbours are stored"
is "$(cat "$WORK/err")" "crmgate: ingest: $mb (mbox offset $offset): message of $(( $(stat -c %s "$d/huge.eml") )) bytes exceeds the limit of 10000 bytes" \
   "the refusal names the mbox and the offset of the bad message"

"$CRMGATE" ingest --workspace Nobody "$d/good-1.eml" > /dev/null 2> "$WORK/err"
is "$?" "2" "an unknown workspace is a usage error (exit 2)"
like "$(cat "$WORK/err")" "no workspace named \"Nobody\"" "and says which workspace"
"$CRMGATE" ingest --workspace Vendor "$WORK/does-not-exist" > /dev/null 2> "$WORK/err"
is "$?" "2" "a missing path is a usage error (exit 2)"
like "$(cat "$WORK/err")" "does-not-exist: No such file or directory" "and names the path"
"$CRMGATE" ingest "$d" > /dev/null 2>&1
is "$?" "2" "ingest without --workspace is a usage error"

done_testing
