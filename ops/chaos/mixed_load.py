"""kill9.sh's load driver: mixed writes over several accounts, a kill -9 in their middle, the checks after.

  mixed_load.py load   STATE BASE PID ROUND   one round of load; SIGKILLs PID once enough writes were acknowledged,
                                              with requests still in flight
  mixed_load.py check  STATE BASE             after the restart, over HTTP: every acknowledged write holds (key
                                              status and scopes, verify verdicts, client status), nothing appeared
                                              that was never sent; the writes in flight at the kill are resolved
                                              from what the server shows (there whole, or not at all)
  mixed_load.py self-test                     the ledger check on made-up exports: passes the intact one, fails
                                              on a lost, a misplaced and a doubled write
  mixed_load.py ledger STATE EXPORT           on `authledger audit export` (server stopped): the event at each
                                              acknowledged write's position is that write's, and no write was
                                              applied twice

STATE is a JSON file this script keeps between rounds: the accounts ("accounts": [[id, admin key], ...], written by
kill9.sh), the model of every key and client the load made, and every write sent with its answer. The load runs
THREADS workers; each works on one account and only on the keys and clients it made, one request at a time, so
each object has at most one write in flight when the server dies. Writes: create, rotate (grace 0), grant and
remove a scope, revoke a key; register, rotate the secret of and delete an OAuth client; reads: verify.
Keys and client secrets are secrets: nothing here prints one. CHAOS_SEED repeats a round's choices (printed).
"""
import json
import os
import random
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "lib"))
from alhttp import Client, fail  # noqa: E402

THREADS = 16
ACKED = (200, 201, 202)
# What a write's position (its last event) must hold: type, and the data field naming the subject.
EVENT_OF = {
    "create": ("io.authledger.key.created.v1", "key_id"),
    "rotate": ("io.authledger.key.rotated.v1", "key_id"),
    "grant": ("io.authledger.key.scopes_granted.v1", "key_id"),
    "unscope": ("io.authledger.key.scopes_revoked.v1", "key_id"),
    "revoke": ("io.authledger.key.revoked.v1", "key_id"),
    "register": ("io.authledger.client.registered.v1", "client_id"),
    "rotate_secret": ("io.authledger.client.secret_rotated.v1", "client_id"),
    "delete": ("io.authledger.client.deleted.v1", "client_id"),
}
CLIENT_BODY = {"scopes": ["monitors:read"], "redirect_uris": ["https://app.example/cb"]}


def load_state(path):
    s = json.load(open(path))
    s.setdefault("keys", {})  # id -> {account, owner, name, status, scopes, key (absent if never received)}
    s.setdefault("clients", {})  # id -> {account, owner, name, status}
    s.setdefault("writes", [])  # every write sent: op, account, subject, name, round, code, position, new_id
    return s


def save_state(path, s):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(s, f)
    os.replace(tmp, path)


def pick_op(rng, mine_keys, mine_clients):
    ops = [("create", 25), ("register", 8), ("verify", 10)]
    if any(k["status"] == "active" for k in mine_keys):
        ops += [("rotate", 10), ("grant", 12), ("unscope", 10), ("revoke", 8)]
    if any(c["status"] == "active" for c in mine_clients):
        ops += [("rotate_secret", 8), ("delete", 5)]
    total = sum(w for _, w in ops)
    x = rng.randrange(total)
    for op, w in ops:
        if x < w:
            return op
        x -= w
    return ops[-1][0]


