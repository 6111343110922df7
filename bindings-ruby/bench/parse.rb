# frozen_string_literal: true

# Parse + validate of the 1,000,000-row file, side by side, in one run:
#   core in Rust  the core's parse, timed inside Rust (no Ruby boundary), on 1 thread and on
#                 every core (LmsBulkUploadNative.bench_parse_rust)
#   the same call, timed from Ruby: the bytes crossing to Rust (one copy into uniffi's
#                 buffer, which Rust then reads in place), the parse, and freeing the upload
#   binding       LmsBulkUpload.parse(bytes, threads: 1) and LmsBulkUpload.parse(bytes) (the
#                 default: every core), timed from Ruby (rows stay native, read on demand)
#   plain ruby    Ruby's own CSV + the WHATWG email regex + a Set for case-insensitive
#                 duplicates + required-field checks
# From the same bytes in memory, in turns (a busy machine weighs on each alike), each run
# after a major GC; each figure is the best run, wall time and the process's CPU time
# (user + sys, every thread) over the same call. Goals: the binding >= 35x plain Ruby, and
# within 1.1x of the core's own time.
#
# `ruby bindings-ruby/bench/parse.rb [FILE]` (default bench-data/users-1m.csv, written by
# `cargo bench -p lms-bulk-upload --bench parse`); `make bench-ruby` builds and runs it.

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "csv"
require "etc"
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
# have run: no run pays for memory the previous one still holds, nor for freeing it. Adds
# the wall time (or the one `inner` reads from the result: the core's own, taken inside
# Rust) and the process's CPU time, in ms, to `figure`; returns the result.
def timed(figure, inner = nil)
  GC.start
  sleep 0.2
  cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
  start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  result = yield
  wall = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - start) * 1e3
  figure[:cpu] << (Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu) * 1e3
  figure[:wall] << (inner ? inner.call(result) : wall)
  result
end

abort "#{FILE} is missing: run `cargo bench -p lms-bulk-upload --bench parse` (or make bench-ruby)" unless File.file?(FILE)
bytes = File.binread(FILE)
mb = bytes.bytesize / 1e6
cores = [Etc.nprocessors, 16].min
counts = cores > 1 ? [1, cores] : [1]
plural = ->(n) { "#{n} thread#{n > 1 ? 's' : ''}" }
figure = ->(name) { { name: name, wall: [], cpu: [] } }
rust = counts.to_h { |n| [n, figure.call("core in Rust: parse + validate, #{plural.call(n)}")] }
crossing = counts.to_h { |n| [n, figure.call("  the same call from Ruby (+ copy in, + free)")] }
binding = counts.to_h do |n|
  [n, figure.call(n == cores ? "binding: parse(bytes), #{plural.call(n)} (default)" : "binding: parse(bytes, threads: #{n}), #{plural.call(n)}")]
end
plain = figure.call("plain ruby: CSV + regex + Set, 1 thread")
rows = nil
RUNS.times do
  counts.each do |n|
    inside = timed(crossing[n]) { LmsBulkUploadNative.bench_parse_rust(bytes, 1, n) }
    rust[n][:wall] << inside
    rust[n][:cpu] << crossing[n][:cpu].last
  end
  counts.each do |n|
    upload = timed(binding[n]) { n == cores ? LmsBulkUpload.parse(bytes) : LmsBulkUpload.parse(bytes, threads: n) }
    rows = upload.size
    upload = nil # rubocop:disable Lint/UselessAssignment
  end
end
RUNS.times do
  result = timed(plain) { plain_ruby(bytes) }
  raise "row counts differ: #{result[:rows]} vs #{rows}" unless result[:rows] == rows
end

def best(figure)
  figure[:wall].min
end

load = File.read("/proc/loadavg").split.first(3).join(" ") rescue "?" # rubocop:disable Style/RescueModifier
puts "parse + validate, #{rows} rows, #{format('%.1f', mb)} MB, best of #{RUNS} (ruby #{RUBY_VERSION}, #{cores} cores, load average #{load})"
puts format("%-52s %9s %9s %8s %12s  (best run; CPU: user + sys, every thread)", "", "wall", "CPU", "MB/s", "rows/s")
order = counts.flat_map { |n| [rust[n], crossing[n]] } + binding.values + [plain]
order.each do |f|
  ms = best(f)
  cpu = f[:cpu][f[:wall].index(ms)]
  per_s = (rows / (ms / 1e3)).round.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
  puts format("%-52s %6.1f ms %6.0f ms %8.1f %12s", f[:name], ms, cpu, mb / (ms / 1e3), per_s)
end
puts "(core in Rust: wall timed inside Rust, the parse alone; CPU over the helper's whole call: the copy in and freeing the upload too)"

def cpu_of_best(figure)
  figure[:cpu][figure[:wall].index(best(figure))]
end

every = best(binding[cores])
faster = best(plain) / every
puts
puts format("binding (%s) vs plain ruby:    %5.1fx faster (goal >= 35x) %s; %.1fx less CPU", plural.call(cores), faster,
            faster >= 35 ? "MET" : "MISSED", cpu_of_best(plain) / cpu_of_best(binding[cores]))
if cores > 1
  puts format("binding (1 thread) vs plain ruby:     %5.1fx faster; %.1fx less CPU", best(plain) / best(binding[1]),
              cpu_of_best(plain) / cpu_of_best(binding[1]))
end
counts.each do |n|
  ratio = best(binding[n]) / best(rust[n])
  puts format("binding / core in Rust, %-10s     %5.2fx (goal <= 1.1x) %s", plural.call(n), ratio, ratio <= 1.1 ? "MET" : "MISSED")
end
puts "(wall-time ratios only mean something on an idle machine; the CPU ones are steadier on a busy one)"
