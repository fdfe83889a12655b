"""The outbox relay: turns an outbox row into a MIME message and hands it to a transport once.

The embedded transport writes ``.eml`` files; with ERS_SMTP_HOST set, an SMTP relay takes it.
A row is marked sent the moment the relay accepts it and is never sent again after that; its
Message-ID is fixed by the row, so even a resend after a crash in that instant is one message
to mail clients. A relay that is down is tried again with backoff, up to ERS_SEND_ATTEMPTS.
"""
from __future__ import annotations

import base64
import io
import os
import smtplib
import socket
import ssl
import tempfile
import time
import uuid
from datetime import timedelta
from email.generator import BytesGenerator
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Protocol

from sqlalchemy import Row, bindparam, update
from sqlalchemy.exc import OperationalError

from config.settings import MailServer, Settings
from models import OutgoingEmail
from models.audit import audit
from models.base import utcnow
from workers.app import App


class Transport(Protocol):
    def send(self, message: Message, outbox_id: int) -> None: ...


class EmlFolder:
    """Writes each message to ``<outbox>/<id>-<kind>.eml``; writing the same row again is a no-op."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, outbox_id: int, kind: str) -> Path:
        return self.folder / f"{outbox_id:06d}-{kind}.eml"

    def send(self, message: Message, outbox_id: int) -> None:
        path = self.path_for(outbox_id, message["X-ERS-Kind"])
        if path.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".sending-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(as_bytes(message))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


class Rejected(Exception):
    """The relay refused the message for good (a 5xx answer): trying again cannot help."""


def connect_smtp(server: MailServer, timeout: float) -> smtplib.SMTP:
    """A connection to ``server``, TLS from the start when ``server.tls`` is ssl.

    Shared by the relay and ``ers doctor`` so both reach the server the same way. STARTTLS and
    the login are left to the caller: the doctor checks the server offers each before it asks,
    to say which one is missing.
    """
    if server.tls == "ssl":
        return smtplib.SMTP_SSL(server.host, server.port, timeout=timeout,
                                context=server.ssl_context())
    return smtplib.SMTP(server.host, server.port, timeout=timeout)


class SmtpRelay:
    """Hands each message to an SMTP relay: STARTTLS or SSL and a login when configured."""

    def __init__(self, server: MailServer, sender: str, timeout: float = 30.0) -> None:
        self.server, self.sender, self.timeout = server, sender, timeout

    def send(self, message: Message, outbox_id: int) -> None:
        server = self.server
        try:
            with connect_smtp(server, self.timeout) as smtp:
                if server.tls == "starttls":
                    smtp.starttls(context=server.ssl_context())
                if server.user:
                    smtp.login(server.user, server.password)
                smtp.sendmail(self.sender, recipients(message), as_bytes(message, "\r\n"))
        except smtplib.SMTPRecipientsRefused as exc:
            raise Rejected(f"every recipient was refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPServerDisconnected):
                raise Rejected(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise


# Errors after which the same message may succeed later: the relay is down, slow or busy.
TEMPORARY = (OSError, socket.timeout, ssl.SSLError, smtplib.SMTPException)


def transport_for(settings: Settings) -> Transport:
    if settings.smtp.host:
        return SmtpRelay(settings.smtp, settings.mail_from)
    return EmlFolder(settings.outbox_dir)


def build_message(settings: Settings, email: OutgoingEmail | Row) -> Message:
    """The row as a MIME message: text and HTML alternatives, then any attachments.

    Built on the compat32 classes rather than ``EmailMessage``: the default policy parses every
    header it is given, a millisecond per message, and the service sends two for every upload.
    Our headers are addresses we hold and text we wrote, so only non-ASCII needs encoding.
    Boundaries are chosen here: a random token cannot occur in the encoded parts, and the
    generator would otherwise search the whole message (both PDFs) for its own, once per part.
    """
    body = MIMEMultipart("alternative", boundary=_boundary(),
                         _subparts=[_text(email.text_body, "plain"), _text(email.html_body, "html")])
    message = body
    if email.attachments:
        del body["MIME-Version"]
        message = MIMEMultipart("mixed", boundary=_boundary(), _subparts=[body] + [
            _attachment(Path(a["path"]).read_bytes(), *a["content_type"].split("/", 1), a["name"])
            for a in email.attachments])
    for name, value in (("From", settings.mail_from), ("To", ", ".join(email.to_addrs)),
                        ("Cc", ", ".join(email.cc_addrs)), ("Subject", email.subject),
                        ("Date", format_datetime(email.created_at)),
                        ("Message-ID", email.message_id), ("X-ERS-Kind", email.kind),
                        ("In-Reply-To", email.in_reply_to), ("References", email.in_reply_to)):
        if value:
            message[name] = value if value.isascii() else Header(value, "utf-8", header_name=name)
    return message


UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP  # readable in an .eml file and in a client's "show original"


def _text(body: str, subtype: str) -> MIMEText:
    """As written when it can be (ASCII, no line over SMTP's 998), else quoted-printable UTF-8."""
    plain = body.isascii() and max(map(len, body.splitlines()), default=0) <= 998
    part = MIMEText(body, subtype, "us-ascii" if plain else UTF8_QP)
    del part["MIME-Version"]
    return part


def _boundary() -> str:
    return f"=_ers_{uuid.uuid4().hex}"


def _attachment(data: bytes, maintype: str, subtype: str, name: str) -> MIMEBase:
    """A base64 attachment part encoded in one pass. ``add_attachment`` encodes, and the generator
    writes, one 76-character line at a time: ~4 ms for a report email with two PDFs."""
    part = MIMEBase(maintype, subtype)
    del part["MIME-Version"]
    part["Content-Transfer-Encoding"] = "base64"
    part.add_header("Content-Disposition", "attachment", filename=name)
    encoded = base64.b64encode(data).decode("ascii")
    part.set_payload("".join(encoded[i:i + 76] + "\n" for i in range(0, len(encoded), 76)))
    return part


class _Generator(BytesGenerator):
    """Writes a base64 body whole: its lines are already short, so only line ends can change."""

    def _handle_application(self, msg: Message) -> None:
        if msg.get("Content-Transfer-Encoding") != "base64":
            return self._handle_text(msg)
        payload = msg.get_payload()
        self.write(payload if self._NL == "\n" else payload.replace("\n", self._NL))


def as_bytes(message: Message, linesep: str = "\n") -> bytes:
    """The message as an .eml file holds it, or with ``linesep="\\r\\n"`` as SMTP sends it."""
    buffer = io.BytesIO()
    _Generator(buffer, policy=message.policy).flatten(message, linesep=linesep)
    return buffer.getvalue()


def recipients(message: Message) -> list[str]:
    """Every address in To and Cc, as ``smtplib.send_message`` takes them."""
    return [address for _, address in getaddresses(message.get_all("To", [])
                                                   + message.get_all("Cc", []))]


# Claiming and settling a row are plain statements on a connection: the ORM's session and
# unit of work cost 0.4 ms of a worker's CPU on each, twice for every email.
OUTBOX = OutgoingEmail.__table__


class TryLater(Exception):
    """The relay could not take the message now; the caller retries after a backoff."""


def send_outbox_email(app: App, outbox_id: int, transport: Transport | None = None) -> bool:
    """Send one pending outbox row; True when this call sent it.

    The row is claimed first (pending -> sending, a conditional update), so two workers given
    the same id never both send it. Raises TryLater while attempts remain after a temporary
    failure; after the last attempt, or a permanent refusal, the row is marked failed for an
    operator (``ers outbox``).
    """
    with app.engine.begin() as connection:
        email = connection.execute(_CLAIM, {"outbox_id": outbox_id, "now": utcnow()}).one_or_none()
    if email is None:
        return False
    message, attempt = build_message(app.settings, email), email.attempts
    try:
        (transport or transport_for(app.settings)).send(message, outbox_id)
    except (Rejected, *TEMPORARY) as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        give_up = isinstance(exc, Rejected) or attempt >= app.settings.send_attempts
        _settle(app, outbox_id, "failed" if give_up else "pending", "failed" if give_up else "deferred",
                last_error=error, attempt=attempt)
        if give_up:
            return False
        raise TryLater(error) from exc
    except BaseException:  # anything unforeseen: release the claim so the row is not stuck
        _settle(app, outbox_id, "pending", "released")
        raise
    _settle_sent(app, outbox_id, message["Message-ID"])
    return True


# Claim and settle are built once: two of each per upload, and a statement
# built per call costs about as much again to construct and key for the cache as to run.
_CLAIM = (update(OUTBOX).where(OUTBOX.c.id == bindparam("outbox_id"), OUTBOX.c.status == "pending")
          .values(status="sending", claimed_at=bindparam("now"), attempts=OUTBOX.c.attempts + 1)
          .returning(*OUTBOX.c))


# sending -> new_status; any other parameter named after a column sets that column too
_SETTLE = (update(OUTBOX).where(OUTBOX.c.id == bindparam("outbox_id"), OUTBOX.c.status == "sending")
           .values(status=bindparam("new_status"), claimed_at=None))


SETTLE_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds between tries: a database restart takes a few


def _settle_sent(app: App, outbox_id: int, message_id: str) -> None:
    """Record that the relay took the message. It has left, so the record must outlast a database
    restart: a row left 'sending' would wait out its claim (10 minutes) and be sent again."""
    for wait in (*SETTLE_WAITS, None):
        try:
            _settle(app, outbox_id, "sent", "sent", sent_at=utcnow(), last_error=None,
                    message_id=message_id)
            return
        except OperationalError:
            if wait is None:
                raise
            time.sleep(wait)


def _settle(app: App, outbox_id: int, status: str, action: str, attempt: int | None = None,
            message_id: str | None = None, **values) -> None:
    with app.engine.begin() as connection:
        settled = connection.execute(_SETTLE, {
            "outbox_id": outbox_id, "new_status": status, **values}).rowcount
        if not settled:  # a retried settle whose first commit landed: recorded already
            return
        detail = {k: v for k, v in (("attempt", attempt), ("error", values.get("last_error")),
                                    ("message_id", message_id)) if v is not None}
        audit(connection, "relay", "email", outbox_id, action, **detail)


def release_stale_claims(app: App, older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Rows left 'sending' by a relay that died mid-send go back to pending.

    The relay may have accepted such a message just before the crash; it is sent again with the
    same Message-ID, which mail clients show once. Any attempt lasts far less than ten minutes.
    """
    with app.sessions.begin() as session:
        ids = list(session.scalars(update(OutgoingEmail).where(
            OutgoingEmail.status == "sending", OutgoingEmail.claimed_at <= utcnow() - older_than)
            .values(status="pending", claimed_at=None).returning(OutgoingEmail.id)))
        for outbox_id in ids:
            audit(session, "relay", "email", outbox_id, "claim expired")
    return ids


def retry_failed(app: App, outbox_ids: list[int] | None = None) -> list[int]:
    """Failed rows (all, or these) back to pending with a fresh count of attempts."""
    with app.sessions.begin() as session:
        query = update(OutgoingEmail).where(OutgoingEmail.status == "failed")
        if outbox_ids is not None:
            query = query.where(OutgoingEmail.id.in_(outbox_ids))
        ids = list(session.scalars(query.values(status="pending", attempts=0)
                                   .returning(OutgoingEmail.id)))
        for outbox_id in ids:
            audit(session, "operator", "email", outbox_id, "retry")
    return ids
