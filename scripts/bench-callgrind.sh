#!/usr/bin/env bash
# Instructions per row of parse and of plan, counted by callgrind (`make bench-callgrind`):
# repeatable to a few instructions whatever else the machine runs, so a regression shows in
# a review. Runs target/release/examples/count_instructions under valgrind, counting only
# the measured step (`--toggle-collect`; on the worker threads, what they read, plan or
# write: `Chunk::read`, `*_on_worker`): the raw
# csv reader on the same bytes (the anchor), parse on 1 and on 2 threads, and plan (also
# without SHA-256's block function, which valgrind counts as the portable code). On 2
# threads, twice: the calling thread and the chunk readers as toggled (comparable with the
# rounds before), then every thread's work (the line count's and the duplicates' helper
# threads too, whole). valgrind
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

count_every_thread() { # step threads -> instructions of the step on every thread: the
  # calling thread's `measured_<step>` (inclusive) and the whole of every thread it starts
  # (chunk readers, the line count's and the duplicates' helpers), all collected from
  # their start: valgrind numbers a thread started after another ended as that one, so the
  # thread files hold every thread's work
  local step=$1 threads=$2 file="$OUT/callgrind.$1.$2.every-thread.out"
  rm -f "$file" "$file"-*
  THREADS=$threads valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$file" \
    "$BIN" "$step" "$ROWS" >/dev/null 2>"$file.log"
  local calling started
  calling=$(callgrind_annotate --inclusive=yes "$file-01" |
    awk -v fn="measured_$step" '!found && index($0, fn) { gsub(",", "", $1); print $1; found = 1 }')
  started=$(for f in "$file"-*; do
    [ "$f" = "$file-01" ] || awk '/^(summary|totals):/ { print $2; exit }' "$f"
  done | awk '{ sum += $1 } END { printf "%.0f", sum }')
  awk -v a="$calling" -v b="$started" 'BEGIN { printf "%.0f", a + b }'
}

line() { # label instructions
  awk -v label="$1" -v n="$2" -v rows="$ROWS" \
    'BEGIN { printf "%-46s %15.0f instructions %10.1f per row\n", label, n, n / rows }'
}

echo "callgrind instruction counts, $ROWS rows ($(valgrind --version))"
raw=$(count raw 1)
one=$(count parse 1)
line "csv::ByteRecord read (anchor)" "$raw"
line "parse + validate, 1 thread" "$one"
line "parse + validate, 2 threads (caller + readers)" "$(count parse 2)"
line "parse + validate, 2 threads (every thread)" "$(count_every_thread parse 2)"
awk -v raw="$raw" -v one="$one" 'BEGIN { printf "raw reader / parse + validate, instructions: %.1f %%\n", raw / one * 100 }'
plan=$(count plan 1)
line "plan, half the rows in the store" "$plan"
# SHA-256's block function alone (a leaf: its own count), counted as the portable code: the
# machine runs SHA-NI, many times fewer instructions a block (see the header).
sha=$(callgrind_annotate "$OUT/callgrind.plan.1.out" |
  awk '!found && /sha2::sha256::compress256/ { gsub(",", "", $1); print $1; found = 1 }')
line "plan, without SHA-256's block function" "$(awk -v a="$plan" -v b="${sha:-0}" 'BEGIN { printf "%.0f", a - b }')"
