"""The SFTP channel: takes partners' files from their inbox and writes a result file back for each.

A file is taken only once settled: its size and mtime unchanged across two polls, or a
``<name>.done`` marker beside it. It is downloaded to a temporary file (fsync), received, and
only then moved to ``processed/<time>-<hash>-<name>`` on the partner's server, never
overwriting (invariant 1). The source reference is path + size + mtime, so a poller restarted
after receiving but before moving finds the earlier submission (invariant 2).
Every network step has a timeout and partners are polled one after another, each failure
caught, so a hung or unreachable partner never stalls the others. A server whose host key is
not the one registered is refused.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import posixpath
import socket
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

import paramiko
from sqlalchemy import select, update

from intake import store
from intake.receive import receive
from models import Partner, School, Submission, Upload, UploadStatus
from models.base import utcnow
from workers.app import App

SKIPPED_SUFFIXES = (".part", ".tmp", ".done")
PROCESSED = "processed"
NETWORK_ERRORS = (paramiko.SSHException, OSError, socket.timeout, EOFError)
log = logging.getLogger("ers.intake.sftp")


@dataclass
class PollReport:
    received: list[int] = field(default_factory=list)  # upload ids
    duplicates: int = 0
    waiting: int = 0
    results_written: int = 0
    notes: list[str] = field(default_factory=list)      # feeds taken (MIS)
    errors: list[str] = field(default_factory=list)     # partners that could not be polled


@contextmanager
def connect(partner: Partner, timeout: float = 20.0) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session with the partner's server, refusing any host key but the registered one."""
    client = paramiko.SSHClient()
    key_type, key_data = partner.host_key.split()[:2]
    host_id = partner.host if partner.port == 22 else f"[{partner.host}]:{partner.port}"
    client.get_host_keys().add(host_id, key_type,
                               paramiko.PKey.from_type_string(key_type, base64.b64decode(key_data)))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(partner.host, port=partner.port, username=partner.username,
                       password=partner.password, key_filename=partner.key_path, timeout=timeout,
                       banner_timeout=timeout, auth_timeout=timeout, channel_timeout=timeout,
                       look_for_keys=False, allow_agent=False)
        sftp = client.open_sftp()
        sftp.get_channel().settimeout(timeout)  # every read, write, list and rename
        yield sftp
    finally:
        client.close()


@dataclass
class Taken:
    """What handling one file did: uploads made (or found again), and a line for the operator."""
    upload_ids: list[int] = field(default_factory=list)
    duplicate: bool = False
    note: str | None = None


Take = Callable[[Partner, str, bytes, str], Taken]  # (partner, file name, bytes, source ref)


def receive_file(app: App, partner: Partner, name: str, data: bytes, source_ref: str) -> Taken:
    """A results file from a partner's inbox: received like any other submission."""
    receipt = receive(app, data, file_name=name, sender=partner.sender, channel="sftp",
                      source_ref=source_ref)
    return Taken(receipt.upload_ids, receipt.duplicate)


