#!/usr/bin/python3
"""Extracts the events of an embedded authledger ledger as JSON Lines.

    /usr/bin/python3 tests/schemas/ledger_to_jsonl.py LEDGER_DIR OUT.jsonl

LEDGER_DIR is <data dir>/ledger. The segment files are parsed exactly as
docs/ledger-format.md describes (stdlib only): header magic, version and CRC,
then records whose CRC32 (zlib) is verified, whose body must be consumed exactly
by its fields, and whose positions and per-account sequences must be contiguous.
Each event's stored bytes are written unchanged, one per line, in ledger
(position) order, so the hash chain can be recomputed from the output.

Read a ledger that no server has open (stop the server first). Any damage, a
torn tail included, is an error here: this tool never truncates or skips.
Exits 0 on success, 1 on a malformed ledger, 2 on a usage error.
"""
import json
import os
import re
import struct
import sys
import zlib

MAGIC = b"ALEDGER1"
VERSION = 1
SEGMENT_HEADER_SIZE = 16
RECORD_HEADER_SIZE = 8
BODY_FIXED_SIZE = 8 + 8 + 2 + 4
MAX_RECORD_SIZE = 16 * 1024 * 1024
MAX_EVENTS = 10000
MAX_ACCOUNT_ID = 128
SEGMENT_NAME = re.compile(r"^([0-9]{6,})\.log$")


class Corruption(Exception):
    pass


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def segments(ledger_dir):
    numbered = []
    for name in os.listdir(ledger_dir):
        m = SEGMENT_NAME.match(name)
        if not m:
            continue  # LOCK, *.log.tmp and other files are not segments
        n = int(m.group(1))
        if name != "%06u.log" % n:  # e.g. "0000001.log" is not a segment name
            continue
        numbered.append((n, name))
    numbered.sort()
    if not numbered:
        raise Corruption("no segment files (*.log) in %s" % ledger_dir)
    for expected, (n, name) in enumerate(numbered, start=1):
        if n != expected:
            raise Corruption("segment %06u.log is missing (found %s)" % (expected, name))
    return [os.path.join(ledger_dir, name) for _, name in numbered]


def parse_body(body, where):
    if len(body) < BODY_FIXED_SIZE + 1:
        raise Corruption("%s: record body of %d bytes is too short" % (where, len(body)))
    first_position, account_seq_first, id_len = struct.unpack_from("<QQH", body, 0)
    off = 18
    if first_position < 1 or account_seq_first < 1:
        raise Corruption("%s: first_position/account_seq_first must be >= 1" % where)
    if not 1 <= id_len <= MAX_ACCOUNT_ID:
        raise Corruption("%s: account_id_len %d out of range" % (where, id_len))
    if off + id_len + 4 > len(body):
        raise Corruption("%s: account id runs past the body" % where)
    account_id = body[off:off + id_len].decode("utf-8", errors="strict")
    off += id_len
    (count,) = struct.unpack_from("<I", body, off)
    off += 4
    if not 1 <= count <= MAX_EVENTS:
        raise Corruption("%s: event_count %d out of range" % (where, count))
    events = []
    for i in range(count):
        if off + 4 > len(body):
            raise Corruption("%s: event %d length runs past the body" % (where, i))
        (n,) = struct.unpack_from("<I", body, off)
        off += 4
        if n < 1 or off + n > len(body):
            raise Corruption("%s: event %d of %d bytes does not fit the body" % (where, i, n))
        events.append(body[off:off + n])
        off += n
    if off != len(body):
        raise Corruption("%s: %d trailing bytes inside the record" % (where, len(body) - off))
    return first_position, account_seq_first, account_id, events


def read_ledger(ledger_dir):
    """Yields (position, account_id, account_seq, event_bytes) in ledger order."""
    next_position = 1
    account_seq = {}
    for path in segments(ledger_dir):
        with open(path, "rb") as f:
            data = f.read()
        name = os.path.basename(path)
        header = data[:SEGMENT_HEADER_SIZE]
        if len(header) < SEGMENT_HEADER_SIZE or header[:8] != MAGIC:
            raise Corruption("%s: bad segment header (magic)" % name)
        version, hdr_crc = struct.unpack_from("<II", header, 8)
        if crc32(header[:12]) != hdr_crc:
            raise Corruption("%s: segment header checksum mismatch" % name)
        if version != VERSION:
            raise Corruption("%s: segment format version %d is not %d" % (name, version, VERSION))
        off = SEGMENT_HEADER_SIZE
        while off < len(data):
            where = "%s@%d" % (name, off)
            if off + RECORD_HEADER_SIZE > len(data):
                raise Corruption("%s: %d bytes left, less than a record header (torn tail?)" % (where, len(data) - off))
            crc, length = struct.unpack_from("<II", data, off)
            if RECORD_HEADER_SIZE + length > MAX_RECORD_SIZE:
                raise Corruption("%s: record length %d over the limit" % (where, length))
            end = off + RECORD_HEADER_SIZE + length
            if end > len(data):
                raise Corruption("%s: record of %d bytes runs past the end of the file (torn tail?)" % (where, length))
            if crc32(data[off + 4:end]) != crc:
                raise Corruption("%s: record checksum mismatch" % where)
            first_position, seq_first, account_id, events = parse_body(data[off + RECORD_HEADER_SIZE:end], where)
            if first_position != next_position:
                raise Corruption("%s: first_position %d, expected %d" % (where, first_position, next_position))
            expected_seq = account_seq.get(account_id, 0) + 1
            if seq_first != expected_seq:
                raise Corruption("%s: account %s sequence %d, expected %d" % (where, account_id, seq_first, expected_seq))
            for i, ev in enumerate(events):
                if b"\n" in ev:
                    raise Corruption("%s: event %d holds a raw newline; cannot write it as one line" % (where, i))
                # The record header and the envelope must agree on account and sequence.
                try:
                    env = json.loads(ev)
                except ValueError as e:
                    raise Corruption("%s: event %d is not JSON: %s" % (where, i, e))
                if not isinstance(env, dict) or env.get("partitionkey") != account_id or env.get("accountseq") != seq_first + i:
                    raise Corruption("%s: event %d says partitionkey %r accountseq %r; the record says %s seq %d" % (
                        where, i, env.get("partitionkey") if isinstance(env, dict) else None,
                        env.get("accountseq") if isinstance(env, dict) else None, account_id, seq_first + i))
                yield first_position + i, account_id, seq_first + i, ev
            next_position = first_position + len(events)
            account_seq[account_id] = seq_first + len(events) - 1
            off = end


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: ledger_to_jsonl.py LEDGER_DIR OUT.jsonl\n")
        return 2
    ledger_dir, out_path = argv[1], argv[2]
    if not os.path.isdir(ledger_dir):
        sys.stderr.write("ledger_to_jsonl: %s is not a directory\n" % ledger_dir)
        return 2
    count = 0
    accounts = set()
    try:
        with open(out_path, "wb") as out:
            for _, account_id, _, ev in read_ledger(ledger_dir):
                out.write(ev)
                out.write(b"\n")
                count += 1
                accounts.add(account_id)
    except (Corruption, UnicodeDecodeError) as e:
        sys.stderr.write("ledger_to_jsonl: corrupt ledger: %s\n" % e)
        return 1
    print("ledger_to_jsonl: %d events of %d account(s) from %s -> %s" % (count, len(accounts), ledger_dir, out_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
