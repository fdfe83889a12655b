"""Email answer latency on the real Dovecot and Postfix: from a school's message being accepted by
the SMTP server to the service's answers (the receipt, then the result) arriving in its mailbox.

The service runs as in production: an `ers intake email` process on its own IMAP mailbox (IDLE,
default poll interval) and an `ers worker` process relaying answers through Postfix with STARTTLS
and a login. The schools' mailboxes are watched with a NOOP every POLL_SECONDS rather than IDLE:
Dovecot announces new mail to an IDLE client half a second after delivery (its
NOTIFY_DELAY_MSECS; 0.50 s measured here against 0.01-0.03 s for a NOOP), a delay that would be
the watcher's, not the service's. The service's own intake does pay it, on the way in. Each answer is matched to its own message by
In-Reply-To; the stages in between (taken from IMAP, result written, relayed) come from the
database, so a missed target shows where the time goes.
"""
from __future__ import annotations

import os
import smtplib
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy import select

from intake.demo_world import roster_csv
from intake.registry_import import import_contacts, import_gias, import_roster
from models import InboundMessage, OutgoingEmail, Submission, Upload
from tests.bench import world
from tests.bench.figures import Measured, median, percentile
from tests.bench.stack import (Processes, ers_env, fresh_database, open_app, private_vhost,
                               service, stop_after_failure, wait_for_output, write_collections)
from tests import mail_helpers
from tests.mail_helpers import make_email, message_id_of
from workers.app import App

SECTION = "email"
TARGET = 2.0            # seconds: p95 from the school's SMTP server accepting to the result arriving
POLL_SECONDS = 0.02     # how often the schools' mailboxes are checked (the clock's resolution)
PUPILS = 60             # a primary school's Year 2
SCHOOLS = 5
ANSWER_TIMEOUT = 60.0
SETTLE_SECONDS = 2.0    # room for a second copy of an answer to arrive, were one sent
KINDS = ("receipt", "result")
Say = Callable[[str], None]


class MailServers(mail_helpers.MailServers):
    """The tests' view of Dovecot and Postfix, plus the clock's start and the service's settings."""

    @classmethod
    def from_env(cls) -> "MailServers":
        return cls(service("ERS_TEST_MAIL_HOST"), int(service("ERS_TEST_IMAP_PORT")),
                   int(service("ERS_TEST_SMTP_PORT")), service("ERS_TEST_MAIL_PASSWORD"),
                   service("ERS_TEST_MAIL_CA"))

    def send(self, raw: bytes, sender: str, to: str) -> float:
        """Hand the message to the SMTP server as a school's mail client does; returns the time
        (epoch seconds) the server accepted it: the clock's start."""
        with smtplib.SMTP(self.host, self.smtp_port, timeout=30) as smtp:
            smtp.sendmail(sender, [to], raw)
            return time.time()

    def service_env(self, address: str) -> dict[str, str]:
        """`ers` settings for the service's own mailbox (intake) and the relay (answers)."""
        common = dict(HOST=self.host, TLS="starttls", USER=address, PASSWORD=self.password,
                      CA_FILE=self.ca_file)
        env = {f"ERS_SMTP_{k}": v for k, v in common.items()}
        env.update({f"ERS_IMAP_{k}": v for k, v in common.items()})
        env.update(ERS_MAIL_FROM=address, ERS_SMTP_PORT=str(self.smtp_port),
                   ERS_IMAP_PORT=str(self.imap_port))
        return env


