# frozen_string_literal: true

# Every host-protocol conformance vector of tests/host-protocol/ (docs/host-protocol.md) with
# scripted Ruby host objects: the outcome (error and stage, results JSON, every host call)
# goes to the one judge, which compares the results JSON byte for byte.
require_relative "test_helper"
require "lms_bulk_upload/testing"

class TestProtocol < Minitest::Test
  DIRS = TestPaths::ROOT.join("tests/host-protocol").children.select { |d| d.join("vector.json").file? }.sort
  METHODS = {
    "store" => %w[find_users find_groups find_content create_user update_profile set_password add_to_group
                  remove_from_group enrol all_group_names checkpoint add_invitation find_invitation
                  redeem_invitation revoke_invitations],
    "mailer" => %w[send flush],
    "journal" => %w[load begin finish created]
  }.freeze

  # What a scripted method raises: its message, transient as the vector says.
  class ScriptedError < StandardError
    def initialize(message, transient)
      super(message)
      @transient = transient
    end

    def transient?
      @transient
    end
  end

  def test_there_are_vectors
    assert_operator DIRS.size, :>=, 20
  end

  DIRS.each do |dir|
    define_method("test_vector_#{dir.basename}") do
      LmsBulkUpload::Testing.judge_protocol_folder(dir, outcome(JSON.parse(dir.join("vector.json").read)))
      pass # the judge found nothing different
    rescue LmsBulkUpload::Testing::Mismatch => e
      flunk "#{dir.basename}: #{e.message}"
    end
  end

  # A plain Ruby object with the protocol methods of `role` but those `missing`, answering
  # the scripted replies in order (the last one repeats; none: nil), recording every call.
  def scripted(role, spec, calls)
    host = Object.new
    (METHODS.fetch(role) - spec.fetch("missing", [])).each do |method|
      replies = spec.fetch("replies", {}).fetch(method, [])
      used = 0
      host.define_singleton_method(method) do |*args|
        calls << [role, method, JSON.parse(JSON.generate(args))]
        reply = replies[[used, replies.size - 1].min]
        used += 1
        next nil if reply.nil?
        raise ScriptedError.new(reply["raise"], reply["transient"] == true) if reply.key?("raise")

        TestProtocol.native(reply["return"])
      end
    end
    host
  end

  # A JSON value as Ruby values: `{"$bigint": "digits"}` is an Integer.
  def self.native(value)
    case value
    when Hash then value.keys == ["$bigint"] ? Integer(value["$bigint"], 10) : value.transform_values { |v| native(v) }
    when Array then value.map { |v| native(v) }
    else value
    end
  end

  def error_value(error)
    kind = %w[file settings plan store mailer].find { |k| error.instance_of?(LmsBulkUpload::Error.for_kind(k)) }
    { code: error.code, kind: kind, message: error.message }
  end

  def options(hash)
    (hash || {}).transform_keys(&:to_sym)
  end

  def outcome(vector)
    calls = []
    hosts = vector.fetch("host")
    store = scripted("store", hosts.fetch("store"), calls)
    mailer = scripted("mailer", hosts.fetch("mailer"), calls)
    journal = hosts["journal"] && scripted("journal", hosts["journal"], calls)
    begin
      upload = LmsBulkUpload.parse(vector.fetch("upload"), **options(vector["parse_options"]))
      plan = LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(**options(vector["settings"])), store)
    rescue LmsBulkUpload::Error => e
      return { error: error_value(e), stage: "plan", calls: calls }
    end
    begin
      results = plan.execute(store, mailer, journal: journal, **options(vector["execute"]))
      { results_json: results.to_json, calls: calls }
    rescue LmsBulkUpload::Error => e
      { error: error_value(e), stage: "execute", calls: calls }
    end
  end
end
