# frozen_string_literal: true

# Judges one folder of tests/scenarios/ (format: tests/scenarios/README.md and
# docs/scenario-format.md), as core/tests/scenarios.rs does; any key it does not understand
# fails the scenario.
module ScenarioCheck
  class Failure < Minitest::Assertion; end

  PARSE_KEYS = %w[parse_error issues rows valid_rows].freeze
  FLOW_KEYS = (PARSE_KEYS + %w[settings_error plan store emails results]).freeze
  PARSE_OPTIONS = %w[delimiter group_separator max_file_bytes max_rows max_field_bytes max_columns
                     max_value_chars].freeze
  USER_KEYS = %w[id email first_name last_name phone_number unique_id country organisation language_code
                 groups enrolments protected has_password force_password_reset].freeze
  ROW_KEYS = %w[line email first_name last_name action user_id operations operation_details noops
                issues].freeze
  KINDS = { LmsBulkUpload::FileError => "file", LmsBulkUpload::SettingsError => "settings",
            LmsBulkUpload::PlanError => "plan", LmsBulkUpload::StoreError => "store",
            LmsBulkUpload::MailerError => "mailer" }.freeze

  module_function

  def fail!(message)
    raise Failure, message
  end

  def known_keys(hash, known, what)
    fail!("#{what} must be an object, not #{hash.inspect}") unless hash.is_a?(Hash)
    unknown = hash.keys - known
    fail!("#{what}: unknown key #{unknown.first.inspect} (this runner understands #{known.sort})") if unknown.any?
  end

  # `expected` is a subset of `actual`: keys not given are not checked (a key `actual` lacks
  # only matches nil), lists have the same length and compare element-wise.
  def subset(expected, actual, path)
    case expected
    when Hash
      fail!("#{path}: expected an object #{expected}, got #{actual.inspect}") unless actual.is_a?(Hash)
      expected.each do |key, value|
        if actual.key?(key)
          subset(value, actual[key], "#{path}.#{key}")
        elsif !value.nil?
          fail!("#{path}.#{key}: expected #{value.inspect}, but there is no such key in #{actual.inspect}")
        end
      end
    when Array
      unless actual.is_a?(Array) && actual.size == expected.size
        fail!("#{path}: expected #{expected.size} elements #{expected.inspect}, got #{actual.inspect}")
      end
      expected.zip(actual).each_with_index { |(e, a), i| subset(e, a, "#{path}[#{i}]") }
    else
      same = expected.is_a?(Numeric) && actual.is_a?(Numeric) ? expected == actual : expected.eql?(actual)
      fail!("#{path}: expected #{expected.inspect}, got #{actual.inspect}") unless same
    end
  end

  def check_issues(expected, actual, path)
    fail!("#{path} must be a list") unless expected.is_a?(Array)
    codes = actual.map(&:code)
    fail!("#{path}: expected #{expected.size} issues #{expected}, got #{codes}") unless expected.size == actual.size
    expected.zip(actual).each_with_index do |(e, a), i|
      here = "#{path}[#{i}]"
      case e
      when String then fail!("#{here}: expected #{e}, got #{codes}") unless e == a.code
      when Hash
        known_keys(e, %w[code severity line column message message_contains], here)
        e = e.dup
        needle = e.delete("message_contains")
        fail!("#{here}: #{a.message.inspect} does not contain #{needle.inspect}") if needle && !a.message.include?(needle)
        subset(e, a.to_h.transform_keys(&:to_s), here)
      else fail!("#{here}: an issue is a code or an object, not #{e.inspect}")
      end
    end
  end

  def check_error(expected, error, path)
    known_keys(expected, %w[code kind line column message message_contains], path)
    kind = KINDS.find { |cls, _| error.is_a?(cls) }&.last || "?"
    actual = { "code" => error.code, "kind" => kind, "line" => error.line, "column" => error.column,
               "message" => error.message }
    e = expected.dup
    needle = e.delete("message_contains")
    fail!("#{path}: #{error.message.inspect} does not contain #{needle.inspect}") if needle && !error.message.include?(needle)
    subset(e, actual, path)
  end

  def check_parse(expect, upload)
    check_issues(expect["issues"], upload.issues, "expect.issues") if expect.key?("issues")
    rows = expect["rows"]
    case rows
    when nil then nil
    when Integer then subset(rows, upload.size, "expect.rows")
    else fail!("expect.rows must be a number, not #{rows.inspect}")
    end
    return unless expect.key?("valid_rows")

    subset(expect["valid_rows"], upload.valid_count, "expect.valid_rows")
    subset(expect["valid_rows"], upload.count(&:valid?), "expect.valid_rows")
  end

  def row_view(row)
    row = JSON.parse(JSON.generate(row))
    ops = row["operations"] || []
    row.slice("line", "email", "first_name", "last_name", "action", "user_id")
       .merge("user_id" => row["user_id"], "operations" => ops.map { |o| o["op"] },
              "operation_details" => ops, "noops" => (row["noops"] || []).map { |n| n["noop"] })
  end

  def check_plan(expected, plan)
    known_keys(expected, %w[summary rows file_issues], "expect.plan")
    if expected.key?("summary")
      summary = plan.summary.transform_keys(&:to_s)
      known_keys(expected["summary"], summary.keys, "expect.plan.summary")
      subset(expected["summary"], summary, "expect.plan.summary")
    end
    check_issues(expected["file_issues"], plan.file_issues, "expect.plan.file_issues") if expected.key?("file_issues")
    return unless expected.key?("rows")

    actual = plan.rows
    fail!("expect.plan.rows: expected #{expected['rows'].size} rows, the plan has #{actual.size}") unless
      expected["rows"].size == actual.size
    expected["rows"].zip(actual).each_with_index do |(e, a), i|
      path = "expect.plan.rows[#{i}]"
      known_keys(e, ROW_KEYS, path)
      e = e.dup
      issues = (a[:issues] || []).map { |h| LmsBulkUpload::Issue.from_h(h) }
      check_issues(e.delete("issues"), issues, "#{path}.issues") if e.key?("issues")
      subset(e, row_view(a), path)
    end
  end

  def check_store(expected, store)
    known_keys(expected, %w[groups content users], "expect.store")
    actual = JSON.parse(JSON.generate(store.state))
    expected = JSON.parse(JSON.generate(expected))
    [actual, expected].each { |state| (state["users"] || []).each { |u| u.delete("id") } }
    (expected["users"] || []).each_with_index { |u, i| known_keys(u, USER_KEYS, "expect.store.users[#{i}]") }
    subset(expected, actual, "expect.store")
  end

  def check_emails(expected, messages)
    fail!("expect.emails must be a list") unless expected.is_a?(Array)
    unless expected.size == messages.size
      fail!("expect.emails: expected #{expected.size} messages, got #{messages.map { |m| [m[:kind], m[:to]] }}")
    end
    expected.zip(messages).each_with_index do |(e, m), i|
      path = "expect.emails[#{i}]"
      known_keys(e, %w[kind to subject has_password counts text_contains], path)
      e = e.dup
      password = m[:fields][:password]
      if e.key?("has_password")
        has = e.delete("has_password")
        fail!("#{path}: expected a password in the fields and the text") if has && !(password && m[:text].include?(password))
        fail!("#{path}: has_password false, but the message has a password") if !has && password
      end
      (e.delete("text_contains") || []).each do |needle|
        fail!("#{path}: the text does not contain #{needle.inspect}") unless m[:text].include?(needle)
      end
      view = { "kind" => m[:kind], "to" => m[:to], "subject" => m[:subject],
               "counts" => (m[:fields][:counts] || {}).transform_keys(&:to_s) }
      subset(e, view, path)
    end
  end

  def check_results(expected, results)
    known_keys(expected, %w[summary rows cancelled], "expect.results")
    actual = JSON.parse(results.to_json)
    known_keys(expected["summary"], actual["summary"].keys, "expect.results.summary") if expected.key?("summary")
    # The Ruby views say the same as the JSON.
    fail!("results.summary differs from the JSON") unless JSON.parse(JSON.generate(results.summary)) == actual["summary"]
    fail!("results.rows differ from the JSON") unless JSON.parse(JSON.generate(results.rows)) == actual["rows"]
    subset(expected, actual, "expect.results")
  end
