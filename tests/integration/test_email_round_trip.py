"""The email channel end to end on a real Dovecot (IMAP) and Postfix (SMTP) delivering into it.

Schools send with SMTP; the service takes mail over IMAP and answers through the SMTP relay with
STARTTLS and a login; each test reads the answers back from the school's own mailbox.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from conftest import ACORN, BEECH, CEDAR, DALE, ELM, TRUST_ADMIN, build_app, contact_of, service_url
from helpers import invalid_ks1, valid_ks1, wait_until
from intake.imap import MailboxIntake
from mail_helpers import MailServers, make_email, message_id_of
from models import InboundMessage, OutgoingEmail, Upload, UploadStatus
from workers.enqueue import enqueue_email
from workers.mailer import TryLater, send_outbox_email
from workers.runner import drain

pytestmark = pytest.mark.services
REPO = Path(__file__).resolve().parents[2]
SERVICES = REPO / "config" / "services"
SCHOOLS = (ACORN, BEECH, CEDAR, DALE, ELM)


@pytest.fixture
def mail() -> MailServers:
    return MailServers(service_url("ERS_TEST_MAIL_HOST"), int(service_url("ERS_TEST_IMAP_PORT")),
                       int(service_url("ERS_TEST_SMTP_PORT")), service_url("ERS_TEST_MAIL_PASSWORD"),
                       service_url("ERS_TEST_MAIL_CA"))


def mail_settings(app, mail: MailServers):
    """The service's own mailbox (new for each test) for intake, and the relay for answers."""
    from config.settings import MailServer
    address = f"results-{uuid.uuid4().hex[:8]}@ers.localhost"
    server = MailServer(host=mail.host, port=mail.smtp_port, tls="starttls", user=address,
                        password=mail.password, ca_file=mail.ca_file)
    return replace(app.settings, mail_from=address, smtp=server, imap_poll_seconds=2,
                   imap=replace(server, port=mail.imap_port))


@pytest.fixture
def mail_app(tmp_path, mail, stub_broker, stub_worker):
    app = build_app(tmp_path / "data")
    app.settings = mail_settings(app, mail)
    mail.clear(TRUST_ADMIN, *(contact_of(d) for d in SCHOOLS))
    yield app
    app.engine.dispose()


def answers_to(mail, user, count, **kw):
    return mail.wait_for(user, count, where=lambda m: m["X-ERS-Kind"] is not None, **kw)


def kinds(messages) -> list[str]:
    return sorted(m["X-ERS-Kind"] for m in messages)


def test_a_school_sends_a_template_gets_its_errors_then_sends_it_corrected_and_gets_success(
        mail_app, mail, stub_broker):
    school, service = contact_of(ACORN), mail_app.settings.mail_from
    intake = MailboxIntake(mail_app)
    first = make_email(school, service, "KS1 results", [("KS1 Acorn.xlsx", invalid_ks1(ACORN))])
    mail.send(first, school, service)
    mail.wait_for(service, 1)
    assert intake.sync_once().taken == 1
    drain(stub_broker)
    got = answers_to(mail, school, 2)
    assert kinds(got) == ["receipt", "result"]
    error = next(m for m in got if m["X-ERS-Kind"] == "result")
    original_id = message_id_of(first)
    assert error["In-Reply-To"] == original_id and error["References"] == original_id
    assert error["Subject"] == "File upload error: KS1 Acorn.xlsx"
    assert "Range must be between 85 to 115" in error.get_body(("plain",)).get_content()
    assert error.get_body(("html",)) is not None
    [workbook] = [p for p in error.iter_attachments()]
    assert workbook.get_filename().endswith(".xlsx")
    # The service's copy was never marked read, and is in Processed.
    [kept] = mail.messages(service, "Processed")
    assert "\\Seen" not in kept["X-Test-Flags"] and mail.messages(service) == []

    mail.send(make_email(school, service, "KS1 corrected", [("KS1 Acorn.xlsx", valid_ks1(ACORN))]),
              school, service)
    mail.wait_for(service, 1)
    intake.sync_once()
    drain(stub_broker)
    got = answers_to(mail, school, 4)
    success = [m for m in got if m["Subject"] == "File uploaded successfully: KS1 Acorn.xlsx"]
    assert len(success) == 1
    body = success[0].get_body(("plain",)).get_content()
    assert "24 pupils were processed" in body and "Reports will be available by" in body
    # The trust's administrator gets a copy of the school's own upload's answers.
    copies = mail.wait_for(TRUST_ADMIN, 2, where=lambda m: m["X-ERS-Kind"] == "result")
    assert {m["Subject"] for m in copies} == {"File upload error: KS1 Acorn.xlsx",
                                              "File uploaded successfully: KS1 Acorn.xlsx"}
    intake.close()


