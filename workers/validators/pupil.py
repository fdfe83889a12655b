"""Checks every format makes of a pupil: identity on a row, and whether the school's roster has them."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache, partial
from operator import attrgetter
from typing import Any, TypeVar

from config.codes import gender_code
from workers.validators.findings import ColumnFindings, Findings, RowFindings
from workers.validators.result import PupilRecord, ValidationContext, ValidationResult
from workers.validators.rules import (
    UPN_FORMAT_MESSAGE, all_valid_upns, cell_text, dfe_is_valid, name_problem, parse_date,
    upn_problem, whole_number,
)
from workers.validators.workbook import Row, is_blank_row


UPN_MESSAGES = {
    "upn-missing": "UPN must have a value.",
    "upn-format": UPN_FORMAT_MESSAGE,
    "upn-check-letter": "UPN check letter is not correct: please copy the UPN from your MIS.",
}
GENDER_MESSAGE = "Gender must be Male or Female."
DOB_MESSAGE = "Date of birth must be a valid date in the past, written DD/MM/YYYY."


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


# --- the same checks a column at a time ---------------------------------------------------------
# A template's rows turned into columns (template_columns) are checked a column at a time: each
# rule once per distinct cell, as a column holds a handful of values (codes, grades, one school),
# and a column filled as expected costs a few C-speed passes rather than a Python call per cell.
# What is found goes to a ColumnFindings, which hands it on in the order the row loop finds it.

T = TypeVar("T")
Problem = tuple[str, str] | None  # (rule, message) when a cell is wrong
Verdict = tuple[Any, Problem]  # a cell rule's answer: the value to keep, and what is wrong
# Cell types whose equal cells are the same to every cell rule (the same text, whole_number and
# parse_date: 4 == 4.0 and both read "4"), so a rule can be worked out once per distinct cell.
# Not bool: True == 1, but reads "TRUE".
SAME_WHEN_EQUAL = frozenset({str, int, float, date, datetime, type(None)})


def template_columns(rows: Sequence[Row], width: int) -> tuple[list[int], list[Sequence[Any]]]:
    """A template's pupil rows as columns: the pupil rows' spreadsheet numbers, and the first
    ``width`` columns of the pupil rows (blank rows skipped without shifting the numbers, short
    rows padded blank, cells beyond ``width`` ignored: a stray note there is no pupil).

    Nearly every file has no blank or short row under its header: a column filled on every row
    shows there is no blank row, so the rows turn into columns at C speed (``zip``) with no test
    per row. Otherwise the rows are picked one by one.
    """
    columns = list(zip(*rows[1:]))[:width]  # as many columns as the shortest row has cells
    if len(columns) == width and any(map(_filled, columns)):
        return list(range(2, len(rows) + 1)), columns
    numbers: list[int] = []
    kept: list[Row] = []
    for number, raw in enumerate(rows[1:], start=2):
        row = list(raw[:width])
        if is_blank_row(row):
            continue
        row += [""] * (width - len(row))  # a short row's missing cells are blank
        numbers.append(number)
        kept.append(row)
    return numbers, list(zip(*kept)) if kept else [() for _ in range(width)]


def _filled(cells: Sequence[Any]) -> bool:
    """Whether no cell of the column is blank (as ``is_blank_row`` sees a cell), looked at once
    per distinct cell."""
    try:
        distinct = set(cells)
    except TypeError:  # a cell no workbook reader gives: leave the rows to the row-by-row picking
        return False
    return None not in distinct and not any(isinstance(cell, str) and not cell.strip()
                                            for cell in distinct)


def distinct_cells(cells: Sequence[Any]) -> set[Any] | None:
    """The column's distinct cells, when equal cells are the same to every rule
    (``SAME_WHEN_EQUAL``); None when they may not be (True and 1 in one column)."""
    try:
        distinct = set(cells)
    except TypeError:
        return None
    if all(type(cell) is str for cell in distinct):  # text equals nothing but text: no type test
        return distinct
    return distinct if set(map(type, cells)) <= SAME_WHEN_EQUAL else None


def by_distinct_cell(cells: Sequence[Any], rule: Callable[[Any], T]
                     ) -> tuple[Sequence[Any], dict[Any, T]]:
    """``rule`` of the column's cells as a table, and each row's key into it: the cells themselves,
    so that each distinct cell is worked out once, or, when equal cells may differ to a rule
    (``distinct_cells`` is None), the rows' positions, so that each cell is worked out."""
    distinct = distinct_cells(cells)
    if distinct is None:
        return range(len(cells)), dict(enumerate(map(rule, cells)))
    return cells, {cell: rule(cell) for cell in distinct}


def each_cell(cells: Sequence[Any], rule: Callable[[Any], T]) -> list[T]:
    """``rule`` of each cell, in row order (see ``by_distinct_cell``)."""
    keys, table = by_distinct_cell(cells, rule)
    return list(map(table.__getitem__, keys))


