"""Writes the hostile input corpus: ``python -m tests.corpus.generate [OUTDIR]`` (default
``var/corpus``).

Every item is a file a school (or an attacker using a school's address) could send, built to
break some part of the intake: damaged and truncated workbooks, zip bombs, XML entity attacks,
macro and password-protected workbooks, files in the wrong format, text in awkward encodings,
formulas in cells, oversized sheets, and emails whose attachment names try to escape a folder or
smuggle control characters. ``manifest.json`` says for each what it is and what the service's
answer must say. The bytes are the same on every run (no clocks, no randomness), so a failure
found once can be reproduced from the name alone; nothing generated is committed.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import sys
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import chain
from pathlib import Path

from intake import demo_world as world
from tests.corpus.builders import (
    MAIN_NS, STYLES, Attachment, Formula, Shared, declare_sizes, mark_encrypted, named, ole2, raw_email,
    shared_strings_xml, sheet_xml, xlsx, zip_bytes, zip_streamed,
)

SCHOOL = world.SCHOOLS[0][0]          # Acorn Primary School
SENDER = world.SCHOOLS[0][3]          # its registered contact
SERVICE = "results@ers.localhost"
DEFAULT_OUTDIR = Path("var/corpus")


@dataclass(frozen=True)
class Item:
    """One hostile input and what the service must answer.

    ``channel`` "file" goes through ``receive()`` under the name ``sent_as``; "email" is a raw
    message handed to the email intake. ``status`` is what every upload it makes must end as
    ("error" or "successful"; "command" for a message answered as a subject command); ``words``
    must all appear in the answer (case-insensitive), and ``never`` nowhere in any answer.
    """
    name: str
    what: str
    words: tuple[str, ...]
    channel: str = "file"
    status: str = "error"
    sent_as: str = ""
    never: tuple[str, ...] = ()
    names: tuple[str, ...] = ()   # email: the file names the uploads must be recorded under
    stored_names: tuple[str, ...] = ()  # forenames the pupils must be stored with
    uploads: int = 1
    build: Callable[[], bytes] = field(default=lambda: b"", repr=False, compare=False)

    @property
    def file_name(self) -> str:
        return self.sent_as or self.name


# --- the school's own valid files, the base most hostile files start from ----------------------

def pupils() -> list[world.RosterPupil]:
    return [p for p in world.rosters() if p.dfe == SCHOOL]


def ks1_header() -> list[str]:
    from workers.validators.ks1 import HEADER
    return list(HEADER)


def ks1_rows() -> list[list[object]]:
    """The school's valid KS1 rows with dates written DD/MM/YYYY, as text."""
    rows = world.results_rows(pupils())
    for row in rows:
        row[5] = f"{row[5]:%d/%m/%Y}"
    return rows


def ks1_sheet(rows: list[list[object]] | None = None, **options) -> bytes:
    return sheet_xml([ks1_header(), *(ks1_rows() if rows is None else rows)], **options)


def ks1_xlsx() -> bytes:
    return xlsx(ks1_sheet())


def ks2_text(change: int = 0) -> str:
    return world.ks2_csv(pupils(), change).decode("utf-8")