def test_a_strangers_email_is_quarantined_and_gets_no_reply(mail_app, mail, stub_broker):
    stranger, service = f"someone-{uuid.uuid4().hex[:6]}@stranger.example", mail_app.settings.mail_from
    mail.send(make_email(stranger, service, "KS1", [("KS1.xlsx", valid_ks1(ACORN))]), stranger, service)
    mail.wait_for(service, 1)
    intake = MailboxIntake(mail_app)
    report = intake.sync_once()
    drain(stub_broker)
    assert (report.taken, report.quarantined) == (1, 1)
    assert len(mail.messages(service, "Quarantine")) == 1 and mail.messages(service) == []
    with mail_app.sessions() as session:
        assert session.query(OutgoingEmail).count() == 0
        assert session.query(Upload).count() == 0
    assert mail.messages(stranger) == []
    intake.close()


def test_fifty_messages_arriving_at_once_are_all_answered_once(mail_app, mail, stub_broker):
    service = mail_app.settings.mail_from
    sent_ids = []
    for n in range(50):
        school = SCHOOLS[n % 5]
        raw = make_email(contact_of(school), service, f"KS1 {n}",
                         [(f"ks1-{n}.xlsx", valid_ks1(school, change=n))])
        sent_ids.append(message_id_of(raw))
        mail.send(raw, contact_of(school), service)
    intake = MailboxIntake(mail_app)
    stop = threading.Event()
    runner = threading.Thread(target=intake.run, args=(stop,), daemon=True)
    runner.start()
    try:
        for school in SCHOOLS:
            answers_to(mail, contact_of(school), 20, timeout=120)
    finally:
        stop.set()
        runner.join(30)
    drain(stub_broker)
    replies = [m for s in SCHOOLS for m in mail.messages(contact_of(s)) if m["X-ERS-Kind"]]
    assert len(replies) == 100
    assert sorted(m["In-Reply-To"] for m in replies) == sorted(sent_ids * 2)
    assert len({m["Message-ID"] for m in replies}) == 100
    assert len(mail.messages(service, "Processed")) == 50 and mail.messages(service) == []


def test_restarting_the_imap_server_during_intake_loses_nothing(mail_app, mail, stub_broker):
    service = mail_app.settings.mail_from
    intake = MailboxIntake(mail_app)
    stop = threading.Event()
    runner = threading.Thread(target=intake.run, args=(stop,), daemon=True)
    runner.start()
    try:
        for n in range(10):
            mail.send(make_email(contact_of(ACORN), service, f"KS1 {n}",
                                 [(f"a{n}.xlsx", valid_ks1(ACORN, change=n))]), contact_of(ACORN), service)
        subprocess.run(["bash", str(SERVICES / "dovecot.sh"), "restart"], check=True,
                       capture_output=True, timeout=120)
        for n in range(10, 20):
            mail.send(make_email(contact_of(ACORN), service, f"KS1 {n}",
                                 [(f"a{n}.xlsx", valid_ks1(ACORN, change=n))]), contact_of(ACORN), service)
        answers_to(mail, contact_of(ACORN), 40, timeout=120)
    finally:
        stop.set()
        runner.join(30)
    drain(stub_broker)
    with mail_app.sessions() as session:
        assert session.query(InboundMessage).count() == 20
        assert session.query(Upload).count() == 20
        sent = session.scalars(select(OutgoingEmail.attempts).where(
            OutgoingEmail.status == "sent")).all()
    assert len(sent) == 40 and set(sent) == {1}          # the service sent each answer once
    # Postfix may deliver one of them twice when Dovecot restarts under its LMTP delivery
    # (at-least-once, outside the service): each answer's own Message-ID is there exactly once.
    answers = [m["Message-ID"] for m in mail.messages(contact_of(ACORN)) if m["X-ERS-Kind"]]
    assert len(set(answers)) == 40
    assert mail.messages(service) == []


