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