def ctf(pupil_xml: str | None = None, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    school = f"<LEA>{SCHOOL[:3]}</LEA><Estab>{SCHOOL[3:]}</Estab>"
    if pupil_xml is None:
        p = pupils()[0]
        pupil_xml = (f"<Pupil><UPN>{p.upn}</UPN><Surname>{p.surname}</Surname>"
                     f"<Forename>{p.forename}</Forename><DOB>{p.dob:%Y-%m-%d}</DOB><Sex>{p.gender}</Sex>"
                     "</Pupil>")
    return (f"{prolog}<CTfile><Header><DocumentName>Common Transfer File</DocumentName>"
            "<CTFversion>25.0</CTFversion><DateTime>2026-06-30T10:15:00</DateTime>"
            "<DocumentQualifier>partial</DocumentQualifier><SupplierID>Test MIS</SupplierID>"
            f"<SourceSchool>{school}</SourceSchool><DestSchool>{school}</DestSchool></Header>"
            f"<CTFpupilData>{pupil_xml}</CTFpupilData></CTfile>")


# --- builders for the individual items -----------------------------------------------------------

def truncated(fraction: float) -> Callable[[], bytes]:
    def build() -> bytes:
        data = ks1_xlsx()
        return data[:int(len(data) * fraction)]
    return build


def corrupt_central_directory() -> bytes:
    data = bytearray(ks1_xlsx())
    start = data.find(b"PK\x01\x02")
    for offset in range(start, len(data) - 22, 7):  # scribble over the directory, not the data
        data[offset] = 0x5A
    return bytes(data)


def corrupt_sheet_data() -> bytes:
    data = bytearray(ks1_xlsx())
    name = b"xl/worksheets/sheet1.xml"
    header = data.find(name) + len(name)  # the local header: the compressed sheet follows it
    for offset in range(header + 40, header + 400, 3):
        data[offset] ^= 0xFF
    return bytes(data)


SHEET_PART = "xl/worksheets/sheet1.xml"


def lying_entry_size() -> bytes:
    """The sheet says it inflates to 200 kB, but its stream inflates to 100 MB of blanks."""
    return declare_sizes(_blank_sheet_zip(100), SHEET_PART, 200_000)


def zip_bomb() -> bytes:
    """A workbook whose one sheet inflates 1000-fold: 60 MB of blanks from ~60 kB."""
    return _blank_sheet_zip(60)


def _blank_sheet_zip(megabytes: int) -> bytes:
    """The KS1 workbook with its sheet replaced by ``megabytes`` MB of blanks between the tags:
    streamed into the zip, so the blanks never sit whole in memory."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
    blanks = (b" " * 1_000_000 for _ in range(megabytes))
    return zip_streamed(SHEET_PART, chain([head], blanks, [b"</sheetData></worksheet>"]),
                        before=_workbook_parts_without_sheet())


def _workbook_parts_without_sheet() -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(ks1_xlsx())) as archive:
        return [(i.filename, archive.read(i)) for i in archive.infolist() if i.filename != SHEET_PART]


def bulk_lying_member() -> bytes:
    """A trust's zip whose CSV declares 1 kB but inflates to 100 MB."""
    data = zip_streamed(f"{SCHOOL}_KS2.csv", (b" " * 1_000_000 for _ in range(100)),
                        before=[("Beech_KS2.csv", ks2_text(20).encode())])
    return declare_sizes(data, f"{SCHOOL}_KS2.csv", 1_000)


def declared_huge() -> bytes:
    return declare_sizes(ks1_xlsx(), "xl/worksheets/sheet1.xml", 0xFFFF_FFF0)


def too_many_entries() -> bytes:
    with zipfile.ZipFile(io.BytesIO(ks1_xlsx())) as archive:
        parts = [(i.filename, archive.read(i)) for i in archive.infolist()]
    return zip_bytes(parts + [(f"xl/media/image{n}.bin", b"") for n in range(20_000)])


def too_many_members() -> bytes:
    return zip_bytes([(f"school-{n:03d}.csv", f"note {n}\n".encode()) for n in range(600)])


def encrypted_zip() -> bytes:
    """A zip whose members are marked encrypted (ZipCrypto), as a password-protected zip is."""
    return mark_encrypted(zip_bytes([(f"{SCHOOL}_KS2.csv", ks2_text().encode()),
                                     ("Beech_KS2.csv", ks2_text(3).encode())]))


def nested_zips() -> bytes:
    innermost = zip_bytes([(f"{SCHOOL}_KS2.csv", ks2_text(5).encode())])
    inner = zip_bytes([("innermost.zip", innermost)])
    return zip_bytes([("inner.zip", inner)])


def nested_bomb() -> bytes:
    return zip_bytes([("Acorn KS1.xlsx", zip_bomb()), ("readme.txt", b"our results")],
                     compression=0)


# XML entity attacks on the CTF reader

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'
                            for n in range(1, 10))
                  + "]>")


def billion_laughs() -> bytes:
    p = pupils()[0]
    return ctf(f"<Pupil><UPN>{p.upn}</UPN><Surname>&lol9;</Surname></Pupil>",
               prolog=BILLION_LAUGHS).encode()


