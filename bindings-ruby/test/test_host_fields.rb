# frozen_string_literal: true

# Issue 15 through the public API with a Ruby host store: users missing from the file
# suspended through the host's scope_users (paged) and suspend_user, a host without
# scope_users refused at planning, SSO users created without a password, and a custom
# profile field reaching create_user / update_profile and read back by find_users. What is
# decided is the core's (scenarios 88-106, run by test_scenarios.rb); this checks that it
# reaches a Ruby host, and back.
require_relative "test_helper"
require_relative "hosts"

# A Ruby host store: users are Hashes keyed by id, in insertion order; writes and scope
# pages are recorded in `calls`.
class DirectoryStore
  attr_reader :users, :calls

  def initialize(users)
    @users = {}
    users.each { |u| @users[u.fetch(:id)] = { custom: {}, suspended: false, login_method: nil }.merge(u.except(:id)) }
    @calls = []
  end

  def user(id)
    { id: id, **@users.fetch(id), custom: @users.fetch(id)[:custom].dup }
  end

  def find_users(emails)
    wanted = emails.map(&:downcase)
    @users.keys.select { |id| wanted.include?(@users[id][:email].downcase) }.map { |id| user(id) }
  end

  def find_groups(_names) = []
  def find_content(_refs) = []

  def create_user(new_user)
    @calls << [:create_user, new_user]
    id = "n#{@users.size + 1}"
    profile = new_user[:profile].dup
    custom = profile.delete(:custom) || {}
    method = new_user[:login_method] == "password" ? nil : new_user[:login_method]
    @users[id] = { email: new_user[:email], **profile, custom: custom, suspended: false, login_method: method,
                   password_hash: new_user[:password_hash] }
    id
  end

  def update_profile(id, changes)
    @calls << [:update_profile, id, changes]
    changes.each do |key, value|
      next @users[id][key] = value.empty? ? nil : value unless key == :custom

      value.each do |name, text|
        text.empty? ? @users[id][:custom].delete(name) : @users[id][:custom][name] = text # "" clears
      end
    end
  end

  def set_password(id, _hash, _force_reset) = @calls << [:set_password, id]
  def add_to_group(_id, _group) = nil
  def remove_from_group(_id, _group) = nil
  def enrol(_id, _content) = nil

  def suspend_user(id)
    @calls << [:suspend_user, id]
    @users[id][:suspended] = true
  end

  def reactivate_user(id)
    @calls << [:reactivate_user, id]
    @users[id][:suspended] = false
  end

  def set_login_method(id, method)
    @calls << [:set_login_method, id, method]
    @users[id][:login_method] = method == "password" ? nil : method
  end

  def called(name) = @calls.select { |c| c.first == name }.map { |c| c.drop(1) }
end

# A directory that lists its scope, PER_PAGE users a page (whatever `limit` asks), the
# position of the next page as the cursor.
class ScopedDirectoryStore < DirectoryStore
  PER_PAGE = 2

  def scope_users(after, limit)
    @calls << [:scope_users, after, limit]
    start = after ? Integer(after) : 0
    ids = @users.keys
    last = [start + PER_PAGE, ids.size].min
    { users: ids[start...last].map { |id| user(id) }, next: last < ids.size ? last.to_s : nil }
  end
end

