"""What the Python clients of the crash tests share (tests/cli/crash_burst.py, ops/chaos/mixed_load.py).

  Client(base)          one keep-alive HTTP/1.1 connection to a node; call(method, path, token, body) returns
                        (status, parsed JSON body or None, headers) and raises on a transport error (it then
                        reconnects on the next call)
  load_accounts(path)   [(account_id, admin_key)] from lines "account_id admin_key"
  load_records(path)    the JSON Lines records of a file
  write_records(path, records)
  fail(msg)             print FAIL: msg on stderr and exit 1

Keys and client secrets are secrets: nothing here prints one.
"""
import http.client
import json
import sys
import urllib.parse

TIMEOUT = 20  # seconds, any one request


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects after an error."""

    def __init__(self, base, timeout=TIMEOUT):
        u = urllib.parse.urlparse(base)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.conn = None

    def call(self, method, path, token=None, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        try:
            self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            r = self.conn.getresponse()
            data = r.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        return r.status, (json.loads(data) if data else None), {k.lower(): v for k, v in r.getheaders()}


def load_accounts(path):
    out = []
    for line in open(path):
        if line.strip():
            acct, key = line.split()
            out.append((acct, key))
    return out


def load_records(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def write_records(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