def xxe(system: str, parameter: bool = False) -> Callable[[], bytes]:
    def build() -> bytes:
        p = pupils()[0]
        if parameter:
            prolog = f'<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY % ext SYSTEM "{system}"> %ext;]>'
            body = f"<Pupil><UPN>{p.upn}</UPN><Surname>{p.surname}</Surname></Pupil>"
        else:
            prolog = f'<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY ext SYSTEM "{system}">]>'
            body = f"<Pupil><UPN>{p.upn}</UPN><Surname>&ext;</Surname></Pupil>"
        return ctf(body, prolog=prolog).encode()
    return build


def external_dtd() -> bytes:
    return ctf(prolog='<?xml version="1.0"?><!DOCTYPE CTfile SYSTEM "http://127.0.0.1:9/ctf.dtd">').encode()


def utf16_doctype() -> bytes:
    text = billion_laughs().decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    return text.encode("utf-16")


def xinclude() -> bytes:
    p = pupils()[0]
    body = (f'<Pupil xmlns:xi="http://www.w3.org/2001/XInclude"><UPN>{p.upn}</UPN>'
            f'<Surname><xi:include href="file:///etc/passwd" parse="text"/></Surname>'
            f"<Forename>{p.forename}</Forename><DOB>{p.dob:%Y-%m-%d}</DOB><Sex>{p.gender}</Sex></Pupil>")
    return ctf(body).encode()


def deeply_nested() -> bytes:
    return ctf("<Pupil>" + "<x>" * 20_000 + "</x>" * 20_000 + "</Pupil>").encode()


def truncated_ctf() -> bytes:
    data = ctf().encode()
    return data[:len(data) // 2]


# Office and other formats sent as results

def macro_workbook() -> bytes:
    return xlsx(ks1_sheet(), macros=ole2([("VBA", b"Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\n"
                                                  b"Shell \"cmd /c calc\"\r\nEnd Sub\r\n")]))


def password_protected() -> bytes:
    info = b"\x04\x00\x04\x00\x40\x00\x00\x00" + "Microsoft Enhanced RSA and AES Cryptographic Provider".encode("utf-16-le")
    return ole2([("EncryptionInfo", info), ("EncryptedPackage", b"\x00\x10\x00\x00" + bytes(range(256)) * 8)])


def old_excel() -> bytes:
    bof = b"\x09\x08\x10\x00\x00\x06\x05\x00\xbb\x0d\xcc\x07\x00\x00\x00\x00\x06\x00\x00\x00"
    return ole2([("Workbook", bof + b"\x0a\x00\x00\x00"), ("\x05SummaryInformation", b"\xfe\xff")])


def html_as_xls() -> bytes:
    cells = "".join(f"<td>{h}</td>" for h in ks1_header())
    rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in ks1_rows())
    return ('<html xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8">'
            f"<title>KS1 results</title></head><body><table><tr>{cells}</tr>{rows}</table></body>"
            "</html>").encode()


def spreadsheet_2003() -> bytes:
    header = "".join(f'<Cell><Data ss:Type="String">{h}</Data></Cell>' for h in ks1_header())
    return ('<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="KS1">'
            f"<Table><Row>{header}</Row></Table></Worksheet></Workbook>").encode()


