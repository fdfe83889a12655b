"""Structured logs: one JSON object per line (or plain text), job ids on every line, and nothing
pupil-level in any record, exception text included."""
from __future__ import annotations

import io
import json
import logging
import re
import time

import pytest

from config import logs
from conftest import ACORN, CEDAR, contact_of, pupils_of
from helpers import invalid_ks1, valid_ks1
from mail_helpers import make_email
from workers.job_logs import JobLogging, id_arguments
from workers.runner import drain


@pytest.fixture
def captured():
    """The service's handler writing to a buffer; the root logger is put back afterwards."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), {n: logging.getLogger(n).level for n in logs.QUIET})
    buffer = io.StringIO()

    def configure(**env) -> io.StringIO:
        logs.configure(env, stream=buffer)
        return buffer

    yield configure
    for handler in [h for h in root.handlers if h not in saved[1]]:
        root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def records(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_json_format_writes_one_object_per_line_with_the_extra_fields(captured):
    buffer = captured(ERS_LOG_FORMAT="json")
    logging.getLogger("ers.test").info("upload %s checked", 12,
                                       extra={"upload_id": 12, "channel": "sftp"})
    (entry,) = records(buffer)
    assert entry["message"] == "upload 12 checked" and entry["level"] == "INFO"
    assert (entry["logger"], entry["upload_id"], entry["channel"]) == ("ers.test", 12, "sftp")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])


def test_plain_text_is_the_default_with_fields_as_key_value(captured):
    buffer = captured()
    logging.getLogger("ers.test").warning("partner down", extra={"partner": "wonde"})
    logging.getLogger("ers.test").debug("not shown at the default INFO")
    (line,) = buffer.getvalue().splitlines()
    assert line.endswith("WARNING ers.test: partner down partner=wonde")


def test_configuring_twice_leaves_one_handler(captured):
    captured()
    captured(ERS_LOG_LEVEL="debug")
    assert len([h for h in logging.getLogger().handlers if h.name == logs.HANDLER_NAME]) == 1
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("sqlalchemy").level == logging.WARNING


def test_unknown_settings_fall_back_to_the_defaults_with_a_warning(captured):
    buffer = captured(ERS_LOG_FORMAT="xml", ERS_LOG_LEVEL="loud")
    assert logging.getLogger().level == logging.INFO
    lines = buffer.getvalue().splitlines()
    assert lines[0].endswith("WARNING ers: ERS_LOG_FORMAT is 'xml', not json or text; using the "
                             "default")
    assert "ERS_LOG_LEVEL is 'LOUD'" in lines[1]
    assert logs.problems({"ERS_LOG_FORMAT": "JSON", "ERS_LOG_LEVEL": "warning"}) == []


def test_an_exception_message_that_may_quote_a_file_is_withheld_but_its_frames_are_kept(captured):
    buffer = captured(ERS_LOG_FORMAT="json")

    def read_cell(value: str) -> int:
        return int(value)

    cell = "X123456789012 " + "Smith"  # the traceback shows the call's line, not this one
    try:
        read_cell(cell)
    except ValueError:
        logging.getLogger("ers.test").exception("checking failed", extra={"upload_id": 3})
    try:
        open("/nonexistent/ers-file")
    except OSError:
        logging.getLogger("ers.test").exception("storing failed")
    withheld, kept = records(buffer)
    assert "Smith" not in json.dumps(withheld) and "X123456789012" not in json.dumps(withheld)
    assert withheld["exc_type"] == "ValueError"
    assert "in read_cell" in withheld["exc"] and logs.WITHHELD in withheld["exc"]
    assert "No such file or directory: '/nonexistent/ers-file'" in kept["exc"]


def test_sql_parameters_are_hidden_from_a_logged_database_error(captured):
    from sqlalchemy.exc import IntegrityError
    buffer = captured()
    error = IntegrityError("INSERT INTO pupil_results (upn) VALUES (%(upn)s)",
                           {"upn": "A820200101001"}, Exception("duplicate key"))
    assert "A820200101001" in str(error)
    try:
        raise error
    except IntegrityError:
        logging.getLogger("ers.test").exception("insert failed")
    text = buffer.getvalue()
    assert "duplicate key" in text and "INSERT INTO pupil_results" in text
    assert "A820200101001" not in text


def test_only_arguments_named_as_ids_become_log_fields():
    def actor(upload_id: int, answers_first: list[int] = (), report_ids=(), note: str = ""):
        pass
    assert id_arguments(actor, (5,), {"report_ids": [1, 2], "note": "Smith"}) == {
        "upload_id": 5, "report_ids": [1, 2]}


def pupil_strings(dfe: str) -> list[str]:
    found = []
    for p in pupils_of(dfe):
        found += [p.upn, p.forename, p.surname, p.dob.isoformat(), f"{p.dob:%d/%m/%Y}",
                  repr(p.dob)]
    return found


def leaks(text: str, strings: list[str]) -> list[str]:
    return sorted({s for s in strings if re.search(rf"(?<![\w]){re.escape(s)}(?![\w])", text)})


def test_a_whole_flow_logged_at_debug_holds_no_pupil_data(app, stub_broker, stub_worker,
                                                           captured, monkeypatch):
    """An invalid KS1 file, an emailed one and a job that crashes while storing pupils, all logged
    at DEBUG: no UPN, name or date of birth of those pupils in any line or traceback."""
    from intake.inbound import take_message
    from intake.receive import receive
    from workers import pipeline

    stub_broker.add_middleware(JobLogging())
    for name in ("sqlalchemy", "imapclient"):  # as a stray set-up might: they print rows, bodies
        logging.getLogger(name).setLevel(logging.DEBUG)
    buffer = captured(ERS_LOG_FORMAT="json", ERS_LOG_LEVEL="DEBUG")
    invalid = receive(app, invalid_ks1(CEDAR), file_name="cedar.xlsx", sender=contact_of(CEDAR),
                      channel="cli")
    raw = make_email(contact_of(CEDAR), app.settings.mail_from, "Results",
                     [("cedar results.xlsx", invalid_ks1(CEDAR))])
    take_message(app, raw, mailbox="results@ers.localhost/INBOX", uidvalidity=1, uid=1)
    drain(stub_broker)

    def crash(session, upload_id, pupils):  # a bug that quotes the pupils it was storing
        raise ValueError(f"cannot store {pupils[0].upn} {pupils[0].forename} {pupils[0].surname}")
    monkeypatch.setattr(pipeline, "insert_results", crash)
    receive(app, valid_ks1(ACORN), file_name="acorn.xlsx", sender=contact_of(ACORN), channel="cli")
    deadline = time.monotonic() + 20
    while "Failed to process message" not in buffer.getvalue():
        assert time.monotonic() < deadline, "the crashing job was never logged"
        time.sleep(0.05)
    stub_broker.flush_all()  # its retries would only crash again

    text = buffer.getvalue()
    entries = records(buffer)
    assert leaks(text, pupil_strings(CEDAR) + pupil_strings(ACORN)) == []
    # the log was really written, at DEBUG, with the jobs' ids and the crash's traceback
    assert any(e["level"] == "DEBUG" for e in entries)
    done = [e for e in entries if e["logger"] == "ers.jobs" and e.get("actor") == "validate_upload"]
    assert invalid.upload_ids[0] in {e.get("upload_id") for e in done}
    crashed = next(e for e in entries if e["message"].startswith("Failed to process message"))
    assert crashed["exc_type"] == "ValueError" and "in crash" in crashed["exc"]
    assert crashed["actor"] == "validate_upload" and isinstance(crashed["upload_id"], int)
