"""Reads the first sheet of a workbook with python-calamine, keeping real spreadsheet row numbers.

Before calamine reads anything, ``inspect_xlsx`` refuses what would hurt the worker. calamine
lays a sheet out as a full grid from its first to its last cell (one cell at ``XFD1048576`` asks
for 17 billion) and copies a shared string into every cell that uses it (20,000 rows pointing at
one long string is gigabytes), and a failed allocation there aborts the whole process. So the
zip directory is checked (bombs, macros, other documents), every XML part's prolog (no DOCTYPE,
so no entities), the first sheet's extent and the text its cells would hold, all from the bytes.
"""
from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from typing import Any

import python_calamine

from config.settings import Limits
from workers.validators.result import UnreadableFile

Row = list[Any]

DAMAGED = ("The file is damaged or not an Excel workbook: it could not be opened. Please save it "
           "again from Excel as an .xlsx workbook.")
DOCTYPE = ("The workbook contains a document type declaration (<!DOCTYPE>), which Excel never "
           "writes, so it was refused for safety. Please save it again from Excel as an .xlsx "
           "workbook and send that file.")
SEND_XLSX = "Please send the results template as an Excel workbook (.xlsx)."
# Other documents that are zip packages too, each known by a part only it has.
OTHER_PACKAGES = (("word/document.xml", f"a Word document, not an Excel workbook. {SEND_XLSX}"),
                  ("ppt/presentation.xml", f"a PowerPoint presentation, not an Excel workbook. {SEND_XLSX}"),
                  ("mimetype", "an OpenDocument spreadsheet or document (.ods, from LibreOffice or "
                   "similar), not an Excel workbook. Please open it, choose Save As > Excel 2007-365 "
                   "(.xlsx), and send that file."))

# What reading a damaged or hostile zip (or one of its entries) can raise: zipfile, zlib and
# struct (a local header cut short) each have their own, and none of them means more than
# "this file is damaged".
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
                   NotImplementedError, struct.error)
# A DOCTYPE or ENTITY declaration, searched for in the raw bytes of any XML (workbook parts and
# CTF files alike): refused before a parser could expand or fetch anything it declares.
DOCTYPE_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


# --- the zip directory and parts ------------------------------------------------------------------

