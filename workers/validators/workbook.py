"""Reads the first sheet of a workbook with python-calamine, keeping real spreadsheet row numbers."""
from __future__ import annotations

import io
import zipfile
from typing import Any

import python_calamine

from config.settings import Limits
from workers.validators.result import UnreadableFile

MAX_ZIP_ENTRIES = 10_000

Row = list[Any]


def inspect_xlsx(data: bytes, limits: Limits) -> None:
    """Refuse zip bombs, macro workbooks and non-workbooks from the zip directory alone.

    Only the central directory is read, so a bomb is refused before a byte is inflated.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnreadableFile("The file is damaged or not an Excel workbook: it could not be "
                             "opened. Please save it again from Excel as an .xlsx workbook.") from None
    names = {entry.filename for entry in entries}
    unzipped = sum(entry.file_size for entry in entries)
    if len(entries) > MAX_ZIP_ENTRIES or unzipped > limits.max_unzipped_bytes:
        raise UnreadableFile(
            f"The workbook would be {unzipped / 1e6:.0f} MB once opened; the limit is "
            f"{limits.max_unzipped_bytes / 1e6:.0f} MB. Please send only the results template.")
    if unzipped > limits.max_compression_ratio * max(len(data), 1):
        raise UnreadableFile(
            f"The workbook is compressed {unzipped // max(len(data), 1)} times over, far more than a "
            "real spreadsheet, so it was not opened. Please send the results template as saved by Excel.")
    if "xl/vbaProject.bin" in names:
        raise UnreadableFile("The file is a macro-enabled workbook (.xlsm). Please save it as an "
                             "Excel Workbook (.xlsx), without macros, and send it again.")
    if "xl/workbook.xml" not in names:
        raise UnreadableFile("The file is a zip archive or another document, not an Excel workbook. "
                             "Please send the results template as an Excel workbook (.xlsx).")


def first_sheet_rows(data: bytes, max_rows: int) -> list[Row]:
    """Every row of the first sheet from row 1, so ``rows[i]`` is spreadsheet row ``i + 1``.

    Leading blank rows and columns are kept (calamine would otherwise skip them and shift
    the row numbers we report, which the seeds warn about).
    """
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        if sheet.total_height > max_rows + 1:
            raise UnreadableFile(
                f"The first sheet has {sheet.total_height} rows; at most {max_rows} pupils "
                "can be sent in one file. Please send one school's template at a time.")
        return sheet.to_python(skip_empty_area=False)
    except UnreadableFile:
        raise
    except Exception as exc:  # calamine raises several types for corrupt files
        raise UnreadableFile(
            "The file could not be opened as an Excel workbook (.xlsx). "
            "Please save it again from Excel as an .xlsx workbook and resend it. "
            f"(Reader said: {str(exc)[:200]})") from None


def is_blank_row(row: Row) -> bool:
    """Every cell empty or only spaces. A loop rather than ``all(...)`` over a generator: it runs
    on every row of every file and returns at the first filled cell, so it is mostly set-up cost."""
    for cell in row:
        if cell is not None and not (isinstance(cell, str) and not cell.strip()):
            return False
    return True
