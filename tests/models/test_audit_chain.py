"""The audit trail's hash chain: sealing in order, and verify finding every edit, removal and forgery."""
from __future__ import annotations

import threading
import tracemalloc
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text, update

from models.audit import GENESIS, AuditEvent, audit
from models.audit_chain import (ChainBroken, Head, head, link, seal, seal_for_scheduler,
                                verify)
from models.base import utcnow
from models.db import make_engine, migrate

EVENTS = AuditEvent.__table__


@pytest.fixture
def engine(tmp_path) -> Engine:
    built = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    migrate(built)
    yield built
    built.dispose()


def write(engine: Engine, n: int, start: int = 0) -> None:
    with engine.begin() as connection:
        for i in range(start, start + n):
            audit(connection, "ops@example.org", "upload", i, "received", channel="cli",
                  nested={"b": [1, 2.5], "a": "é"})


def write_many(engine: Engine, n: int) -> None:
    """Many events at once (one executemany), for the batch tests."""
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(insert(EVENTS), [
            {"at": now, "actor": "worker", "entity": "upload", "entity_id": str(i),
             "action": "validated", "detail": {"pupils": i}} for i in range(n)])


def sealed(engine: Engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(EVENTS.c.id, EVENTS.c.seq, EVENTS.c.hash)
                                  .where(EVENTS.c.seq.is_not(None)).order_by(EVENTS.c.seq)).all()


def forge(engine: Engine, row, previous_hash: str, **values) -> None:
    """Edit a sealed event and give it the hash its new content would have had: a careful forger."""
    with engine.begin() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == row.id).values(**values))
        edited = connection.execute(select(EVENTS).where(EVENTS.c.id == row.id)).one()
        connection.execute(update(EVENTS).where(EVENTS.c.id == row.id)
                           .values(hash=link(previous_hash, edited)))


def change(engine: Engine, at_seq: int, **values) -> int:
    with engine.begin() as connection:
        event_id = connection.scalar(select(EVENTS.c.id).where(EVENTS.c.seq == at_seq))
        connection.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(**values))
    return event_id


def remove(engine: Engine, *seqs: int) -> None:
    with engine.begin() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.seq.in_(seqs)))


def problem(engine: Engine, **kw) -> str | None:
    return verify(engine, **kw).problem


def test_a_clean_trail_is_sealed_in_id_order_and_verifies(engine):
    write(engine, 5)
    before = verify(engine)
    assert before.ok and (before.verified, before.unsealed, before.head) == (0, 5, Head(0, GENESIS))
    assert seal(engine, batch_size=2) == 5
    rows = sealed(engine)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert seal(engine) == 0  # nothing new
    result = verify(engine)
    assert result.ok and (result.verified, result.unsealed) == (5, 0)
    assert result.head == Head(5, rows[-1].hash)


def test_each_hash_chains_the_previous_one_over_the_event_fields(engine):
    write(engine, 2)
    seal(engine)
    with engine.connect() as connection:
        first, second = connection.execute(select(EVENTS).order_by(EVENTS.c.seq)).all()
    assert first.hash == link(GENESIS, first) and second.hash == link(first.hash, second)
    assert len(first.hash) == 64 and first.hash != second.hash


def test_events_written_after_a_seal_extend_the_chain(engine):
    write(engine, 3)
    seal(engine)
    write(engine, 2, start=3)
    assert verify(engine).unsealed == 2  # verify seals nothing
    assert seal(engine) == 2
    assert [r.seq for r in sealed(engine)] == [1, 2, 3, 4, 5] and verify(engine).ok


@pytest.mark.parametrize("field, value", [
    ("at", utcnow() - timedelta(days=1)), ("actor", "someone@else.org"), ("entity", "email"),
    ("entity_id", "999"), ("action", "deleted"), ("detail", {"channel": "email"}),
    ("hash", "f" * 64)])
def test_editing_any_field_of_a_sealed_event_is_detected(engine, field, value):
    write(engine, 5)
    seal(engine)
    event_id = change(engine, 3, **{field: value})
    assert problem(engine) == f"event #{event_id} (seq 3) was changed"