def test_while_the_relay_is_down_answers_wait_and_are_sent_once_when_it_is_back(
        mail_app, mail, stub_broker):
    from intake.receive import receive
    postfix = str(SERVICES / "postfix.sh")
    subprocess.run(["bash", postfix, "stop"], check=True, capture_output=True, timeout=120)
    try:
        receive(mail_app, valid_ks1(BEECH), file_name="b.xlsx", sender=contact_of(BEECH),
                channel="cli")
        drain(stub_broker)  # the worker tried, and left the answers pending
        with mail_app.sessions() as session:
            receipt = session.scalar(select(OutgoingEmail).where(OutgoingEmail.kind == "receipt"))
        assert (receipt.status, receipt.attempts) == ("pending", 1)
        assert "Connection refused" in receipt.last_error
        with pytest.raises(TryLater):
            send_outbox_email(mail_app, receipt.id)
    finally:
        subprocess.run(["bash", postfix, "start"], check=True, capture_output=True, timeout=120)
    assert send_outbox_email(mail_app, receipt.id) is True
    assert send_outbox_email(mail_app, receipt.id) is False  # a restart finds it sent
    enqueue_email(mail_app)  # what a restarted worker does: every pending row, once
    drain(stub_broker)
    got = mail.wait_for(contact_of(BEECH), 2)
    assert kinds(got) == ["receipt", "result"]
    assert next(m for m in got if m["X-ERS-Kind"] == "receipt")["Message-ID"] == receipt.message_id
    time.sleep(2)  # room for a second copy to arrive, were one sent
    assert len(mail.messages(contact_of(BEECH))) == 2


def test_a_worker_killed_mid_validation_still_leads_to_exactly_one_answer(
        tmp_path, mail, pg_url, amqp_url, rabbit_broker):
    app = build_app(tmp_path / "data", database_url=pg_url, broker_url=amqp_url)
    app.settings = mail_settings(app, mail)
    mail.clear(contact_of(DALE), TRUST_ADMIN)
    service, school = app.settings.mail_from, contact_of(DALE)
    env = dict(os.environ, ERS_DATA_DIR=str(app.settings.data_dir), ERS_DATABASE_URL=pg_url,
               ERS_BROKER_URL=amqp_url, ERS_COLLECTIONS=str(app.settings.collections_file),
               ERS_MAIL_FROM=service, ERS_SMTP_HOST=mail.host, ERS_SMTP_PORT=str(mail.smtp_port),
               ERS_SMTP_TLS="starttls", ERS_SMTP_USER=service, ERS_SMTP_PASSWORD=mail.password,
               ERS_SMTP_CA_FILE=mail.ca_file)
    mail.send(make_email(school, service, "KS1", [("dale.xlsx", valid_ks1(DALE))]), school, service)
    mail.wait_for(service, 1)
    intake = MailboxIntake(app)
    [upload_id] = intake.sync_once().upload_ids
    intake.close()

    # Hold the school's row lock so the worker stops inside process_upload, after reading the
    # file and before recording the outcome; then kill it there.
    locker = create_engine(pg_url)
    with locker.connect() as held:
        held.execute(text("SELECT id FROM schools WHERE dfe = :dfe FOR UPDATE"), {"dfe": DALE})

        def worker():
            return subprocess.Popen([sys.executable, "-m", "intake.cli", "worker", "--threads", "2"],
                                    cwd=REPO, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
        first = worker()

        def blocked() -> bool:
            with locker.connect() as probe:
                return probe.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query ILIKE '%schools%FOR UPDATE%'")) > 0
        try:
            # Killed in validation only: a kill while its other thread is handing the receipt to
            # the relay is a different fault (the claim expires after 10 minutes, test_mailer).
            wait_until(lambda: blocked() and _all_sent(app), timeout=60)
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)
        held.rollback()
    with app.sessions() as session:
        assert session.get(Upload, upload_id).status == UploadStatus.PROCESSING
    second = worker()
    try:
        got = mail.wait_for(school, 2, where=lambda m: m["X-ERS-Kind"] in ("receipt", "result"),
                            timeout=120)
        wait_until(lambda: _all_sent(app), timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=30)
    got = [m for m in mail.messages(school) if m["X-ERS-Kind"]]
    assert kinds(got) == ["receipt", "result"]
    with app.sessions() as session:
        assert session.get(Upload, upload_id).status == UploadStatus.SUCCESSFUL
    locker.dispose()
    app.engine.dispose()


