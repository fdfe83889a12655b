"""A job that fails on every attempt is kept for an operator, its sender told, and it can be re-run."""
from __future__ import annotations

from sqlalchemy import select

from conftest import ACORN, contact_of
from helpers import valid_ks1
from intake.receive import receive
from models import OutgoingEmail, Upload, UploadStatus
from workers import actors, failures, pipeline
from workers.runner import drain


def sent_kinds(app) -> list[str]:
    with app.sessions() as session:
        return list(session.scalars(select(OutgoingEmail.kind).where(
            OutgoingEmail.status == "sent").order_by(OutgoingEmail.id)))


def test_a_file_whose_checking_fails_every_time_is_listed_its_sender_told_and_a_rerun_checks_it(
        app, stub_broker, stub_worker, monkeypatch):
    monkeypatch.setitem(actors.validate_upload.options, "max_retries", 1)
    monkeypatch.setitem(actors.validate_upload.options, "min_backoff", 10)
    real = pipeline.process_upload

    def broken(app, upload_id):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(pipeline, "process_upload", broken)
    upload_id = receive(app, valid_ks1(ACORN), file_name="a.xlsx", sender=contact_of(ACORN),
                        channel="cli").upload_ids[0]
    drain(stub_broker)

    [job] = failures.listed(app)
    assert (job.actor, job.args[0], job.attempts) == ("validate_upload", upload_id, 2)
    assert job.error == "RuntimeError: disk on fire"
    assert sent_kinds(app) == ["receipt", "looked-at"]
    with app.sessions() as session:
        assert session.get(Upload, upload_id).status == UploadStatus.PROCESSING
        told = session.scalar(select(OutgoingEmail).where(OutgoingEmail.kind == "looked-at"))
    assert told.to_addrs == [contact_of(ACORN)] and "do not need to send the file again" in told.text_body

    monkeypatch.setattr(pipeline, "process_upload", real)  # the fault is fixed
    assert [j.id for j in failures.retry(app, None, by="ops@ers.example")] == [job.id]
    drain(stub_broker)
    with app.sessions() as session:
        assert session.get(Upload, upload_id).status == UploadStatus.SUCCESSFUL
    assert sent_kinds(app) == ["receipt", "looked-at", "result"]  # the receipt is not sent twice
    assert failures.listed(app) == []
    [rerun] = failures.listed(app, include_retried=True)
    assert rerun.retried_by == "ops@ers.example"
    assert failures.retry(app, None, by="ops@ers.example") == []  # nothing left to re-run


def test_a_file_that_fails_again_after_a_rerun_is_listed_again_and_its_sender_told_once(
        app, stub_broker, stub_worker, monkeypatch):
    monkeypatch.setitem(actors.validate_upload.options, "max_retries", 0)
    monkeypatch.setitem(actors.record_failure.options, "max_retries", 0)  # fail, never spin

    def broken(app, upload_id):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(pipeline, "process_upload", broken)
    receive(app, valid_ks1(ACORN), file_name="a.xlsx", sender=contact_of(ACORN), channel="cli")
    drain(stub_broker)
    failures.retry(app, None, by="ops@ers.example")  # but the fault is still there
    drain(stub_broker)

    assert [job.attempts for job in failures.listed(app)] == [1]  # the second failure, waiting
    assert len(failures.listed(app, include_retried=True)) == 2
    assert sent_kinds(app) == ["receipt", "looked-at"]


def test_the_error_kept_is_the_exceptions_line_without_sql_parameters_that_may_name_pupils():
    traceback = ("Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n"
                 "    insert(pupil, 'Ada Lovelace')\n"
                 "sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key "
                 "[SQL: INSERT INTO pupil_results ...] [parameters: {'forename': 'Ada'}]\n")
    assert failures.error_of({"options": {"traceback": traceback}}) == (
        "sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key")
    assert failures.error_of({"options": {}}) == "no traceback recorded"


def test_an_operator_lists_and_reruns_failures_from_the_command_line(app, stub_broker, capsys,
                                                                     monkeypatch):
    from intake.cli import main
    monkeypatch.setenv("ERS_DATA_DIR", str(app.settings.data_dir))
    monkeypatch.setenv("ERS_DATABASE_URL", app.settings.database_url)
    failures.record(app, {"actor_name": "make_trust_bundle", "args": [7], "message_id": "m1",
                          "options": {"traceback": "ValueError: no such trust\n"}}, attempts=6)
    assert main(["failures", "list"]) == 0
    out = capsys.readouterr().out
    assert "make_trust_bundle(7)  after 6 attempt(s)" in out and "error: ValueError: no such trust" in out
    assert main(["failures", "retry", "--by", "ops"]) == 0
    assert "1 failed job(s) sent again" in capsys.readouterr().out
    assert main(["failures", "list"]) == 0
    assert "No failed jobs waiting" in capsys.readouterr().out
