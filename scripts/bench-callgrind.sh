#!/usr/bin/env bash
# Instructions per row of parse and of plan, counted by callgrind (`make bench-callgrind`):
# repeatable to a few instructions whatever else the machine runs, so a regression shows in
# a review. Runs target/release/examples/count_instructions under valgrind, counting only
# the measured step (`--toggle-collect`; on the worker threads, what they read, plan or
# write: `Chunk::read`, `*_on_worker`): the raw
# csv reader on the same bytes (the anchor), parse on 1 and on 2 threads, and plan. valgrind
# does not run SHA-NI: the plan's fingerprint is counted with the portable SHA-256, a larger
# share of the plan than on the machine itself.
# ROWS (default 100000) rows each; the counts go to bench-data/callgrind.*.out.
set -euo pipefail
ROWS=${ROWS:-100000}
BIN=${BIN:-target/release/examples/count_instructions}
OUT=${OUT:-bench-data}
mkdir -p "$OUT"

count() { # step threads -> total instructions of the step (all threads)
  local step=$1 threads=$2 file="$OUT/callgrind.$1.$2.out"
  THREADS=$threads valgrind --tool=callgrind --callgrind-out-file="$file" \
    --collect-atstart=no --toggle-collect="*measured_$step*" \
    --toggle-collect="*chunks::Chunk::read*" --toggle-collect="*_on_worker*" \
    "$BIN" "$step" "$ROWS" >/dev/null 2>"$file.log"
  awk '/^(summary|totals):/ { print $2; exit }' "$file"
}

line() { # label instructions
  awk -v label="$1" -v n="$2" -v rows="$ROWS" \
    'BEGIN { printf "%-34s %15.0f instructions %10.1f per row\n", label, n, n / rows }'
}

echo "callgrind instruction counts, $ROWS rows ($(valgrind --version))"
raw=$(count raw 1)
one=$(count parse 1)
line "csv::ByteRecord read (anchor)" "$raw"
line "parse + validate, 1 thread" "$one"
line "parse + validate, 2 threads (sum)" "$(count parse 2)"
awk -v raw="$raw" -v one="$one" 'BEGIN { printf "raw reader / parse + validate, instructions: %.1f %%\n", raw / one * 100 }'
line "plan, half the rows in the store" "$(count plan 1)"
