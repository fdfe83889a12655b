"""Fixtures of the fault tests: the session's private services and, per test, the whole stack on
them (a fresh database, a RabbitMQ virtual host, a service mailbox, `ers` processes)."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from config.settings import MailServer
from conftest import TRUST_ADMIN, build_app, contact_of, service_url
from intake import demo_world as world
from mail_helpers import MailServers
from tests.faults.services import SESSION_MARK, PrivateServices
from tests.faults.stack import Stack
from workers.app import App
from workers.broker import install as install_broker
from workers.broker import make_broker


@pytest.fixture(scope="session")
def services() -> Iterator[PrivateServices]:
    """Started once per session (about 6 s), only where the real services are expected: skipped
    without them, a failure under `make test` (ERS_REQUIRE_SERVICES=1), as other integration
    tests are."""
    for name in ("ERS_TEST_PG_URL", "ERS_TEST_AMQP_URL", "ERS_TEST_MAIL_HOST", "ERS_TEST_SFTP_HOST"):
        service_url(name)
    PrivateServices.stop_orphans()
    private = PrivateServices()
    try:
        private.start_all()
        yield private
    finally:
        private.stop_all()


def ers_env(app: App, services: PrivateServices) -> dict[str, str]:
    """The environment of the test's `ers` processes: the same settings as its own ``app``, and
    the mark that lets a later session stop them were this one killed before its clean-up."""
    settings = app.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERS_")}
    env[SESSION_MARK] = str(services.dir)
    env.update(ERS_DATA_DIR=str(settings.data_dir), ERS_DATABASE_URL=settings.database_url,
               ERS_BROKER_URL=settings.broker_url, ERS_COLLECTIONS=str(settings.collections_file),
               ERS_MAIL_FROM=settings.mail_from, ERS_IMAP_POLL_SECONDS="2", PYTHONUNBUFFERED="1")
    for prefix, server in (("ERS_SMTP", settings.smtp), ("ERS_IMAP", settings.imap)):
        env.update({f"{prefix}_HOST": server.host, f"{prefix}_PORT": str(server.port),
                    f"{prefix}_TLS": server.tls, f"{prefix}_USER": server.user,
                    f"{prefix}_PASSWORD": server.password, f"{prefix}_CA_FILE": server.ca_file})
    return env


@pytest.fixture
def stack(services: PrivateServices, tmp_path: Path) -> Iterator[Stack]:
    """The service on the session's instances, as the test's own: the private PostgreSQL's
    fresh database, a RabbitMQ virtual host, an address of its own on the private Dovecot and
    Postfix, and the world's schools with empty mailboxes; torn down with what it started."""
    database = f"ers_fault_{uuid.uuid4().hex[:10]}"
    vhost = f"ers-fault-{uuid.uuid4().hex[:10]}"
    admin = create_engine(services.url("ERS_TEST_PG_URL"), isolation_level="AUTOCOMMIT",
                          poolclass=NullPool)  # no connection kept across a restart
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    database_url = make_url(services.url("ERS_TEST_PG_URL")).set(database=database) \
        .render_as_string(hide_password=False)
    services.rabbitmqctl("add_vhost", vhost)
    services.rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    amqp = urlsplit(services.url("ERS_TEST_AMQP_URL"))
    amqp_url = urlunsplit(amqp._replace(path="/" + quote(vhost, safe="")))

    mail = MailServers(services.url("ERS_TEST_MAIL_HOST"), int(services.url("ERS_TEST_IMAP_PORT")),
                       int(services.url("ERS_TEST_SMTP_PORT")), services.url("ERS_TEST_MAIL_PASSWORD"),
                       services.url("ERS_TEST_MAIL_CA"))
    mail.clear(TRUST_ADMIN, *(contact_of(d) for d, *_ in world.SCHOOLS))
    app = build_app(tmp_path / "data", database_url=database_url, broker_url=amqp_url)
    address = f"results-{uuid.uuid4().hex[:8]}@ers.localhost"
    smtp = MailServer(host=mail.host, port=mail.smtp_port, tls="starttls", user=address,
                      password=mail.password, ca_file=mail.ca_file)
    app.settings = replace(app.settings, mail_from=address, smtp=smtp, imap_poll_seconds=2,
                           imap=replace(smtp, port=mail.imap_port))
    broker = install_broker(make_broker(amqp_url))  # what receive() publishes on, in this process
    logs = tmp_path / "logs"
    logs.mkdir()
    built = Stack(services, app, ers_env(app, services), mail, logs)
    try:
        yield built
    finally:
        built.stop(*built.processes)
        broker.close()
        install_broker(make_broker(""))
        app.engine.dispose()
        services.restore()  # what the test stopped, if it failed before starting it again
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
        services.rabbitmqctl("delete_vhost", vhost)
