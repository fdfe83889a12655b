"""Window close at scale: N primary schools' KS2 window closed on the real stack (PostgreSQL,
RabbitMQ, `ers worker` processes), beside a bare reportlab floor measured in the same run.

The world is seeded straight into the database (each school's KS2 CSV goes through the real
validator, its KS1 teacher assessments are written as the priors a KS1 upload would leave), so
the measured part is only what happens on results day: `ers close-window` claims the window and
fixes the pool, the workers make every school's two PDFs and every trust's bundle, and the relay
sends every email. Wall time runs from starting `ers close-window` to the last email sent.
"""
from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import func, insert, select, text

from intake.registry_import import import_contacts, import_gias
from models import (
    OutgoingEmail, PupilResult, Report, School, Submission, Upload, UploadStatus, WindowRow,
)
from reports.analysis import analyse, national_for, pool_from_json
from tests.bench import world
from tests.bench.figures import Measured
from tests.bench.stack import (
    Processes, ers_env, fresh_database, open_app, private_vhost, run_measured, service,
    wait_for_output, write_collections,
)
from workers.app import App
from workers.closing import window_row
from workers.window_data import pupils_by_school
from workers.validators import ks2

KEY = "ks2-demo"  # the demo collections' KS2 window 1, open now and closed by hand
TARGET_SECONDS_16000 = 300.0
KS1_TA = ["EXS", "EXS", "EXS", "GDS", "WTS", "PK4"]
CHUNK = 500
STALL_SECONDS = 300.0  # no report made and no email sent for this long: fail, do not hang


# --- the world ---------------------------------------------------------------------------------

def seed(app: App, schools: list[world.BenchSchool], per_school: int,
         say: Callable[[str], None]) -> int:
    """Registry, one current KS2 upload per school (validated) and KS1 priors; returns pupils."""
    with app.sessions.begin() as session:
        import_gias(session, world.gias_csv(schools))
        import_contacts(session, world.contacts_csv(schools))
    with app.sessions() as session:
        ids = dict(session.execute(select(School.dfe, School.id)).all())
    now = datetime.now(timezone.utc)
    total = 0
    for start in range(0, len(schools), CHUNK):
        chunk = schools[start:start + CHUNK]
        total += _seed_chunk(app, chunk, ids, per_school, now)
        say(f"close: seeded {min(start + CHUNK, len(schools))} of {len(schools)} schools")
    with app.engine.connect() as connection:  # planner statistics, as autovacuum keeps them live
        connection.execute(text("ANALYZE"))
        connection.commit()
    return total


def _seed_chunk(app: App, chunk: list[world.BenchSchool], ids: dict[str, int], per_school: int,
                now: datetime) -> int:
    files = []
    for school in chunk:
        roll = world.pupils(school, per_school, 6)
        data = world.ks2_full_csv(roll)
        checked = ks2.validate(ks2.read_csv(data, 20_000), file_name=f"{school.dfe}_KS2.csv")
        if checked.errors:
            raise RuntimeError(f"bench file for {school.dfe}: {checked.errors[0].line()}")
        files.append((school, data, checked.pupils))
    with app.sessions.begin() as session:
        rows = []
        for fmt, key in (("ks2-csv", KEY), ("ks1-template", "ks1-earlier")):
            submissions = session.scalars(insert(Submission).returning(Submission.id), [
                {"channel": "bench", "sender": s.email, "received_at": now, "answered_at": now,
                 "file_name": f"{s.dfe}-{fmt}", "content_hash": f"{n:064d}", "size": len(data)}
                for n, (s, data, _) in enumerate(files)]).all()
            rows += [{"submission_id": sub, "file_name": f"{s.dfe}-{fmt}", "content_hash": "0" * 64,
                      "size": len(data), "uploaded_by": s.email, "received_at": now,
                      "status": UploadStatus.SUCCESSFUL, "format": fmt, "school_id": ids[s.dfe],
                      "collection_key": key, "window_number": 1, "stream": "main",
                      "pupil_count": len(pupils)}
                     for sub, (s, data, pupils) in zip(submissions, files)]
        uploads = session.scalars(insert(Upload).returning(Upload.id), rows).all()
        ks2_ids, ks1_ids = uploads[:len(files)], uploads[len(files):]
        results = []
        for ks2_id, ks1_id, (school, _, pupils) in zip(ks2_ids, ks1_ids, files):
            rng = random.Random(school.dfe)
            for p in pupils:
                common = {"row": p.row, "upn": p.upn, "forename": p.forename, "surname": p.surname,
                          "gender": p.gender, "dob": p.dob, "nc_year": p.nc_year}
                results.append({**common, "upload_id": ks2_id, "results": p.results})
                results.append({**common, "upload_id": ks1_id, "results": {
                    f"ta_{s}": rng.choice(KS1_TA) for s in ("reading", "writing", "maths")}})
        session.execute(insert(PupilResult), results)
    return sum(len(pupils) for _, _, pupils in files)


