"""The KS2 early results CSV: the DfE portal's "All subjects with TA" download, as schools get it.

Schools must not have to edit the file (KS2 seed), so: headers are matched through the map in
``config/ks2.toml`` (the portal's exact headers are unconfirmed), unknown columns are ignored, the
school comes from a DfE number column or the file name (``1234567_...``), and the common text
encodings, CRLF, quoted fields and blank lines are all read, keeping the row numbers Excel shows.
"""
from __future__ import annotations

import csv
import io
import re
import tomllib
from collections import Counter
from datetime import date
from functools import lru_cache
from typing import Any

from config.codes import gender_code
from config.settings import PACKAGE_DIR
from workers.validators.findings import Findings
from workers.validators.pupil import against_roster, check_upn, report_duplicates
from workers.validators.result import PupilRecord, UnreadableFile, ValidationContext, ValidationResult
from workers.validators.rules import (
    cell_text, dfe_is_valid, parse_date, whole_number,
)
from workers.validators.workbook import Row, is_blank_row

FORMAT = "ks2-csv"

SEND_AS_DOWNLOADED = ("Please send the .csv file exactly as downloaded from the portal "
                      "('All subjects with TA').")
TA_LABELS = {"ta_writing": "Writing", "ta_science": "Science", "ta_reading": "Reading",
             "ta_maths": "Maths"}
FILE_NAME_DFE = re.compile(r"(\d{7})(?!\d)")


@lru_cache(maxsize=1)
def ks2_config() -> dict[str, Any]:
    return tomllib.loads((PACKAGE_DIR / "ks2.toml").read_text(encoding="utf-8"))