def inspect_xlsx(data: bytes, limits: Limits) -> None:
    """Refuse what must not be opened, saying why; returns when calamine may read the file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise UnreadableFile(DAMAGED) from None
    with archive:
        names = {entry.filename for entry in entries}
        _check_directory(archive, entries, names, len(data), limits)
        _check_prologs(archive, entries, data)
        targets = _relationship_targets(archive, names, data)
        for name in _first_sheet_parts(archive, names, targets, data):
            sheet = _read(archive, name, data)
            _check_extent(sheet, limits)
            _check_text(archive, names, targets, sheet, data, limits)


def _check_directory(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], names: set[str],
                     size: int, limits: Limits) -> None:
    """Only the central directory: a bomb is refused before a byte is inflated."""
    unzipped = sum(entry.file_size for entry in entries)
    if len(entries) > limits.max_zip_entries:
        raise UnreadableFile(
            f"The file is a zip holding {len(entries):,} files; an Excel workbook has a few dozen "
            f"parts, and at most {limits.max_zip_entries:,} are opened. Please send the results "
            "template as saved by Excel.")
    if unzipped > limits.max_unzipped_bytes:
        raise UnreadableFile(
            f"The workbook would be {unzipped / 1e6:.0f} MB once opened; the limit is "
            f"{limits.max_unzipped_bytes / 1e6:.0f} MB. Please send only the results template.")
    if unzipped > limits.max_compression_ratio * max(size, 1):
        raise UnreadableFile(
            f"The workbook is compressed {unzipped // max(size, 1)} times over, far more than a "
            "real spreadsheet, so it was not opened. Please send the results template as saved by Excel.")
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise UnreadableFile(
            "The file is a password-protected (encrypted) zip, so it cannot be opened. Please send "
            "the files without a password: attach them as they are, or zip them without one.")
    if "xl/vbaProject.bin" in names:
        raise UnreadableFile("The file is a macro-enabled workbook (.xlsm). Please save it as an "
                             "Excel Workbook (.xlsx), without macros, and send it again.")
    if "xl/workbook.xml" in names:
        return
    for part, what in OTHER_PACKAGES:
        if part in names:
            raise UnreadableFile(f"The file is {what}")
    if "[Content_Types].xml" in names:
        raise UnreadableFile(f"The file is an Office document but not an Excel workbook. {SEND_XLSX}")
    raise UnreadableFile(_plain_zip_problem(archive, entries, limits))


def _plain_zip_problem(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], limits: Limits) -> str:
    """Why a plain zip (not a document) reached detection instead of being opened into its files
    (``intake.archive``): too many files, none, a damaged one, or it was itself inside a zip."""
    files = [entry for entry in entries if not entry.is_dir()]
    if len(files) > limits.max_zip_members:
        return (f"The file is a zip of {len(files):,} files; at most {limits.max_zip_members} can "
                "be sent in one zip. Please send the schools' files in several zips.")
    if not files:
        return "The file is a zip archive with no files in it. Please attach the results files."
    for entry in files:
        try:
            read_part(archive, entry)  # each within the size limits already checked
        except ZIP_READ_ERRORS:
            return (f"The zip is damaged: {entry.filename[:100]} in it could not be read. Please zip "
                    "the results files again and send that zip.")
    return ("The file is a zip archive, not an Excel workbook, and holds nothing we could check (a "
            "zip inside a zip is not opened). Please send the results template as an Excel "
            "workbook (.xlsx), or one zip holding the results files themselves.")


_ELEMENT_START = re.compile(rb"<[A-Za-z_:]")
PROLOG_CHUNK = 1024
HEAD_INPUT = 64  # compressed bytes read per byte of a head; a part needing more is streamed


def _check_prologs(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], data: bytes) -> None:
    """No part may declare a DOCTYPE (and so entities): only what comes before an XML part's
    first element is read, the first kilobyte for any part Excel writes."""
    for entry in entries:
        if entry.is_dir() or entry.file_size == 0:
            continue
        try:
            head = _head(data, entry, PROLOG_CHUNK)
            whole = head is not None and len(head) < PROLOG_CHUNK \
                and entry.compress_size <= HEAD_INPUT * PROLOG_CHUNK
            declared = None if head is None else _declares(head, complete=whole)
            if declared is None:  # a prolog longer than the head: read on, a chunk at a time
                with archive.open(entry) as handle:
                    declared = _streamed_declares(handle)
        except ZIP_READ_ERRORS:
            raise UnreadableFile(DAMAGED) from None
        if declared:
            raise UnreadableFile(DOCTYPE)


def _head(data: bytes, entry: zipfile.ZipInfo, size: int, whole: bool = False) -> bytes | None:
    """An entry's first ``size`` bytes (all its compressed input when ``whole``), inflated
    straight from the file: opening every part through zipfile costs more than checking it.
    None if it is not simply stored or deflated, or its local header is not where the
    directory says."""
    offset = entry.header_offset
    if data[offset:offset + 4] != b"PK\x03\x04" or entry.flag_bits & 0x1:
        return None
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_length + extra_length
    end = start + (entry.compress_size if whole else min(entry.compress_size, HEAD_INPUT * size))
    raw = memoryview(data)[start:end]
    if entry.compress_type == zipfile.ZIP_STORED:
        return bytes(raw[:size])
    if entry.compress_type == zipfile.ZIP_DEFLATED:
        return zlib.decompressobj(-15).decompress(raw, size)
    return None


def _declares(head: bytes, complete: bool) -> bool | None:
    """Whether an XML prolog declares a DOCTYPE or entity; None when ``head`` ends before the
    first element and is not the whole part. Parts that are not XML declare nothing."""
    text = head.replace(b"\x00", b"")  # UTF-16 markup, searched as ASCII
    if not text.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n").startswith(b"<"):
        return False
    element = _ELEMENT_START.search(text)
    if DOCTYPE_DECLARATION.search(text, 0, element.start() if element else len(text)):
        return True
    return False if element is not None or complete else None


def _streamed_declares(handle: io.BufferedIOBase) -> bool:
    carried = b""
    while True:
        chunk = handle.read(PROLOG_CHUNK)
        text = carried + chunk.replace(b"\x00", b"")
        element = _ELEMENT_START.search(text)
        if DOCTYPE_DECLARATION.search(text, 0, element.start() if element else len(text)):
            return True
        if element is not None or not chunk:
            return False
        carried = text[-64:]  # a declaration split across two chunks is still found


def read_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo | str) -> bytes:
    """An entry's bytes, inflating no more than the directory declares for it.

    ``ZipFile.read`` inflates a deflated entry whole before cutting it to the declared size, so
    an entry declaring 200 kB whose stream inflates to gigabytes takes all of them. Reading with
    a size inflates only that much; the CRC check then refuses the entry (``BadZipFile``).
    """
    info = entry if isinstance(entry, zipfile.ZipInfo) else archive.getinfo(entry)
    with archive.open(info) as handle:
        data = handle.read(info.file_size)
        if handle.read(1):  # more than declared: zipfile stops at the declared size, but be sure
            raise zipfile.BadZipFile(f"{info.filename} is longer than its directory entry says")
    return data


def _read(archive: zipfile.ZipFile, name: str, data: bytes) -> bytes:
    """A part's bytes; a part that does not inflate to exactly what the directory declares
    (flipped bytes, a lying size) is damaged. Inflated straight from the file's bytes when it
    can be (``_head``), else through ``read_part``."""
    entry = archive.getinfo(name)
    try:
        part = _head(data, entry, entry.file_size + 1, whole=True)
        if part is None:
            return read_part(archive, entry)
        if len(part) != entry.file_size or zlib.crc32(part) != entry.CRC:
            raise zipfile.BadZipFile(f"{name} does not match its directory entry")
        return part
    except ZIP_READ_ERRORS:
        raise UnreadableFile(DAMAGED) from None


_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTRIBUTE = re.compile(rb"(?:^|\s)([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
SMALL_PART = 1_000_000


def _attributes(text: bytes) -> dict[bytes, bytes]:
    found: dict[bytes, bytes] = {}
    for match in _ATTRIBUTE.finditer(text):
        found.setdefault(match[1], match[2] if match[2] is not None else match[3])
    return found


def _relationship_targets(archive: zipfile.ZipFile, names: set[str],
                          data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(Id, Type, Target) of every relationship of the workbook part."""
    rels = "xl/_rels/workbook.xml.rels"
    if rels not in names or archive.getinfo(rels).file_size > SMALL_PART:
        return []
    found = []
    for match in _RELATIONSHIP.finditer(_read(archive, rels, data)):
        attributes = _attributes(match[1])
        found.append((attributes.get(b"Id", b""), attributes.get(b"Type", b""),
                      attributes.get(b"Target", b"")))
    return found


