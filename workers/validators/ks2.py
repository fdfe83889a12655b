"""The KS2 early results CSV: the DfE portal's "All subjects with TA" download, as schools get it.

Schools must not have to edit the file (KS2 seed), so: headers are matched through the map in
``config/ks2.toml`` (the portal's exact headers are unconfirmed), unknown columns are ignored, the
school comes from a DfE number column or the file name (``1234567_...``), and the common text
encodings, CRLF, quoted fields and blank lines are all read, keeping the row numbers Excel shows.
"""
from __future__ import annotations

import codecs
import csv
import io
import keyword
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from itertools import repeat
from operator import itemgetter
from typing import Any, Callable, TypeVar

from config.codes import gender_code
from config.settings import PACKAGE_DIR
from workers.validators.findings import ColumnFindings, Findings
from workers.validators.pupil import against_roster, check_upn, report_duplicates
from workers.validators.result import PupilRecord, UnreadableFile, ValidationContext, ValidationResult
from workers.validators.rules import (
    NAME_LENGTH, SNIFF_BYTES, all_valid_upns, cell_text, dfe_is_valid, name_problem, parse_date,
    whole_number,
)
from workers.validators.workbook import Row, is_blank_row

FORMAT = "ks2-csv"

SEND_AS_DOWNLOADED = ("Please send the .csv file exactly as downloaded from the portal "
                      "('All subjects with TA').")
TA_LABELS = {"ta_writing": "Writing", "ta_science": "Science", "ta_reading": "Reading",
             "ta_maths": "Maths"}
FILE_NAME_DFE = re.compile(r"(\d{7})(?!\d)")
NC_YEAR_PREFIX = re.compile(r"(?i)^(year|y)\s*")
# Characters no text file holds: many of them mean the bytes are binary (tab, CR, LF, FF are text).
CONTROL_CHARACTERS = bytes([*(c for c in range(32) if chr(c) not in "\t\r\n\f"), 0x7F])


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


@lru_cache(maxsize=1024)  # a file's header is matched twice (detection, validation), by regex
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
    """Canonical key -> (column index, the file's own header text); the first matching column wins.

    A file's header is mapped twice (detection, validation) and is the same in every file from
    the portal, so the mapping is remembered per configuration (``cell_rules``), for a bounded
    number of headers; each caller gets its own copy.
    """
    mapped = cell_rules().mapped_headers
    key = tuple(header)
    columns = mapped.get(key)
    if columns is None:
        columns = _map_header(header)
        if len(mapped) >= MAPPED_HEADERS:
            mapped.clear()
        mapped[key] = columns
    return dict(columns)


