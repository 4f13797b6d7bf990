#!/usr/bin/env python3
"""Checks that every #include in the C++ sources respects the layers (ctest: layering).

    python3 tests/layering.py [REPO_ROOT]   (default: the repository holding this script)
    python3 tests/layering.py --self-test   (bad includes in a scratch tree must all be caught)

Layers (folders are CMake libraries; dependencies flow one way, and reach is transitive):
    gateway -> commands, projections -> ledger -> domain ; app wires everything.
A project include is written from the repository root ("ledger/event_log.h"); its first folder
must be one the including file's layer may use (LAYERS below). tests/ may use every layer and the
shared helpers in tests/support/; tests/support/ and ops/ may use every layer and tests/support/.
A quoted include without a folder ("support.h") names a file beside the includer and is allowed;
one that climbs out ("../x.h") is not: it would get around the build's per-layer include roots.

The build enforces the same layers for project includes (each library sees only the include roots
of the layers it links). Third-party headers all live in /usr/include, which every compile
searches, so there the build cannot hide a library from a layer; this check does (THIRD_PARTY
below, in step with each CMakeLists.txt's target_link_libraries). Headers it does not list (the C
and C++ libraries, POSIX, nlohmann/json) are free to all.

On failure prints one line per bad include, "file:line: #include ...: the rule", and exits 1.
"""
import os
import re
import sys
import tempfile

LAYER_ORDER = ["domain", "ledger", "projections", "commands", "gateway", "app"]

# Layer -> the project folders its files may include. Test and benchmark code sits on top of
# everything; the shared helpers stay apart from the tests themselves, and benchmarks use only them.
LAYERS = {
    "domain": {"domain"},
    "ledger": {"ledger", "domain"},
    "projections": {"projections", "ledger", "domain"},
    "commands": {"commands", "projections", "ledger", "domain"},
    "gateway": {"gateway", "commands", "projections", "ledger", "domain"},
    "app": set(LAYER_ORDER),
    "tests": set(LAYER_ORDER) | {"tests/support"},
    "tests/support": set(LAYER_ORDER) | {"tests/support"},
    "ops": set(LAYER_ORDER) | {"tests/support"},
}

# Third-party header prefix -> the layers whose files may include it (those whose target links it).
# Test and benchmark code may include any, except gtest outside tests/ (tests/support/ and ops/
# are gtest-free: the benchmarks link the helpers).
THIRD_PARTY = {
    "openssl/": {"domain"},
    "libdeflate.h": {"domain"},
    "librdkafka/": {"ledger"},
    "rocksdb/": {"projections", "app"},
    "boost/": {"gateway", "app"},
    "spdlog/": {"ledger", "projections", "commands", "gateway", "app"},
    "fmt/": {"ledger", "projections", "commands", "gateway", "app"},
    "CLI/": {"app"},
    "toml++/": {"app"},
    "gtest/": set(),
    "gmock/": set(),
}
TEST_CODE = {"tests", "tests/support", "ops"}
GTEST = ("gtest/", "gmock/")

SOURCE_DIRS = LAYER_ORDER + ["tests", "ops"]
SOURCE_EXTENSIONS = (".h", ".cc", ".hpp", ".cpp", ".inc")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def layer_of(path):
    """The rule key of a source file (relative to the repository root): "ledger", "tests/support"."""
    parts = path.split("/")
    if parts[0] == "tests" and len(parts) > 2 and parts[1] == "support":
        return "tests/support"
    return parts[0]


def folder_of(include):
    """The project folder a quoted include names ("ledger", "tests/support"), None if it has none."""
    parts = include.split("/")
    if len(parts) == 1:
        return None
    if parts[0] in ("tests", "ops") and len(parts) > 2:
        return parts[0] + "/" + parts[1]
    return parts[0]


def listed(folders):
    in_order = [f for f in LAYER_ORDER if f in folders] + sorted(set(folders) - set(LAYER_ORDER))
    return ", ".join(f + "/" for f in in_order)


def broken_rule(layer, bracket, include):
    """The rule an include breaks, as a sentence; None when it is allowed."""
    if bracket == '"':
        if ".." in include.split("/"):
            return "a project include is written from the repository root, never with '..'"
        folder = folder_of(include)
        if folder is None or folder in LAYERS[layer]:
            return None
        return "layers: %s/ may include only %s" % (layer, listed(LAYERS[layer]))
    if layer in TEST_CODE:
        if include.startswith(GTEST) and layer != "tests":
            return "third-party: <%s> is for tests/ only (%s/ is gtest-free)" % (include, layer)
        return None
    for prefix, layers in THIRD_PARTY.items():
        if include.startswith(prefix) and layer not in layers:
            return "third-party: <%s...> is for %s only" % (prefix, listed(layers) or "tests/")
    return None


