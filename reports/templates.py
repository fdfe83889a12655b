"""Excel templates written with openpyxl: the KS1 results template, pre-filled from a roster.

A template (``ks1_template``, ``reports.ks4_templates.ks4_template``, or ``template_for`` by
format key) is a workbook of three sheets:

1. the data sheet, FIRST because the validators read the first sheet only: the exact header the
   validator expects, bold, frozen and locked, over one row per pupil on the roster (none for a
   blank template). The sheet is protected with no password, with every cell below the header
   unlocked (column styles, and each written cell), so schools can type, paste, insert and delete
   rows, sort and format, but cannot change the header or insert or delete columns;
2. "Guidance": how to fill it in and every accepted code or qualification with its grades;
3. "Lists" (hidden): drop-down lists too long for Excel's inline lists, or that must be ranges.

Every code and grade column has a drop-down list, and scaled scores a whole-number check, with
the validator's own wording as the error message; the lists cover the pupils' rows and
``SPARE_ROWS`` more. Excel does not check pasted values, so the service checks everything again.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.dimensions import ColumnDimension
from openpyxl.worksheet.worksheet import Worksheet

from config.codes import codes
from workers.validators import ctf, ks2
from workers.validators.ks1 import FORMAT as KS1_FORMAT
from workers.validators.ks1 import HEADER as KS1_HEADER
from workers.validators.ks1 import SCIENCE_COLUMN, SCORE_COLUMNS, TA_COLUMNS

GENDER_WORDS = {"M": "Male", "F": "Female"}
GENDER_MESSAGE = "Gender must be Male or Female."
DOB_MESSAGE = "Date of birth must be a valid date in the past, written DD/MM/YYYY."
DATE_FORMAT = "DD/MM/YYYY"

GUIDANCE_SHEET = "Guidance"
LIST_SHEET = "Lists"
SPARE_ROWS = 500  # rows under the pupils that still have drop-downs, for pupils typed in
EXCEL_INLINE_LIST_LIMIT = 255  # characters in an inline list formula, quotes included
EXCEL_MESSAGE_LIMIT = 255  # characters in a data validation's error message
EXCEL_TITLE_LIMIT = 32  # characters in its title
MAX_COLUMN = 16384  # XFD: every column right of the header is unlocked too, so rows can be deleted

HEADER_FILL = PatternFill("solid", start_color="D9D9D9", end_color="D9D9D9")
HEADER_FONT = Font(bold=True)
LOCKED = Protection(locked=True)
UNLOCKED = Protection(locked=False)

# Formats that have no template: what the school sends instead.
NO_TEMPLATE = {
    ks2.FORMAT: ("There is no template for KS2 results: the KS2 file comes from the DfE portal. "
                 "Schools send the 'All subjects with TA' CSV exactly as downloaded from the "
                 "portal, without editing it."),
    ctf.FORMAT: ("There is no template for the CTF: the Common Transfer File comes from the "
                 "school's MIS (management information system), exported as XML and sent as it is."),
}


# --- text safety -------------------------------------------------------------------------------

def write_text_safely(sheet: Worksheet) -> None:
    """Text copied from a submission is never a formula: cells openpyxl took for one become strings."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def safe_value(value: Any) -> Any:
    """A value as a cell can hold it: control characters (which openpyxl refuses) are dropped."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


# --- the plain KS1 workbook (tests build submissions with it) ----------------------------------

def data_workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet: the header, then the rows as given (dates as real Excel dates, text never a formula)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    write_text_safely(sheet)
    for index, name in enumerate(header, start=1):
        letter = sheet.cell(1, index).column_letter
        sheet.column_dimensions[letter].width = 16
        if name == "Date of birth":
            for cell in sheet[letter][1:]:
                cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ks1_workbook(rows: Iterable[Sequence[Any]]) -> bytes:
    """A KS1 template with the given data rows under the header."""
    return data_workbook("KS1 results", KS1_HEADER, rows)


# --- templates ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One column of a template's data sheet and the check Excel makes as values are typed.

    ``choices``: a drop-down list (inline when it fits, else on the hidden Lists sheet under
    ``list_name``; ``on_list_sheet`` forces that). ``whole``: a whole-number range. ``date``: a
    date in the past, shown DD/MM/YYYY. ``message``: the error Excel shows, in the validator's words.
    """
    name: str
    width: float = 16
    choices: tuple[str, ...] = ()
    list_name: str | None = None
    on_list_sheet: bool = False
    whole: tuple[int, int] | None = None
    date: bool = False
    message: str = ""