# --- the close ---------------------------------------------------------------------------------

def close(schools: int, per_school: int = 45, workers: int = 2, threads: int = 1,
          data_root: Path = Path("var/bench/close"), say: Callable[[str], None] = print) -> list[Measured]:
    every = world.schools(schools, "Primary")
    label = f"{schools:,} schools x {per_school} pupils"
    with fresh_database() as url, private_vhost(service("ERS_TEST_AMQP_URL")) as amqp:
        data_dir = data_root / f"{schools}-schools"
        _empty(data_dir)
        collections = write_collections(data_dir)
        app = open_app(data_dir, url, amqp, collections)
        pupils = seed(app, every, per_school, say)
        env = ers_env(data_dir, url, amqp, collections)
        processes = Processes()
        for n in range(workers):
            processes.start(["worker", "--threads", str(threads)], env, data_dir / f"worker-{n}.log")
        try:
            for process in processes.running:
                wait_for_output(processes, process, "Worker running")
            started = time.perf_counter()
            claimed, claim_rss = run_measured(["close-window", KEY, "1", "--no-wait"], env)
            claim_seconds = time.perf_counter() - started
            if claimed.returncode != 0:
                raise RuntimeError(f"ers close-window failed:\n{claimed.stdout}")
            say(f"close: claimed in {claim_seconds:.1f} s ({claimed.stdout.strip().splitlines()[-1]})")
            wall = _wait_until_sent(app, processes, say)
        finally:
            processes.stop()
        counts = _counts(app)
        floor_per_school = _floor_sample(app, min(schools, 100))  # seconds, one process
        app.engine.dispose()
    pdfs = counts["pdfs"]
    floor_wall = floor_per_school * schools / workers
    scaled = wall * 16000 / schools
    say(f"close: {label}: {wall:.1f} s, {pdfs / wall:.0f} PDFs/s; floor {floor_wall:.1f} s")
    detail = {"schools": schools, "pupils": pupils, "workers": workers, "threads": threads,
              "claim_seconds": round(claim_seconds, 2), **counts,
              "floor_ms_per_school": round(floor_per_school * 1e3, 2),
              "worker_peak_rss_mb": [round(m, 1) for m in processes.peak_rss_mb],
              "close_window_peak_rss_mb": round(claim_rss, 1),
              "seconds_at_16000_if_linear": round(scaled, 1)}
    return [
        Measured("close", f"wall time, {label}", wall, "s", floor_wall,
                 "16,000 schools < 300 s", scaled < TARGET_SECONDS_16000 if schools < 16000
                 else wall < TARGET_SECONDS_16000, detail),
        Measured("close", f"PDFs per second, {label}", pdfs / wall, "PDFs/s",
                 2 * schools / floor_wall, detail={"pdfs": pdfs}),
        Measured("close", f"peak memory per worker, {label}", max(processes.peak_rss_mb), "MB",
                 target="flat in schools", detail={"all": detail["worker_peak_rss_mb"]}),
        Measured("close", f"peak memory of the claim, {label}", claim_rss, "MB",
                 target="flat in schools"),
    ]


def _empty(folder: Path) -> None:
    import shutil
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def _wait_until_sent(app: App, processes: Processes, say: Callable[[str], None]) -> float:
    """Seconds from the claim's start until the window is closed and every email sent."""
    started = moved = time.perf_counter()
    last_said = 0.0
    progress = (-1, -1)
    while True:
        processes.check_alive()
        with app.sessions() as session:
            state = session.scalar(select(WindowRow.state).where(WindowRow.collection_key == KEY,
                                                                 WindowRow.number == 1))
            made = session.scalar(select(func.count()).select_from(Report).where(
                Report.status.not_in(("pending", "waiting"))))
            total = session.scalar(select(func.count()).select_from(Report))
            unsent = session.scalar(select(func.count()).select_from(OutgoingEmail).where(
                OutgoingEmail.status != "sent"))
        now = time.perf_counter()
        if state == "closed" and unsent == 0:
            return now - started
        if (made, unsent) != progress:
            progress, moved = (made, unsent), now
        elif now - moved > STALL_SECONDS:
            raise RuntimeError(f"nothing moved for {STALL_SECONDS:.0f} s: window {state}, {made} of "
                               f"{total} reports made, {unsent} email(s) to send")
        if now - last_said >= 10:
            say(f"close: {made} of {total} reports made, {unsent} email(s) to send")
            last_said = now
        time.sleep(0.2)


