# frozen_string_literal: true

# Per-row enrolments (course, collection, campaign columns) through the public API.
require_relative "test_helper"

class TestEnrolments < Minitest::Test
  CSV_TEXT = "firstname,lastname,email,course,campaign\n" \
             "Ana,Lopez,ana@x.com,c2;c1,\n" \
             "Bo,Chan,bo@x.com,intro-110,\n" \
             "Cy,Diaz,cy@x.com,,camp1\n"
  STATE = {
    content: [{ kind: "course", id: "c1" }, { kind: "course", id: "c2" },
              { kind: "course", id: "intro-101" }, { kind: "campaign", id: "camp1" }],
    users: []
  }.freeze

  def enrols(row)
    row[:operations].select { |o| o[:op] == "enrol" }.map { |o| o[:content][:id] }
  end

  def test_per_row_enrolments_are_planned_beside_the_settings_executed_and_undone
    store = LmsBulkUpload::MemoryStore.new(STATE)
    upload = LmsBulkUpload.parse(CSV_TEXT)
    assert_equal "c2;c1", upload[0][:course]
    settings = LmsBulkUpload::Settings.new(enrolments: [{ kind: "course", id: "c1" }])
    plan = LmsBulkUpload.plan(upload, settings, store)
    ana, bo, cy = plan.to_a
    assert_equal %w[c1 c2], enrols(ana)
    assert_equal "rejected", bo[:action]
    assert_equal "unknown_content", bo[:issues][0][:code]
    assert_equal "course", bo[:issues][0][:column]
    assert_equal %w[c1 camp1], enrols(cy)

    results = plan.execute(store, LmsBulkUpload::RecordingMailer.new,
                           hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0)
    ana_after = store.state[:users].find { |u| u[:email] == "ana@x.com" }
    assert_equal 2, ana_after[:enrolments].size
    undo = LmsBulkUpload.plan_undo(results, store)
    assert_equal 4, undo.summary[:withdrawals]
    undo.execute(store, LmsBulkUpload::RecordingMailer.new)
    assert(store.state[:users].all? { |u| u[:enrolments].empty? })
  end
end
