"""Identifier and cell rules shared by every file format (UPN, DfE number, dates, scores)."""
from __future__ import annotations

import re
from datetime import date, datetime

from config.codes import la_codes

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # I, O and S are never used
UPN_SHAPE = re.compile(r"[A-Z]\d{11}[0-9A-Z]")
DFE_SHAPE = re.compile(r"\d{7}")

UPN_FORMAT_MESSAGE = ("UPN must start with a letter and then followed by 11 digit number "
                      "and end with either a letter or number.")


def cell_text(value: object) -> str:
    """A cell as the text a person typed: 8011234.0 read from Excel is "8011234"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y") if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def upn_check_letter(upn: str) -> str:
    """The check letter for characters 2..13 of a UPN (DfE algorithm, weights 2..13, mod 23)."""
    total = 0
    for weight, char in enumerate(upn[1:13], start=2):
        value = CHECK_LETTERS.index(char) if char.isalpha() else int(char)
        total += weight * value
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


def is_valid_upn(upn: str) -> bool:
    return upn_problem(upn) is None


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
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
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
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else None
