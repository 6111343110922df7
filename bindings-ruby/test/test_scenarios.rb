# frozen_string_literal: true

# Every scenario of tests/scenarios/ through the Ruby binding, one test per folder: the run's
# raw outcome (docs/scenario-format.md, "Runners and the judge") goes to the one judge that
# every language shares.
require_relative "test_helper"
require "lms_bulk_upload/testing"

class TestScenarios < Minitest::Test
  DIRS = TestPaths::ROOT.join("tests/scenarios").children.select { |d| d.join("scenario.json").file? }.sort

  def test_there_are_scenarios
    assert_operator DIRS.size, :>=, 60
  end

  DIRS.each do |dir|
    define_method("test_scenario_#{dir.basename}") do
      text = dir.join("scenario.json").read
      # upload.csv, or a spreadsheet: upload.xlsx, upload.xls, upload.ods
      upload = %w[csv xlsx xls ods].map { |ext| dir.join("upload.#{ext}") }.find(&:file?)
      LmsBulkUpload::Testing.judge_scenario(text, outcome(JSON.parse(text), upload))
      pass # the judge found nothing different
    rescue LmsBulkUpload::Testing::Mismatch => e
      flunk "#{dir.basename}: #{e.message}"
    end
  end

  def error_value(error)
    { code: error.code, kind: ScenarioKinds.kind(error), message: error.message, line: error.line,
      column: error.column }
  end

  # Runs the scenario as far as it goes.
  def outcome(scenario, csv)
    outcome = {}
    options = (scenario["parse_options"] || {}).transform_keys(&:to_sym)
    begin
      upload = LmsBulkUpload.parse(csv, **options)
    rescue LmsBulkUpload::Error => e
      return { parse_error: error_value(e) }
    end
    outcome[:upload] = upload.report
    settings = scenario["settings"] or return outcome

    store = LmsBulkUpload::MemoryStore.new(scenario["store"])
    begin
      plan = LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(**settings), store)
    rescue LmsBulkUpload::Error => e
      return outcome.merge(settings_error: error_value(e))
    end
    outcome[:plan] = JSON.parse(plan.to_json)
    # The plan survives its JSON form: same bytes.
    assert_equal plan.to_json, LmsBulkUpload::Plan.from_json(plan.to_json).to_json
    if scenario.key?("store_changes")
      store = LmsBulkUpload::MemoryStore.new(LmsBulkUpload::Testing.apply_store_changes(scenario["store"], scenario["store_changes"]))
    end
    mailer = LmsBulkUpload::RecordingMailer.new
    begin
      results = plan.execute(store, mailer, **EXECUTE)
      outcome[:results] = JSON.parse(results.to_json)
    rescue LmsBulkUpload::Error => e
      outcome[:execute_error] = error_value(e)
    end
    outcome.merge!(store: store.state, emails: mailer.messages)
    outcome[:undo] = undo_outcome(scenario["undo"], results, store.state) if scenario.key?("undo") && results
    outcome
  end

  EXECUTE = { hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0 }.freeze

  # The undo part (as `run_undo` of core/tests/scenarios.rs): plan the undo of `results`
  # against the store after the upload (and the undo's `store_changes`), execute it with a
  # journal (stopped after `cancel_after` rows, then run again), then try to undo the undo.
  def undo_outcome(undo, results, state)
    out = {}
    store = LmsBulkUpload::MemoryStore.new(LmsBulkUpload::Testing.apply_store_changes(state, undo["store_changes"] || []))
    options = (undo["options"] || {}).transform_keys(&:to_sym)
    begin
      plan = LmsBulkUpload.plan_undo(results, store, **options)
    rescue LmsBulkUpload::Error => e
      return { error: error_value(e) }
    end
    out[:plan] = JSON.parse(plan.to_json)
    journal = LmsBulkUpload::MemoryJournal.new
    mailer = LmsBulkUpload::RecordingMailer.new
    begin
      if (n = undo["cancel_after"])
        cancel = LmsBulkUpload::CancelToken.new
        first = plan.execute(store, mailer, journal: journal, cancel: cancel,
                                            progress: ->(p) { cancel.cancel if p.done >= n }, **EXECUTE)
        out[:first_results] = JSON.parse(first.to_json)
      end
      again = plan.execute(store, mailer, journal: journal, **EXECUTE)
      out[:results] = JSON.parse(again.to_json)
      begin
        LmsBulkUpload.plan_undo(again, store)
      rescue LmsBulkUpload::Error => e
        out[:again_error] = error_value(e)
      end
    rescue LmsBulkUpload::Error => e
      out[:execute_error] = error_value(e)
    end
    out.merge(store: store.state, emails: mailer.messages)
  end
end

# The kind names of the error classes (the inverse of LmsBulkUpload::Error.for_kind).
module ScenarioKinds
  def self.kind(error)
    %w[file settings plan store mailer].find { |k| error.instance_of?(LmsBulkUpload::Error.for_kind(k)) } || "?"
  end
end