def load(state_path, base, pid, rnd):
    s = load_state(state_path)
    rnd = int(rnd)
    tokens = dict((a, k) for a, k in s["accounts"])
    accounts = [a for a, _ in s["accounts"]]
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1 << 30))
    master = random.Random(seed)
    kill_after = master.randrange(60, 240)  # acknowledged writes before the kill
    lock = threading.Lock()
    cv = threading.Condition(lock)
    stop = threading.Event()
    st = {"acked": 0, "killed_at": None, "reads": 0}
    writes = []

    def worker(w, rng):
        account = accounts[w % len(accounts)]
        token = tokens[account]
        c = Client(base)
        i = 0
        while not stop.is_set():
            with lock:
                mine_keys = [dict(k, id=kid) for kid, k in s["keys"].items() if k["owner"] == w and
                             k["account"] == account]
                mine_clients = [dict(x, id=cid) for cid, x in s["clients"].items() if x["owner"] == w and
                                x["account"] == account]
            op = pick_op(rng, mine_keys, mine_clients)
            active = [k for k in mine_keys if k["status"] == "active"]
            rec = {"op": op, "account": account, "round": rnd, "owner": w}
            try:
                if op == "verify":  # a read: its answer is not checked here, only that the server goes on
                    known = [k for k in mine_keys if k.get("key")]
                    if known:
                        c.call("POST", "/v1/keys/verify", None, {"key": rng.choice(known)["key"]})
                    with lock:
                        st["reads"] += 1
                    continue
                if op == "create":
                    rec["name"] = "r%d-w%d-%d" % (rnd, w, i)
                    code, body, _ = c.call("POST", "/v1/keys", token, {"name": rec["name"], "scopes": ["monitors:read"]})
                elif op == "register":
                    rec["name"] = "r%d-w%d-%d" % (rnd, w, i)
                    code, body, _ = c.call("POST", "/v1/oauth/clients", token, dict(CLIENT_BODY, name=rec["name"]))
                elif op in ("rotate", "grant", "unscope", "revoke"):
                    k = rng.choice(active)
                    rec["subject"] = k["id"]
                    if op == "grant" and "alerts:read" in k["scopes"] or op == "unscope" and "alerts:read" not in \
                            k["scopes"]:
                        op = rec["op"] = "unscope" if op == "grant" else "grant"
                    if op == "rotate":
                        code, body, _ = c.call("POST", "/v1/keys/%s/rotate" % k["id"], token, {"grace_period_seconds": 0})
                    elif op == "grant":
                        code, body, _ = c.call("POST", "/v1/keys/%s/scopes" % k["id"], token, {"scopes": ["alerts:read"]})
                    elif op == "unscope":
                        code, body, _ = c.call("DELETE", "/v1/keys/%s/scopes/alerts:read" % k["id"], token)
                    else:
                        code, body, _ = c.call("DELETE", "/v1/keys/%s?reason=chaos" % k["id"], token)
                else:
                    x = rng.choice([x for x in mine_clients if x["status"] == "active"])
                    rec["subject"] = x["id"]
                    if op == "rotate_secret":
                        code, body, _ = c.call("POST", "/v1/oauth/clients/%s/rotate-secret" % x["id"], token)
                    else:
                        code, body, _ = c.call("DELETE", "/v1/oauth/clients/%s" % x["id"], token)
                rec["code"] = code
            except Exception as e:  # no answer: the server died under it
                if op == "verify":
                    stop.set()
                    return
                rec["code"], rec["error"] = None, type(e).__name__
            i += 1
            with lock:
                writes.append(rec)
                if rec["code"] in ACKED:
                    rec["position"] = body["position"]
                    apply_ack(s, rec, body, w)
                    st["acked"] += 1
                    cv.notify_all()
                elif rec["code"] is not None:
                    rec["detail"] = (body or {}).get("detail")
            if rec["code"] is None:
                stop.set()
                return

    def killer():
        with cv:
            ok = cv.wait_for(lambda: st["acked"] >= kill_after, timeout=120)
            if ok:
                os.kill(pid, signal.SIGKILL)
                st["killed_at"] = st["acked"]
        if not ok:
            stop.set()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(w, random.Random(master.random())), daemon=True)
               for w in range(THREADS)]
    kt = threading.Thread(target=killer, daemon=True)
    kt.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
        if t.is_alive():
            fail("a load thread hung")
    kt.join(5)
    s["writes"] += writes
    save_state(state_path, s)
    if st["killed_at"] is None:
        fail("round %d: only %d writes were acknowledged; no kill" % (rnd, st["acked"]))
    codes = {}
    for r in writes:
        codes[str(r["code"])] = codes.get(str(r["code"]), 0) + 1
    bad = [r for r in writes if r["code"] not in ACKED + (None,)]
    if bad:
        fail("round %d: writes answered other than 2xx: %s" % (rnd, [(r["op"], r["code"], r.get("detail"))
                                                                    for r in bad[:5]]))
    if not any(r["code"] is None for r in writes):
        fail("round %d: no write was in flight at the kill" % rnd)
    print("   load (CHAOS_SEED=%d): %d writes and %d verifies in %.1f s over %d accounts, kill -9 after %d "
          "acknowledged; answers %s (None: in flight at the kill)" %
          (seed, len(writes), st["reads"], time.monotonic() - started, len(accounts), st["killed_at"],
           json.dumps(codes, sort_keys=True)))