def _all_sent(app) -> bool:
    with app.sessions() as session:
        return set(session.scalars(select(OutgoingEmail.status))) == {"sent"}


def test_a_trust_emails_its_schools_files_at_once_and_gets_one_answer_with_a_line_per_school(
        mail_app, mail, stub_broker):
    service = mail_app.settings.mail_from
    mail.send(make_email(TRUST_ADMIN, service, "Our KS1 files", [
        ("acorn.xlsx", valid_ks1(ACORN)), ("beech.xlsx", invalid_ks1(BEECH)),
        ("cedar.xlsx", valid_ks1(CEDAR))]), TRUST_ADMIN, service)
    mail.wait_for(service, 1)
    intake = MailboxIntake(mail_app)
    assert len(intake.sync_once().upload_ids) == 3
    intake.close()
    drain(stub_broker)
    got = answers_to(mail, TRUST_ADMIN, 2)
    assert kinds(got) == ["bulk", "receipt"]
    bulk = next(m for m in got if m["X-ERS-Kind"] == "bulk").get_body(("plain",)).get_content()
    for line in ("Acorn Primary School (8012001): acorn.xlsx", "Beech Primary School (8012002): "
                 "beech.xlsx", "Cedar Infant School (8012003): cedar.xlsx"):
        assert line in bulk
    assert "Upload error" in bulk
    # Each school's own contact hears about its own file only.
    for school, name in ((ACORN, "acorn.xlsx"), (BEECH, "beech.xlsx"), (CEDAR, "cedar.xlsx")):
        [result] = answers_to(mail, contact_of(school), 1)
        assert (result["X-ERS-Kind"], result["To"]) == ("result", contact_of(school))
        assert result["Subject"].endswith(f": {name}")


def test_a_message_taken_before_a_crash_is_only_moved_on_the_next_run(mail_app, mail, stub_broker):
    from intake.inbound import take_message
    service = mail_app.settings.mail_from
    mail.send(make_email(contact_of(ELM), service, "KS1", [("elm.xlsx", valid_ks1(ELM))]),
              contact_of(ELM), service)
    mail.wait_for(service, 1)
    intake = MailboxIntake(mail_app)
    client = intake.connect()
    client.select_folder("INBOX")
    [uid] = client.search(["ALL"])
    raw = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
    take_message(mail_app, raw, mailbox=intake.mailbox, uidvalidity=1, uid=uid)  # then "crash"
    report = intake.sync_once()
    intake.close()
    drain(stub_broker)
    assert (report.taken, report.duplicates) == (1, 1)
    with mail_app.sessions() as session:
        assert session.query(Upload).count() == 1
    assert mail.messages(service) == [] and len(mail.messages(service, "Processed")) == 1
    assert kinds(answers_to(mail, contact_of(ELM), 2)) == ["receipt", "result"]


