"""``ers doctor``: each configured component checked against the real services, and each failure
named in plain words with the setting to look at."""
from __future__ import annotations

import argparse
import json
import posixpath
import uuid
from pathlib import Path

import paramiko
import pytest

from conftest import service_url
from intake.cli import build_parser
from intake.cli_ops import cmd_doctor
from models.db import make_engine, migrate
from workers import doctor
from workers.doctor import FAIL, OFF, OK, WARN

HOST_KEY_OF_SOMEONE_ELSE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKnFUxuB7ECxuCTy+X80U3sdVvpw9eNm2i1N5S1KZr9E"


def by_component(checks) -> dict[str, doctor.Check]:
    return {c.component: c for c in checks}


# -- embedded defaults (no services) -------------------------------------------------------------

def embedded_env(tmp_path: Path) -> dict[str, str]:
    return {"ERS_DATA_DIR": str(tmp_path / "var")}


def test_embedded_defaults_are_reported_as_embedded_not_as_failures(app, tmp_path):
    env = {"ERS_DATA_DIR": str(app.settings.data_dir),
           "ERS_COLLECTIONS": str(app.settings.collections_file)}
    checks = by_component(doctor.diagnose(env, timeout=2))
    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]
    assert checks["database"].status == OK and "embedded SQLite" in checks["database"].message
    assert checks["broker"].status == OFF and "in-process" in checks["broker"].message
    assert checks["mailbox (IMAP)"].status == OFF and "ERS_IMAP_HOST" in checks["mailbox (IMAP)"].message
    assert checks["mail relay (SMTP)"].status == OFF and ".eml" in checks["mail relay (SMTP)"].message
    assert checks["sftp partners"].status == OFF
    assert checks["outbox folder"].status == OK


