"""crash_test.sh's client: a concurrent burst of key writes, a kill -9 in its middle, the checks after.

  crash_burst.py seed  BASE ACCOUNTS N OUT            N keys per account (to be revoked in the burst)
  crash_burst.py burst BASE ACCOUNTS SEEDED OUT PID   the burst; SIGKILLs PID once enough writes were
                                                      acknowledged, with requests still in flight
  crash_burst.py check BASE ACCOUNTS SEEDED OUT       after the restart: nothing acknowledged was lost

ACCOUNTS holds one "account_id admin_key" per line; the first account is the hot one (most of the
burst goes to it, so its writes queue behind each other's appends). SEEDED and OUT are JSON Lines
records, one per request: op, account, name/id, the HTTP code (null: no answer) and, for creates
answered, the full key. Keys are secrets: nothing here prints one. Everything is bounded in time.
"""
import json
import os
import random
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from alhttp import TIMEOUT, Client, fail, load_accounts, load_records, write_records  # noqa: E402

THREADS = 48
ACKED_CREATE = (201, 202)
ACKED_REVOKE = (200, 202)


def run_tasks(base, tasks, out, on_answer=None, stop=None):
    """Runs tasks (dicts: op, account, token, name | id) on THREADS threads; writes one record each to OUT."""
    lock = threading.Lock()
    queue = list(reversed(tasks))
    records = []

    def worker():
        c = Client(base)
        while True:
            with lock:
                if not queue or (stop is not None and stop.is_set()):
                    return
                t = queue.pop()
            rec = {k: v for k, v in t.items() if k != "token"}
            try:
                if t["op"] == "create":
                    code, body, _ = c.call("POST", "/v1/keys", t["token"],
                                           {"name": t["name"], "scopes": ["monitors:read"]})
                    if code in ACKED_CREATE:
                        rec["id"], rec["key"] = body["id"], body["key"]
                else:
                    code, body, _ = c.call("DELETE", "/v1/keys/" + t["id"], t["token"])
                rec["code"] = code
            except Exception as e:  # no answer: the server died under it (or the request timed out)
                rec["code"], rec["error"] = None, type(e).__name__
            with lock:
                records.append(rec)
            if on_answer:
                on_answer(rec)
            if rec["code"] is None and stop is not None:
                stop.set()  # the server is gone: stop sending

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 3)
        if t.is_alive():
            fail("a client thread hung")
    write_records(out, records)
    return records


def seed(base, accounts_file, n, out):
    accounts = load_accounts(accounts_file)
    tasks = [{"op": "create", "account": a, "token": k, "name": "seed-%d-%d" % (ai, i)}
             for ai, (a, k) in enumerate(accounts) for i in range(int(n))]
    records = run_tasks(base, tasks, out)
    bad = [r for r in records if r["code"] not in ACKED_CREATE]
    if bad:
        fail("seeding keys failed: %s" % [(r["name"], r["code"]) for r in bad[:5]])