def _map_header(header: Row) -> dict[str, tuple[int, str]]:
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

    UTF-8 (with or without BOM), with any bytes that are not UTF-8 read as Windows-1252 (a file
    edited in two programs mixes them); UTF-16 only with its BOM. Blank lines stay as empty rows
    so row numbers never shift; trailing blank lines are dropped. A file with more lines than the
    limit allows is read a row at a time and refused without keeping more than the limit.
    """
    text = _decode(data)
    try:
        # Too few characters, or line ends, for more records than the limit: read at C speed.
        if len(text) <= max_rows or text.count("\n") + text.count("\r") <= max_rows:
            rows = _plain_records(text)
            if rows is None:
                rows = list(csv.reader(io.StringIO(text, newline="")))
        else:
            rows = _rows_within_limit(csv.reader(io.StringIO(text, newline="")), max_rows)
    except csv.Error as exc:
        raise UnreadableFile(f"The file could not be read as CSV ({exc}). {SEND_AS_DOWNLOADED}") from None
    while rows and is_blank_row(rows[-1]):
        rows.pop()
    if not rows:
        raise UnreadableFile(f"The file has no content. {SEND_AS_DOWNLOADED}")
    return rows


# Line ends of str.splitlines that are not a CSV's (csv reads only CR, LF and CRLF as ends).
OTHER_LINE_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _plain_records(text: str) -> list[list[str]] | None:
    """The records ``csv.reader`` reads from a text without quotes, or None for any other text.

    Without a quote a CSV record is its line split at the commas, and splitting at C speed
    costs half what the csv module's reader does. Files saved by Excel quote only the cells
    that need it, so this is nearly every file; a quoted one is read by the csv module.
    """
    if '"' in text or any(other in text for other in OTHER_LINE_BREAKS):
        return None
    lines = text.splitlines()
    limit = csv.field_size_limit()
    if len(text) > limit and max(map(len, lines)) > limit:
        return None  # a cell longer than csv reads: its reader says so
    rows = list(map(str.split, lines, repeat(",")))
    if "" in lines:  # a blank line is a record with no cells, as csv reads it
        rows = [row if line else [] for row, line in zip(rows, lines)]
    return rows


def _rows_within_limit(reader: Iterator[list[str]], max_rows: int) -> list[list[str]]:
    """The records, or UnreadableFile once there are more pupil rows than ``max_rows`` (the rest
    are counted, not kept, so the message says how many there are)."""
    rows: list[list[str]] = []
    pupils = 0
    for row in reader:
        if rows and not is_blank_row(row):
            pupils += 1
            if pupils > max_rows:
                pupils += sum(1 for rest in reader if not is_blank_row(rest))
                raise UnreadableFile(f"The file has {pupils} pupil rows; at most {max_rows} can be "
                                     "sent in one file. Please send one school's file at a time.")
        rows.append(row)
        if len(rows) > 2 * max_rows + MAX_BLANK_LINES:
            raise UnreadableFile(f"The file has more than {len(rows) - 1:,} lines under its header, "
                                 f"most of them blank. {SEND_AS_DOWNLOADED}")
    return rows


MAX_BLANK_LINES = 10_000
NUL_MESSAGE = ("The file is not a CSV text file we can read: it contains NUL (zero) bytes, which "
               "text never holds, so it was probably damaged when it was saved or copied. "
               f"{SEND_AS_DOWNLOADED}")
UTF16_MESSAGE = ("The file is not a CSV text file we can read: it is UTF-16 text without the byte "
                 "order mark that says so. " + SEND_AS_DOWNLOADED + " Or save it from Excel as "
                 "'CSV UTF-8 (Comma delimited)'.")
BINARY_MESSAGE = ("The file is not a CSV text file (it holds binary data, such as an Excel workbook "
                  f"or an image). {SEND_AS_DOWNLOADED}")


def _windows_1252(error: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 read as Windows-1252, each run on its own: a file saved as UTF-8
    with names typed in later by a Windows editor keeps both right. A byte Windows-1252 does not
    define raises, so the file is refused as not in a known encoding."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("cp1252"), error.end


codecs.register_error("ers-windows-1252", _windows_1252)


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
            if _utf16_without_bom(data[:SNIFF_BYTES]):
                raise UnreadableFile(UTF16_MESSAGE)
            raise UnreadableFile(NUL_MESSAGE if _text_but_nuls(data) else BINARY_MESSAGE)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("utf-8-sig", errors="ers-windows-1252")
            except UnicodeDecodeError:
                raise UnreadableFile("The file's text is not in a known encoding (UTF-8 or "
                                     f"Windows-1252). {SEND_AS_DOWNLOADED}") from None
    if _control_count(text) > max(2, len(text) // 100):
        raise UnreadableFile(BINARY_MESSAGE)
    return text.removeprefix("\ufeff")


def looks_like_text(sample: bytes) -> bool:
    """Text despite NUL bytes: UTF-16 without its BOM, or lines with a few NULs in them. Such a
    file is told what is wrong with it rather than that its format is unknown."""
    return _utf16_without_bom(sample) or _text_but_nuls(sample)


def _utf16_without_bom(sample: bytes) -> bool:
    """Latin text in UTF-16 has a NUL in every other byte: the odd ones (LE) or the even (BE)."""
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 8:
        return False
    return any(zeros.count(0) >= 0.9 * len(zeros) and other.count(0) <= 0.1 * len(other)
               for zeros, other in ((odd, even), (even, odd)))


def _text_but_nuls(data: bytes) -> bool:
    rest = data.replace(b"\x00", b"")
    controls = len(rest) - len(rest.translate(None, CONTROL_CHARACTERS))
    return bool(rest) and controls <= len(rest) // 100 and (b"," in rest or b"\n" in rest)


def _control_count(text: str) -> int:
    """How many CONTROL_CHARACTERS the text has, counted in its UTF-8 bytes: each is one byte of
    its own there, a byte no other character's encoding holds, and counting bytes is C-fast
    (a regex or str.translate looks at each character, 5 to 50 times slower)."""
    encoded = text.encode("utf-8")
    return len(encoded) - len(encoded.translate(None, CONTROL_CHARACTERS))


def looks_like(rows: list[Row]) -> bool:
    """A KS2 results CSV by content: its header has a UPN and a KS2 scaled-score or TA column."""
    if not rows:
        return False
    keys = map_header(rows[0])
    return "upn" in keys and not cell_rules().marks.isdisjoint(keys)


# --- validating the rows -----------------------------------------------------------------------

def validate(rows: list[Row], context: ValidationContext | None = None, today: date | None = None,
             file_name: str | None = None) -> ValidationResult:
    """Check the rows ``read_csv`` gives: every cell is text (``str``), as in any CSV file."""
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

    checker = _Checker(columns, today)
    records = checker.check(_pupil_rows(rows, columns), errors, warnings)

    report_duplicates(checker.upn_rows, errors, checker.name("upn"))

    school = _school(checker, file_name, errors, warnings, context)
    # Only pupils on the school's roll held by the service are processed; others are warned about.
    valid = checker.valid_upns
    pupils = against_roster(
        records if valid is not None else [r for r in records if r.upn in checker.upn_rows],
        school, context, warnings, upns=valid,
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


@dataclass
class _Pupils:
    """The pupil rows under the header, turned into columns of the mapped columns' cells."""
    rows: list[int]  # each pupil row's number as Excel shows it
    cells: dict[str, Sequence[Any]]  # canonical key -> the column's cell on each pupil row

    def column(self, key: str) -> Sequence[Any]:
        """A column's cells; a column the file does not have is blank on every row."""
        cells = self.cells.get(key)
        return [""] * len(self.rows) if cells is None else cells


