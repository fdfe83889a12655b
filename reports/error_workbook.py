"""The error workbook attached to an answer: the school's own workbook with every invalid cell
highlighted and commented, plus an ``Errors`` sheet; for CSV and CTF uploads a workbook listing
the same findings.

Text copied from a submission (messages, header text, file names) is never written as a formula.
The school's workbook has already passed ``workers.validators.workbook.inspect_xlsx`` (zip bombs,
macros) before it reaches here; it is checked again (cheap: the zip directory only) and opened
with openpyxl, which never evaluates formulas. The school's own formulas are kept as they were.
"""
from __future__ import annotations

import io
import os
import re
import unicodedata
import warnings as python_warnings
from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from config.settings import Limits
from workers.validators import VALIDATORS, ks1, ks4
from workers.validators.workbook import inspect_xlsx

AUTHOR = "Early results service"
EXCEL_FORMATS = frozenset({ks1.FORMAT, ks4.GCSE, ks4.NON_GCSE})
ERRORS_SHEET = "Errors"
COLUMNS = ("Type", "Rule", "Column", "Rows", "Message")
WIDTHS = (10, 24, 34, 30, 90)
TITLE_PREFIX = "Errors in "

# Our own shades (close to Excel's "Bad" and "Neutral" styles but not equal to them), so a
# re-sent annotated workbook can be cleaned of our old highlights without touching the school's.
ERROR_RGB = "FFFFC9C9"
WARNING_RGB = "FFFFE4A8"
ERROR_FILL = PatternFill(fill_type="solid", fgColor=ERROR_RGB, bgColor=ERROR_RGB)
WARNING_FILL = PatternFill(fill_type="solid", fgColor=WARNING_RGB, bgColor=WARNING_RGB)
OUR_RGBS = {ERROR_RGB, WARNING_RGB}

MAX_CELL_CHARS = 32_767       # Excel's limit for a cell's text
MAX_COMMENT_CHARS = 8_000     # comments stay readable; Excel's own limit is 32,767
MAX_ROW_CELLS = 256           # a whole-row highlight never spreads further than this
MAX_EXCEL_ROW = 1_048_576
MAX_STEM_CHARS = 80
NOT_IN_FILE_NAMES = re.compile(r'[<>:"/\\|?*]')


# --- shared helpers ------------------------------------------------------------------------------

def _as_dict(finding: Any) -> dict[str, Any]:
    """A finding as ``{"rule", "message", "column", "rows"}`` (dicts or ``Finding`` objects)."""
    if not isinstance(finding, Mapping):
        finding = finding.as_dict()
    rows = []
    for row in finding.get("rows") or []:
        try:
            rows.append(int(row))
        except (TypeError, ValueError):
            continue
    column = finding.get("column")
    return {"rule": str(finding.get("rule") or ""), "message": str(finding.get("message") or ""),
            "column": None if column is None else str(column), "rows": rows}


