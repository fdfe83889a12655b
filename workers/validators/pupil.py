"""Checks every format makes of a pupil: identity on a row, and whether the school's roster has them."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date
from functools import lru_cache
from operator import attrgetter
from typing import Any

from config.codes import gender_code
from workers.validators.findings import Findings, RowFindings
from workers.validators.result import PupilRecord, ValidationContext, ValidationResult
from workers.validators.rules import UPN_FORMAT_MESSAGE, cell_text, parse_date, upn_problem
from workers.validators.workbook import Row, is_blank_row


UPN_MESSAGES = {
    "upn-missing": "UPN must have a value.",
    "upn-format": UPN_FORMAT_MESSAGE,
    "upn-check-letter": "UPN check letter is not correct: please copy the UPN from your MIS.",
}


def template_rows(rows: Sequence[Row], columns: Sequence[str]
                  ) -> Iterator[tuple[int, dict[str, Any], dict[str, str]]]:
    """Each pupil row under the header as (spreadsheet row, cells, their text): blank rows are
    skipped without shifting the numbers, and a stray note beyond the last column is no pupil."""
    width = len(columns)
    for index, raw in enumerate(rows[1:], start=2):
        row = list(raw[:width])
        if is_blank_row(row):
            continue
        row += [""] * (width - len(row))  # a short row's missing cells are blank
        yield index, dict(zip(columns, row)), dict(zip(columns, map(cell_text, row)))


# The gender spellings come from codes.toml, read once per process (config.codes.codes), and a
# file holds a handful of spellings: each is looked up once instead of on every row.
_gender_code = lru_cache(maxsize=256)(gender_code)


def check_upn(upn: str, column: str, row: int, errors: RowFindings,
              upn_rows: dict[str, list[int]] | None = None) -> bool:
    """Report a bad UPN in the same words in every format; a good one is recorded in ``upn_rows``."""
    problem = upn_problem(upn)
    if problem is not None:
        errors.add(problem, UPN_MESSAGES[problem], column, row)
        return False
    if upn_rows is not None:
        upn_rows.setdefault(upn, []).append(row)
    return True


def check_identity(text: dict[str, str], cells: dict[str, Any], row: int, today: date,
                   errors: Findings, upn_rows: dict[str, list[int]]) -> tuple[str, str | None, date | None]:
    """UPN, names, gender and date of birth of a template row; returns (upn, gender, dob).

    A valid UPN is recorded in ``upn_rows`` so duplicates can be reported with every row.
    """
    upn = text["UPN"].upper()
    check_upn(upn, "UPN", row, errors, upn_rows)
    for column in ("Forename", "Surname"):
        if not text[column]:
            errors.add("name-missing", f"{column} must have a value.", column, row)
    gender = _gender_code(text["Gender"])
    if gender is None:
        errors.add("gender", "Gender must be Male or Female.", "Gender", row)
    dob = parse_date(cells["Date of birth"])
    if dob is None or dob >= today:
        errors.add("dob", "Date of birth must be a valid date in the past, written DD/MM/YYYY.",
                   "Date of birth", row)
    return upn, gender, dob


def report_duplicates(upn_rows: dict[str, list[int]], errors: Findings, column: str = "UPN",
                      rule_text: str = "each pupil must have one row.") -> None:
    """Every row of a UPN that appears more than once, so the school sees all of them at once."""
    for rows in upn_rows.values():
        if len(rows) > 1:
            for row in rows:
                errors.add("upn-duplicate", f"UPN appears more than once in the file; {rule_text}",
                           column, row)


_UPN = attrgetter("upn")


def against_roster(records: list[PupilRecord], school: str | None, context: ValidationContext,
                   warnings: Findings, *, keep_unknown: bool, rule: str, message: str,
                   column: str = "UPN", missing_message: str | None = None,
                   upns: set[str] | None = None) -> list[PupilRecord]:
    """Warn about pupils the school's roster does not have, dropping them unless ``keep_unknown``,
    and (with ``missing_message``) about roster pupils the file leaves out. No roster: no checks.
    ``upns`` is the set of the records' UPNs, when the caller has it already."""
    roster = context.roster_for(school) if context.roster_for and school else None
    if roster is None:
        return records
    if upns is None:
        upns = set(map(_UPN, records))
    if all(map(roster.__contains__, upns)):  # the usual file: no pupil to warn about, at C speed
        kept = list(records)
    else:
        kept = []
        for record in records:
            if record.upn in roster or keep_unknown:
                kept.append(record)
            if record.upn not in roster:
                warnings.add(rule, message, column, record.row)
    missing = len(roster - upns)
    if missing and missing_message:
        warnings.add("pupils-missing", missing_message.format(missing=missing))
    return kept


def school_of_rows(dfe_rows: dict[str, list[int]], errors: Findings,
                   context: ValidationContext) -> str | None:
    """The school the file is for: the DfE number on most rows; every other row must match."""
    if not dfe_rows:
        return None
    school = Counter({dfe: len(rows) for dfe, rows in dfe_rows.items()}).most_common(1)[0][0]
    for dfe, rows in dfe_rows.items():
        if dfe != school:
            for row in rows:
                errors.add("dfe-mixed", f"Every row must be for the same school ({school}); "
                           "send one file per school.", "School DFE", row)
    if context.may_submit_for is not None and not context.may_submit_for(school):
        for row in dfe_rows[school]:
            errors.add("dfe-not-permitted", f"You are not registered to send results for school "
                       f"{school}. Please ask the school's data manager or trust administrator.",
                       "School DFE", row)
    return school


def template_result(fmt: str, records: list[PupilRecord], upn_rows: dict[str, list[int]],
                    dfe_rows: dict[str, list[int]], errors: Findings, warnings: Findings,
                    context: ValidationContext, *, keep_unknown: bool, message: str,
                    missing_message: str) -> ValidationResult:
    """The end every template format shares: duplicates, the school, the roster, no pupils."""
    report_duplicates(upn_rows, errors, "UPN")
    school = school_of_rows(dfe_rows, errors, context)
    pupils = against_roster(
        [r for r in records if r.upn in upn_rows], school, context, warnings,
        keep_unknown=keep_unknown, rule="pupil-not-in-template", message=message,
        missing_message=missing_message)
    if not records and not errors:
        errors.add("no-pupils", "The file has no pupil rows: please enter your pupils' results "
                   "below the header row.", None, None)
    return ValidationResult(fmt, school, [] if errors else pupils, errors.grouped(),
                            warnings.grouped())