def test_an_edit_whose_hash_is_recomputed_breaks_the_next_link(engine):
    write(engine, 5)
    seal(engine)
    rows = sealed(engine)
    forge(engine, rows[2], rows[1].hash, action="deleted")
    assert problem(engine) == f"event #{rows[3].id} (seq 4) was changed"


def test_editing_the_last_event_and_its_hash_is_caught_by_the_head(engine):
    write(engine, 3)
    seal(engine)
    rows = sealed(engine)
    forge(engine, rows[2], rows[1].hash, actor="x")
    assert problem(engine) == (f"the chain head (seq 3) does not match the last sealed event "
                               f"#{rows[2].id}: that event or the head was changed")


@pytest.mark.parametrize("sealed_first", [False, True])
def test_a_head_changed_before_any_sealed_event_is_reported_not_a_crash(engine, sealed_first):
    """With no sealed event walked there is no last event to name: the head alone is wrong."""
    write(engine, 3)
    if sealed_first:
        seal(engine)
    with engine.begin() as connection:  # back to seq 0, or a made-up hash on an unsealed trail
        connection.execute(text("UPDATE audit_chain SET seq = 0, hash = :h"), {"h": "f" * 64})
    assert problem(engine) == "the chain head (seq 0) does not match: the head was changed"


def test_deleting_a_middle_event_is_detected(engine):
    write(engine, 6)
    seal(engine)
    remove(engine, 3)
    assert problem(engine) == "seq 3 is missing: an event was removed"
    remove(engine, 4)
    assert problem(engine) == "seqs 3 to 4 are missing: 2 events were removed"


def test_deleting_the_first_event_is_detected(engine):
    write(engine, 3)
    seal(engine)
    remove(engine, 1)
    assert problem(engine) == "seq 1 is missing: an event was removed"


def test_deleting_the_last_events_is_detected(engine):
    write(engine, 5)
    seal(engine)
    remove(engine, 4, 5)
    assert problem(engine) == ("the last 2 sealed events were removed (head says seq 5, the trail "
                               "ends at seq 3)")


def test_unsealing_an_event_to_reseal_it_later_leaves_a_gap(engine):
    write(engine, 5)
    seal(engine)
    change(engine, 2, seq=None, hash=None, action="deleted")
    assert seal(engine) == 1  # taken as a late event, appended at seq 6 ...
    assert problem(engine) == "seq 2 is missing: an event was removed"  # ... but seq 2 is gone


@pytest.mark.parametrize("forger_hashes_it", [True, False])
def test_a_forged_event_inserted_into_the_chain_is_detected(engine, forger_hashes_it):
    write(engine, 5)
    seal(engine)
    rows = sealed(engine)
    with engine.begin() as connection:  # make room at seq 3, as a forger would have to
        for row in reversed(rows[2:]):
            connection.execute(update(EVENTS).where(EVENTS.c.id == row.id).values(seq=row.seq + 1))
        forged = connection.execute(insert(EVENTS).values(
            at=utcnow(), actor="ops@example.org", entity="upload", entity_id="7",
            action="deleted", detail={}, seq=3, hash="0" * 64)).inserted_primary_key[0]
        row = connection.execute(select(EVENTS).where(EVENTS.c.id == forged)).one()
        if forger_hashes_it:
            connection.execute(update(EVENTS).where(EVENTS.c.id == forged)
                               .values(hash=link(rows[1].hash, row)))
    assert problem(engine) == f"event #{forged} (seq 3) was inserted: it is not part of the sealed chain"


def test_a_forged_event_added_past_the_head_is_detected(engine):
    write(engine, 3)
    seal(engine)
    last = sealed(engine)[-1]
    with engine.begin() as connection:
        forged = connection.execute(insert(EVENTS).values(
            at=utcnow(), actor="ops", entity="upload", entity_id="1", action="confirmed",
            detail={}, seq=4, hash="0" * 64)).inserted_primary_key[0]
        row = connection.execute(select(EVENTS).where(EVENTS.c.id == forged)).one()
        connection.execute(update(EVENTS).where(EVENTS.c.id == forged)
                           .values(hash=link(last.hash, row)))
    assert problem(engine) == (f"event #{forged} (seq 4) is past the chain head (seq 3): it was "
                               "added without the sealer")


