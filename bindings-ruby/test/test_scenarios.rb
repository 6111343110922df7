# frozen_string_literal: true

# Every scenario of tests/scenarios/ through the Ruby binding; one test per folder, named
# after it.
require_relative "test_helper"
require_relative "scenario_check"

class TestScenarios < Minitest::Test
  include ScenarioCheck

  DIRS = TestPaths::ROOT.join("tests/scenarios").children.select { |d| d.join("scenario.json").file? }.sort

  def test_there_are_scenarios
    refute_empty DIRS
  end

  DIRS.each do |dir|
    define_method("test_scenario_#{dir.basename}") { run_scenario(dir) }
  end

  def run_scenario(dir)
    scenario = JSON.parse(dir.join("scenario.json").read)
    known_keys(scenario, %w[description parse_options settings store store_changes expect], "scenario.json")
    expect = scenario["expect"]
    settings = scenario["settings"]
    if settings.nil?
      known_keys(expect, PARSE_KEYS, "expect (parse-only scenario)")
      fail!("a parse-only scenario gives parse_error or issues") unless expect.key?("parse_error") || expect.key?("issues")
    else
      known_keys(expect, FLOW_KEYS, "expect")
    end
    options = scenario["parse_options"] || {}
    known_keys(options, PARSE_OPTIONS, "parse_options")
    upload = parse(dir, expect, options.transform_keys(&:to_sym)) or return
    check_parse(expect, upload)
    run_flow(expect, settings, scenario, upload) if settings
  end

  # The upload, or nil when the expected parse error happened (through both input kinds).
  def parse(dir, expect, options)
    upload = LmsBulkUpload.parse(dir.join("upload.csv"), **options)
    fail!("expected the parse error #{expect['parse_error']}, but parse succeeded") if expect.key?("parse_error")
    upload
  rescue LmsBulkUpload::FileError => e
    fail!("parse failed: #{e.inspect}") unless expect.key?("parse_error")
    check_error(expect["parse_error"], e, "expect.parse_error")
    other = assert_raises(LmsBulkUpload::FileError) { LmsBulkUpload.parse(dir.join("upload.csv").binread, **options) }
    assert_equal e.code, other.code
    nil
  end

  def run_flow(expect, settings, scenario, upload)
    default_password = settings["default_password"] || settings["defaultPassword"]
    default_password = nil if default_password == ""
    store = LmsBulkUpload::MemoryStore.new(scenario["store"])
    begin
      plan = LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(**settings), store)
    rescue LmsBulkUpload::SettingsError, LmsBulkUpload::PlanError, LmsBulkUpload::StoreError => e
      fail!("settings or plan failed: #{e.inspect}") unless expect.key?("settings_error")
      check_error(expect["settings_error"], e, "expect.settings_error")
      %w[plan store emails results].each { |k| fail!("expect.#{k} cannot go with a settings_error") if expect.key?(k) }
      return
    end
    fail!("expected the settings error #{expect['settings_error']}, but planning succeeded") if expect.key?("settings_error")
    check_plan(expect["plan"], plan) if expect.key?("plan")

    # The plan survives its JSON form: same fingerprint, same bytes.
    again = LmsBulkUpload::Plan.from_json(plan.to_json)
    assert_equal plan.fingerprint, again.fingerprint
    assert_equal plan.to_json, again.to_json

    if scenario.key?("store_changes")
      store = LmsBulkUpload::MemoryStore.new(apply_store_changes(scenario["store"], scenario["store_changes"]))
    end
    mailer = LmsBulkUpload::RecordingMailer.new
    results = again.execute(store, mailer, default_password: default_password,
                                           hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0)
    messages = mailer.messages
    if default_password
      messages.each_with_index do |m, i|
        %i[subject text html].each { |part| fail!("email #{i} carries the default password in its #{part}") if m[part].include?(default_password) }
      end
    end
    check_store(expect["store"], store) if expect.key?("store")
    check_emails(expect["emails"], messages) if expect.key?("emails")
    check_results(expect["results"], results) if expect.key?("results")
  end
end
