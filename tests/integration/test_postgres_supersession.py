"""Invariant 3 on a real PostgreSQL: exactly one current upload, the latest received, under races."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Text, select, update
from sqlalchemy.exc import IntegrityError

from conftest import ACORN, DALE, build_app, contact_of
from helpers import valid_ks1
from intake.receive import receive
from models import Upload, UploadStatus
from models.base import utcnow
from workers import pipeline

pytestmark = pytest.mark.services


@pytest.fixture
def pg_app(tmp_path, pg_url, stub_broker):
    app = build_app(tmp_path / "pg", database_url=pg_url)
    yield app
    app.engine.dispose()


def received(app, dfe, n, minutes_ago):
    return receive(app, valid_ks1(dfe, change=n), file_name=f"v{n}.xlsx", sender=contact_of(dfe),
                   channel="cli", received_at=utcnow() - timedelta(minutes=minutes_ago)).upload_ids[0]


def statuses(app, ids):
    with app.sessions() as session:
        return {u.id: u.status for u in session.scalars(select(Upload).where(Upload.id.in_(ids)))}


def race(app, ids) -> list[BaseException]:
    """One worker thread per upload, all let go at once; what they raised (a unique-index
    violation would land here)."""
    start = threading.Barrier(len(ids))
    failures: list[BaseException] = []

    def work(upload_id):
        start.wait()
        try:
            pipeline.process_upload(app, upload_id)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return failures


def test_the_migrations_build_the_schema_on_postgresql(pg_app):
    with pg_app.engine.connect() as connection:
        indexes = connection.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_uploads_one_current'").scalar()
    assert "UNIQUE" in indexes and "WHERE" in indexes and "successful" in indexes


def test_two_workers_finishing_in_reverse_order_leave_the_later_received_file_current(pg_app):
    earlier, later = received(pg_app, DALE, 1, 10), received(pg_app, DALE, 2, 5)
    pipeline.process_upload(pg_app, later)
    pipeline.process_upload(pg_app, earlier)
    assert statuses(pg_app, [earlier, later]) == {earlier: UploadStatus.OVERWRITTEN,
                                                  later: UploadStatus.SUCCESSFUL}


def test_eight_workers_racing_on_one_school_leave_exactly_one_current_the_latest_received(pg_app):
    ids = [received(pg_app, ACORN, n, 60 - n) for n in range(8)]  # ids[-1] received last
    assert race(pg_app, list(reversed(ids))) == []
    result = statuses(pg_app, ids)
    assert [i for i, s in result.items() if s == UploadStatus.SUCCESSFUL] == [ids[-1]]
    assert all(result[i] == UploadStatus.OVERWRITTEN for i in ids[:-1])


def test_the_database_itself_refuses_two_current_uploads_for_one_window(pg_app):
    first, second = received(pg_app, DALE, 1, 10), received(pg_app, DALE, 2, 5)
    pipeline.process_upload(pg_app, first)
    pipeline.process_upload(pg_app, second)
    with pytest.raises(IntegrityError):
        with pg_app.sessions.begin() as session:
            session.execute(update(Upload).where(Upload.id == first)
                            .values(status=UploadStatus.SUCCESSFUL))


def test_the_files_of_a_bulk_upload_finishing_together_send_exactly_one_combined_answer(pg_app):
    from conftest import BEECH, CEDAR, ELM, TRUST_ADMIN
    from intake.receive import receive_files
    from models import OutgoingEmail
    files = [(f"{dfe}.xlsx", valid_ks1(dfe, change=n)) for n, dfe in enumerate((ACORN, BEECH, CEDAR))]
    files += [("dale.xlsx", valid_ks1(DALE)), ("elm.xlsx", valid_ks1(ELM))]  # not the trust's
    ids = receive_files(pg_app, files, sender=TRUST_ADMIN, channel="cli").upload_ids
    assert race(pg_app, ids) == []
    with pg_app.sessions() as session:
        kinds = session.scalars(select(OutgoingEmail.kind).where(
            OutgoingEmail.to_addrs.cast(Text).contains(TRUST_ADMIN))).all()
    assert sorted(kinds) == ["bulk", "receipt"]
