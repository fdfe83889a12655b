"""``ers doctor``: every configured component checked, each answer in plain words with what to do.

The checks only look: no migration is run, no folder or queue is created, no mail is sent, no
file is taken. A component left unconfigured is reported as embedded or not configured, which is
a valid set-up (e.g. the in-process broker, or ``.eml`` files instead of an SMTP relay), never a
failure. Only a ``fail`` makes the command exit 1; a ``warn`` is worth reading but works.
"""
from __future__ import annotations

import os
import shutil
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from config.settings import MailServer, Settings

OK, WARN, FAIL, OFF, SKIP = "ok", "warn", "fail", "off", "skip"
MIN_FREE_BYTES = 100 * 1024 ** 2      # below this a file or report cannot be trusted to be written
LOW_FREE_BYTES = 1024 ** 3            # a results day stores many files: warn before it is tight


@dataclass(frozen=True)
class Check:
    component: str
    status: str     # ok, warn, fail, off (not configured / embedded), skip (could not be checked)
    message: str

    @property
    def ok(self) -> bool:
        return self.status != FAIL

    def as_json(self) -> dict:
        return {"component": self.component, "status": self.status, "ok": self.ok,
                "message": self.message}


def diagnose(environ: Mapping[str, str] | None = None, timeout: float = 10.0) -> list[Check]:
    """Every check, in the order an operator would fix things."""
    env = dict(os.environ if environ is None else environ)
    try:
        settings = Settings.from_env(env)
    except ValueError as exc:
        return [Check("settings", FAIL, f"the environment cannot be read: {exc} — fix that "
                      "variable (`ers --help` lists them)")]
    from config.logs import problems as logging_problems
    from reports.pdf.page import FONT_DIR_ENV

    wrong = logging_problems(env)
    checks = [Check("settings", FAIL, f"{'; '.join(wrong)} — fix it (logs are written as plain "
                    "text at INFO meanwhile)") if wrong else
              Check("settings", OK, f"read from the environment (data in {settings.data_dir})"),
              check_collections(settings.collections_file)]
    checks += check_directories(settings)
    database, engine = check_database(settings.database_url, timeout)
    checks.append(database)
    checks.append(check_broker(settings.broker_url, timeout))
    checks.append(check_imap(settings.imap, settings.imap_folder, timeout))
    checks.append(check_smtp(settings.smtp, timeout))
    checks.append(check_mail_from(settings, explicit=bool(env.get("ERS_MAIL_FROM"))))
    if settings.imap.host and not settings.authserv_id:
        checks.append(Check("sender authentication", WARN, "ERS_AUTHSERV_ID is empty, so a sender "
                            "is trusted on its From address alone — set it to your receiving mail "
                            "server's id in Authentication-Results to require DMARC"))
    checks += check_partners(engine, timeout) if engine is not None and database.ok else [
        Check("sftp partners", SKIP, "not checked: the database cannot be used (see above)")]
    if engine is not None:
        engine.dispose()
    checks.append(check_report_fonts(env.get(FONT_DIR_ENV)))
    return checks


# -- plain words for network failures ------------------------------------------------------------

def network_problem(exc: BaseException, what: str, where: str, timeout: float, hint: str,
                    tls_hint: str = "", ca_hint: str = "") -> str:
    """What went wrong reaching ``what`` at ``where``, and which setting to look at."""
    from paramiko.ssh_exception import NoValidConnectionsError

    if isinstance(exc, NoValidConnectionsError):
        errors = list(exc.errors.values())
        exc = errors[0] if errors else exc
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot reach {what} at {where}: connection refused — is it running? check {hint}"
    if isinstance(exc, socket.gaierror):
        return f"cannot find the host of {what} ({where}): {exc.strerror} — check {hint}"
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError since Python 3.10
        return (f"{what} at {where} did not answer within {timeout:g} s — is the host and port "
                f"right, or a firewall in the way? check {hint}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"{what} at {where} presented a certificate that is not trusted "
                f"({exc.verify_message}) — set {ca_hint or 'its CA file'} to the CA that signed it")
    if isinstance(exc, ssl.SSLError):
        return (f"TLS with {what} at {where} failed ({exc.reason or exc}) — does {tls_hint or 'the TLS mode'}"
                " match what that port speaks? (usually ssl on 993 and 465, starttls on 143 and 587)")
    if isinstance(exc, OSError):
        return f"cannot reach {what} at {where}: {exc.strerror or exc} — check {hint}"
    return f"cannot use {what} at {where}: {type(exc).__name__}: {exc} — check {hint}"


