"""Workbooks we write: text from a submission is never stored as a formula."""
from __future__ import annotations

import io

import openpyxl

from reports.templates import ks1_template, ks1_workbook
from intake import demo_world as world
from workers.validators import ks1
from workers.validators.workbook import first_sheet_rows


def test_text_that_looks_like_a_formula_is_written_as_plain_text():
    data = ks1_workbook([['=HYPERLINK("http://evil.example","x")', "=1+1", "-2+3"]])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [sheet.cell(2, c).data_type for c in (1, 2, 3)] == ["s", "s", "s"]
    assert first_sheet_rows(data, 10)[1][:2] == ['=HYPERLINK("http://evil.example","x")', "=1+1"]


def test_a_prefilled_template_lists_the_roster_and_validates_once_results_are_added():
    pupils = [p for p in world.rosters() if p.dfe == "8012001"]
    rows = first_sheet_rows(ks1_template("8012001", pupils), 100)
    assert rows[0] == ks1.HEADER and len(rows) == 1 + len(pupils)
    filled = [row[:7] + ["EXS", "EXS", "WTS", "EXS", 100, 101, ""] for row in rows[1:]]
    result = ks1.validate(first_sheet_rows(ks1_workbook(filled), 100))
    assert result.valid and len(result.pupils) == len(pupils)