def _pupil_rows(rows: list[Row], columns: dict[str, tuple[int, str]]) -> _Pupils:
    """The rows with something in a mapped column: unused columns alone (a note, a portal extra)
    are not a pupil. A short row's missing cells are blank."""
    positions = [index for index, _ in columns.values()]
    whole = _whole_rows(rows, positions)
    if whole is not None:
        return _Pupils(list(range(2, len(rows) + 1)), dict(zip(columns, whole)))
    width = max(positions) + 1
    pick = itemgetter(*positions)  # several positions (the required columns), so a tuple
    numbers: list[int] = []
    picked: list[tuple[Any, ...]] = []
    for number, raw in enumerate(rows[1:], start=2):
        cells = pick(raw) if len(raw) >= width else tuple(raw[i] if i < len(raw) else ""
                                                            for i in positions)
        if not is_blank_row(cells):
            numbers.append(number)
            picked.append(cells)
    by_column = zip(*picked) if picked else ([] for _ in positions)
    return _Pupils(numbers, {key: list(cells) for key, cells in zip(columns, by_column)})


def _whole_rows(rows: list[Row], positions: list[int]) -> list[tuple[str, ...]] | None:
    """The columns at ``positions`` when every row under the header has them all and none is
    blank, as in nearly every file: then the rows turn into columns at C speed (``zip``), with
    no test per row. A column filled on every row means no row is blank. None otherwise: the
    rows are then picked one by one."""
    every = list(zip(*rows[1:]))  # as many columns as the shortest row has cells
    if len(every) <= max(positions):
        return None
    whole = [every[index] for index in positions]
    if not any(all(map(str.strip, cells)) for cells in whole):
        return None
    return whole


T = TypeVar("T")
Problem = tuple[str, str] | None  # (rule, message) when a cell is wrong
Verdict = tuple[Any, Problem]  # a cell rule's answer: the value to keep, and what is wrong
CellRule = Callable[[str], Verdict]

# How many texts each cell rule remembers. A column's texts are few and the same from file to file
# (scores 80-120, marks 0-110, a dozen codes): real files come nowhere near this, and a file of
# junk only pushes the oldest texts out.
REMEMBERED = 2048
MAPPED_HEADERS = 64  # headers whose mapping is remembered (map_header): the portal has a few


def _remembered(rule: Callable[[str], T]) -> Callable[[str], T]:
    """``rule`` worked out once per text, for the last ``REMEMBERED`` texts."""
    return lru_cache(maxsize=REMEMBERED)(rule)


class _Unusual(Exception):
    """A cell ``_Remembered`` does not answer: one its rule finds wrong, or one its ``pick``
    leaves to the column's full check (a code in a mark column)."""


