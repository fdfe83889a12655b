"""Pooled PostgreSQL connections: one that died while idle is replaced before use, unnoticed."""
from __future__ import annotations

import time

from sqlalchemy import create_engine, text

from models import db


def _kill_every_session_of(pg_url: str) -> None:
    """What a PostgreSQL restart does to the pool's connections (the server itself stays up, so
    the test does not disturb the suite's other databases)."""
    from sqlalchemy.engine import make_url
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"),
            {"name": make_url(pg_url).database}).scalar()
    admin.dispose()
    assert killed >= 1


def test_a_connection_killed_while_idle_is_replaced_before_its_next_use(pg_url, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.2)
    engine = db.make_engine(pg_url)
    with engine.connect() as connection:
        before = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    _kill_every_session_of(pg_url)
    time.sleep(0.3)
    with engine.connect() as connection:  # pinged, found dead, replaced: no error here
        after = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    assert after != before
    engine.dispose()


def test_a_connection_back_in_use_at_once_is_not_pinged(pg_url, monkeypatch):
    pings = []
    engine = db.make_engine(pg_url)
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(1) or True)
    for _ in range(5):
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert pings == [1]
    engine.dispose()
