"""One test's service on the session's private instances: a fresh database, a RabbitMQ virtual
host, its own mailbox address, the `ers` processes it starts, and the count it ends with."""
from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from helpers import wait_until
from mail_helpers import MailServers
from models import OutgoingEmail, Upload, UploadStatus
from tests.faults import ledger
from tests.faults.services import REPO, PrivateServices
from workers.app import App


@dataclass
class Stack:
    """One test's service on the private instances, and the `ers` processes it started."""
    services: PrivateServices
    app: App
    env: dict[str, str]
    mail: MailServers
    logs: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def ers(self, *args: str, name: str) -> subprocess.Popen:
        """An `ers` command as its own process, its output in ``logs/<name>.log``."""
        log = self.logs / f"{name}.log"
        with log.open("w") as handle:
            process = subprocess.Popen([sys.executable, "-m", "intake.cli", *args], cwd=REPO,
                                       env=self.env, stdout=handle, stderr=subprocess.STDOUT)
        process.log = log  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def worker(self, name: str = "worker", threads: int = 2) -> subprocess.Popen:
        """`ers worker`, returned once it consumes (it says so)."""
        process = self.ers("worker", "--threads", str(threads), name=name)
        self.wait_for_output(process, "Worker running")
        return process

    def wait_for_output(self, process: subprocess.Popen, expected: str, timeout: float = 30) -> None:
        wait_until(lambda: expected in self.output(process) or process.poll() is not None,
                   timeout, f"{process.args[3:]} to print {expected!r}")
        assert expected in self.output(process), self.output(process)[-3000:]

    @staticmethod
    def output(process: subprocess.Popen) -> str:
        return process.log.read_text()  # type: ignore[attr-defined]

    def stop(self, *processes: subprocess.Popen) -> None:
        """SIGTERM to all (a worker finishes its message), SIGKILL to any that will not go."""
        running = [p for p in processes if p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def settle(self, uploads: int, timeout: float = 60) -> None:
        """Until ``uploads`` are recorded and checked, every answer is sent (or failed) and the
        relay's queue is empty, so the mailboxes hold all they will; gives up quietly after
        ``timeout``, leaving the ledger to say what is missing."""
        def done() -> bool:
            try:
                with self.app.sessions() as session:
                    recorded = session.scalar(select(func.count()).select_from(Upload))
                    waiting = session.scalar(select(func.count()).select_from(Upload).where(
                        Upload.status == UploadStatus.PROCESSING))
                    unsent = session.scalar(select(func.count()).select_from(OutgoingEmail).where(
                        OutgoingEmail.status.in_(("pending", "sending"))))
            except DBAPIError:  # a connection from before a restart: the pool replaces it
                return False
            return (recorded >= uploads and waiting == 0 and unsent == 0
                    and self.relay_queue_empty())
        try:
            wait_until(done, timeout, "the service to settle")
        except AssertionError:
            pass

    def relay_queue_empty(self) -> bool:
        spool = self.services.dir / "postfix" / "spool"
        return not any(p.is_file() for d in ("maildrop", "incoming", "active", "deferred")
                       for p in (spool / d).rglob("*"))

    def ledger(self, sent: list[ledger.Sent], settle: float = 60) -> ledger.Ledger:
        """Settle, then count, with every answer's copies in its recipients' mailboxes."""
        self.settle(len(sent), settle)
        with self.app.sessions() as session:
            addresses = {a.lower() for e in session.scalars(select(OutgoingEmail))
                         for a in [*e.to_addrs, *e.cc_addrs]}
        return ledger.count(self.app, sent, delivered=mailbox_count(self.mail, addresses))

    def tails(self) -> str:
        """The end of each process's log: where the reason for a failure usually is."""
        return "".join(f"\n--- {p.log.name} (exit {p.poll()}) ---\n{self.output(p)[-2500:]}"  # type: ignore[attr-defined]
                       for p in self.processes)


def mailbox_count(mail: MailServers, addresses: set[str]) -> Counter[tuple[str, str]]:
    """(recipient, Message-ID) -> copies in the recipient's INBOX."""
    found: Counter[tuple[str, str]] = Counter()
    for address in sorted(addresses):
        with mail.imap(address) as client:
            client.select_folder("INBOX", readonly=True)
            uids = client.search(["ALL"])
            fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
            for data in fetched.values():
                header = data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[-1]
                found[(address, header.strip())] += 1
    return found
