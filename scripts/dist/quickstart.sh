#!/usr/bin/env bash
# Prints the first code block of the README's "<Language> quickstart" section, the program
# each package check runs in its clean environment: quickstart.sh Python|Node|Ruby
set -euo pipefail
awk -v want="## $1 quickstart" '
  $0 == want { inside = 1; next }
  inside && /^## / { exit }
  inside && /^```/ { if (code) exit; code = 1; next }
  inside && code { print }
' "$(dirname "$0")/../../README.md"
