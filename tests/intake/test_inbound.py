"""One email taken from the mailbox: routed to uploads, a command, or quarantine, each exactly once."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import ACORN, BEECH, CEDAR, TRUST_ADMIN, contact_of
from helpers import invalid_ks1, roster_of, valid_ks1, valid_ks2, valid_ks4
from intake.inbound import CannotRelease, release, take_message
from mail_helpers import make_email, redelivered
from models import InboundMessage, OutgoingEmail, Submission, Upload, UploadStatus
from workers.runner import drain

SERVICE = "results@ers.localhost"
MAILBOX = "results@127.0.0.1:143/INBOX"


def take(app, raw, uid=1):
    return take_message(app, raw, mailbox=MAILBOX, uidvalidity=7, uid=uid)


def outbox(app, **where) -> list[OutgoingEmail]:
    with app.sessions() as session:
        return list(session.scalars(select(OutgoingEmail).filter_by(**where).order_by(OutgoingEmail.id)))


def test_a_schools_attachment_is_uploaded_and_every_answer_threads_to_its_email(
        app, stub_broker, stub_worker):
    raw = make_email(contact_of(ACORN), SERVICE, "KS1", [("KS1.xlsx", invalid_ks1(ACORN))],
                     message_id="<ks1.1@acorn.sch.example>")
    taken = take(app, raw)
    drain(stub_broker)
    assert taken.disposition == "upload" and len(taken.upload_ids) == 1
    with app.sessions() as session:
        upload = session.get(Upload, taken.upload_ids[0])
        assert upload.status == UploadStatus.ERROR and upload.uploaded_by == contact_of(ACORN)
        assert upload.submission.channel == "email"
        assert upload.submission.message_id == "<ks1.1@acorn.sch.example>"
    answers = outbox(app, upload_id=taken.upload_ids[0])
    assert [e.kind for e in answers] == ["receipt", "result"]
    assert {e.in_reply_to for e in answers} == {"<ks1.1@acorn.sch.example>"}
    assert answers[1].to_addrs == [contact_of(ACORN)] and TRUST_ADMIN in answers[1].cc_addrs
    assert answers[1].attachments and "Range must be between" in answers[1].text_body


def test_the_same_email_delivered_again_makes_no_second_upload_and_no_second_answer(
        app, stub_broker, stub_worker):
    raw = make_email(contact_of(ACORN), SERVICE, "KS1", [("KS1.xlsx", valid_ks1(ACORN))])
    first = take(app, raw, uid=1)
    again = take(app, redelivered(raw, "backup-mx.example"), uid=2)
    drain(stub_broker)
    assert again.duplicate and again.upload_ids == first.upload_ids
    with app.sessions() as session:
        assert session.query(Upload).count() == 1
        assert session.query(InboundMessage).count() == 1
    assert len(outbox(app, kind="result")) == 1


def test_a_stranger_is_quarantined_with_no_reply_and_nothing_uploaded(app, stub_broker, stub_worker):
    raw = make_email("someone@stranger.example", SERVICE, "KS1", [("KS1.xlsx", valid_ks1(ACORN))])
    taken = take(app, raw)
    drain(stub_broker)
    assert taken.disposition == "quarantined" and taken.upload_ids == []
    with app.sessions() as session:
        row = session.get(InboundMessage, taken.inbound_id)
        assert "not a registered contact" in row.reason and row.stored_path
        assert session.query(Upload).count() == 0
    assert outbox(app) == []
    with pytest.raises(CannotRelease, match="not a registered contact"):
        release(app, taken.inbound_id, by="operator")


def test_a_contact_failing_dmarc_is_quarantined_and_an_operator_can_release_the_email(
        tmp_path, stub_broker, stub_worker):
    from conftest import build_app
    app = build_app(tmp_path / "dmarc")
    app.settings = replace(app.settings, authserv_id="mx.ers.localhost")
    failing = {"Authentication-Results": "mx.ers.localhost; dmarc=fail header.from=acorn.sch.example"}
    raw = make_email(contact_of(ACORN), SERVICE, "KS1", [("KS1.xlsx", valid_ks1(ACORN))],
                     headers=failing)
    taken = take(app, raw)
    assert taken.disposition == "quarantined"
    assert outbox(app) == []
    released = release(app, taken.inbound_id, by="ops@ers")
    drain(stub_broker)
    assert released.disposition == "upload" and len(released.upload_ids) == 1
    assert [e.kind for e in outbox(app)] == ["receipt", "result"]
    passing = {"Authentication-Results": "mx.ers.localhost; dmarc=pass header.from=beech.sch.example"}
    ok = take(app, make_email(contact_of(BEECH), SERVICE, "KS1", [("B.xlsx", valid_ks1(BEECH))],
                              headers=passing), uid=2)
    assert ok.disposition == "upload"
    app.engine.dispose()


def test_an_email_with_nothing_usable_attached_is_told_what_to_attach(app, stub_broker, stub_worker):
    raw = make_email(contact_of(ACORN), SERVICE, "Our results", [("logo.png", b"\x89PNG")],
                     message_id="<empty@acorn.sch.example>")
    take(app, raw)
    drain(stub_broker)
    [reply] = outbox(app)
    assert reply.kind == "reply" and reply.to_addrs == [contact_of(ACORN)]
    assert reply.subject == "Re: Our results" and reply.in_reply_to == "<empty@acorn.sch.example>"
    assert "no file we could use" in reply.text_body and ".xlsx" in reply.text_body
    assert "<li>" in reply.html_body


def test_an_out_of_office_reply_gets_no_answer(app, stub_broker, stub_worker):
    raw = make_email(contact_of(ACORN), SERVICE, "Automatic reply: Received",
                     headers={"Auto-Submitted": "auto-replied"})
    assert take(app, raw).disposition == "ignored"
    drain(stub_broker)
    assert outbox(app) == []


def test_help_lists_the_commands(app, stub_broker, stub_worker):
    take(app, make_email(contact_of(ACORN), SERVICE, "HELP"))
    drain(stub_broker)
    [reply] = outbox(app)
    for usage in ("TEMPLATE <collection>", "HISTORY", "CONFIRM <upload>", "DELETE <upload>"):
        assert usage in reply.text_body


def test_template_sends_the_schools_prefilled_template(app, stub_broker, stub_worker):
    from workers.validators.workbook import first_sheet_rows
    take(app, make_email(contact_of(ACORN), SERVICE, "TEMPLATE ks1-demo"))
    drain(stub_broker)
    [reply] = outbox(app)
    [attachment] = reply.attachments
    assert attachment["name"] == f"{ACORN}_ks1-template_ks1-demo.xlsx"
    cells = {str(c) for row in first_sheet_rows(Path(attachment["path"]).read_bytes(), 1000)
             for c in row}
    year_2 = [p.upn for p in roster_of(ACORN) if p.nc_year == 2]
    assert year_2 and cells >= set(year_2)
    assert "pupils" in reply.text_body and f"{len(year_2)} pupils" in reply.text_body


def test_a_trust_administrator_gets_a_template_for_each_of_the_trusts_schools(
        app, stub_broker, stub_worker):
    take(app, make_email(TRUST_ADMIN, SERVICE, "TEMPLATE ks4-demo"))
    drain(stub_broker)
    [reply] = outbox(app)
    names = [a["name"] for a in reply.attachments]
    assert len(names) == 6  # three schools, GCSE and non-GCSE each
    assert f"{CEDAR}_ks4-non-gcse_ks4-demo.xlsx" in names


def test_template_for_a_school_of_someone_else_or_an_unknown_collection_is_refused(
        app, stub_broker, stub_worker):
    take(app, make_email(contact_of(ACORN), SERVICE, f"TEMPLATE ks1-demo {BEECH}"), uid=1)
    take(app, make_email(contact_of(ACORN), SERVICE, "TEMPLATE ks9"), uid=2)
    take(app, make_email(contact_of(ACORN), SERVICE, "TEMPLATE ks2-demo"), uid=3)
    drain(stub_broker)
    bodies = [e.text_body for e in outbox(app)]  # two workers: in whichever order they finished
    for answer in (f"not a registered contact of school {BEECH}", "there is no collection 'ks9'",
                   "There is no template for KS2 results: the KS2 file comes from the DfE portal"):
        assert sum(answer in body for body in bodies) == 1, answer
    assert len(bodies) == 3 and all(not e.attachments for e in outbox(app))


def test_history_shows_the_senders_uploads_as_the_seeds_do(app, stub_broker, stub_worker):
    take(app, make_email(contact_of(ACORN), SERVICE, "KS1", [("KS1.xlsx", valid_ks1(ACORN))]), uid=1)
    drain(stub_broker)
    take(app, make_email(contact_of(ACORN), SERVICE, "HISTORY ks1-demo"), uid=2)
    drain(stub_broker)
    reply = outbox(app, kind="reply")[0]
    assert "KS1.xlsx" in reply.text_body and "Successful" in reply.text_body and "✔" in reply.text_body
    assert "<pre>" in reply.html_body


def test_confirm_by_email_makes_the_awaiting_upload_current_and_answers_in_the_thread(
        app, stub_broker, stub_worker):
    sent = take(app, make_email(contact_of(ACORN), SERVICE, "KS4",
                                [("gcse.xlsx", valid_ks4(ACORN, "ks4-gcse"))]), uid=1)
    drain(stub_broker)
    upload_id = sent.upload_ids[0]
    take(app, make_email(TRUST_ADMIN, SERVICE, f"CONFIRM {upload_id}"), uid=2)
    confirm = make_email(contact_of(ACORN), SERVICE, f"Re: CONFIRM {upload_id}",
                         message_id="<confirm@acorn.sch.example>")
    take(app, confirm, uid=3)
    drain(stub_broker)
    with app.sessions() as session:
        assert session.get(Upload, upload_id).status == UploadStatus.SUCCESSFUL
    refused = outbox(app, kind="reply")[0]
    assert refused.to_addrs == [TRUST_ADMIN] and "Only the person who uploaded" in refused.text_body
    [confirmed] = outbox(app, kind="confirmed")
    assert confirmed.in_reply_to == "<confirm@acorn.sch.example>"


def test_delete_by_email_is_for_the_uploader_only_and_the_previous_file_is_used_again(
        app, stub_broker, stub_worker):
    first = take(app, make_email(contact_of(ACORN), SERVICE, "KS1", [("a.xlsx", valid_ks1(ACORN))]), 1)
    drain(stub_broker)
    second = take(app, make_email(contact_of(ACORN), SERVICE, "KS1",
                                  [("b.xlsx", valid_ks1(ACORN, change=1))]), 2)
    drain(stub_broker)
    take(app, make_email(TRUST_ADMIN, SERVICE, f"DELETE {second.upload_ids[0]}"), 3)
    take(app, make_email(contact_of(ACORN), SERVICE, "DELETE"), 4)
    take(app, make_email(contact_of(ACORN), SERVICE, f"DELETE {second.upload_ids[0]}"), 5)
    drain(stub_broker)
    with app.sessions() as session:
        assert session.get(Upload, second.upload_ids[0]).status == UploadStatus.DELETED
        assert session.get(Upload, first.upload_ids[0]).status == UploadStatus.SUCCESSFUL
    replies = outbox(app, kind="reply")
    assert "Only the person who uploaded" in replies[0].text_body
    assert "please give the upload's number" in replies[1].text_body
    [deleted] = outbox(app, kind="deleted")
    assert "is now the file used" in deleted.text_body


def test_a_command_answered_once_is_not_answered_again(app, stub_broker, stub_worker):
    from workers.email_commands import answer_message
    taken = take(app, make_email(contact_of(ACORN), SERVICE, "HELP"))
    drain(stub_broker)
    assert answer_message(app, taken.inbound_id) == []
    take(app, redelivered(make_email(contact_of(ACORN), SERVICE, "HELP"), "x"), uid=2)
    drain(stub_broker)
    assert len(outbox(app)) == 2  # a new HELP message (new Message-ID) is a new question


def test_a_trust_emails_several_schools_files_and_gets_one_answer_with_a_line_per_school(
        app, stub_broker, stub_worker):
    from test_bulk_upload import zip_of
    raw = make_email(TRUST_ADMIN, SERVICE, "Our schools", [
        (f"{ACORN}_KS2.csv", valid_ks2(ACORN)), ("Beech.xlsx", valid_ks1(BEECH)),
        ("more.zip", zip_of({"Cedar.xlsx": invalid_ks1(CEDAR)}))],
        message_id="<bulk@oaktrust.example>")
    taken = take(app, raw)
    drain(stub_broker)
    assert len(taken.upload_ids) == 3
    with app.sessions() as session:
        assert session.query(Submission).count() == 1
    to_admin = [e for e in outbox(app) if TRUST_ADMIN in e.to_addrs]
    assert [e.kind for e in to_admin] == ["receipt", "bulk"]
    assert all(e.in_reply_to == "<bulk@oaktrust.example>" for e in to_admin)
    bulk = to_admin[1].text_body
    assert "Acorn Primary School (8012001)" in bulk and "Beech Primary School" in bulk
    assert "Cedar Infant School (8012003)" in bulk and "Upload error" in bulk
    school_results = outbox(app, kind="result")
    assert sorted(e.to_addrs[0] for e in school_results) == sorted(
        contact_of(d) for d in (ACORN, BEECH, CEDAR))


def test_our_own_answer_forwarded_back_by_a_schools_mailbox_is_not_taken_or_answered(
        app, stub_broker, stub_worker):
    from workers.mailer import build_message
    take(app, make_email(contact_of(ACORN), SERVICE, "KS1", [("KS1.xlsx", invalid_ks1(ACORN))]))
    drain(stub_broker)
    error_answer = outbox(app, kind="result")[0]
    bounced = build_message(app.settings, error_answer)  # carries the annotated workbook
    del bounced["From"]
    bounced["From"] = contact_of(ACORN)
    assert take(app, bounced.as_bytes(), uid=2).disposition == "ignored"
    drain(stub_broker)
    with app.sessions() as session:
        assert session.query(Upload).count() == 1
    assert len(outbox(app)) == 2