def _clean(value: object, limit: int = MAX_CELL_CHARS) -> str:
    """Text an .xlsx can hold: no characters XML forbids, no more than ``limit`` characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _put_text(sheet: Worksheet, row: int, column: int, value: object) -> None:
    """Writes text that is never a formula, whatever it begins with."""
    cell = sheet.cell(row, column)
    cell.value = _clean(value) if value is not None else None
    if cell.data_type == "f":
        cell.data_type = "s"


def _rows_text(rows: list[int]) -> str:
    text = ", ".join(str(r) for r in rows)
    if len(text) <= MAX_CELL_CHARS:
        return text
    cut = text[:MAX_CELL_CHARS - 40].rsplit(", ", 1)[0]
    shown = cut.count(", ") + 1
    return f"{cut} … and {len(rows) - shown} more"


def _key(text: object) -> str:
    """Header text as it is matched: trimmed, inner spaces collapsed, case-insensitive."""
    return " ".join(str(text).split()).casefold() if text is not None else ""


def _fill_errors_sheet(sheet: Worksheet, title: str, errors: list[dict[str, Any]],
                       warnings: list[dict[str, Any]]) -> None:
    """Row 1 a title, row 2 the header (bold, filtered), then one row per finding."""
    _put_text(sheet, 1, 1, title)
    sheet.cell(1, 1).font = Font(bold=True, size=12)
    for index, name in enumerate(COLUMNS, start=1):
        _put_text(sheet, 2, index, name)
        sheet.cell(2, index).font = Font(bold=True)
    row = 2
    for kind, findings in (("Error", errors), ("Warning", warnings)):
        for finding in findings:
            row += 1
            values = (kind, finding["rule"], finding["column"] or "", _rows_text(finding["rows"]),
                      finding["message"])
            for index, value in enumerate(values, start=1):
                _put_text(sheet, row, index, value)
                sheet.cell(row, index).alignment = Alignment(vertical="top",
                                                             wrap_text=index >= 3)
            sheet.cell(row, 1).fill = ERROR_FILL if kind == "Error" else WARNING_FILL
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[sheet.cell(2, index).column_letter].width = width
    sheet.auto_filter.ref = f"A2:E{row}"
    sheet.freeze_panes = "A3"


def _summary(errors: list, warnings: list) -> str:
    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"
    return f"{count(len(errors), 'error')}, {count(len(warnings), 'warning')}"


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- CSV and CTF uploads -------------------------------------------------------------------------

def errors_workbook(errors: list[dict], warnings: list[dict], title: str) -> bytes:
    """A new workbook with only the ``Errors`` sheet; row 1 names the file."""
    errors = [_as_dict(f) for f in errors]
    warnings = [_as_dict(f) for f in warnings]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = ERRORS_SHEET
    _fill_errors_sheet(sheet, f"{TITLE_PREFIX}{title or 'your file'} ({_summary(errors, warnings)})",
                       errors, warnings)
    return _save(workbook)


# --- Excel uploads -------------------------------------------------------------------------------

def annotate_workbook(data: bytes, errors: list[dict], warnings: list[dict], *,
                      title: str | None = None, limits: Limits | None = None) -> bytes:
    """The school's workbook with each finding's cells filled and commented, and an ``Errors``
    sheet after the school's sheets (the active one when opened).

    Cells are found on the FIRST sheet (the one validated) by the finding's column, matched to
    the header row's text, and its spreadsheet rows. A finding with no column, or a column the
    header does not have, highlights its whole rows (row 1, the header row, when it lists none).
    A workbook openpyxl cannot open falls back to :func:`errors_workbook`.
    """
    errors = [_as_dict(f) for f in errors]
    warnings = [_as_dict(f) for f in warnings]
    try:
        inspect_xlsx(data, limits or Limits())
        with python_warnings.catch_warnings():  # "extension is not supported" and the like
            python_warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=False, data_only=False,
                                     keep_vba=False, rich_text=False)
        if not workbook.worksheets:
            raise ValueError("no worksheets")
        sheet = workbook.worksheets[0]
        _remove_old_annotations(workbook, sheet)
        # warnings first, so an error on the same cell wins the fill
        for kind, findings, fill in (("Warning", warnings, WARNING_FILL),
                                     ("Error", errors, ERROR_FILL)):
            _mark(sheet, kind, findings, fill)
        errors_sheet = workbook.create_sheet(_free_title(workbook, ERRORS_SHEET))
        _fill_errors_sheet(errors_sheet, f"{TITLE_PREFIX}sheet '{sheet.title}' "
                           f"({_summary(errors, warnings)}): correct the highlighted cells "
                           "there and send the file again.", errors, warnings)
        for other in workbook.worksheets:
            other.sheet_view.tabSelected = other is errors_sheet
        workbook.active = errors_sheet
        return _save(workbook)
    except Exception:  # noqa: BLE001  (openpyxl raises many types for damaged workbooks)
        return errors_workbook(errors, warnings, title or "your workbook")


def _free_title(workbook: Workbook, wanted: str) -> str:
    """``Errors``, or ``Errors (2)``... when the school has one (sheet names ignore case)."""
    taken = {name.casefold() for name in workbook.sheetnames}
    title, n = wanted, 1
    while title.casefold() in taken:
        n += 1
        title = f"{wanted} ({n})"
    return title


def _is_our_errors_sheet(sheet: Any) -> bool:
    if not isinstance(sheet, Worksheet):
        return False
    if not re.fullmatch(rf"{ERRORS_SHEET}( \(\d+\))?", sheet.title):
        return False
    first = sheet.cell(1, 1).value
    header = tuple(sheet.cell(2, c).value for c in range(1, len(COLUMNS) + 1))
    return isinstance(first, str) and first.startswith(TITLE_PREFIX) and header == COLUMNS


def _remove_old_annotations(workbook: Workbook, sheet: Worksheet) -> None:
    """A re-sent annotated workbook: our old highlights, comments and Errors sheet go, so the
    answer shows only what is wrong now. The school's own fills, comments and sheets stay."""
    for old in [s for s in workbook.worksheets[1:] if _is_our_errors_sheet(s)]:
        workbook.remove(old)
    for cell in list(sheet._cells.values()):  # only cells that exist; no new ones are made
        if cell.comment is not None and cell.comment.author == AUTHOR:
            cell.comment = None
        fill = cell.fill
        if fill is not None and fill.fill_type == "solid" and fill.fgColor is not None \
                and fill.fgColor.type == "rgb" and fill.fgColor.rgb in OUR_RGBS:
            cell.fill = PatternFill(fill_type=None)


