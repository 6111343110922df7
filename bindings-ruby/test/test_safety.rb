# frozen_string_literal: true

# Issue 19 (part B) through the public API: values nested too deep or containing themselves
# raise coded errors (arguments and host replies), the reactivation setting, the IDNA
# identity, the missing-users threshold, secret settings never echoed, zxcvbn's judgement.
require_relative "test_helper"
require_relative "hosts"

class TestSafety < Minitest::Test
  def nested(depth)
    (1..depth).reduce("x") { |value, _| [value] }
  end

  def user(email, **extra)
    { email: email, first_name: "A", last_name: "X", **extra }
  end

  def test_an_argument_nested_2000_deep_or_containing_itself_is_a_coded_error
    e = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload::Settings.new(enrolments: nested(2000)) }
    assert_equal "invalid_option", e.code
    loop = []
    loop << loop
    e = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload::Settings.new(groups: loop) }
    assert_equal "invalid_option", e.code
  end

  # A host store whose find_users answers `reply`.
  class DeepStore
    def initialize(reply) = @reply = reply
    def find_users(_emails) = @reply
    def find_groups(_names) = []
    def find_content(_refs) = []
    def create_user(*) = "1"
    %i[update_profile set_password add_to_group remove_from_group enrol].each { |m| define_method(m) { |*| nil } }
  end

  def test_a_host_reply_nested_2000_deep_or_containing_itself_is_invalid_host_reply
    upload = LmsBulkUpload.parse("firstname,lastname,email\nAna,X,ana@x.com\n")
    loop = []
    loop << loop
    [nested(2000), loop].each do |reply|
      e = assert_raises(LmsBulkUpload::StoreError) do
        LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new, DeepStore.new(reply))
      end
      assert_equal "invalid_host_reply", e.code
    end
  end

  def test_reactivation_is_its_own_setting
    upload = LmsBulkUpload.parse("firstname,lastname,email\nEd,X,ed@x.com\nBo,X,bo@x.com\n")
    state = { users: [user("ed@x.com", suspended: true), user("bo@x.com", suspended: true, suspended_by_upload: true)] }
    ops = ->(plan) { plan.rows.map { |r| r[:operations].to_a.map { |o| o[:op] } } }
    plan = LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(update_existing_profiles: true),
                              LmsBulkUpload::MemoryStore.new(state))
    refute_includes ops.call(plan).flatten, "reactivate_user"
    settings = LmsBulkUpload::Settings.new(reactivate_suspended_users: true)
    assert settings.to_h[:reactivate_suspended_users]
    plan = LmsBulkUpload.plan(upload, settings, LmsBulkUpload::MemoryStore.new(state))
    assert_equal [[], ["reactivate_user"]], ops.call(plan)
  end

  def test_idna_domains_are_one_identity
    upload = LmsBulkUpload.parse("firstname,lastname,email\nAna,Y,ana@bücher.de\n")
    store = LmsBulkUpload::MemoryStore.new({ users: [user("ana@xn--bcher-kva.de")] })
    plan = LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(update_existing_profiles: true), store)
    assert_equal "update", plan.rows.first[:action]
  end

  def test_the_threshold_counts_only_users_who_can_be_suspended
    users = (0...12).map { |i| user("u#{i}@x.com", suspended: i < 9) }
    upload = LmsBulkUpload.parse("firstname,lastname,email\nA,X,u9@x.com\n")
    e = assert_raises(LmsBulkUpload::SettingsError) do
      LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(suspend_missing_users: true, missing_users_threshold: 50),
                         LmsBulkUpload::MemoryStore.new({ users: users }))
    end
    assert_equal "missing_users_threshold", e.code
    assert_includes e.message, "2 of the 3"
  end

  def test_a_secret_setting_of_the_wrong_type_is_never_echoed
    [31_415_926_535, 2.718281828, ["Sekr3t-pass-9"], true].each do |value|
      e = assert_raises(LmsBulkUpload::SettingsError) do
        LmsBulkUpload::Settings.new(generate_passwords: false, default_password: value)
      end
      assert_equal "invalid_setting", e.code
      refute_match(/31415926535|718281828|Sekr3t/, e.message + e.inspect)
    end
  end

  def test_a_weak_default_password_is_refused_with_a_reason
    e = assert_raises(LmsBulkUpload::SettingsError) do
      LmsBulkUpload::Settings.new(generate_passwords: false, default_password: "Welcome2024!")
    end
    assert_equal "weak_default_password", e.code
    assert_includes e.message, "zxcvbn"
    refute_includes e.message, "Welcome2024!"
  end

  def test_email_key_is_the_engines_identity
    assert_equal "ana@xn--bcher-kva.de", LmsBulkUpload.email_key("Ana@Bücher.de")
    assert_equal "ana@xn--bcher-kva.de", LmsBulkUpload.email_key("ANA@XN--BCHER-KVA.DE")
  end
end