class _Remembered:
    """What a cell rule makes of each cell's text, for cells that are fine, looked up a column at
    a time at C speed: ``remembered(cells)`` is each cell's value, in row order.

    Nearly every cell of nearly every file is fine, and their texts repeat from file to file,
    so a column usually costs one dict lookup per cell (``itemgetter`` over a plain dict, the
    quickest lookup there is) and no Python call per cell. Cells never seen are worked out and
    remembered (``REMEMBERED`` texts at most, then forgotten all at once). A wrong cell is never
    remembered and raises ``_Unusual``: the column is then checked value by value, which says on
    which rows (``_Checker._each_cell``). ``pick`` keeps part of the rule's value, and may refuse
    one with ``_Unusual``.
    """

    def __init__(self, rule: CellRule, pick: Callable[[Any], Any] | None = None):
        self.rule, self.pick = rule, pick
        self.known: dict[str, Any] = {}

    def __call__(self, cells: Sequence[Any]) -> Sequence[Any]:
        try:
            if len(cells) > 1:  # (itemgetter of one cell is not a tuple)
                return itemgetter(*cells)(self.known)
            return tuple(self.known[cell] for cell in cells)
        except KeyError:  # a cell never seen (or forgotten)
            return tuple(map(self._learn(cells).__getitem__, cells))

    def _learn(self, cells: Sequence[Any]) -> dict[Any, Any]:
        """A table with every cell's value: ``known`` with the new cells added, or, when they do
        not fit (or are not text), a table for these cells alone."""
        distinct = set(cells)
        learned = {cell: self._value(cell) for cell in distinct.difference(self.known)}
        if not all(type(cell) is str for cell in learned):  # 1 and True are equal keys
            return {cell: self._value(cell) for cell in distinct}
        if len(self.known) + len(learned) > REMEMBERED:
            self.known.clear()
            if len(distinct) > REMEMBERED:
                return {cell: self._value(cell) for cell in distinct}
            learned = {cell: self._value(cell) for cell in distinct}
        self.known.update(learned)
        return self.known

    def _value(self, cell: Any) -> Any:
        value, problem = self.rule(cell_text(cell))
        if problem is not None:
            raise _Unusual
        return value if self.pick is None else self.pick(value)


def _mark(value: tuple[int | None, str | None]) -> int | None:
    """The mark of a raw-mark cell's (mark, code); a code is left to the column's full check."""
    mark, code = value
    if code is not None:
        raise _Unusual
    return mark


