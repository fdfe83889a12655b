"""The error workbook: the school's own workbook annotated cell by cell, or a list of findings."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest

from reports.error_workbook import (
    AUTHOR,
    ERROR_RGB,
    WARNING_RGB,
    annotate_workbook,
    answer_attachment,
    errors_workbook,
    safe_stem,
)
from reports.templates import ks1_workbook
from tests.helpers import invalid_ks1, valid_ctf, valid_ks1, valid_ks2
from workers.validators import ctf, ks1, ks2
from workers.validators.workbook import first_sheet_rows

DFE = "8012001"
HEADER_COLUMN = {name: index for index, name in enumerate(ks1.HEADER, start=1)}


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _findings(result) -> tuple[list[dict], list[dict]]:
    return [f.as_dict() for f in result.errors], [f.as_dict() for f in result.warnings]


def _validate_ks1(data: bytes):
    return ks1.validate(first_sheet_rows(data, 1000))


def _errors_rows(sheet) -> list[tuple]:
    """The findings listed under the Errors sheet's header row (row 2)."""
    return [row for row in sheet.iter_rows(min_row=3, max_col=5, values_only=True)]


def _filled(cell) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None


@pytest.fixture(scope="module")
def invalid():
    data = invalid_ks1(DFE)
    result = _validate_ks1(data)
    assert len(result.errors) == 2
    return data, result


def test_the_cells_named_by_the_findings_are_filled_red_and_commented_and_no_others(invalid):
    data, result = invalid
    errors, warnings = _findings(result)
    sheet = _open(annotate_workbook(data, errors, warnings)).worksheets[0]
    named = {(row, HEADER_COLUMN[f["column"]]): f["message"] for f in errors for row in f["rows"]}
    assert set(named) == {(3, HEADER_COLUMN["Scaled Score: KS1 Reading"]),
                          (4, HEADER_COLUMN["Surname"])}
    for row in sheet.iter_rows(min_row=1, max_row=sheet.max_row, max_col=len(ks1.HEADER)):
        for cell in row:
            where = (cell.row, cell.column)
            if where in named:
                assert _filled(cell) == ERROR_RGB
                assert cell.comment.author == AUTHOR
                assert cell.comment.text == f"Error: {named[where]}"
            else:
                assert _filled(cell) is None, cell.coordinate
                assert cell.comment is None, cell.coordinate


def test_the_errors_sheet_lists_one_row_per_finding_with_its_rows_joined(invalid):
    data, _ = invalid
    errors = [{"rule": "name-missing", "message": "Surname must have a value.",
               "column": "Surname", "rows": [4, 7, 9]}]
    workbook = _open(annotate_workbook(data, errors, []))
    sheet = workbook["Errors"]
    assert [c.value for c in sheet[2]] == ["Type", "Rule", "Column", "Rows", "Message"]
    assert all(c.font.b for c in sheet[2])
    assert sheet.auto_filter.ref == "A2:E3"
    assert _errors_rows(sheet) == [("Error", "name-missing", "Surname", "4, 7, 9",
                                    "Surname must have a value.")]
    assert all(_filled(workbook.worksheets[0].cell(r, HEADER_COLUMN["Surname"])) == ERROR_RGB
               for r in (4, 7, 9))


def test_the_errors_sheet_of_a_validated_file_has_every_finding(invalid):
    data, result = invalid
    errors, warnings = _findings(result)
    sheet = _open(annotate_workbook(data, errors, warnings))["Errors"]
    assert _errors_rows(sheet) == [("Error", f["rule"], f["column"], ", ".join(map(str, f["rows"])),
                                    f["message"]) for f in errors]


def test_the_schools_sheet_stays_first_and_the_errors_sheet_is_the_one_shown(invalid):
    data, _ = invalid
    original = _open(data)
    workbook = _open(annotate_workbook(data, _findings(_validate_ks1(data))[0], []))
    assert workbook.sheetnames == original.sheetnames + ["Errors"]
    assert workbook.active.title == "Errors"
    assert [s.sheet_view.tabSelected for s in workbook.worksheets] == [False, True]


def test_the_annotated_workbook_validates_as_the_original_and_validates_once_fixed(invalid):
    data, result = invalid
    errors, warnings = _findings(result)
    annotated = annotate_workbook(data, errors, warnings)
    assert first_sheet_rows(annotated, 1000) == first_sheet_rows(data, 1000)
    assert _findings(_validate_ks1(annotated)) == (errors, warnings)

    workbook = _open(annotated)  # the school corrects the highlighted cells and sends it back
    sheet = workbook.worksheets[0]
    sheet.cell(3, HEADER_COLUMN["Scaled Score: KS1 Reading"]).value = 100
    sheet.cell(4, HEADER_COLUMN["Surname"]).value = "Smith"
    buffer = io.BytesIO()
    workbook.save(buffer)
    fixed = _validate_ks1(buffer.getvalue())
    assert fixed.valid and len(fixed.pupils) == len(first_sheet_rows(data, 1000)) - 1