@dataclass(frozen=True)
class Line:
    """A row of the guidance sheet; ``style`` is title, heading, table (a table's header) or ''."""
    cells: tuple[str, ...]
    style: str = ""


def text(*cells: str) -> Line:
    return Line(tuple(cells))


def heading(title: str) -> Line:
    return Line((title,), "heading")


def table_head(*cells: str) -> Line:
    return Line(tuple(cells), "table")


def build_template(title: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]],
                   guidance: Sequence[Line], header_height: float | None = None) -> bytes:
    """The workbook described in this module's docstring, as .xlsx bytes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append([c.name for c in columns])
    for row in rows:
        sheet.append([safe_value(v) for v in row])
    write_text_safely(sheet)
    last_row = len(rows) + 1 + SPARE_ROWS

    _style_header(sheet, len(columns), header_height)
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        dimension.protection = UNLOCKED
        if column.date:
            dimension.number_format = DATE_FORMAT
    rest = len(columns) + 1  # one column style for everything right of the template
    sheet.column_dimensions[get_column_letter(rest)] = ColumnDimension(
        sheet, index=get_column_letter(rest), min=rest, max=MAX_COLUMN, width=13)
    sheet.column_dimensions[get_column_letter(rest)].protection = UNLOCKED
    date_columns = {i for i, column in enumerate(columns, start=1) if column.date}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.protection = UNLOCKED
            if cell.column in date_columns:
                cell.number_format = DATE_FORMAT

    lists = workbook.create_sheet(LIST_SHEET)  # created now, placed third
    for index, column in enumerate(columns, start=1):
        validation = _validation(column, lists)
        if validation is not None:
            letter = get_column_letter(index)
            validation.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    _protect(sheet)

    _write_guidance(workbook.create_sheet(GUIDANCE_SHEET, 1), guidance)
    if lists.max_row > 1:
        lists.sheet_state = "hidden"
        lists.protection.sheet = True
    else:
        workbook.remove(lists)
    workbook.active = 0

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _style_header(sheet: Worksheet, width: int, height: float | None) -> None:
    """Row 1 bold, shaded and locked: the cells, and the row's style for cells right of them."""
    alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1][:width]:
        cell.font, cell.fill, cell.alignment, cell.protection = (
            HEADER_FONT, HEADER_FILL, alignment, LOCKED)
    dimension = sheet.row_dimensions[1]
    dimension.font, dimension.protection = HEADER_FONT, LOCKED
    if height:
        dimension.height = height


def _protect(sheet: Worksheet) -> None:
    """Protected with no password (Review > Unprotect Sheet undoes it): only locked cells, the
    header, are fixed; rows may be inserted, deleted, sorted and formatted, columns may not be
    inserted or deleted."""
    protection = sheet.protection
    protection.sheet = True
    protection.insertRows = protection.deleteRows = False
    protection.formatCells = protection.formatColumns = protection.formatRows = False
    protection.sort = protection.autoFilter = False
    protection.insertColumns = protection.deleteColumns = True


def _validation(column: Column, lists: Worksheet) -> DataValidation | None:
    title = column.name[:EXCEL_TITLE_LIMIT]
    common: dict[str, Any] = {"allow_blank": True, "showErrorMessage": True, "errorStyle": "stop",
                              "errorTitle": title,
                              "error": column.message[:EXCEL_MESSAGE_LIMIT] or None}
    if column.choices:
        return DataValidation(type="list", formula1=_list_formula(column, lists), **common)
    if column.whole:
        low, high = column.whole
        return DataValidation(type="whole", operator="between", formula1=str(low),
                              formula2=str(high), **common)
    if column.date:
        return DataValidation(type="date", operator="lessThan", formula1="TODAY()", **common)
    return None