# -- configuration files and folders -------------------------------------------------------------

def check_collections(path: Path) -> Check:
    from config.collections import load_collections

    try:
        collections = load_collections(path)
    except FileNotFoundError:
        return Check("collections", FAIL, f"{path} does not exist — set ERS_COLLECTIONS to the "
                     "collections TOML (config/collections.toml is the example)")
    except Exception as exc:  # noqa: BLE001 - TOML syntax, a missing key or a bad date: all the same to fix
        problem = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        return Check("collections", FAIL, f"{path} cannot be loaded: {problem} — fix the file "
                     "(config/collections.toml shows every key)")
    if not collections:
        return Check("collections", WARN, f"{path} defines no collection, so every file will be "
                     "refused — add one ([[collection]] with its windows)")
    now = datetime.now(timezone.utc)
    open_now = sorted(k for k, c in collections.items() if c.opens <= now <= c.final_close)
    return Check("collections", OK, f"{len(collections)} loaded from {path}; open now: "
                 f"{', '.join(open_now) or 'none'}")


def check_directories(settings: Settings) -> list[Check]:
    """Each folder the service writes to: writable (tried for real) and with room to spare."""
    folders = [("data folder", settings.data_dir, "ERS_DATA_DIR"),
               ("stored files", settings.store_dir, "ERS_DATA_DIR"),
               ("reports folder", settings.reports_dir, "ERS_REPORTS_DIR")]
    if not settings.smtp.host:
        folders.append(("outbox folder", settings.outbox_dir, "ERS_DATA_DIR"))
    return [check_directory(label, path, variable) for label, path, variable in folders]


def check_directory(label: str, path: Path, variable: str) -> Check:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return Check(label, FAIL, f"{path} cannot be a folder: {existing} is a file — check {variable}")
    try:  # access() says yes to root even on a read-only disk: write a file to be sure
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".ers-doctor-"):
            pass
    except OSError as exc:
        return Check(label, FAIL, f"{path} is not writable ({exc.strerror}) — give the service's "
                     f"user write access to {existing}, or change {variable}")
    free = shutil.disk_usage(existing).free
    where = str(path) if existing == path else f"{path} (made on first use under {existing})"
    if free < MIN_FREE_BYTES:
        return Check(label, FAIL, f"{where}: only {_size(free)} free — free some space, or move "
                     f"{variable} to a larger disk")
    if free < LOW_FREE_BYTES:
        return Check(label, WARN, f"{where}: writable, but only {_size(free)} free")
    return Check(label, OK, f"{where}: writable, {_size(free)} free")


def _size(n: int) -> str:
    return f"{n / 1024 ** 3:.1f} GB" if n >= 1024 ** 3 else f"{n / 1024 ** 2:.0f} MB"


# -- database ------------------------------------------------------------------------------------

