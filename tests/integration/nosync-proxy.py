#!/usr/bin/env python3
"""nosync-proxy.py PORT UPSTREAM - a CalDAV server without sync-collection.

Forwards every request to UPSTREAM (a Radicale, http://127.0.0.1:N)
except a REPORT sync-collection, answered 501 Not Implemented, as a
server without RFC 6578 does: the CalDAV source must fall back to the
getctag/getetag listing (t-caldav-sync.sh). Loopback only; prints
"ready" when listening.
"""
import http.client
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
UP = urllib.parse.urlsplit(sys.argv[2])
FORWARDED = ("authorization", "depth", "content-type", "if-match", "if-none-match")


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.command == "REPORT" and b"sync-collection" in body:
            msg = b"sync-collection is not implemented here"
            self.send_response(501)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        conn = http.client.HTTPConnection(UP.hostname, UP.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED}
        conn.request(self.command, self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = forward


server = ThreadingHTTPServer(("127.0.0.1", PORT), Proxy)
print("ready", flush=True)
server.serve_forever()
