"""Identifier and cell rules shared by every file format (UPN, DfE number, dates, scores)."""
from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from datetime import date, datetime

from config.codes import la_codes

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # I, O and S are never used
UPN_SHAPE = re.compile(r"[A-Z]\d{11}[0-9A-Z]")
DFE_SHAPE = re.compile(r"\d{7}")
WHOLE_NUMBER = re.compile(r"[+-]?\d+")
# DD/MM/YYYY in ASCII digits, the way nearly every date is written: read without strptime, which
# costs about ten times as much. Any other text (other digits, one-digit days, ISO) goes to strptime.
DAY_FIRST = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
# How much of a file's start is looked at to tell its format (CTF markup, UTF-16 without a BOM,
# HTML or XML saved as .xls): enough for any header or prolog, and never the whole file.
SNIFF_BYTES = 4096

UPN_FORMAT_MESSAGE = ("UPN must start with a letter and then followed by 11 digit number "
                      "and end with either a letter or number.")


def cell_text(value: object) -> str:
    """A cell as the text a person typed: 8011234.0 read from Excel is "8011234"."""
    if type(value) is str:  # every CSV cell and most workbook cells: no other branch applies
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return day_first(value) if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return day_first(value)
    return str(value).strip()


def day_first(day: date) -> str:
    """The date as ``strftime("%d/%m/%Y")`` writes it, at a tenth of its cost (every workbook row
    has a date of birth). A year before 1000 is left to strftime: C libraries pad it differently."""
    if day.year < 1000:
        return day.strftime("%d/%m/%Y")
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _char_value(char: str) -> int:
    """A character's value in the check-letter sum: a letter its place in CHECK_LETTERS, a digit
    its own value (ValueError for any other character)."""
    return CHECK_LETTERS.index(char) if char.isalpha() else int(char)


class _CharValues(dict[str, int]):
    """``_char_value`` looked up for the usual characters, so a UPN is summed without a Python call
    per character; any other character (a digit of another script) still goes to ``_char_value``."""

    def __missing__(self, char: str) -> int:
        return _char_value(char)


CHAR_VALUES = _CharValues({char: _char_value(char) for char in CHECK_LETTERS + "0123456789"})
CHECK_WEIGHTS = range(2, 14)


def upn_check_letter(upn: str) -> str:
    """The check letter for characters 2..13 of a UPN (DfE algorithm, weights 2..13, mod 23)."""
    total = sum(map(operator.mul, CHECK_WEIGHTS, map(CHAR_VALUES.__getitem__, upn[1:13])))
    return CHECK_LETTERS[total % 23]


def upn_problem(upn: str) -> str | None:
    """None for a valid UPN, else the rule it breaks: 'upn-missing', 'upn-format' or 'upn-check-letter'."""
    if not upn:
        return "upn-missing"
    if not UPN_SHAPE.fullmatch(upn) or (upn[12].isalpha() and upn[12] not in CHECK_LETTERS):
        return "upn-format"
    if upn[0] != upn_check_letter(upn):
        return "upn-check-letter"
    return None


# A pupil's names are stored in columns of this many characters (models: PupilResult). The
# formats have no length rule of their own (a name is a name), but a longer one, from a hostile
# or broken file, would fail the upload's transaction and leave the school with no answer.
NAME_LENGTH = 100


def name_problem(column: str, name: str) -> tuple[str, str] | None:
    """(rule, message) when a forename or surname cannot be kept: blank, or too long to store."""
    if not name:
        return "name-missing", f"{column} must have a value."
    if len(name) > NAME_LENGTH:
        return "name-too-long", f"{column} must be at most {NAME_LENGTH} characters."
    return None


def is_valid_upn(upn: str) -> bool:
    return upn_problem(upn) is None


# A column of UPNs checked at once (all_valid_upns): each UPN and a newline, in ASCII, where a
# UPN's last character is a digit or a check letter (no I, O or S).
_UPN_LINES = re.compile(r"(?:[A-Z][0-9]{11}[0-9ABCDEFGHJKLMNPQRTUVWXYZ]\n)*")
_UPN_LINE = 14
# Each letter and digit as the character whose code is its value in the check-letter sum.
_CHAR_CODES = str.maketrans({char: chr(value) for char, value in CHAR_VALUES.items()})
# The weights as a number of 16-bit places, weight w at place 13 - w: multiplied by the UPN
# characters' codes, place 12 of each UPN's line is that UPN's weighted sum (see all_valid_upns).
_WEIGHTS = sum(weight << (16 * (13 - weight)) for weight in CHECK_WEIGHTS)
# The check letter of each weighted sum a UPN of the usual shape can have (at most 22 x 90),
# indexed by the sum: a table for str.translate.
_LETTER_OF_SUM = "".join(CHECK_LETTERS[total % 23] for total in range(22 * 90 + 1))


def all_valid_upns(upns: Sequence[str]) -> bool:
    """Whether every UPN is valid (``upn_problem`` None), worked out for the whole column at once.

    A file's UPNs are all different, so checking them one by one costs Python calls per pupil
    (as long as reading a KS2 file takes). Here one regex checks every UPN's shape and one big-number
    product works out every weighted sum: the lines' character codes are the 16-bit places of one
    number, and multiplying it by ``_WEIGHTS`` adds up, at place 12 of each line, weight times
    value over that UPN's characters 2..13. No place of the product reaches 2**16 (at most 12
    weights of 13 or less times an ASCII code), so none carries into the next. False means at
    least one UPN is not valid, or is not plain ASCII: check those one by one.
    """
    if not upns:
        return True
    lines = "\n".join(upns) + "\n"
    # the length: every newline is a separator, so each UPN is exactly its line's 13 characters
    if (len(lines) != _UPN_LINE * len(upns) or not lines.isascii()
            or not _UPN_LINES.fullmatch(lines)):
        return False
    codes = lines.translate(_CHAR_CODES).encode("utf-16-le")
    product = int.from_bytes(codes, "little") * _WEIGHTS
    places = memoryview(product.to_bytes(len(codes) + 2 * _UPN_LINE, "little")).cast("H")
    # place 12 of each line, as the character whose code is the sum (the bytes are little-endian
    # whatever the machine's order: the cast only groups them in twos)
    sums = places[12:len(lines):_UPN_LINE].tobytes().decode("utf-16-le")
    return sums.translate(_LETTER_OF_SUM) == lines[::_UPN_LINE]


def dfe_is_valid(dfe: str) -> bool:
    """Seven digits whose first three are a real local-authority code."""
    return bool(DFE_SHAPE.fullmatch(dfe)) and int(dfe[:3]) in la_codes()


def parse_date(value: object) -> date | None:
    """A date from an Excel date cell or text written DD/MM/YYYY (or ISO YYYY-MM-DD)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    day_first = DAY_FIRST.fullmatch(text)
    if day_first:  # what strptime gives for "%d/%m/%Y"; no other format can read this text
        day, month, year = map(int, day_first.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def whole_number(value: object) -> int | None:
    """An integer from 100, 100.0 or "100"; None for 100.5, "abc" or blank."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = cell_text(value)
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None