end

module ScenarioCheck
  module_function

  # The store's data after `store_changes` (docs/scenario-format.md): what happens to the
  # store between planning and execution.
  def apply_store_changes(state, changes)
    state = JSON.parse(JSON.generate(state || {}))
    fail!("store_changes must be a list") unless changes.is_a?(Array)
    changes.each_with_index do |change, i|
      here = "store_changes[#{i}]"
      fail!("#{here} must be an object with one key") unless change.is_a?(Hash) && change.size == 1
      op, arg = change.first
      case op
      when "remove_user" then remove(state, "users", here) { |u| u["email"].to_s.casecmp?(arg) }
      when "add_user" then (state["users"] ||= []) << arg.dup
      when "update_user"
        user = (state["users"] || []).find { |u| u["email"].to_s.casecmp?(arg["email"]) } or fail!("#{here}: no user #{arg['email']}")
        user.merge!(arg)
      when "remove_group" then remove(state, "groups", here) { |g| g["name"] == arg }
      when "add_group" then (state["groups"] ||= []) << arg.dup
      when "remove_content" then remove(state, "content", here) { |c| c == arg }
      else fail!("#{here}: unknown change #{op.inspect}")
      end
    end
    state
  end

  def remove(state, key, here, &match)
    before = state[key] || []
    state[key] = before.reject(&match)
    fail!("#{here} matches nothing") if state[key].size == before.size
  end
end
