# frozen_string_literal: true

# Parse + validate of the 1,000,000-row file, side by side:
#   rust        the core's parse, timed inside Rust (no Ruby boundary)
#   crossing    the same call timed from Ruby: the bytes crossing to Rust (one copy into
#               uniffi's buffer, which Rust then reads in place), then the core's parse
#   binding     LmsBulkUpload.parse(bytes) from Ruby (rows stay native, read on demand)
#   plain ruby  Ruby's own CSV + the WHATWG email regex + a Set for case-insensitive
#               duplicates + required-field checks
# Best of 3 each, from the same bytes in memory, each run after a major GC. Targets: binding >= 20x faster than plain
# Ruby, and within 1.1x of the Rust figure (the core's time, taken inside Rust).
#
# `ruby bindings-ruby/bench/parse.rb [FILE]` (default bench-data/users-1m.csv, written by
# `cargo bench -p lms-bulk-upload --bench parse`); `make bench-ruby` builds and runs it.

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "csv"
require "set"
require "lms_bulk_upload"

RUNS = Integer(ENV.fetch("BENCH_RUNS", "3"))
FILE = ARGV[0] || File.expand_path("../../bench-data/users-1m.csv", __dir__)

# The WHATWG "valid e-mail address" production, as browsers use it for <input type=email>.
EMAIL = /\A[a-zA-Z0-9.!#$%&'*+\/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\z/
REQUIRED = %w[firstname lastname emailaddress].freeze

def plain_ruby(bytes)
  text = bytes.dup.force_encoding(Encoding::UTF_8).delete_prefix("\uFEFF")
  records = CSV.parse(text, skip_blanks: true, strip: true)
  header = records[0].map { |h| h.downcase.gsub(/[\s_-]/, "") }
  at = header.each_with_index.to_h
  seen = Set.new
  issues = []
  records.each_with_index do |row, r|
    next if r.zero?

    REQUIRED.each { |c| issues << { code: "missing_value", line: r + 1, column: c } if row[at[c]].to_s.empty? }
    email = row[at["emailaddress"]].to_s
    issues << { code: "invalid_email", line: r + 1 } if email.length > 254 || !EMAIL.match?(email)
    key = email.downcase
    issues << { code: "duplicate_email", line: r + 1 } unless seen.add?(key)
  end
  { rows: records.size - 1, issues: issues }
end

# One timed call of the block, after a major GC whose finalizers (the native upload's free)
# have run: no run pays for memory the previous one still holds, nor for freeing it.
def timed
  GC.start
  sleep 0.2
  start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  result = yield
  [(Process.clock_gettime(Process::CLOCK_MONOTONIC) - start) * 1e3, result]
end

abort "#{FILE} is missing: run `cargo bench -p lms-bulk-upload --bench parse` (or make bench-ruby)" unless File.file?(FILE)
bytes = File.binread(FILE)
mb = bytes.bytesize / 1e6
# The Rust figure is taken under the same conditions as the binding's, the two alternating
# so that a busy machine weighs on both alike: one parse after a major GC (which gives freed
# memory back to the OS, so each run page-faults its upload's memory afresh, as a host
# parsing one upload does). Back to back, reusing the memory the previous run freed, the
# core is faster still: that figure is printed for reference.
rust_times = []
crossing_times = []
binding_times = []
rows = nil
RUNS.times do
  crossing, inside = timed { LmsBulkUploadNative.bench_parse_rust(bytes, 1) }
  rust_times << inside
  crossing_times << crossing
  time, upload = timed { LmsBulkUpload.parse(bytes) }
  binding_times << time
  rows = upload.size
  upload = nil # rubocop:disable Lint/UselessAssignment
end
rust = rust_times.min
crossing = crossing_times.min
binding = binding_times.min
rust_warm = LmsBulkUploadNative.bench_parse_rust(bytes, RUNS)
plain = Array.new(RUNS) do
  time, result = timed { plain_ruby(bytes) }
  raise "row counts differ: #{result[:rows]} vs #{rows}" unless result[:rows] == rows

  time
end.min

def line(name, ms, mb, rows)
  puts format("%-36s %9.1f ms %9.1f MB/s %12s rows/s", name, ms, mb / (ms / 1e3),
              (rows / (ms / 1e3)).round.to_s.reverse.scan(/\d{1,3}/).join(",").reverse)
end
puts "parse + validate, #{rows} rows, #{format('%.1f', mb)} MB, best of #{RUNS} (ruby #{RUBY_VERSION})"
line("rust (core parse, timed inside Rust)", rust, mb, rows)
line("  the same call, timed from Ruby", crossing, mb, rows)
line("  rust, back to back (warm heap)", rust_warm, mb, rows)
line("ruby binding (LmsBulkUpload.parse)", binding, mb, rows)
line("plain ruby (CSV + regex + Set)", plain, mb, rows)
faster = plain / binding
overhead = binding / rust
puts format("binding vs plain ruby: %.1fx faster (target >= 20x) %s", faster, faster >= 20 ? "OK" : "MISSED")
puts format("binding vs rust:       %.2fx (target <= 1.1x) %s", overhead, overhead <= 1.1 ? "OK" : "MISSED")
