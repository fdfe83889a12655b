"""Template rows checked a column at a time (workers/validators/pupil.py), as the KS1 and KS4
validators do: the same pupils, values and findings as checking row by row, the way the seeds
describe the checks (``template_rows`` and ``check_identity`` below)."""
from datetime import date, datetime

from workers.validators import ks4
from workers.validators.findings import ColumnFindings, Findings
from workers.validators.pupil import (
    DOB_MESSAGE, GENDER_MESSAGE, check_column, check_identity_columns, check_upn, template_columns,
)
from workers.validators.rules import cell_text, name_problem, parse_date
from workers.validators.workbook import is_blank_row
from config.codes import gender_code
from intake.demo_world import make_upn

TODAY = date(2026, 7, 1)
COLUMNS = ["UPN", "Forename", "Surname", "Gender", "Date of birth"]


def upn(serial: int) -> str:
    return make_upn("8012001", 15, serial)


def template_rows(rows, columns):
    """Each pupil row under the header as (spreadsheet row, cells, their text), row by row."""
    width = len(columns)
    for index, raw in enumerate(rows[1:], start=2):
        row = list(raw[:width])
        if is_blank_row(row):
            continue
        row += [""] * (width - len(row))
        yield index, dict(zip(columns, row)), dict(zip(columns, map(cell_text, row)))


def check_identity(text, cells, row, today, errors, upn_rows):
    """UPN, names, gender and date of birth of one row; returns (upn, gender, dob)."""
    upn = text["UPN"].upper()
    check_upn(upn, "UPN", row, errors, upn_rows)
    for column in ("Forename", "Surname"):
        problem = name_problem(column, text[column])
        if problem:
            errors.add(*problem, column, row)
    gender = gender_code(text["Gender"])
    if gender is None:
        errors.add("gender", GENDER_MESSAGE, "Gender", row)
    dob = parse_date(cells["Date of birth"])
    if dob is None or dob >= today:
        errors.add("dob", DOB_MESSAGE, "Date of birth", row)
    return upn, gender, dob


def as_columns(rows, width):
    """template_rows' cells, turned into columns, to compare with template_columns."""
    picked = list(template_rows(rows, [str(n) for n in range(width)]))
    numbers = [number for number, _, _ in picked]
    cells = [list(cells.values()) for _, cells, _ in picked]
    return numbers, [list(column) for column in zip(*cells)] if cells else [[] for _ in range(width)]


def test_template_columns_are_template_rows_turned_into_columns():
    header = ["a", "b", "c"]
    cases = [
        [header, ["x", 1, 2], ["y", 3, 4]],                            # every row full
        [header, ["x", 1, 2], [], [None, " ", ""], ["y", 3]],          # blank and short rows
        [header, ["x", 1, 2, "note"], [None, None, None, "note"]],     # a note beyond the header
        [header, [" ", 1, 2], ["x", None, 2], ["x", 1, "\t"]],         # no column filled on every row
        [header],
    ]
    for rows in cases:
        numbers, columns = template_columns(rows, 3)
        assert (numbers, [list(c) for c in columns]) == as_columns(rows, 3), rows


def test_check_column_works_a_rule_out_once_per_distinct_cell_and_reports_each_row():
    asked = []

    def rule(cell):
        asked.append(cell)
        text = cell_text(cell)
        return text, None if text == "ok" else ("bad", "Must be ok.")

    found, findings = ColumnFindings(), Findings()
    values = check_column([2, 3, 5, 6], ["ok", "no", "ok", "no"], "Column", rule, found)
    found.hand_to(findings)
    assert values == ["ok", "no", "ok", "no"] and sorted(asked) == ["no", "ok"]
    assert [(f.rule, f.rows) for f in findings.grouped()] == [("bad", [3, 6])]


def test_check_column_tells_true_from_1_though_they_are_equal():
    found = ColumnFindings()
    values = check_column([2, 3, 4], [1, True, 1.0], "Column", lambda c: (cell_text(c), None), found)
    assert values == ["1", "TRUE", "1"]


def test_check_identity_columns_finds_what_check_identity_finds_row_by_row():
    rows = [
        [upn(1), "Amara", "Ahmed", "Female", date(2010, 3, 14)],
        [upn(2).lower(), " ", "Li", "X", "31/02/2010"],
        [upn(1), "Ben", None, "m", datetime(2010, 3, 14, 10, 30)],
        ["Q207000016049", "Zoe", "Smith", True, TODAY],
        [None, 1, 1.0, "Girl", "14/03/2010"],
    ]
    by_row, row_upns = Findings(), {}
    expected = []
    for number, cells, text in template_rows([COLUMNS, *rows], COLUMNS):
        found_upn, gender, dob = check_identity(text, cells, number, TODAY, by_row, row_upns)
        expected.append((found_upn, text["Forename"], text["Surname"], gender, dob))

    numbers, columns = template_columns([COLUMNS, *rows], len(COLUMNS))
    found, by_column, column_upns = ColumnFindings(), Findings(), {}
    identity = check_identity_columns(numbers, dict(zip(COLUMNS, columns)), TODAY, found,
                                      column_upns)
    found.hand_to(by_column)
    assert [tuple(values) for values in zip(*identity)] == expected
    assert by_column.grouped() == by_row.grouped()
    assert list(column_upns.items()) == list(row_upns.items())


def test_a_ks4_pupils_results_are_the_ks2_scores_then_the_grades_entered_in_column_order():
    columns = ks4.header(ks4.GCSE)
    first = ["Academy", "8012001", 4, 11, upn(1), "Amara", "Ahmed", "Female", date(2010, 3, 14),
             None, 99] + [""] * (len(columns) - 11)
    second, third = list(first), list(first)
    second[4], third[4] = upn(2), upn(3)
    first[columns.index("GCSE History")] = "u"
    first[columns.index("GCSE Mathematics")] = 7
    second[columns.index("GCSE English Language")] = 1
    result = ks4.validate([columns, first, second, third], today=TODAY, kind=ks4.GCSE)
    assert result.errors == []
    assert [list(p.results.items()) for p in result.pupils] == [
        [("ks2_reading", None), ("ks2_maths", 99), ("mathematics", "7"), ("history", "U")],
        [("ks2_reading", None), ("ks2_maths", 99), ("english_language", "1")],
        [("ks2_reading", None), ("ks2_maths", 99)],
    ]
    assert [(w.rule, w.rows) for w in result.warnings] == [("no-results", [4])]


def test_true_and_1_in_one_ks4_grade_column_are_told_apart():
    columns = ks4.header(ks4.GCSE)
    rows = [columns]
    for serial, grade in enumerate([1, True, 1.0], start=1):
        row = ["Academy", "8012001", 4, 11, upn(serial), "Amara", "Ahmed", "Female",
               date(2010, 3, 14), 104, 99] + [""] * (len(columns) - 11)
        row[columns.index("GCSE Mathematics")] = grade
        rows.append(row)
    result = ks4.validate(rows, today=TODAY, kind=ks4.GCSE)
    assert [(e.rule, e.column, e.rows) for e in result.errors] == [
        ("grade", "GCSE Mathematics", [3])]
