# frozen_string_literal: true

# Undo through the public API: LmsBulkUpload.plan_undo against Ruby host stores (the
# optional suspend_user / delete_user / withdraw through the core's host protocol) and the
# MemoryStore, the refusals as LmsBulkUpload::Error subclasses with the core's codes, and
# Results kept as JSON undone later.
require_relative "test_helper"
require_relative "hosts"

class TestUndo < Minitest::Test
  OPTIONS = { hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0 }.freeze
  CSV_TEXT = "firstname,lastname,emailaddress\nAna,Lopez,ana@x.com\nBo,Chan,BO@x.com\n"

  def settings(**extra)
    LmsBulkUpload::Settings.new(generate_passwords: true, groups: ["Sales"],
                                enrolments: [{ kind: "course", id: "c1" }], **extra)
  end

  def new_store(klass)
    klass.new(groups: { "Sales" => "g1" }, content: [%w[course c1]])
  end

  def upload(store, csv: CSV_TEXT, **extra)
    plan = LmsBulkUpload.plan(LmsBulkUpload.parse(csv), settings(**extra), store)
    plan.execute(store, ListMailer.new, **OPTIONS)
  end

  def test_a_host_store_without_delete_user_refuses_deleting_before_anything_is_written
    store = new_store(SuspendingHashStore)
    results = upload(store)
    before = Marshal.load(Marshal.dump(store.users))
    error = assert_raises(LmsBulkUpload::StoreError) do
      LmsBulkUpload.plan_undo(results, store, delete_created_users: true)
    end
    assert_equal "undo_unsupported", error.code
    assert_includes error.message, "delete_user"
    refute error.transient?
    assert_equal before, store.users
    assert_equal 0, store.calls[:suspend_user] + store.calls[:withdraw]
  end

  def test_without_deletion_the_undo_runs_through_the_host_store
    store = new_store(SuspendingHashStore)
    results = upload(store)
    assert(store.users.values.all? { |u| u[:groups] == ["Sales"] && u[:enrolments] == [{ kind: "course", id: "c1" }] })

    plan = LmsBulkUpload.plan_undo(results, store, uploader_email: "admin@x.com")
    assert_equal results.fingerprint, plan.undo_of
    assert_nil results.undo_of
    assert_equal 2, plan.summary[:suspensions]
    assert_equal 2, plan.summary[:withdrawals]
    assert_equal 2, plan.summary[:group_removals]
    assert_equal 0, plan.summary[:deletions], "every count is there, 0 included"
    assert(plan.all? { |r| r[:operations].map { |o| o[:op] }.include?("suspend_user") })
    # An undo plan is a plan: it survives its JSON form.
    assert_equal plan.undo_of, LmsBulkUpload::Plan.from_json(plan.to_json).undo_of

    mailer = ListMailer.new
    undone = plan.execute(store, mailer, **OPTIONS)
    assert_equal results.fingerprint, undone.undo_of
    assert_equal 2, undone.summary[:updated]
    assert_equal %w[ana@x.com bo@x.com], store.users.keys.sort, "suspended, not deleted"
    store.users.each_value do |u|
      assert u[:suspended]
      assert_empty u[:groups]
      assert_empty u[:enrolments]
    end
    assert_equal 2, store.calls[:suspend_user]
    assert_equal 2, store.calls[:withdraw]
    assert_equal ["admin@x.com"], mailer.sent.map { |m| m[:to] }, "undo emails nobody but the uploader"
    assert(undone.rows.all? { |r| r[:done].map { |d| d[:op] }.include?("suspend_user") })
  end

  def test_an_undo_cannot_be_undone
    store = new_store(SuspendingHashStore)
    undone = LmsBulkUpload.plan_undo(upload(store), store).execute(store, ListMailer.new, **OPTIONS)
    [undone, LmsBulkUpload::Results.from_json(undone.to_json)].each do |results|
      error = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload.plan_undo(results, store) }
      assert_equal "undo_of_undo", error.code
    end
  end

  def test_delete_user_answers_whether_it_deleted_and_a_kept_user_is_suspended
    store = new_store(DeletingHashStore)
    results = upload(store)
    # Someone enrols Bo in another course after the upload: the store keeps Bo.
    store.users["bo@x.com"][:enrolments] << { kind: "course", id: "c9" }
    plan = LmsBulkUpload.plan_undo(results, store, delete_created_users: true)
    assert_equal 2, plan.summary[:deletions]
    undone = plan.execute(store, ListMailer.new, **OPTIONS)
    assert_equal ["bo@x.com"], store.users.keys
    assert store.users["bo@x.com"][:suspended], "kept, so suspended"
    assert_equal [{ kind: "course", id: "c9" }], store.users["bo@x.com"][:enrolments]
    assert_equal 2, store.calls[:delete_user]
    assert_equal 1, store.calls[:suspend_user]
    done = undone.rows.to_h { |r| [r[:email].downcase, r[:done].map { |d| d[:op] }] }
    assert_includes done["ana@x.com"], "delete_user"
    assert_includes done["bo@x.com"], "suspend_user"
  end

  def test_a_delete_user_reply_that_is_no_boolean_fails_the_row_with_a_coded_error
    store = new_store(DeletingHashStore)
    def store.delete_user(_id) = "yes"
    undone = LmsBulkUpload.plan_undo(upload(store), store, delete_created_users: true).execute(store, ListMailer.new, **OPTIONS)
    assert_equal %w[failed failed], undone.rows.map { |r| r[:status] }
    assert_equal ["invalid_host_reply"], undone.rows.map { |r| r[:error][:code] }.uniq
    assert_includes undone.rows.first[:error][:message], "delete_user"
  end

  def test_profile_changes_are_restored
    store = new_store(SuspendingHashStore)
    upload(store)
    changed = upload(store, csv: "firstname,lastname,emailaddress\nAnita,Lopez,ana@x.com\n",
                            update_existing_profiles: true)
    assert_equal "Anita", store.users["ana@x.com"][:profile][:first_name]
    LmsBulkUpload.plan_undo(changed, store).execute(store, ListMailer.new, **OPTIONS)
    assert_equal "Ana", store.users["ana@x.com"][:profile][:first_name]
    refute store.users["ana@x.com"][:suspended], "an existing user is not suspended"
  end

  def test_the_memory_store_and_results_kept_as_json
    store = LmsBulkUpload::MemoryStore.new(groups: [{ id: "g1", name: "Sales" }], content: [{ kind: "course", id: "c1" }])
    results = upload(store)
    assert results.verified?
    kept = LmsBulkUpload::Results.from_json(results.to_json)
    assert_equal results.to_json, kept.to_json
    refute kept.verified?
    unsigned = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload.plan_undo(kept, store) }
    assert_equal "results_unsigned", unsigned.code
    vouched = LmsBulkUpload.plan_undo(kept, store, results_from_trusted_storage: true, delete_created_users: true)
    assert_equal 0, vouched.summary.fetch(:deletions, 0), "unverified results delete no one"
    key = LmsBulkUpload::PlanKey.generate
    forged = results.to_signed_json(key).sub("ana@x.com", "eve@x.com")
    invalid = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Results.from_signed_json(forged, key) }
    assert_equal "results_signature_invalid", invalid.code
    kept = LmsBulkUpload::Results.from_signed_json(results.to_signed_json(key), key)
    assert kept.verified?
    plan = LmsBulkUpload.plan_undo(kept, store, delete_created_users: true)
    assert_equal LmsBulkUpload.plan_undo(results, store, delete_created_users: true).fingerprint, plan.fingerprint
    plan.execute(store, LmsBulkUpload::RecordingMailer.new, **OPTIONS)
    assert_empty store.state[:users], "deleted: they had nothing but what the upload gave them"
  end

  def test_options_and_arguments_are_checked
    store = new_store(SuspendingHashStore)
    results = upload(store)
    error = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload.plan_undo(results, store, delete_users: true) }
    assert_equal "invalid_option", error.code
    error = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload.plan_undo(results, store, results_url: "javascript:x") }
    assert_equal "invalid_setting", error.code
    assert_raises(TypeError) { LmsBulkUpload.plan_undo(results.to_json, store) }
    error = assert_raises(LmsBulkUpload::PlanError) { LmsBulkUpload::Results.from_json("{}") }
    assert_equal "invalid_results", error.code
    assert_nil LmsBulkUpload.plan(LmsBulkUpload.parse(CSV_TEXT), LmsBulkUpload::Settings.new, store).undo_of
  end
end