class _CellRules:
    """What the text of a result cell means under ks2.toml, wherever it is: the value to keep and
    what is wrong with it, without the row or the file's column name.

    Each rule depends only on the configuration (ks2.toml; codes.toml, read once per process) and
    the text (the date of birth also on today's date, passed in), so it is worked out once per
    text and remembered (``REMEMBERED`` texts at most) for every file: one instance per
    configuration (``cell_rules``). The name rule is the file checker's: its message names the
    file's own header.
    """

    def __init__(self, config: dict[str, Any]):
        self.config = config
        tests = config["tests"]
        self.low, self.high = tests["scaled_score_min"], tests["scaled_score_max"]
        self.expected = tests["expected_standard"]
        self.outcome_codes: list[str] = tests["outcome_codes"]
        self.no_score_codes = [c for c in self.outcome_codes if c not in tests["standard_codes"]]
        self.ta_codes: dict[str, list[str]] = config["ta_codes"]
        # The same codes as sets, to look a value up in; the lists give the messages their order.
        self.is_outcome, self.is_no_score = frozenset(self.outcome_codes), frozenset(self.no_score_codes)
        codes = ", ".join(self.no_score_codes)
        self.score_message = (f"Scaled score must be between {self.low} and {self.high} and be a "
                              f"whole number, or one of the codes {codes}. Allows empty field.")
        self.outcome_message = (f"Test outcome must be one of {', '.join(self.outcome_codes)}. "
                                "Allows empty field.")
        self.agree_message = (f"Test outcome does not agree with the scaled score: a score of "
                              f"{self.expected} or more is AS, a lower score is NS, and a code such "
                              "as A is the same in both columns.")
        self.score: CellRule = _remembered(self._score)
        self.outcome: CellRule = _remembered(self._outcome)
        self.gender: CellRule = _remembered(self._gender)
        self.dob: Callable[[date, str], Verdict] = lru_cache(maxsize=REMEMBERED)(self._dob)
        self.nc_year: Callable[[str], int | None] = _remembered(self._nc_year)
        self.raw: dict[str, CellRule] = {
            key: _remembered(partial(self._raw, low, high))
            for key, (low, high) in config["raw_marks"].items()}
        self.ta: dict[str, CellRule] = {
            key: _remembered(partial(self._ta, TA_LABELS[key], codes))
            for key, codes in self.ta_codes.items()}
        # The same rules looked up a column at a time (_Remembered), and the header mappings.
        self.score_of = _Remembered(self.score, itemgetter(0))
        self.meant_of = _Remembered(self.score, itemgetter(1))
        self.outcome_of = _Remembered(self.outcome)
        self.gender_of = _Remembered(self.gender)
        self.nc_year_of = _Remembered(self._nc_year_verdict)
        self.mark_of = {key: _Remembered(rule, _mark) for key, rule in self.raw.items()}
        self.raw_keys = {subject: [key for key in self.raw if key.startswith(f"{subject}_")]
                         for subject in tests["subjects"]}
        self.ta_of = {key: _Remembered(rule) for key, rule in self.ta.items()}
        self._dob_of: dict[date, _Remembered] = {}
        self.mapped_headers: dict[tuple[Any, ...], dict[str, tuple[int, str]]] = {}
        # the columns of which a KS2 file has at least one (looks_like)
        self.marks = frozenset({f"{s}_score" for s in tests["subjects"]} | set(TA_LABELS))

    def dob_of(self, today: date) -> _Remembered:
        """The date-of-birth rule for files checked on ``today`` (a few days at a time)."""
        remembered = self._dob_of.get(today)
        if remembered is None:
            if len(self._dob_of) >= 4:
                self._dob_of.clear()
            remembered = self._dob_of[today] = _Remembered(partial(self.dob, today))
        return remembered

    def _score(self, text: str) -> Verdict:
        """(score, the outcome it means): a code such as A means itself and no score."""
        value = text.upper()
        if value in self.is_no_score:
            return (None, sys.intern(value)), None  # interned: see _outcome
        if not value:
            return (None, None), None
        score = whole_number(value)
        if score is None or not self.low <= score <= self.high:
            return (None, None), ("scaled-score", self.score_message)
        return (score, "AS" if score >= self.expected else "NS"), None

    def _outcome(self, text: str) -> Verdict:
        outcome = text.upper() or None
        if outcome is None:
            return None, None
        if outcome not in self.is_outcome:
            return None, ("test-outcome", self.outcome_message)
        # interned, as the score's outcome is: a column of outcomes and the one its scores mean
        # are then compared a pupil at a time by identity, not by their text (_Checker._test)
        return sys.intern(outcome), None

    def _raw(self, low: int, high: int, text: str) -> Verdict:
        """(mark, code): a code in a mark column is no mark."""
        value = text.upper()
        if not value:
            return (None, None), None
        if value in self.is_no_score:
            return (None, value), None
        mark = whole_number(value)
        if mark is None or not low <= mark <= high:
            return (None, None), ("raw-mark", f"Raw mark must be between {low} and {high} and be a "
                                  f"whole number, or one of the codes {', '.join(self.no_score_codes)}. "
                                  "Allows empty field.")
        return (mark, None), None

    def _ta(self, label: str, codes: list[str], text: str) -> Verdict:
        value = text.upper()
        if value and value not in codes:
            return value, ("ta-code", f"{label} teacher assessment must be one of "
                           f"{', '.join(codes)}. Allows empty field.")
        return value or None, None

    @staticmethod
    def _dob(today: date, text: str) -> Verdict:
        """A date of birth must be a real date before ``today`` (a year group's dates of birth
        span a year or two, so they too are few from file to file)."""
        dob = parse_date(text)
        if dob is None or dob >= today:
            return dob, ("dob", "Date of birth must be a valid date in the past, written DD/MM/YYYY.")
        return dob, None

    @staticmethod
    def _gender(text: str) -> Verdict:
        if not text:
            return None, None
        gender = gender_code(text)
        if gender is None:
            return None, ("gender", "Gender must be Male or Female. Allows empty field.")
        return gender, None

    @staticmethod
    def _nc_year(text: str) -> int | None:
        return whole_number(NC_YEAR_PREFIX.sub("", text))

    def _nc_year_verdict(self, text: str) -> Verdict:
        """The NC year as a cell rule's answer: it is never wrong, only unreadable (None)."""
        return self.nc_year(text), None


_cell_rules: _CellRules | None = None


def cell_rules() -> _CellRules:
    """The rules of the configuration in force (``ks2_config``), built once for it: rules remember
    what they worked out, so another configuration (a test's, say) must get rules of its own."""
    global _cell_rules
    config = ks2_config()
    if _cell_rules is None or _cell_rules.config is not config:
        _cell_rules = _CellRules(config)
    return _cell_rules


def _by_value(cells: list[Any], rule: Callable[[str], T]) -> dict[Any, T]:
    """``rule`` of each distinct cell's text, worked out once per distinct cell.

    A column holds few distinct values (scores 80-120, a handful of codes), so this is where
    checking a file stops costing a rule per cell. CSV cells are text, so equal cells have
    equal text (unlike a workbook's True and 1).
    """
    return {cell: rule(cell_text(cell)) for cell in set(cells)}


