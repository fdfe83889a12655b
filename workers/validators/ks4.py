"""The KS4 results templates, GCSE and non-GCSE: identifiers, KS2 prior scores and grades (KS4 seed).

Each template is its own stream. The subject columns and their grade sets come from
``config/ks4_qualifications.toml``; schools must not add, delete, rename or re-order them.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache, partial
from itertools import compress
from typing import Any

from config.settings import PACKAGE_DIR
from workers.validators.findings import ColumnFindings, Findings
from workers.validators.pupil import (
    Verdict, check_column, check_identity_columns, rows_of_each_school, scaled_score_rule, school_dfe,
    template_columns, template_result, year_group,
)
from workers.validators.result import PupilRecord, ValidationContext, ValidationResult
from workers.validators.rules import cell_text, whole_number
from workers.validators.workbook import Row, column_letter, is_blank_row

GCSE = "ks4-gcse"
NON_GCSE = "ks4-non-gcse"
FORMATS = (GCSE, NON_GCSE)
CONFIG_LISTS = {GCSE: "gcse", NON_GCSE: "non_gcse"}
TEMPLATE_NAMES = {GCSE: "GCSE", NON_GCSE: "non-GCSE"}

FIXED_COLUMNS = [
    "Organisation", "School DFE", "Key stage", "Year", "UPN", "Forename", "Surname", "Gender",
    "Date of birth", "KS2 Reading scaled score", "KS2 Maths scaled score",
]
KS2_COLUMNS = {"KS2 Reading scaled score": "ks2_reading", "KS2 Maths scaled score": "ks2_maths"}

NOT_USED = ("F", "X")
NOT_USED_NOTE = " (F and X are not used: leave the cell blank for not entered, U for ungraded)."
SEPARATORS = re.compile(r"[\W_]+")  # spaces, dashes, slashes, dots ...
DOUBLE_SEPARATOR_MESSAGE = ("Combined Science is a double grade written highest first with no "
                            "separator, e.g. 54 (not 5-4, 5 4 or 4/3).")
DOUBLE_ORDER_MESSAGE = "Combined Science is a double grade written highest first, e.g. 54 (not 45)."


# --- configuration -----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def ks4_config() -> dict[str, Any]:
    return tomllib.loads((PACKAGE_DIR / "ks4_qualifications.toml").read_text(encoding="utf-8"))


def qualifications(kind: str) -> list[dict[str, Any]]:
    """The kind's qualifications in template column order (key, column, grades, ...)."""
    return ks4_config()[CONFIG_LISTS[kind]]


def grade_set(name: str) -> dict[str, Any]:
    """A grade set: ``grades`` (upper case), optional ``wording`` and ``double_grade``."""
    return ks4_config()["grade_sets"][name]


def header(kind: str) -> list[str]:
    """The whole header row of the kind's template: fixed columns, then subject columns."""
    return FIXED_COLUMNS + [q["column"] for q in qualifications(kind)]


# --- which template ----------------------------------------------------------------------------

def kind_of(header_row: Row) -> str | None:
    """GCSE or NON_GCSE for a header row that looks like a KS4 template, else None.

    Loose on purpose (case-insensitive, any order): a template with a renamed, moved or deleted
    column is still its kind, so the sender is told which column differs rather than that the
    file is not a template. It needs most of the fixed columns and more of one kind's subject
    columns than the other's.
    """
    cells = {cell_text(c).casefold() for c in header_row} - {""}
    fixed = sum(name.casefold() in cells for name in FIXED_COLUMNS)
    hits = {kind: sum(q["column"].casefold() in cells for q in qualifications(kind))
            for kind in FORMATS}
    if fixed < len(FIXED_COLUMNS) // 2 or hits[GCSE] == hits[NON_GCSE]:
        return None
    return max(FORMATS, key=hits.__getitem__)


