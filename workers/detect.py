"""Detects a file's format from its content, never from its name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.settings import Limits
from workers.validators import ctf, ks2, ks4
from workers.validators.result import UnreadableFile
from workers.validators.rules import cell_text
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
    if not data:
        raise UnreadableFile(f"The file is empty. {SEND_INSTEAD}")
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
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(f"The file's format was not recognised. {SEND_INSTEAD}")
    rows = ks2.read_csv(data, limits.max_rows)
    if ks2.looks_like(rows):
        return Detected(ks2.FORMAT, rows)
    raise UnreadableFile(
        "The file's format was not recognised: it is text, but its first row is not the header of "
        "the KS2 'All subjects with TA' download. Please send the KS2 file exactly as downloaded "
        f"from the portal, without editing it. {SEND_INSTEAD}")


def _ole2_message(data: bytes) -> str:
    """Excel saves password-protected workbooks in an OLE2 container holding an EncryptedPackage."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return ("The workbook is password-protected, so it cannot be read. Please remove the "
                "password (File > Info > Protect Workbook) and send it again.")
    return ("The file is an old-style Excel 97-2003 workbook (.xls). Please open it in Excel, "
            "choose Save As > Excel Workbook (.xlsx), and send that file.")


def _workbook_format(rows: list[list[Any]]) -> Detected:
    header = " ".join(cell_text(c) for c in (rows[0] if rows else []))
    if "KS1" in header and ("Teacher Assessment" in header or "Scaled Score" in header):
        return Detected("ks1-template", rows)
    kind = ks4.kind_of(rows[0]) if rows else None
    if kind is not None:
        return Detected(kind, rows)
    raise UnreadableFile(
        "This workbook is not a results template we recognise: its first row should be the "
        "template's header (School DFE, UPN, Forename, ...). Please use the template the service "
        "provides, without changing its header row.")
