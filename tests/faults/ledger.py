"""The count every fault test ends with: what was sent against what the service holds and answered.

A fault test sends a known set of files, breaks something on the way, lets the service recover,
then counts from the database, the file store and the schools' mailboxes. Nothing may be lost
(every file recorded, stored, checked and answered) and nothing done twice (one upload per file,
one send of each answer, one copy of it in each recipient's mailbox), and each school's window
has exactly one current upload, the latest received (invariants 1-3 and 5).
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from models import OutgoingEmail, School, Upload, UploadStatus
from models.audit import AuditEvent
from workers.app import App

VALID = (UploadStatus.SUCCESSFUL, UploadStatus.OVERWRITTEN)


@dataclass(frozen=True)
class Sent:
    """One file the test sent, for this school; ``valid`` says how its check must end, and
    ``kinds`` which answers its upload gets (a partner's file: no receipt, the result goes to the
    school, and the partner gets a result file)."""
    school: str
    data: bytes
    valid: bool = True
    kinds: tuple[str, ...] = ("receipt", "result")

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Ledger:
    sent: int            # files the test sent
    received: int        # ... recorded as an upload
    stored: int          # ... whose bytes are in the store under their hash
    current: int         # (school, collection, window, stream) with exactly one current upload, the latest
    answers_sent: int    # answers (of the kinds expected for each upload) marked sent
    duplicates: int      # second uploads of a file, second answers, answers sent or delivered twice
    lost: int            # files not recorded or never checked, answers not sent or not delivered
    problems: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def report(self) -> str:
        """The counts, then every problem found, for the failure message."""
        counts = ", ".join(f"{k} {getattr(self, k)}" for k in (
            "sent", "received", "stored", "current", "answers_sent", "duplicates", "lost"))
        return counts + "".join(f"\n  - {p}" for p in self.problems)


def expected(sent: list[Sent]) -> Ledger:
    """A clean run: everything received, stored and answered once; one current per school."""
    return Ledger(sent=len(sent), received=len(sent), stored=len(sent),
                  current=len({s.school for s in sent if s.valid}),
                  answers_sent=sum(len(s.kinds) for s in sent), duplicates=0, lost=0)


def count(app: App, sent: list[Sent], delivered: Counter[tuple[str, str]] | None = None) -> Ledger:
    """The ledger of ``sent`` as the service holds it; ``delivered`` counts each (recipient,
    Message-ID) found in the mailboxes, when the answers went through a real relay."""
    problems: list[str] = []
    with app.sessions() as session:
        uploads = list(session.scalars(select(Upload).order_by(Upload.id)))
        emails = list(session.scalars(select(OutgoingEmail).order_by(OutgoingEmail.id)))
        sends = Counter(session.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.entity == "email", AuditEvent.action == "sent")))
        dfe_of = dict(session.execute(select(School.id, School.dfe)).all())
    by_hash: dict[str, list[Upload]] = defaultdict(list)
    for upload in uploads:
        by_hash[upload.content_hash].append(upload)
    duplicates = lost = received = stored = 0
    mine: list[tuple[Upload, Sent]] = []
    for n, item in enumerate(sent):
        found = by_hash.get(item.digest, [])
        if not found:
            lost += 1
            problems.append(f"file {n} for {item.school} was never recorded")
            continue
        received += 1
        if len(found) > 1:
            duplicates += len(found) - 1
            problems.append(f"file {n} for {item.school} recorded {len(found)} times: uploads "
                            + ", ".join(f"#{u.id}" for u in found))
        upload = found[0]
        mine.append((upload, item))
        stored += _stored(app, upload, item.data)
        outcome = _outcome_problem(upload, item, dfe_of)
        if outcome:
            lost += 1
            problems.append(f"file {n}: {outcome}")
    unknown = [u.id for u in uploads if u.content_hash not in {s.digest for s in sent}]
    if unknown:
        problems.append(f"uploads of files never sent: {unknown}")
        duplicates += len(unknown)

    answers_sent = 0
    rows: dict[tuple[int, str], list[OutgoingEmail]] = defaultdict(list)
    for email in emails:
        rows[(email.upload_id, email.kind)].append(email)
    expected_deliveries: set[tuple[str, str]] = set()
    for upload, item in mine:
        for kind in item.kinds:
            found = rows.get((upload.id, kind), [])
            if not found:
                lost += 1
                problems.append(f"upload #{upload.id} has no {kind}")
                continue
            if len(found) > 1:
                duplicates += len(found) - 1
                problems.append(f"upload #{upload.id} has {len(found)} {kind} rows")
            email = found[0]
            if email.status != "sent":
                lost += 1
                problems.append(f"{kind} #{email.id} of upload #{upload.id} is {email.status} after "
                                f"{email.attempts} attempt(s): {email.last_error}")
                continue
            answers_sent += 1
            times = sends.get(str(email.id), 0)
            if times > 1:
                duplicates += times - 1
                problems.append(f"{kind} #{email.id} was sent {times} times")
            expected_deliveries.update((a.lower(), email.message_id)
                                       for a in [*email.to_addrs, *email.cc_addrs])
    expected_rows = {(upload.id, kind) for upload, item in mine for kind in item.kinds}
    for upload_id, kind in sorted(set(rows) - expected_rows, key=str):
        duplicates += len(rows[(upload_id, kind)])
        problems.append(f"upload #{upload_id} has a {kind} answer that was not expected")
    if delivered is not None:
        for pair in sorted(set(delivered) - expected_deliveries):
            duplicates += delivered[pair]
            problems.append(f"{pair[1]} reached {pair[0]}, which was not expected")
        for pair in sorted(expected_deliveries):
            copies = delivered.get(pair, 0)
            if copies == 0:
                lost += 1
                problems.append(f"{pair[1]} never reached {pair[0]}")
            elif copies > 1:
                duplicates += copies - 1
                problems.append(f"{pair[1]} reached {pair[0]} {copies} times")

    current = _current(uploads, dfe_of, problems)
    return Ledger(sent=len(sent), received=received, stored=stored, current=current,
                  answers_sent=answers_sent, duplicates=duplicates, lost=lost,
                  problems=tuple(problems))


def _stored(app: App, upload: Upload, data: bytes) -> int:
    """1 when the file's bytes are in the store under their hash and the upload points there."""
    path = app.settings.store_dir / upload.content_hash[:2] / upload.content_hash
    try:
        return int(Path(upload.stored_path or "") == path and path.read_bytes() == data)
    except FileNotFoundError:
        return 0


