"""Byte-exact builders for hostile files: workbooks, zips, OLE2 containers and raw emails.

Written by hand rather than with openpyxl or ``email``: those libraries refuse (or quietly repair)
exactly the malformed structures the corpus needs, and they stamp files with the time and random
MIME boundaries, so their output would differ on every run. Everything here is deterministic.
"""
from __future__ import annotations

import base64
import io
import struct
import zipfile
from collections.abc import Iterable, Sequence
from typing import NamedTuple
from urllib.parse import quote
from xml.sax.saxutils import escape

from workers.validators.workbook import column_letter

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_WORKBOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
STYLES_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"


# --- zip ---------------------------------------------------------------------------------------

def zip_bytes(entries: Iterable[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of these entries, in this order, every one dated 1980-01-01 so the bytes never vary."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = compression
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def zip_streamed(name: str, chunks: Iterable[bytes], before: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """A zip whose last entry is written chunk by chunk, so a bomb never sits whole in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for entry_name, data in before:
            info = zipfile.ZipInfo(entry_name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as handle:
            for chunk in chunks:
                handle.write(chunk)
    return buffer.getvalue()


def declare_sizes(data: bytes, entry: str, size: int) -> bytes:
    """The zip with ``entry``'s uncompressed size rewritten (local header and central directory):
    the directory then lies about what the entry inflates to."""
    out = bytearray(data)
    encoded = entry.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            name_length = struct.unpack_from("<H", out, start + (26 if signature == b"PK\x03\x04" else 28))[0]
            if bytes(out[start + name_at:start + name_at + name_length]) == encoded:
                struct.pack_into("<I", out, start + size_at, size)
            start += 4
    return bytes(out)


def mark_encrypted(data: bytes) -> bytes:
    """The zip with every entry flagged encrypted (general purpose bit 0, in each local header
    and central directory entry), as a password-protected (ZipCrypto) zip is; the data stays
    plain, so only the flag can be what refuses it."""
    out = bytearray(data)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            out[start + flags_at] |= 0x01
            start += 4
    return bytes(out)


# --- xlsx --------------------------------------------------------------------------------------

class Formula(NamedTuple):
    """A formula cell; ``cached`` is the value Excel would have saved beside it (None: none)."""
    text: str
    cached: str | None = None


class Shared(NamedTuple):
    """A cell holding shared string number ``index``."""
    index: int


def cell_xml(ref: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Formula):
        cached = "" if value.cached is None else f"<v>{escape(value.cached)}</v>"
        return f'<c r="{ref}" t="str"><f>{escape(value.text.lstrip("="))}</f>{cached}</c>'
    if isinstance(value, Shared):
        return f'<c r="{ref}" t="s"><v>{value.index}</v></c>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return (f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t>'
            "</is></c>")


def sheet_xml(rows: Sequence[Sequence[object]], *, dimension: bool = True,
              prolog: str = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>') -> bytes:
    """A worksheet with these rows from A1, every cell and row numbered (as Excel writes them)."""
    width = max((len(r) for r in rows), default=1)
    parts = [prolog, f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">']
    if dimension:
        parts.append(f'<dimension ref="A1:{column_letter(max(width - 1, 0))}{max(len(rows), 1)}"/>')
    parts.append("<sheetData>")
    for number, row in enumerate(rows, start=1):
        cells = "".join(cell_xml(f"{column_letter(i)}{number}", v) for i, v in enumerate(row))
        parts.append(f'<row r="{number}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode("utf-8")


def shared_strings_xml(strings: Sequence[str]) -> bytes:
    items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN_NS}" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>').encode("utf-8")


STYLES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{MAIN_NS}">'
          '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
          '<fills count="2"><fill><patternFill patternType="none"/></fill>'
          '<fill><patternFill patternType="gray125"/></fill></fills>'
          '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
          '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
          "</styleSheet>").encode("utf-8")


def xlsx(sheet: bytes, *, shared_strings: bytes | None = None, macros: bytes | None = None,
         extra: Sequence[tuple[str, bytes]] = (), omit: Iterable[str] = (), styles: bytes = STYLES,
         sheet_name: str = "KS1 results") -> bytes:
    """A one-sheet workbook as Excel lays it out; ``omit`` drops parts, ``extra`` adds some."""
    overrides = [("/xl/workbook.xml", MACRO_WORKBOOK_TYPE if macros else WORKBOOK_TYPE),
                 ("/xl/worksheets/sheet1.xml", SHEET_TYPE), ("/xl/styles.xml", STYLES_TYPE)]
    relations = [("rId1", "worksheet", "worksheets/sheet1.xml"), ("rId2", "styles", "styles.xml")]
    if shared_strings is not None:
        overrides.append(("/xl/sharedStrings.xml", STRINGS_TYPE))
        relations.append(("rId3", "sharedStrings", "sharedStrings.xml"))
    if macros is not None:
        relations.append(("rId4", "vbaProject", "vbaProject.bin"))
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + ('<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' if macros else "")
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
        + "</Types>").encode()
    package_rels = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL_NS}">'
                    f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
                    "</Relationships>").encode()
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{MAIN_NS}" '
                f'xmlns:r="{REL_NS}"><sheets><sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/>'
                "</sheets></workbook>").encode()
    workbook_rels = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL_NS}">'
                     + "".join(f'<Relationship Id="{i}" Type="{REL_NS}/{k}" Target="{t}"/>'
                               for i, k, t in relations)
                     + "</Relationships>").encode()
    parts = [("[Content_Types].xml", content_types), ("_rels/.rels", package_rels),
             ("xl/workbook.xml", workbook), ("xl/_rels/workbook.xml.rels", workbook_rels),
             ("xl/styles.xml", styles), ("xl/worksheets/sheet1.xml", sheet)]
    if shared_strings is not None:
        parts.append(("xl/sharedStrings.xml", shared_strings))
    if macros is not None:
        parts.append(("xl/vbaProject.bin", macros))
    left_out = set(omit)
    return zip_bytes([p for p in parts if p[0] not in left_out] + list(extra))


# --- OLE2 (compound file) ----------------------------------------------------------------------

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FREE, END, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
SECTOR = 512


def ole2(streams: Sequence[tuple[str, bytes]]) -> bytes:
    """A version 3 compound file with these streams under the root, as Excel 97-2003 files and
    password-protected workbooks are stored. Each stream is padded to 4096 bytes so it lives in
    ordinary sectors (no mini stream), which keeps the layout to one FAT and one directory sector."""
    assert 1 <= len(streams) <= 3
    padded = [(name, data + b"\x00" * max(0, 4096 - len(data))) for name, data in streams]
    next_sector = 2  # 0: the FAT, 1: the directory
    chains, starts = [], []
    for _, data in padded:
        count = -(-len(data) // SECTOR)
        starts.append(next_sector)
        chains.append(list(range(next_sector, next_sector + count)))
        next_sector += count
    assert next_sector <= SECTOR // 4
    fat = [FAT_SECTOR, END] + [FREE] * (SECTOR // 4 - 2)
    for chain in chains:
        for here, following in zip(chain, chain[1:] + [END]):
            fat[here] = following
    order = sorted(range(len(padded)), key=lambda i: (len(padded[i][0]), padded[i][0].upper()))
    right = {index: (1 + order[position + 1] if position + 1 < len(order) else NO_STREAM)
             for position, index in enumerate(order)}  # siblings in name order: a valid tree
    directory = [_directory_entry("Root Entry", 5, child=1 + order[0], start=END, size=0)]
    directory += [_directory_entry(name, 2, right=right[index], start=starts[index], size=len(data))
                  for index, (name, data) in enumerate(padded)]
    directory_sector = b"".join(directory).ljust(SECTOR, b"\x00")
    header = bytearray(SECTOR)
    header[0:8] = OLE2_SIGNATURE
    struct.pack_into("<HHHHH", header, 24, 0x003E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 40, 0, 1, 1, 0, 4096, END, 0, END)
    struct.pack_into("<I", header, 72, 0)
    struct.pack_into("<I", header, 76, 0)  # DIFAT[0]: the FAT is sector 0
    for slot in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * slot, FREE)
    body = b"".join(data.ljust(len(chain) * SECTOR, b"\x00")
                    for (_, data), chain in zip(padded, chains))
    return bytes(header) + struct.pack(f"<{SECTOR // 4}I", *fat) + directory_sector + body


def _directory_entry(name: str, kind: int, *, child: int = NO_STREAM, right: int = NO_STREAM,
                     start: int, size: int) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    entry = bytearray(128)
    entry[0:len(encoded)] = encoded
    struct.pack_into("<HBBIII", entry, 64, len(encoded), kind, 1, NO_STREAM, right, child)
    struct.pack_into("<II", entry, 116, start, size)
    return bytes(entry)


# --- email -------------------------------------------------------------------------------------

class Attachment(NamedTuple):
    """A MIME part as it appears on the wire: its raw Content-Disposition parameters and type."""
    disposition: str
    data: bytes
    content_type: str = "application/octet-stream"


def named(name: str, data: bytes, content_type: str = "application/octet-stream") -> Attachment:
    """An attachment whose name is sent as a mail client would: quoted when plain ASCII, else
    RFC 2231 percent-encoded (which is how control characters and ``../`` reach a server)."""
    if name.isascii() and name.isprintable() and '"' not in name and "\\" not in name:
        return Attachment(f'attachment; filename="{name}"', data, content_type)
    return Attachment(f"attachment; filename*=utf-8''{quote(name, safe='')}", data, content_type)


def raw_email(sender: str, to: str, subject: str, attachments: Sequence[Attachment], *,
              message_id: str, body: str = "Please find our results attached.") -> bytes:
    """A multipart/mixed message with CRLF line ends, a fixed boundary and base64 parts."""
    boundary = "=_ers-corpus-boundary_="
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Message-ID: {message_id}",
             "Date: Sun, 22 Nov 2026 10:00:00 +0000", "MIME-Version: 1.0",
             f'Content-Type: multipart/mixed; boundary="{boundary}"', "",
             f"--{boundary}", "Content-Type: text/plain; charset=utf-8", "", body]
    for attachment in attachments:
        encoded = base64.encodebytes(attachment.data).decode().replace("\n", "\r\n").rstrip("\r\n")
        lines += [f"--{boundary}", f"Content-Type: {attachment.content_type}",
                  "Content-Transfer-Encoding: base64",
                  f"Content-Disposition: {attachment.disposition}", "", encoded]
    lines.append(f"--{boundary}--")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
