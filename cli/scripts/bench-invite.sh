#!/usr/bin/env bash
# `make bench-invite`: new users' credentials through `bulk-upload apply` on SQLite with an
# outbox, end to end (read, parse, plan, execute, emails, results CSV), side by side:
# personal sign-in links (--send-invitations: a 256-bit token, its SHA-256 digest stored,
# the link emailed) against generated passwords (argon2id at OWASP's cost, the default).
# Generated passwords are measured on BENCH_PASSWORD_SAMPLE users (10,000) and extrapolated
# when the full run would take over 10 minutes. Goal: 1,000,000 links in <= 60 s.
set -euo pipefail
BIN=${BIN:-target/release/bulk-upload}
SIZES=${BENCH_INVITE_ROWS:-"100000 1000000"}
SAMPLE=${BENCH_PASSWORD_SAMPLE:-10000}
# The outbox form of the links' runs: mbox (one file per batch of 256 messages) by default,
# eml (one file per message) with BENCH_OUTBOX_FORMAT=eml. Password runs use the same.
OUTBOX_FORMAT=${BENCH_OUTBOX_FORMAT:-mbox}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-invite.XXXXXX")
trap 'rm -rf "$DIR"' EXIT

csv() {
  awk -v n="$1" 'BEGIN {
    print "firstname,lastname,emailaddress,country,addgroup";
    for (i = 1; i <= n; i++) printf "Person%d,Bench,person%d@example.org,New Zealand,Sales\n", i, i;
  }' > "$DIR/users-$1.csv"
}

"$BIN" init --demo --db "$DIR/empty.sqlite3" > /dev/null

# Seconds for `apply` of $1 new users with the remaining flags; the CPU time it took (user +
# sys, from /usr/bin/time when there is one: comparable on a busy machine, where the wall
# time is not) is left in $DIR/cpu.
apply() {
  local n=$1; shift
  rm -rf "$DIR"/run.sqlite3* "$DIR/outbox" "$DIR/results" "$DIR/cpu" "$DIR/time"
  cp "$DIR/empty.sqlite3" "$DIR/run.sqlite3"
  [ -f "$DIR/users-$n.csv" ] || csv "$n"
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "%U %S" -o "$DIR/time")
  local start end
  start=$(date +%s.%N)
  "${timer[@]}" "$BIN" apply "$DIR/users-$n.csv" --db "$DIR/run.sqlite3" --yes --color never \
    --site-url https://lms.example.invalid/ --outbox "$DIR/outbox" \
    ${OUTBOX_FORMAT:+--outbox-format "$OUTBOX_FORMAT"} "$@" > /dev/null
  end=$(date +%s.%N)
  [ -f "$DIR/time" ] && awk '{ printf "%.1f s CPU (user %.1f + sys %.1f)", $1 + $2, $1, $2 }' "$DIR/time" > "$DIR/cpu"
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }'
}

printf '%-10s | %-34s | %-44s\n' "new users" "sign-in links (--send-invitations)" "generated passwords (argon2id, OWASP cost)"
printf '%-10s-+-%-34s-+-%-44s\n' "----------" "----------------------------------" "--------------------------------------------"
sample=""
for n in $SIZES; do
  links=$(apply "$n" --send-invitations)
  files=$(find "$DIR/outbox" -type f | wc -l)
  emails=$(find "$DIR/outbox" -type f -name '*.mbox' -exec cat {} + | grep -c '^From bulk-upload ' || true)
  [ "$emails" -gt 0 ] || emails=$files
  link_rate=$(awk -v n="$n" -v t="$links" 'BEGIN { printf "%.0f", n / t }')
  link_cpu=$(cat "$DIR/cpu" 2>/dev/null || true)
  if [ -z "$sample" ]; then
    sample=$(apply "$SAMPLE")
  fi
  estimate=$(awk -v n="$n" -v s="$SAMPLE" -v t="$sample" 'BEGIN { printf "%.0f", t * n / s }')
  if [ "$estimate" -gt 600 ] || [ "$n" -eq "$SAMPLE" ]; then
    passwords="~${estimate} s ($(awk -v s="$SAMPLE" -v t="$sample" 'BEGIN { printf "%.0f", s / t }')/s; ${SAMPLE} took ${sample} s)"
  else
    t=$(apply "$n")
    passwords="${t} s ($(awk -v n="$n" -v t="$t" 'BEGIN { printf "%.0f", n / t }')/s)"
  fi
  printf '%-10s | %-34s | %-44s\n' "$n" "${links} s (${link_rate}/s)" "$passwords"
  printf '%-10s | %-34s |\n' "" "${emails} emails in ${files} files"
  [ -z "$link_cpu" ] || printf '%-10s | %-34s |\n' "" "$link_cpu"
done