def test_a_rewritten_chain_is_caught_by_a_head_recorded_earlier(engine):
    write(engine, 4)
    seal(engine)
    recorded = head(engine)
    with engine.begin() as connection:  # edit, then recompute every later hash and the head
        connection.execute(update(EVENTS).where(EVENTS.c.seq == 2).values(action="deleted"))
        previous = GENESIS
        for row in connection.execute(select(EVENTS).order_by(EVENTS.c.seq)).all():
            previous = link(previous, row)
            connection.execute(update(EVENTS).where(EVENTS.c.id == row.id).values(hash=previous))
        connection.execute(text("UPDATE audit_chain SET hash = :h"), {"h": previous})
    assert verify(engine).ok  # consistent in itself ...
    assert "does not match the head recorded earlier" in problem(engine, expect=recorded)
    assert Head.parse(str(recorded)) == recorded
    with pytest.raises(ValueError, match="SEQ:HASH"):
        Head.parse("4:nothex")


def test_a_removed_head_is_reported_and_stops_sealing(engine):
    write(engine, 2)
    seal(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_chain"))
    assert problem(engine) == "the chain head is missing: it was removed"
    write(engine, 1, start=2)
    with pytest.raises(ChainBroken):
        seal(engine)
    assert seal_for_scheduler(engine).startswith("audit trail not sealed: the audit chain head is missing")


def test_the_scheduler_line_names_what_was_sealed_and_the_head(engine):
    assert seal_for_scheduler(engine) is None
    write(engine, 3)
    line = seal_for_scheduler(engine)
    assert line == f"3 audit event(s) sealed, chain head 3:{sealed(engine)[-1].hash}"


def test_events_written_before_the_migration_are_sealed_by_the_first_seal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0007")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO audit_events (at, actor, entity, entity_id, action, "
                                "detail) VALUES ('2024-05-01 09:00:00.000000', 'a', 'upload', '1', "
                                "'received', '{}')"))
    migrate(engine)
    assert seal(engine) == 1 and verify(engine).ok
    engine.dispose()


def test_sealing_and_verifying_20000_events_go_in_batches_with_flat_memory(engine):
    write_many(engine, 20_000)
    assert seal(engine, batch_size=500) == 20_000
    tracemalloc.start()
    try:
        result = verify(engine, batch_size=200)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok and result.verified == 20_000
    assert peak < 1_500_000  # 200 rows at a time; the whole trail at once is over 20 MB


# PostgreSQL: concurrent sealers and a transaction committing late, on the real database.

@pytest.fixture
def pg_engine(pg_url) -> Engine:
    built = make_engine(pg_url)
    migrate(built)
    yield built
    built.dispose()


@pytest.mark.services
def test_an_event_committed_late_is_sealed_next_time_and_the_chain_verifies(pg_engine):
    with pg_engine.connect() as slow:
        slow.begin()
        audit(slow, "slow", "upload", 1, "received")  # takes its id now, commits later
        write(pg_engine, 3)
        assert seal(pg_engine) == 3
        slow.commit()
    assert seal(pg_engine) == 1
    rows = sealed(pg_engine)
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[-1].id == min(r.id for r in rows)  # chained by seq, not id
    assert verify(pg_engine).ok


@pytest.mark.services
def test_sealers_racing_while_events_are_written_build_one_chain(pg_engine):
    failures: list[BaseException] = []
    sealed_by: list[int] = []
    start = threading.Barrier(4)

    def writer(base: int) -> None:
        start.wait()
        for i in range(60):
            write(pg_engine, 3, start=base + 3 * i)

    def sealer() -> None:
        start.wait()
        try:
            count = 0
            while any(w.is_alive() for w in writers):
                count += seal(pg_engine, batch_size=7)
            sealed_by.append(count)
        except BaseException as exc:
            failures.append(exc)

    writers = [threading.Thread(target=writer, args=(base,)) for base in (0, 1000)]
    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    for t in writers + sealers:
        t.start()
    for t in writers + sealers:
        t.join(60)
    assert failures == [] and all(sealed_by)  # both sealers sealed something
    seal(pg_engine)
    result = verify(pg_engine)
    assert result.ok, result.problem
    with pg_engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(EVENTS))
    assert result.verified == total == 360 and result.head.seq == total
