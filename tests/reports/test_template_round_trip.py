"""The templates schools download (reports/templates.py, reports/ks4_templates.py): pre-filled from
the roster, filled in the way a person would in Excel, then read and validated like a submission."""
from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime

import openpyxl
import pytest

from config.codes import codes
from config.settings import Limits
from intake import demo_world as world
from reports.ks4_templates import ks4_template
from reports.templates import GUIDANCE_SHEET, LIST_SHEET, ks1_template, template_for
from workers.detect import detect
from workers.validators import ks1, ks4
from workers.validators.workbook import first_sheet_rows

DFE = "8012001"
SCHOOL = "Acorn Primary School"
FORMATS = ["ks1-template", ks4.GCSE, ks4.NON_GCSE]


def roster():
    return [p for p in world.rosters() if p.dfe == DFE]


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def save(workbook: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def header_of(fmt: str) -> list[str]:
    return ks1.HEADER if fmt == "ks1-template" else ks4.header(fmt)


def validate(fmt: str, data: bytes):
    rows = first_sheet_rows(data, 20_000)
    return ks1.validate(rows) if fmt == "ks1-template" else ks4.validate(rows, kind=fmt)


def as_typed(value: str) -> object:
    """What Excel stores when a person types the value: digits become a number."""
    return int(value) if value.isdigit() else value


def drop_downs(sheet) -> dict[str, object]:
    """Column letter -> the data validation over that column's data cells."""
    found = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            assert cell_range.min_col == cell_range.max_col and cell_range.min_row == 2
            found[openpyxl.utils.get_column_letter(cell_range.min_col)] = validation
    return found


def list_values(workbook: openpyxl.Workbook, validation) -> list[str]:
    """The choices of a list validation, inline ("A,B") or a range on the hidden Lists sheet."""
    assert validation.type == "list"
    formula = validation.formula1
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    match = re.fullmatch(r"(\w+)!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", formula)
    assert match, formula
    sheet_name, first_col, first_row, last_col, last_row = match.groups()
    assert sheet_name == LIST_SHEET and first_col == last_col
    lists = workbook[sheet_name]
    return [str(lists[f"{first_col}{row}"].value) for row in range(int(first_row), int(last_row) + 1)]


def letter_of(fmt: str, column: str) -> str:
    return openpyxl.utils.get_column_letter(header_of(fmt).index(column) + 1)


# --- round trips -------------------------------------------------------------------------------

def test_a_ks1_template_filled_in_with_valid_codes_validates_clean_with_every_pupil():
    pupils = roster()
    workbook = load(ks1_template(DFE, pupils))
    sheet = workbook.worksheets[0]
    ta, science = codes()["ks1"]["ta_codes"], codes()["ks1"]["science_codes"]
    for n, row in enumerate(range(2, 2 + len(pupils))):
        for column in ks1.TA_COLUMNS:
            sheet[f"{letter_of('ks1-template', column)}{row}"] = ta[n % len(ta)]
        sheet[f"{letter_of('ks1-template', ks1.SCIENCE_COLUMN[0])}{row}"] = science[n % len(science)]
        for offset, column in enumerate(ks1.SCORE_COLUMNS):
            sheet[f"{letter_of('ks1-template', column)}{row}"] = 85 + (n + offset) % 31
    result = ks1.validate(first_sheet_rows(save(workbook), 1000))
    assert result.errors == [] and result.school == DFE
    assert [p.upn for p in result.pupils] == [p.upn for p in pupils]
    assert [p.dob for p in result.pupils] == [p.dob for p in pupils]
    assert result.warnings == []


@pytest.mark.parametrize("kind", [ks4.GCSE, ks4.NON_GCSE])
def test_a_ks4_template_filled_in_with_valid_grades_validates_clean_with_every_pupil(kind):
    pupils = roster()
    workbook = load(ks4_template(kind, DFE, SCHOOL, pupils))
    sheet = workbook.worksheets[0]
    columns = ks4.header(kind)
    for n, row in enumerate(range(2, 2 + len(pupils))):
        sheet.cell(row, columns.index("KS2 Reading scaled score") + 1, 80 + n % 41)
        sheet.cell(row, columns.index("KS2 Maths scaled score") + 1, 120 - n % 41)
        for q_index, qualification in enumerate(ks4.qualifications(kind)):
            if (n + q_index) % 3:  # not every pupil takes every subject
                continue
            grades = ks4.grade_set(qualification["grades"])["grades"]
            sheet.cell(row, columns.index(qualification["column"]) + 1,
                       as_typed(grades[(n + q_index) % len(grades)]))
    data = save(workbook)
    assert detect(data, Limits()).format == kind
    result = ks4.validate(first_sheet_rows(data, 1000), kind=kind)
    assert result.errors == [] and result.school == DFE
    assert [p.upn for p in result.pupils] == [p.upn for p in pupils]
    assert all(p.nc_year == 11 for p in result.pupils)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_blank_template_has_the_accepted_header_and_no_pupils(fmt):
    data = template_for(fmt, None, None, [])
    assert first_sheet_rows(data, 1000) == [header_of(fmt)]
    assert detect(data, Limits()).format == fmt
    assert [f.rule for f in validate(fmt, data).errors] == ["no-pupils"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_blank_template_with_a_pupil_typed_in_validates_clean(fmt):
    pupil = roster()[0]
    workbook = load(template_for(fmt, DFE, SCHOOL, []))
    sheet = workbook.worksheets[0]
    typed = {"School DFE": DFE, "UPN": pupil.upn, "Forename": pupil.forename,
             "Surname": pupil.surname, "Gender": "Female", "Organisation": SCHOOL,
             "Date of birth": datetime.combine(pupil.dob, datetime.min.time()),
             "NC Year": 2, "Key stage": 4, "Year": 11,
             "Teacher Assessment: KS1 Reading": "EXS", "GCSE Mathematics": 5,
             "BTEC Tech Award Sport": "L2M"}
    for index, column in enumerate(header_of(fmt), start=1):
        if column in typed:
            sheet.cell(2, index, typed[column])
    result = validate(fmt, save(workbook))
    assert result.errors == [] and [p.upn for p in result.pupils] == [pupil.upn]


# --- the workbook ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_the_data_sheet_comes_first_with_the_guidance_second_and_any_lists_hidden(fmt):
    workbook = load(template_for(fmt, DFE, SCHOOL, roster()))
    assert workbook.sheetnames[1] == GUIDANCE_SHEET
    assert workbook.worksheets[0].sheet_state == "visible" and workbook.active.title == workbook.sheetnames[0]
    for sheet in workbook.worksheets[2:]:
        assert sheet.title == LIST_SHEET and sheet.sheet_state == "hidden"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_header_row_is_bold_frozen_and_locked_and_the_cells_below_it_are_not(fmt):
    pupils = roster()
    workbook = load(template_for(fmt, DFE, SCHOOL, pupils))
    sheet = workbook.worksheets[0]
    header = header_of(fmt)
    assert [c.value for c in sheet[1]] == header
    assert all(c.font.bold and c.protection.locked for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.protection.sheet
    protection = sheet.protection  # False = allowed on a protected sheet
    assert not (protection.insertRows or protection.deleteRows or protection.formatCells
                or protection.sort)
    assert protection.insertColumns and protection.deleteColumns
    for row in sheet.iter_rows(min_row=2, max_row=1 + len(pupils)):
        assert all(not cell.protection.locked for cell in row if cell.value is not None)
    for index in range(1, len(header) + 2):  # cells not yet typed in take the column's style
        dimension = sheet.column_dimensions[openpyxl.utils.get_column_letter(index)]
        assert dimension.protection.locked is False


@pytest.mark.parametrize("fmt", FORMATS)
def test_dates_of_birth_are_real_dates_shown_dd_mm_yyyy(fmt):
    pupils = roster()
    sheet = load(template_for(fmt, DFE, SCHOOL, pupils)).worksheets[0]
    letter = letter_of(fmt, "Date of birth")
    assert sheet.column_dimensions[letter].number_format == "DD/MM/YYYY"
    cells = [sheet[f"{letter}{row}"] for row in range(2, 2 + len(pupils))]
    assert all(c.number_format == "DD/MM/YYYY" and c.is_date for c in cells)
    assert [c.value.date() for c in cells] == [p.dob for p in pupils]


def test_ks1_code_columns_have_drop_downs_matching_the_code_lists():
    workbook = load(ks1_template(DFE, roster()))
    sheet = workbook.worksheets[0]
    found = drop_downs(sheet)
    ks1_codes = codes()["ks1"]
    expected = {column: ks1_codes["ta_codes"] for column in ks1.TA_COLUMNS}
    expected |= {ks1.SCIENCE_COLUMN[0]: ks1_codes["science_codes"], "Gender": ["Male", "Female"],
                 "NC Year": ["2"]}
    for column, values in expected.items():
        validation = found[letter_of("ks1-template", column)]
        assert list_values(workbook, validation) == values
        assert validation.allow_blank and validation.showErrorMessage
        assert min(r.max_row for r in validation.sqref.ranges) >= 1 + len(roster()) + 100
    assert found[letter_of("ks1-template", "Teacher Assessment: KS1 Reading")].error == (
        f"Teacher assessment must be one of {', '.join(ks1_codes['ta_codes'])}. Allows empty field.")
    for column in ks1.SCORE_COLUMNS:
        validation = found[letter_of("ks1-template", column)]
        assert (validation.type, validation.operator, validation.formula1, validation.formula2) == (
            "whole", "between", "85", "115")
        assert validation.error == ("Range must be between 85 to 115 and be whole numbers. "
                                    "Allows empty field.")


@pytest.mark.parametrize("kind", [ks4.GCSE, ks4.NON_GCSE])
def test_every_ks4_subject_column_has_a_drop_down_of_its_grade_set(kind):
    workbook = load(ks4_template(kind, DFE, SCHOOL, []))
    found = drop_downs(workbook.worksheets[0])
    for qualification in ks4.qualifications(kind):
        grades = ks4.grade_set(qualification["grades"])
        validation = found[letter_of(kind, qualification["column"])]
        assert list_values(workbook, validation) == grades["grades"], qualification["column"]
        assert validation.error == ks4.grade_message(grades)
        if grades.get("double_grade"):  # combined science: a range on the hidden sheet
            assert validation.formula1.startswith(f"{LIST_SHEET}!")
    for column in ks4.KS2_COLUMNS:
        validation = found[letter_of(kind, column)]
        assert (validation.type, validation.formula1, validation.formula2) == ("whole", "80", "120")
        assert validation.error == ("Range must be between 80 to 120 and be whole numbers. "
                                    "Allows empty field.")
    assert list_values(workbook, found[letter_of(kind, "Gender")]) == ["Male", "Female"]
    assert list_values(workbook, found[letter_of(kind, "Key stage")]) == ["4"]
    assert list_values(workbook, found[letter_of(kind, "Year")]) == ["11"]


def test_the_combined_science_drop_down_stores_double_grades_as_numbers_excel_compares_with():
    workbook = load(ks4_template(ks4.GCSE, DFE, SCHOOL, []))
    lists = workbook[LIST_SHEET]
    values = [c.value for c in lists["A"][1:]]
    assert 54 in values and "54" not in values and "U" in values


def test_the_ks1_guidance_lists_every_code_with_its_meaning_and_the_score_rule():
    guidance = load(ks1_template(DFE, roster()))[GUIDANCE_SHEET]
    rows = {row[0]: row[1:] for row in guidance.iter_rows(values_only=True)}
    ks1_codes = codes()["ks1"]
    for code in [*ks1_codes["ta_codes"], *ks1_codes["science_codes"]]:
        assert rows[code][0] == ks1_codes["descriptions"][code]
    text = " ".join(str(v) for row in guidance.iter_rows(values_only=True) for v in row if v)
    assert "Range must be between 85 to 115 and be whole numbers" in text
    assert DFE in text


@pytest.mark.parametrize("kind", [ks4.GCSE, ks4.NON_GCSE])
def test_the_ks4_guidance_lists_every_qualification_with_its_grades_and_the_column_rule(kind):
    guidance = load(ks4_template(kind, DFE, SCHOOL, roster()))[GUIDANCE_SHEET]
    rows = {row[0]: row[1:] for row in guidance.iter_rows(values_only=True)}
    for qualification in ks4.qualifications(kind):
        grades = ks4.grade_set(qualification["grades"])["grades"]
        assert rows[qualification["column"]][1] == ", ".join(grades)
    text = " ".join(str(v) for row in guidance.iter_rows(values_only=True) for v in row if v)
    assert "Do not add, delete, rename or re-order subject columns" in text
    assert ("highest first with no space or separator" in text) == (kind == ks4.GCSE)


# --- text safety and formats -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_a_name_that_looks_like_a_formula_is_written_as_text(fmt):
    pupils = roster()[:2]
    pupils = [replace(pupils[0], forename='=HYPERLINK("x")', surname="+44"),
              replace(pupils[1], forename="@SUM(A1)", surname="-2+3\x07")]
    data = template_for(fmt, DFE, '=cmd|" /C calc"!A0', pupils)
    sheet = load(data).worksheets[0]
    header = header_of(fmt)
    cells = [sheet.cell(row, header.index(name) + 1) for row in (2, 3)
             for name in ("Forename", "Surname")]
    assert all(cell.data_type == "s" for cell in cells)
    assert [c.value for c in cells] == ['=HYPERLINK("x")', "+44", "@SUM(A1)", "-2+3"]
    if fmt != "ks1-template":
        assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("=cmd")
    rows = first_sheet_rows(data, 100)
    assert rows[1][header.index("Forename")] == '=HYPERLINK("x")'


@pytest.mark.parametrize("fmt, where", [("ks2-csv", "DfE portal"), ("ctf-xml", "MIS")])
def test_formats_without_a_template_say_where_the_file_comes_from(fmt, where):
    with pytest.raises(ValueError, match=where):
        template_for(fmt, DFE, SCHOOL, roster())


def test_an_unknown_format_has_no_template():
    with pytest.raises(ValueError, match="ks1-template"):
        template_for("ks3-thing", DFE, SCHOOL, [])
