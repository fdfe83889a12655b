"""The KS4 results templates, GCSE and non-GCSE: identifiers, KS2 prior scores and grades (KS4 seed).

Each template is its own stream. The subject columns and their grade sets come from
``config/ks4_qualifications.toml``; schools must not add, delete, rename or re-order them.
"""
from __future__ import annotations

import re
import tomllib
from datetime import date
from functools import lru_cache
from typing import Any

from config.settings import PACKAGE_DIR
from workers.validators.findings import Findings
from workers.validators.pupil import check_identity, template_result, template_rows
from workers.validators.ks1 import column_letter
from workers.validators.result import PupilRecord, ValidationContext, ValidationResult
from workers.validators.rules import (
    cell_text, dfe_is_valid, whole_number,
)
from workers.validators.workbook import Row, is_blank_row

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

    config = ks4_config()
    columns = header(kind)
    subjects = [(q["column"], q["key"], grade_set(q["grades"])) for q in qualifications(kind)]
    low, high = config["ks2_scaled_score_min"], config["ks2_scaled_score_max"]
    score_message = f"Range must be between {low} to {high} and be whole numbers. Allows empty field."

    records: list[PupilRecord] = []
    dfe_rows: dict[str, list[int]] = {}
    upn_rows: dict[str, list[int]] = {}

    for index, cells, text in template_rows(rows, columns):

        if not text["Organisation"]:
            errors.add("organisation-missing", "Organisation must have a value.", "Organisation", index)

        dfe = text["School DFE"]
        if dfe_is_valid(dfe):
            dfe_rows.setdefault(dfe, []).append(index)
        else:
            errors.add("dfe-invalid", "Invalid DFE detected.", "School DFE", index)

        key_stage = whole_number(text["Key stage"].upper().removeprefix("KEY STAGE")
                                 .removeprefix("KS").strip())
        if key_stage != config["key_stage"]:
            errors.add("key-stage", f"Key stage must be {config['key_stage']}.", "Key stage", index)

        year = whole_number(text["Year"].upper().removeprefix("Y").removeprefix("EAR").strip())
        if year != config["year"]:
            errors.add("year", f"Year must be {config['year']}.", "Year", index)

        upn, gender, dob = check_identity(text, cells, index, today, errors, upn_rows)

        results: dict[str, Any] = {}
        for column, key in KS2_COLUMNS.items():
            if not text[column]:
                results[key] = None
                continue
            score = whole_number(cells[column])
            if score is None or not low <= score <= high:
                errors.add("ks2-scaled-score", score_message, column, index)
            results[key] = score

        grades_entered = 0
        for column, key, grades in subjects:
            value = text[column].upper()
            if not value:  # blank: not entered
                continue
            grades_entered += 1
            broken = grade_problem(value, grades)
            if broken:
                errors.add(broken[0], broken[1], column, index)
            results[key] = value

        if not grades_entered:
            warnings.add("no-results", f"No grades entered for this pupil in the "
                         f"{TEMPLATE_NAMES[kind]} template.", "UPN", index)
        records.append(PupilRecord(index, upn, text["Forename"], text["Surname"], gender, dob,
                                   year, results))

    # Schools may add pupils to a KS4 template (KS4 seed): they are processed, with a warning.
    return template_result(
        kind, records, upn_rows, dfe_rows, errors, warnings, context, keep_unknown=True,
        message="Pupil was added to the school's template; they will be processed, so please "
        "check the UPN is correct.",
        missing_message="{missing} pupil(s) in the school's template are not in this file and will "
        "not be in reports. A new file replaces the previous one, so include every pupil.")
