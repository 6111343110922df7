# frozen_string_literal: true

# Spreadsheets and legacy code pages through LmsBulkUpload.parse: the committed workbooks
# read like their CSV twin, a sheet chosen by name, code pages detected and named, a
# password column warned about (the core's behaviour; the binding passes bytes and options).
require_relative "test_helper"

class TestSpreadsheets < Minitest::Test
  FIXTURES = TestPaths::ROOT.join("core/tests/fixtures/spreadsheets")
  FIELDS = [{ name: "employee_no" }, { name: "start_date", kind: "date" }].freeze

  def rows(upload)
    upload.rows.map(&:to_h)
  end

  { "staff.xlsx" => "xlsx", "staff.xls" => "xls", "staff.ods" => "ods" }.each do |name, format|
    define_method("test_#{format}_reads_like_its_csv_twin") do
      twin = LmsBulkUpload.parse(FIXTURES.join("staff.csv"), fields: FIELDS)
      upload = LmsBulkUpload.parse(FIXTURES.join(name).binread, fields: FIELDS)
      assert_equal rows(twin), rows(upload)
      assert_equal [["invalid_email", 5]], upload.issues.map { |i| [i.code, i.line] }
      assert_equal twin.issues.map(&:to_h), upload.issues.map(&:to_h)
      report = upload.report
      assert_equal [format, "Staff", "csv"], [report[:format], report[:sheet], twin.report[:format]]
    end
  end

  def test_a_sheet_by_name_an_unknown_one_and_a_zip_bomb
    upload = LmsBulkUpload.parse(FIXTURES.join("staff.ods"), sheet: "Managers")
    assert_equal "Managers", upload.report[:sheet]
    assert_equal ["mere@example.nz"], upload.rows.map(&:email)
    error = assert_raises(LmsBulkUpload::FileError) { LmsBulkUpload.parse(FIXTURES.join("staff.xls"), sheet: "Payroll") }
    assert_equal "sheet_not_found", error.code
    error = assert_raises(LmsBulkUpload::FileError) { LmsBulkUpload.parse(FIXTURES.join("bomb.xlsx")) }
    assert_equal "file_too_large", error.code
  end

  def test_code_pages_are_detected_and_can_be_named
    polish = LmsBulkUpload.parse(FIXTURES.join("windows1250_polish.csv"))
    assert_equal "windows-1250", polish.report[:encoding]
    assert_equal %w[Łukasz Świątek], polish.rows.first.values.values_at(:firstname, :lastname)
    assert_equal ["encoding_guessed"], polish.issues.map(&:code)
    assert_equal "太郎", LmsBulkUpload.parse(FIXTURES.join("shift_jis_japanese.csv")).rows.first.values[:firstname]
    named = LmsBulkUpload.parse(FIXTURES.join("windows1251_russian.csv"), encoding: "windows-1251")
    assert_equal ["Дмитрий", []], [named.rows.first.values[:firstname], named.issues]
    error = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload.parse(FIXTURES.join("windows1251_russian.csv"), encoding: "klingon") }
    assert_equal "invalid_option", error.code
  end

  def test_a_password_column_is_never_read
    upload = LmsBulkUpload.parse("firstname,lastname,email,Password\nAna,Lee,ana@example.com,hunter2\n")
    assert_equal [%w[password_column Password]], upload.issues.map { |i| [i.code, i.column] }
    refute_includes rows(upload).inspect, "hunter2"
  end

  %w[staff.xlsx staff.xls staff.ods].each do |name|
    define_method("test_the_sheets_of_#{name.tr(".", "_")}_are_listed_in_order") do
      names = LmsBulkUpload.sheet_names(FIXTURES.join(name))
      assert_equal %w[Staff Managers], names
      assert_equal names, LmsBulkUpload.sheet_names(FIXTURES.join(name).binread)
      File.open(FIXTURES.join(name), "rb") { |io| assert_equal names, LmsBulkUpload.sheet_names(io) }
      # Each name reads its sheet.
      assert_equal names, names.map { |sheet| LmsBulkUpload.parse(FIXTURES.join(name), sheet: sheet).sheet }
    end
  end

  def test_sheet_names_of_a_csv_file_and_of_files_it_refuses
    assert_equal [], LmsBulkUpload.sheet_names(FIXTURES.join("staff.csv"))
    assert_equal [], LmsBulkUpload.sheet_names("firstname,lastname,email\n")
    error = assert_raises(LmsBulkUpload::FileError) { LmsBulkUpload.sheet_names(FIXTURES.join("bomb.xlsx")) }
    assert_equal "file_too_large", error.code
    error = assert_raises(LmsBulkUpload::FileError) { LmsBulkUpload.sheet_names(FIXTURES.join("not_a_workbook.zip")) }
    assert_equal "unsupported_file", error.code
    # The parse options' limits hold before the workbook is opened.
    size = FIXTURES.join("staff.xlsx").size
    error = assert_raises(LmsBulkUpload::FileError) do
      LmsBulkUpload.sheet_names(FIXTURES.join("staff.xlsx"), max_file_bytes: size - 1)
    end
    assert_equal "file_too_large", error.code
    error = assert_raises(LmsBulkUpload::SettingsError) { LmsBulkUpload.sheet_names(FIXTURES.join("staff.xlsx"), sheets: "Staff") }
    assert_equal "invalid_option", error.code
    assert_raises(TypeError) { LmsBulkUpload.sheet_names(42) }
  end

  def test_a_column_matched_by_hand_is_read_as_that_column_and_one_ignored_is_not_read
    # The Staff sheet's "Employee No" and "Start date" are no column of the engine's.
    plain = LmsBulkUpload.parse(FIXTURES.join("staff.xlsx"))
    assert_equal [["unknown_column", "Employee No"], ["unknown_column", "Start date"], %w[invalid_email emailaddress]],
                 plain.issues.map { |i| [i.code, i.column] }
    assert(plain.rows.none? { |r| r.values.key?(:uniqueid) })

    upload = LmsBulkUpload.parse(FIXTURES.join("staff.xlsx"), column_assignments: { 3 => "unique_id", 5 => nil })
    assert_equal [["invalid_email", 5]], upload.issues.map { |i| [i.code, i.line] }
    assert_equal [["First Name", "firstname"], ["Last Name", "lastname"], ["Email", "emailaddress"],
                  ["Employee No", "uniqueid"], ["Phone", "phonenumber"], ["Start date", nil], %w[addgroup addgroup]],
                 upload.header.map { |h| h.values_at(:header, :column) }
    assert_equal %w[00123 00456 00789 01000], upload.rows.map { |r| r.values[:uniqueid] }
    # Every other value as without the assignments.
    assert_equal plain.rows.map(&:values), upload.rows.map { |r| r.values.except(:uniqueid) }
  end

  def test_a_required_column_headed_wrongly_is_matched_by_hand
    text = "firstname,surnme,emailaddress\nMere,Tū,mere@example.nz\n"
    error = assert_raises(LmsBulkUpload::FileError) { LmsBulkUpload.parse(text) }
    assert_equal "missing_required_column", error.code
    upload = LmsBulkUpload.parse(text, column_assignments: { 1 => "last name" })
    assert_equal ["Tū", []], [upload.rows.first.last_name, upload.issues]
  end

  def test_a_column_assignment_the_header_cannot_take_is_the_cores_invalid_option
    [{ 7 => nil }, { 3 => "shoe size" }, { -1 => nil }].each do |assignments|
      error = assert_raises(LmsBulkUpload::SettingsError) do
        LmsBulkUpload.parse(FIXTURES.join("staff.xlsx"), column_assignments: assignments)
      end
      assert_equal "invalid_option", error.code
    end
    error = assert_raises(LmsBulkUpload::SettingsError) do
      LmsBulkUpload.parse(FIXTURES.join("staff.xlsx"), column_assignments: { 7 => nil })
    end
    assert_match(/the header has 7 columns, not 8/, error.message)
  end
end