def _outcome_problem(upload: Upload, item: Sent, dfe_of: dict[int, str]) -> str | None:
    if upload.status == UploadStatus.PROCESSING:
        return f"upload #{upload.id} for {item.school} is still Processing (never checked)"
    if item.valid and upload.status not in VALID:
        return (f"upload #{upload.id} for {item.school} is {upload.status}, not valid: "
                f"{upload.reason or upload.errors[:1]}")
    if not item.valid and upload.status != UploadStatus.ERROR:
        return f"upload #{upload.id} for {item.school} is {upload.status}, not an Upload error"
    if item.valid and dfe_of.get(upload.school_id) != item.school:
        return f"upload #{upload.id} was recorded for school {dfe_of.get(upload.school_id)}"
    return None


def _current(uploads: list[Upload], dfe_of: dict[int, str], problems: list[str]) -> int:
    """Keys whose one Successful upload is the latest received valid one (invariant 3)."""
    keys: dict[tuple, list[Upload]] = defaultdict(list)
    for upload in uploads:
        if upload.status in VALID:
            keys[(upload.school_id, upload.collection_key, upload.window_number, upload.stream)].append(upload)
    good = 0
    for key, group in sorted(keys.items(), key=lambda kv: str(kv[0])):
        current = [u.id for u in group if u.status == UploadStatus.SUCCESSFUL]
        latest = max(group, key=lambda u: (u.received_at, u.id)).id
        if current == [latest]:
            good += 1
        else:
            problems.append(f"school {dfe_of.get(key[0])} {key[1]} window {key[2]}: current "
                            f"{current or 'none'}, latest received #{latest}")
    return good
