#!/usr/bin/env bash
# Makes sure Ruby and the gems the Ruby binding's tests use are there: Debian's packages,
# installed with apt-get when they are missing and apt is usable; otherwise says exactly
# what to install.
set -euo pipefail
PACKAGES="ruby ruby-ffi ruby-minitest ruby-activerecord ruby-sqlite3"
have() {
  command -v ruby >/dev/null 2>&1 &&
    ruby -e 'require "ffi"; require "minitest"; require "active_record"; require "sqlite3"' >/dev/null 2>&1
}
have && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing the Ruby binding's Debian packages: $PACKAGES"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PACKAGES
  have && exit 0
fi
echo "The Ruby binding's tests need Ruby >= 3.0 with the gems ffi (>= 1.15), minitest, activerecord and sqlite3." >&2
echo "On Debian or Ubuntu, as root: apt-get update && apt-get install -y $PACKAGES" >&2
echo "Elsewhere: install Ruby, then: gem install ffi minitest activerecord sqlite3" >&2
exit 1
