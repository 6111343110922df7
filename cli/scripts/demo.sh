#!/usr/bin/env bash
# `make demo`: a demo database seeded with groups and content, the sample file applied.
# Running it again shows the second run finding everyone already there (no duplicates).
# It ends by showing how to undo the run (`bulk-upload undo`); it does not undo it.
set -euo pipefail
BIN=${BIN:-target/release/bulk-upload}
DIR=${DEMO_DIR:-demo}
DB="$DIR/lms.sqlite3"
mkdir -p "$DIR"
INIT=$("$BIN" init --demo --db "$DB")
echo "$INIT"
echo
echo "== validate examples/data/users.csv"
"$BIN" validate examples/data/users.csv || true
echo
echo "== apply examples/data/users.csv"
set +e
"$BIN" apply examples/data/users.csv --db "$DB" --yes \
  --site-url https://lms.example.co.nz/ --uploader-email admin@example.co.nz \
  --enrol course:induction-101 --enrol collection:onboarding --group "New Starters" \
  --update-existing-profiles --enrol-existing-users \
  --mail-from "Kōwhai Health LMS <lms@example.co.nz>"
status=$?
set -e
# 1 means "some rows were rejected": the sample has deliberate mistakes.
if [ "$status" -gt 1 ]; then exit "$status"; fi
echo
echo "Database: $DB   (try: sqlite3 $DB 'SELECT email, first_name, last_name FROM users')"
echo "Emails:   $DIR/outbox/*.eml   (open them with any mail program)"
echo "Results:  $DIR/results/*.csv (also: $BIN results --db $DB --list)"
echo "Run 'make demo' again: the second run updates or leaves everyone as is, never duplicates."
echo
echo "Undo it (shows the undo plan and asks first; the latest run by default):"
echo "  $BIN undo --db $DB --uploader-email admin@example.co.nz --site-url https://lms.example.co.nz/"
echo "  (suspends the users it created, --delete deletes them; reverses its groups and"
echo "  enrolments; restores the fields it changed; emails no user)"
echo
echo "Open the administrator's screens (upload, validate, fix, preview, approve, undo):"
echo "  $BIN serve --db $DB"
echo "  then http://127.0.0.1:8080/ in a browser, signed in as admin@example.co.nz"
PASSWORD_LINE=$(echo "$INIT" | grep 'password:' || true)
if [ -n "$PASSWORD_LINE" ]; then
  echo "  with the one-time $(echo "$PASSWORD_LINE" | sed 's/^ *//') (shown only when the database is made)"
else
  echo "  (its password was printed when this database was made; to set another:"
  echo "   $BIN admin add admin@example.co.nz --db $DB)"
fi