def _each(cells: list[Any], rule: Callable[[str], T]) -> list[T]:
    """``rule`` of each cell's text, in row order."""
    return list(map(_by_value(cells, rule).__getitem__, cells))


def _unzip(pairs: list[tuple[Any, Any]]) -> tuple[list[Any], list[Any]]:
    """``[(a, b), ...]`` -> ``([a, ...], [b, ...])``, also when there are no rows."""
    if not pairs:
        return [], []
    first, second = zip(*pairs)
    return list(first), list(second)


class _Checker:
    """One file's rows under the cell rules, with the file's own header names for the
    ``Column:`` of each message.

    The rules run a column at a time: a column of cells that are all fine is looked up at C speed
    (``_Remembered``), any other is checked once per distinct value (``_each_cell``); what they
    find is handed to ``errors`` in row order (``ColumnFindings``), so the report is the one
    checking row by row gives. The methods run in the order the checks of one row are reported in.
    """

    def __init__(self, columns: dict[str, tuple[int, str]], today: date):
        self.columns, self.today = columns, today
        self.rules = cell_rules()
        self.subjects: list[str] = self.rules.config["tests"]["subjects"]
        self.raw_ranges: dict[str, list[int]] = self.rules.config["raw_marks"]
        self.found = ColumnFindings()
        self.dfe_rows: dict[str, list[int]] = {}
        self.upn_rows: dict[str, list[int]] = {}
        # the rows' UPNs when each is valid and none is there twice (upn_rows is then empty)
        self.valid_upns: set[str] | None = None
        self.dfe_invalid = False
        self.dfe_column: str | None = None
        if "dfe" in columns:
            self.dfe_column = self.name("dfe")
        elif "la" in columns and "estab" in columns:
            self.dfe_column = f"{self.name('la')}, {self.name('estab')}"

    def name(self, key: str) -> str:
        return self.columns[key][1] if key in self.columns else display_name(key)

    def check(self, pupils: _Pupils, errors: Findings, warnings: Findings) -> list[PupilRecord]:
        """Each pupil row's record; what is wrong is added to ``errors``, row by row, and a pupil
        without any result is a warning."""
        self._dfe(pupils)
        upns = self._upns(pupils)
        forenames = self._names(pupils, "forename")
        surnames = self._names(pupils, "surname")
        dobs = self._column(pupils, "dob", partial(self.rules.dob, self.today),
                            self.rules.dob_of(self.today))
        genders = self._column(pupils, "gender", self.rules.gender, self.rules.gender_of)
        nc_years = self.rules.nc_year_of(pupils.column("nc_year"))  # never wrong
        results: dict[str, Sequence[Any]] = {}
        for subject in self.subjects:
            results.update(self._test(pupils, subject))
        for key in TA_LABELS:
            results[key] = self._column(pupils, key, self.rules.ta[key], self.rules.ta_of[key])
        self.found.hand_to(errors)
        for row in _without_results(pupils.rows, list(results.values())):
            warnings.add("no-results", "No results in the file for this pupil; the pupil will "
                         "not be counted in reports.", self.name("upn"), row)
        # a record per pupil, made by a C loop (map) calling code compiled for the result keys
        return list(map(_records_maker(tuple(results)), pupils.rows, upns, forenames, surnames,
                        genders, dobs, nc_years, *results.values()))

    def _column(self, pupils: _Pupils, key: str, rule: CellRule,
                remembered: _Remembered) -> Sequence[Any]:
        """The value ``rule`` gives each row's cell of the column (``remembered`` is the same
        rule for cells that are fine); what it finds wrong is reported on the cell's row."""
        self.found.next_check()
        cells = pupils.column(key)
        try:
            return remembered(cells)
        except _Unusual:
            return self._each_cell(pupils, key, cells, rule)

    def _each_cell(self, pupils: _Pupils, key: str, cells: Sequence[Any],
                   rule: CellRule) -> list[Any]:
        """``_column`` for a column with a cell that is wrong (or unusual): ``rule`` once per
        distinct value (see _by_value), and each wrong cell reported on its row."""
        values: dict[Any, Any] = {}
        problems: dict[Any, tuple[str, str]] = {}
        for cell in set(cells):
            values[cell], problem = rule(cell_text(cell))
            if problem:
                problems[cell] = problem
        if problems:
            column = self.name(key)
            for row, cell in zip(pupils.rows, cells):
                if cell in problems:
                    rule_name, message = problems[cell]
                    self.found.add(rule_name, message, column, row)
        return list(map(values.__getitem__, cells))

    def _dfe(self, pupils: _Pupils) -> None:
        """Each row's DfE number, from its column or from LA and Estab: a valid one is recorded in
        ``dfe_rows``; a blank one leaves the school to the other rows or the file name."""
        if self.dfe_column is None:
            return
        self.found.next_check()
        if "dfe" in self.columns:
            cells = pupils.column("dfe")
            if cells and cells.count(cells[0]) == len(cells):  # one school's file: one number
                dfe = str(cell_text(cells[0]))
                if dfe and dfe_is_valid(dfe):
                    self.dfe_rows[dfe] = list(pupils.rows)
                    return
            dfes = _each(cells, str)
        else:
            dfes = [f"{la}{estab.zfill(4)}" if la and estab else "" for la, estab in
                    zip(_each(pupils.column("la"), str), _each(pupils.column("estab"), str))]
        valid = {dfe: dfe_is_valid(dfe) for dfe in set(dfes)}
        for row, dfe in zip(pupils.rows, dfes):
            if not dfe:
                continue
            if valid[dfe]:
                self.dfe_rows.setdefault(dfe, []).append(row)
            else:
                self.dfe_invalid = True
                self.found.add("dfe-invalid", "Invalid DFE detected.", self.dfe_column, row)

    def _upns(self, pupils: _Pupils) -> Sequence[str]:
        """Each row's UPN in capitals; a valid one is recorded in ``upn_rows``, unless every one
        is valid and none is there twice (``valid_upns``), as in nearly every file: that is
        found for the whole column at once (``all_valid_upns``)."""
        self.found.next_check()
        cells = pupils.column("upn")
        upns: Sequence[str]
        if all_valid_upns(cells):  # capitals and digits: already what upper and strip would give
            upns, valid = cells, True
        else:
            upns = list(map(str.upper, map(str.strip, cells)))
            valid = all_valid_upns(upns)
        distinct = set(upns)
        if valid and len(distinct) == len(upns):
            self.valid_upns = distinct
            return upns
        column = self.name("upn")
        for row, upn in zip(pupils.rows, upns):
            check_upn(upn, column, row, self.found, self.upn_rows)
        return upns

    def _names(self, pupils: _Pupils, key: str) -> list[str]:
        """A name column's texts; a blank or overlong one is reported (names are too varied to
        remember)."""
        self.found.next_check()
        cells = pupils.column(key)
        names = list(map(str.strip, cells))
        if all(names) and max(map(len, names), default=0) <= NAME_LENGTH:
            return names
        return self._each_cell(pupils, key, cells, partial(self._name, key))

    def _name(self, key: str, text: str) -> Verdict:
        return text, name_problem(self.name(key), text)

    def _scores(self, pupils: _Pupils,
                key: str) -> tuple[Sequence[int | None], Sequence[str | None]]:
        """A scaled-score column: each row's score, and the outcome it means."""
        self.found.next_check()
        cells = pupils.column(key)
        try:
            return self.rules.score_of(cells), self.rules.meant_of(cells)
        except _Unusual:
            return _unzip(self._each_cell(pupils, key, cells, self.rules.score))

    def _marks(self, pupils: _Pupils,
               key: str) -> tuple[Sequence[int | None], Sequence[str | None] | None]:
        """A raw-mark column: each row's mark, and each row's code (None: the column has none)."""
        self.found.next_check()
        cells = pupils.column(key)
        try:
            return self.rules.mark_of[key](cells), None
        except _Unusual:
            return _unzip(self._each_cell(pupils, key, cells, self.rules.raw[key]))

    def _test(self, pupils: _Pupils, subject: str) -> dict[str, Sequence[Any]]:
        """One test's scaled score, outcome and raw marks on each row; a code in a mark column is
        the outcome."""
        score_key, outcome_key = f"{subject}_score", f"{subject}_outcome"
        scores, meant = self._scores(pupils, score_key)
        outcomes = self._column(pupils, outcome_key, self.rules.outcome, self.rules.outcome_of)
        # score, outcome (given its place now, its value below), then the raw marks
        found: dict[str, Sequence[Any]] = {score_key: scores, outcome_key: outcomes}
        raw_codes: list[str | None] | None = None  # None: no code in any mark column
        for raw_key in self.rules.raw_keys[subject]:
            if raw_key not in self.columns:
                if raw_key == f"{subject}_raw":
                    found[raw_key] = [None] * len(pupils.rows)
                continue
            found[raw_key], codes = self._marks(pupils, raw_key)
            if codes is not None and any(codes):
                raw_codes = [first or code for first, code in
                             zip(raw_codes or [None] * len(pupils.rows), codes)]
        same = outcomes == meant  # then no outcome disagrees with its score, nor needs one
        self._agreement(pupils, outcome_key, outcomes, meant, same)
        found[outcome_key] = _outcomes(outcomes, meant, raw_codes, same)
        return found

    def _agreement(self, pupils: _Pupils, outcome_key: str, outcomes: Sequence[str | None],
                   meant: Sequence[str | None], same: bool) -> None:
        """An outcome given with a scaled score must be the one the score means (``same``: each
        outcome is the one its score means, so none disagrees)."""
        self.found.next_check()
        if same or not any(outcomes):
            return
        column = self.name(outcome_key)
        for row, outcome, from_score in zip(pupils.rows, outcomes, meant):
            if outcome and from_score and outcome != from_score:
                self.found.add("outcome-mismatch", self.rules.agree_message, column, row)