def _part_names(target: bytes, names: set[str]) -> set[str]:
    """Every part a relationship target could mean, however a reader resolves it."""
    text = target.decode("utf-8", "replace").strip()
    candidates = {text.lstrip("/"), f"xl/{text}", posixpath.normpath(f"xl/{text}"),
                  posixpath.normpath(text.lstrip("/"))}
    return candidates & names


def _first_sheet_parts(archive: zipfile.ZipFile, names: set[str],
                       targets: list[tuple[bytes, bytes, bytes]], data: bytes) -> list[str]:
    """The part(s) holding the workbook's first sheet, the one calamine reads; when the workbook
    does not say clearly, every XML part of it, so nothing is left unchecked."""
    workbook = "xl/workbook.xml"
    if archive.getinfo(workbook).file_size <= SMALL_PART:
        first = _SHEET.search(_read(archive, workbook, data))
        if first is not None:
            ids = {value for key, value in _attributes(first[1]).items() if key.endswith(b":id")}
            parts = set().union(*(_part_names(target, names) for rid, _, target in targets
                                  if rid in ids))
            if parts:
                return sorted(parts)
    return sorted(name for name in names if name.startswith("xl/") and name.endswith(".xml")
                  and not name.lower().endswith("sharedstrings.xml"))


# --- the first sheet's extent ---------------------------------------------------------------------