def describe_database(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"embedded SQLite at {parsed.database}"
    return (f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"
            + (f" as {parsed.username}" if parsed.username else ""))


def check_database(url: str, timeout: float = 10.0):
    """(check, engine): the engine is returned for the checks that read the database, or None."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
    from sqlalchemy.pool import NullPool

    try:
        parsed = make_url(url)
        where = describe_database(url)
    except ArgumentError:
        return Check("database", FAIL, "ERS_DATABASE_URL is not a database URL — use "
                     "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB"), None
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database not in (None, "", ":memory:") and not Path(parsed.database).exists():
        return Check("database", FAIL, f"{where} does not exist yet — run `ers init`"), None
    try:
        engine = create_engine(url, poolclass=NullPool,
                               connect_args={} if sqlite else {"connect_timeout": max(1, int(timeout))})
    except NoSuchModuleError:
        return Check("database", FAIL, f"ERS_DATABASE_URL names a driver that is not installed "
                     f"({parsed.drivername}) — use postgresql+psycopg://..."), None
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            server = "" if sqlite else (
                f"PostgreSQL {connection.execute(text('SHOW server_version')).scalar().split()[0]}, "
                f"max_connections {connection.execute(text('SHOW max_connections')).scalar()}; ")
    except OperationalError as exc:
        engine.dispose()
        return Check("database", FAIL, _database_problem(str(exc.orig or exc), where, parsed,
                                                         timeout)), None
    head, known = _migrations()
    if current is None:
        message, status = f"{where} is reachable but has no tables yet — run `ers init`", FAIL
    elif current not in known:
        message, status = (f"{where} has schema {current}, which this version does not know — a "
                           "newer version ran against it: deploy the same version everywhere"), FAIL
    elif current != head:
        message, status = (f"{where} has schema {current}, this version needs {head} — run "
                           "`ers init` to upgrade it"), FAIL
    else:
        message, status = f"{where}: reachable, {server}schema {current} (the latest)", OK
    return Check("database", status, message), engine


def _migrations() -> tuple[str, set[str]]:
    """(head, every revision) of the migrations this version ships, read as ``ers init`` reads them."""
    from alembic.script import ScriptDirectory

    from models.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return script.get_current_head(), {r.revision for r in script.walk_revisions()}


def _database_problem(error: str, where: str, parsed, timeout: float) -> str:
    hint = "check ERS_DATABASE_URL"
    lower = error.lower()
    if "password authentication failed" in lower or "no password supplied" in lower:
        return (f"{where}: the login was refused (password authentication failed) — check the "
                "user and password in ERS_DATABASE_URL")
    if "does not exist" in lower and "database" in lower:
        return (f"{where}: database {parsed.database} does not exist — create it "
                f"(createdb -O {parsed.username or 'USER'} {parsed.database}) or fix ERS_DATABASE_URL")
    if "connection refused" in lower:
        return (f"cannot reach PostgreSQL at {parsed.host}:{parsed.port or 5432}: connection "
                f"refused — is it running? {hint}")
    if "timeout" in lower or "timed out" in lower:
        return (f"PostgreSQL at {parsed.host}:{parsed.port or 5432} did not answer within "
                f"{timeout:g} s — is the host right, or a firewall in the way? {hint}")
    if "resolve host" in lower or "name or service not known" in lower:
        return f"cannot find the host {parsed.host} of {where} — {hint}"
    if "ssl negotiation" in lower or "invalid response" in lower:
        return (f"{parsed.host}:{parsed.port} does not answer like PostgreSQL (another service on "
                f"that port?) — {hint}")
    if "unable to open database file" in lower:
        return f"{where} cannot be opened — check the path in ERS_DATABASE_URL and its permissions"
    first = error.strip().splitlines()[0] if error.strip() else error
    return f"cannot use {where}: {first} — {hint}"


# -- broker --------------------------------------------------------------------------------------

def check_broker(url: str, timeout: float = 10.0) -> Check:
    import pika.exceptions

    from workers.broker import uses_rabbitmq
    from workers.queue_depth import describe_amqp, queue_depths

    if not url:
        return Check("broker", OFF, "embedded: Dramatiq's in-process broker, so work is done by "
                     "the command that received it (set ERS_BROKER_URL=amqp://... for RabbitMQ "
                     "and `ers worker` processes)")
    if not uses_rabbitmq(url):
        return Check("broker", FAIL, "ERS_BROKER_URL is set but is not an amqp:// or amqps:// URL, "
                     "so the in-process broker would be used — fix it or leave it empty")
    where = describe_amqp(url)
    try:
        depths = queue_depths(url, timeout=timeout)
    except pika.exceptions.ProbableAuthenticationError:
        return Check("broker", FAIL, f"RabbitMQ at {where} refused the login — check the user "
                     "and password in ERS_BROKER_URL")
    except pika.exceptions.ProbableAccessDeniedError as exc:
        return Check("broker", FAIL, f"RabbitMQ at {where} refused the virtual host "
                     f"({_first_reason(exc)}) — create it and give the user permissions on it "
                     "(rabbitmqctl add_vhost / set_permissions), or fix ERS_BROKER_URL")
    except pika.exceptions.IncompatibleProtocolError:
        return Check("broker", FAIL, f"{where} does not answer like RabbitMQ (another service on "
                     "that port? 5672 is AMQP, 15672 the management page) — check ERS_BROKER_URL")
    except pika.exceptions.AMQPConnectionError as exc:
        return Check("broker", FAIL, network_problem(_root_cause(exc), "RabbitMQ", where, timeout,
                                                     "ERS_BROKER_URL"))
    except OSError as exc:
        return Check("broker", FAIL, network_problem(exc, "RabbitMQ", where, timeout, "ERS_BROKER_URL"))
    parts = [f"{d.queue} {d.ready} waiting, {d.consumers} consumer{'s' * (d.consumers != 1)}"
             + (f", {d.delayed} retrying" if d.delayed else "")
             + (f", {d.dead} gave up" if d.dead else "") if d.declared
             else f"{d.queue} not declared yet" for d in depths]
    problems = []
    if any(not d.declared for d in depths):
        problems.append("start `ers worker`, which declares the queues")
    elif not any(d.consumers for d in depths):
        problems.append("no worker is consuming: start `ers worker`")
    if any(d.dead for d in depths):
        problems.append("messages that gave up after their retries wait in the .XQ queues: see "
                        "the worker log for why, then move them back with the management page")
    return Check("broker", WARN if problems else OK,
                 f"RabbitMQ at {where}: {'; '.join(parts)}"
                 + (f" — {'; '.join(problems)}" if problems else ""))


def _root_cause(exc: BaseException) -> BaseException:
    """pika wraps the socket's error in its own, sometimes twice (as an argument or an attribute)."""
    for _ in range(5):
        inner = getattr(exc, "exception", None)
        if not isinstance(inner, BaseException):
            inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        if inner is None:
            break
        exc = inner
    return exc


def _first_reason(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    return text.split("'")[1] if text.count("'") >= 2 else text


# -- mail ----------------------------------------------------------------------------------------

def check_imap(server: MailServer, folder: str, timeout: float = 10.0) -> Check:
    if not server.host:
        return Check("mailbox (IMAP)", OFF, "not configured (ERS_IMAP_HOST is empty): `ers intake "
                     "email` cannot run; files still come by SFTP, the drop folder and `ers submit`")
    from imapclient.exceptions import IMAPClientError, LoginError

    from intake.imap import close_imap, open_imap

    where = f"{server.host}:{server.port} ({server.tls})"
    hint = "ERS_IMAP_HOST and ERS_IMAP_PORT"
    client = None
    try:
        client = open_imap(server, timeout)  # creates no folder, unlike the intake's connect
        if not client.folder_exists(folder):
            return Check("mailbox (IMAP)", FAIL, f"{server.user} at {where}: the folder {folder!r} "
                         "does not exist — set ERS_IMAP_FOLDER to the folder mail arrives in")
        waiting = client.select_folder(folder, readonly=True)[b"EXISTS"]
    except LoginError as exc:
        return Check("mailbox (IMAP)", FAIL, f"IMAP server at {where} refused the login for "
                     f"{server.user!r} ({_text(exc)}) — check ERS_IMAP_USER and ERS_IMAP_PASSWORD")
    except OSError as exc:  # ssl.SSLError included
        return Check("mailbox (IMAP)", FAIL, network_problem(
            exc, "the IMAP server", where, timeout, hint, "ERS_IMAP_TLS", "ERS_IMAP_CA_FILE"))
    except IMAPClientError as exc:
        return Check("mailbox (IMAP)", FAIL, f"IMAP server at {where}: {_text(exc)} — check "
                     "ERS_IMAP_TLS (starttls needs the server to offer it) and ERS_IMAP_USER")
    finally:
        if client is not None:
            close_imap(client)
    return Check("mailbox (IMAP)", OK, f"{server.user} at {where}: logged in, {folder} has "
                 f"{waiting} message{'s' * (waiting != 1)} waiting")


def check_smtp(server: MailServer, timeout: float = 10.0) -> Check:
    """Connects, negotiates TLS and logs in as the relay does; sends nothing."""
    if not server.host:
        return Check("mail relay (SMTP)", OFF, "not configured (ERS_SMTP_HOST is empty): answers "
                     "and reports are written as .eml files to the outbox folder, not sent")
    from workers.mailer import connect_smtp

    where = f"{server.host}:{server.port} ({server.tls})"
    try:
        with connect_smtp(server, timeout) as smtp:
            smtp.ehlo()
            if server.tls == "starttls":
                if not smtp.has_extn("starttls"):
                    return Check("mail relay (SMTP)", FAIL, f"the relay at {where} does not offer "
                                 "STARTTLS — set ERS_SMTP_TLS to what it speaks (ssl or none), or "
                                 "use its submission port (587)")
                smtp.starttls(context=server.ssl_context())
                smtp.ehlo()
            if server.user:
                if not smtp.has_extn("auth"):
                    return Check("mail relay (SMTP)", FAIL, f"the relay at {where} offers no login "
                                 "(AUTH) — clear ERS_SMTP_USER if it relays for you without one, "
                                 "or use its submission port (587)")
                smtp.login(server.user, server.password)
            smtp.noop()
    except smtplib.SMTPAuthenticationError as exc:
        return Check("mail relay (SMTP)", FAIL, f"the relay at {where} refused the login for "
                     f"{server.user!r} ({exc.smtp_code} {_text(exc.smtp_error)}) — check "
                     "ERS_SMTP_USER and ERS_SMTP_PASSWORD")
    except smtplib.SMTPResponseException as exc:
        return Check("mail relay (SMTP)", FAIL, f"the relay at {where} answered {exc.smtp_code} "
                     f"{_text(exc.smtp_error)} — check ERS_SMTP_HOST, ERS_SMTP_PORT and ERS_SMTP_TLS")
    except smtplib.SMTPException as exc:
        return Check("mail relay (SMTP)", FAIL, f"the relay at {where}: {exc} — check "
                     "ERS_SMTP_PORT and ERS_SMTP_TLS")
    except OSError as exc:  # ssl.SSLError included
        return Check("mail relay (SMTP)", FAIL, network_problem(
            exc, "the SMTP relay", where, timeout, "ERS_SMTP_HOST and ERS_SMTP_PORT",
            "ERS_SMTP_TLS", "ERS_SMTP_CA_FILE"))
    login = f"logged in as {server.user}" if server.user else "no login configured"
    return Check("mail relay (SMTP)", OK, f"relay at {where}: connected, {login}; nothing sent")


def check_mail_from(settings: Settings, explicit: bool = True) -> Check:
    """``explicit``: ERS_MAIL_FROM was set, rather than left at the embedded default."""
    address = settings.mail_from
    if "@" not in address:
        return Check("sender address", FAIL, f"ERS_MAIL_FROM is {address!r}, not an email address "
                     "— set it to the address schools write to")
    if not settings.smtp.host:
        return Check("sender address", OK, f"answers come from {address} (kept as .eml files)")
    if not explicit or address.rsplit("@", 1)[1].lower() in ("example.org", "example.com"):
        return Check("sender address", FAIL, f"answers would come from {address}, which nobody can "
                     "reply to — set ERS_MAIL_FROM to the service's real mailbox address")
    reads = settings.imap.user
    if settings.imap.host and "@" in reads and reads.lower() != address.lower():
        return Check("sender address", WARN, f"answers come from {address} but intake reads "
                     f"{reads}: schools' replies (CONFIRM, corrected files) go to a mailbox nobody "
                     "reads, unless one forwards to the other")
    return Check("sender address", OK, f"answers come from {address}")


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return str(value).strip()


# -- SFTP partners -------------------------------------------------------------------------------

def check_partners(engine, timeout: float = 10.0) -> list[Check]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from models import Partner

    with Session(engine) as session:
        partners = list(session.scalars(select(Partner).order_by(Partner.name)))
        session.expunge_all()
    if not partners:
        return [Check("sftp partners", OFF, "none registered (`ers partners import` adds them)")]
    return [check_partner(partner, timeout) for partner in partners]


def check_partner(partner, timeout: float = 10.0) -> Check:
    """Logs in with the registered credentials, refusing any host key but the registered one, and
    looks at (never takes from) the partner's folders."""
    import paramiko

    from intake.sftp import connect as sftp_connect

    label = f"sftp partner {partner.name}"
    where = f"{partner.username}@{partner.host}:{partner.port}"
    fix = "fix it with `ers partners import`"
    if partner.key_path and not os.access(partner.key_path, os.R_OK):
        return Check(label, FAIL, f"the key file {partner.key_path} cannot be read — {fix}, or "
                     "give the service's user read access to it")
    try:
        with sftp_connect(partner, timeout) as sftp:
            found = []
            for what in ("inbox", "outbox", "feed"):
                folder = getattr(partner, what)
                if not folder:
                    continue
                try:
                    entries = sftp.listdir(folder)
                except FileNotFoundError:
                    return Check(label, FAIL, f"{where}: the {what} folder {folder} does not exist "
                                 f"on the server — ask the partner to create it, or {fix}")
                except PermissionError:
                    return Check(label, FAIL, f"{where}: the {what} folder {folder} cannot be "
                                 f"read by {partner.username} — ask the partner to allow it")
                files = [e for e in entries if not e.startswith(".") and e != "processed"]
                found.append(f"{what} {folder} ({len(files)} file{'s' * (len(files) != 1)})"
                             if what != "outbox" else f"outbox {folder}")
    except paramiko.BadHostKeyException as exc:
        return Check(label, FAIL, f"{where} presented a different host key "
                     f"({exc.key.get_name()} {exc.key.get_base64()[:16]}...) from the one "
                     "registered — do not connect until the partner confirms it changed its key "
                     f"(it could be someone else); then {fix}")
    except paramiko.AuthenticationException as exc:
        return Check(label, FAIL, f"{where} refused the login ({exc}) — check the password or key "
                     f"file registered for it; {fix}")
    except paramiko.SSHException as exc:
        if "not found in known_hosts" in str(exc):
            return Check(label, FAIL, f"{where} offers no host key of the registered kind "
                         f"({partner.host_key.split()[0]}) — ask the partner for its current host "
                         f"key, then {fix}")
        return Check(label, FAIL, f"{where}: SSH failed ({exc}) — is it an SSH server? check the "
                     f"host and port; {fix}")
    except (ValueError, TypeError) as exc:
        return Check(label, FAIL, f"the registered host key of {partner.name} cannot be read "
                     f"({exc}) — it must look like 'ssh-ed25519 AAAA...'; {fix}")
    except (OSError, EOFError) as exc:
        return Check(label, FAIL, network_problem(exc, f"SFTP server of {partner.name}",
                                                  f"{partner.host}:{partner.port}", timeout, fix))
    return Check(label, OK, f"{where}: host key matches, logged in; {', '.join(found)}")


# -- reports -------------------------------------------------------------------------------------

def check_report_fonts(directory: str | None = None) -> Check:
    from reports.pdf.page import FONT_DIR_ENV, FONT_FILES, SYSTEM_FONT_DIR

    folder = Path(directory) if directory else SYSTEM_FONT_DIR
    missing = [f for f in FONT_FILES.values() if not (folder / f).is_file()]
    if missing:
        return Check("report fonts", WARN, f"{', '.join(missing)} not in {folder}: report PDFs use "
                     "Helvetica, which draws letters outside Western European ones (Ł, ş, ễ) as "
                     f"boxes — install fonts-dejavu-core or set {FONT_DIR_ENV}")
    return Check("report fonts", OK, f"DejaVu Sans in {folder}")