def header_problem(header_row: Row, kind: str) -> str | None:
    """The first column that differs from the kind's header row, said plainly."""
    expected_header = header(kind)
    cells = [cell_text(c) for c in header_row]
    for index, expected in enumerate(expected_header):
        found = cells[index] if index < len(cells) else ""
        if found != expected:
            shown = f"'{found}'" if found else "empty"
            where = f"column {column_letter(index)} should be '{expected}' but is {shown}"
            if index < len(FIXED_COLUMNS):
                return (f"The header row must not be changed: {where}. "
                        f"Please use the {TEMPLATE_NAMES[kind]} template the service provides.")
            return (f"Subject columns must not be added, deleted, renamed or re-ordered: {where}. "
                    f"Please use the {TEMPLATE_NAMES[kind]} template the service provides.")
    extra = [c for c in cells[len(expected_header):] if c]
    if extra:
        return (f"Subject columns must not be added, deleted, renamed or re-ordered: column "
                f"'{extra[0]}' was added after '{expected_header[-1]}'. Please remove it.")
    return None


# --- grades ------------------------------------------------------------------------------------

def grade_message(grades: dict[str, Any]) -> str:
    wording = grades.get("wording")
    if not wording:
        *rest, last = grades["grades"]
        wording = f"{', '.join(rest)} or {last}" if rest else last
    return f"Grade must be {wording}, or blank if not entered."


def grade_problem(value: str, grades: dict[str, Any]) -> tuple[str, str] | None:
    """None for a grade in the set (upper case), else the rule it breaks and what to write instead."""
    if value in grades["grades"]:
        return None
    if grades.get("double_grade"):
        squeezed = SEPARATORS.sub("", value)
        if squeezed != value and len(squeezed) == 2 and squeezed.isascii() and squeezed.isdigit():
            return "double-grade-separator", DOUBLE_SEPARATOR_MESSAGE
        if len(value) == 2 and value[::-1] in grades["grades"]:
            return "double-grade-order", DOUBLE_ORDER_MESSAGE
    if value in NOT_USED:
        return "grade-not-used", grade_message(grades).removesuffix(".") + NOT_USED_NOTE
    return "grade", grade_message(grades)


# --- the template ------------------------------------------------------------------------------

def validate(rows: list[Row], context: ValidationContext | None = None, today: date | None = None,
             kind: str | None = None) -> ValidationResult:
    """Check a KS4 template's rows (``first_sheet_rows``) a column at a time: the report is the
    one checking row by row gives (see ``_Checker``), at a fraction of its cost."""
    context = context or ValidationContext()
    today = today or date.today()
    errors, warnings = Findings(), Findings()
    if rows and not is_blank_row(rows[0]):
        kind = kind or kind_of(rows[0])
    if kind is None or not rows or is_blank_row(rows[0]):
        errors.add("header", "The first row must be the header row of the GCSE or non-GCSE "
                   f"results template ({', '.join(FIXED_COLUMNS[:3])}, ...).", None, 1)
        return ValidationResult(kind or GCSE, None, [], errors.grouped())
    problem = header_problem(rows[0], kind)
    if problem:
        errors.add("header", problem, None, 1)
        return ValidationResult(kind, None, [], errors.grouped())

    columns = header(kind)
    numbers, cells = template_columns(rows, len(columns))
    checker = _Checker(numbers, dict(zip(columns, cells)))
    # The columns are checked in the order one row's findings are reported in.
    years, dfe_rows = checker.school_and_stage()
    upn_rows: dict[str, list[int]] = {}
    upns, forenames, surnames, genders, dobs = check_identity_columns(
        numbers, checker.cells, today, checker.found, upn_rows)
    results, without_grades = checker.results(kind)
    checker.found.hand_to(errors)
    for row in without_grades:
        warnings.add("no-results", f"No grades entered for this pupil in the "
                     f"{TEMPLATE_NAMES[kind]} template.", "UPN", row)
    records = list(map(PupilRecord, numbers, upns, forenames, surnames, genders, dobs, years,
                       results))

    # Schools may add pupils to a KS4 template (KS4 seed): they are processed, with a warning.
    return template_result(
        kind, records, upn_rows, dfe_rows, errors, warnings, context, keep_unknown=True,
        message="Pupil was added to the school's template; they will be processed, so please "
        "check the UPN is correct.",
        missing_message="{missing} pupil(s) in the school's template are not in this file and will "
        "not be in reports. A new file replaces the previous one, so include every pupil.")


