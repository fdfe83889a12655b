"""Engine and session factory for SQLite (embedded) and PostgreSQL, and running migrations."""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:  # alembic is imported only when migrations are used
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        _serialise_sqlite_writers(engine)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=10)
    _ping_idle_connections(engine)
    return engine


PING_AFTER_IDLE = 1.0  # seconds a pooled connection may sit unused before it is checked


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use when it has sat idle: PostgreSQL may have been
    restarted (or the connection dropped) meanwhile, and a file must not fail for it.

    ``pool_pre_ping`` pings on every checkout, a round trip for every transaction: 6% of the
    whole pipeline's CPU in a results-day burst, where a connection is back in use within
    milliseconds. A restart takes longer than PING_AFTER_IDLE, so a connection that lived through
    one has always been idle long enough to be checked; one that breaks mid-use fails its
    transaction as it would with any ping, and the job is retried.
    """
    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool replaces the connection and tries again
            raise DisconnectionError(f"connection lost while idle: {exc}") from exc


def _serialise_sqlite_writers(engine: Engine) -> None:
    """Every SQLite transaction takes the write lock at BEGIN (BEGIN IMMEDIATE).

    Worker threads read, decide and write; with SQLite's default deferred transactions two of
    them could both read the same "current" upload before either writes. Taking the lock up
    front serialises them, the embedded equivalent of the row lock used on PostgreSQL.
    """
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic's configuration for our migrations, built in code rather than from alembic.ini:
    ``migrate`` runs them and ``ers doctor`` reads their head from the same place."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to date with Alembic (the same migrations on SQLite and PostgreSQL)."""
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
