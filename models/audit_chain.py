"""Sealing the audit trail into a hash chain, and checking that chain.

Writers append events unsealed (``models.audit.audit``), so an upload never waits on the chain.
A sealer then takes the unsealed events in id order and gives each the next ``seq`` and
``hash = sha256(previous hash + canonical event)``, moving the one-row head with them. Sealers
lock the head (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises),
so any number of them build one chain. An event whose transaction commits after later ids were
sealed is sealed by the next run: the chain's order is ``seq``, not ``id``.

A chain kept in the same database shows edits and removals made without recomputing it; someone
who recomputes every later hash and the head is caught only against a head recorded elsewhere,
which is why sealing reports the head (scheduler log lines) and ``verify`` takes one to check.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from models.audit import GENESIS, AuditChain, AuditEvent
from models.base import utcnow

BATCH = 1000  # events per transaction: memory stays flat, and the head lock is held briefly

EVENTS = AuditEvent.__table__
HEAD = AuditChain.__table__
_FIELDS = (EVENTS.c.id, EVENTS.c.at, EVENTS.c.actor, EVENTS.c.entity, EVENTS.c.entity_id,
           EVENTS.c.action, EVENTS.c.detail)


class ChainBroken(Exception):
    """Sealing refused: the head is gone while sealed events remain, so the next seq is unknown."""


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """``SEQ:HASH``, as printed by ``ers audit seal`` and the scheduler."""
        seq, _, digest = text.partition(":")
        if not seq.isdigit() or len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ValueError(f"expected SEQ:HASH (a number, a colon, 64 hex digits), not {text!r}")
        return cls(int(seq), digest)


def canonical(row: Any) -> str:
    """The event as hashed: every field but its seal, in a fixed order, with sorted JSON keys."""
    at: datetime | None = row.at
    when = at.astimezone(timezone.utc).isoformat(timespec="microseconds") if at else None
    return json.dumps([row.id, when,
                       row.actor, row.entity, row.entity_id, row.action, row.detail],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link(previous: str, row: Any) -> str:
    return hashlib.sha256((previous + canonical(row)).encode("utf-8")).hexdigest()


def _engine(target: Any) -> Engine:
    """An App (anything with ``.engine``) or an Engine: every caller has one, and each batch
    takes a transaction of its own on it so no lock is held across a whole seal or walk."""
    return target if isinstance(target, Engine) else target.engine


def seal(target: Any, batch_size: int = BATCH) -> int:
    """Chain every event committed so far; the number sealed.

    Each batch is its own transaction holding the head lock, so writers and other sealers wait
    at most one batch. Only events up to the highest id seen at the start are taken: under a
    steady stream of new events the call still ends (the next one seals the rest).
    """
    target = _engine(target)
    with target.begin() as connection:
        ceiling = connection.scalar(select(func.max(EVENTS.c.id)).where(EVENTS.c.seq.is_(None)))
    if ceiling is None:
        return 0
    sealed, after = 0, 0
    while True:
        with target.begin() as connection:
            done, after = _seal_batch(connection, after, ceiling, batch_size)
        sealed += done
        if done < batch_size:
            return sealed


def _seal_batch(connection: Connection, after: int, ceiling: int, batch_size: int) -> tuple[int, int]:
    """Seal the next unsealed events with ids in (after, ceiling]; how many, and the last id.

    Starting after the previous batch keeps a large backlog linear; an event committed late
    with a lower id is left for the next run.
    """
    head = _lock_head(connection)
    rows = connection.execute(select(*_FIELDS).where(EVENTS.c.seq.is_(None), EVENTS.c.id > after,
                                                     EVENTS.c.id <= ceiling)
                              .order_by(EVENTS.c.id).limit(batch_size)).all()
    if not rows:
        return 0, after
    seq, digest, seals = head.seq, head.hash, []
    for row in rows:
        seq, digest = seq + 1, link(digest, row)
        seals.append({"event": row.id, "new_seq": seq, "new_hash": digest})
    connection.execute(update(EVENTS).where(EVENTS.c.id == bindparam("event"), EVENTS.c.seq.is_(None))
                       .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")), seals)
    connection.execute(update(HEAD).where(HEAD.c.id == 1).values(seq=seq, hash=digest,
                                                                 sealed_at=utcnow()))
    return len(rows), rows[-1].id


def _lock_head(connection: Connection) -> Head:
    row = connection.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)
                             .with_for_update()).first()
    if row is not None:
        return Head(row.seq, row.hash)
    if connection.scalar(select(EVENTS.c.id).where(EVENTS.c.seq.is_not(None)).limit(1)) is not None:
        raise ChainBroken("the audit chain head is missing although events are sealed: "
                          "run `ers audit verify` and investigate before sealing again")
    connection.execute(insert(HEAD).values(id=1, seq=0, hash=GENESIS))  # a schema made without 0008
    return _lock_head(connection)


def head(target: Any) -> Head | None:
    with _engine(target).begin() as connection:
        row = connection.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    return None if row is None else Head(row.seq, row.hash)


def seal_for_scheduler(target: Any) -> str | None:
    """A scheduler tick's line: what was sealed and the new head (logs then keep a record of
    it outside the database), a refusal, or None when there was nothing to seal."""
    try:
        sealed = seal(target)
    except ChainBroken as exc:
        return f"audit trail not sealed: {exc}"
    return f"{sealed} audit event(s) sealed, chain head {head(target)}" if sealed else None


@dataclass(frozen=True)
class Verification:
    verified: int  # sealed events whose hash was recomputed and matched, up to the first problem
    head: Head | None
    unsealed: int
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(target: Any, batch_size: int = BATCH, expect: Head | None = None) -> Verification:
    """Walk the chain by seq recomputing every hash; the first problem in plain words.

    Seals nothing. Reads a batch per transaction (memory flat, no lock held across the walk) and
    only up to the head read at the start, so sealers may run meanwhile. ``expect`` is a head
    recorded earlier: the event at its seq must still have its hash.
    """
    target = _engine(target)
    start = head(target)
    unsealed = _unsealed(target)
    if start is None:
        return Verification(0, None, unsealed, "the chain head is missing: it was removed")
    if expect is not None and expect.seq > start.seq:
        return Verification(0, start, unsealed, f"the head recorded earlier (seq {expect.seq}) is "
                            f"past the chain head (seq {start.seq}): sealed events were removed")
    walked = Walk(start, expect)
    for row in _sealed(target, start.seq, batch_size):
        if not walked.step(row):
            break
    problem = walked.problem or walked.finish() or _beyond_head(target)
    return Verification(walked.verified, start, unsealed, problem)


class Walk:
    """The check of consecutive sealed events; ``problem`` is set by the first that fails.

    A changed event breaks the link at its seq. An inserted one (later seqs renumbered to make
    room) breaks it either at its own seq (its hash made up) or at the next (its hash computed by
    the forger); either way the event after it still links to the event before it. So a broken
    link is checked against the hash before the previous event, or held until the next row.
    """

    def __init__(self, start: Head, expect: Head | None) -> None:
        self.start, self.expect = start, expect
        self.seq, self.hash, self.verified = 0, GENESIS, 0
        self.before = GENESIS  # the hash before ``self.hash``
        self.problem: str | None = None
        self.suspect: Any = None  # a row whose link broke, waiting for the next row
        self.last: Any = None

    def step(self, row: Any) -> bool:
        if self.suspect is not None:
            self.problem = _broken(self.suspect, inserted=row.seq == self.suspect.seq + 1
                                   and link(self.hash, row) == row.hash)
            return False
        if row.seq < 1:
            self.problem = f"event #{row.id} has seq {row.seq}, outside the chain: it was inserted"
        elif row.seq > self.seq + 1:
            self.problem = _missing(self.seq + 1, row.seq - 1)
        elif link(self.hash, row) != row.hash:
            if self.last is not None and link(self.before, row) == row.hash:
                self.verified -= 1
                self.problem = _broken(self.last, inserted=True)
                return False
            self.suspect = row
            return True
        elif self.expect is not None and row.seq == self.expect.seq and row.hash != self.expect.hash:
            self.problem = (f"event #{row.id} (seq {row.seq}) does not match the head recorded "
                            f"earlier: the chain up to it was rewritten")
        if self.problem:
            return False
        self.seq, self.before, self.hash, self.last = row.seq, self.hash, row.hash, row
        self.verified += 1
        return True

    def finish(self) -> str | None:
        """After the last row: an unresolved broken link, or a chain that stops short of its head."""
        if self.suspect is not None:
            return _broken(self.suspect, inserted=False)
        if self.seq < self.start.seq:
            gone = self.start.seq - self.seq
            return (f"the last {gone} sealed event{'s were' if gone > 1 else ' was'} removed "
                    f"(head says seq {self.start.seq}, the trail ends at seq {self.seq})")
        if self.hash != self.start.hash and self.last is None:  # no event to blame: the head alone
            return f"the chain head (seq {self.start.seq}) does not match: the head was changed"
        if self.hash != self.start.hash:
            return (f"the chain head (seq {self.start.seq}) does not match the last sealed event "
                    f"#{self.last.id}: that event or the head was changed")
        return None


def _broken(row: Any, inserted: bool) -> str:
    if inserted:
        return f"event #{row.id} (seq {row.seq}) was inserted: it is not part of the sealed chain"
    return f"event #{row.id} (seq {row.seq}) was changed"


def _missing(first: int, last: int) -> str:
    if first == last:
        return f"seq {first} is missing: an event was removed"
    return f"seqs {first} to {last} are missing: {last - first + 1} events were removed"


def _sealed(target: Engine, up_to: int, batch_size: int) -> Iterator[Any]:
    """Sealed events up to ``up_to`` in seq order, a batch per transaction (keyset on seq)."""
    after = None
    while True:
        query = (select(EVENTS.c.seq, EVENTS.c.hash, *_FIELDS)
                 .where(EVENTS.c.seq.is_not(None), EVENTS.c.seq <= up_to)
                 .order_by(EVENTS.c.seq).limit(batch_size))
        if after is not None:
            query = query.where(EVENTS.c.seq > after)
        with target.begin() as connection:
            rows = connection.execute(query).all()
        yield from rows
        if len(rows) < batch_size:
            return
        after = rows[-1].seq


def _beyond_head(target: Engine) -> str | None:
    """A sealed event past the head (read under a share lock, so no sealer is half-way)."""
    with target.begin() as connection:
        now = connection.execute(select(HEAD.c.seq).where(HEAD.c.id == 1)
                                 .with_for_update(read=True)).scalar()
        row = connection.execute(select(EVENTS.c.id, EVENTS.c.seq).where(EVENTS.c.seq > (now or 0))
                                 .order_by(EVENTS.c.seq).limit(1)).first()
        if row is None:
            row = connection.execute(select(EVENTS.c.id).where(EVENTS.c.seq.is_(None),
                                                               EVENTS.c.hash.is_not(None))
                                     .limit(1)).first()
            return None if row is None else (f"event #{row.id} has a seal but no seq: it was "
                                             "taken out of the chain")
    return (f"event #{row.id} (seq {row.seq}) is past the chain head (seq {now}): it was added "
            "without the sealer")


def _unsealed(target: Engine) -> int:
    with target.begin() as connection:
        return connection.scalar(select(func.count()).select_from(EVENTS)
                                 .where(EVENTS.c.seq.is_(None))) or 0


def events(target: Any, entity: str | None = None, entity_id: str | None = None,
           limit: int = 50) -> list[Any]:
    """The newest events first, optionally of one entity (``ers audit show``)."""
    query = select(EVENTS.c.seq, *_FIELDS).order_by(EVENTS.c.id.desc()).limit(limit)
    if entity:
        query = query.where(EVENTS.c.entity == entity)
    if entity_id is not None:
        query = query.where(EVENTS.c.entity_id == str(entity_id))
    with _engine(target).begin() as connection:
        return list(connection.execute(query).all())
