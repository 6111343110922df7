# frozen_string_literal: true

# The Ruby API: parse inputs, errors, settings, plans, and Ruby host objects of any kind.
require_relative "test_helper"
require_relative "hosts"

class TestApi < Minitest::Test
  OPTIONS = { hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0 }.freeze
  CSV_TEXT = "firstname,lastname,emailaddress\nAna,Lopez,ana@x.com\nBo,Chan,BO@x.com\n"

  def settings(**extra)
    LmsBulkUpload::Settings.new(generate_passwords: true, send_notification_email: true, **extra)
  end

  def run_upload(store, mailer = ListMailer.new, csv: CSV_TEXT, **options)
    plan = LmsBulkUpload.plan(LmsBulkUpload.parse(csv), settings, store)
    plan.execute(store, mailer, **OPTIONS, **options)
  end

  def test_parse_takes_text_bytes_a_pathname_or_an_io
    Dir.mktmpdir do |dir|
      path = Pathname(dir).join("u.csv")
      path.write(CSV_TEXT)
      uploads = [CSV_TEXT, CSV_TEXT.b, path, StringIO.new(CSV_TEXT)].map { |d| LmsBulkUpload.parse(d) }
      uploads.each { |u| assert_equal [2, 3], u.map(&:line) }
    end
    upload = LmsBulkUpload.parse(CSV_TEXT)
    assert_equal 2, upload.size
    assert_equal "BO@x.com", upload[1].email
    assert_equal "Lopez", upload[0][:lastname]
    assert upload[-1].valid?
    assert_nil upload[2]
    assert_raises(TypeError) { LmsBulkUpload.parse(42) }
    assert_raises(TypeError) { LmsBulkUpload.plan(CSV_TEXT, settings, HashStore.new) }
    assert_raises(TypeError) { LmsBulkUpload.plan(upload, [:generate_passwords], HashStore.new) }
    # Settings, or a Hash of its keywords (decoded the same way).
    assert_equal LmsBulkUpload.plan(upload, settings, HashStore.new).fingerprint,
                 LmsBulkUpload.plan(upload, { generate_passwords: true, send_notification_email: true }, HashStore.new).fingerprint
  end

  # 8,000 rows (some 300 KiB: read in chunks on 2 threads), a bad address near the middle and
  # a duplicate, in another case, of a row far before it.
  def big_csv
    lines = ["firstname,lastname,email"] + (0...8000).map { |i| "First#{i},Last#{i},user#{i}@example.com" }
    lines[4000] = "Bad,Row,not-an-address"
    lines[7000] = "Dup,Other,USER1@example.com"
    "#{lines.join("\n")}\n"
  end

  def test_parse_on_one_or_two_threads_gives_the_same_upload
    data = big_csv
    one = LmsBulkUpload.parse(data, threads: 1)
    two = LmsBulkUpload.parse(data, threads: 2)
    assert_equal one.report, two.report
    assert_equal one.map(&:to_h), two.map(&:to_h)
    codes = one.issues.map { |i| [i.line, i.code] }
    assert_includes codes, [4001, "invalid_email"]
    assert_includes codes, [7001, "duplicate_email"]
    assert_equal 7998, one.valid_count
    error = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload.parse(data, threads: -1) }
    assert_equal "invalid_option", error.code
  end

  def test_the_bench_helper_times_the_core_alone_on_one_or_two_threads
    [1, 2].each do |threads|
      ms = LmsBulkUploadNative.bench_parse_rust(big_csv, 2, threads)
      assert_kind_of Float, ms
      assert_operator ms, :<, 60_000
      assert_operator ms, :>=, 0
    end
    assert_raises(LmsBulkUploadNative::NativeError::Engine) { LmsBulkUploadNative.bench_parse_rust("", 1, 1) }
  end

  def test_parse_options_are_decoded_by_the_core
    upload = LmsBulkUpload.parse("firstname;lastname;emailaddress\nA;B;a@x.com\n", delimiter: ";")
    assert_equal ";", upload.report[:delimiter]
    error = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload.parse(CSV_TEXT, delimter: ";") }
    assert_equal "invalid_option", error.code
  end

  def test_errors_have_a_code_a_place_and_a_class_per_kind
    error = assert_raises(LmsBulkUpload::FileError) { LmsBulkUpload.parse("") }
    assert_kind_of LmsBulkUpload::Error, error
    assert_kind_of StandardError, error
    assert_equal "empty_file", error.code
    error = assert_raises(LmsBulkUpload::FileError) { LmsBulkUpload.parse("firstname,lastname,emailaddress,emailaddress\n") }
    assert_equal "duplicate_column", error.code
    assert_equal 1, error.line
    assert_equal "emailaddress", error.column
    refute error.transient?
    assert_includes error.inspect, "duplicate_column"
  end

  def test_issue_codes_list_every_code_with_a_meaning
    codes = LmsBulkUpload.issue_codes
    email = codes.find { |c| c.code == "invalid_email" }
    assert_equal "error", email.severity
    refute_empty email.meaning
    assert(codes.map(&:code).include?("invalid_host_reply"))
  end

  def test_settings_come_from_keyword_arguments_and_never_show_the_password
    s = LmsBulkUpload::Settings.new(generate_passwords: false, default_password: "Correct-Horse-9!",
                                    enrol_existing_users: true)
    assert s.to_h[:has_default_password]
    assert s.to_h[:enrol_existing_users]
    refute_includes s.to_h.to_s + s.inspect, "Correct-Horse"
    error = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload::Settings.new(enrol_everyone: true) }
    assert_equal "invalid_setting", error.code
  end

  def test_a_plan_survives_json_and_refuses_tampering
    plan = LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), settings, LmsBulkUpload::MemoryStore.new)
    again = LmsBulkUpload::Plan.from_json(plan.to_json(pretty: true))
    assert_equal plan.fingerprint, again.fingerprint
    assert_equal %w[create create], again.map { |r| r[:action] }
    error = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Plan.from_json(plan.to_json.sub("ana@x.com", "eve@x.com")) }
    assert_equal "fingerprint_mismatch", error.code
    assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Plan.from_json("{") }
  end

  def test_a_signed_plan_is_read_back_only_with_its_key_and_unaltered
    plan = LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), settings, LmsBulkUpload::MemoryStore.new)
    key = LmsBulkUpload::PlanKey.generate
    signed = plan.to_signed_json(key)
    assert_match(/"signature":"[0-9a-f]{64}"/, signed)
    refute_includes key.inspect + key.to_s, key.to_hex
    again = LmsBulkUpload::Plan.from_signed_json(signed, LmsBulkUpload::PlanKey.from_hex(key.to_hex))
    assert_equal plan.fingerprint, again.fingerprint
    other = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Plan.from_signed_json(signed, LmsBulkUpload::PlanKey.generate) }
    assert_equal "plan_signature_invalid", other.code
    unsigned = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Plan.from_signed_json(plan.to_json, key) }
    assert_equal "plan_unsigned", unsigned.code
    short = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload::PlanKey.new("k" * 16) }
    assert_equal "invalid_setting", short.code
    assert_equal 32, LmsBulkUpload::PlanKey.new("k" * 32).to_hex.size / 2
  end

  def test_a_ruby_store_gets_plain_values_and_its_integer_ids_come_back_as_text
    store = HashStore.new
    results = run_upload(store)
    assert_equal %w[1 2], results.rows.map { |r| r[:user_id] }
    assert(store.users.values.all? { |u| u[:password_hash].nil? }, "a new user's hash goes to create_user")
    assert_equal 2, store.calls[:create_user]
    assert_operator store.calls[:checkpoint], :>=, 1
    assert_equal results.to_h, LmsBulkUpload.from_json(results.to_json)
    assert_match(/\A"line","email","status","user_id","done","error"\r\n"2","ana@x.com","created","1",/, results.to_csv)
    assert_equal [{ op: "create_user" }, { op: "send_email", kind: "welcome" }], results.rows[0][:done]
  end

  def test_ids_past_64_bits_stay_exact
    store = HashStore.new
    def store.create_user(user)
      super
      2**70
    end
    assert_equal [(2**70).to_s] * 2, run_upload(store).rows.map { |r| r[:user_id] }
  end

  def test_a_transient_exception_is_retried_and_a_permanent_one_fails_the_row
    store = HashStore.new
    failures = { "ana@x.com" => LmsBulkUpload::TransientError.new("database is locked"),
                 "BO@x.com" => ArgumentError.new("email rejected by policy") }
    store.define_singleton_method(:create_user) do |user|
      error = failures.delete(user[:email]) and raise error
      failures[user[:email]] = ArgumentError.new("email rejected by policy") if user[:email] == "BO@x.com"
      super(user)
    end
    results = run_upload(store)
    assert_equal %w[created failed], results.rows.map { |r| r[:status] }
    assert_equal({ code: "store_failed", message: "email rejected by policy" }, results.rows[1][:error])
  end

  def test_an_exception_answering_transient_is_retried
    flaky = Class.new(StandardError) { def transient = true }
    store = HashStore.new
    tries = 0
    store.define_singleton_method(:create_user) do |user|
      tries += 1
      raise flaky, "timeout" if tries == 1

      super(user)
    end
    assert_equal 2, run_upload(store).summary[:created]
    assert_equal 3, tries
  end

  def test_a_store_that_fails_while_planning_raises_a_store_error_caused_by_its_exception
    store = HashStore.new
    def store.find_users(_emails) = raise(IOError, "connection refused")
    error = assert_raises(LmsBulkUpload::StoreError) { LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), settings, store) }
    assert_equal "store_failed", error.code
    assert_includes error.message, "connection refused"
    assert_instance_of IOError, error.cause
  end

  def test_the_protocol_is_judged_by_the_core
    missing = assert_raises(LmsBulkUpload::StoreError) { LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), settings, Object.new) }
    assert_equal "host_method_missing", missing.code
    store = HashStore.new
    def store.find_users(_emails) = nil
    null = assert_raises(LmsBulkUpload::StoreError) { LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), settings, store) }
    assert_equal "invalid_host_reply", null.code
    # Kernel#send is no mailer's send: methods every object has do not count.
    mailer = assert_raises(LmsBulkUpload::MailerError) { run_upload(HashStore.new, Object.new) }
    assert_equal "host_method_missing", mailer.code
  end

  def test_an_object_whose_respond_to_raises_lacks_the_method
    store = HashStore.new
    def store.respond_to?(name, *) = name.to_s == "find_users" ? raise(NoMethodError, "proxy broken") : super
    error = assert_raises(LmsBulkUpload::StoreError) { LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), settings, store) }
    assert_equal "host_method_missing", error.code
  end

  def test_a_mailer_gets_hashes_and_is_flushed
    mailer = ListMailer.new
    run_upload(HashStore.new, mailer)
    assert_equal %w[ana@x.com BO@x.com], mailer.sent.map { |m| m[:to] }
    assert_equal "welcome", mailer.sent[0][:kind]
    assert_includes mailer.sent[0][:text], mailer.sent[0][:fields][:password]
    assert_operator mailer.flushes, :>=, 1
    plain = Object.new
    def plain.send(_message) = nil # no flush: optional
    assert_equal 2, run_upload(HashStore.new, plain).summary[:created]
  end

  def test_progress_is_reported_and_false_stops
    seen = []
    results = run_upload(HashStore.new, progress: ->(p) { seen << p.to_h })
    assert_equal({ done: 2, total: 2, failed: 0 }, seen.last)
    stopped = run_upload(HashStore.new, progress: ->(_p) { false })
    assert stopped.cancelled?
    refute results.cancelled?
  end

  def test_an_exception_in_progress_stops_the_execution_and_is_raised
    store = HashStore.new
    error = assert_raises(RuntimeError) { run_upload(store, progress: ->(_p) { raise "boom" }) }
    assert_equal "boom", error.message
    assert_equal 1, store.calls[:create_user]
  end

  def test_an_interrupt_in_a_host_method_cancels_and_is_raised_as_it_was
    store = HashStore.new
    def store.create_user(_user) = raise(Interrupt)
    assert_raises(Interrupt) { run_upload(store, csv: Csv.people(50)) }
  end

  def test_a_double_in_use_is_an_error_not_a_deadlock
    store = LmsBulkUpload::MemoryStore.new
    mailer = Object.new
    mailer.define_singleton_method(:send) { |_m| store.state }
    results = run_upload(store, mailer)
    assert_equal %w[failed failed], results.rows.map { |r| r[:status] }
    assert_equal "mailer_failed", results.rows[0][:error][:code]
    assert_includes results.rows[0][:error][:message], "in use"
  end

  def test_memory_store_state_round_trips_and_new_ids_never_collide
    store = LmsBulkUpload::MemoryStore.new(users: [{ id: "u1", email: "old@x.com", first_name: "O", last_name: "L" }])
    run_upload(store)
    ids = store.state[:users].map { |u| u[:id] }
    assert_equal ids.uniq, ids
    assert_raises(ArgumentError) { LmsBulkUpload::MemoryStore.new(users: "nobody") }
  end
end