def test_the_operator_runs_email_intake_lists_and_releases_quarantine_and_reads_the_outbox(
        tmp_path, mail):
    app = build_app(tmp_path / "data")
    app.settings = mail_settings(app, mail)
    service = app.settings.mail_from
    mail.clear(contact_of(DALE))
    env = dict(os.environ, ERS_DATA_DIR=str(app.settings.data_dir),
               ERS_COLLECTIONS=str(app.settings.collections_file), ERS_MAIL_FROM=service,
               ERS_IMAP_HOST=mail.host, ERS_IMAP_PORT=str(mail.imap_port), ERS_IMAP_TLS="starttls",
               ERS_IMAP_USER=service, ERS_IMAP_PASSWORD=mail.password, ERS_IMAP_CA_FILE=mail.ca_file,
               ERS_SMTP_HOST=mail.host, ERS_SMTP_PORT=str(mail.smtp_port), ERS_SMTP_TLS="starttls",
               ERS_SMTP_USER=service, ERS_SMTP_PASSWORD=mail.password, ERS_SMTP_CA_FILE=mail.ca_file,
               ERS_AUTHSERV_ID="mx.ers.localhost")
    env.pop("ERS_DATABASE_URL", None)
    env.pop("ERS_BROKER_URL", None)

    def ers(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "intake.cli", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    # Our server stamped DMARC as failing (the school's domain has no DKIM set up, say).
    failing = {"Authentication-Results": "mx.ers.localhost; dmarc=fail header.from=dale.sch.example"}
    mail.send(make_email(contact_of(DALE), service, "KS1", [("dale.xlsx", valid_ks1(DALE))],
                         headers=failing), contact_of(DALE), service)
    mail.wait_for(service, 1)
    assert "1 message(s) taken: 0 file(s) received, 1 quarantined" in ers("intake", "email", "--once")
    listed = ers("quarantine", "list")
    assert contact_of(DALE) in listed and "dmarc=fail" in listed
    assert mail.messages(contact_of(DALE)) == []
    message_id = listed.split()[0].lstrip("#")
    released = ers("quarantine", "release", message_id, "--by", "ops")
    assert "handled as upload, 1 file(s) received" in released and "Successful" in released
    assert kinds(answers_to(mail, contact_of(DALE), 2)) == ["receipt", "result"]
    outbox = ers("outbox", "list")
    assert outbox.startswith("0 pending, 0 sending, 2 sent, 0 failed")
    assert "File uploaded successfully: dale.xlsx" in outbox
    assert "Nothing in quarantine." in ers("quarantine", "list")
    app.engine.dispose()


def test_a_rebuilt_folder_with_a_new_uidvalidity_is_taken_again_without_second_uploads(
        mail_app, mail, stub_broker):
    from models import MailboxState
    service, folder = mail_app.settings.mail_from, "Submissions"
    raw = make_email(contact_of(ELM), service, "KS1", [("elm.xlsx", valid_ks1(ELM))])
    intake = MailboxIntake(mail_app, folder=folder)
    admin = mail.imap(service)
    admin.create_folder(folder)
    admin.append(folder, raw)
    first = intake.sync_once()
    intake.close()
    with mail_app.sessions() as session:
        before = session.get(MailboxState, intake.mailbox)
        old_validity, old_last = before.uidvalidity, before.last_uid
    # The folder is deleted and made again (a restored backup, a migrated server): UIDs restart.
    admin.delete_folder(folder)
    admin.create_folder(folder)
    admin.append(folder, raw)
    admin.logout()
    second = intake.sync_once()
    intake.close()
    drain(stub_broker)
    with mail_app.sessions() as session:
        after = session.get(MailboxState, intake.mailbox)
        assert session.query(Upload).count() == 1
    assert (first.taken, second.taken, second.duplicates) == (1, 1, 1)
    assert after.uidvalidity != old_validity and (old_last, after.last_uid) == (1, 1)


def test_a_relay_refusing_the_login_fails_the_email_at_once_with_its_answer(
        tmp_path, mail, stub_broker):
    from intake.receive import receive
    # No worker runs here: one would race this test to claim the receipt.
    mail_app = build_app(tmp_path / "data")
    settings = mail_settings(mail_app, mail)
    mail_app.settings = replace(settings, smtp=replace(settings.smtp, password="wrong password"))
    receive(mail_app, valid_ks1(CEDAR), file_name="c.xlsx", sender=contact_of(CEDAR), channel="cli")
    with mail_app.sessions() as session:
        receipt = session.scalar(select(OutgoingEmail.id).where(OutgoingEmail.kind == "receipt"))
    assert send_outbox_email(mail_app, receipt) is False  # 535: retrying cannot help
    with mail_app.sessions() as session:
        row = session.get(OutgoingEmail, receipt)
    assert (row.status, row.attempts) == ("failed", 1) and "535" in row.last_error
    mail_app.engine.dispose()
