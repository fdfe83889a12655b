"""The KS1 results template: header, identifiers, TA codes and scaled scores (KS1 seed)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache, partial
from typing import Any

from config.codes import codes
from workers.validators.findings import ColumnFindings, Findings
from workers.validators.pupil import (
    Verdict, check_column, check_identity_columns, rows_of_each_school, scaled_score_rule, school_dfe,
    template_columns, template_result, year_group,
)
from workers.validators.result import PupilRecord, ValidationContext, ValidationResult
from workers.validators.rules import cell_text
from workers.validators.workbook import Row, column_letter, is_blank_row

FORMAT = "ks1-template"

HEADER = [
    "School DFE", "UPN", "Forename", "Surname", "Gender", "Date of birth", "NC Year",
    "Teacher Assessment: KS1 Reading", "Teacher Assessment: KS1 Writing",
    "Teacher Assessment: KS1 Maths", "Teacher Assessment: KS1 Science",
    "Scaled Score: KS1 Reading", "Scaled Score: KS1 Maths", "Scaled Score: KS1 GPS",
]
TA_COLUMNS = {  # column -> result key
    "Teacher Assessment: KS1 Reading": "ta_reading",
    "Teacher Assessment: KS1 Writing": "ta_writing",
    "Teacher Assessment: KS1 Maths": "ta_maths",
}
SCIENCE_COLUMN = ("Teacher Assessment: KS1 Science", "ta_science")
SCORE_COLUMNS = {
    "Scaled Score: KS1 Reading": "ss_reading",
    "Scaled Score: KS1 Maths": "ss_maths",
    "Scaled Score: KS1 GPS": "ss_gps",
}
RESULT_COLUMNS = {**TA_COLUMNS, SCIENCE_COLUMN[0]: SCIENCE_COLUMN[1], **SCORE_COLUMNS}  # in order


def header_problem(header: Row) -> str | None:
    """The first column that differs from the template's header row, said plainly."""
    cells = [cell_text(c) for c in header]
    for index, expected in enumerate(HEADER):
        found = cells[index] if index < len(cells) else ""
        if found != expected:
            shown = f"'{found}'" if found else "empty"
            return (f"The header row must not be changed: column {column_letter(index)} should be "
                    f"'{expected}' but is {shown}. Please use the template the service provides.")
    extra = [c for c in cells[len(HEADER):] if c]
    if extra:
        return (f"The header row must not be changed: column '{extra[0]}' was added after "
                f"'{HEADER[-1]}'. Please remove it.")
    return None


def validate(rows: list[Row], context: ValidationContext | None = None,
             today: date | None = None) -> ValidationResult:
    """Check a KS1 template's rows a column at a time, each rule once per distinct cell: the
    report is the one checking row by row gives (``ColumnFindings``), at a fraction of its cost."""
    context = context or ValidationContext()
    today = today or date.today()
    errors, warnings = Findings(), Findings()
    if not rows or is_blank_row(rows[0]):
        errors.add("header", "The first row must be the template's header row "
                   f"({', '.join(HEADER[:3])}, ...).", None, 1)
        return ValidationResult(FORMAT, None, [], errors.grouped())
    problem = header_problem(rows[0])
    if problem:
        errors.add("header", problem, None, 1)
        return ValidationResult(FORMAT, None, [], errors.grouped())

    numbers, cells = template_columns(rows, len(HEADER))
    columns = dict(zip(HEADER, cells))
    found = ColumnFindings()
    rules = _rules()
    # The columns are checked in the order one row's findings are reported in.
    dfes = check_column(numbers, columns["School DFE"], "School DFE", school_dfe, found)
    upn_rows: dict[str, list[int]] = {}
    upns, forenames, surnames, genders, dobs = check_identity_columns(
        numbers, columns, today, found, upn_rows)
    nc_years = check_column(numbers, columns["NC Year"], "NC Year", rules["NC Year"], found)
    results = {key: check_column(numbers, columns[column], column, rules[column], found)
               for column, key in RESULT_COLUMNS.items()}
    found.hand_to(errors)

    by_row = list(zip(*results.values()))
    for row, values in zip(numbers, by_row):
        if values.count(None) == len(values):
            warnings.add("no-results", "No results entered for this pupil; the pupil will not be "
                         "counted in reports.", "UPN", row)
    records = list(map(PupilRecord, numbers, upns, forenames, surnames, genders, dobs, nc_years,
                       [dict(zip(results, values)) for values in by_row]))

    # Only pupils on the school's template are processed (KS1 seed); others are warned about.
    return template_result(
        FORMAT, records, upn_rows, rows_of_each_school(numbers, dfes), errors, warnings, context,
        keep_unknown=False,
        message="Pupil is not in the school's template (not on roll at the census date) and will "
        "not be processed.",
        missing_message="{missing} pupil(s) in the school's template are not in this file. A new "
        "file replaces the previous one, so include every pupil.")


@lru_cache(maxsize=1)
def _rules() -> dict[str, Callable[[Any], Verdict]]:
    """The rule of the NC Year column and of each result column, under codes.toml."""
    ks1 = codes()["ks1"]
    ta_codes, science_codes = ks1["ta_codes"], ks1["science_codes"]
    low, high = ks1["scaled_score_min"], ks1["scaled_score_max"]
    ta = partial(_code, ta_codes, "ta-code",
                 f"Teacher assessment must be one of {', '.join(ta_codes)}. Allows empty field.")
    science = partial(_code, science_codes, "science-code", "Science teacher assessment must be "
                      f"one of {', '.join(science_codes)}. Allows empty field.")
    score = scaled_score_rule(low, high, "scaled-score")
    nc_year = partial(year_group, ks1["nc_year"], "nc-year", "NC Year")
    return {"NC Year": nc_year, **dict.fromkeys(TA_COLUMNS, ta), SCIENCE_COLUMN[0]: science,
            **dict.fromkeys(SCORE_COLUMNS, score)}


def _code(allowed: list[str], rule: str, message: str, cell: object) -> Verdict:
    """A teacher assessment code in capitals, or None for a blank cell."""
    value = cell_text(cell).upper()
    return value or None, (rule, message) if value and value not in allowed else None
