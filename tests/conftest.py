"""Fixtures: an app on a throwaway SQLite (or PostgreSQL) database holding the demo world, brokers."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config.settings import Settings
from intake import demo_world as world
from intake.cli import prepare_database
from intake.registry_import import import_contacts, import_gias, import_roster
from workers.app import App, install
from workers.broker import install as install_broker
from workers.broker import make_broker

REQUIRE_SERVICES = os.environ.get("ERS_REQUIRE_SERVICES") == "1"


def service_url(name: str) -> str:
    """The URL of a real service started by `make test`; missing means fail there, skip elsewhere."""
    url = os.environ.get(name)
    if not url:
        if REQUIRE_SERVICES:
            pytest.fail(f"{name} is not set although `make test` should have started the service")
        pytest.skip(f"{name} not set: start the services with `make services` and export "
                    "`bash config/services/all.sh env`")
    return url


def build_app(data_dir: Path, database_url: str | None = None, broker_url: str = "") -> App:
    data_dir.mkdir(parents=True, exist_ok=True)
    collections = data_dir / "collections.toml"
    collections.write_text(world.all_collections_toml(datetime.now(timezone.utc)))
    app = install(App(Settings(data_dir=data_dir, broker_url=broker_url,
                               database_url=database_url or f"sqlite:///{data_dir / 'ers.db'}",
                               collections_file=collections)))
    prepare_database(app)
    with app.sessions.begin() as session:
        import_gias(session, world.gias_csv())
        import_contacts(session, world.contacts_csv())
        import_roster(session, world.roster_csv(world.rosters()))
    return app


@pytest.fixture
def app(tmp_path: Path) -> App:
    built = build_app(tmp_path / "data")
    yield built
    built.engine.dispose()


@pytest.fixture
def stub_broker(app: App):
    broker = install_broker(make_broker(""))
    yield broker
    broker.flush_all()


@pytest.fixture
def stub_worker(stub_broker):
    worker = dramatiq.Worker(stub_broker, worker_threads=2, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def pg_url() -> str:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    base = make_url(service_url("ERS_TEST_PG_URL"))
    name = f"ers_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def amqp_url() -> str:
    return service_url("ERS_TEST_AMQP_URL")


@pytest.fixture
def rabbit_broker(amqp_url: str):
    broker = install_broker(make_broker(amqp_url))
    broker.flush_all()
    yield broker
    broker.flush_all()
    broker.close()
    install_broker(make_broker(""))


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Environment for running `ers` in-process on embedded defaults, with the world's CSVs."""
    (tmp_path / "collections.toml").write_text(world.all_collections_toml(datetime.now(timezone.utc)))
    monkeypatch.setenv("ERS_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ERS_COLLECTIONS", str(tmp_path / "collections.toml"))
    monkeypatch.delenv("ERS_DATABASE_URL", raising=False)
    monkeypatch.delenv("ERS_BROKER_URL", raising=False)
    for name, content in (("gias.csv", world.gias_csv()), ("contacts.csv", world.contacts_csv()),
                          ("roster.csv", world.roster_csv(world.rosters()))):
        (tmp_path / name).write_text(content)
    return tmp_path


def pupils_of(dfe: str) -> list[world.RosterPupil]:
    return [p for p in world.rosters() if p.dfe == dfe]


def contact_of(dfe: str) -> str:
    return next(s[3] for s in world.SCHOOLS if s[0] == dfe)


ACORN, BEECH, CEDAR, DALE, ELM = (s[0] for s in world.SCHOOLS)
TRUST_ADMIN = world.TRUST[2]