def apply_ack(s, rec, body, owner):
    """The model after an acknowledged write (under the lock)."""
    op, a = rec["op"], rec["account"]
    if op == "create":
        rec["subject"] = body["id"]
        s["keys"][body["id"]] = {"account": a, "owner": owner, "name": rec["name"], "status": "active",
                                 "scopes": ["monitors:read"], "key": body["key"]}
    elif op == "rotate":
        rec["new_id"] = body["id"]
        old = s["keys"][rec["subject"]]
        old["status"] = "expired"
        s["keys"][body["id"]] = {"account": a, "owner": owner, "name": old["name"], "status": "active",
                                 "scopes": list(old["scopes"]), "key": body["key"]}
    elif op == "grant":
        s["keys"][rec["subject"]]["scopes"] = ["alerts:read", "monitors:read"]
    elif op == "unscope":
        s["keys"][rec["subject"]]["scopes"] = ["monitors:read"]
    elif op == "revoke":
        s["keys"][rec["subject"]]["status"] = "revoked"
    elif op == "register":
        rec["subject"] = body["id"]
        s["clients"][body["id"]] = {"account": a, "owner": owner, "name": rec["name"], "status": "active"}
    elif op == "delete":
        s["clients"][rec["subject"]]["status"] = "deleted"


def check(state_path, base):
    s = load_state(state_path)
    tokens = dict((a, k) for a, k in s["accounts"])
    c = Client(base)
    errors = []
    listed_keys, listed_clients = {}, {}
    for a, tok in tokens.items():
        code, body, _ = c.call("GET", "/v1/keys", tok)
        if code != 200:
            fail("GET /v1/keys answered %d" % code)
        listed_keys.update({k["id"]: dict(k, account=a) for k in body["keys"]})
        code, body, _ = c.call("GET", "/v1/oauth/clients", tok)
        if code != 200:
            fail("GET /v1/oauth/clients answered %d" % code)
        listed_clients.update({x["id"]: dict(x, account=a) for x in body["clients"]})
    # The writes in flight at the last kill: their outcome is whatever the server shows, if it is whole.
    last = max(r["round"] for r in s["writes"])
    pending = [r for r in s["writes"] if r["round"] == last and r["code"] is None]
    for r in pending:
        if r["op"] in ("create", "register"):
            listed = listed_keys if r["op"] == "create" else listed_clients
            found = [i for i, x in listed.items() if x["name"] == r["name"] and x["account"] == r["account"]]
            if len(found) > 1:
                errors.append("unacknowledged %s %s is there %d times" % (r["op"], r["name"], len(found)))
            for i in found:
                x = listed[i]
                if x["status"] != "active" or x["scopes"] != ["monitors:read"]:
                    errors.append("unacknowledged %s %s is there, not whole: %s %s" % (r["op"], r["name"],
                                                                                       x["status"], x["scopes"]))
                r["landed"], r["subject"] = True, i
                model = s["keys"] if r["op"] == "create" else s["clients"]
                model[i] = {"account": r["account"], "owner": r["owner"], "name": r["name"], "status": "active"}
                if r["op"] == "create":
                    model[i]["scopes"] = ["monitors:read"]  # its key was never received: no verify
            r.setdefault("landed", False)
        elif r["op"] in ("rotate", "grant", "unscope", "revoke"):
            k, m = listed_keys.get(r["subject"]), s["keys"][r["subject"]]
            if r["op"] == "rotate":
                r["landed"] = k is not None and k["replaced_by"] is not None
                if r["landed"]:
                    new = listed_keys.get(k["replaced_by"])
                    if new is None or new["rotated_from"] != r["subject"] or new["status"] != "active":
                        errors.append("unacknowledged rotation of %s is there, not whole" % r["subject"])
                        continue
                    r["new_id"] = new["id"]
                    m["status"] = "expired"
                    s["keys"][new["id"]] = {"account": r["account"], "owner": r["owner"], "name": m["name"],
                                            "status": "active", "scopes": list(m["scopes"])}
            elif r["op"] == "revoke":
                r["landed"] = k is not None and k["status"] == "revoked"
                if r["landed"]:
                    m["status"] = "revoked"
            else:
                after = ["alerts:read", "monitors:read"] if r["op"] == "grant" else ["monitors:read"]
                r["landed"] = k is not None and k["scopes"] == after and k["scopes"] != m["scopes"]
                if r["landed"]:
                    m["scopes"] = after
        else:
            x, m = listed_clients.get(r["subject"]), s["clients"][r["subject"]]
            if r["op"] == "delete":
                r["landed"] = x is not None and x["status"] == "deleted"
                if r["landed"]:
                    m["status"] = "deleted"
            else:
                r["landed"] = None  # a secret rotation shows only in the ledger (checked there)
    # Every key and client in the model is there as the model says, and nothing else of the load is.
    verified = 0
    for i, m in s["keys"].items():
        k = listed_keys.get(i)
        if k is None:
            errors.append("key %s (%s) is gone" % (i, m["name"]))
            continue
        if k["status"] != m["status"] or k["scopes"] != m["scopes"]:
            errors.append("key %s is %s %s, the acknowledged writes left it %s %s" % (i, k["status"], k["scopes"],
                                                                                     m["status"], m["scopes"]))
        if m.get("key"):
            code, body, _ = c.call("POST", "/v1/keys/verify", None, {"key": m["key"]})
            want = {"active": "VALID", "revoked": "REVOKED", "expired": "EXPIRED"}[m["status"]]
            if code != 200 or body.get("code") != want:
                errors.append("key %s (%s) verifies %s %s" % (i, m["status"], code, body and body.get("code")))
            verified += 1
    for i, m in s["clients"].items():
        x = listed_clients.get(i)
        if x is None or x["status"] != m["status"]:
            errors.append("client %s is %s, the acknowledged writes left it %s" % (i, x and x["status"], m["status"]))
    admin_ids = {tok.split("_")[2][:12] for tok in tokens.values()}
    for i, k in listed_keys.items():
        if i not in s["keys"] and i not in admin_ids:
            errors.append("key %s (%s) was never acknowledged nor in flight" % (i, k["name"]))
    for i, x in listed_clients.items():
        if i not in s["clients"]:
            errors.append("client %s (%s) was never acknowledged nor in flight" % (i, x["name"]))
    save_state(state_path, s)
    if errors:
        fail("%d problems after the restart, e.g.:\n  %s" % (len(errors), "\n  ".join(errors[:15])))
    landed = sum(1 for r in pending if r["landed"])
    print("   check: %d keys and %d clients as the acknowledged writes left them (%d keys verified); of %d writes in "
          "flight at the kill %d landed whole, the rest not at all" %
          (len(s["keys"]), len(s["clients"]), verified, len(pending), landed))


