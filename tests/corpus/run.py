"""Runs the corpus through the real intake and worker path, in a process of its own.

``python -m tests.corpus.run CORPUS_DIR RESULTS_JSON``: builds the embedded app (SQLite, the
in-process broker with a Dramatiq worker thread, as ``ers`` runs by default), then for each item
calls ``receive()`` (a file) or the email intake (a raw message) and waits until the worker has
validated it and sent every answer. Per item it records the time taken, the process's peak
resident memory while handling it (VmHWM, reset before each item through ``/proc/self/clear_refs``,
so calamine's and lxml's native memory counts too), the uploads' states and stored names, and the
answers. A separate process, because a file that crashes the reader must not take pytest with it:
the last ``START`` line on stderr names the file that did.
"""
from __future__ import annotations

import io
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import dramatiq
from sqlalchemy import func, select

MAILBOX = "corpus@127.0.0.1/INBOX"


def memory_kb() -> dict[str, int]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            name, value = line.split(":", 1)
            found[name] = int(value.split()[0])
    return found


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def formula_cells(data: bytes | None) -> set[tuple[str, str, str]]:
    """(sheet, cell, formula) of every formula in a workbook; empty when it cannot be opened."""
    if not data or not data.startswith(b"PK"):
        return set()
    from openpyxl import load_workbook
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), data_only=False)
    except Exception:  # noqa: BLE001  (a hostile original openpyxl cannot read has no formulas to keep)
        return set()
    return {(sheet.title, cell.coordinate, str(cell.value)) for sheet in book.worksheets
            for row in sheet.iter_rows() for cell in row if cell.data_type == "f"}


def run(corpus: Path, results: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' own helpers
    from conftest import build_app
    from helpers import valid_ks1
    from intake import store
    from intake.inbound import take_message
    from intake.receive import receive
    from models import OutgoingEmail, PupilResult, Submission, Upload
    from workers.broker import install, make_broker
    from workers.runner import drain

    manifest = json.loads((corpus / "manifest.json").read_text())
    with tempfile.TemporaryDirectory(prefix="ers-corpus-") as folder:
        app = build_app(Path(folder) / "data")
        broker = install(make_broker(""))
        worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
        worker.start()
        try:
            from conftest import BEECH, contact_of
            receive(app, valid_ks1(BEECH), file_name="warm-up.xlsx", sender=contact_of(BEECH),
                    channel="cli")  # every reader and writer imported before anything is measured
            drain(broker)
            outcome = []
            for number, item in enumerate(manifest, start=1):
                data = (corpus / item["name"]).read_bytes()
                with app.sessions() as session:
                    last_email = session.scalar(select(func.max(OutgoingEmail.id))) or 0
                print(f"START {item['name']}", file=sys.stderr, flush=True)
                before = memory_kb()["VmRSS"]
                peak_reset = reset_peak()
                started = time.perf_counter()
                error = None
                upload_ids: list[int] = []
                disposition = None
                try:
                    if item["channel"] == "email":
                        taken = take_message(app, data, mailbox=MAILBOX, uidvalidity=1, uid=number)
                        upload_ids, disposition = taken.upload_ids, taken.disposition
                    else:
                        upload_ids = receive(app, data, file_name=item["file_name"],
                                             sender=app_sender(), channel="cli").upload_ids
                    drain(broker)
                except Exception as exc:  # noqa: BLE001  (reported to the test, which fails on it)
                    error = f"{type(exc).__name__}: {exc}"[:2000]
                seconds = time.perf_counter() - started
                peak = memory_kb()["VmHWM"] if peak_reset else None
                outcome.append(describe(app, store, (Upload, Submission, OutgoingEmail, PupilResult),
                                        item, upload_ids, last_email, disposition, error, seconds,
                                        before, peak))
                print(f"DONE {item['name']} {seconds:.2f}s", file=sys.stderr, flush=True)
        finally:
            worker.stop()
            app.engine.dispose()
    results.write_text(json.dumps(outcome, indent=1, ensure_ascii=False))


def app_sender() -> str:
    from tests.corpus.generate import SENDER
    return SENDER


def describe(app, store, models, item, upload_ids, last_email, disposition, error, seconds,
             rss_before_kb, peak_kb) -> dict:
    """What happened to one item, as plain data for the test to judge."""
    Upload, Submission, OutgoingEmail, PupilResult = models
    store_dir = app.settings.store_dir.resolve()
    with app.sessions() as session:
        uploads = [session.get(Upload, i) for i in upload_ids]
        submissions = {u.submission_id for u in uploads}
        stored = []
        for upload in uploads:
            stored.append(_stored_ok(store_dir, upload.stored_path, upload.content_hash))
        for submission_id in submissions:
            submission = session.get(Submission, submission_id)
            stored.append(_stored_ok(store_dir, submission.stored_path, None))
        emails = list(session.scalars(select(OutgoingEmail).where(OutgoingEmail.id > last_email)
                                      .order_by(OutgoingEmail.id)))
        originals = {u.id: (store.read(u.stored_path) if u.stored_path else None) for u in uploads}
        original_formulas: dict[int | None, set[tuple[str, str, str]]] = {}
        answers = []
        for email in emails:
            added = []
            for attachment in email.attachments:
                made = formula_cells(Path(attachment["path"]).read_bytes())
                if email.upload_id not in original_formulas:  # each original is opened once
                    original_formulas[email.upload_id] = formula_cells(originals.get(email.upload_id))
                added += sorted(made - original_formulas[email.upload_id])
            answers.append({"kind": email.kind, "to": email.to_addrs, "cc": email.cc_addrs,
                            "subject": email.subject, "text": email.text_body,
                            "html": email.html_body, "status": email.status,
                            "attachments": [a["name"] for a in email.attachments],
                            "formulas_added": [list(f) for f in added]})
        return {"name": item["name"], "error": error, "seconds": round(seconds, 3),
                "rss_before_mb": round(rss_before_kb / 1024, 1),
                "peak_mb": None if peak_kb is None else round(peak_kb / 1024, 1),
                "disposition": disposition,
                "uploads": [{"id": u.id, "status": str(u.status), "file_name": u.file_name,
                             "reason": u.reason, "errors": u.errors,
                             "forenames": list(session.scalars(select(PupilResult.forename).where(
                                 PupilResult.upload_id == u.id)))} for u in uploads],
                "submission_names": [session.get(Submission, s).file_name for s in submissions],
                "stored_ok": all(stored), "answers": answers}


def _stored_ok(store_dir: Path, stored_path: str | None, content_hash: str | None) -> bool:
    """Stored under the store, named by its hash (never by the name the sender gave)."""
    if stored_path is None:
        return True
    path = Path(stored_path).resolve()
    inside = store_dir in path.parents and path.parent.parent == store_dir
    return inside and (content_hash is None or path.name == content_hash)


if __name__ == "__main__":
    run(Path(sys.argv[1]), Path(sys.argv[2]))