# A record's fields before its results, as _records_maker's function takes them.
RECORD_FIELDS = ("row", "upn", "forename", "surname", "gender", "dob", "nc_year")


@lru_cache(maxsize=16)  # one per set of result columns: a configuration has one or two
def _records_maker(keys: tuple[str, ...]) -> Callable[..., PupilRecord]:
    """A function of a row's ``RECORD_FIELDS`` and one value per result key that makes the row's
    ``PupilRecord``, compiled for the keys (as dataclasses and namedtuple compile their methods).

    A KS2 file makes a results dict of some twenty keys per pupil, and making dicts is most of
    what is left of checking one. Here the dict is made as the attributes of a throwaway
    object: the instances of one class share their attribute names (key-sharing dictionaries,
    PEP 412), so its ``__dict__`` is made without putting each key into a table of its own,
    about twice as quick as a dict display. It is a dict like any other, its keys in this order.
    Keys that cannot be attribute names get a dict display instead.
    """
    names = [f"value{n}" for n in range(len(keys))]
    fields = ", ".join(RECORD_FIELDS)
    if all(_attribute_name(key) for key in keys):
        lines = ["results = new(Results)"]
        lines += [f"results.{key} = {name}" for key, name in zip(keys, names)]
        results = "results.__dict__"
    else:
        lines = []
        results = "{" + ", ".join(f"{key!r}: {name}" for key, name in zip(keys, names)) + "}"
    lines.append(f"return PupilRecord({fields}, {results})")
    source = "".join([f"def make({fields}, {', '.join(names)}):\n",
                      *(f"    {line}\n" for line in lines)])
    namespace = {"new": object.__new__, "Results": type("Results", (), {}),
                 "PupilRecord": PupilRecord}
    exec(source, namespace)  # the keys are checked attribute names, or repr'd
    return namespace["make"]


