"""What inspect_xlsx refuses before calamine reads a workbook, and what it must still let through."""
import io
import zipfile

import pytest

from config.settings import Limits
from tests.corpus.builders import (
    STYLES, Shared, declare_sizes, shared_strings_xml, sheet_xml, xlsx, zip_bytes, zip_streamed,
)
from workers.validators.result import UnreadableFile
from workers.validators.workbook import first_sheet_rows, inspect_xlsx, read_part, sheet_extent

HEADER = ["School DFE", "UPN", "Forename"]


def with_cells(extra: str, rows=None) -> bytes:
    """A small sheet with ``extra`` cell XML appended to its data."""
    sheet = sheet_xml(rows or [HEADER, ["8012001", "A", "Amara"]])
    return xlsx(sheet.replace(b"</sheetData>", extra.encode() + b"</sheetData>"))


@pytest.mark.parametrize("extra, says", [
    ('<row r="1048576"><c r="A1048576"><v>1</v></c></row>', "at least 1048576 rows"),
    ('<row r="3"><c r="XFD3"><v>1</v></c></row>', "column XFD"),
    ('<row r="3"><c r="ZZZZZZZ3"><v>1</v></c></row>', "beyond XFD"),
    ("<row r='3'><c r = 'xfd3'><v>1</v></c></row>", "column XFD"),           # any spelling
    ('<x:row r="3"><x:c r="XFD3"><x:v>1</x:v></x:c></x:row>', "column XFD"),  # prefixed
    ('<row r="3"><c s="1" r="XFD3"><v>1</v></c></row>', "column XFD"),        # r not first
    ("<row>" + "<c/>" * 300 + "<c><v>1</v></c></row>", "more than 200 columns"),  # no references
], ids=["far-row", "far-column", "past-excel", "quotes-and-case", "prefixed", "r-not-first",
        "unnumbered"])
def test_a_sheet_reaching_far_beyond_the_template_is_refused_before_it_is_read(extra, says):
    with pytest.raises(UnreadableFile, match=says):
        inspect_xlsx(with_cells(extra), Limits())


def test_empty_styled_cells_far_out_are_not_counted_as_calamine_leaves_them_out():
    data = with_cells('<row r="50000"><c r="XFD50000" s="1"/></row>')
    inspect_xlsx(data, Limits())
    assert first_sheet_rows(data, 20_000)[1] == ["8012001", "A", "Amara"]


def test_rows_and_columns_are_measured_where_calamine_places_them():
    sheet = ('<sheetData><row r="2"><c><v>1</v></c><c><v>2</v></c></row><row><c r="E9"><v>1</v>'
             '</c></row><row><c t="s"><v>0</v></c></row></sheetData>').encode()
    assert sheet_extent(sheet, Limits()) == (10, 5)


def test_a_sheet_of_many_rows_within_the_limits_is_measured_and_let_through():
    rows = [HEADER + [f"C{n}" for n in range(20)]] + [["8012001", "A", "B"] + [1] * 20] * 10_050
    data = xlsx(sheet_xml(rows))
    inspect_xlsx(data, Limits())  # five-digit rows: their largest row is read, within the limits
    with pytest.raises(UnreadableFile, match="spans at least 4,348 rows by 23 columns"):
        inspect_xlsx(data, Limits(max_cells=100_000))


def test_many_cells_sharing_one_long_string_are_refused_by_the_text_they_would_hold():
    strings = shared_strings_xml(HEADER + ["A" * 30_000])
    rows = [[Shared(0), Shared(1), Shared(2)]] + [[Shared(3)] * 3] * 2_000
    with pytest.raises(UnreadableFile, match="180 MB of text"):
        inspect_xlsx(xlsx(sheet_xml(rows), shared_strings=strings), Limits())
    few = [[Shared(0), Shared(1), Shared(2)]] + [[Shared(3)] * 3] * 5
    inspect_xlsx(xlsx(sheet_xml(few), shared_strings=strings), Limits())


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/styles.xml"])
def test_a_doctype_in_any_part_is_refused_without_parsing_it(part):
    declaration = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    sheet = sheet_xml([HEADER], prolog='<?xml version="1.0"?>')
    if part == "xl/styles.xml":
        data = xlsx(sheet, styles=STYLES.replace(b"?>", b"?>" + b"<!-- padding -->" * 200 + declaration, 1))
    else:
        data = xlsx(sheet.replace(b"?>", b"?>" + declaration, 1))
    with pytest.raises(UnreadableFile, match="document type declaration"):
        inspect_xlsx(data, Limits())


def test_a_part_inflating_past_its_declared_size_is_read_no_further_than_declared():
    data = declare_sizes(zip_streamed("big.txt", (b" " * 1_000_000 for _ in range(50))), "big.txt", 1_000)
    with zipfile.ZipFile(io.BytesIO(data)) as archive, pytest.raises(zipfile.BadZipFile):
        read_part(archive, "big.txt")


@pytest.mark.parametrize("entries, says", [
    ({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}, "Word document"),
    ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}, "OpenDocument"),
    ({f"f{n}.csv": b"x" for n in range(501)}, "zip of 501 files; at most 500"),
    ({"inner.zip": b"PK\x05\x06" + b"\x00" * 18}, "zip inside a zip"),
], ids=["docx", "ods", "too-many-members", "nested"])
def test_a_zip_that_is_not_a_workbook_is_told_what_it_is(entries, says):
    with pytest.raises(UnreadableFile, match=says):
        inspect_xlsx(zip_bytes(entries.items()), Limits())
