"""Raw files stored under their content hash: written to a temp file, fsynced, then renamed."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(store_dir: Path, data: bytes) -> tuple[str, Path]:
    """Store bytes durably; returns (hash, path). Storing the same bytes twice is a no-op.

    The name the sender gave the file is never used on disk (it is metadata only).
    """
    digest = content_hash(data)
    path = store_dir / digest[:2] / digest
    if path.exists():
        return digest, path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return digest, path


def read(path: str | Path) -> bytes:
    return Path(path).read_bytes()
