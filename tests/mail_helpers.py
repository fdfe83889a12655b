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


def message_id_of(raw: bytes) -> str:
    from email import message_from_bytes
    return message_from_bytes(raw)["Message-ID"]


def redelivered(raw: bytes, hop: str) -> bytes:
    """The same message as a second delivery would bring it: a new Received header on top."""
    return f"Received: from {hop} by mx.ers.localhost; Sun, 22 Nov 2026 10:00:00 +0000\r\n".encode() + raw


class MailServers:
    """The real Dovecot and Postfix started by `make test`, seen as a school's mail client sees them."""

    def __init__(self, host: str, imap_port: int, smtp_port: int, password: str, ca_file: str) -> None:
        self.host, self.imap_port, self.smtp_port = host, imap_port, smtp_port
        self.password, self.ca_file = password, ca_file

    def imap(self, user: str):
        from imapclient import IMAPClient
        client = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=30)
        client.login(user, self.password)
        return client

    def send(self, raw: bytes, sender: str, to: str) -> None:
        import smtplib
        with smtplib.SMTP(self.host, self.smtp_port, timeout=30) as smtp:
            smtp.sendmail(sender, [to], raw)

    def clear(self, *users: str) -> None:
        for user in users:
            with self.imap(user) as client:
                for folder in ("INBOX", "Processed", "Quarantine"):
                    if client.folder_exists(folder):
                        client.select_folder(folder)
                        uids = client.search(["ALL"])
                        if uids:
                            client.delete_messages(uids)
                            client.expunge()

    def messages(self, user: str, folder: str = "INBOX") -> list:
        """Every message in the folder, parsed, with its flags under ``X-Test-Flags``."""
        from email import policy
        from email.parser import BytesParser
        with self.imap(user) as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            found = []
            fetched = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"]) if uids else {}
            for _, data in sorted(fetched.items()):
                message = BytesParser(policy=policy.default).parsebytes(data[b"BODY[]"])
                message["X-Test-Flags"] = " ".join(f.decode() for f in data[b"FLAGS"]) or "-"
                found.append(message)
            return found

    def wait_for(self, user: str, count: int, folder: str = "INBOX", timeout: float = 60.0,
                 where=lambda m: True) -> list:
        """The folder's messages once at least ``count`` match ``where`` (fails after ``timeout``)."""
        import time
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages(user, folder) if where(m)]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"{user}/{folder}: {len(found)} of {count} messages"
                return found
            time.sleep(0.3)
