"""The email channel's adapter: takes messages from an IMAP folder and moves them once handled.

IDLE wakes it as soon as mail arrives; a poll every ERS_IMAP_POLL_SECONDS is the safety net.
Messages are fetched with BODY.PEEK (never marked \\Seen) and moved to Processed, or Quarantine,
only after ``take_message`` has stored, committed and enqueued them (invariant 1). The folder's
UIDVALIDITY and the highest UID taken are remembered: a message at or below it that is still in
the folder was taken before a crash; taking it again finds the earlier record (by Message-ID and
content), so it is only moved.
"""
from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError
from config.settings import MailServer
from intake.inbound import QUARANTINED, take_message
from models import MailboxState
from workers.app import App

PROCESSED, QUARANTINE = "Processed", "Quarantine"
# Errors after which a fresh connection may work: the server restarted, the network dropped.
CONNECTION_ERRORS = (IMAPClientError, OSError, socket.timeout, ssl.SSLError, EOFError)
log = logging.getLogger("ers.intake.email")


def open_imap(server: MailServer, timeout: float, connect_timeout: float | None = None) -> IMAPClient:
    """A logged-in session, over SSL or STARTTLS as ``server.tls`` says; nothing else is done.

    Shared by the intake and ``ers doctor`` so the doctor tests the very connection the intake
    makes. ``connect_timeout`` defaults to ``timeout`` (the read timeout). On any failure the
    half-open session is closed before the error is raised.
    """
    ssl_mode = server.tls == "ssl"
    client = IMAPClient(server.host, port=server.port, ssl=ssl_mode,
                        ssl_context=server.ssl_context() if ssl_mode else None,
                        timeout=SocketTimeout(connect=timeout if connect_timeout is None
                                              else connect_timeout, read=timeout))
    try:
        if server.tls == "starttls":
            client.starttls(server.ssl_context())
        client.login(server.user, server.password)
    except Exception:
        close_imap(client)
        raise
    return client


def close_imap(client: IMAPClient) -> None:
    """Log out, or drop the socket when that fails: a dead connection cannot be closed politely,
    and closing must never raise over the error that led to it."""
    try:
        client.logout()
    except Exception:  # closing a dead connection: nothing more to do
        try:
            client.shutdown()
        except Exception:
            pass


@dataclass
class SyncReport:
    taken: int = 0
    quarantined: int = 0
    duplicates: int = 0
    moved_again: int = 0          # taken before a crash, only moved now
    failed: int = 0               # could not be taken now (logged); left in the folder for later
    upload_ids: list[int] = field(default_factory=list)


