#!/usr/bin/env bash
# Makes sure Ruby and the gems the Ruby binding's tests use are there: Debian's packages,
# installed with apt-get when they are missing and apt is usable; otherwise says exactly
# what to install. `deps.sh rails`: also what the example Rails LMS runs on
# (examples/ruby/rails_lms: Rails 6.1, Puma, Sidekiq, PostgreSQL's and Redis's clients).
set -euo pipefail
PACKAGES="ruby ruby-ffi ruby-minitest ruby-activerecord ruby-sqlite3 ruby-rack"
GEMS='"ffi", "minitest", "active_record", "sqlite3", "rack"'
WHAT="the gems ffi (>= 1.15), minitest, activerecord, sqlite3 and rack"
INSTALL="ffi minitest activerecord sqlite3 rack"
if [ "${1:-}" = rails ]; then
  PACKAGES="$PACKAGES ruby-rails ruby-sidekiq puma ruby-pg ruby-redis"
  GEMS="$GEMS, \"rails\", \"sidekiq\", \"puma\", \"pg\", \"redis\""
  WHAT="$WHAT, and rails (6.1), sidekiq, puma, pg and redis"
  INSTALL="$INSTALL rails:6.1.7 sidekiq puma pg redis"
fi
have() {
  command -v ruby >/dev/null 2>&1 && ruby -e "[$GEMS].each { |g| require g }" >/dev/null 2>&1
}
have && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing the Ruby binding's Debian packages: $PACKAGES"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PACKAGES
  have && exit 0
fi
echo "The Ruby binding needs Ruby >= 3.0 with $WHAT." >&2
echo "On Debian or Ubuntu, as root: apt-get update && apt-get install -y $PACKAGES" >&2
echo "Elsewhere: install Ruby, then: gem install $INSTALL" >&2
exit 1
