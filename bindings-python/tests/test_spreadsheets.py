"""Spreadsheets and legacy code pages through ``parse``: the committed workbooks read like
their CSV twin, a sheet chosen by name, code pages detected and named, a password column
warned about (the core's behaviour; the binding passes the bytes and the options)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

import lms_bulk_upload as lbu
from conftest import ROOT

FIXTURES = ROOT / "core/tests/fixtures/spreadsheets"
FIELDS: List[lbu.ProfileField] = [{"name": "employee_no"}, {"name": "start_date", "kind": "date"}]


def rows(upload: lbu.Upload) -> List[Dict[str, Any]]:
    return [row.to_dict() for row in upload.rows]


@pytest.mark.parametrize("name,fmt", [("staff.xlsx", "xlsx"), ("staff.xls", "xls"), ("staff.ods", "ods")])
def test_a_workbook_reads_like_its_csv_twin(name: str, fmt: str) -> None:
    twin = lbu.parse(FIXTURES / "staff.csv", fields=FIELDS)
    upload = lbu.parse((FIXTURES / name).read_bytes(), fields=FIELDS)
    assert (upload.format, upload.sheet, twin.format, twin.sheet) == (fmt, "Staff", "csv", None)
    assert rows(upload) == rows(twin)
    assert [(i.code, i.line) for i in upload.issues] == [(i.code, i.line) for i in twin.issues] == [("invalid_email", 5)]
    report = upload.report()
    assert (report["format"], report["sheet"]) == (fmt, "Staff")
    first = upload.rows[0].to_dict()
    assert first["custom"] == {"employee_no": "00123", "start_date": "2019-02-02"}


def test_a_sheet_by_name_and_an_unknown_one() -> None:
    upload = lbu.parse(FIXTURES / "staff.xlsx", sheet="Managers")
    assert (upload.sheet, [r.email for r in upload.rows]) == ("Managers", ["mere@example.nz"])
    with pytest.raises(lbu.FileError) as error:
        lbu.parse(FIXTURES / "staff.ods", sheet="Payroll")
    assert error.value.code == "sheet_not_found"
    with pytest.raises(lbu.FileError) as error:
        lbu.parse(FIXTURES / "bomb.xlsx")
    assert error.value.code == "file_too_large"


def test_code_pages_are_detected_and_can_be_named() -> None:
    upload = lbu.parse(FIXTURES / "windows1250_polish.csv")
    assert upload.encoding == "windows-1250"
    assert (upload.rows[0].first_name, upload.rows[0].last_name) == ("Łukasz", "Świątek")
    assert [i.code for i in upload.issues] == ["encoding_guessed"]
    assert lbu.parse(FIXTURES / "shift_jis_japanese.csv").rows[0].first_name == "太郎"
    named = lbu.parse(FIXTURES / "windows1251_russian.csv", encoding="windows-1251")
    assert (named.rows[0].first_name, named.issues) == ("Дмитрий", [])
    with pytest.raises(lbu.SettingsError) as error:
        lbu.parse(FIXTURES / "windows1251_russian.csv", encoding="klingon")
    assert error.value.code == "invalid_option"


def test_a_password_column_is_never_read() -> None:
    upload = lbu.parse(b"firstname,lastname,email,Password\nAna,Lee,ana@example.com,hunter2\n")
    assert [(i.code, i.column) for i in upload.issues] == [("password_column", "Password")]
    assert "hunter2" not in str(upload.rows[0].to_dict())


@pytest.mark.parametrize("name", ["staff.xlsx", "staff.xls", "staff.ods"])
def test_the_sheets_of_a_workbook_are_listed_in_order(name: str) -> None:
    path = FIXTURES / name
    assert lbu.sheet_names(path) == lbu.sheet_names(path.read_bytes()) == ["Staff", "Managers"]
    # Each name reads its sheet.
    assert [lbu.parse(path, sheet=sheet).sheet for sheet in lbu.sheet_names(path)] == ["Staff", "Managers"]


def test_sheet_names_of_a_csv_file_and_of_files_it_refuses() -> None:
    assert lbu.sheet_names(FIXTURES / "staff.csv") == []
    assert lbu.sheet_names("firstname,lastname,email\n") == []
    with pytest.raises(lbu.FileError) as error:
        lbu.sheet_names(FIXTURES / "bomb.xlsx")
    assert error.value.code == "file_too_large"
    with pytest.raises(lbu.FileError) as error:
        lbu.sheet_names(FIXTURES / "not_a_workbook.zip")
    assert error.value.code == "unsupported_file"
    # The parse options' limits hold before the workbook is opened.
    size = (FIXTURES / "staff.xlsx").stat().st_size
    with pytest.raises(lbu.FileError) as error:
        lbu.sheet_names(FIXTURES / "staff.xlsx", max_file_bytes=size - 1)
    assert error.value.code == "file_too_large"
    with pytest.raises(lbu.SettingsError) as refused:
        lbu.sheet_names(FIXTURES / "staff.xlsx", sheets="Staff")  # type: ignore[call-arg]
    assert refused.value.code == "invalid_option"


def test_a_column_matched_by_hand_is_read_as_that_column_and_one_ignored_is_not_read() -> None:
    # The Staff sheet's "Employee No" and "Start date" are no column of the engine's.
    plain = lbu.parse(FIXTURES / "staff.xlsx")
    assert [(i.code, i.column) for i in plain.issues] == [
        ("unknown_column", "Employee No"),
        ("unknown_column", "Start date"),
        ("invalid_email", "emailaddress"),
    ]
    assert all("uniqueid" not in row.values for row in plain.rows)

    upload = lbu.parse(FIXTURES / "staff.xlsx", column_assignments={3: "unique_id", 5: None})
    assert [(i.code, i.line) for i in upload.issues] == [("invalid_email", 5)]
    assert [(h["header"], h["column"]) for h in upload.header] == [
        ("First Name", "firstname"),
        ("Last Name", "lastname"),
        ("Email", "emailaddress"),
        ("Employee No", "uniqueid"),
        ("Phone", "phonenumber"),
        ("Start date", None),
        ("addgroup", "addgroup"),
    ]
    assert [row.values["uniqueid"] for row in upload.rows] == ["00123", "00456", "00789", "01000"]
    # Every other value as without the assignments.
    assert [{k: v for k, v in row.values.items() if k != "uniqueid"} for row in upload.rows] == [
        row.values for row in plain.rows
    ]
    # The same as one dict, with its keys as strings too (what JSON carries).
    options: lbu.ParseOptions = {"column_assignments": {3: "uniqueid", 5: None}}
    assert [r.to_dict() for r in lbu.parse(FIXTURES / "staff.xlsx", **options).rows] == [
        r.to_dict() for r in upload.rows
    ]


def test_a_required_column_headed_wrongly_is_matched_by_hand() -> None:
    # The Managers sheet's headers, one of them mistyped: the file is refused until the
    # column is matched by hand.
    text = "firstname,surnme,emailaddress\nMere,Tū,mere@example.nz\n"
    with pytest.raises(lbu.FileError) as error:
        lbu.parse(text)
    assert error.value.code == "missing_required_column"
    upload = lbu.parse(text, column_assignments={1: "last name"})
    assert (upload.rows[0].last_name, upload.issues) == ("Tū", [])


def test_a_column_assignment_the_header_cannot_take_is_the_cores_invalid_option() -> None:
    for assignments in ({7: None}, {3: "shoe size"}):
        with pytest.raises(lbu.SettingsError) as error:
            lbu.parse(FIXTURES / "staff.xlsx", column_assignments=assignments)
        assert error.value.code == "invalid_option"
    with pytest.raises(lbu.SettingsError) as error:
        lbu.parse(FIXTURES / "staff.xlsx", column_assignments={7: None})
    assert "the header has 7 columns, not 8" in str(error.value)
    # A negative position reaches the core as "-1", which is no position.
    with pytest.raises(lbu.SettingsError) as error:
        lbu.parse(FIXTURES / "staff.xlsx", column_assignments={-1: None})
    assert (error.value.code, "0-based position" in str(error.value)) == ("invalid_option", True)
