"""Format detection from content, never from the name (workers/detect.py)."""
import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

from intake.demo_world import make_upn
from reports.templates import ks1_workbook
from config.settings import Limits
from workers.detect import OLE2, detect
from workers.validators.ks1 import HEADER
from workers.validators.result import UnreadableFile

MAX_ROWS = 1000


def workbook_with(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def a_pupil_row():
    return ["8012001", make_upn("8012001", 22, 1), "Amara", "Ahmed", "Female", date(2018, 10, 1), 2,
            "EXS", "EXS", "EXS", "EXS", 100, 100, 100]


def test_a_ks1_template_workbook_is_detected_as_ks1_and_its_rows_are_handed_on():
    detected = detect(ks1_workbook([a_pupil_row()]), Limits(max_rows=MAX_ROWS))
    assert detected.format == "ks1-template"
    assert detected.rows[0] == HEADER
    assert detected.rows[1][:3] == ["8012001", make_upn("8012001", 22, 1), "Amara"]


def test_a_header_only_ks1_template_is_still_detected_as_ks1():
    assert detect(ks1_workbook([]), Limits(max_rows=MAX_ROWS)).format == "ks1-template"


def test_a_ks1_template_with_a_renamed_column_is_still_detected_so_the_validator_can_explain():
    header = list(HEADER)
    header[3] = "Last name"
    assert detect(workbook_with([header]), Limits(max_rows=MAX_ROWS)).format == "ks1-template"


@pytest.mark.parametrize("data, says", [
    (b"", "empty"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image"),
    (b"GIF89a\x01\x00\x01\x00", "image"),
    (OLE2 + b"\x00" * 504, ".xls"),
    (bytes(range(256)) * 4, "not recognised"),
    (b"School DFE,UPN,Forename\n8012001,B801200005001,Amara\n", "not recognised"),
    (zip_of({"readme.txt": b"hello"}), "not an Excel workbook"),
], ids=["empty", "pdf", "png", "jpeg", "gif", "old-xls", "random-bytes", "csv-text", "plain-zip"])
def test_a_file_that_is_not_an_xlsx_workbook_is_unreadable_and_says_to_send_an_xlsx(data, says):
    with pytest.raises(UnreadableFile) as raised:
        detect(data, Limits(max_rows=MAX_ROWS))
    message = str(raised.value)
    assert says in message
    assert ".xlsx" in message


def test_an_old_xls_file_is_told_to_save_it_as_an_excel_workbook():
    with pytest.raises(UnreadableFile, match=r"Excel 97-2003 workbook \(\.xls\).*Excel Workbook \(\.xlsx\)"):
        detect(OLE2 + b"\x00" * 504, Limits(max_rows=MAX_ROWS))


def test_a_password_protected_workbook_is_told_to_remove_the_password():
    encrypted = OLE2 + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64
    with pytest.raises(UnreadableFile, match="password-protected.*remove the password"):
        detect(encrypted, Limits(max_rows=MAX_ROWS))


def test_a_macro_enabled_workbook_is_told_to_save_without_macros():
    data = zip_of({"xl/workbook.xml": b"<workbook/>", "xl/vbaProject.bin": b"macro"})
    with pytest.raises(UnreadableFile, match=r"macro-enabled workbook \(\.xlsm\)"):
        detect(data, Limits(max_rows=MAX_ROWS))


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_inflated():
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * 50_000_000)
    data = buffer.getvalue()
    assert len(data) < 100_000
    with pytest.raises(UnreadableFile, match="compressed .* times over"):
        detect(data, Limits(max_rows=MAX_ROWS))
    with pytest.raises(UnreadableFile, match="once opened; the limit is 10 MB"):
        detect(data, Limits(max_rows=MAX_ROWS, max_unzipped_bytes=10_000_000))


def test_an_xlsx_with_an_unrelated_header_is_unreadable_and_says_to_use_the_services_template():
    data = workbook_with([["Name", "Class", "Score"], ["Amara", "2B", 100]])
    with pytest.raises(UnreadableFile) as raised:
        detect(data, Limits(max_rows=MAX_ROWS))
    message = str(raised.value)
    assert "not a results template we recognise" in message
    assert "Please use the template the service provides" in message


def test_an_empty_xlsx_workbook_is_unreadable_and_says_to_use_the_services_template():
    with pytest.raises(UnreadableFile, match="Please use the template the service provides"):
        detect(workbook_with([]), Limits(max_rows=MAX_ROWS))


def test_a_corrupt_xlsx_is_unreadable_and_says_to_save_it_again_as_xlsx():
    data = zip_of({"[Content_Types].xml": b"<nonsense", "xl/workbook.xml": b"<nonsense"})
    with pytest.raises(UnreadableFile, match=r"could not be opened.*save it again from Excel as an \.xlsx"):
        detect(data, Limits(max_rows=MAX_ROWS))


def test_a_workbook_with_more_rows_than_allowed_is_unreadable_and_says_to_send_one_school_at_a_time():
    data = ks1_workbook([a_pupil_row() for _ in range(5)])
    with pytest.raises(UnreadableFile, match="at most 3 pupils .* one school's template at a time"):
        detect(data, Limits(max_rows=3))
    assert detect(data, Limits(max_rows=5)).format == "ks1-template"
