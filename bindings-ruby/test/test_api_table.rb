# frozen_string_literal: true

# Walks the table of the public API (docs/api.md): every Ruby name on its object, with the
# shape the table gives. A name missing or renamed here, or a value of another shape, fails.

require_relative "test_helper"
require_relative "hosts"

class TestApiTable < Minitest::Test
  TABLE = TestPaths::ROOT.join("docs/api.md")

  # `{context => [[what, cell, shape]]}` of every table whose first header cell is a name.
  def self.tables(text, column)
    out = {}
    context = nil
    index = nil
    text.each_line(chomp: true) do |line|
      unless line.start_with?("|")
        context = nil
        next
      end
      cells = line.split("|")[1..].map(&:strip)
      head = cells[0][/\A`(\w+)`\z/, 1]
      if head && cells.include?(column)
        context = head
        index = cells.index(column)
        out[context] ||= []
      elsif context && cells[0] !~ /\A-+\z/
        out[context] << [cells[0], cells[index].delete("`"), cells[-1]]
      end
    end
    out
  end

  def shape_ok?(value, shape)
    return true if shape.end_with?("?") && value.nil?

    case shape.delete_suffix("?")
    when "int" then value.is_a?(Integer)
    when "str" then value.is_a?(String)
    when "bool" then [true, false].include?(value)
    when "list" then value.is_a?(Array)
    when "map" then value.is_a?(Hash)
    when "class" then value.is_a?(Module)
    else raise ArgumentError, "unknown shape #{shape}"
    end
  end

  def check(object, cell, shape)
    name = cell.sub(/\(.*\)\z/, "")
    if %w[method function].include?(shape)
      assert object.respond_to?(name), "#{name} is a method of #{object.inspect[0, 60]}"
      return true
    end
    key = cell[/\A\[:(\w+)\]\z/, 1]
    value =
      if key
        assert object.key?(key.to_sym), "#{key} is present"
        object[key.to_sym]
      elsif name.match?(/\A[A-Z]/)
        object.const_get(name)
      else
        object.public_send(name)
      end
    shape_ok?(value, shape)
  end

  # The screens' hooks of a host with no administrator and no records.
  class NoHooks
    def authenticate(_email, _password) = nil
    def get_record(_kind, _id) = nil
    def put_record(_kind, _id, _doc, _expected) = false
    def list_records(_kind, _offset, _limit) = { "total" => 0, "items" => [] }
    def delete_record(_kind, _id) = nil
    def catalog = { "groups" => [], "content" => [] }
  end

  def contexts
    store = LmsBulkUpload::MemoryStore.new(
      groups: [{ id: "g1", name: "Sales" }],
      users: [{ id: "u9", email: "bo@example.com", first_name: "Bo", last_name: "Old" }],
    )
    upload = LmsBulkUpload.parse("email,firstname,lastname\nana@example.com,Ana,New\nbo@example.com,Bo,Old\nnot-an-email,Cy,Bad\n")
    plan = LmsBulkUpload.plan(upload, { generate_passwords: true }, store)
    mailer = LmsBulkUpload::RecordingMailer.new
    results = plan.execute(store, mailer, hash_params: TestPaths::CHEAP_HASH)
    error = assert_raises(LmsBulkUpload::FileError) { LmsBulkUpload.parse("") }
    {
      "module" => LmsBulkUpload, "upload" => upload, "upload_row" => upload.first, "issue" => upload.issues.first,
      "code_info" => LmsBulkUpload.issue_codes.first,
      "settings" => LmsBulkUpload::Settings.new(generate_passwords: true),
      "plan" => plan, "Plan" => LmsBulkUpload::Plan,
      "plan_row" => plan.find { |r| r.action == "unchanged" }, "plan_summary" => plan.summary,
      "results" => results, "Results" => LmsBulkUpload::Results,
      "result_row" => results.find { |r| r.status == "unchanged" }, "result_summary" => results.summary,
      "error" => error, "store" => store, "mailer" => mailer,
      "PlanKey" => LmsBulkUpload::PlanKey, "plan_key" => LmsBulkUpload::PlanKey.generate,
      "web" => LmsBulkUpload,
      # over a store and mailer written in Ruby, as a host's are
      "web_api" => LmsBulkUpload::WebApi.new(hooks: NoHooks.new, store: HashStore.new, mailer: ListMailer.new,
                                             site_url: "https://lms.example.com/admin/bulk-upload/",
                                             secret: "s" * 40)
    }
  end

  def test_every_name_of_the_table_exists_in_ruby_with_its_shape
    table = self.class.tables(TABLE.read, "Ruby")
    objects = contexts
    assert_equal objects.keys.sort, table.keys.sort, "a context for every table"
    checked = 0
    table.each do |context, rows|
      rows.each do |what, cell, shape|
        next if cell == "—"

        assert check(objects.fetch(context), cell, shape), "#{context}: #{cell} (#{what}) is a #{shape}"
        checked += 1
      end
    end
    assert_operator checked, :>, 150
  end

  def test_nothing_to_do_is_an_empty_list_or_zero_not_absent
    objects = contexts
    row = objects["plan_row"]
    assert_equal [], row.operations
    assert_kind_of Array, row.noops
    assert(row.issues.all?(LmsBulkUpload::Issue))
    done = objects["result_row"]
    assert_kind_of LmsBulkUpload::ResultRow, done
    assert_equal [[], nil], [done.done, done.error]
    assert_equal 0, objects["plan_summary"][:suspensions]
    assert_equal 0, objects["result_summary"][:suspended]
    error = objects["error"]
    assert_equal "file", error.kind
    assert_equal "#{error.message} [#{error.code}]", error.to_s
    assert_kind_of LmsBulkUpload::BulkUploadError, error
    assert_same LmsBulkUpload::Error, LmsBulkUpload::BulkUploadError
  end

  def test_the_store_double_add_methods_return_the_store
    store = LmsBulkUpload::MemoryStore.new
    assert_same store, store.add_group("g1", "Sales")
    assert_same store, store.add_content({ kind: "course", id: "c1" })
    assert_same store, store.add_user({ id: "u1", email: "ana@example.com" })
    assert_nil store.password_hash("ana@example.com")
    refute store.verify_password("ana@example.com", "x")
    upload = LmsBulkUpload.parse("email,firstname,lastname\ncy@example.com,Cy,New\n")
    plan = LmsBulkUpload.plan(upload, { generate_passwords: false, default_password: "Kowhai-Tree-2026!" }, store)
    plan.execute(store, LmsBulkUpload::RecordingMailer.new, hash_params: TestPaths::CHEAP_HASH,
                                                            default_password: "Kowhai-Tree-2026!")
    phc = store.password_hash("cy@example.com")
    assert phc.start_with?("$argon2id$")
    assert LmsBulkUpload.verify_password(phc, "Kowhai-Tree-2026!")
    assert store.verify_password("cy@example.com", "Kowhai-Tree-2026!")
    assert_equal 1, store.calls[:create_user]
  end

  def test_results_show_the_shard_fields_and_plan_undo_takes_a_hash_or_keywords
    store = LmsBulkUpload::MemoryStore.new
    upload = LmsBulkUpload.parse("email,firstname,lastname\ncy@example.com,Cy,New\n")
    results = LmsBulkUpload.plan(upload, {}, store).execute(store, LmsBulkUpload::RecordingMailer.new,
                                                            hash_params: TestPaths::CHEAP_HASH)
    assert_nil results.shard
    assert_nil results.confirmation_error
    refute results.confirmation_deferred?
    by_hash = LmsBulkUpload.plan_undo(results, store, { delete_created_users: true })
    by_keywords = LmsBulkUpload.plan_undo(results, store, delete_created_users: true)
    assert_equal by_hash.fingerprint, by_keywords.fingerprint
    assert_equal 1, by_hash.summary[:deletions]
  end
end
