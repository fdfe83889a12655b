"""The hostile input corpus through the real intake and worker path (tests/corpus/generate.py).

Each file and email must end with its own clear answer (the words its manifest entry names),
within a time bound and bounded memory, with names that are metadata only and no formula added
to any workbook sent back; and a real `ers worker` process must answer all of it and stay up.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.corpus import generate
from tests.corpus.generate import ITEMS, Item

REPO = Path(__file__).resolve().parents[2]
SECONDS_PER_ITEM = 5.0        # each item, from receive() to its last answer sent
MEMORY_PER_ITEM_MB = 150      # peak resident memory while handling one item, above what it was
MEMORY_PEAK_MB = 450          # the whole process, reader libraries and database included
RUN_TIMEOUT = 240


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """Generated once per session, never committed."""
    folder = tmp_path_factory.mktemp("corpus")
    generate.write(folder)
    return folder


@pytest.fixture(scope="session")
def outcomes(corpus: Path, tmp_path_factory) -> dict[str, dict]:
    """Every item run through receive() and a worker, in a process of its own (tests/corpus/run.py):
    a file that kills its reader kills that process, not the test session."""
    results = tmp_path_factory.mktemp("corpus-results") / "results.json"
    done = subprocess.run([sys.executable, "-m", "tests.corpus.run", str(corpus), str(results)],
                          cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          env={k: v for k, v in os.environ.items() if not k.startswith("ERS_")})
    if done.returncode != 0:
        started = [line for line in done.stderr.splitlines() if line.startswith("START ")]
        culprit = started[-1].removeprefix("START ") if started else "before the first item"
        pytest.fail(f"the process handling the corpus died (exit {done.returncode}) on {culprit}:\n"
                    f"{done.stderr[-3000:]}")
    return {outcome["name"]: outcome for outcome in json.loads(results.read_text())}


def answered_text(outcome: dict) -> str:
    return "\n".join(a["text"] for a in outcome["answers"] if a["kind"] != "receipt")


def clean(text: str, allowed: str = "") -> bool:
    """No control or invisible character (bidirectional overrides, zero-width) but ``allowed``."""
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in allowed
                   for c in text)


@pytest.mark.parametrize("item", ITEMS, ids=[item.name for item in ITEMS])
def test_each_hostile_input_gets_its_own_clear_answer_in_time(item: Item, outcomes):
    outcome = outcomes[item.name]
    assert outcome["error"] is None, outcome["error"]
    assert len(outcome["uploads"]) == item.uploads
    if item.status == "command":
        assert outcome["disposition"] == "command"
    else:
        statuses = {u["status"] for u in outcome["uploads"]}
        assert statuses == {item.status}, [(u["file_name"], u["reason"], u["errors"][:2])
                                           for u in outcome["uploads"]]
    text = answered_text(outcome)
    assert text, "only a receipt: the file was never answered"
    for word in item.words:
        assert word.lower() in text.lower(), f"{word!r} not in the answer:\n{text[:3000]}"
    for word in item.never:
        for answer in outcome["answers"]:
            assert word not in answer["subject"] + answer["text"] + answer["html"], word
    assert outcome["seconds"] < SECONDS_PER_ITEM


@pytest.mark.parametrize("item", ITEMS, ids=[item.name for item in ITEMS])
def test_names_are_metadata_only_and_every_answer_is_sanitised(item: Item, outcomes):
    outcome = outcomes[item.name]
    names = [u["file_name"] for u in outcome["uploads"]]
    if item.names:
        assert names == list(item.names)
    for name in names + outcome["submission_names"]:
        assert clean(name) and "/" not in name and "\\" not in name and name not in (".", "..")
        assert 0 < len(name) <= 201
    assert outcome["stored_ok"], "a file was stored under a name of the sender's, not its hash"
    for answer in outcome["answers"]:
        assert clean(answer["subject"]) and clean(answer["text"], allowed="\n")
        assert clean(answer["html"]) and "../" not in answer["subject"]
        assert answer["formulas_added"] == [], "a formula was written into a workbook sent back"
        assert answer["status"] == "sent"
    if item.stored_names:
        stored = [n for u in outcome["uploads"] for n in u["forenames"]]
        assert set(item.stored_names) <= set(stored)


def test_memory_stays_bounded_while_each_item_is_handled(outcomes):
    peaks = {name: o["peak_mb"] for name, o in outcomes.items()}
    if None in peaks.values():
        pytest.skip("/proc/self/clear_refs is not writable here, so peaks cannot be measured per item")
    grew = {name: round(o["peak_mb"] - o["rss_before_mb"]) for name, o in outcomes.items()}
    assert max(grew.values()) < MEMORY_PER_ITEM_MB, sorted(grew.items(), key=lambda kv: -kv[1])[:5]
    assert max(peaks.values()) < MEMORY_PEAK_MB, sorted(peaks.items(), key=lambda kv: -kv[1])[:5]


def test_the_corpus_is_the_same_bytes_on_every_run(corpus, tmp_path):
    again = generate.write(tmp_path / "again")
    first = json.loads((corpus / "manifest.json").read_text())
    assert [(e["name"], e["sha256"]) for e in again] == [(e["name"], e["sha256"]) for e in first]
    assert len(first) >= 40


@pytest.mark.parametrize("build", ["ctf", "workbook"])
def test_an_external_entity_pointing_at_a_listening_port_is_never_fetched(build):
    """The network XXE items point at port 9; here a port that answers is watched for a knock."""
    from datetime import datetime, timezone

    from config.settings import Limits
    from tests.corpus.builders import STYLES, xlsx
    from workers.check import check_file

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.3)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        if build == "ctf":
            data = generate.xxe(url)()
        else:
            styles = STYLES.replace(b"?>", f'?><!DOCTYPE s [<!ENTITY x SYSTEM "{url}">]>'.encode(), 1)
            data = xlsx(generate.ks1_sheet(), styles=styles.replace(b'val="Calibri"', b'val="&x;"'))
        checked = check_file(data, collections={}, when=datetime.now(timezone.utc), limits=Limits())
        assert "document type declaration" in checked.reason
        with pytest.raises(socket.timeout):
            listener.accept()


# --- a real worker process ---------------------------------------------------------------------

@pytest.mark.services
def test_a_worker_process_answers_the_whole_corpus_and_stays_up(corpus, tmp_path, pg_url, amqp_url):
    """Over RabbitMQ (a virtual host of its own) and PostgreSQL, as in production."""
    from conftest import build_app
    from intake.inbound import take_message
    from intake.receive import receive
    from models import InboundMessage, OutgoingEmail, Upload, UploadStatus
    from tests.bench.stack import peak_rss_mb, private_vhost
    from workers.broker import install, make_broker

    with private_vhost(amqp_url) as url:
        app = build_app(tmp_path / "data", database_url=pg_url, broker_url=url)
        broker = install(make_broker(url))
        env = dict(os.environ, ERS_DATA_DIR=str(app.settings.data_dir), ERS_DATABASE_URL=pg_url,
                   ERS_BROKER_URL=url, ERS_COLLECTIONS=str(app.settings.collections_file))
        worker = subprocess.Popen([sys.executable, "-m", "intake.cli", "worker", "--threads", "2"],
                                  cwd=REPO, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            uploads: dict[str, list[int]] = {}
            commands: dict[str, int] = {}
            for number, item in enumerate(ITEMS, start=1):
                data = (corpus / item.name).read_bytes()
                if item.channel == "email":
                    taken = take_message(app, data, mailbox="corpus@127.0.0.1/INBOX",
                                         uidvalidity=1, uid=number)
                    uploads[item.name] = taken.upload_ids
                    commands[item.name] = taken.inbound_id
                else:
                    uploads[item.name] = receive(app, data, file_name=item.file_name,
                                                 sender=generate.SENDER, channel="cli").upload_ids

            def settled() -> bool:
                with app.sessions() as session:
                    busy = session.scalar(select(func.count()).select_from(Upload).where(
                        Upload.status == UploadStatus.PROCESSING))
                    unsent = session.scalar(select(func.count()).select_from(OutgoingEmail).where(
                        OutgoingEmail.status != "sent"))
                    unanswered = session.scalar(select(func.count()).select_from(InboundMessage)
                                                .where(InboundMessage.disposition == "command",
                                                       InboundMessage.handled_at.is_(None)))
                return busy == 0 and unsent == 0 and unanswered == 0

            deadline = time.monotonic() + 120
            while not settled():
                assert worker.poll() is None, f"the worker died:\n{worker.stdout.read()[-3000:]}"
                assert time.monotonic() < deadline, "the worker did not answer every item in time"
                time.sleep(0.2)
            assert worker.poll() is None
            peak = peak_rss_mb(worker.pid)
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=30)
            install(make_broker(""))
            broker.close()
        assert worker.returncode == 0, output[-3000:]
        assert peak < MEMORY_PEAK_MB, f"the worker's peak memory was {peak:.0f} MB"
        with app.sessions() as session:
            for item in ITEMS:
                rows = [session.get(Upload, i) for i in uploads[item.name]]
                if item.status == "command":
                    inbound = session.get(InboundMessage, commands[item.name])
                    answers = session.scalars(select(OutgoingEmail.text_body).where(
                        OutgoingEmail.kind == "reply",
                        OutgoingEmail.in_reply_to == inbound.message_id)).all()
                else:
                    later = {"successful": {"successful", "overwritten"}}  # by a later success
                    assert {str(u.status) for u in rows} <= later.get(item.status, {item.status}), item.name
                    answers = session.scalars(select(OutgoingEmail.text_body).where(
                        OutgoingEmail.upload_id.in_(uploads[item.name]),
                        OutgoingEmail.kind != "receipt")).all()
                text = "\n".join(answers).lower()
                assert text and all(w.lower() in text for w in item.words), (item.name, text[:500])
        app.engine.dispose()
