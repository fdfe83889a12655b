"""Excel templates written with openpyxl: the KS1 results template, pre-filled from a roster."""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from workers.validators.ks1 import HEADER as KS1_HEADER

GENDER_WORDS = {"M": "Male", "F": "Female"}


def write_text_safely(sheet: Worksheet) -> None:
    """Text copied from a submission is never a formula: cells openpyxl took for one become strings."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def ks1_workbook(rows: Iterable[Sequence[Any]]) -> bytes:
    """A KS1 template with the given data rows under the header (dates as real Excel dates)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "KS1 results"
    sheet.append(KS1_HEADER)
    for row in rows:
        sheet.append(list(row))
    write_text_safely(sheet)
    for index, _ in enumerate(KS1_HEADER, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = 16
    for cell in sheet["F"][1:]:
        cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ks1_template(dfe: str, pupils: Iterable[Any]) -> bytes:
    """Pre-filled with the school's Year 2 pupils; results columns left for the school."""
    return ks1_workbook([dfe, p.upn, p.forename, p.surname, GENDER_WORDS.get(p.gender or "", ""),
                         p.dob, p.nc_year or 2] for p in pupils)