def _attribute_name(key: str) -> bool:
    """Whether ``obj.key = value`` can be written for the key, meaning an attribute of its own."""
    return key.isidentifier() and not keyword.iskeyword(key) and not key.startswith("__")


def _outcomes(outcomes: Sequence[str | None], meant: Sequence[str | None],
              raw_codes: list[str | None] | None, same: bool) -> Sequence[str | None]:
    """Each row's outcome: the one given, else the one the score means, else a mark column's
    code. Without codes, outcomes the same as the scores' (``same``) or none given at all need
    no row loop."""
    if raw_codes is None:
        if same:
            return outcomes
        if not any(outcomes):
            return meant
        raw_codes = [None] * len(outcomes)
    return [outcome or from_score or raw_code for outcome, from_score, raw_code
            in zip(outcomes, meant, raw_codes)]


def _without_results(rows: list[int], columns: list[Sequence[Any]]) -> list[int]:
    """The rows with no result in any column. A column with a value on every row (one C scan)
    means there are none, without looking at each row."""
    if not columns or any(None not in column for column in columns):
        return []
    return [row for row, values in zip(rows, zip(*columns)) if values.count(None) == len(values)]


def file_name_dfe(file_name: str | None) -> str | None:
    """The seven digits a portal file's name starts with (``8012001_KS2_...csv``), if any."""
    if not file_name:
        return None
    base = re.split(r"[\\/]", file_name)[-1].strip()
    match = FILE_NAME_DFE.match(base)
    return match.group(1) if match else None


def _school(checker: _Checker, file_name: str | None, errors: Findings, warnings: Findings,
            context: ValidationContext) -> str | None:
    """The school: the DfE number on most rows, else the file name's; the sender must be permitted."""
    named = file_name_dfe(file_name)
    column, rows = checker.dfe_column, checker.dfe_rows
    if rows:
        school = (next(iter(rows)) if len(rows) == 1 else
                  Counter({dfe: len(where) for dfe, where in rows.items()}).most_common(1)[0][0])
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
