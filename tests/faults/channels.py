"""Sending a fault test's files the way schools and partners do: copied into the drop folder,
emailed to the service's address through the relay, or put in a partner's SFTP inbox."""
from __future__ import annotations

import posixpath
import uuid
from pathlib import Path

import paramiko

from intake.registry_import import import_partners
from mail_helpers import MailServers, make_email
from conftest import contact_of
from tests.faults.ledger import Sent

PARTNER_ANSWERS = ("result",)  # a partner's file: no receipt; the result goes to the school
HEADER = "Name,Host,Port,User,Password,Key file,Host key,Inbox,Outbox,Feed,Schools\n"


def name_of(item: Sent) -> str:
    """A name of its own for each file (a second file of the same name would replace one not
    yet taken)."""
    return f"ks1-{item.digest[:8]}.xlsx"


def drop(folder: Path, sent: list[Sent]) -> None:
    """Into the drop folder as each school's contact would copy them: ``<email>/<name>``."""
    for item in sent:
        path = folder / contact_of(item.school) / name_of(item)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.data)


def email(mail: MailServers, service: str, sent: list[Sent]) -> None:
    """One email per file from the school's contact, through the relay."""
    for item in sent:
        school = contact_of(item.school)
        mail.send(make_email(school, service, f"KS1 results {item.digest[:8]}",
                             [(name_of(item), item.data)]), school, service)


class Partner:
    """An MIS partner's own SFTP account on the session's sshd: it drops files, reads results."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.host, self.port = urls["ERS_TEST_SFTP_HOST"], int(urls["ERS_TEST_SFTP_PORT"])
        self.key, self.host_key = urls["ERS_TEST_SFTP_KEY"], urls["ERS_TEST_SFTP_HOST_KEY"]
        base = f"/files/f{uuid.uuid4().hex[:10]}"
        self.inbox, self.outbox = posixpath.join(base, "inbox"), posixpath.join(base, "outbox")
        with self.sftp() as sftp:
            for folder in (base, self.inbox, self.outbox):
                sftp.mkdir(folder)

    def sftp(self) -> paramiko.SFTPClient:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect(self.host, self.port, username="ers-partner1", key_filename=self.key,
                       look_for_keys=False, allow_agent=False, timeout=20)
        sftp = client.open_sftp()
        sftp.close = lambda: client.close()  # closing the session closes the connection too
        return sftp

    def register(self, app, schools: list[str]) -> None:
        """The service's record of the partner, delivering for these schools."""
        row = (f"mis,{self.host},{self.port},ers-partner1,,{self.key},{self.host_key},"
               f"{self.inbox},{self.outbox},,{';'.join(schools)}\n")
        with app.sessions.begin() as session:
            assert import_partners(session, HEADER + row).problems == []

    def put(self, sent: list[Sent]) -> None:
        """Each file, then its ``.done`` marker: settled, so taken at the next poll."""
        with self.sftp() as sftp:
            for item in sent:
                path = posixpath.join(self.inbox, name_of(item))
                with sftp.open(path, "wb") as handle:
                    handle.write(item.data)
                sftp.open(path + ".done", "wb").close()

    def listdir(self, folder: str) -> list[str]:
        with self.sftp() as sftp:
            return sorted(sftp.listdir(folder))