class MailboxIntake:
    def __init__(self, app: App, server: MailServer | None = None, folder: str | None = None,
                 poll_seconds: float | None = None, timeout: float = 60.0) -> None:
        self.app = app
        self.server = server or app.settings.imap
        self.folder = folder or app.settings.imap_folder
        self.poll_seconds = poll_seconds if poll_seconds is not None else app.settings.imap_poll_seconds
        self.timeout = timeout
        self.mailbox = f"{self.server.user}@{self.server.host}:{self.server.port}/{self.folder}"
        self.client: IMAPClient | None = None

    def connect(self) -> IMAPClient:
        """Log in and make sure the folders handled messages are moved to exist."""
        client = open_imap(self.server, self.timeout, connect_timeout=15)
        try:
            for folder in (PROCESSED, QUARANTINE):
                if not client.folder_exists(folder):
                    client.create_folder(folder)
        except Exception:
            close_imap(client)
            raise
        self.client = client
        return client

    def close(self) -> None:
        if self.client is not None:
            close_imap(self.client)
            self.client = None

    def sync_once(self) -> SyncReport:
        """Take every message in the folder; connects first if needed."""
        client = self.client or self.connect()
        selected = client.select_folder(self.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        last_uid = self._last_uid(uidvalidity)
        report = SyncReport()
        for uid in sorted(client.search(["ALL"])):
            fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid)
            if fetched is None:  # expunged meanwhile by someone else
                continue
            try:
                taken = take_message(self.app, fetched[b"BODY[]"], mailbox=self.mailbox,
                                     uidvalidity=uidvalidity, uid=uid)
            except CONNECTION_ERRORS:
                raise
            except Exception:  # the database is down, or a bug: one message must not stop the rest
                log.exception("could not take message UID %s of %s; it stays for the next check",
                              uid, self.mailbox,
                              extra={"channel": "email", "mailbox": self.mailbox, "uid": uid})
                report.failed += 1
                continue
            self._remember(uidvalidity, uid)
            self._move(client, uid, QUARANTINE if taken.disposition == QUARANTINED else PROCESSED)
            if uid <= last_uid:  # taken before, but the move was lost (a crash, a dropped connection)
                report.moved_again += 1
                continue
            report.taken += 1
            report.quarantined += taken.disposition == QUARANTINED
            report.duplicates += taken.duplicate
            report.upload_ids += taken.upload_ids
        return report

    def run(self, stop: threading.Event, on_report: Callable[[SyncReport], None] | None = None) -> None:
        """Until ``stop`` is set: sync, then IDLE until mail arrives or the poll interval passes.

        Any connection failure closes the connection and retries with backoff (1 s doubling to
        60 s); nothing is lost meanwhile, since messages stay in the folder until taken. So does
        a failure of our own side (the database away for a moment, between messages): the
        intake must outlive it, as the workers do.
        """
        backoff = 1.0
        while not stop.is_set():
            try:
                report = self.sync_once()
                backoff = 1.0
                if on_report and (report.taken or report.moved_again or report.failed):
                    on_report(report)
                self._wait_for_mail(stop)
            except CONNECTION_ERRORS as exc:
                log.warning("IMAP %s: %s; reconnecting in %.0f s", self.mailbox, exc, backoff,
                            extra={"channel": "email", "mailbox": self.mailbox,
                                   "error": type(exc).__name__})
            except Exception as exc:
                log.warning("IMAP %s: could not check the folder now; again in %.0f s",
                            self.mailbox, backoff, exc_info=True,
                            extra={"channel": "email", "mailbox": self.mailbox,
                                   "error": type(exc).__name__})
            else:
                continue
            self.close()  # either failure: a fresh connection after the backoff
            stop.wait(backoff)
            backoff = min(backoff * 2, 60.0)
        self.close()

    def _wait_for_mail(self, stop: threading.Event) -> None:
        client = self.client
        deadline = time.monotonic() + self.poll_seconds
        if not client.has_capability("IDLE"):
            stop.wait(self.poll_seconds)
            return
        client.idle()
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                # Short checks so a stop request is seen promptly; EXISTS means new mail.
                if any(r[1] == b"EXISTS" for r in client.idle_check(timeout=1) if len(r) > 1):
                    break
        finally:
            client.idle_done()

    def _move(self, client: IMAPClient, uid: int, folder: str) -> None:
        if client.has_capability("MOVE"):
            client.move([uid], folder)
        else:
            client.copy([uid], folder)
            client.delete_messages([uid])
            client.uid_expunge([uid]) if client.has_capability("UIDPLUS") else client.expunge()

    def _last_uid(self, uidvalidity: int) -> int:
        with self.app.sessions.begin() as session:
            state = session.get(MailboxState, self.mailbox)
            if state is None:
                session.add(MailboxState(mailbox=self.mailbox, uidvalidity=uidvalidity, last_uid=0))
                return 0
            if state.uidvalidity != uidvalidity:  # the folder was rebuilt: its UIDs mean nothing now
                log.warning("UIDVALIDITY of %s changed (%s -> %s); taking every message again "
                            "(duplicates are recognised by Message-ID and content)",
                            self.mailbox, state.uidvalidity, uidvalidity,
                            extra={"channel": "email", "mailbox": self.mailbox})
                state.uidvalidity, state.last_uid = uidvalidity, 0
            return state.last_uid

    def _remember(self, uidvalidity: int, uid: int) -> None:
        with self.app.sessions.begin() as session:
            state = session.get(MailboxState, self.mailbox, with_for_update=True)
            if state.uidvalidity == uidvalidity and uid > state.last_uid:
                state.last_uid = uid