def ledger(state_path, export):
    s = load_state(state_path)
    events = [json.loads(l) for l in open(export) if l.strip()]  # line N is position N (one partition)
    errors = []
    acked = [r for r in s["writes"] if r["code"] in ACKED]
    for r in acked:
        p = r["position"]
        typ, field = EVENT_OF[r["op"]]
        e = events[p - 1] if 0 < p <= len(events) else None
        if e is None:
            errors.append("acknowledged %s at position %d: the ledger ends at %d" % (r["op"], p, len(events)))
        elif e["type"] != typ or e["data"].get(field) != r["subject"] or e["partitionkey"] != r["account"]:
            errors.append("acknowledged %s of %s at position %d: the event there is %s of %s" % (
                r["op"], r["subject"], p, e["type"], e["data"].get(field)))
    # Nothing applied twice: event ids are unique, each write sent accounts for at most one event of its type
    # and subject, and no more events of a type than writes of it were sent.
    ids = [e["id"] for e in events]
    if len(set(ids)) != len(ids):
        errors.append("%d events share an id with another" % (len(ids) - len(set(ids))))
    admin_ids = {tok.split("_")[2][:12] for _, tok in s["accounts"]}  # made by bootstrap, not by the load
    per = {}
    for e in events:
        d = e["data"]
        if e["type"] not in (t for t, _ in EVENT_OF.values()) or d.get("key_id") in admin_ids:
            continue
        subject = d.get("key_id") or d.get("client_id")
        if e["type"] in ("io.authledger.key.created.v1", "io.authledger.client.registered.v1"):
            subject = d["name"] + ("<-" + d["rotated_from"] if d.get("rotated_from") else "")
        per.setdefault((e["type"], e["partitionkey"], subject), []).append(e)
    sent = {}
    for r in s["writes"]:
        typ, _ = EVENT_OF[r["op"]]
        subject = r.get("name") if r["op"] in ("create", "register") else r["subject"]
        sent[(typ, r["account"], subject)] = sent.get((typ, r["account"], subject), 0) + 1
        if r["op"] == "rotate":  # a rotation also creates the new key (named as the old one, rotated_from it)
            k = ("io.authledger.key.created.v1", r["account"], s["keys"][r["subject"]]["name"] + "<-" + r["subject"])
            sent[k] = sent.get(k, 0) + 1
    for (typ, account, subject), evs in per.items():
        if len(evs) > sent.get((typ, account, subject), 0):
            errors.append("%d events %s of %s, for %d writes sent" % (len(evs), typ, subject,
                                                                      sent.get((typ, account, subject), 0)))
    if errors:
        fail("%d problems in the ledger, e.g.:\n  %s" % (len(errors), "\n  ".join(errors[:15])))
    print("   ledger: %d events; each of the %d acknowledged writes is at its position, none is there twice" %
          (len(events), len(acked)))


