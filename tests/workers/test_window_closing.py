"""Closing a window: claimed once, a report per school, a bundle per trust, then closed; embargoes,
reminders, withdrawal on deletion and regeneration. SQLite and the in-process broker."""
from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from functools import partial
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from conftest import ACORN, BEECH, CEDAR, DALE, ELM, TRUST_ADMIN, contact_of
from helpers import valid_ks1
from intake.receive import receive
from models import OutgoingEmail, Reminder, Report, School, WindowRow
from workers.closing import claim_window
from workers.deletion import delete_upload
from workers.regenerate import regenerate
from workers.runner import drain
from workers.scheduler import CannotClose, close_by_hand, tick

KEY = "ks1-demo"


def send(app, dfe, change=0, sender=None, key=None):
    return receive(app, valid_ks1(dfe, change=change), file_name=f"{dfe}-{change}.xlsx",
                   sender=sender or contact_of(dfe), channel="cli").upload_ids[0]


def closes(app, key=KEY, number=1):
    return app.collections[key].window(number).closes


def reports(app, kind=None):
    with app.sessions() as session:
        query = select(Report).where(Report.collection_key == KEY).order_by(Report.id)
        if kind:
            query = query.where(Report.kind == kind)
        return list(session.scalars(query))


def emails(app, kind):
    with app.sessions() as session:
        return list(session.scalars(select(OutgoingEmail).where(
            OutgoingEmail.kind == kind, OutgoingEmail.subject.contains("KS1"))
            .order_by(OutgoingEmail.id)))


def window_state(app, key=KEY, number=1):
    with app.sessions() as session:
        return session.scalar(select(WindowRow.state).where(WindowRow.collection_key == key,
                                                            WindowRow.number == number))


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def window_lines(done) -> list[str]:
    """A tick's lines without its audit sealing line (tested in test_audit_sealing.py)."""
    return [line for line in done.lines if "audit event(s) sealed" not in line]


@pytest.fixture
def submitted(app, stub_broker, stub_worker):
    """Acorn and Beech (trust), Dale (standalone) sent KS1 files; Cedar (trust) and Elm did not."""
    ids = {dfe: send(app, dfe) for dfe in (ACORN, BEECH, DALE)}
    drain(stub_broker)
    return ids


def test_the_scheduler_closes_a_due_window_with_a_report_per_school_and_a_bundle_per_trust(
        app, stub_broker, submitted):
    assert tick(app, now=closes(app) - timedelta(minutes=1)).claimed == []  # not due yet
    done = tick(app, now=closes(app) + timedelta(seconds=1))
    drain(stub_broker)
    assert [(c.collection_key, c.schools) for c in done.claimed][0] == (KEY, 3)
    school_reports, trust_reports = reports(app, "school"), reports(app, "trust")
    assert sorted(r.status for r in school_reports) == ["released"] * 3
    assert [r.status for r in trust_reports] == ["released"]
    assert window_state(app) == "closed"
    sent = emails(app, "reports")
    assert sorted(e.to_addrs[0] for e in sent) == sorted(contact_of(d) for d in submitted)
    assert all([a["name"].endswith(("summary.pdf", "pupils.pdf")) for a in e.attachments]
               == [True, True] for e in sent)
    acorn = next(r for r in school_reports if r.upload_ids == [submitted[ACORN]])
    summary = next(Path(f["copy"]) for f in acorn.files if f["name"].endswith("summary.pdf"))
    assert summary.is_relative_to(app.settings.reports_dir)
    text = pdf_text(summary)
    assert "Acorn Primary School" in text and f"Upload #{submitted[ACORN]}" in text
    assert tick(app, now=closes(app) + timedelta(minutes=5)).claimed == []  # closes once


