"""Reads the first sheet of a workbook with python-calamine, keeping real spreadsheet row numbers."""
from __future__ import annotations

import io
from typing import Any

import python_calamine

from workers.validators.result import UnreadableFile

Row = list[Any]


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
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row)