class SftpPoller:
    """Polls each partner's ``folder`` (inbox or feed); remembers sizes between polls."""

    def __init__(self, app: App, folder: str = "inbox", take: Take | None = None,
                 timeout: float = 20.0) -> None:
        self.app, self.folder, self.timeout = app, folder, timeout
        self.take = take or (lambda *file: receive_file(app, *file))
        self.seen: dict[tuple[str, str], tuple[int, int]] = {}

    def partners(self) -> list[Partner]:
        with self.app.sessions() as session:
            found = list(session.scalars(select(Partner).order_by(Partner.name)))
            session.expunge_all()
        return [p for p in found if getattr(p, self.folder)]

    def poll_once(self, take: Take | None = None) -> PollReport:
        """Take every settled file of every partner (with ``take``, default the poller's), then
        write the result files that are ready."""
        report = PollReport()

        def work(partner: Partner, sftp: paramiko.SFTPClient) -> None:
            self._poll_partner(partner, sftp, report, take or self.take)
            report.results_written += deliver_results(self.app, partner, sftp)
        self._each_partner(report, work)
        return report

    def deliver_once(self) -> PollReport:
        """Only write the result files that are ready (e.g. after the embedded workers finished)."""
        report = PollReport()

        def work(partner: Partner, sftp: paramiko.SFTPClient) -> None:
            report.results_written += deliver_results(self.app, partner, sftp)
        self._each_partner(report, work)
        return report

    def _each_partner(self, report: PollReport,
                      work: Callable[[Partner, paramiko.SFTPClient], None]) -> None:
        """One partner after another, each failure caught, so one server cannot stop the rest.

        A failure of our own side (the database or the broker away for a moment) is caught too:
        the file it was taking stays in the inbox for the next poll, and the poller lives on.
        """
        try:
            partners = self.partners()
        except Exception as exc:
            log.warning("partners could not be read now; the next poll tries again", exc_info=True,
                        extra={"channel": "sftp", "error": type(exc).__name__})
            report.errors.append(f"partners: {type(exc).__name__}")
            return
        for partner in partners:
            try:
                with connect(partner, self.timeout) as sftp:
                    work(partner, sftp)
            except NETWORK_ERRORS as exc:
                log.warning("partner %s (%s:%s): %s", partner.name, partner.host, partner.port, exc,
                            extra={"channel": "sftp", "partner": partner.name,
                                   "error": type(exc).__name__})
                report.errors.append(f"{partner.name}: {type(exc).__name__}: {exc}")
            except Exception as exc:
                log.warning("partner %s: could not take its files now; the next poll tries again",
                            partner.name, exc_info=True,
                            extra={"channel": "sftp", "partner": partner.name,
                                   "error": type(exc).__name__})
                report.errors.append(f"{partner.name}: {type(exc).__name__}")

    def _poll_partner(self, partner: Partner, sftp: paramiko.SFTPClient, report: PollReport,
                      take: Take) -> None:
        folder = getattr(partner, self.folder)
        entries = sftp.listdir_attr(folder)
        names = {e.filename for e in entries}
        for entry in sorted(entries, key=lambda e: e.filename):
            name = entry.filename
            if (not stat.S_ISREG(entry.st_mode or 0) or name.startswith(".")
                    or name.lower().endswith(SKIPPED_SUFFIXES)):
                continue
            path = posixpath.join(folder, name)
            now = (entry.st_size, entry.st_mtime)
            before = self.seen.get((partner.name, path))
            self.seen[(partner.name, path)] = now
            if f"{name}.done" not in names and before != now:
                report.waiting += 1  # still being written, or first seen: look again next poll
                continue
            data = self._download(sftp, path)
            if len(data) != entry.st_size:  # grew while we read it: not settled after all
                report.waiting += 1
                continue
            taken = take(partner, name, data, f"{partner.name}:{path}:{entry.st_size}:{entry.st_mtime}")
            if taken.duplicate:
                report.duplicates += 1
            else:
                report.received.extend(taken.upload_ids)
            if taken.note:
                report.notes.append(taken.note)
            self._move_aside(sftp, folder, name, data, marker=f"{name}.done" in names)
            self.seen.pop((partner.name, path), None)

    def _download(self, sftp: paramiko.SFTPClient, path: str) -> bytes:
        tmp_dir = self.app.settings.data_dir / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=tmp_dir) as handle:
            sftp.getfo(path, handle)
            handle.flush()
            os.fsync(handle.fileno())
            handle.seek(0)
            return handle.read()

    @staticmethod
    def _move_aside(sftp: paramiko.SFTPClient, folder: str, name: str, data: bytes,
                    marker: bool) -> None:
        processed = posixpath.join(folder, PROCESSED)
        try:
            sftp.stat(processed)
        except FileNotFoundError:
            sftp.mkdir(processed)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        base = f"{stamp}-{store.content_hash(data)[:12]}-{name}"
        for n in range(100):
            target = posixpath.join(processed, base if n == 0 else f"{n}-{base}")
            try:
                sftp.stat(target)
            except FileNotFoundError:
                sftp.rename(posixpath.join(folder, name), target)  # fails rather than overwrite
                break
        if marker:
            sftp.remove(posixpath.join(folder, f"{name}.done"))


def result_json(upload: Upload, school: str | None) -> dict:
    """What ``ers validate --json`` prints for the file, plus its upload reference and status."""
    valid = upload.status in (UploadStatus.SUCCESSFUL, UploadStatus.OVERWRITTEN, UploadStatus.AWAITING)
    errors = list(upload.errors or [])
    if upload.reason:
        errors.insert(0, {"rule": "unreadable", "message": upload.reason, "column": None, "rows": []})
    result = {"format": upload.format, "collection": upload.collection_key, "school": school,
              "status": "valid" if valid else "invalid", "pupils": upload.pupil_count,
              "errors": errors, "warnings": list(upload.warnings or []),
              "upload": upload.id, "upload_status": UploadStatus(upload.status).label,
              "window": upload.window_number, "file": upload.file_name}
    if upload.reason:
        result["reason"] = upload.reason
    return result


def deliver_results(app: App, partner: Partner, sftp: paramiko.SFTPClient) -> int:
    """Write ``<name>.result.json`` (and ``<name>.errors.xlsx`` when there are errors) for each
    of the partner's files whose checking is done; marks the submission delivered afterwards,
    so a crash in between writes the same files again (each is replaced whole, by rename)."""
    from reports.error_workbook import answer_attachment

    with app.sessions() as session:
        pending = select(Upload.id).where(Upload.submission_id == Submission.id,
                                          Upload.status == UploadStatus.PROCESSING).exists()
        submissions = list(session.scalars(select(Submission).where(
            Submission.sender == partner.sender, Submission.delivered_at.is_(None), ~pending)))
        files: list[tuple[int, str, bytes]] = []
        for submission in submissions:
            for upload in submission.uploads:
                school = session.get(School, upload.school_id) if upload.school_id else None
                body = json.dumps(result_json(upload, school.dfe if school else None), indent=2,
                                  default=str).encode()
                files.append((submission.id, f"{upload.file_name}.result.json", body))
                if upload.errors and not upload.reason:
                    data = store.read(upload.stored_path) if upload.stored_path else None
                    made = answer_attachment(upload.file_name, upload.format, data, upload.errors,
                                             upload.warnings)
                    if made is not None:
                        files.append((submission.id, f"{upload.file_name}.errors.xlsx", made[1]))
    written = 0
    for submission_id in sorted({s for s, _, _ in files}):
        for _, name, body in (f for f in files if f[0] == submission_id):
            target = posixpath.join(partner.outbox, name)
            with sftp.open(target + ".part", "wb") as handle:
                handle.write(body)
            sftp.posix_rename(target + ".part", target)
            written += 1
        with app.sessions.begin() as session:
            session.execute(update(Submission).where(Submission.id == submission_id)
                            .values(delivered_at=utcnow()))
    return written