def test_the_trust_bundle_holds_exactly_the_trusts_schools_and_flags_the_one_that_sent_nothing(
        app, stub_broker, submitted):
    close_by_hand(app, KEY, 1, by="ops")
    drain(stub_broker)
    [bundle] = emails(app, "trust-reports")
    assert bundle.to_addrs == [TRUST_ADMIN]
    assert "Cedar Infant School (8012003)" in bundle.text_body
    zipped = next(a for a in bundle.attachments if a["name"].endswith(".zip"))
    names = zipfile.ZipFile(io.BytesIO(Path(zipped["path"]).read_bytes())).namelist()
    assert sorted({n.split(" ")[0] for n in names}) == [ACORN, BEECH]
    assert len(names) == 4  # two PDFs each, and nothing of Dale's (not in the trust)
    trust_pdf = next(a for a in bundle.attachments if a["name"].endswith(".pdf"))
    text = pdf_text(trust_pdf["path"])
    assert "Oak Learning Trust" in text and "Cedar Infant School" in text
    assert "No submission in this window" in text


def test_two_claims_of_one_window_make_one_set_of_jobs(app, stub_broker, submitted):
    collection = app.collections[KEY]
    first = claim_window(app, collection, 1, by="scheduler-a")
    second = claim_window(app, collection, 1, by="scheduler-b")
    assert first is not None and second is None
    assert len(reports(app, "school")) == 3 and len(reports(app, "trust")) == 1
    with pytest.raises(CannotClose, match="already closing"):
        close_by_hand(app, KEY, 1, by="ops")


def test_a_due_window_waits_for_files_still_being_checked_until_the_grace_ends(app, stub_broker):
    send(app, ACORN)  # no worker: it stays Processing
    just_after = closes(app) + timedelta(seconds=5)
    waiting = tick(app, now=just_after)  # not yet checked, so it could be any collection's
    assert waiting.claimed == []
    assert "ks1-demo window 1: waiting for 1 file(s) still being checked" in waiting.lines[0]
    late = closes(app) + timedelta(seconds=app.settings.close_grace_seconds + 1)
    assert KEY in [c.collection_key for c in tick(app, now=late).claimed]


def test_embargoed_reports_are_made_at_the_deadline_and_sent_at_reports_available_by(
        app, stub_broker, submitted):
    app.collections = {**app.collections, KEY: replace(app.collections[KEY], embargo=True)}
    window = app.collections[KEY].window(1)
    tick(app, now=window.closes + timedelta(seconds=1))
    drain(stub_broker)
    assert sorted(r.status for r in reports(app)) == ["held"] * 4
    assert emails(app, "reports") == [] and window_state(app) == "closed"
    assert window_lines(tick(app, now=window.reports_by - timedelta(minutes=1))) == []
    assert window_lines(tick(app, now=window.reports_by)) == ["4 embargoed report(s) released"]
    drain(stub_broker)
    assert len(emails(app, "reports")) == 3 and len(emails(app, "trust-reports")) == 1
    assert [e.status for e in emails(app, "reports")] == ["sent"] * 3


def test_schools_without_an_upload_are_reminded_once_and_their_trust_gets_the_list(
        app, stub_broker, submitted):
    before = closes(app) - timedelta(days=app.settings.reminder_days) + timedelta(hours=1)
    assert window_lines(tick(app, now=before - timedelta(days=1))) == []  # too early
    assert "ks1-demo window 1: 3 reminder(s) sent" in tick(app, now=before).lines
    assert window_lines(tick(app, now=before + timedelta(hours=1))) == []  # once only
    school_reminders = emails(app, "reminder")
    assert sorted(e.to_addrs[0] for e in school_reminders) == [contact_of(CEDAR), contact_of(ELM)]
    [trust] = emails(app, "trust-reminder")
    assert trust.to_addrs == [TRUST_ADMIN]
    assert "Cedar Infant School (8012003)" in trust.text_body
    assert "Acorn" not in trust.text_body and "Elm" not in trust.text_body
    with app.sessions() as session:
        assert session.query(Reminder).filter_by(collection_key=KEY).count() == 3