def burst(base, accounts_file, seeded_file, out, pid):
    accounts = load_accounts(accounts_file)
    tokens = dict(accounts)
    seeded = load_records(seeded_file)
    tasks = []
    for ai, (a, k) in enumerate(accounts):
        creates = 240 if ai == 0 else 40  # the hot account: several writes of it in flight at once
        tasks += [{"op": "create", "account": a, "token": k, "name": "burst-%d-%d" % (ai, i)} for i in range(creates)]
    tasks += [{"op": "revoke", "account": r["account"], "token": tokens[r["account"]], "id": r["id"]} for r in seeded]
    # A different order and kill point each run (CRASH_SEED repeats one; it is printed).
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1 << 30))
    rng = random.Random(seed)
    rng.shuffle(tasks)
    kill_after = rng.randrange(len(tasks) // 8, len(tasks) // 3)  # acknowledged writes before the kill
    state = {"acked": 0, "inflight_at_kill": None}
    cv = threading.Condition()
    stop = threading.Event()
    started = time.monotonic()

    def on_answer(rec):
        if rec["code"] in ACKED_CREATE + ACKED_REVOKE:
            with cv:
                state["acked"] += 1
                cv.notify()

    killer_done = threading.Event()

    def killer():
        with cv:
            ok = cv.wait_for(lambda: state["acked"] >= kill_after, timeout=60)
        if ok:
            os.kill(pid, signal.SIGKILL)
            state["killed_at_acked"] = state["acked"]
        killer_done.set()

    threading.Thread(target=killer, daemon=True).start()
    records = run_tasks(base, tasks, out, on_answer=on_answer, stop=stop)
    if not killer_done.wait(5) or "killed_at_acked" not in state:
        fail("the burst ended before %d writes were acknowledged (%d were)" % (kill_after, state["acked"]))
    unanswered = sum(1 for r in records if r["code"] is None)
    if unanswered == 0:
        fail("the kill came after the burst: no request was in flight (%d answered)" % len(records))
    codes = {}
    for r in records:
        codes[str(r["code"])] = codes.get(str(r["code"]), 0) + 1
    print("burst (CRASH_SEED=%d): %d requests sent in %.1f s, kill -9 after %d acknowledged; answers %s (None: in "
          "flight at the kill)" % (seed, len(records), time.monotonic() - started, state["killed_at_acked"],
                                   json.dumps(codes, sort_keys=True)))


def check(base, accounts_file, seeded_file, burst_file):
    accounts = load_accounts(accounts_file)
    tokens = dict(accounts)
    seeded = {r["id"]: r for r in load_records(seeded_file)}
    records = load_records(burst_file)
    c = Client(base)
    errors = []
    # Any answer but 201/202 (create) and 200/202 (revoke) must be one that leaves the write undone or unknown.
    for r in records:
        if r["code"] not in (None, 503) + (ACKED_CREATE if r["op"] == "create" else ACKED_REVOKE):
            errors.append("%s %s answered %s" % (r["op"], r.get("name") or r.get("id"), r["code"]))
    listed = {}
    for a, k in accounts:
        code, body, _ = c.call("GET", "/v1/keys", k)
        if code != 200:
            fail("GET /v1/keys of %s answered %d" % (a, code))
        listed[a] = {x["id"]: x for x in body["keys"]}
    by_name = {}
    for a in listed:
        for x in listed[a].values():
            by_name.setdefault((a, x["name"]), []).append(x)
    creates_acked = revokes_acked = 0
    for r in records:
        a = r["account"]
        if r["op"] == "create":
            found = by_name.get((a, r["name"]), [])
            if len(found) > 1:
                errors.append("create %s is there %d times" % (r["name"], len(found)))
            for x in found:  # whether acknowledged or not, a key that is there is whole
                if x["status"] != "active" or x["scopes"] != ["monitors:read"]:
                    errors.append("key %s of create %s is %s %s" % (x["id"], r["name"], x["status"], x["scopes"]))
            if r["code"] in ACKED_CREATE:
                creates_acked += 1
                if [x["id"] for x in found] != [r["id"]]:
                    errors.append("acknowledged create %s (%s) is not listed once" % (r["name"], r["id"]))
                code, body, _ = c.call("POST", "/v1/keys/verify", None, {"key": r["key"]})
                if code != 200 or body.get("code") != "VALID":
                    errors.append("acknowledged key %s verifies %s %s" % (r["id"], code, body and body.get("code")))
        else:
            x = listed[a].get(r["id"])
            if x is None:
                errors.append("seeded key %s is gone" % r["id"])
                continue
            if r["code"] in ACKED_REVOKE:
                revokes_acked += 1
                if x["status"] != "revoked":
                    errors.append("acknowledged revoke of %s: the key is %s" % (r["id"], x["status"]))
                code, body, _ = c.call("POST", "/v1/keys/verify", None, {"key": seeded[r["id"]]["key"]})
                if code != 200 or body.get("code") != "REVOKED":
                    errors.append("revoked key %s verifies %s %s" % (r["id"], code, body and body.get("code")))
            elif x["status"] not in ("active", "revoked"):
                errors.append("unacknowledged revoke of %s: the key is %s" % (r["id"], x["status"]))
    # Nothing else appeared: every burst-made key is one of the creates sent.
    sent = {(r["account"], r["name"]) for r in records if r["op"] == "create"}
    for (a, name) in by_name:
        if name.startswith("burst-") and (a, name) not in sent:
            errors.append("key named %s was never sent" % name)
    if errors:
        fail("%d problems after the restart, e.g.:\n  %s" % (len(errors), "\n  ".join(errors[:15])))
    print("check: %d acknowledged creates verify VALID, %d acknowledged revokes are revoked, %d unanswered writes "
          "all-or-nothing" % (creates_acked, revokes_acked, sum(1 for r in records if r["code"] is None)))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "seed":
        seed(*args)
    elif cmd == "burst":
        burst(args[0], args[1], args[2], args[3], int(args[4]))
    elif cmd == "check":
        check(*args)
    else:
        fail("unknown command " + cmd)