# Excel and every common writer start each cell with its reference: when every cell is in the
# first 130 columns (A to DZ) and 9,999 rows, the sheet needs no closer look; within 99,999
# rows, only its five-digit rows are read. Anything else (other references, cells without one,
# prefixed elements) is measured cell by cell, as calamine would place it.
_UNUSUAL_CELL = re.compile(rb'<c(?! r="[A-D]?[A-Z][1-9]\d{0,3}")[\s/>]')
_UNUSUAL_CELL_5 = re.compile(rb'<c(?! r="[A-D]?[A-Z][1-9]\d{0,4}")[\s/>]')
_FIVE_DIGIT_ROW = re.compile(rb'<c r="[A-D]?[A-Z]([1-9]\d{4})"')
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
USUAL_COLUMNS = 130
_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_REFERENCE = re.compile(rb"(?:^|\s)r\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_LETTERS_DIGITS = re.compile(rb"\s*([A-Za-z]*)(\d*)")


def _check_extent(sheet: bytes, limits: Limits) -> None:
    if _PREFIXED_CELL.search(sheet) is None:
        if _UNUSUAL_CELL.search(sheet) is None:
            return
        if _UNUSUAL_CELL_5.search(sheet) is None:  # e.g. a template of 10,000 to 20,000 pupils
            rows = max(map(int, _FIVE_DIGIT_ROW.findall(sheet)), default=0)
            if rows <= limits.max_rows + 1 and rows * USUAL_COLUMNS <= limits.max_cells:
                return
    rows, columns = sheet_extent(sheet, limits)
    if rows > limits.max_rows + 1:
        raise UnreadableFile(
            f"The first sheet has at least {rows} rows; at most {limits.max_rows} pupils can be "
            "sent in one file. Please send one school's template at a time.")
    if columns > limits.max_columns:
        raise UnreadableFile(
            f"The first sheet has cells in more than {limits.max_columns} columns (one in column "
            f"{_column_name(columns)}); a results template has far fewer, and at most "
            f"{limits.max_columns} are read. Please send the template with only its own columns.")
    if rows * columns > limits.max_cells:
        raise UnreadableFile(
            f"The first sheet spans at least {rows:,} rows by {columns:,} columns, more than the "
            f"{limits.max_cells:,} cells that are read. Please send one school's template at a "
            "time, with only its own columns.")


def sheet_extent(sheet: bytes, limits: Limits) -> tuple[int, int]:
    """(last row, last column), 1-based, of the cells that hold something, placed as calamine
    places them: by their reference, else next to the cell before (and a row without a number
    below the row before). Stops at the first cell beyond the limits, so a sheet reaching row
    1,048,576 is measured no further."""
    last_row = last_column = row = column = 0
    for match in _TAG.finditer(sheet):
        reference = _REFERENCE.search(match[2])
        letters, digits = b"", b""
        if reference is not None:
            value = reference[1] if reference[1] is not None else reference[2]
            letters, digits = _LETTERS_DIGITS.match(value).groups()
        if match[1] == b"row":
            row, column = (int(digits) if digits else row + 1), 0
            continue
        column = _column_number(letters) if letters else column + 1
        cell_row = row = max(row, int(digits)) if digits else row  # later rows count on from it
        if match[2].rstrip().endswith(b"/"):
            continue  # an empty cell (<c .../>) holds nothing, and calamine leaves it out
        last_row, last_column = max(last_row, cell_row), max(last_column, column)
        if (last_row > limits.max_rows + 1 or last_column > limits.max_columns
                or last_row * last_column > limits.max_cells):
            break
    return last_row, last_column


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
        if number > 1 << 40:
            break
    return number


def column_letter(index: int) -> str:
    """A 0-based column index as Excel names it: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _column_name(number: int) -> str:
    """A 1-based column number as Excel names it, or that it is past Excel's last column."""
    return "beyond XFD, Excel's last column" if number > 16_384 else column_letter(number - 1)


# --- the text the first sheet's cells would hold --------------------------------------------------

MIN_CELL_BYTES = 20  # <c t="s"><v>0</v></c>: no cell naming a shared string is shorter


def _check_text(archive: zipfile.ZipFile, names: set[str], targets: list[tuple[bytes, bytes, bytes]],
                sheet: bytes, data: bytes, limits: Limits) -> None:
    """Every cell naming a shared string gets its own copy of it; bound what that adds up to.

    Cheap bounds first (the directory's sizes, then the longest string), so a real template
    never needs the exact sum, which only a sheet of many long strings does.
    """
    parts = {name for name in names if name.lower().endswith("sharedstrings.xml")}
    for _, kind, target in targets:
        if kind.endswith(b"/sharedStrings"):
            parts |= _part_names(target, names)
    cells = len(sheet) // MIN_CELL_BYTES + 1
    for part in sorted(parts):
        if cells * archive.getinfo(part).file_size <= limits.max_text_bytes:
            continue
        strings = _read(archive, part, data)
        if cells * max(map(len, strings.split(b"</si>"))) <= limits.max_text_bytes:
            continue
        total = shared_text_bytes(strings, sheet)
        if total > limits.max_text_bytes:
            raise UnreadableFile(
                f"The first sheet's cells would hold {total / 1e6:,.0f} MB of text once read "
                f"(the same long text repeated in cell after cell); the limit is "
                f"{limits.max_text_bytes / 1e6:.0f} MB. Please send the results template as "
                "saved by Excel, with only the pupils' results in it.")


def shared_text_bytes(strings: bytes, sheet: bytes) -> int:
    """The text calamine would make for the sheet's shared-string cells, in bytes (at least)."""
    from lxml import etree

    parser = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(strings, etree.XMLParser(**parser))
        lengths = [len("".join(item.itertext()).encode("utf-8")) for item in root
                   if isinstance(item.tag, str) and etree.QName(item).localname == "si"]
        total = 0
        for _, element in etree.iterparse(io.BytesIO(sheet), events=("end",),
                                          tag=("{*}c", "{*}row"), **parser):
            if etree.QName(element).localname == "row":
                element.clear(keep_tail=True)
                while element.getprevious() is not None:  # memory stays flat, row by row
                    del element.getparent()[0]
                continue
            if element.get("t") == "s":
                value = next((v.text for v in element if isinstance(v.tag, str)
                              and etree.QName(v).localname == "v"), None)
                index = int(value) if value and value.strip().isdigit() else -1
                total += lengths[index] if 0 <= index < len(lengths) else 0
        return total
    except (etree.XMLSyntaxError, ValueError):
        raise UnreadableFile(DAMAGED) from None


# --- reading ----------------------------------------------------------------------------------------

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
