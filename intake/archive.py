"""A zip of several schools' files (a trust's bulk upload) opened into its members, safely.

Only a plain archive is opened: a workbook is itself a zip and stays whole. Anything that looks
like a zip bomb is left unopened, so detection refuses it with its own clear message.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from config.settings import Limits

MAX_MEMBERS = 500


def members(data: bytes, limits: Limits) -> list[tuple[str, bytes]] | None:
    """(name, bytes) for each file in a bulk archive, or None when ``data`` is not one."""
    if not data.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = [e for e in archive.infolist() if not e.is_dir()
                       and not any(part.startswith((".", "__MACOSX"))
                                   for part in PurePosixPath(e.filename).parts)]
            names = {e.filename for e in archive.infolist()}
            unzipped = sum(e.file_size for e in entries)
            if ("xl/workbook.xml" in names or "[Content_Types].xml" in names or not entries
                    or len(entries) > MAX_MEMBERS or unzipped > limits.max_unzipped_bytes
                    or unzipped > limits.max_compression_ratio * len(data)):
                return None
            return [(PurePosixPath(e.filename.replace("\\", "/")).name, archive.read(e))
                    for e in entries]
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        return None
