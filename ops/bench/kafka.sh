#!/usr/bin/env bash
# ops/bench/kafka.sh — benchmark the Kafka ledger on librdkafka's mock cluster, against the
# embedded ledger measured in the same run.
#
# Usage: ops/bench/kafka.sh [EVENTS] [ACCOUNTS]      (default: 8000 400; about 1.5 minutes)
#
# What it does:
#   1. builds `kafka_bench` in Release into build-bench/ (separate from build/);
#   2. runs it on a throw-away data dir. It starts the mock cluster in its own process (3
#      brokers, 16 partitions, reached over loopback sockets; a fresh cluster per phase, since
#      the mock keeps only 5 MiB per partition) and measures, median of 3 repetitions:
#      (a) events/s appended through a KafkaLog producer (4 threads, one-event batches of the
#          realistic workload) vs the same on an EmbeddedLog with fsync on;
#      (b) events/s applied by a fresh Projector catching up the topic vs the embedded ledger;
#      (c) replica lag under load: Append acknowledged → a replica's WaitApplied returns,
#          p50/p99/max, at 2,000 events/s and at the most 32 threads can append;
#      (d) revocation visible on a replica node: DELETE on the writer → the replica's verify
#          says REVOKED, over 50 revocations, against the 1 s target;
#      (c) and (d) with fetch.wait.max.ms = 10 and with KafkaLog's default (100). It prints
#      markdown tables;
#   3. removes the data dir on exit (also on Ctrl-C or timeout).
#
# EVENTS (per topic in (a) and (b)) must stay under the mock's retention: the program refuses
# more than ~27,000 with 16 partitions (--partitions raises that).
#
# Environment:
#   KAFKA_BENCH_ARGS  extra kafka_bench arguments, e.g. "--reps 5 --rates 500,2000,max
#                     --fetch-waits 10,50,default --revocations 100 --partitions 32"
#   BENCH_TIMEOUT     hard limit in seconds for the kafka_bench run (default: 900)
#   BENCH_BUILD_DIR   build directory                         (default: build-bench)
#   KAFKA_BENCH_BIN   use this binary instead of building one
#   TMPDIR            where the data dir goes                  (default: /tmp)
#   KEEP_TMP=1        keep the data dir for inspection
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/build.bash"
bench_args 8000 400 900 "$@"

# ---------------------------------------------------------------- 1. build
cd "$root"
bench_binary "${KAFKA_BENCH_BIN:-}" kafka_bench ops/bench/kafka_bench

# ---------------------------------------------------------------- 2. run, 3. clean up
run_events_bench "authledger Kafka ledger benchmark (mock cluster)" authledger-kafka-bench "${KAFKA_BENCH_ARGS:-}"
