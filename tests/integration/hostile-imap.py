#!/usr/bin/env python3
"""hostile-imap PORT MODE - an IMAP server that misbehaves, for the
tests (a real server would not). It logs any user in, offers one
message, then, MODE:
  endless    answers the body FETCH with a literal of 2 GB and streams it
  malformed  answers UID SEARCH with bytes that are not a response
Counts connections in PORT.connections (next to this process's cwd)."""
import socketserver, sys, threading

port, mode = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
connections = 0

class H(socketserver.StreamRequestHandler):
    def send(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def handle(self):
        global connections
        with lock:
            connections += 1
            with open("%d.connections" % port, "w") as f:
                f.write(str(connections))
        try:
            self.send(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hostile ready\r\n")
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                parts = line.decode("latin-1").split()
                if len(parts) < 2:
                    continue
                tag, cmd = parts[0], parts[1].upper()
                rest = " ".join(parts[2:]).upper()
                if cmd == "CAPABILITY":
                    self.send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n" % tag.encode())
                elif cmd == "LOGIN":
                    self.send(b"%s OK logged in\r\n" % tag.encode())
                elif cmd in ("SELECT", "EXAMINE"):
                    self.send(b"* 1 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] v\r\n"
                              b"* OK [UIDNEXT 2] n\r\n%s OK [READ-WRITE] selected\r\n" % tag.encode())
                elif cmd == "UID" and rest.startswith("SEARCH"):
                    if mode == "malformed":
                        self.send(b"* SEARCH \x00\xff((( {-1}\r\n%s OK \r\n)\r\n" % tag.encode())
                    else:
                        self.send(b"* SEARCH 1\r\n%s OK searched\r\n" % tag.encode())
                elif cmd == "UID" and rest.startswith("FETCH") and "RFC822.SIZE" in rest:
                    self.send(b"* 1 FETCH (UID 1 RFC822.SIZE 100)\r\n%s OK fetched\r\n" % tag.encode())
                elif cmd == "UID" and rest.startswith("FETCH"):
                    self.send(b"* 1 FETCH (UID 1 BODY[] {2000000000}\r\n")
                    chunk = b"x" * 65536
                    for _ in range(2000000000 // 65536):
                        self.send(chunk)
                    return
                elif cmd == "LOGOUT":
                    self.send(b"* BYE\r\n%s OK bye\r\n" % tag.encode())
                    return
                else:
                    self.send(b"%s OK whatever\r\n" % tag.encode())
        except (BrokenPipeError, ConnectionResetError):
            return

class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

S(("127.0.0.1", port), H).serve_forever()
