"""A zip of several schools' files (a trust's bulk upload) opened into its members, safely.

Only a plain archive is opened: a workbook (or any other Office or OpenDocument file) is itself a
zip and stays whole. Anything that looks like a zip bomb, holds too many files, is encrypted or
has a member that does not inflate to the size its directory entry declares (no member is ever
inflated past it) is left unopened, so detection refuses it with its own clear message. Member
names are metadata only, cleaned like attachment names: ``../../evil.csv`` is ``evil.csv``.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from config.settings import Limits
from intake.mail_message import safe_name
from workers.validators.workbook import ZIP_READ_ERRORS, read_part

# A part only a package has: the file is a document, not an archive of results files.
PACKAGE_PARTS = ("xl/workbook.xml", "[Content_Types].xml", "mimetype", "META-INF/manifest.xml")


def members(data: bytes, limits: Limits) -> list[tuple[str, bytes]] | None:
    """(name, bytes) for each file in a bulk archive, or None when ``data`` is not one."""
    if not data.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = [e for e in archive.infolist() if not e.is_dir() and not _hidden(e.filename)]
            names = {e.filename for e in archive.infolist()}
            unzipped = sum(e.file_size for e in entries)
            if (any(part in names for part in PACKAGE_PARTS) or not entries
                    or len(entries) > limits.max_zip_members or unzipped > limits.max_unzipped_bytes
                    or unzipped > limits.max_compression_ratio * len(data)
                    or any(e.flag_bits & 0x1 for e in entries)):
                return None
            return [(safe_name(e.filename), read_part(archive, e)) for e in entries]
    except ZIP_READ_ERRORS:
        return None


def _hidden(name: str) -> bool:
    """A hidden file or folder (``.DS_Store``, ``__MACOSX/``): never results. ``..`` is no
    hidden folder, only a path part, dropped with the rest of the path."""
    return any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(name.replace("\\", "/")).parts
               if part not in (".", ".."))