def self_test():
    """`ledger` on made-up exports: it must pass the intact one and catch a lost, a misplaced and a doubled write."""
    import contextlib
    import io
    import tempfile
    acct, kid = "acct_selftest", "K" * 12
    state = {"accounts": [[acct, "al_live_" + "A" * 51]],
             "keys": {kid: {"account": acct, "owner": 0, "name": "r1-w0-0", "status": "active",
                            "scopes": ["monitors:read"]}},
             "writes": [{"op": "create", "account": acct, "round": 1, "owner": 0, "name": "r1-w0-0", "code": 201,
                         "position": 2, "subject": kid}]}

    def ev(i, typ, **data):
        return json.dumps({"id": "e%d" % i, "type": typ, "partitionkey": acct, "data": data})
    other = ev(1, "io.authledger.account.created.v1", name="a")
    made = ev(2, "io.authledger.key.created.v1", key_id=kid, name="r1-w0-0")
    again = ev(3, "io.authledger.key.created.v1", key_id="L" * 12, name="r1-w0-0")
    cases = [("intact", [other, made], True), ("lost", [other], False), ("misplaced", [made, other], False),
             ("doubled", [other, made, again], False)]
    with tempfile.TemporaryDirectory() as d:
        sp, ep = os.path.join(d, "state.json"), os.path.join(d, "export.jsonl")
        save_state(sp, state)
        for name, lines, ok in cases:
            with open(ep, "w") as f:
                f.write("\n".join(lines) + "\n")
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    ledger(sp, ep)
                passed = True
            except SystemExit:
                passed = False
            if passed != ok:
                fail("self-test: the ledger check %s the %s export" % ("refused" if ok else "passed", name))
    print("   self-test: the ledger check passes an intact export and catches a lost, a misplaced and a doubled write")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "load":
        load(args[0], args[1], int(args[2]), args[3])
    elif cmd == "check":
        check(*args)
    elif cmd == "ledger":
        ledger(*args)
    elif cmd == "self-test":
        self_test()
    else:
        fail("unknown command " + cmd)
