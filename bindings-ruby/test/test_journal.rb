# frozen_string_literal: true

# A cancelled execution resumed with a journal written in Ruby: nobody is created twice.
require_relative "test_helper"
require_relative "hosts"

class TestJournal < Minitest::Test
  OPTIONS = { hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0, batch_size: 4 }.freeze

  def setup
    @upload = LmsBulkUpload.parse(Csv.people(20, groups: "Staff"))
    @settings = LmsBulkUpload::Settings.new(generate_passwords: true, send_notification_email: true,
                                            groups: ["Staff"])
    @store = HashStore.new(groups: { "Staff" => 9 })
    @plan = LmsBulkUpload.plan(@upload, @settings, @store)
  end

  def test_a_cancelled_execution_resumes_and_creates_nobody_twice
    journal = HashJournal.new
    mailer = ListMailer.new
    cancel = LmsBulkUpload::CancelToken.new
    first = @plan.execute(@store, mailer, journal: journal, cancel: cancel,
                                          progress: ->(p) { cancel.cancel if p.done == 7 }, **OPTIONS)
    assert first.cancelled?
    assert cancel.cancelled?
    created = first.summary[:created]
    assert_operator created, :>=, 7
    assert_operator created, :<, 20
    assert(first.rows.any? { |r| r[:status] == "failed" }, "the rows after the cancel are not done")
    assert_equal created, @store.calls[:create_user]

    # The plan travels as JSON (a worker picks it up) and runs again with the same journal.
    again = LmsBulkUpload::Plan.from_json(@plan.to_json)
    second = again.execute(@store, mailer, journal: journal, **OPTIONS)
    refute second.cancelled?
    assert_equal 20, @store.users.size
    assert_equal 20, @store.calls[:create_user], "every user created exactly once"
    (1..20).each { |i| assert_equal 1, @store.calls["p#{i}@x.com"], "p#{i} created once" }
    assert_equal created, second.summary[:resumed]
    assert(second.rows.all? { |r| %w[created].include?(r[:status]) }, second.to_csv)
    assert(@store.users.values.all? { |u| u[:groups] == ["Staff"] })
    assert_equal 20, mailer.sent.map { |m| m[:to] }.uniq.size, "everyone got a welcome"
    # What the journal holds is the results JSON's rows.
    finished = journal.entries[@plan.fingerprint].values
    assert_equal 20, finished.compact.size
    assert_equal JSON.parse(second.to_json)["rows"].map { |r| r["line"] }.sort,
                 finished.map { |r| r[:line] }.sort
  end

  def test_the_memory_journal_resumes_too
    journal = LmsBulkUpload::MemoryJournal.new
    first = @plan.execute(@store, ListMailer.new, journal: journal, progress: ->(p) { p.done < 5 }, **OPTIONS)
    assert first.cancelled?
    second = @plan.execute(@store, ListMailer.new, journal: journal, **OPTIONS)
    refute second.cancelled?
    assert_equal first.summary[:created], second.summary[:resumed]
    assert(second.rows.all? { |r| r[:status] == "created" }, second.to_csv)
    assert_equal 20, @store.calls[:create_user]
  end

  def test_a_journal_that_fails_stops_the_execution_with_a_store_error_caused_by_it
    journal = HashJournal.new
    def journal.begin(_fingerprint, _line)
      raise IOError, "journal disk full"
    end
    error = assert_raises(LmsBulkUpload::StoreError) { @plan.execute(@store, ListMailer.new, journal: journal, **OPTIONS) }
    assert_includes error.message, "journal disk full"
    assert_instance_of IOError, error.cause
    assert_equal 0, @store.calls[:create_user], "nothing is written before the journal says begun"
  end
end