def _counts(app: App) -> dict[str, int]:
    with app.sessions() as session:
        reports = session.scalars(select(Report)).all()
        failed = [r.id for r in reports if r.status == "failed"]
        if failed:
            raise RuntimeError(f"{len(failed)} report(s) failed, e.g. {failed[:5]}")
        files = [f for r in reports for f in r.files]
        return {"reports": len(reports), "pdfs": sum(f["name"].endswith(".pdf") for f in files),
                "bundles": sum(f["name"].endswith(".zip") for f in files),
                "emails": dict(session.execute(select(OutgoingEmail.kind, func.count())
                                               .group_by(OutgoingEmail.kind)).all())}


# --- the floor ---------------------------------------------------------------------------------

def _floor_sample(app: App, count: int) -> float:
    """Seconds per school to draw, with bare reportlab, the same text and bars on the same number
    of pages as the school's two PDFs (the content is prepared first, untimed)."""
    from pypdf import PdfReader
    pages = []
    with app.sessions() as session:
        reports = session.scalars(select(Report).where(Report.school_id.is_not(None))
                                  .order_by(Report.id).limit(count)).all()
        pool = pool_from_json(window_row(session, KEY, 1).pool)
        pupils = pupils_by_school(session, {r.id: r.upload_ids for r in reports}, "ks2")
        for report in reports:
            analysis = analyse("ks2", pupils[report.id], pool, national_for("ks2", 2026))
            counts = [len(PdfReader(f["copy"]).pages) for f in report.files]
            pages.append((analysis, counts))
    started = time.perf_counter()
    for analysis, (summary_pages, pupil_pages) in pages:
        _draw_summary(analysis, summary_pages)
        _draw_pupils(analysis, pupil_pages)
    return (time.perf_counter() - started) / len(pages)


def _font() -> tuple[str, str]:
    """The reports' font (DejaVu Sans, embedded) when on the machine, registered with reportlab
    itself, so the floor pays the same font embedding as the reports."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reports.pdf.page import font_directory
    folder = font_directory()
    try:
        for name, file in (("FloorSans", "DejaVuSans.ttf"), ("FloorSans-Bold", "DejaVuSans-Bold.ttf")):
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, str(folder / file)))
        return "FloorSans", "FloorSans-Bold"
    except Exception:  # noqa: BLE001 - as the reports do, fall back to Helvetica
        return "Helvetica", "Helvetica-Bold"


def _draw_summary(analysis, page_count: int) -> bytes:
    regular, bold = _font()
    canvas = Canvas(io.BytesIO(), pagesize=A4, invariant=1)
    lines = [f"{r.school.label}  {r.school.value}  {r.participating and r.participating.value}  "
             f"{r.national and r.national.value}" for r in analysis.headline]
    lines += [f"{p.label} {p.pupils} {p.mean} {p.low} {p.high}" for p in analysis.progress]
    lines += analysis.method_notes
    bars = [value for _, value, _ in analysis.subject_chart] + [b.value for b in analysis.distribution]
    per_page = -(-len(lines) // page_count)
    for page in range(page_count):
        canvas.setFont(bold, 12)
        canvas.drawString(40, 800, "Summary report")
        canvas.setFont(regular, 8)
        for n, line in enumerate(lines[page * per_page:(page + 1) * per_page]):
            canvas.drawString(40, 780 - n * 11, line[:120])
        for n, value in enumerate(bars):
            canvas.rect(40 + n * 22, 100, 16, (value or 0) * 1.5, fill=1)
        canvas.drawString(40, 30, f"Page {page + 1} of {page_count}")
        canvas.showPage()
    return canvas.getpdfdata()


def _draw_pupils(analysis, page_count: int) -> bytes:
    size = landscape(A4)
    regular, _ = _font()
    canvas = Canvas(io.BytesIO(), pagesize=size, invariant=1)
    rows = [[p.upn, p.name, *p.results, p.prior, *map(str, p.estimates), *map(str, p.progress)]
            for p in analysis.pupils]
    per_page = -(-len(rows) // page_count)
    for page in range(page_count):
        canvas.setFont(regular, 7)
        for n, row in enumerate(rows[page * per_page:(page + 1) * per_page]):
            for k, cell in enumerate(row):
                canvas.drawString(30 + k * 48, size[1] - 60 - n * 12, str(cell)[:14])
        canvas.drawString(30, 20, f"Page {page + 1} of {page_count}")
        canvas.showPage()
    return canvas.getpdfdata()


def run(schools: list[int], per_school: int = 45, workers: int = 2, threads: int = 1,
        say: Callable[[str], None] = print) -> list[Measured]:
    measured = []
    for count in schools:
        measured += close(count, per_school, workers, threads, say=say)
    return measured
