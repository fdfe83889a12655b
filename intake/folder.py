"""The local drop folder: a file at ``DIR/<email>/<name>`` is a submission sent by that contact.

A file is taken once its modification time is a few seconds old (so half-copied files wait),
received, and only then moved to ``DIR/_handled/<email>/``; a restart between the two finds
the same source again and ``receive`` returns the earlier submission, so nothing is processed
twice and nothing is lost. Files from unknown senders go to ``DIR/_refused/`` with a reason.
A file that cannot be taken now (the database or the broker is down) stays where it is for the
next scan, and the scan goes on with the others: ``receive`` fails loudly rather than half-taking.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from intake.receive import NotAContact, receive
from workers.app import App

SKIPPED_SUFFIXES = (".part", ".tmp", ".crdownload")
log = logging.getLogger("ers.intake.folder")


@dataclass
class ScanReport:
    received: list[int] = field(default_factory=list)  # upload ids
    duplicates: int = 0
    refused: list[str] = field(default_factory=list)
    waiting: int = 0
    failed: int = 0  # could not be taken now (logged); left in place for the next scan


def candidates(root: Path) -> list[Path]:
    files = []
    for sender_dir in sorted(p for p in root.iterdir() if p.is_dir() and "@" in p.name):
        for path in sorted(sender_dir.iterdir()):
            if path.is_file() and not path.name.startswith(".") \
                    and not path.name.lower().endswith(SKIPPED_SUFFIXES):
                files.append(path)
    return files


def scan_once(app: App, root: Path, settle_seconds: float = 2.0) -> ScanReport:
    report = ScanReport()
    root.mkdir(parents=True, exist_ok=True)
    for path in candidates(root):
        stat = path.stat()
        if time.time() - stat.st_mtime < settle_seconds:
            report.waiting += 1
            continue
        sender = path.parent.name.lower()
        source_ref = f"{sender}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}"
        try:
            receipt = receive(app, path.read_bytes(), file_name=path.name, sender=sender,
                              channel="folder", source_ref=source_ref)
        except NotAContact as exc:
            target = _move(path, root / "_refused" / sender)
            target.with_name(target.name + ".reason.txt").write_text(
                f"{exc} Ask the service operator to add you as a contact.\n", encoding="utf-8")
            report.refused.append(f"{path.name}: {exc}")
            continue
        except Exception:  # the database or broker is down: the next scan tries again
            log.warning("could not take %s now; it stays for the next scan", path, exc_info=True,
                        extra={"channel": "folder"})
            report.failed += 1
            continue
        _move(path, root / "_handled" / sender, f"u{receipt.upload_ids[0]}-")
        if receipt.duplicate:
            report.duplicates += 1
        else:
            report.received.extend(receipt.upload_ids)
    return report


def _move(path: Path, folder: Path, tag: str = "") -> Path:
    """Move aside under a time-stamped name, never overwriting an earlier file."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = folder / f"{stamp}-{tag}{path.name}"
    n = 1
    while target.exists():
        target = folder / f"{stamp}-{tag}{n}-{path.name}"
        n += 1
    path.rename(target)
    return target
