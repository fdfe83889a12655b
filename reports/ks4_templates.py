"""Excel workbooks for the KS4 GCSE and non-GCSE results templates, written with openpyxl."""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

from reports.templates import write_text_safely
from workers.validators.ks4 import FIXED_COLUMNS, TEMPLATE_NAMES, header


def ks4_workbook(kind: str, rows: Iterable[Sequence[Any]]) -> bytes:
    """The kind's template with the given data rows under its header (dates as real Excel dates)."""
    columns = header(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"KS4 {TEMPLATE_NAMES[kind]} results"
    sheet.append(columns)
    for row in rows:
        sheet.append(list(row))
    write_text_safely(sheet)
    for index, _ in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = 16
    dob_column = sheet.cell(1, FIXED_COLUMNS.index("Date of birth") + 1).column_letter
    for cell in sheet[dob_column][1:]:
        cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