def test_doctor_exits_1_and_names_the_problem_when_the_embedded_database_was_never_made(
        tmp_path, monkeypatch, capsys):
    for name, value in embedded_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    for name in ("ERS_DATABASE_URL", "ERS_BROKER_URL", "ERS_IMAP_HOST", "ERS_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    code = cmd_doctor(argparse.Namespace(json=False, timeout=2))
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  database" in out and "does not exist yet — run `ers init`" in out
    assert "problem to fix: database." in out


def test_doctor_json_lists_every_check_with_its_status(app, monkeypatch, capsys):
    monkeypatch.setenv("ERS_DATA_DIR", str(app.settings.data_dir))
    monkeypatch.setenv("ERS_COLLECTIONS", str(app.settings.collections_file))
    for name in ("ERS_DATABASE_URL", "ERS_BROKER_URL", "ERS_IMAP_HOST", "ERS_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    code = cmd_doctor(argparse.Namespace(json=True, timeout=2))
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["ok"] is True
    assert {c["component"] for c in result["checks"]} >= {"database", "broker", "mailbox (IMAP)",
                                                          "mail relay (SMTP)", "collections"}


def test_a_bad_setting_is_reported_instead_of_a_traceback():
    checks = doctor.diagnose({"ERS_SMTP_TLS": "sometimes"})
    assert [(c.component, c.status) for c in checks] == [("settings", FAIL)]
    assert "ERS_SMTP_TLS must be one of" in checks[0].message


def test_a_logging_setting_it_does_not_know_is_a_failure(tmp_path):
    checks = by_component(doctor.diagnose({"ERS_DATA_DIR": str(tmp_path), "ERS_LOG_FORMAT": "xml"}))
    assert checks["settings"].status == FAIL
    assert checks["settings"].message.startswith("ERS_LOG_FORMAT is 'xml', not json or text — fix it")


def test_a_collections_file_that_does_not_parse_is_a_failure_naming_the_file(tmp_path):
    path = tmp_path / "collections.toml"
    path.write_text("[[collection]]\nkey = 'ks1'\nname = \n")
    check = doctor.check_collections(path)
    assert check.status == FAIL and str(path) in check.message and "fix the file" in check.message
    assert doctor.check_collections(tmp_path / "missing.toml").message.endswith(
        "(config/collections.toml is the example)")


def test_a_data_folder_under_a_file_is_not_writable(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    check = doctor.check_directory("data folder", blocker / "var", "ERS_DATA_DIR")
    assert check.status == FAIL and "is a file — check ERS_DATA_DIR" in check.message
    assert doctor.check_directory("data folder", tmp_path, "ERS_DATA_DIR").status in (OK, WARN)


def test_an_unset_sender_address_fails_only_once_mail_is_really_sent(tmp_path):
    from config.settings import Settings
    embedded = Settings.from_env({"ERS_DATA_DIR": str(tmp_path)})
    assert doctor.check_mail_from(embedded, explicit=False).status == OK
    relayed = Settings.from_env({"ERS_DATA_DIR": str(tmp_path), "ERS_SMTP_HOST": "127.0.0.1"})
    check = doctor.check_mail_from(relayed, explicit=False)
    assert check.status == FAIL and "set ERS_MAIL_FROM" in check.message


def test_add_commands_gives_ers_a_doctor_and_a_metrics_command():
    parser = build_parser()
    assert parser.parse_args(["doctor", "--json"]).func is cmd_doctor
    args = parser.parse_args(["metrics"])
    assert (args.host, args.port) == ("127.0.0.1", 9464)


# -- the real services ---------------------------------------------------------------------------

@pytest.fixture
def services() -> dict[str, str]:
    return {name: service_url(f"ERS_TEST_{name}") for name in (
        "PG_URL", "AMQP_URL", "MAIL_HOST", "IMAP_PORT", "SMTP_PORT", "MAIL_PASSWORD", "MAIL_CA",
        "SFTP_HOST", "SFTP_PORT", "SFTP_HOST_KEY", "SFTP_KEY")}


def with_port(url: str, port: int) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).set(port=port).render_as_string(hide_password=False)


@pytest.mark.services
def test_every_configured_real_component_passes(tmp_path, pg_url, services):
    engine = make_engine(pg_url)
    migrate(engine)
    folders = make_partner_folders(services)
    register_partner(engine, services, folders)
    engine.dispose()
    address = f"results-{uuid.uuid4().hex[:8]}@ers.localhost"
    mail = {"HOST": services["MAIL_HOST"], "TLS": "starttls", "USER": address,
            "PASSWORD": services["MAIL_PASSWORD"], "CA_FILE": services["MAIL_CA"]}
    env = {"ERS_DATA_DIR": str(tmp_path / "var"), "ERS_DATABASE_URL": pg_url,
           "ERS_BROKER_URL": services["AMQP_URL"], "ERS_MAIL_FROM": address,
           "ERS_AUTHSERV_ID": "mx.ers.localhost",
           **{f"ERS_IMAP_{k}": v for k, v in mail.items()}, "ERS_IMAP_PORT": services["IMAP_PORT"],
           **{f"ERS_SMTP_{k}": v for k, v in mail.items()}, "ERS_SMTP_PORT": services["SMTP_PORT"]}
    checks = by_component(doctor.diagnose(env, timeout=10))
    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]
    assert checks["database"].status == OK and "PostgreSQL 15" in checks["database"].message
    assert "(the latest)" in checks["database"].message
    assert checks["broker"].status in (OK, WARN) and "uploads " in checks["broker"].message
    assert checks["mailbox (IMAP)"].status == OK and "logged in" in checks["mailbox (IMAP)"].message
    assert checks["mail relay (SMTP)"].status == OK
    assert f"logged in as {address}; nothing sent" in checks["mail relay (SMTP)"].message
    partner = checks["sftp partner wonde"]
    assert partner.status == OK and "host key matches" in partner.message
    assert f"inbox {folders}/inbox (1 file)" in partner.message


@pytest.mark.services
def test_postgresql_failures_say_what_is_wrong_and_which_setting_to_check(pg_url, services):
    refused, _ = doctor.check_database(with_port(services["PG_URL"], 1), timeout=5)
    assert refused.status == FAIL
    assert refused.message == ("cannot reach PostgreSQL at 127.0.0.1:1: connection refused — is "
                               "it running? check ERS_DATABASE_URL")
    from sqlalchemy.engine import make_url
    wrong = make_url(services["PG_URL"]).set(password="not-the-password").render_as_string(
        hide_password=False)
    login, _ = doctor.check_database(wrong, timeout=5)
    assert login.status == FAIL and "password authentication failed" in login.message
    assert "not-the-password" not in login.message
    missing, _ = doctor.check_database(make_url(pg_url).set(database="no_such_db").render_as_string(
        hide_password=False), timeout=5)
    assert "database no_such_db does not exist — create it" in missing.message


@pytest.mark.services
def test_an_unmigrated_or_old_schema_is_a_failure_that_says_run_ers_init(pg_url):
    empty, engine = doctor.check_database(pg_url)
    assert empty.status == FAIL and empty.message.endswith("has no tables yet — run `ers init`")
    engine.dispose()
    old = make_engine(pg_url)
    migrate(old, "0005")
    old.dispose()
    behind, engine = doctor.check_database(pg_url)
    head, _ = doctor._migrations()
    assert behind.status == FAIL
    assert f"has schema 0005, this version needs {head} — run `ers init`" in behind.message
    engine.dispose()


@pytest.mark.services
def test_rabbitmq_failures_and_queue_depths(services):
    from urllib.parse import urlsplit, urlunsplit
    url = services["AMQP_URL"]
    parts = urlsplit(url)
    refused = doctor.check_broker(urlunsplit(parts._replace(netloc=f"{parts.username}:"
                                                            f"{parts.password}@127.0.0.1:1")), 5)
    assert refused.status == FAIL and refused.message == (
        "cannot reach RabbitMQ at 127.0.0.1:1 (vhost /): connection refused — is it running? "
        "check ERS_BROKER_URL")
    login = doctor.check_broker(urlunsplit(parts._replace(
        netloc=f"{parts.username}:wrong@{parts.hostname}:{parts.port}")), 5)
    assert login.status == FAIL and "refused the login" in login.message
    vhost = doctor.check_broker(urlunsplit(parts._replace(path="/no-such-vhost")), 5)
    assert vhost.status == FAIL and "vhost no-such-vhost not found" in vhost.message
    postgres_port = make_port(services["PG_URL"])
    other = doctor.check_broker(urlunsplit(parts._replace(
        netloc=f"{parts.username}:{parts.password}@127.0.0.1:{postgres_port}")), 5)
    assert other.status == FAIL and "does not answer like RabbitMQ" in other.message


def make_port(url: str) -> int:
    from sqlalchemy.engine import make_url
    return make_url(url).port


@pytest.mark.services
def test_imap_and_smtp_failures_name_the_settings_to_fix(services):
    from config.settings import MailServer
    good = MailServer(host=services["MAIL_HOST"], port=int(services["IMAP_PORT"]), tls="starttls",
                      user="results@ers.localhost", password="wrong", ca_file=services["MAIL_CA"])
    login = doctor.check_imap(good, "INBOX", 5)
    assert login.status == FAIL and "refused the login for 'results@ers.localhost'" in login.message
    assert login.message.endswith("check ERS_IMAP_USER and ERS_IMAP_PASSWORD")
    untrusted = doctor.check_imap(MailServer(**{**vars(good), "ca_file": ""}), "INBOX", 5)
    assert untrusted.status == FAIL and "not trusted" in untrusted.message
    assert "ERS_IMAP_CA_FILE" in untrusted.message

    relay = MailServer(host=services["MAIL_HOST"], port=int(services["SMTP_PORT"]), tls="starttls",
                       user="results@ers.localhost", password="wrong", ca_file=services["MAIL_CA"])
    smtp_login = doctor.check_smtp(relay, 5)
    assert smtp_login.status == FAIL and "refused the login" in smtp_login.message
    assert smtp_login.message.endswith("check ERS_SMTP_USER and ERS_SMTP_PASSWORD")
    wrong_tls = doctor.check_smtp(MailServer(**{**vars(relay), "tls": "ssl"}), 5)
    assert wrong_tls.status == FAIL and "TLS with the SMTP relay" in wrong_tls.message
    assert "ERS_SMTP_TLS" in wrong_tls.message
    closed = doctor.check_smtp(MailServer(**{**vars(relay), "port": 1}), 5)
    assert closed.message.startswith("cannot reach the SMTP relay at 127.0.0.1:1 (starttls): "
                                     "connection refused")


def make_partner_folders(services) -> str:
    base = f"/files/doctor-{uuid.uuid4().hex[:8]}"
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(services["SFTP_HOST"], int(services["SFTP_PORT"]), username="ers-partner1",
                   key_filename=services["SFTP_KEY"], look_for_keys=False, allow_agent=False,
                   timeout=20)
    with client, client.open_sftp() as sftp:
        sftp.mkdir(base)
        for folder in ("inbox", "outbox"):
            sftp.mkdir(posixpath.join(base, folder))
        with sftp.open(posixpath.join(base, "inbox", "waiting.xlsx"), "wb") as handle:
            handle.write(b"not taken by the doctor")
    return base


def register_partner(engine, services, base: str) -> None:
    from sqlalchemy.orm import Session

    from models import Partner
    with Session(engine) as session, session.begin():
        session.add(Partner(name="wonde", host=services["SFTP_HOST"], port=int(services["SFTP_PORT"]),
                            username="ers-partner1", key_path=services["SFTP_KEY"],
                            host_key=services["SFTP_HOST_KEY"],
                            inbox=posixpath.join(base, "inbox"),
                            outbox=posixpath.join(base, "outbox")))


@pytest.mark.services
def test_an_sftp_partner_with_another_host_key_or_a_missing_folder_fails(services):
    from models import Partner
    base = make_partner_folders(services)

    def partner(**changes) -> Partner:
        fields = dict(name="wonde", host=services["SFTP_HOST"], port=int(services["SFTP_PORT"]),
                      username="ers-partner1", key_path=services["SFTP_KEY"],
                      host_key=services["SFTP_HOST_KEY"], inbox=f"{base}/inbox",
                      outbox=f"{base}/outbox", feed=None, password=None)
        return Partner(**{**fields, **changes})

    assert doctor.check_partner(partner(), 10).status == OK
    spoofed = doctor.check_partner(partner(host_key=HOST_KEY_OF_SOMEONE_ELSE), 10)
    assert spoofed.status == FAIL and "different host key" in spoofed.message
    missing = doctor.check_partner(partner(inbox=f"{base}/nowhere"), 10)
    assert missing.status == FAIL
    assert f"the inbox folder {base}/nowhere does not exist on the server" in missing.message
    refused = doctor.check_partner(partner(port=1), 5)
    assert refused.status == FAIL and "connection refused" in refused.message
    no_key = doctor.check_partner(partner(key_path="/nonexistent/key"), 5)
    assert no_key.status == FAIL and "/nonexistent/key cannot be read" in no_key.message
    # the doctor only looks: the waiting file is still there, nothing was moved
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(services["SFTP_HOST"], int(services["SFTP_PORT"]), username="ers-partner1",
                   key_filename=services["SFTP_KEY"], look_for_keys=False, allow_agent=False)
    with client, client.open_sftp() as sftp:
        assert sftp.listdir(f"{base}/inbox") == ["waiting.xlsx"]