class Mailboxes:
    """The schools' inboxes as their mail clients see them: each answer's arrival time, keyed by
    the message it answers and its kind, so duplicates and strays are seen too."""

    def __init__(self, mail: MailServers, users: list[str]) -> None:
        self.clients = {user: mail.imap(user) for user in users}
        self.last_uid = {user: 0 for user in users}
        self.arrived: dict[tuple[str, str], list[float]] = defaultdict(list)
        for client in self.clients.values():
            client.select_folder("INBOX")

    def check(self, user: str) -> None:
        """One NOOP (Dovecot delivers new mail to a session at its next command), then a search
        for UIDs past the last seen. Always the search: an EXISTS that arrives during a SEARCH or
        FETCH is answered to that command, so waiting for the next NOOP to report it can miss
        an answer for good."""
        client = self.clients[user]
        client.noop()
        now = time.time()
        last = self.last_uid[user]
        uids = [uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last]
        if not uids:
            return
        for data in client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO X-ERS-KIND)]"]).values():
            header = next(v for k, v in data.items() if k.startswith(b"BODY["))
            headers = BytesHeaderParser().parsebytes(header)
            self.arrived[(str(headers["In-Reply-To"] or "").strip(),
                          str(headers["X-ERS-Kind"] or ""))].append(now)
        self.last_uid[user] = max(uids)

    def wait(self, wanted: set[tuple[str, str]], users: set[str], timeout: float = ANSWER_TIMEOUT,
             processes: Processes | None = None) -> None:
        deadline = time.monotonic() + timeout
        while not wanted <= self.arrived.keys():
            if time.monotonic() > deadline:
                missing = sorted(wanted - self.arrived.keys())
                raise RuntimeError(f"{len(missing)} answer(s) never arrived, e.g. {missing[:3]}")
            if processes is not None:
                processes.check_alive()
            for user in users:
                self.check(user)
            time.sleep(POLL_SECONDS)

    def settle(self, seconds: float = SETTLE_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for user in self.clients:
                self.check(user)
            time.sleep(POLL_SECONDS)

    def close(self) -> None:
        for client in self.clients.values():
            try:
                client.logout()
            except Exception:  # closing only; the figures are already taken
                pass


# --- the world --------------------------------------------------------------------------------

def schools(count: int, run: str) -> list[world.BenchSchool]:
    """Standalone schools (no trust, so no copies to a shared trust mailbox) with addresses new
    to this run, so their mailboxes hold only this run's answers."""
    found = [s for s in world.schools(count * 2 + 16, "Primary") if not s.trust][:count]
    return [replace(s, email=f"bench-{run}@s{s.dfe}.sch.example") for s in found]


def seed_world(app: App, every: list[world.BenchSchool]) -> None:
    with app.sessions.begin() as session:
        import_gias(session, world.gias_csv(every))
        import_contacts(session, world.contacts_csv(every))
        import_roster(session, roster_csv([p for s in every for p in world.pupils(s, PUPILS, 2)]))


@dataclass
class Message:
    school: world.BenchSchool
    raw: bytes
    message_id: str
    sent_at: float = 0.0


def message(school: world.BenchSchool, to: str, n: int) -> Message:
    """A valid KS1 template, different for each message (so none is a duplicate of another)."""
    data = world.ks1_workbook(world.pupils(school, PUPILS, 2), seed=1000 + n)
    raw = make_email(school.email, to, f"KS1 results {n}", [(f"KS1 {school.dfe} {n}.xlsx", data)])
    return Message(school, raw, message_id_of(raw))


# --- the measurements --------------------------------------------------------------------------

def one_at_a_time(mail: MailServers, box: Mailboxes, messages: list[Message], to: str,
                  processes: Processes, say: Say, label: str) -> None:
    """Each message sent once the previous one's answers have both arrived."""
    step = max(1, len(messages) // 10)
    for n, each in enumerate(messages, start=1):
        each.sent_at = mail.send(each.raw, each.school.email, to)
        box.wait({(each.message_id, kind) for kind in KINDS}, {each.school.email},
                 processes=processes)
        if n % step == 0 or n == len(messages):
            say(f"{SECTION}: {label}: {n}/{len(messages)} answered")


def all_at_once(mail: MailServers, box: Mailboxes, messages: list[Message], to: str,
                processes: Processes, say: Say, label: str) -> None:
    """Every message sent back to back, then every answer awaited."""
    for each in messages:
        each.sent_at = mail.send(each.raw, each.school.email, to)
    box.wait({(m.message_id, kind) for m in messages for kind in KINDS},
             {m.school.email for m in messages}, timeout=ANSWER_TIMEOUT + 2 * len(messages),
             processes=processes)
    say(f"{SECTION}: {label}: {len(messages)}/{len(messages)} answered")


def mailbox_problems(arrived: dict[tuple[str, str], list[float]], sent: list[Message]) -> list[str]:
    """Exactly one receipt and one result in the school's mailbox for every message, and no
    answer to a message this run did not send."""
    ours = {m.message_id for m in sent}
    problems = [f"{mid}: {len(arrived.get((mid, kind), []))} {kind}(s)"
                for mid in sorted(ours) for kind in KINDS if len(arrived.get((mid, kind), [])) != 1]
    return problems + [f"an answer nobody asked for: {key}" for key in arrived if key[0] not in ours]


def database_problems(app: App, sent: list[Message]) -> list[str]:
    """One inbound message and one upload per message sent, and its two emails relayed."""
    with app.sessions() as session:
        inbound = session.scalars(select(InboundMessage.message_id)).all()
        uploads = session.scalars(select(Upload.id)).all()
        emails = session.execute(select(OutgoingEmail.kind, OutgoingEmail.status)).all()
    problems = []
    if sorted(inbound) != sorted(m.message_id for m in sent):
        problems.append(f"{len(inbound)} inbound message rows for {len(sent)} messages sent")
    if len(uploads) != len(sent):
        problems.append(f"{len(uploads)} uploads for {len(sent)} messages")
    if len(emails) != 2 * len(sent) or any(status != "sent" for _, status in emails):
        problems.append(f"outbox: {sorted(emails)[:6]}... for {len(sent)} messages")
    return problems


def check_answers(box: Mailboxes, sent: list[Message], app: App) -> None:
    problems = mailbox_problems(box.arrived, sent) or database_problems(app, sent)
    if problems:
        raise RuntimeError("answers lost or duplicated:\n  " + "\n  ".join(problems[:20]))


def stages(app: App, box: Mailboxes, sent: list[Message]) -> dict[str, dict[str, float]]:
    """Where the result's time goes, p50 and p95 of each leg in seconds: accepted -> taken from
    IMAP by the intake; taken -> result written by the worker; written -> relayed (the SMTP
    server accepted the answer); relayed -> in the school's mailbox."""
    with app.sessions() as session:
        rows = session.execute(
            select(Submission.message_id, InboundMessage.received_at, OutgoingEmail.created_at,
                   OutgoingEmail.sent_at)
            .join(Upload, Upload.submission_id == Submission.id)
            .join(OutgoingEmail, OutgoingEmail.upload_id == Upload.id)
            .join(InboundMessage, InboundMessage.submission_id == Submission.id)
            .where(OutgoingEmail.kind == "result",
                   Submission.message_id.in_([m.message_id for m in sent]))).all()
    by_id = {m.message_id: m for m in sent}
    legs: dict[str, list[float]] = defaultdict(list)
    for message_id, taken, written, relayed in rows:
        accepted = by_id[message_id].sent_at
        arrived = box.arrived[(message_id, "result")][0]
        legs["accepted -> taken by intake"].append(taken.timestamp() - accepted)
        legs["taken -> result written"].append(written.timestamp() - taken.timestamp())
        legs["written -> relayed"].append(relayed.timestamp() - written.timestamp())
        legs["relayed -> in mailbox"].append(arrived - relayed.timestamp())
    return {leg: {"p50": round(median(v), 3), "p95": round(percentile(v, 95), 3)}
            for leg, v in legs.items()}


def figures(box: Mailboxes, sent: list[Message], app: App, label: str,
            judged: bool, detail: dict) -> list[Measured]:
    """p50 and p95 of the receipt and of the result; only the one-at-a-time result p95 is judged
    against the target (a batch measures queueing as well)."""
    measured = []
    legs = stages(app, box, sent)
    for kind in KINDS:
        waits = [box.arrived[(m.message_id, kind)][0] - m.sent_at for m in sent]
        for p, value in (("p50", median(waits)), ("p95", percentile(waits, 95))):
            target = judged and kind == "result" and p == "p95"
            measured.append(Measured(
                SECTION, f"SMTP accepted -> {kind} in mailbox {p}, {label}", value, "s",
                target=f"< {TARGET:g} s" if target else "", met=value < TARGET if target else None,
                detail={**detail, "messages": len(sent), "max_s": round(max(waits), 3),
                        **({"stages": legs} if kind == "result" else {})}))
    return measured


# --- the section -------------------------------------------------------------------------------

def run(messages: int = 50, batch: int = 20, threads: int = 4, say: Say = print) -> list[Measured]:
    """``messages`` sent one at a time, then ``batch`` sent back to back (0: none); one `ers
    worker` with ``threads`` threads and one `ers intake email`."""
    mail = MailServers.from_env()
    run_id = uuid.uuid4().hex[:8]
    address = f"results-bench-{run_id}@ers.localhost"
    senders = schools(SCHOOLS, run_id)
    load = os.getloadavg()[0]
    with fresh_database() as database_url, private_vhost(service("ERS_TEST_AMQP_URL")) as amqp, \
            tempfile.TemporaryDirectory(prefix="ers-bench-email-") as folder:
        root = Path(folder)
        collections = write_collections(root)
        app = open_app(root / "data", database_url, amqp, collections)
        processes = Processes()
        box = None
        try:
            seed_world(app, senders)
            env = ers_env(root / "data", database_url, amqp, collections, **mail.service_env(address))
            worker = processes.start(["worker", "--threads", str(threads)], env, root / "worker.log")
            intake = processes.start(["intake", "email"], env, root / "intake.log")
            wait_for_output(processes, worker, "Worker running")
            wait_for_output(processes, intake, "Watching")
            box = Mailboxes(mail, [s.email for s in senders])
            planned = [message(senders[n % len(senders)], address, n) for n in range(messages + batch + 1)]
            warm, single, burst = planned[0], planned[1:messages + 1], planned[messages + 1:]
            one_at_a_time(mail, box, [warm], address, processes, lambda _: None, "warm-up")
            say(f"{SECTION}: sending {messages} messages one at a time")
            one_at_a_time(mail, box, single, address, processes, say, "one at a time")
            if burst:
                say(f"{SECTION}: sending {batch} messages at once")
                all_at_once(mail, box, burst, address, processes, say, "at once")
            box.settle()
            check_answers(box, planned, app)
            detail = {"watch": f"IMAP NOOP every {POLL_SECONDS * 1e3:.0f} ms",
                      "intake": "ers intake email: IDLE, default poll interval", "schools": len(senders),
                      "worker_threads": threads, "load_before": round(load, 2)}
            measured = figures(box, single, app, f"{messages} messages one at a time", True, detail)
            if burst:
                measured += figures(box, burst, app, f"{batch} messages at once", False, detail)
        except BaseException:
            stop_after_failure(processes, say)
            raise
        finally:
            if box is not None:
                box.close()
            processes.stop()
            app.engine.dispose()
    for m in measured:
        say(f"{SECTION}: {m.name}: {m.value:.3g} {m.unit}"
            + ("" if m.met is None else f" (target {m.target}: {'met' if m.met else 'NOT met'})"))
    return measured