def normalise_header(name: str) -> str:
    """``English reading: Scaled score`` -> ``englishreadingscaledscore``."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


@lru_cache(maxsize=1)
def header_lookup() -> dict[str, str]:
    """Every accepted spelling, normalised, -> its canonical key; a spelling may name one key only."""
    lookup: dict[str, str] = {}
    for key, spellings in ks2_config()["headers"].items():
        for spelling in spellings:
            normal = normalise_header(spelling)
            if lookup.setdefault(normal, key) != key:
                raise ValueError(f"ks2.toml: header '{spelling}' is listed for both "
                                 f"'{lookup[normal]}' and '{key}'")
    return lookup


def header_key(name: object) -> str | None:
    """The canonical key of a header cell, or None for a column the service does not use."""
    normal = normalise_header(cell_text(name))
    lookup = header_lookup()
    if normal in lookup:
        return lookup[normal]
    for prefix in ks2_config()["optional_header_prefixes"]:
        stripped = normal.removeprefix(normalise_header(prefix))
        if stripped != normal and stripped in lookup:
            return lookup[stripped]
    return None


def map_header(header: Row) -> dict[str, tuple[int, str]]:
    """Canonical key -> (column index, the file's own header text); the first matching column wins."""
    columns: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(header):
        key = header_key(cell)
        if key is not None and key not in columns:
            columns[key] = (index, cell_text(cell))
    return columns


def display_name(key: str) -> str:
    return ks2_config()["headers"][key][0]


# --- reading the bytes -------------------------------------------------------------------------

def read_csv(data: bytes, max_rows: int) -> list[list[str]]:
    """Every record of the CSV from the header, so ``rows[i]`` is the row Excel shows as ``i + 1``.

    UTF-8 (with or without BOM) first, then Windows-1252; UTF-16 only with its BOM. Blank lines
    stay as empty rows so row numbers never shift; trailing blank lines are dropped.
    """
    text = _decode(data)
    try:
        rows = [list(record) for record in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise UnreadableFile(f"The file could not be read as CSV ({exc}). {SEND_AS_DOWNLOADED}") from None
    while rows and is_blank_row(rows[-1]):
        rows.pop()
    if not rows:
        raise UnreadableFile(f"The file has no content. {SEND_AS_DOWNLOADED}")
    pupils = sum(1 for row in rows[1:] if not is_blank_row(row))
    if pupils > max_rows:
        raise UnreadableFile(f"The file has {pupils} pupil rows; at most {max_rows} can be sent in "
                             "one file. Please send one school's file at a time.")
    return rows


def _decode(data: bytes) -> str:
    if not data:
        raise UnreadableFile(f"The file is empty. {SEND_AS_DOWNLOADED}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableFile(f"The file could not be read as text. {SEND_AS_DOWNLOADED}") from None
    else:
        if b"\x00" in data:
            raise UnreadableFile("The file is not a CSV text file (it holds binary data, such as an "
                                 f"Excel workbook or an image). {SEND_AS_DOWNLOADED}")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise UnreadableFile("The file's text is not in a known encoding (UTF-8 or "
                                     f"Windows-1252). {SEND_AS_DOWNLOADED}") from None
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n\f") or ch in "\x7f\x00")
    if controls > max(2, len(text) // 100):
        raise UnreadableFile("The file is not a CSV text file (it holds binary data, such as an "
                             f"Excel workbook or an image). {SEND_AS_DOWNLOADED}")
    return text.removeprefix("\ufeff")


def looks_like(rows: list[Row]) -> bool:
    """A KS2 results CSV by content: its header has a UPN and a KS2 scaled-score or TA column."""
    if not rows:
        return False
    keys = set(map_header(rows[0]))
    marks = {f"{s}_score" for s in ks2_config()["tests"]["subjects"]} | set(TA_LABELS)
    return "upn" in keys and bool(keys & marks)


# --- validating the rows -----------------------------------------------------------------------

def validate(rows: list[Row], context: ValidationContext | None = None, today: date | None = None,
             file_name: str | None = None) -> ValidationResult:
    context = context or ValidationContext()
    today = today or date.today()
    errors, warnings = Findings(), Findings()
    if not rows or is_blank_row(rows[0]):
        errors.add("header", "The first row must be the portal file's header row (UPN, Surname, "
                   f"Forename, ...). {SEND_AS_DOWNLOADED}", None, 1)
        return ValidationResult(FORMAT, None, [], errors.grouped())
    columns = map_header(rows[0])
    missing = [key for key in ks2_config()["required_columns"] if key not in columns]
    if missing:
        errors.add("header", _missing_message(missing), None, 1)
        return ValidationResult(FORMAT, None, [], errors.grouped())

    checker = _RowChecker(columns, errors, today)
    records: list[PupilRecord] = []
    for index, raw in enumerate(rows[1:], start=2):
        cells = [raw[i] if i < len(raw) else None for i, _ in columns.values()]
        if is_blank_row(cells):  # unused columns alone (a note, a portal extra) are not a pupil
            continue
        record = checker.check(raw, index)
        if all(v is None for v in record.results.values()):
            warnings.add("no-results", "No results in the file for this pupil; the pupil will not "
                         "be counted in reports.", checker.name("upn"), index)
        records.append(record)

    report_duplicates(checker.upn_rows, errors, checker.name("upn"))

    school = _school(checker, file_name, errors, warnings, context)
    # Only pupils on the school's roll held by the service are processed; others are warned about.
    pupils = against_roster(
        [r for r in records if r.upn in checker.upn_rows], school, context, warnings,
        keep_unknown=False, rule="pupil-not-on-roll", column=checker.name("upn"),
        message="Pupil is not on the school's roll held by the service and will not be processed.",
        missing_message="{missing} pupil(s) on the school's roll held by the service are not in "
        "this file. A new file replaces the previous one, so include every pupil.")
    if not records and not errors:
        errors.add("no-pupils", "The file has no pupil rows under the header row. "
                   f"{SEND_AS_DOWNLOADED}", None, None)
    return ValidationResult(FORMAT, school, [] if errors else pupils, errors.grouped(),
                            warnings.grouped())


def _missing_message(missing: list[str]) -> str:
    named = "; ".join(f"'{display_name(key)}' (accepted headers: "
                      f"{', '.join(ks2_config()['headers'][key])})" for key in missing)
    label = "a column" if len(missing) == 1 else "columns"
    return (f"The header row is missing {label} the portal's 'All subjects with TA' file has: "
            f"{named}. {SEND_AS_DOWNLOADED}")


class _RowChecker:
    """The per-row rules, with the file's own header names for the ``Column:`` of each message."""

    def __init__(self, columns: dict[str, tuple[int, str]], errors: Findings, today: date):
        self.columns, self.errors, self.today = columns, errors, today
        config = ks2_config()
        tests = config["tests"]
        self.subjects: list[str] = tests["subjects"]
        self.low, self.high = tests["scaled_score_min"], tests["scaled_score_max"]
        self.expected = tests["expected_standard"]
        self.outcome_codes: list[str] = tests["outcome_codes"]
        self.no_score_codes = [c for c in self.outcome_codes if c not in tests["standard_codes"]]
        self.raw_ranges: dict[str, list[int]] = config["raw_marks"]
        self.ta_codes: dict[str, list[str]] = config["ta_codes"]
        codes = ", ".join(self.no_score_codes)
        self.score_message = (f"Scaled score must be between {self.low} and {self.high} and be a "
                              f"whole number, or one of the codes {codes}. Allows empty field.")
        self.outcome_message = (f"Test outcome must be one of {', '.join(self.outcome_codes)}. "
                                "Allows empty field.")
        self.agree_message = (f"Test outcome does not agree with the scaled score: a score of "
                              f"{self.expected} or more is AS, a lower score is NS, and a code such "
                              "as A is the same in both columns.")
        self.dfe_rows: dict[str, list[int]] = {}
        self.upn_rows: dict[str, list[int]] = {}
        self.dfe_invalid = False
        self.dfe_column: str | None = None
        if "dfe" in columns:
            self.dfe_column = self.name("dfe")
        elif "la" in columns and "estab" in columns:
            self.dfe_column = f"{self.name('la')}, {self.name('estab')}"

    def name(self, key: str) -> str:
        return self.columns[key][1] if key in self.columns else display_name(key)

    def check(self, raw: Row, index: int) -> PupilRecord:
        text = {key: cell_text(raw[i]) if i < len(raw) else "" for key, (i, _) in self.columns.items()}
        self._dfe(text, index)
        upn = self._upn(text["upn"].upper(), index)
        for key in ("forename", "surname"):
            if not text[key]:
                self.errors.add("name-missing", f"{self.name(key)} must have a value.",
                                self.name(key), index)
        dob = parse_date(text["dob"])
        if dob is None or dob >= self.today:
            self.errors.add("dob", "Date of birth must be a valid date in the past, written "
                            "DD/MM/YYYY.", self.name("dob"), index)
        gender = None
        if text.get("gender"):
            gender = gender_code(text["gender"])
            if gender is None:
                self.errors.add("gender", "Gender must be Male or Female. Allows empty field.",
                                self.name("gender"), index)
        nc_year = whole_number(re.sub(r"(?i)^(year|y)\s*", "", text.get("nc_year", "")))

        results: dict[str, Any] = {}
        for subject in self.subjects:
            results.update(self._test(subject, text, index))
        for key, label in TA_LABELS.items():
            value = text.get(key, "").upper()
            if value and value not in self.ta_codes[key]:
                self.errors.add("ta-code", f"{label} teacher assessment must be one of "
                                f"{', '.join(self.ta_codes[key])}. Allows empty field.",
                                self.name(key), index)
            results[key] = value or None
        return PupilRecord(index, upn, text["forename"], text["surname"], gender, dob, nc_year,
                           results)

    def _dfe(self, text: dict[str, str], index: int) -> None:
        if self.dfe_column is None:
            return
        if "dfe" in self.columns:
            dfe = text["dfe"]
        else:
            la, estab = text["la"], text["estab"]
            dfe = f"{la}{estab.zfill(4)}" if la and estab else ""
        if not dfe:  # a blank cell: the school comes from the other rows or the file name
            return
        if dfe_is_valid(dfe):
            self.dfe_rows.setdefault(dfe, []).append(index)
        else:
            self.dfe_invalid = True
            self.errors.add("dfe-invalid", "Invalid DFE detected.", self.dfe_column, index)

    def _upn(self, upn: str, index: int) -> str:
        check_upn(upn, self.name("upn"), index, self.errors, self.upn_rows)
        return upn

    def _test(self, subject: str, text: dict[str, str], index: int) -> dict[str, Any]:
        """One test's scaled score, outcome and raw marks; a code in a mark column is the outcome."""
        score_key, outcome_key = f"{subject}_score", f"{subject}_outcome"
        score, score_code = None, None
        value = text.get(score_key, "").upper()
        if value in self.no_score_codes:
            score_code = value
        elif value:
            score = whole_number(value)
            if score is None or not self.low <= score <= self.high:
                self.errors.add("scaled-score", self.score_message, self.name(score_key), index)
                score = None

        outcome = text.get(outcome_key, "").upper() or None
        if outcome is not None and outcome not in self.outcome_codes:
            self.errors.add("test-outcome", self.outcome_message, self.name(outcome_key), index)
            outcome = None

        found: dict[str, Any] = {score_key: score}
        raw_code = None
        for raw_key, (low, high) in self.raw_ranges.items():
            if not raw_key.startswith(f"{subject}_"):
                continue
            if raw_key not in self.columns:
                if raw_key == f"{subject}_raw":
                    found[raw_key] = None
                continue
            mark, code = self._raw(raw_key, low, high, text[raw_key].upper(), index)
            found[raw_key] = mark
            raw_code = raw_code or code

        from_score = score_code or (None if score is None else
                                    "AS" if score >= self.expected else "NS")
        if outcome and from_score and outcome != from_score:
            self.errors.add("outcome-mismatch", self.agree_message, self.name(outcome_key), index)
        found[outcome_key] = outcome or from_score or raw_code
        return {score_key: found.pop(score_key), outcome_key: found.pop(outcome_key), **found}

    def _raw(self, key: str, low: int, high: int, value: str, index: int) -> tuple[int | None, str | None]:
        if not value:
            return None, None
        if value in self.no_score_codes:
            return None, value
        mark = whole_number(value)
        if mark is None or not low <= mark <= high:
            self.errors.add("raw-mark", f"Raw mark must be between {low} and {high} and be a whole "
                            f"number, or one of the codes {', '.join(self.no_score_codes)}. "
                            "Allows empty field.", self.name(key), index)
            return None, None
        return mark, None


def file_name_dfe(file_name: str | None) -> str | None:
    """The seven digits a portal file's name starts with (``8012001_KS2_...csv``), if any."""
    if not file_name:
        return None
    base = re.split(r"[\\/]", file_name)[-1].strip()
    match = FILE_NAME_DFE.match(base)
    return match.group(1) if match else None


def _school(checker: _RowChecker, file_name: str | None, errors: Findings, warnings: Findings,
            context: ValidationContext) -> str | None:
    """The school: the DfE number on most rows, else the file name's; the sender must be permitted."""
    named = file_name_dfe(file_name)
    column, rows = checker.dfe_column, checker.dfe_rows
    if rows:
        school = Counter({dfe: len(where) for dfe, where in rows.items()}).most_common(1)[0][0]
        for dfe, where in rows.items():
            if dfe != school:
                for row in where:
                    errors.add("dfe-mixed", f"Every row must be for the same school ({school}); "
                               "send one file per school.", column, row)
        if named and named != school and dfe_is_valid(named):
            warnings.add("dfe-file-name", f"The file name starts with {named} but the file's rows "
                         f"are for school {school}; the DfE number in the file is used.")
        permission_rows, permission_column = rows[school], column
    elif checker.dfe_invalid:  # the rows' DfE numbers are all wrong: already reported per row
        return None
    elif named and dfe_is_valid(named):
        school, permission_rows, permission_column = named, [], None
    elif named:
        errors.add("dfe-invalid", f"Invalid DFE detected in the file name ({named}_...): please "
                   "send the file as downloaded from the portal, whose name starts with the "
                   "school's DfE number.")
        return None
    else:
        errors.add("dfe-missing", "The file does not say which school it is for: please send the "
                   "file as downloaded from the portal, whose name starts with the school's DfE "
                   "number (1234567_...).")
        return None
    if context.may_submit_for is not None and not context.may_submit_for(school):
        message = (f"You are not registered to send results for school {school}. Please ask the "
                   "school's data manager or trust administrator.")
        if permission_rows:
            for row in permission_rows:
                errors.add("dfe-not-permitted", message, permission_column, row)
        else:
            errors.add("dfe-not-permitted", message)
    return school
