"""Attachment and zip member names are metadata only: cleaned of paths and invisible characters."""
import io
import zipfile

import pytest

from config.settings import Limits
from intake.archive import members
from intake.mail_message import safe_name
from tests.corpus.builders import declare_sizes, mark_encrypted, zip_bytes, zip_streamed


@pytest.mark.parametrize("name, cleaned", [
    ("../../../etc/passwd.csv", "passwd.csv"),
    ("C:\\Windows\\System32\\results.xlsx", "results.xlsx"),
    ("results\r\nBcc: x@example.com\r\n.csv", "resultsBcc: x@example.com.csv"),
    ("\x00\x07\x1b[31mred.csv", "[31mred.csv"),
    ("results\u202evsc.exe", "resultsvsc.exe"),
    ("zero\u200bwidth\ufeff.csv", "zerowidth.csv"),
    ("..", "attachment"),
    ("/", "attachment"),
    ("x" * 300 + ".csv", "x" * 100 + "…" + "x" * 95 + ".csv"),
])
def test_an_attachment_name_keeps_only_its_last_visible_part(name, cleaned):
    assert safe_name(name) == cleaned


def test_zip_members_named_to_escape_the_folder_are_opened_under_their_own_names():
    data = zip_bytes([("../../../../tmp/evil.csv", b"a"), ("/etc/cron.d/x.csv", b"b"),
                      ("ok\x07\u202egpj.csv", b"c"), ("__MACOSX/._evil.csv", b"d"), (".hidden", b"e")])
    assert members(data, Limits()) == [("evil.csv", b"a"), ("x.csv", b"b"), ("okgpj.csv", b"c")]


@pytest.mark.parametrize("data", [
    mark_encrypted(zip_bytes([("a.csv", b"a")])),
    zip_bytes([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"), ("content.xml", b"<x/>")]),
], ids=["encrypted", "opendocument"])
def test_a_zip_that_must_not_be_opened_stays_whole_for_detection_to_explain(data):
    assert members(data, Limits()) is None


def test_a_lying_member_is_never_inflated_whole():
    import tracemalloc
    data = declare_sizes(zip_streamed("a.csv", (b" " * 1_000_000 for _ in range(60))), "a.csv", 100)
    tracemalloc.start()
    assert members(data, Limits()) is None
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].file_size == 100
