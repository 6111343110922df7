# frozen_string_literal: true

# Shared by every test: the gem from this tree (lib/), minitest, paths, cheap argon2.

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "minitest/autorun"
require "json"
require "pathname"
require "tmpdir"
require "lms_bulk_upload"

module TestPaths
  ROOT = Pathname(__dir__).join("../..").expand_path
  # Fast argon2id parameters: the scenarios' hashing cost, not a production one.
  CHEAP_HASH = { memory_kib: 64, iterations: 1, parallelism: 1, insecure_for_tests: true }.freeze
end
