"""Building emails as a school's mail client would send them."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def make_email(sender: str, to: str, subject: str = "Results",
               attachments: list[tuple[str, bytes]] = (), *, message_id: str | None = None,
               headers: dict[str, str] | None = None, body: str = "Please find attached.") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain=sender.rsplit("@", 1)[-1])
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, data in attachments:
        maintype, subtype = XLSX if name.endswith(".xlsx") else ("application", "octet-stream")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def redelivered(raw: bytes, hop: str) -> bytes:
    """The same message as a second delivery would bring it: a new Received header on top."""
    return f"Received: from {hop} by mx.ers.localhost; Sun, 22 Nov 2026 10:00:00 +0000\r\n".encode() + raw
