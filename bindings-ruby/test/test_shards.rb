# frozen_string_literal: true

# A big upload spread over workers: a plan cut into shards, the shards executed in any order
# (one of them twice, as a redelivered job) on one store with one journal, their results
# merged and the uploader's confirmation sent once, by the finaliser.
require_relative "test_helper"
require_relative "hosts"

class TestShards < Minitest::Test
  OPTIONS = { hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0, batch_size: 2 }.freeze
  ROWS = 23
  PASSWORD = "Correct-Horse-9!"

  def setup
    @upload = LmsBulkUpload.parse(Csv.people(ROWS))
    @store = LmsBulkUpload::MemoryStore.new
  end

  def settings(**extra)
    LmsBulkUpload::Settings.new(send_notification_email: true, uploader_email: "admin@x.com", **extra)
  end

  def test_shards_run_in_any_order_and_merge_into_one_confirmation_with_every_password_working
    plan = LmsBulkUpload.plan(@upload, settings(generate_passwords: true), @store)
    assert_nil plan.shard, "a whole plan is no shard"
    shards = plan.shards(5)
    assert_equal 5, shards.size
    assert_equal [5, 5, 5, 5, 3], shards.map(&:size)
    shards.each_with_index do |s, i|
      assert_equal({ parent: plan.fingerprint, index: i, count: 5 }, s.shard)
      refute_equal plan.fingerprint, s.fingerprint
    end
    assert_equal plan.map { |r| r[:line] }, shards.flat_map { |s| s.map { |r| r[:line] } }

    # Workers: each job is a signed shard; one of them is delivered twice.
    key = LmsBulkUpload::PlanKey.generate
    jobs = shards.map { |s| s.to_signed_json(key) }
    redelivered = jobs[2]
    order = jobs.shuffle(random: Random.new(7)) + [redelivered]
    journal = LmsBulkUpload::MemoryJournal.new
    mailer = LmsBulkUpload::RecordingMailer.new
    saved = {}
    order.each do |job|
      shard = LmsBulkUpload::Plan.from_signed_json(job, key)
      results = shard.execute(@store, mailer, journal: journal, **OPTIONS)
      assert results.to_h[:confirmation_deferred], "a shard leaves the confirmation to the finaliser"
      assert_equal shard.shard, results.to_h[:shard]
      saved[shard.shard[:index]] = results # the last run of each shard
    end
    assert_equal ROWS, @store.calls[:create_user], "the redelivered shard created nobody again"
    assert_equal [0, 0, 5, 0, 0], (0...5).map { |i| saved[i].summary[:resumed] },
                 "the second run of shard 2 resumed its 5 rows"
    assert(mailer.messages.none? { |m| m[:kind] == "upload_complete" }, "no shard confirmed")

    # The finaliser: the shards' results, in any order; each shard exactly once.
    merged = LmsBulkUpload::Results.merge(plan, saved.values.reverse)
    assert_equal plan.fingerprint, merged.fingerprint
    assert_equal plan.map { |r| r[:line] }, merged.rows.map { |r| r[:line] }
    assert_equal ROWS, merged.summary[:rows]
    assert_equal ROWS, merged.summary[:created]
    assert_equal 5, merged.summary[:resumed]
    assert(merged.rows.all? { |r| r[:status] == "created" }, merged.to_csv)

    outbox = ListMailer.new
    merged.send_confirmation(plan, outbox)
    assert_equal 1, outbox.sent.size
    confirmation = outbox.sent.first
    assert_equal "upload_complete", confirmation[:kind]
    assert_equal "admin@x.com", confirmation[:to]
    assert_equal ROWS, confirmation[:fields][:counts][:created]
    assert_equal ROWS, confirmation[:fields][:counts][:rows]
    assert_equal 1, outbox.flushes
    refute merged.to_h[:confirmation_deferred], "sent: no longer deferred"
    assert_nil merged.to_h[:confirmation_error]

    welcomes = mailer.messages.select { |m| m[:fields][:password] }
    assert_equal (1..ROWS).map { |i| "p#{i}@x.com" }.sort, welcomes.map { |m| m[:to] }.sort,
                 "one welcome per user: the redelivery emailed nobody again"
    welcomes.each do |m|
      assert @store.verify_password(m[:to], m[:fields][:password]), "#{m[:to]}'s emailed password works"
      refute @store.verify_password(m[:to], "#{m[:fields][:password]}x")
    end
  end

  def test_merge_wants_every_shard_exactly_once_and_the_confirmation_the_parent
    plan = LmsBulkUpload.plan(@upload, settings(generate_passwords: true), @store)
    shards = plan.shards(10)
    results = shards.map { |s| s.execute(@store, LmsBulkUpload::RecordingMailer.new, **OPTIONS) }
    missing = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Results.merge(plan, results[0, 2]) }
    assert_equal "shard_missing", missing.code
    twice = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Results.merge(plan, results + [results[0]]) }
    assert_equal "shard_duplicate", twice.code
    other = LmsBulkUpload.plan(LmsBulkUpload.parse(Csv.people(2)), settings(generate_passwords: true), @store)
    foreign = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Results.merge(other, results) }
    assert_equal "shard_foreign", foreign.code
    assert_raises(TypeError) { LmsBulkUpload::Results.merge(plan, [results[0].to_h]) }

    of_a_shard = assert_raises(LmsBulkUpload::PlanError) { results[0].send_confirmation(shards[0], ListMailer.new) }
    assert_equal "plan_is_shard", of_a_shard.code
    mailer = LmsBulkUpload::RecordingMailer.new
    LmsBulkUpload::Results.merge(plan, results).send_confirmation(plan, mailer, templates: {
      upload_complete: { subject: "Done", text: "{{login}}: {{counts}}", html: "<p>{{counts}}</p>" }
    })
    assert_equal ["Done"], mailer.messages.map { |m| m[:subject] }
    assert_match(/\Aadmin@x\.com: rows: #{ROWS}\ncreated: #{ROWS}\n/, mailer.messages.first[:text])
  end

  def test_merge_refuses_a_stored_shard_result_naming_another_person
    plan = LmsBulkUpload.plan(@upload, settings(generate_passwords: true), @store)
    results = plan.shards(6).map { |shard| shard.execute(@store, LmsBulkUpload::RecordingMailer.new, retry_delay_ms: 0) }
    assert LmsBulkUpload::Results.merge(plan, results).verified?
    forged = JSON.parse(results[1].to_json)
    forged["rows"][0]["email"] = "admin@x.com"
    results[1] = LmsBulkUpload::Results.from_json(JSON.generate(forged))
    refute results[1].verified?
    error = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Results.merge(plan, results) }
    assert_equal "shard_result_mismatch", error.code
  end

  def test_sharding_refuses_a_shard_and_zero_rows
    plan = LmsBulkUpload.plan(@upload, settings(generate_passwords: true), @store)
    nested = assert_raises(LmsBulkUpload::PlanError) { plan.shards(5).first.shards(2) }
    assert_equal "plan_is_shard", nested.code
    zero = assert_raises(LmsBulkUpload::PlanError) { plan.shards(0) }
    assert_equal "invalid_option", zero.code
    assert_raises(TypeError) { plan.shards("5") }
  end

  def test_a_default_password_plans_shards_run_with_no_plaintext_given_to_the_workers
    plan = LmsBulkUpload.plan(@upload, settings(generate_passwords: false, default_password: PASSWORD), @store)
    required = assert_raises(LmsBulkUpload::PlanError) { plan.shards(6) }
    assert_equal "default_password_required", required.code

    key = LmsBulkUpload::PlanKey.generate
    shards = plan.shards(6, default_password: PASSWORD, hash_params: TestPaths::CHEAP_HASH)
    shards.each do |shard|
      unsigned = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Plan.from_json(shard.to_json) }
      assert_equal "plan_unsigned", unsigned.code, "a shard carrying a password hash is read signed only"
    end
    jobs = shards.map { |shard| shard.to_signed_json(key) }
    assert_equal 4, jobs.size
    jobs.each { |job| refute_includes job, PASSWORD, "a shard carries the hash, not the password" }

    journal = LmsBulkUpload::MemoryJournal.new
    mailer = LmsBulkUpload::RecordingMailer.new
    results = jobs.shuffle(random: Random.new(3)).map do |job|
      LmsBulkUpload::Plan.from_signed_json(job, key).execute(@store, mailer, journal: journal, retry_delay_ms: 0) # no default_password:
    end
    merged = LmsBulkUpload::Results.merge(plan, results)
    assert_equal ROWS, merged.summary[:created]
    (1..ROWS).each { |i| assert @store.verify_password("p#{i}@x.com", PASSWORD), "p#{i} has the default password" }
    refute @store.verify_password("p1@x.com", "wrong")
    refute(mailer.messages.any? { |m| m[:fields].key?(:password) }, "the default password is not emailed")
    merged.send_confirmation(plan, mailer)
    assert_equal 1, mailer.messages.count { |m| m[:kind] == "upload_complete" }
  end
end