class TestHostFields < Minitest::Test
  OPTIONS = { hash_params: TestPaths::CHEAP_HASH, retry_delay_ms: 0 }.freeze

  def people(*names, **extra)
    names.each_with_index.map do |n, i|
      { id: "e#{i + 1}", email: "#{n.downcase}@x.com", first_name: n, last_name: "X", **extra }
    end
  end

  def parse(csv, **options) = LmsBulkUpload.parse(csv, **options)

  # -- users missing from the file ----------------------------------------------------------

  def test_users_missing_from_the_file_are_suspended_through_the_host
    store = ScopedDirectoryStore.new(people("Ana", "Bo", "Cy", "Di", "Ed", "Flo"))
    store.users["e4"][:protected] = true # never touched
    store.users["e6"][:suspended] = true # suspended already
    settings = LmsBulkUpload::Settings.new(suspend_missing_users: true, missing_users_threshold: 50)
    assert_equal [true, 50], settings.to_h.values_at(:suspend_missing_users, :missing_users_threshold)

    plan = LmsBulkUpload.plan(parse("firstname,lastname,email\nAna,X,ana@x.com\nCy,X,CY@x.com\n"), settings, store)
    assert_equal [nil, "2", "4"], store.called(:scope_users).map(&:first), "every page, in order"
    assert_equal 2, plan.summary[:suspensions]
    missing = plan.select { |r| r[:operations]&.first&.fetch(:op) == "suspend_user" }
    assert_equal [[4, "bo@x.com", "e2"], [5, "ed@x.com", "e5"]], missing.map { |r| [r.line, r.email, r.user_id] }
    assert(missing.all? { |r| r[:issues].map { |i| i[:code] } == ["missing_from_file"] })
    assert_empty store.called(:suspend_user), "planning writes nothing"

    results = plan.execute(store, ListMailer.new, **OPTIONS)
    assert_equal [["e2"], ["e5"]], store.called(:suspend_user)
    assert_equal [[4, "updated", [{ op: "suspend_user" }]], [5, "updated", [{ op: "suspend_user" }]]],
                 results.rows.drop(2).map { |r| [r.line, r.status, r.done] }
    found = store.find_users(store.users.values.map { |u| u[:email] })
    assert_equal %w[bo@x.com ed@x.com flo@x.com], found.select { |u| u[:suspended] }.map { |u| u[:email] }
  end

  def test_more_missing_users_than_the_threshold_allows_is_refused
    store = ScopedDirectoryStore.new(people("Ana", "Bo", "Cy"))
    error = assert_raises(LmsBulkUpload::SettingsError) do # 2 of 3, over the default 10 %
      LmsBulkUpload.plan(parse("firstname,lastname,email\nAna,X,ana@x.com\n"),
                         LmsBulkUpload::Settings.new(suspend_missing_users: true), store)
    end
    assert_equal "missing_users_threshold", error.code
    assert_empty store.called(:suspend_user)
  end

  def test_a_host_without_scope_users_is_refused_at_planning
    store = DirectoryStore.new(people("Ana", "Bo"))
    upload = parse("firstname,lastname,email\nAna,X,ana@x.com\n")
    error = assert_raises(LmsBulkUpload::StoreError) do
      LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(suspend_missing_users: true, missing_users_threshold: 100), store)
    end
    assert_equal "host_method_missing", error.code
    assert_includes error.message, "scope_users"
    assert_equal 1, LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new, store).summary[:unchanged]
  end

  def test_a_suspended_user_in_the_file_is_reactivated_through_the_host
    upload = parse("firstname,lastname,email\nAna,X,ana@x.com\n")
    by_hand = DirectoryStore.new(people("Ana", suspended: true))
    plan = LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(reactivate_suspended_users: true), by_hand)
    assert_equal 0, plan.summary[:reactivations], "suspended by someone else: never reactivated"
    store = DirectoryStore.new(people("Ana", suspended: true, suspended_by_upload: true))
    plan = LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(update_existing_profiles: true), store)
    assert_equal 0, plan.summary[:reactivations], "update_existing_profiles alone never reactivates"
    plan = LmsBulkUpload.plan(upload, LmsBulkUpload::Settings.new(reactivate_suspended_users: true), store)
    assert_equal 1, plan.summary[:reactivations]
    results = plan.execute(store, ListMailer.new, **OPTIONS)
    assert_equal [["e1"]], store.called(:reactivate_user)
    refute store.users["e1"][:suspended]
    assert_equal [{ op: "reactivate_user" }], results.rows.first[:done]
  end

  # -- login methods (SSO) ------------------------------------------------------------------

  def test_sso_users_are_created_without_a_password
    store = DirectoryStore.new(people("Ana"))
    csv = "firstname,lastname,email,auth\nBo,Chan,bo@x.com,\nCy,Diaz,cy@x.com,password\nAna,X,ana@x.com,SAML\n"
    upload = parse(csv, login_methods: ["saml"])
    assert_equal ["", "password", "SAML"], upload.map { |r| r[:auth] }
    settings = LmsBulkUpload::Settings.new(default_login_method: "saml", update_existing_profiles: true)
    assert_equal "saml", settings.to_h[:default_login_method]

    plan = LmsBulkUpload.plan(upload, settings, store)
    bo, cy, ana = plan.rows
    assert_equal({ op: "create_user", login_method: "saml", profile: { first_name: "Bo", last_name: "Chan" } },
                 bo[:operations].first)
    refute cy[:operations].first.key?(:login_method)
    assert_equal [{ op: "set_login_method", method: "saml" }], ana[:operations]
    assert_equal [1, 1], plan.summary.values_at(:passwords, :login_method_changes)

    mailer = ListMailer.new
    results = plan.execute(store, mailer, **OPTIONS)
    created = store.called(:create_user).to_h { |(u)| [u[:email], u] }
    assert_nil created["bo@x.com"][:password_hash]
    assert_equal "saml", created["bo@x.com"][:login_method]
    assert_match(/\A\$argon2id\$/, created["cy@x.com"][:password_hash])
    assert_equal "password", created["cy@x.com"][:login_method]
    assert_equal [%w[e1 saml]], store.called(:set_login_method)
    assert_equal [{ op: "set_login_method", method: "saml", before: "password" }], results.rows[2][:done]
    welcome = mailer.sent.select { |m| m[:kind] == "welcome" }.to_h { |m| [m[:to], m] }
    refute welcome["bo@x.com"][:fields].key?(:password), "nothing to sign in with but the SSO"
    assert welcome["cy@x.com"][:fields].key?(:password)
    refute_includes welcome["bo@x.com"][:text], welcome["cy@x.com"][:fields][:password]
    assert_equal %w[saml saml], store.find_users(%w[ana@x.com bo@x.com]).map { |u| u[:login_method] }
  end

  def test_an_unknown_login_method_is_refused_by_the_core
    error = assert_raises(LmsBulkUpload::SettingsError) do
      LmsBulkUpload.plan(parse("firstname,lastname,email\nBo,Chan,bo@x.com\n", login_methods: ["saml"]),
                         LmsBulkUpload::Settings.new(default_login_method: "oidc"), DirectoryStore.new([]))
    end
    assert_equal "unknown_login_method", error.code
  end

  # -- custom profile fields ----------------------------------------------------------------

  FIELDS = [{ name: "department", aliases: ["dept"], max_length: 20 },
            { name: "grade", kind: "one_of", values: %w[A B] }].freeze

  def test_a_custom_field_reaches_the_host_and_is_read_back
    store = DirectoryStore.new(people("Ana"))
    store.users["e1"][:custom] = { department: "Sales", grade: "B" }
    csv = "firstname,lastname,email,Dept,Grade\nAna,X,ana@x.com,Support,B\nBo,Chan,bo@x.com,R&D,a\n"
    upload = parse(csv, fields: FIELDS)
    assert_equal %w[department grade], upload.report[:header].drop(3).map { |h| h[:field] }
    settings = LmsBulkUpload::Settings.new(update_existing_profiles: true)

    plan = LmsBulkUpload.plan(upload, settings, store)
    ana, bo = plan.rows
    assert_equal [{ op: "update_profile", changes: { custom: { department: "Support" } } }], ana[:operations]
    assert_equal({ department: "R&D", grade: "A" }, bo[:operations].first[:profile][:custom], "stored as declared")

    results = plan.execute(store, ListMailer.new, **OPTIONS)
    assert_equal %w[updated created], results.rows.map { |r| r[:status] }
    assert_equal({ department: "R&D", grade: "A" }, store.called(:create_user).first.first[:profile][:custom])
    assert_equal [["e1", { custom: { department: "Support" } }]], store.called(:update_profile)
    assert_equal({ custom: { department: "Sales" } }, results.rows.first[:done].first[:before])

    # find_users gives the values back: the same file again changes nothing.
    found = store.find_users(%w[ana@x.com bo@x.com]).to_h { |u| [u[:email], u[:custom]] }
    assert_equal({ "ana@x.com" => { department: "Support", grade: "B" }, "bo@x.com" => { department: "R&D", grade: "A" } },
                 found)
    assert_equal 2, LmsBulkUpload.plan(parse(csv, fields: FIELDS), settings, store).summary[:unchanged]

    # The clear token empties a field of an existing user.
    cleared = LmsBulkUpload.plan(parse("firstname,lastname,email,dept\nAna,X,ana@x.com,#clear\n", fields: FIELDS),
                                 settings, store)
    assert_equal [{ op: "update_profile", changes: { custom: { department: "" } } }], cleared.first[:operations]
    cleared.execute(store, ListMailer.new, **OPTIONS)
    assert_equal({ grade: "B" }, store.users["e1"][:custom])
  end

  def test_a_bad_custom_value_or_declaration_is_reported_by_the_core
    upload = parse("firstname,lastname,email,grade\nBo,Chan,bo@x.com,C\n", fields: FIELDS)
    assert_equal [%w[invalid_field_value grade]], upload.issues.map { |i| [i.code, i.column] }
    error = assert_raises(LmsBulkUpload::SettingsError) { parse("email\n", fields: [{ name: "email" }]) }
    assert_equal "invalid_option", error.code
  end
end