def test_no_reminders_are_sent_when_reminder_days_is_zero(app, stub_broker, submitted):
    app.settings = replace(app.settings, reminder_days=0)
    assert window_lines(tick(app, now=closes(app) - timedelta(hours=1))) == []
    assert emails(app, "reminder") == [] and emails(app, "trust-reminder") == []


def test_deleting_the_upload_withdraws_its_reports_and_regenerate_uses_the_one_now_current(
        app, stub_broker, submitted):
    later = send(app, DALE, change=3)
    drain(stub_broker)
    close_by_hand(app, KEY, 1, by="ops")
    drain(stub_broker)
    dale = next(r for r in reports(app, "school") if r.upload_ids == [later])
    files = [Path(f["copy"]) for f in dale.files]
    assert all(f.exists() for f in files)
    delete_upload(app, later, contact_of(DALE))
    drain(stub_broker)
    assert [r.status for r in reports(app, "school") if r.id == dale.id] == ["withdrawn"]
    assert not any(f.exists() for f in files)
    again = regenerate(app, KEY, 1, DALE)
    drain(stub_broker)
    assert again.upload_ids == [submitted[DALE]] and again.trust_report_id is None
    new = next(r for r in reports(app, "school") if r.id == again.report_id)
    assert new.status == "released"
    assert f"Upload #{submitted[DALE]}" in pdf_text(new.files[0]["copy"])


def test_a_school_with_a_report_password_gets_encrypted_pdfs(app, stub_broker, submitted):
    with app.sessions.begin() as session:
        session.scalar(select(School).where(School.dfe == DALE)).report_password = "s3cret"
    close_by_hand(app, KEY, 1, by="ops")
    drain(stub_broker)
    [dale] = [e for e in emails(app, "reports") if e.to_addrs == [contact_of(DALE)]]
    assert "protected with your school's report password" in dale.text_body
    reader = PdfReader(dale.attachments[0]["path"])
    assert reader.is_encrypted
    assert reader.decrypt("s3cret")
    assert "Dale Church of England Primary" in reader.pages[0].extract_text()


def test_regenerating_before_the_window_closes_is_refused(app, stub_broker, submitted):
    from workers.regenerate import CannotRegenerate
    with pytest.raises(CannotRegenerate, match="has not closed yet"):
        regenerate(app, KEY, 1, ACORN)


def test_the_report_email_lists_the_headline_figures_and_is_written_as_an_eml(
        app, stub_broker, submitted):
    close_by_hand(app, KEY, 1, by="ops")
    drain(stub_broker)
    [acorn] = [e for e in emails(app, "reports") if e.to_addrs == [contact_of(ACORN)]]
    assert "Reading" in acorn.text_body and "%" in acorn.text_body
    eml = next(app.settings.outbox_dir.glob(f"*{acorn.id}*.eml"), None) or next(
        p for p in app.settings.outbox_dir.glob("*.eml")
        if acorn.message_id.encode() in p.read_bytes())
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert [n.rsplit("-", 1)[-1] for n in names] == ["pupils.pdf", "summary.pdf"]


def test_a_report_that_fails_is_recorded_and_the_window_still_closes(
        app, stub_broker, submitted, monkeypatch):
    import workers.school_reports as school_reports
    real = school_reports.analyse

    def broken(kind, pupils, *rest):
        if any(BEECH in p.upn for p in pupils):  # a UPN carries its school's DfE number
            raise ValueError("a measure could not be worked out")
        return real(kind, pupils, *rest)

    monkeypatch.setattr(school_reports, "analyse", broken)
    close_by_hand(app, KEY, 1, by="ops")
    drain(stub_broker)
    beech = next(r for r in reports(app, "school") if r.upload_ids == [submitted[BEECH]])
    assert beech.status == "failed" and "a measure could not be worked out" in beech.error
    others = [r.status for r in reports(app, "school") if r.id != beech.id]
    assert others == ["released", "released"]  # made in the same job as Beech's
    assert window_state(app) == "closed"
    [bundle] = emails(app, "trust-reports")
    assert "Beech Primary School (8012002): report failed" in bundle.text_body