def _header_columns(sheet: Worksheet) -> tuple[dict[str, int], int]:
    """Header text -> column number (the first column wins), and the header's width."""
    columns: dict[str, int] = {}
    last = 0
    for cell in next(sheet.iter_rows(min_row=1, max_row=1), ()):
        key = _key(cell.value)
        if key:
            columns.setdefault(key, cell.column)
            last = cell.column
    width = last or min(max(sheet.max_column, 1), MAX_ROW_CELLS)
    return columns, min(width, MAX_ROW_CELLS)


def _mark(sheet: Worksheet, kind: str, findings: list[dict[str, Any]], fill: PatternFill) -> None:
    columns, width = _header_columns(sheet)
    for finding in findings:
        rows = [r for r in finding["rows"] if 1 <= r <= MAX_EXCEL_ROW] or [1]
        column = columns.get(_key(finding["column"])) if finding["column"] else None
        note = f"{kind}: {finding['message']}"
        if column is not None:
            for row in rows:
                _annotate(sheet.cell(row, column), note, fill)
            continue
        if finding["column"]:
            note += f" (Column: {finding['column']}.)"
        for row in dict.fromkeys(rows):
            for col in range(1, width + 1):
                _annotate(sheet.cell(row, col), note if col == 1 else None, fill)


def _annotate(cell: Any, note: str | None, fill: PatternFill) -> None:
    if isinstance(cell, MergedCell):  # part of a merged range: mark the range's top-left cell
        for merged in cell.parent.merged_cells.ranges:
            if cell.coordinate in merged:
                cell = cell.parent.cell(merged.min_row, merged.min_col)
                break
        else:
            return
    cell.fill = fill
    if not note:
        return
    existing = cell.comment
    if existing is None:
        text = note
    elif existing.author == AUTHOR:
        if note in existing.text.split("\n\n"):
            return
        text = f"{existing.text}\n\n{note}"
    else:  # the school's own note is kept under ours
        text = f"{note}\n\nYour note: {existing.text}"
    text = _clean(text, MAX_COMMENT_CHARS)
    comment = Comment(text, AUTHOR)
    comment.width = 320
    comment.height = min(400, 40 + 16 * (len(text) // 45 + text.count("\n") + 1))
    cell.comment = comment


# --- the answer's attachment ---------------------------------------------------------------------

def safe_stem(file_name: str | None) -> str:
    """The sender's file name without folders, extension, control or forbidden characters."""
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    name = NOT_IN_FILE_NAMES.sub("", name)
    name = " ".join(name.split()).lstrip(" .")  # no hidden-file names, no runs of spaces
    stem = os.path.splitext(name)[0][:MAX_STEM_CHARS].strip(" .")
    return stem or "upload"


def answer_attachment(file_name: str, fmt: str | None, data: bytes | None,
                      errors: Iterable[Any], warnings: Iterable[Any]) -> tuple[str, bytes] | None:
    """``(name, bytes)`` of the workbook to attach to an answer, or None when there is none.

    Excel formats get the school's own workbook annotated; other known formats (KS2 CSV, CTF)
    a workbook listing the findings. No findings, no data or an unknown format: nothing.
    """
    errors, warnings = list(errors or []), list(warnings or [])
    if data is None or (not errors and not warnings) or fmt not in VALIDATORS:
        return None
    stem = safe_stem(file_name)
    name = f"{stem} - errors.xlsx"
    if fmt in EXCEL_FORMATS:
        return name, annotate_workbook(data, errors, warnings, title=stem)
    return name, errors_workbook(errors, warnings, stem)