class _Checker:
    """A template's pupil rows checked a column at a time, in the order the checks of one row are
    reported in (``check_column``: each rule once per distinct cell; ``ColumnFindings`` hands the
    findings on in row order), so the report is the one checking row by row gives.

    Most of a template is its subject columns, and most of their cells are blank (a pupil takes
    a few of the subjects): a column with no grade costs one C-speed pass, and each pupil's
    results are made from the grades entered only.
    """

    def __init__(self, rows: list[int], cells: dict[str, Sequence[Any]]):
        self.rows, self.cells = rows, cells
        self.found = ColumnFindings()
        self.config = ks4_config()

    def check(self, column: str, rule: Callable[[Any], Verdict]) -> list[Any]:
        """Each row's value of the column under ``rule``; what it finds is reported on the row."""
        return check_column(self.rows, self.cells[column], column, rule, self.found)

    def school_and_stage(self) -> tuple[list[int | None], dict[str, list[int]]]:
        """Organisation, School DFE, Key stage and Year: each row's year, and the rows of each
        valid DfE number in the order first met."""
        self.check("Organisation", _organisation)
        dfes = self.check("School DFE", school_dfe)
        self.check("Key stage", partial(_key_stage, self.config["key_stage"]))
        years = self.check("Year", partial(year_group, self.config["year"], "year", "Year"))
        return years, rows_of_each_school(self.rows, dfes)

    def results(self, kind: str) -> tuple[list[dict[str, Any]], list[int]]:
        """Each row's results (the KS2 scores, then the grades entered in column order, as the
        row loop made them) after checking the KS2 score and subject columns; and the rows with
        no grade."""
        low, high = self.config["ks2_scaled_score_min"], self.config["ks2_scaled_score_max"]
        score = scaled_score_rule(low, high, "ks2-scaled-score")
        scores = [self.check(column, score) for column in KS2_COLUMNS]
        keys: list[str] = []
        graded: list[Sequence[str]] = []  # the columns with a grade on some row
        for q in qualifications(kind):
            grades = self._grades(q["column"], grade_set(q["grades"]))
            if grades is not None:
                keys.append(q["key"])
                graded.append(grades)
        by_row = list(zip(*graded)) if graded else [()] * len(self.rows)
        results = list(map(partial(_row_results, keys), zip(*scores), by_row))
        return results, [row for row, grades in zip(self.rows, by_row) if not any(grades)]

    def _grades(self, column: str, grades: dict[str, Any]) -> list[str] | None:
        """Each row's grade in the column in capitals ('' for not entered), or None when no row
        has one; a grade not in the set is reported."""
        cells = self.cells[column]
        if _all_blank(cells):
            return None
        entered = self.check(column, partial(_grade, grades))
        return entered if any(entered) else None


NOT_ENTERED = frozenset({"", None})  # how a blank cell is read, nearly always


def _all_blank(cells: Sequence[Any]) -> bool:
    """Whether every cell is an empty one, found at C speed (other blank cells, such as spaces,
    are found blank by the column's check)."""
    try:
        return NOT_ENTERED.issuperset(cells)
    except TypeError:
        return False


def _row_results(keys: list[str], scores: tuple[int | None, ...],
                 grades: Sequence[str]) -> dict[str, Any]:
    """A pupil's results: the KS2 scores, then each grade entered with its subject's key."""
    results = dict(zip(KS2_COLUMNS.values(), scores))
    results.update(zip(compress(keys, grades), compress(grades, grades)))
    return results


# --- cell rules: a cell's value and what is wrong with it (see check_column) -------------------

def _organisation(cell: object) -> Verdict:
    if cell_text(cell):
        return None, None
    return None, ("organisation-missing", "Organisation must have a value.")


def _key_stage(expected: int, cell: object) -> Verdict:
    key_stage = whole_number(cell_text(cell).upper().removeprefix("KEY STAGE").removeprefix("KS")
                             .strip())
    if key_stage == expected:
        return key_stage, None
    return key_stage, ("key-stage", f"Key stage must be {expected}.")


def _grade(grades: dict[str, Any], cell: object) -> Verdict:
    """The grade in capitals ('' for a blank cell: not entered)."""
    value = cell_text(cell).upper()
    return value, (grade_problem(value, grades) if value else None)