def word_document() -> bytes:
    return zip_bytes([("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
                      ("word/document.xml", b'<?xml version="1.0"?><w:document/>'),
                      ("_rels/.rels", b'<?xml version="1.0"?><Relationships/>')])


def opendocument() -> bytes:
    return zip_bytes([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                      ("content.xml", b'<?xml version="1.0"?><office:document-content/>'),
                      ("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest/>')], compression=0)


def pdf() -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def random_bytes() -> bytes:
    return random.Random(8).randbytes(50_000)


# CSV text

def utf16(encoding: str, bom: bool = True) -> Callable[[], bytes]:
    def build() -> bytes:
        text = ks2_text(11 if encoding.endswith("le") else 12)
        prefix = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding] if bom else b""
        return prefix + text.encode(encoding)
    return build


def mixed_encoding() -> bytes:
    """The portal's UTF-8 with two names typed in afterwards by a Windows-1252 editor."""
    lines = ks2_text(13).split("\r\n")
    first, second = lines[1].split(","), lines[2].split(",")
    first[1], second[1] = "Zoë", "Renée"
    data = "\r\n".join(lines[:1]).encode("utf-8") + b"\r\n"
    data += ",".join(first).encode("utf-8") + b"\r\n"  # ë as UTF-8
    data += ",".join(second).encode("cp1252") + b"\r\n"  # é as one Windows-1252 byte
    data += "\r\n".join(lines[3:]).encode("utf-8")
    return data


def nul_bytes() -> bytes:
    lines = ks2_text(14).split("\r\n")
    lines[3] = lines[3].replace(",", ",\x00", 1)
    return ("\r\n".join(lines)).encode("utf-8") + b"\x00" * 64


def csv_formulas() -> bytes:
    lines = ks2_text(15).split("\r\n")
    cells = [line.split(",") for line in lines]
    cells[1][1] = '"=HYPERLINK(""http://127.0.0.1:9/"",""click"")"'
    cells[2][4] = "\"=cmd|' /C calc'!A0\""
    cells[3][5] = "@SUM(1+1)"
    cells[4][6] = "+1+1"
    cells[5][7] = "-2+3"
    return "\r\n".join(",".join(row) for row in cells).encode("utf-8")


def csv_many_rows() -> bytes:
    lines = ks2_text(16).split("\r\n")
    row = lines[1]
    return ("\r\n".join([lines[0]] + [row] * 100_000) + "\r\n").encode("utf-8")


def csv_header_only() -> bytes:
    return (ks2_text().split("\r\n")[0] + "\r\n").encode("utf-8")


def csv_huge_field() -> bytes:
    lines = ks2_text(17).split("\r\n")
    return (lines[0] + "\r\n" + lines[1] + ',"' + "A" * 5_000_000 + '"\r\n').encode("utf-8")


# Templates with hostile content

def ks1_formulas() -> bytes:
    rows = ks1_rows()
    rows[0][1] = Formula('=HYPERLINK("http://127.0.0.1:9/","click")')
    rows[1][7] = Formula("=cmd|' /C calc'!A0", cached="EXS")
    rows[2][2] = "=1+1"
    rows[3][3] = '=HYPERLINK("http://127.0.0.1:9/","x")'
    rows[4][8] = "@SUM(A1)"
    return xlsx(ks1_sheet(rows))


def ks1_many_rows() -> bytes:
    row = ks1_rows()[0][:3]
    return xlsx(sheet_xml([ks1_header()] + [row] * 100_000))


def very_wide() -> bytes:
    header = ks1_header() + [f"Note {n}" for n in range(16_384 - len(ks1_header()))]
    rows = [row + [n] * (16_384 - len(row)) for n, row in enumerate(ks1_rows()[:10])]
    return xlsx(sheet_xml([header] + rows))


def far_corner() -> bytes:
    sheet = ks1_sheet().replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                                b"<is><t>corner</t></is></c></row></sheetData>")
    return xlsx(sheet)


def far_column() -> bytes:
    sheet = ks1_sheet().replace(b"</row>", b'<c r="ZZZZZZZ1"><v>1</v></c></row>', 1)
    return xlsx(sheet)


def unnumbered_cells() -> bytes:
    """Cells without a reference are placed one after another: 30,000 empty ones in a row push
    a value to column 30,001, under 9,999 numbered rows."""
    sheet = ks1_sheet().replace(
        b"</sheetData>", b"<row>" + b"<c/>" * 30_000 + b"<c><v>1</v></c></row>"
        b'<row r="9999"><c r="A9999"><v>1</v></c></row></sheetData>')
    return xlsx(sheet)


def shared_strings_bomb() -> bytes:
    header = [Shared(n) for n in range(len(ks1_header()))]
    rows = [[Shared(len(ks1_header()))] * len(ks1_header()) for _ in range(19_999)]
    strings = ks1_header() + ["A" * 32_000]
    return xlsx(sheet_xml([header] + rows), shared_strings=shared_strings_xml(strings))


def huge_cell_text() -> bytes:
    rows = ks1_rows()
    rows[0][2] = "Amara" + "a" * 40_000
    return xlsx(ks1_sheet(rows))


def long_name() -> bytes:
    rows = ks1_rows()
    rows[0][3] = "Ahmed-" + "Smith-" * 40
    return xlsx(ks1_sheet(rows))


def dates_as_text() -> bytes:
    rows = ks1_rows()
    for row, text in zip(rows, ["31/02/2018", "2018-13-01", "next Tuesday", "43210", "01.09.2018",
                                "1/9/18 12:00"]):
        row[5] = text
    return xlsx(ks1_sheet(rows))


def header_moved() -> bytes:
    return xlsx(sheet_xml([["Acorn Primary School KS1 results 2026"], [], ks1_header(), *ks1_rows()]))


def ks4_columns_swapped() -> bytes:
    from workers.validators import ks4
    header = ks4.header(ks4.GCSE)
    a, b = len(ks4.FIXED_COLUMNS) + 2, len(ks4.FIXED_COLUMNS) + 5
    header[a], header[b] = header[b], header[a]
    return xlsx(sheet_xml([header]), sheet_name="KS4 GCSE")


def doctype_in_sheet() -> bytes:
    sheet = ks1_sheet(prolog='<?xml version="1.0"?>' + BILLION_LAUGHS.replace('<?xml version="1.0"?>', "")
                      .replace("CTfile", "worksheet"))
    return xlsx(sheet.replace(b">Amara<", b">&lol9;<", 1))


def xxe_in_styles() -> bytes:
    styles = STYLES.replace(b"?>", b'?><!DOCTYPE styleSheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1)
    styles = styles.replace(b'<name val="Calibri"/>', b'<name val="&x;"/>')
    return xlsx(ks1_sheet(), styles=styles)


# Emails

def email(subject: str, attachments, n: int) -> Callable[[], bytes]:
    def build() -> bytes:
        return raw_email(SENDER, SERVICE, subject, attachments(),
                         message_id=f"<corpus.{n}@acorn.sch.example>")
    return build


def valid_ks2(change: int) -> bytes:
    return ks2_text(change).encode("utf-8")


def hundred_attachments():
    kinds = [lambda n: b"", lambda n: pdf() + str(n).encode(), lambda n: f"   \r\n{' ' * n}".encode(),
             lambda n: html_as_xls() + str(n).encode(), lambda n: random.Random(n).randbytes(500)]
    return [named(f"file-{n:03d}.xlsx", kinds[n % len(kinds)](n)) for n in range(100)]


def zip_slip():
    archive = zip_bytes([("../../../../tmp/evil.csv", valid_ks2(40)),
                         ("/etc/cron.d/evil2.csv", b"\xef\xbb\xbf   "),
                         ("ok\x07\x1b[31m\u202egpj.csv", pdf())])
    return [named("results.zip", archive)]


def encoded_word_name():
    word = base64.b64encode("../\u202e\r\nvsc.xlsx".encode()).decode()
    return [Attachment(f'attachment; filename="=?utf-8?b?{word}?="', valid_ks2(41))]


# --- the corpus ----------------------------------------------------------------------------------

DAMAGED = ("could not be opened", "save it again")
DOCTYPE = ("document type declaration",)
PASSWD = ("root:", "/bin/")

ITEMS: list[Item] = [
    # damaged workbooks
    Item("truncated-10pct.xlsx", "a KS1 workbook cut off after 10% of its bytes", DAMAGED, build=truncated(0.1)),
    Item("truncated-50pct.xlsx", "a KS1 workbook cut off half way", DAMAGED, build=truncated(0.5)),
    Item("truncated-99pct.xlsx", "a KS1 workbook missing the end of its zip directory", DAMAGED,
         build=truncated(0.99)),
    Item("corrupt-central-directory.xlsx", "a workbook whose zip directory is overwritten", DAMAGED,
         build=corrupt_central_directory),
    Item("corrupt-sheet-data.xlsx", "a workbook whose compressed sheet has flipped bytes", DAMAGED,
         build=corrupt_sheet_data),
    Item("missing-workbook-part.xlsx", "a workbook zip without xl/workbook.xml",
         ("not an Excel workbook",), build=lambda: xlsx(ks1_sheet(), omit={"xl/workbook.xml"})),
    Item("sheet-not-xml.xlsx", "a workbook whose sheet is plain text, not XML", DAMAGED,
         build=lambda: xlsx(b"this is not a worksheet")),
    Item("lying-entry-size.xlsx", "a sheet whose zip entry claims 200 kB but inflates to 100 MB",
         DAMAGED, build=lying_entry_size),
    # zip bombs and archives
    Item("zip-bomb.xlsx", "a workbook whose sheet inflates 1000-fold (60 MB of blanks)",
         ("compressed", "times over"), build=zip_bomb),
    Item("declared-4gb.xlsx", "a workbook whose directory says the sheet is 4 GB",
         ("MB once opened", "limit"), build=declared_huge),
    Item("too-many-entries.xlsx", "a workbook zip with 20,000 entries", ("20,006 files", "at most"),
         build=too_many_entries),
    Item("too-many-members.zip", "a bulk zip of 600 files", ("600 files", "at most 500"),
         build=too_many_members),
    Item("bulk-lying-member.zip", "a bulk zip whose CSV declares 1 kB but inflates to 100 MB",
         ("damaged", "zip the results files again"), build=bulk_lying_member),
    Item("password.zip", "a bulk zip whose files are encrypted (password-protected zip)",
         ("password",), build=encrypted_zip),
    Item("nested-zips.zip", "a zip holding a zip holding a zip", ("zip inside a zip",),
         build=nested_zips),
    Item("nested-zip-bomb.zip", "a bulk zip holding a zip-bomb workbook and a note",
         ("compressed", "times over"), uploads=2, build=nested_bomb),
    # XML entity attacks
    Item("billion-laughs.xml", "a CTF with nested entities (billion laughs)", DOCTYPE, never=("lollol",),
         build=billion_laughs),
    Item("xxe-file.xml", "a CTF with an external entity reading /etc/passwd", DOCTYPE, never=PASSWD,
         build=xxe("file:///etc/passwd")),
    Item("xxe-network.xml", "a CTF with an external entity fetching http://127.0.0.1:9/", DOCTYPE,
         build=xxe("http://127.0.0.1:9/")),
    Item("xxe-parameter-entity.xml", "a CTF with an external parameter entity", DOCTYPE, never=PASSWD,
         build=xxe("file:///etc/passwd", parameter=True)),
    Item("external-dtd.xml", "a CTF whose DOCTYPE loads an external DTD over the network", DOCTYPE,
         build=external_dtd),
    Item("utf16-doctype.xml", "a UTF-16 CTF with nested entities (hides from byte scans)", DOCTYPE,
         build=utf16_doctype),
    Item("xinclude.xml", "a CTF whose surname is an XInclude of /etc/passwd",
         ("Surname must have a value",), never=PASSWD, build=xinclude),
    Item("deeply-nested.xml", "a CTF nested 20,000 elements deep", ("not well-formed",),
         build=deeply_nested),
    Item("truncated.xml", "a CTF cut off half way", ("not well-formed",), build=truncated_ctf),
    Item("doctype-in-sheet.xlsx", "a workbook whose sheet XML declares nested entities", DOCTYPE,
         never=("lollol",), build=doctype_in_sheet),
    Item("xxe-in-styles.xlsx", "a workbook whose styles part has an external entity", DOCTYPE,
         never=PASSWD, build=xxe_in_styles),
    # other formats sent as results
    Item("macro.xlsm", "a KS1 workbook with a VBA project (auto-open macro)", ("macro",),
         build=macro_workbook),
    Item("password-protected.xlsx", "an encrypted workbook (OLE2 holding an EncryptedPackage)",
         ("password",), build=password_protected),
    Item("old-excel.xls", "an Excel 97-2003 workbook (OLE2 holding a Workbook stream)",
         ("97-2003", ".xlsx"), build=old_excel),
    Item("html-saved-as.xls", "a web page of the KS1 table saved with an .xls name", ("web page",),
         build=html_as_xls),
    Item("spreadsheet-2003.xls", "an XML Spreadsheet 2003 file", ("XML Spreadsheet 2003",),
         build=spreadsheet_2003),
    Item("word-document.xlsx", "a Word document renamed .xlsx", ("Word document",), build=word_document),
    Item("opendocument.xlsx", "an OpenDocument spreadsheet (.ods) renamed .xlsx", ("OpenDocument",),
         build=opendocument),
    Item("pdf-renamed.xlsx", "a PDF renamed .xlsx", ("PDF",), build=pdf),
    Item("png-renamed.xlsx", "a PNG image renamed .xlsx", ("image",), build=png),
    Item("empty.xlsx", "an empty file", ("empty",), build=lambda: b""),
    Item("whitespace-only.csv", "a file of blanks and line ends", ("empty",),
         build=lambda: b" \r\n\t\r\n   \r\n"),
    Item("random-bytes.xlsx", "50 kB of random bytes", ("not recognised",), build=random_bytes),
    # CSV text
    Item("ks2-utf16le.csv", "the KS2 CSV saved as UTF-16 LE with a BOM (Excel's 'Unicode text')",
         ("uploaded successfully",), status="successful", sent_as=f"{SCHOOL}_KS2_utf16le.csv",
         build=utf16("utf-16-le")),
    Item("ks2-utf16be.csv", "the KS2 CSV saved as UTF-16 BE with a BOM", ("uploaded successfully",),
         status="successful", sent_as=f"{SCHOOL}_KS2_utf16be.csv", build=utf16("utf-16-be")),
    Item("ks2-utf16le-no-bom.csv", "the KS2 CSV in UTF-16 LE without the BOM that says so",
         ("UTF-16", "byte order mark"), sent_as=f"{SCHOOL}_KS2_nobom.csv",
         build=utf16("utf-16-le", bom=False)),
    Item("ks2-mixed-encoding.csv", "the KS2 CSV in UTF-8 with one name in Windows-1252 bytes",
         ("uploaded successfully",), status="successful", sent_as=f"{SCHOOL}_KS2_mixed.csv",
         stored_names=("Zoë", "Renée"), build=mixed_encoding),
    Item("ks2-nul-bytes.csv", "the KS2 CSV with NUL bytes in a cell and at the end",
         ("NUL (zero) bytes",), sent_as=f"{SCHOOL}_KS2_nul.csv", build=nul_bytes),
    Item("ks2-formulas.csv", "the KS2 CSV with =HYPERLINK, =cmd|, @, + and - formulas in cells",
         ("Scaled score must be between 80 and 120",), sent_as=f"{SCHOOL}_KS2_formulas.csv",
         build=csv_formulas),
    Item("ks2-100k-rows.csv", "the KS2 CSV with 100,000 pupil rows", ("100000 pupil rows", "at most 20000"),
         sent_as=f"{SCHOOL}_KS2_big.csv", build=csv_many_rows),
    Item("ks2-header-only.csv", "the KS2 CSV header with no pupils", ("no pupil rows",),
         sent_as=f"{SCHOOL}_KS2_empty.csv", build=csv_header_only),
    Item("ks2-huge-field.csv", "the KS2 CSV with a 5 MB quoted field", ("could not be read as CSV",),
         build=csv_huge_field),
    # templates with hostile content
    Item("ks1-formulas.xlsx", "a KS1 template with =HYPERLINK, =cmd| and other formulas in cells",
         ("UPN must have a value",), build=ks1_formulas),
    Item("ks1-100k-rows.xlsx", "a KS1 template with 100,000 rows", ("at most 20000",),
         build=ks1_many_rows),
    Item("very-wide.xlsx", "a KS1 template 16,384 columns wide", ("more than 200 columns",),
         build=very_wide),
    Item("far-corner.xlsx", "a KS1 template with one more cell at XFD1048576",
         ("at least 1048576 rows", "at most 20000"), build=far_corner),
    Item("far-column.xlsx", "a KS1 template with a cell in column ZZZZZZZ", ("columns",),
         build=far_column),
    Item("unnumbered-cells.xlsx", "a sheet of 30,000 unnumbered cells in one row", ("columns",),
         build=unnumbered_cells),
    Item("shared-strings-bomb.xlsx", "20,000 rows of cells all pointing at one 32,000-character string",
         ("MB of text",), build=shared_strings_bomb),
    Item("huge-cell-text.xlsx", "a KS1 template with a 40,000-character forename",
         ("Forename must be at most 100 characters",), build=huge_cell_text),
    Item("long-surname.xlsx", "a KS1 template with a 246-character surname",
         ("Surname must be at most 100 characters",), build=long_name),
    Item("dates-as-text.xlsx", "a KS1 template with impossible dates written as text",
         ("Date of birth must be a valid date",), build=dates_as_text),
    Item("header-moved.xlsx", "a KS1 template with a title above the header row", ("row 3",),
         build=header_moved),
    Item("ks4-columns-swapped.xlsx", "a KS4 GCSE template with two subject columns swapped",
         ("re-ordered",), build=ks4_columns_swapped),
    # emails whose attachment names are hostile
    Item("email-dotdot.eml", "an attachment named ../../../etc/passwd.csv", ("passwd.csv",),
         channel="email", names=("passwd.csv",), never=("../",),
         build=email("Results", lambda: [named("../../../etc/passwd.csv", valid_ks2(30))], 1)),
    Item("email-absolute-paths.eml", "attachments named /etc/cron.d/x.csv and C:\\Windows\\x.csv",
         ("results.csv", "other.csv"), channel="email", names=("results.csv", "other.csv"), uploads=2,
         never=("/etc/", "C:\\"),
         build=email("Results", lambda: [named("/etc/cron.d/results.csv", b"   "),
                                          named("C:\\Windows\\System32\\other.csv", b" \t ")], 2)),
    Item("email-control-characters.eml", "names with CR LF (a Bcc: header), NUL, BEL and ESC",
         ("resultsBcc: victim@example.com.csv",), channel="email", uploads=2,
         names=("resultsBcc: victim@example.com.csv", "[31mred.csv"), never=("\x1b", "\x07"),
         build=email("Results", lambda: [named("results\r\nBcc: victim@example.com\r\n.csv", b" "),
                                          named("\x00\x07\x1b[31mred.csv", b"  ")], 3)),
    Item("email-long-name.eml", "an attachment name of 1,000 characters", ("…",), channel="email",
         build=email("Results", lambda: [named("x" * 1_000 + ".csv", b" ")], 4)),
    Item("email-rtl-override.eml", "a name with a right-to-left override and zero-width spaces",
         ("resultsvsc.exe",), channel="email", names=("resultsvsc.exe",), never=("\u202e", "\u200b"),
         build=email("Results", lambda: [named("results\u202evsc.exe\u200b", b" ")], 5)),
    Item("email-dot-names.eml", "attachments named '..', '.' and '/'", ("attachment",), channel="email",
         uploads=3, names=("attachment", "attachment", "attachment"),
         build=email("Results", lambda: [named("..", b" "), named(".", b"  "), named("/", b"   ")], 6)),
    Item("email-encoded-word.eml", "an RFC 2047 encoded name hiding ../, an RTL override and CR LF",
         ("vsc.xlsx",), channel="email", names=("vsc.xlsx",), never=("\u202e",),
         build=email("Results", encoded_word_name, 7)),
    Item("email-zip-slip.eml", "a zip whose members are named ../../../../tmp/evil.csv, /etc/cron.d/"
         "evil2.csv and with control characters", ("evil.csv", "evil2.csv"), channel="email", uploads=3,
         names=("evil.csv", "evil2.csv", "ok[31mgpj.csv"), never=("../", "\x07", "\u202e"),
         build=email("Results", zip_slip, 8)),
    Item("email-100-attachments.eml", "one message with 100 attachments", ("100 files",),
         channel="email", uploads=100, build=email("Results", hundred_attachments, 9)),
    Item("email-long-command.eml", "a HISTORY command whose argument is 300 characters long",
         ("HISTORY",), channel="email", status="command", uploads=0,
         build=email("HISTORY " + "k" * 300, lambda: [], 10)),
]


def write(outdir: Path) -> list[dict]:
    """Write every item and ``manifest.json``; returns the manifest."""
    outdir.mkdir(parents=True, exist_ok=True)
    names = [item.name for item in ITEMS]
    assert len(names) == len(set(names)), "corpus names must be unique"
    manifest = []
    for item in ITEMS:
        data = item.build()
        (outdir / item.name).write_bytes(data)
        entry = {k: v for k, v in asdict(item).items() if k != "build"}
        entry.update(file_name=item.file_name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        manifest.append(entry)
    (outdir / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def main(argv: list[str]) -> int:
    outdir = Path(argv[0]) if argv else DEFAULT_OUTDIR
    manifest = write(outdir)
    print(f"{len(manifest)} hostile inputs written to {outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