def _list_formula(column: Column, lists: Worksheet) -> str:
    """An inline list "A,B,C" when Excel allows it, else a range on the hidden Lists sheet."""
    inline = '"' + ",".join(column.choices) + '"'
    fits = (len(inline) <= EXCEL_INLINE_LIST_LIMIT
            and not any("," in c or '"' in c for c in column.choices))
    if fits and not column.on_list_sheet:
        return inline
    name = column.list_name or column.name
    for cell in lists[1]:  # a list shared by several columns is written once
        if cell.value == name:
            letter = cell.column_letter
            break
    else:
        index = 1 if lists["A1"].value is None else lists.max_column + 1
        letter = get_column_letter(index)
        lists.cell(1, index, name)
        for row, choice in enumerate(column.choices, start=2):
            # "9" is stored as the number 9: Excel compares a typed 9 (a number) with the list's
            # cells by type, so a text "9" in the list would refuse it.
            lists.cell(row, index, int(choice) if choice.isascii() and choice.isdigit() else choice)
        write_text_safely(lists)
    return f"{LIST_SHEET}!${letter}$2:${letter}${len(column.choices) + 1}"


def _write_guidance(sheet: Worksheet, lines: Sequence[Line]) -> None:
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in lines:
        sheet.append([safe_value(c) for c in line.cells])
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
            if line.style == "title":
                cell.font = Font(bold=True, size=14)
            elif line.style == "heading":
                cell.font = Font(bold=True, size=12)
            elif line.style == "table":
                cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    write_text_safely(sheet)
    for letter, width in zip("ABC", (38, 70, 60)):
        sheet.column_dimensions[letter].width = width
    sheet.protection.sheet = True
    sheet.protection.formatColumns = sheet.protection.formatRows = False


def school_line(dfe: str | None, school_name: str | None, pupils: int) -> Line:
    school = " ".join(p for p in (dfe, school_name) if p) or "Any school"
    listed = (f"{pupils} pupil(s) from the school's roster are listed." if pupils else
              "Blank template: no roster is held, so enter each pupil yourself.")
    return text(f"School: {school}", listed)


# --- KS1 ---------------------------------------------------------------------------------------

def ks1_columns() -> list[Column]:
    ks1 = codes()["ks1"]
    ta_codes, science_codes = tuple(ks1["ta_codes"]), tuple(ks1["science_codes"])
    low, high = ks1["scaled_score_min"], ks1["scaled_score_max"]
    ta_message = f"Teacher assessment must be one of {', '.join(ta_codes)}. Allows empty field."
    science_message = (f"Science teacher assessment must be one of {', '.join(science_codes)}. "
                       "Allows empty field.")
    score_message = f"Range must be between {low} to {high} and be whole numbers. Allows empty field."
    special = {
        "School DFE": Column("School DFE", 11),
        "Gender": Column("Gender", 10, choices=("Male", "Female"), message=GENDER_MESSAGE),
        "Date of birth": Column("Date of birth", 13, date=True, message=DOB_MESSAGE),
        "NC Year": Column("NC Year", 9, choices=(str(ks1["nc_year"]),),
                          message=f"NC Year must be {ks1['nc_year']}."),
        SCIENCE_COLUMN[0]: Column(SCIENCE_COLUMN[0], 18, choices=science_codes,
                                  list_name="KS1 science codes", message=science_message),
    }
    special |= {name: Column(name, 18, choices=ta_codes, list_name="KS1 TA codes",
                             message=ta_message) for name in TA_COLUMNS}
    special |= {name: Column(name, 14, whole=(low, high), message=score_message)
                for name in SCORE_COLUMNS}
    return [special.get(name, Column(name)) for name in KS1_HEADER]


