#!/usr/bin/env python3
"""oauth2-introspect PORT TOKEN EMAIL - the token check behind Dovecot's
oauth2 passdb in the tests (introspection_mode = get): TOKEN is a valid
access token for EMAIL, anything else is refused. It plays the mail
provider's OAuth server; crmgate itself only talks IMAP to Dovecot."""
import http.server, json, sys, urllib.parse
TOKEN = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        tok = q.get("token", [""])[0]
        if tok == TOKEN:
            body = json.dumps({"email": sys.argv[3], "active": True}).encode()
            self.send_response(200)
        else:
            body = b'{"error":"invalid_token"}'
            self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