def test_a_re_sent_annotated_workbook_shows_only_what_is_wrong_now(invalid):
    data, result = invalid
    errors, _ = _findings(result)
    workbook = _open(annotate_workbook(data, errors, []))
    sheet = workbook.worksheets[0]
    sheet.cell(4, HEADER_COLUMN["Surname"]).value = "Smith"  # one of the two fixed
    buffer = io.BytesIO()
    workbook.save(buffer)
    again = _validate_ks1(buffer.getvalue())
    assert [f.rule for f in again.errors] == ["scaled-score"]

    annotated = _open(annotate_workbook(buffer.getvalue(), _findings(again)[0], []))
    assert annotated.sheetnames == [sheet.title, "Errors"]
    surname = annotated.worksheets[0].cell(4, HEADER_COLUMN["Surname"])
    assert _filled(surname) is None and surname.comment is None
    assert _filled(annotated.worksheets[0].cell(3, HEADER_COLUMN["Scaled Score: KS1 Reading"])) \
        == ERROR_RGB
    assert [r[1] for r in _errors_rows(annotated["Errors"])] == ["scaled-score"]


def test_a_finding_without_a_column_highlights_the_header_row():
    workbook = _open(ks1_workbook([]))
    workbook.active["A1"] = "Pupil number"  # the header's first column renamed
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = _validate_ks1(buffer.getvalue())
    assert [(f.rule, f.column, f.rows) for f in result.errors] == [("header", None, [1])]
    sheet = _open(annotate_workbook(buffer.getvalue(), _findings(result)[0], [])).worksheets[0]
    assert [_filled(c) for c in sheet[1]] == [ERROR_RGB] * len(ks1.HEADER)
    assert sheet["A1"].comment.text == f"Error: {result.errors[0].message}"
    assert all(_filled(c) is None for c in sheet[2])
    assert [c.value for c in sheet[1]][1:] == ks1.HEADER[1:]


def test_a_column_the_header_does_not_have_highlights_its_rows():
    data = valid_ks1(DFE)
    errors = [{"rule": "x", "message": "Something is wrong.", "column": "Pupil number", "rows": [2]}]
    sheet = _open(annotate_workbook(data, errors, [])).worksheets[0]
    assert [_filled(c) for c in sheet[2]] == [ERROR_RGB] * len(ks1.HEADER)
    assert sheet["A2"].comment.text == "Error: Something is wrong. (Column: Pupil number.)"
    assert all(_filled(c) is None for c in sheet[1])


def test_a_warning_gets_the_amber_fill_and_an_error_on_the_same_cell_wins(invalid):
    data, _ = invalid
    warnings = [{"rule": "no-results", "message": "No results entered for this pupil.",
                 "column": " upn ", "rows": [5, 6]}]
    errors = [{"rule": "upn-format", "message": "UPN is wrong.", "column": "UPN", "rows": [6]}]
    workbook = _open(annotate_workbook(data, errors, warnings))
    sheet = workbook.worksheets[0]
    assert _filled(sheet["B5"]) == WARNING_RGB
    assert sheet["B5"].comment.text == "Warning: No results entered for this pupil."
    assert _filled(sheet["B6"]) == ERROR_RGB
    assert sheet["B6"].comment.text == ("Warning: No results entered for this pupil.\n\n"
                                        "Error: UPN is wrong.")
    assert [r[0] for r in _errors_rows(workbook["Errors"])] == ["Error", "Warning"]


def test_text_beginning_with_an_equals_sign_lands_as_text_never_as_a_formula():
    evil = '=HYPERLINK("http://evil.example","click")'
    data = ks1_workbook([[evil, "A801200122001"]])
    assert _open(data).worksheets[0]["A2"].data_type == "s"
    errors = [{"rule": evil, "message": evil, "column": "School DFE", "rows": [2]},
              {"rule": "x", "message": "y", "column": evil, "rows": [2]}]
    workbook = _open(annotate_workbook(data, errors, []))
    assert workbook.worksheets[0]["A2"].value == evil
    assert workbook.worksheets[0]["A2"].data_type == "s"
    assert workbook.worksheets[0]["A2"].comment.text.startswith(f"Error: {evil}")
    listed = [cell for row in workbook["Errors"].iter_rows(min_row=3) for cell in row
              if isinstance(cell.value, str) and cell.value.startswith("=")]
    assert len(listed) == 3 and all(cell.data_type == "s" for cell in listed)

    sheet = _open(errors_workbook(errors, [], evil))["Errors"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type == "s" for cell in cells)
    assert sheet["A1"].value.startswith(f"Errors in {evil}")


