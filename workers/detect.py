"""Detects a file's format from its content, never from its name."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from workers.validators.result import UnreadableFile
from workers.validators.rules import cell_text
from workers.validators.workbook import first_sheet_rows

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

SIGNATURES = {
    b"%PDF": "a PDF",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"GIF8": "an image",
}

SEND_INSTEAD = "Please send the results template as an Excel workbook (.xlsx)."


@dataclass
class Detected:
    """The format key (e.g. ``ks1-template``) and the rows already read, so nothing is read twice."""
    format: str
    rows: list[list[Any]]


def detect(data: bytes, max_rows: int) -> Detected:
    """What the file is, or UnreadableFile saying what to send instead."""
    if not data:
        raise UnreadableFile(f"The file is empty. {SEND_INSTEAD}")
    for signature, what in SIGNATURES.items():
        if data.startswith(signature):
            raise UnreadableFile(f"The file is {what}, not a results file. {SEND_INSTEAD}")
    if data.startswith(OLE2):
        raise UnreadableFile(
            "The file is an old-style Excel workbook (.xls) or is password-protected. "
            "Please remove any password and save it as an Excel Workbook (.xlsx).")
    if data.startswith(b"PK") and _is_xlsx(data):
        return _workbook_format(first_sheet_rows(data, max_rows))
    raise UnreadableFile(f"The file's format was not recognised. {SEND_INSTEAD}")


def _is_xlsx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _workbook_format(rows: list[list[Any]]) -> Detected:
    header = " ".join(cell_text(c) for c in (rows[0] if rows else []))
    if "KS1" in header and ("Teacher Assessment" in header or "Scaled Score" in header):
        return Detected("ks1-template", rows)
    raise UnreadableFile(
        "This workbook is not a results template we recognise: its first row should be the "
        "template's header (School DFE, UPN, Forename, ...). Please use the template the service "
        "provides, without changing its header row.")
