#!/usr/bin/env python3
"""smtp-abuser HOST PORT MODE - an SMTP client that misbehaves, for the
tests. Prints each server reply line it sees, then "closed after N s"
when the server hung up (or "still open" if it never did).
MODE: longline (a 10 MB command line, then NOOP), dataline (a 10 MB line
inside DATA), drip (a command one byte every 0.5 s, 30 s at most),
slowdata (a message one short line a second, 30 s at most)."""
import select, socket, sys, time

host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), timeout=60)
f = s.makefile("rb")
start = time.monotonic()

def line():
    l = f.readline()
    if not l:
        raise EOFError
    print(l.decode("latin-1").rstrip())
    return l

def reply():
    while True:
        l = line()
        if l[3:4] != b"-":
            return l

def trickle(chunks, pause):
    """Send chunks with pauses; print what the server says meanwhile."""
    for c in chunks:
        if select.select([s], [], [], 0)[0]:
            while True:  # the server spoke (421?): read until it hangs up
                line()
        s.sendall(c)
        time.sleep(pause)

def cmd(c):
    s.sendall(c + b"\r\n")
    return reply()

try:
    reply()
    cmd(b"EHLO abuser.example")
    if mode == "longline":
        s.sendall(b"NOOP " + b"A" * (10 * 1024 * 1024) + b"\r\n")
        reply()
        cmd(b"NOOP")
        cmd(b"QUIT")
    elif mode == "dataline":
        cmd(b"MAIL FROM:<a@customer.example>")
        cmd(b"RCPT TO:<log@in.example.com>")
        cmd(b"DATA")
        s.sendall(b"Subject: long\r\n\r\n" + b"B" * (10 * 1024 * 1024) + b"\r\n.\r\n")
        reply()
        cmd(b"QUIT")
    elif mode == "drip":
        trickle([bytes([b]) for b in b"NOOP" * 15], 0.5)
        print("still open")
    elif mode == "slowdata":
        cmd(b"MAIL FROM:<a@customer.example>")
        cmd(b"RCPT TO:<log@in.example.com>")
        cmd(b"DATA")
        s.sendall(b"Subject: slow\r\n\r\n")
        trickle([b"line %d\r\n" % i for i in range(30)], 1)
        print("still open")
    # the server may close after QUIT or a 421
    while line():
        pass
except (EOFError, ConnectionResetError, BrokenPipeError):
    pass
print("closed after %d s" % round(time.monotonic() - start))
