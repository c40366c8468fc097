#!/bin/bash
# Hostile mail at full size, with the default limits: MIME nested 10,000
# deep, 100,000 header lines, base64 that is not base64, NUL bytes,
# invalid UTF-8 in every header, raw 8-bit headers, RFC 2231 parameter
# continuations out of order, and a 1 GB SIZE declared to the SMTP
# listener. Each is refused with a reason or stored as valid text; the
# neighbours of the refused ones are stored.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
d="$WORK/hostile"
mkdir -p "$d"
python3 - "$d" <<'PY'
import os, sys
d = sys.argv[1]
def w(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
head = b"From: Eve <eve@hostile.example>\r\nTo: rep@acme.example\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
# 10,000 nested multiparts
n = 10000
parts = [head + b"Subject: deep\r\nMessage-ID: <deep@hostile.example>\r\nMIME-Version: 1.0\r\n"]
for i in range(n):
    parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
parts.append(b"Content-Type: text/plain\r\n\r\nbottom\r\n")
for i in reversed(range(n)):
    parts.append(b"--b%d--\r\n" % i)
w("deep.eml", b"".join(parts))
# 100,000 header lines
w("headers.eml", head + b"Subject: headers\r\nMessage-ID: <headers@hostile.example>\r\n" +
  b"".join(b"X-Filler-%d: %d\r\n" % (i, i) for i in range(100000)) + b"\r\nbody\r\n")
# base64 that is not
w("base64.eml", head + b"Subject: garbage base64\r\nMessage-ID: <b64@hostile.example>\r\n"
  b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
  b"!!!!@@@@####$$$$%%%%^^^^&&&&****((((\r\n====\r\nQUJD\x00\xff\xfe====ZZZ\r\n")
# NUL bytes in headers and body
w("nul.eml", head.replace(b"Eve", b"E\x00ve") + b"Subject: nul\x00bytes\r\nMessage-ID: <nul@hostile.example>\r\n\r\nbody\x00with\x00nuls\r\n")
# invalid UTF-8 in every header
bad = b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc"
w("badutf8.eml", b"From: " + bad + b" <bad@hostile.example>\r\nTo: " + bad + b" <rep@acme.example>\r\n"
  b"Cc: " + bad + b" <cc@hostile.example>\r\nSubject: " + bad + b"\r\nMessage-ID: <badutf8@hostile.example>\r\n"
  b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nX-Junk: " + bad + b"\r\n\r\nbody " + bad + b"\r\n")
# raw 8-bit (Latin-1) headers
w("8bit.eml", b"From: Ren\xe9 M\xfcller <rene@hostile.example>\r\nTo: rep@acme.example\r\n"
  b"Subject: R\xe9sum\xe9 f\xfcr Sie\r\nMessage-ID: <8bit@hostile.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nk\xf6rper\r\n")
# RFC 2231 continuations out of order
w("rfc2231.eml", head + b"Subject: rfc2231\r\nMessage-ID: <rfc2231@hostile.example>\r\nMIME-Version: 1.0\r\n"
  b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--x\r\n'
  b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n"
  b" filename*2*=%20three.txt;\r\n filename*0*=UTF-8''part%20one;\r\n filename*1*=%20two\r\n"
  b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--x--\r\n")
for i in range(3):
    w("good%d.eml" % i, b"From: Gina <gina@customer.example>\r\nTo: rep@acme.example\r\n"
      b"Subject: good %d\r\nMessage-ID: <good%d@customer.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nfine\r\n" % (i, i))
PY

ingest Acme "$d"
is "$INGEST_RC" 1 "some hostile mail is refused: exit 1"
is "$INGEST_LINE" "ingested 8, duplicates 0, skipped 0, failed 2" "the other eight are stored"
like "$(grep deep.eml <<<"$INGEST_ERR")" "deep.eml: .*(MIME nesting deeper than 32|too many MIME parts)" \
    "10,000-deep MIME is refused at a named limit, before gmime builds it"
like "$(grep headers.eml <<<"$INGEST_ERR")" "headers.eml: .*too many header fields" \
    "100,000 header lines are refused at the header limit"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'subject' LIKE 'good %'")" 3 \
    "the good neighbours are stored"
is "$(sql "SELECT count(*) FROM interactions WHERE metadata->>'message_id' IN
           ('b64@hostile.example','nul@hostile.example','badutf8@hostile.example','8bit@hostile.example')")" 4 \
    "garbage base64, NUL bytes, invalid UTF-8 and 8-bit headers are stored"
is "$(sql "SELECT length(metadata->>'subject') > 0 AND content LIKE '%body %'
           FROM interactions WHERE metadata->>'message_id' = 'badutf8@hostile.example'")" t \
    "  invalid UTF-8 is read in a fallback charset: valid text, nothing lost or refused"
is "$(sql "SELECT metadata->>'subject' FROM interactions WHERE metadata->>'message_id' = '8bit@hostile.example'")" \
    "Résumé für Sie" "  raw Latin-1 headers are read as Latin-1"
is "$(sql "SELECT content LIKE '%bodywithnuls%' FROM interactions WHERE metadata->>'message_id' = 'nul@hostile.example'")" \
    t "  NUL bytes are dropped from the text (PostgreSQL text cannot hold them)"
is "$(sql "SELECT file_name FROM documents")" "part one two three.txt" \
    "RFC 2231 continuations given out of order are joined in order"

# ---- SMTP: a declared 1 GB message is refused before any byte of it ----
start_smtp_serve
trap 'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null; cleanup' EXIT
out=$(python3 - $SMTP_PORT <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode().rstrip()
        if l[3:4] != "-":
            return l
reply()
s.sendall(b"EHLO x\r\n"); reply()
s.sendall(b"MAIL FROM:<a@customer.example> SIZE=1073741824\r\n"); print(reply())
s.sendall(b"QUIT\r\n"); reply()
PY
)
like "$out" "^552 5\.3\.4" "MAIL FROM with SIZE=1 GB gets 552 5.3.4 before any data"
done_testing