def check_column(rows: Sequence[int], cells: Sequence[Any], column: str,
                 rule: Callable[[Any], Verdict], found: ColumnFindings) -> list[Any]:
    """The value ``rule`` keeps of each row's cell; what it finds wrong is reported on the cell's
    row, as the next check of every row."""
    found.next_check()
    keys, verdicts = by_distinct_cell(cells, rule)
    wrong = {key: problem for key, (_, problem) in verdicts.items() if problem is not None}
    if wrong:
        for row, key in zip(rows, keys):
            if key in wrong:
                found.add(*wrong[key], column, row)
    values = {key: value for key, (value, _) in verdicts.items()}
    return list(map(values.__getitem__, keys))


def check_identity_columns(rows: Sequence[int], cells: dict[str, Sequence[Any]], today: date,
                           found: ColumnFindings, upn_rows: dict[str, list[int]]
                           ) -> tuple[Sequence[str], list[str], list[str], list[str | None],
                                      list[date | None]]:
    """Each row's UPN, forename, surname, gender and date of birth, from the template's columns
    by name; findings in the order checking each row in turn makes them."""
    upns = check_upn_column(rows, cells["UPN"], "UPN", found, upn_rows)
    forename = check_column(rows, cells["Forename"], "Forename", partial(_name, "Forename"), found)
    surname = check_column(rows, cells["Surname"], "Surname", partial(_name, "Surname"), found)
    gender = check_column(rows, cells["Gender"], "Gender", _gender, found)
    dob = check_column(rows, cells["Date of birth"], "Date of birth", partial(_dob, today), found)
    return upns, forename, surname, gender, dob


def check_upn_column(rows: Sequence[int], cells: Sequence[Any], column: str,
                     found: ColumnFindings, upn_rows: dict[str, list[int]]) -> Sequence[str]:
    """Each row's UPN in capitals, a bad one reported (``check_upn``) and a valid one recorded in
    ``upn_rows``.

    UPNs are all different, so they are not worth checking once per distinct cell; but in nearly
    every file each one is a valid UPN typed as text, which ``all_valid_upns`` finds for the
    whole column at once (such text is already in capitals, with no spaces).
    """
    found.next_check()
    if set(map(type, cells)) == {str} and all_valid_upns(cells):
        upns: Sequence[str] = cells
    else:
        upns = each_cell(cells, _upper_text)
        if not all_valid_upns(upns):
            for row, upn in zip(rows, upns):
                check_upn(upn, column, row, found, upn_rows)
            return upns
    for row, upn in zip(rows, upns):
        upn_rows.setdefault(upn, []).append(row)
    return upns


def _upper_text(cell: object) -> str:
    return cell_text(cell).upper()


def _name(column: str, cell: object) -> Verdict:
    text = cell_text(cell)
    return text, name_problem(column, text)


def _gender(cell: object) -> Verdict:
    gender = _gender_code(cell_text(cell))
    return gender, (None if gender is not None else ("gender", GENDER_MESSAGE))


def _dob(today: date, cell: object) -> Verdict:
    dob = parse_date(cell)
    if dob is None or dob >= today:
        return dob, ("dob", DOB_MESSAGE)
    return dob, None


def school_dfe(cell: object) -> Verdict:
    """The DfE number when it is valid (its rows say which school the file is for)."""
    dfe = cell_text(cell)
    return (dfe, None) if dfe_is_valid(dfe) else (None, ("dfe-invalid", "Invalid DFE detected."))


def rows_of_each_school(rows: Sequence[int], dfes: Sequence[str | None]) -> dict[str, list[int]]:
    """The rows of each valid DfE number (``school_dfe``), in the order first met."""
    if dfes and dfes[0] is not None and dfes.count(dfes[0]) == len(dfes):  # one school: C speed
        return {dfes[0]: list(rows)}
    found: dict[str, list[int]] = {}
    for row, dfe in zip(rows, dfes):
        if dfe is not None:
            found.setdefault(dfe, []).append(row)
    return found


def year_group(expected: int, rule: str, column: str, cell: object) -> Verdict:
    """The year group (kept even when wrong), written 2, "Y2" or "Year 2"."""
    year = whole_number(cell_text(cell).upper().removeprefix("Y").removeprefix("EAR").strip())
    return year, None if year == expected else (rule, f"{column} must be {expected}.")


def scaled_score_rule(low: int, high: int, rule: str) -> Callable[[object], Verdict]:
    """The rule of a scaled score column: ``low`` to ``high`` or blank, reported under ``rule``.
    The message is built here, once per file, not for every cell the rule checks."""
    message = f"Range must be between {low} to {high} and be whole numbers. Allows empty field."
    return partial(_scaled_score, low, high, rule, message)


def _scaled_score(low: int, high: int, rule: str, message: str, cell: object) -> Verdict:
    """A blank cell is no score; any other must be a whole number in range (kept even if not)."""
    if not cell_text(cell):
        return None, None
    score = whole_number(cell)
    if score is not None and low <= score <= high:
        return score, None
    return score, (rule, message)


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
