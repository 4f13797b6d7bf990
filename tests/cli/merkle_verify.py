#!/usr/bin/env python3
"""What a SIEM runs to check authledger's proofs with nothing but hashlib (docs/siem.md).

  merkle_verify.py inclusion EVENT_FILE PROOF_JSON HEAD_JSON
      EVENT_FILE: the event's stored bytes (the `data:` line of GET /v1/events, no newline);
      PROOF_JSON: the body of GET /v1/audit/proof?position=P; HEAD_JSON: a signed tree head
      ({"heads": [...]} or one head) the SIEM holds. Exit 0 if the event is leaf P of that tree.
  merkle_verify.py consistency PROOF_JSON OLD_HEAD_JSON NEW_HEAD_JSON
      PROOF_JSON: GET /v1/audit/consistency?first=OLD&second=NEW. Exit 0 if the old tree is a
      prefix of the new one.
RFC 9162 2.1: leaf hash SHA-256(0x00 || leaf), node SHA-256(0x01 || left || right); authledger's leaf
is the event's own SHA-256.
"""
import hashlib
import json
import sys


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def head_of(path, partition):
    j = json.load(open(path))
    for h in j.get("heads", [j]):
        if h["partition"] == partition:
            return h
    sys.exit("no head for partition %d in %s" % (partition, path))


def verify_inclusion(index, size, leaf, proof, root):  # RFC 9162 2.1.3.2
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):  # RFC 9162 2.1.4.2
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof or first > second:
        return False
    if first & (first - 1) == 0:
        proof = [first_root] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def main():
    if sys.argv[1] == "inclusion":
        event = open(sys.argv[2], "rb").read().rstrip(b"\n")
        proof = json.load(open(sys.argv[3]))
        head = head_of(sys.argv[4], proof["partition"])
        leaf = hashlib.sha256(b"\x00" + hashlib.sha256(event).digest()).digest()
        ok = proof["tree_size"] == head["tree_size"] and verify_inclusion(
            proof["leaf_index"], head["tree_size"], leaf, [bytes.fromhex(h) for h in proof["proof"]],
            bytes.fromhex(head["root_hash"]))
    else:
        proof = json.load(open(sys.argv[2]))
        old, new = head_of(sys.argv[3], proof["partition"]), head_of(sys.argv[4], proof["partition"])
        ok = (proof["first"], proof["second"]) == (old["tree_size"], new["tree_size"]) and verify_consistency(
            old["tree_size"], new["tree_size"], bytes.fromhex(old["root_hash"]), bytes.fromhex(new["root_hash"]),
            [bytes.fromhex(h) for h in proof["proof"]])
    print("VERIFIED" if ok else "NOT VERIFIED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