def test_the_schools_own_formulas_are_kept_as_they_were():
    workbook = openpyxl.Workbook()
    workbook.active.append(ks1.HEADER)
    workbook.active.append(["8012001", "=A2&\"x\""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    errors = [{"rule": "r", "message": "m", "column": "UPN", "rows": [2]}]
    cell = _open(annotate_workbook(buffer.getvalue(), errors, [])).worksheets[0]["B2"]
    assert (cell.value, cell.data_type) == ('=A2&"x"', "f")


def test_a_workbook_with_its_own_errors_sheet_gets_errors_2(invalid):
    data, result = invalid
    workbook = _open(data)
    workbook.create_sheet("Errors")["A1"] = "the school's own notes"
    buffer = io.BytesIO()
    workbook.save(buffer)
    annotated = _open(annotate_workbook(buffer.getvalue(), _findings(result)[0], []))
    assert annotated.sheetnames[1:] == ["Errors", "Errors (2)"]
    assert annotated["Errors"]["A1"].value == "the school's own notes"
    assert annotated.active.title == "Errors (2)"
    assert len(_errors_rows(annotated["Errors (2)"])) == 2


def test_a_workbook_openpyxl_cannot_open_gets_the_errors_workbook():
    errors = [{"rule": "r", "message": "m", "column": None, "rows": []}]
    workbook = _open(annotate_workbook(b"PK\x03\x04 not really a workbook", errors, [],
                                       title="results"))
    assert workbook.sheetnames == ["Errors"]
    assert workbook["Errors"]["A1"].value.startswith("Errors in results")
    assert _errors_rows(workbook["Errors"]) == [("Error", "r", None, None, "m")]


def test_an_errors_workbook_lists_a_ks2_csvs_findings():
    data = valid_ks2(DFE).replace(b",EXS,EXS", b",XYZ,EXS", 1)
    result = ks2.validate(ks2.read_csv(data, 1000), file_name=f"{DFE}_ks2.csv")
    errors, warnings = _findings(result)
    assert errors
    workbook = _open(errors_workbook(errors, warnings, f"{DFE}_ks2.csv"))
    assert workbook.sheetnames == ["Errors"]
    assert workbook["Errors"]["A1"].value.startswith(f"Errors in {DFE}_ks2.csv (1 error, ")
    assert _errors_rows(workbook["Errors"]) == [
        ("Error", f["rule"], f["column"], ", ".join(map(str, f["rows"])), f["message"])
        for f in errors]


def test_an_errors_workbook_lists_a_ctfs_findings():
    data = re.sub(rb"<UPN>[^<]*</UPN>", b"<UPN>X123</UPN>", valid_ctf(DFE), count=1)
    result = ctf.validate(data)
    errors, warnings = _findings(result)
    assert [(f["rule"], f["column"], f["rows"]) for f in errors] == [("upn-format", "Pupil/UPN", [1])]
    sheet = _open(errors_workbook(errors, warnings, "school.xml"))["Errors"]
    assert _errors_rows(sheet) == [("Error", "upn-format", "Pupil/UPN", "1", errors[0]["message"])]


@pytest.mark.parametrize("sent, expected", [
    ("../../etc/passwd.xlsx", "passwd - errors.xlsx"),
    ("..\\..\\Windows\\results.xlsx", "results - errors.xlsx"),
    ("res\x00ul\x1bts\r\n.xlsx", "results - errors.xlsx"),
    ("re\u202eslts.xlsx", "reslts - errors.xlsx"),
    ('a<b>c:d"e|f?g*h.xlsx', "abcdefgh - errors.xlsx"),
    ("", "upload - errors.xlsx"),
    ("../..", "upload - errors.xlsx"),
    ("   .xlsx", "xlsx - errors.xlsx"),
    (".hidden.report.xlsx", "hidden.report - errors.xlsx"),
])
def test_the_attachment_is_named_from_a_safe_version_of_the_senders_file_name(sent, expected):
    errors = [{"rule": "r", "message": "m", "column": None, "rows": []}]
    name, _ = answer_attachment(sent, ks2.FORMAT, b"x", errors, [])
    assert name == expected


def test_a_long_file_name_is_cut_to_80_characters():
    assert safe_stem("a" * 300 + ".xlsx") == "a" * 80
    name, _ = answer_attachment("b" * 300 + ".csv", ks2.FORMAT, b"x",
                                [{"rule": "r", "message": "m", "column": None, "rows": []}], [])
    assert name == "b" * 80 + " - errors.xlsx"


def test_the_attachment_is_the_annotated_workbook_for_excel_and_a_list_for_other_formats(invalid):
    data, result = invalid
    errors, warnings = _findings(result)
    name, annotated = answer_attachment("KS1 results.xlsx", ks1.FORMAT, data, errors, warnings)
    assert name == "KS1 results - errors.xlsx"
    assert _open(annotated).sheetnames == ["KS1 results", "Errors"]
    _, listed = answer_attachment("KS1 results.csv", ks2.FORMAT, b"csv", errors, warnings)
    assert _open(listed).sheetnames == ["Errors"]
    assert answer_attachment("a.xlsx", ks1.FORMAT, data, [], []) is None
    assert answer_attachment("a.xlsx", ks1.FORMAT, None, errors, []) is None
    assert answer_attachment("a.xlsx", None, data, errors, []) is None
    assert answer_attachment("a.xlsx", ks1.FORMAT, data, [], errors) is not None  # warnings only