def ks1_guidance(dfe: str | None, school_name: str | None, pupils: int) -> list[Line]:
    ks1 = codes()["ks1"]
    ta_codes, science_codes = ks1["ta_codes"], ks1["science_codes"]
    descriptions = ks1["descriptions"]
    low, high = ks1["scaled_score_min"], ks1["scaled_score_max"]
    lines = [
        Line(("KS1 results template: guidance",), "title"),
        school_line(dfe, school_name, pupils),
        text(""),
        heading("How to fill in the template"),
        text("One row per pupil", "Enter one row per Year 2 pupil on the first sheet, "
             "'KS1 results'. Pupils on roll at the census date are listed already; pupils who are "
             "not on the school's roster will not be processed."),
        text("Do not change the header row", "Row 1 is locked. Do not add, delete, rename or "
             "re-order columns: a file whose header row differs is refused."),
        text("One school per file", "Every row must have the same School DFE (7 digits: LA code "
             "and establishment number). Each UPN may appear only once."),
        text("Drop-down lists", "Choose codes from the drop-down lists or type them. Values pasted "
             "in are not checked by Excel, so the service checks every value when the file is sent."),
        text("Gender", GENDER_MESSAGE),
        text("Date of birth", DOB_MESSAGE),
        text("NC Year", f"NC Year must be {ks1['nc_year']}."),
        text("Teacher assessment", f"Reading, writing and maths: one of {', '.join(ta_codes)}. "
             f"Science: one of {', '.join(science_codes)}. Leave blank if not assessed."),
        text("Scaled scores", f"Reading, maths and GPS: whole numbers from {low} to {high}. "
             f"Range must be between {low} to {high} and be whole numbers. Allows empty field."),
        text("Sending the file", "Save as an Excel Workbook (.xlsx) and send it. A new file "
             "replaces the previous one, so always include every pupil."),
        text(""),
        heading("Accepted codes"),
        table_head("Code", "Meaning", "Accepted in"),
    ]
    for code in dict.fromkeys([*ta_codes, *science_codes]):
        where = [what for what, listed in (("Reading, writing, maths", ta_codes),
                                           ("Science", science_codes)) if code in listed]
        lines.append(text(code, descriptions.get(code, ""), "; ".join(where)))
    return lines


def ks1_rows(dfe: str | None, pupils: Iterable[Any]) -> list[list[Any]]:
    return [[dfe or getattr(p, "dfe", "") or "", p.upn, p.forename, p.surname,
             GENDER_WORDS.get(p.gender or "", ""), p.dob, p.nc_year or codes()["ks1"]["nc_year"]]
            for p in pupils]


def ks1_template(dfe: str | None, pupils: Iterable[Any], school_name: str | None = None) -> bytes:
    """Pre-filled with the school's Year 2 pupils (blank with none); results left for the school."""
    rows = ks1_rows(dfe, pupils)
    return build_template("KS1 results", ks1_columns(), rows,
                          ks1_guidance(dfe, school_name, len(rows)), header_height=45)


# --- any format --------------------------------------------------------------------------------

def template_formats() -> tuple[str, ...]:
    from workers.validators.ks4 import FORMATS as KS4_FORMATS
    return (KS1_FORMAT, *KS4_FORMATS)


def template_for(fmt: str, dfe: str | None, school_name: str | None, pupils: Iterable[Any]) -> bytes:
    """The template for a format key, pre-filled from ``pupils``; ValueError if it has none."""
    from reports.ks4_templates import ks4_template
    if fmt == KS1_FORMAT:
        return ks1_template(dfe, pupils, school_name=school_name)
    if fmt in template_formats():
        return ks4_template(fmt, dfe, school_name, pupils)
    if fmt in NO_TEMPLATE:
        raise ValueError(NO_TEMPLATE[fmt])
    raise ValueError(f"There is no template for the format '{fmt}'. Templates exist for: "
                     f"{', '.join(template_formats())}.")


__all__ = [
    "Column", "Line", "build_template", "ks1_template", "ks1_workbook", "template_for",
    "template_formats", "write_text_safely",
]