def sources(root):
    for top in SOURCE_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if d != "node_modules" and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(SOURCE_EXTENSIONS):
                    yield os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")


def check_tree(root):
    """Every bad include under `root` as "file:line: #include ...: rule", and how many files were read."""
    problems, files = [], 0
    for path in sources(root):
        files += 1
        layer = layer_of(path)
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                bracket, include = m.group(1), m.group(2)
                rule = broken_rule(layer, bracket, include)
                if rule:
                    close = '"' if bracket == '"' else ">"
                    problems.append("%s:%d: #include %s%s%s: %s" % (path, number, bracket, include, close, rule))
    return problems, files


# The self-test's scratch tree: includes every rule allows, and ones each rule must catch.
GOOD = {
    "domain/a.h": ['"domain/b.h"', "<nlohmann/json.hpp>", "<openssl/evp.h>", "<vector>"],
    "ledger/a.cc": ['"ledger/a.h"', '"domain/a.h"', "<librdkafka/rdkafka.h>", "<spdlog/spdlog.h>"],
    "projections/a.cc": ['"ledger/a.h"', '"domain/a.h"', "<rocksdb/db.h>"],
    "commands/a.cc": ['"projections/a.h"', '"ledger/a.h"', '"domain/a.h"'],
    "gateway/a.cc": ['"commands/a.h"', '"projections/a.h"', "<boost/asio.hpp>"],
    "app/a.cc": ['"gateway/a.h"', '"commands/a.h"', '"app/a.h"', "<CLI/CLI.hpp>"],
    "tests/unit/a.cc": ['"app/a.h"', '"tests/support/a.h"', "<gtest/gtest.h>", '"beside.h"'],
    "tests/support/a.cc": ['"app/a.h"', '"tests/support/a.h"', "<rocksdb/db.h>"],
    "ops/bench/a.cc": ['"app/a.h"', '"tests/support/a.h"', "<librdkafka/rdkafka.h>"],
}
BAD = {
    "domain/x.h": ['"ledger/a.h"', "<rocksdb/db.h>", "<boost/asio.hpp>", "<spdlog/spdlog.h>"],
    "ledger/x.cc": ['"projections/a.h"', '"../projections/a.h"', "<rocksdb/db.h>"],
    "projections/x.cc": ['"commands/a.h"', '"gateway/a.h"', "<boost/asio.hpp>"],
    "commands/x.cc": ['"gateway/a.h"', '"app/a.h"'],
    "gateway/x.cc": ['"app/a.h"', "<librdkafka/rdkafka.h>"],
    "app/x.cc": ['"tests/support/a.h"', '"ops/bench/a.h"'],
    "tests/support/x.cc": ['"tests/unit/a.h"', "<gtest/gtest.h>"],
    "ops/bench/x.cc": ['"tests/integration/a.h"', '"ops/bench/a.h"', "<gmock/gmock.h>"],
}


def self_test():
    """The checker must report exactly the BAD includes of a scratch tree."""
    expected = set()
    with tempfile.TemporaryDirectory() as root:
        for files, bad in ((GOOD, False), (BAD, True)):
            for path, includes in files.items():
                os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
                with open(os.path.join(root, path), "w") as f:
                    f.write("// scratch\n")
                    for number, include in enumerate(includes, 2):
                        f.write("#include %s\n" % include)
                        if bad:
                            expected.add("%s:%d" % (path, number))
        problems, _ = check_tree(root)
    for p in problems:
        print("caught " + p)
    found = {":".join(p.split(":")[:2]) for p in problems}
    missed, extra = sorted(expected - found), sorted(found - expected)
    if missed or extra:
        print("layering self-test FAILED: missed %s; flagged although allowed %s" % (missed, extra))
        return 1
    print("layering self-test: all %d bad includes caught, no allowed one flagged" % len(expected))
    return 0


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__)
        return 0 if len(argv) == 2 else 2
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    root = argv[1] if len(argv) == 2 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems, files = check_tree(root)
    for p in problems:
        print(p)
    if problems:
        print("layering: %d include(s) break the layers (rules: tests/layering.py)" % len(problems))
        return 1
    if files == 0:
        print("layering: no sources under %s" % root)
        return 1
    print("layering: %d files, every include within its layer" % files)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
