#!/usr/bin/env bash
# bench/pipeline/run.sh - the pipeline benchmark of docs/benchmarks.md.
#
#   bench/pipeline/run.sh [BUILD_DIR] [ITEMS]      (defaults: build/release, 100000)
#   CONFIGS="latency-batch5000" bench/pipeline/run.sh ...   only some of the configurations
#
# (a) fake server without latency, --store-batch 10 vs 5000: wall time, commits, peak RSS;
# (b) fake server with the one-at-a-time latency model: wall time vs the server's busy time
#     (sum of end_ms - start_ms of its embedding requests, from its log);
# (c) peak RSS against the buffer's bytes.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
items=${2:-100000}
dim=${DIM:-1024}
export BUILD_DIR=$build FAKE_OLLAMA=$build/tests/fake-ollama/fake-ollama
source tests/support/fake_ollama.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-pipeline.XXXXXX")
trap 'fake_stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

busy() { # model time of the embedding requests in a fake-ollama log, the idle time between
         # them, how much of it is in gaps of 50 ms or more (stalls such as a flush), and the
         # longest gaps with the index of the request after them (a flush every
         # store_batch / texts-per-request requests: 5000 / 32 = 156.25)
  python3 -c '
import json,sys
reqs=[r for r in map(json.loads, open(sys.argv[1])) if r["n"]>0]
busy=sum(r["end_ms"]-r["start_ms"] for r in reqs)/1000
gaps=[max(0.0, reqs[i+1]["start_ms"]-reqs[i]["end_ms"]) for i in range(len(reqs)-1)]
idle=sum(gaps)/1000
long=[g for g in gaps if g>=50]
top=",".join("%.0f@%d" % (gaps[i], i + 1)
             for i in sorted(range(len(gaps)), key=lambda i: -gaps[i])[:5])
print("%.3f server_idle_between_requests_s=%.3f idle_in_gaps_over_50ms_s=%.3f (%d gaps; longest ms@before request: %s)"
      % (busy, idle, sum(long)/1000, len(long), top))' "$1"
}

run() { # name store_batch server-args...
  local name=$1 batch=$2; shift 2
  rm -rf "$work/t" && mkdir -p "$work/t"
  fake_start --dim "$dim" --log-no-texts --log "$work/$name.log" "$@"
  local out
  out=$("$build/bench/pipeline/bench_pipeline" --url "$FAKE_URL" --table "$work/t/embeddings.lance" \
        --items "$items" --store-batch "$batch")
  fake_stop
  echo "$name: $out server_busy_s=$(busy "$work/$name.log")"
}

configs=${CONFIGS:-nolat-batch10 nolat-batch5000 latency-batch5000}
want() { [[ " $configs " == *" $1 "* ]]; }

echo "items=$items dim=$dim"
want nolat-batch10 && run nolat-batch10 10
want nolat-batch5000 && run nolat-batch5000 5000
want latency-batch5000 &&
  run latency-batch5000 5000 --latency-ms "${LAT_MS:-20}" --per-input-ms "${PER_INPUT_MS:-2}"
exit 0
