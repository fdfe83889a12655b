"""The outbox relay: turns an outbox row into a MIME message and hands it to a transport once.

The embedded transport writes ``.eml`` files; SMTP arrives with the email channel.
"""
from __future__ import annotations

import os
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import update

from config.settings import Settings
from models import OutgoingEmail
from models.audit import audit
from models.base import utcnow
from workers.app import App


class Transport(Protocol):
    def send(self, message: EmailMessage, outbox_id: int) -> None: ...


class EmlFolder:
    """Writes each message to ``<outbox>/<id>-<kind>.eml``; writing the same row again is a no-op."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, outbox_id: int, kind: str) -> Path:
        return self.folder / f"{outbox_id:06d}-{kind}.eml"

    def send(self, message: EmailMessage, outbox_id: int) -> None:
        path = self.path_for(outbox_id, message["X-ERS-Kind"])
        if path.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".sending-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def transport_for(settings: Settings) -> Transport:
    return EmlFolder(settings.outbox_dir)


def build_message(settings: Settings, email: OutgoingEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(email.to_addrs)
    if email.cc_addrs:
        message["Cc"] = ", ".join(email.cc_addrs)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    message["Message-ID"] = email.message_id
    message["X-ERS-Kind"] = email.kind
    if email.in_reply_to:
        message["In-Reply-To"] = email.in_reply_to
        message["References"] = email.in_reply_to
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment["content_type"].partition("/")
        message.add_attachment(Path(attachment["path"]).read_bytes(), maintype=maintype,
                               subtype=subtype, filename=attachment["name"])
    return message


def send_outbox_email(app: App, outbox_id: int, transport: Transport | None = None) -> bool:
    """Send one outbox row unless already sent; True when this call sent it."""
    with app.sessions() as session:
        email = session.get(OutgoingEmail, outbox_id)
        if email is None or email.status == "sent":
            return False
        message = build_message(app.settings, email)
    (transport or transport_for(app.settings)).send(message, outbox_id)
    with app.sessions.begin() as session:
        session.execute(update(OutgoingEmail).where(OutgoingEmail.id == outbox_id).values(
            status="sent", sent_at=utcnow(), attempts=OutgoingEmail.attempts + 1))
        audit(session, "relay", "email", outbox_id, "sent", message_id=message["Message-ID"])
    return True
