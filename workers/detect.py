"""Detects a file's format from its content, never from its name."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from config.settings import Limits
from workers.validators import ctf, ks2, ks4
from workers.validators.result import UnreadableFile
from workers.validators.rules import SNIFF_BYTES, cell_text
from workers.validators.workbook import first_sheet_rows, inspect_xlsx

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

SIGNATURES = {
    b"%PDF": "a PDF",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"GIF8": "an image",
}

SEND_INSTEAD = ("Please send the results template as an Excel workbook (.xlsx), the KS2 CSV file "
                "as downloaded from the portal, or a Common Transfer File (.xml).")


@dataclass
class Detected:
    """The format key (e.g. ``ks1-template``) and what was already read (rows, or the bytes of
    an XML file), so nothing is read twice."""
    format: str
    rows: Any


def detect(data: bytes, limits: Limits) -> Detected:
    """What the file is, or UnreadableFile saying what to send instead."""
    if _BLANK.match(data):
        shown = "empty" if not data else "empty: it holds only blank lines or spaces"
        raise UnreadableFile(f"The file is {shown}. {SEND_INSTEAD}")
    for signature, what in SIGNATURES.items():
        if data.startswith(signature):
            raise UnreadableFile(f"The file is {what}, not a results file. {SEND_INSTEAD}")
    if data.startswith(OLE2):
        raise UnreadableFile(_ole2_message(data))
    if data.startswith(b"PK"):
        inspect_xlsx(data, limits)
        return _workbook_format(first_sheet_rows(data, limits.max_rows))
    if ctf.looks_like(data):
        return Detected(ctf.FORMAT, data)
    other = _saved_as_excel(data[:SNIFF_BYTES])
    if other is not None:
        raise UnreadableFile(other)
    if b"\x00" in data[:SNIFF_BYTES] and not data.startswith((b"\xff\xfe", b"\xfe\xff")) \
            and not ks2.looks_like_text(data[:SNIFF_BYTES]):
        raise UnreadableFile(f"The file's format was not recognised. {SEND_INSTEAD}")
    rows = ks2.read_csv(data, limits.max_rows)
    if ks2.looks_like(rows):
        return Detected(ks2.FORMAT, rows)
    raise UnreadableFile(
        "The file's format was not recognised: it is text, but its first row is not the header of "
        "the KS2 'All subjects with TA' download. Please send the KS2 file exactly as downloaded "
        f"from the portal, without editing it. {SEND_INSTEAD}")


_BLANK = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n\f\v]*\Z")  # stops at the first other byte: no copy
_HTML = re.compile(rb"<(?:!doctype\s+html|html[\s>]|table[\s>]|head[\s>]|body[\s>]|meta\s)", re.IGNORECASE)
_SPREADSHEET_2003 = re.compile(rb"urn:schemas-microsoft-com:office:spreadsheet|progid=.Excel\.Sheet",
                               re.IGNORECASE)


def _saved_as_excel(head: bytes) -> str | None:
    """Excel opens web pages and its 2003 XML format under an .xls name, so schools send them
    believing they are workbooks; they are text, and say so in their first kilobytes."""
    text = head.replace(b"\x00", b"").lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n")
    if not text.startswith(b"<"):
        return None
    if _SPREADSHEET_2003.search(text):
        return ("The file is an 'XML Spreadsheet 2003' file, not an Excel workbook. Please open it "
                "in Excel, choose Save As > Excel Workbook (.xlsx), and send that file.")
    if _HTML.search(text):
        return ("The file is a web page (HTML), not an Excel workbook, although its name may end in "
                ".xls. Please open it in Excel, choose Save As > Excel Workbook (.xlsx), and send "
                "that file.")
    return None


def _ole2_message(data: bytes) -> str:
    """Excel saves password-protected workbooks in an OLE2 container holding an EncryptedPackage."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return ("The workbook is password-protected, so it cannot be read. Please remove the "
                "password (File > Info > Protect Workbook) and send it again.")
    return ("The file is an old-style Excel 97-2003 workbook (.xls). Please open it in Excel, "
            "choose Save As > Excel Workbook (.xlsx), and send that file.")


HEADER_SEARCH_ROWS = 20
MAX_HEADER_CELL = 500


def _workbook_format(rows: list[list[Any]]) -> Detected:
    kind = _template_kind(rows[0]) if rows else None
    if kind is not None:
        return Detected(kind, rows)
    for index, row in enumerate(rows[1:HEADER_SEARCH_ROWS], start=2):
        moved = _template_kind(row)
        if moved is not None:
            raise UnreadableFile(
                f"The template's header row (School DFE, UPN, Forename, ...) is on row {index}, but "
                "it must be row 1: rows were added above it. Please delete the rows above the "
                "header, or use the template the service provides, and send it again.")
    raise UnreadableFile(
        "This workbook is not a results template we recognise: its first row should be the "
        "template's header (School DFE, UPN, Forename, ...). Please use the template the service "
        "provides, without changing its header row.")


def _template_kind(row: list[Any]) -> str | None:
    """The template a header row belongs to (KS1, KS4 GCSE or non-GCSE), or None. A header cell
    of more text than any template's is no header: it is never matched (or echoed back)."""
    if any(isinstance(c, str) and len(c) > MAX_HEADER_CELL for c in row):
        return None
    header = " ".join(cell_text(c) for c in row)
    if "KS1" in header and ("Teacher Assessment" in header or "Scaled Score" in header):
        return "ks1-template"
    return ks4.kind_of(row)
