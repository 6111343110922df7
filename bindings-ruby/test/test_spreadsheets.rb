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
end
