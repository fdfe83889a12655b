"""The KS1 results template: header, identifiers, TA codes and scaled scores (KS1 seed)."""
from __future__ import annotations

from datetime import date
from typing import Any

from config.codes import codes
from workers.validators.findings import Findings
from workers.validators.pupil import check_identity, template_result, template_rows
from workers.validators.result import PupilRecord, ValidationContext, ValidationResult
from workers.validators.rules import (
    cell_text, dfe_is_valid, whole_number,
)
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

    ks1 = codes()["ks1"]
    ta_codes, science_codes = ks1["ta_codes"], ks1["science_codes"]
    low, high = ks1["scaled_score_min"], ks1["scaled_score_max"]
    ta_message = f"Teacher assessment must be one of {', '.join(ta_codes)}. Allows empty field."
    science_message = f"Science teacher assessment must be one of {', '.join(science_codes)}. Allows empty field."
    score_message = f"Range must be between {low} to {high} and be whole numbers. Allows empty field."

    records: list[PupilRecord] = []
    dfe_rows: dict[str, list[int]] = {}
    upn_rows: dict[str, list[int]] = {}

    for index, cells, text in template_rows(rows, HEADER):

        dfe = text["School DFE"]
        if dfe_is_valid(dfe):
            dfe_rows.setdefault(dfe, []).append(index)
        else:
            errors.add("dfe-invalid", "Invalid DFE detected.", "School DFE", index)

        upn, gender, dob = check_identity(text, cells, index, today, errors, upn_rows)

        nc_year = whole_number(text["NC Year"].upper().removeprefix("Y").removeprefix("EAR").strip())
        if nc_year != ks1["nc_year"]:
            errors.add("nc-year", f"NC Year must be {ks1['nc_year']}.", "NC Year", index)

        results: dict[str, Any] = {}
        for column, key in TA_COLUMNS.items():
            value = text[column].upper()
            if value and value not in ta_codes:
                errors.add("ta-code", ta_message, column, index)
            results[key] = value or None
        column, key = SCIENCE_COLUMN
        value = text[column].upper()
        if value and value not in science_codes:
            errors.add("science-code", science_message, column, index)
        results[key] = value or None
        for column, key in SCORE_COLUMNS.items():
            if not text[column]:
                results[key] = None
                continue
            score = whole_number(cells[column])
            if score is None or not low <= score <= high:
                errors.add("scaled-score", score_message, column, index)
            results[key] = score

        if all(v is None for v in results.values()):
            warnings.add("no-results", "No results entered for this pupil; the pupil will not be "
                         "counted in reports.", "UPN", index)
        records.append(PupilRecord(index, upn, text["Forename"], text["Surname"], gender, dob,
                                   nc_year, results))

    # Only pupils on the school's template are processed (KS1 seed); others are warned about.
    return template_result(
        FORMAT, records, upn_rows, dfe_rows, errors, warnings, context, keep_unknown=False,
        message="Pupil is not in the school's template (not on roll at the census date) and will "
        "not be processed.",
        missing_message="{missing} pupil(s) in the school's template are not in this file. A new "
        "file replaces the previous one, so include every pupil.")
