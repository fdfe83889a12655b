"""Detection and the CSV reader told hostile or mis-saved files apart, each with its own message."""
import re
from datetime import datetime, timezone

import pytest

from config.settings import Limits
from tests.corpus import generate
from tests.corpus.builders import sheet_xml, xlsx
from workers.check import check_file
from workers.detect import detect
from workers.validators import ks2
from workers.validators.result import UnreadableFile

HEADER = "UPN,Forename,Surname,Date of birth,Reading scaled score\r\n"
ROW = "A801200122001,Amara,Ahmed,01/09/2018,100\r\n"


def test_utf8_with_windows_1252_bytes_typed_in_later_keeps_both_right():
    data = HEADER.encode() + "A,Zoë,x\r\n".encode("utf-8") + "B,Renée,y\r\n".encode("cp1252")
    assert [row[1] for row in ks2.read_csv(data, 10)[1:]] == ["Zoë", "Renée"]


@pytest.mark.parametrize("data, says", [
    (HEADER.encode("utf-16-le"), "UTF-16 text without the byte order mark"),
    (HEADER.encode() + b"A,\x00B,C\r\n" + b"\x00" * 40, "NUL (zero) bytes"),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "binary data"),
], ids=["utf16-without-bom", "nul-bytes", "binary"])
def test_text_with_nul_bytes_is_told_why_it_cannot_be_read(data, says):
    with pytest.raises(UnreadableFile, match=re.escape(says)):
        ks2.read_csv(data, 10)


def test_too_many_rows_are_counted_without_keeping_them_all():
    data = (HEADER + ROW * 5_000).encode()
    with pytest.raises(UnreadableFile, match="5000 pupil rows; at most 100"):
        ks2.read_csv(data, 100)
    with pytest.raises(UnreadableFile, match="more than 10,010 lines under its header"):
        ks2.read_csv(HEADER.encode() + b"\r\n" * 50_000, 5)


@pytest.mark.parametrize("data, says", [
    (b"   \r\n\t\r\n", "empty: it holds only blank lines or spaces"),
    (generate.html_as_xls(), "web page (HTML)"),
    (generate.spreadsheet_2003(), "XML Spreadsheet 2003"),
    (xlsx(sheet_xml([["KS1 results"], [], generate.ks1_header()])), "is on row 3, but it must be row 1"),
    (xlsx(sheet_xml([["x" * 600] + generate.ks1_header()])), "not a results template we recognise"),
], ids=["blank", "html", "spreadsheetml", "header-moved", "huge-header-cell"])
def test_files_saved_the_wrong_way_are_told_what_they_are(data, says):
    with pytest.raises(UnreadableFile, match=re.escape(says)):
        detect(data, Limits())


def test_a_name_longer_than_the_database_keeps_is_an_error_on_its_row():
    rows = generate.ks1_rows()
    rows[2][2] = "A" * 101
    rows[3][3] = "B" * 100  # exactly the limit: fine
    checked = check_file(xlsx(generate.ks1_sheet(rows)), collections={},
                         when=datetime.now(timezone.utc), limits=Limits())
    assert [f.line() for f in checked.result.errors] == [
        "Forename must be at most 100 characters. Column: Forename. Row: 4"]
    assert checked.result.pupils == []