def test_a_windows_school_reports_are_shared_out_a_few_schools_to_a_job(
        app, stub_broker, submitted, monkeypatch):
    import workers.enqueue as enqueue
    from workers import actors
    monkeypatch.setattr(enqueue, "REPORTS_PER_JOB", 2)
    jobs, send = [], actors.make_school_reports.send
    monkeypatch.setattr(actors.make_school_reports, "send", lambda ids: jobs.append(ids) or send(ids))
    close_by_hand(app, KEY, 1, by="ops")
    drain(stub_broker)
    made = [r.id for r in reports(app, "school")]
    assert len(made) == 3 and jobs == [made[:2], made[2:]]
    assert {r.status for r in reports(app)} == {"released"} and window_state(app) == "closed"


def test_regenerating_a_trust_schools_reports_sends_the_trust_a_new_bundle_after_them(
        app, stub_broker, submitted):
    close_by_hand(app, KEY, 1, by="ops")
    drain(stub_broker)
    again = regenerate(app, KEY, 1, ACORN)
    drain(stub_broker)
    statuses = {r.id: r.status for r in reports(app)}
    assert statuses[again.report_id] == "released"
    assert statuses[again.trust_report_id] == "released"
    assert len(emails(app, "trust-reports")) == 2


def test_a_claim_reads_schools_and_writes_their_reports_a_batch_at_a_time(
        app, stub_broker, submitted, monkeypatch):
    import workers.closing as closing
    monkeypatch.setattr(closing, "window_pupils", partial(closing.window_pupils, chunk=1))
    monkeypatch.setattr(closing, "REPORT_BATCH", 2)  # a full batch mid-way, then the rest
    batches, add = [], closing._add_reports
    monkeypatch.setattr(closing, "_add_reports",
                        lambda session, rows, *where: batches.append(
                            [row["kind"] for row in rows]) or add(session, rows, *where))
    claimed = claim_window(app, app.collections[KEY], 1, by="ops")
    assert batches == [["school"] * 2, ["school"], ["trust"]]
    with app.sessions() as session:
        school_of = dict(session.execute(select(School.dfe, School.id)).all())
    written = reports(app, "school")
    assert len(written) == 3 and {r.school_id: r.upload_ids for r in written} == {
        school_of[dfe]: [upload_id] for dfe, upload_id in submitted.items()}
    assert claimed.schools == 3 and claimed.trust_reports == 1


def test_report_jobs_are_handed_over_a_batch_at_a_time_each_once(
        app, stub_broker, submitted, monkeypatch):
    import workers.enqueue as enqueue
    from workers import actors
    monkeypatch.setattr(enqueue, "REPORTS_BATCH", 2)
    monkeypatch.setattr(enqueue, "REPORTS_PER_JOB", 1)
    jobs, send = [], actors.make_school_reports.send
    monkeypatch.setattr(actors.make_school_reports, "send", lambda ids: jobs.append(ids) or send(ids))
    close_by_hand(app, KEY, 1, by="ops")
    made = [r.id for r in reports(app, "school")]
    assert jobs == [[i] for i in made]
    assert all(r.enqueued_at is not None for r in reports(app, "school"))


def test_report_jobs_never_handed_over_are_sent_by_the_next_tick(app, stub_broker, submitted):
    claim_window(app, app.collections[KEY], 1, by="ops")  # the closer stopped before handing over
    assert all(queue.qsize() == 0 for queue in stub_broker.queues.values())
    done = tick(app, now=closes(app) - timedelta(minutes=1))  # no other window is due yet
    assert "3 report job(s) sent again" in done.lines
    drain(stub_broker)
    assert {r.status for r in reports(app)} == {"released"} and window_state(app) == "closed"
