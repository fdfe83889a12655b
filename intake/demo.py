"""``ers demo``: builds a small world and runs the whole pipeline on the embedded defaults."""
from __future__ import annotations

import os
import shutil
import time
from datetime import date, datetime, timezone
from pathlib import Path

from config.settings import Settings
from intake import demo_world as world
from intake.folder import scan_once
from intake.registry_import import import_contacts, import_gias, import_roster
from reports.templates import ks1_workbook
from workers.app import App, install
from workers.history import format_table, history
from workers.runner import drain, embedded_workers, start_broker

MARKER = ".ers-demo"


def _fresh(directory: Path) -> None:
    if directory.exists():
        if not (directory / MARKER).exists():
            raise SystemExit(f"{directory} exists and is not a demo folder; choose another --dir.")
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("made by ers demo; replaced on the next run\n")


def _drop(drop: Path, sender: str, name: str, data: bytes) -> None:
    path = drop / sender / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    past = time.time() - 10  # as if copied in a while ago, so the folder intake takes it now
    os.utime(path, (past, past))


def _step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def run_demo(directory: Path, reports: Path) -> int:
    directory, reports = directory.resolve(), reports.resolve()
    _fresh(directory)
    _fresh(reports)
    (directory / "collections.toml").write_text(world.all_collections_toml(datetime.now(timezone.utc)))
    app = install(App(Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'ers.db'}",
                               collections_file=directory / "collections.toml",
                               reports_path=reports)))
    from intake.cli import prepare_database
    prepare_database(app)

    _step("Loading the world: a trust of three schools, two standalone schools, contacts, rosters")
    pupils = world.rosters()
    with app.sessions.begin() as session:
        for what, importer, text in (("Schools", import_gias, world.gias_csv()),
                                     ("Contacts", import_contacts, world.contacts_csv()),
                                     ("Pupils", import_roster, world.roster_csv(pupils))):
            print(importer(session, text).summary(what))

    by_school = {dfe: [p for p in pupils if p.dfe == dfe] for dfe, *_ in world.SCHOOLS}
    (cedar, elm) = world.SCHOOLS[2][0], world.SCHOOLS[4][0]
    email = {s[0]: s[3] for s in world.SCHOOLS}
    rows = {dfe: world.results_rows(p, seed=int(dfe)) for dfe, p in by_school.items()}
    broken = [list(r) for r in rows[cedar]]
    broken[2][1] = "A12345"                    # UPN in the wrong shape
    broken[4][11] = 121                        # scaled score out of range
    broken[5][7] = "XYZ"                       # unknown TA code
    broken[6][3] = ""                          # missing surname
    broken.insert(8, [""] * 14)                # a blank row: later row numbers must not shift
    broken[12][13] = 99.5                      # not a whole number
    stranger = world.results_rows(by_school[elm][:3])
    extra = world.results_rows([world.RosterPupil(elm, world.make_upn(elm, 22, 900), "New",
                                                  "Arrival", "F", by_school[elm][0].dob)])
    drop = directory / "drop"
    broker = start_broker(app)
    with embedded_workers(app, broker):
        _exchange(app, broker, drop, email, rows, broken, stranger, extra)
        _close_windows(app, broker, elm)

    _step("Upload history (✔ = the file used for reports)")
    with app.sessions() as session:
        print(format_table(history(session)))
    outbox = sorted(app.settings.outbox_dir.glob("*.eml"))
    _step("Answers and reports")
    print(f"{len(outbox)} emails written to {app.settings.outbox_dir}")
    for path in outbox[:3]:
        print(f"  {path.name}")
    print("  ...")
    print(f"Refused files and reasons: {drop / '_refused'}")
    pdfs = sorted(reports.rglob("*.pdf"))
    print(f"{len(pdfs)} report PDFs and {len(list(reports.rglob('*.zip')))} trust bundle(s) under "
          f"{reports}")
    print(f"Try: ERS_DATA_DIR={directory} ERS_COLLECTIONS={directory / 'collections.toml'} "
          f".venv/bin/ers history --school {world.SCHOOLS[2][0]}")
    return 0


def _exchange(app, broker, drop, email, rows, broken, stranger, extra) -> None:
    """Files arrive in two rounds, then a deletion; each round is drained before the next."""
    (acorn, beech, cedar, dale, elm) = [s[0] for s in world.SCHOOLS]

    _step("First files arrive in the drop folder (drop/<sender email>/<file>)")
    _drop(drop, email[acorn], "Acorn KS1.xlsx", ks1_workbook(rows[acorn]))
    _drop(drop, world.TRUST[2], "Beech KS1 (sent by the trust).xlsx", ks1_workbook(rows[beech]))
    _drop(drop, email[cedar], "Cedar KS1.xlsx", ks1_workbook(broken))
    _drop(drop, email[dale], "Dale KS1 first go.xlsx", ks1_workbook(rows[dale]))
    _drop(drop, email[elm], "Elm Park KS1.xlsx", ks1_workbook(rows[elm] + extra))
    _drop(drop, "someone@unknown.example", "results.xlsx", ks1_workbook(stranger))
    _report(scan_once(app, drop))
    drain(broker)

    _step("Cedar sends a corrected file; Dale and the trust (for Acorn) resubmit with changes")
    changed = [list(r) for r in rows[dale]]
    changed[0][7] = "GDS"
    checked = [list(r) for r in rows[acorn]]
    checked[1][8] = "WTS"
    _drop(drop, world.TRUST[2], "Acorn KS1 (checked by the trust).xlsx", ks1_workbook(checked))
    _drop(drop, email[cedar], "Cedar KS1 corrected.xlsx", ks1_workbook(rows[cedar]))
    _drop(drop, email[dale], "Dale KS1 final.xlsx", ks1_workbook(changed))
    _report(scan_once(app, drop))
    drain(broker)

    _step("Dale deletes its latest upload: the earlier successful file is current again")
    from workers.deletion import delete_upload
    with app.sessions() as session:
        latest = history(session, school=dale)[0]
    current = delete_upload(app, latest.upload, email[dale])
    print(f"Deleted #{latest.upload}; #{current.id if current else '-'} is current.")
    drain(broker)

    _step("The trust sends one zip of its three schools' KS2 CSVs (as downloaded from the portal)")
    ks2_files = {f"{dfe}_KS2_all_subjects.csv": world.ks2_csv(
        [p for p in world.rosters() if p.dfe == dfe]) for dfe in (acorn, beech, cedar)}
    ks2_files[f"{cedar}_KS2_all_subjects.csv"] = ks2_files[f"{cedar}_KS2_all_subjects.csv"].replace(
        b",EXS,EXS\r\n", b",EXS,GDS\r\n", 1)  # science has no GDS: one error for Cedar
    _drop(drop, world.TRUST[2], "KS2 results - all schools.zip", _zip(ks2_files))
    _report(scan_once(app, drop))
    drain(broker)

    _step("Dale sends its KS4 GCSE template and confirms the terms")
    from reports.ks4_templates import ks4_template
    from workers.confirmation import confirm_upload
    import openpyxl, io  # noqa: E401
    book = openpyxl.load_workbook(io.BytesIO(ks4_template("ks4-gcse", dale, "Dale", [
        world.RosterPupil(dale, world.make_upn(dale, 21, n), "Year11", f"Pupil{n}", "F",
                          date(2010, 3, n), 11) for n in range(1, 6)])))
    for row in range(2, 7):  # English Language, Mathematics, Combined Science
        for column, grade in (("L", "5"), ("N", "6")):
            book.worksheets[0][f"{column}{row}"] = grade
    buffer = io.BytesIO()
    book.save(buffer)
    _drop(drop, email[dale], "Dale GCSE results.xlsx", buffer.getvalue())
    report = scan_once(app, drop)
    drain(broker)
    for upload_id in report.received:
        confirm_upload(app, upload_id, email[dale])
        print(f"Confirmed #{upload_id}.")
    drain(broker)

    _step("Emails, as `ers intake email` takes them from the mailbox: a command, a file, a stranger")
    _emails(app, broker, email, rows)


def _emails(app, broker, email, rows) -> None:
    from email.message import EmailMessage

    from intake.inbound import take_message
    (acorn, beech, _, _, elm) = [s[0] for s in world.SCHOOLS]

    def message(n: int, sender: str, subject: str, attachment: tuple[str, bytes] | None) -> bytes:
        built = EmailMessage()
        built["From"], built["To"], built["Subject"] = sender, app.settings.mail_from, subject
        built["Message-ID"] = f"<demo.{n}@demo.example>"
        built.set_content("Sent by the demo.")
        if attachment:
            built.add_attachment(attachment[1], maintype="application", subtype="octet-stream",
                                 filename=attachment[0])
        return built.as_bytes()

    for n, (sender, subject, attachment) in enumerate((
            (email[beech], "TEMPLATE ks1-demo", None),
            (email[elm], "HISTORY", None),
            (email[acorn], "KS1 results", ("Acorn KS1 by email.xlsx", ks1_workbook(rows[acorn]))),
            ("someone@unknown.example", "results", ("r.xlsx", ks1_workbook(rows[acorn]))))):
        taken = take_message(app, message(n, sender, subject, attachment), mailbox="demo")
        print(f"{sender}: {subject!r} -> {taken.disposition}"
              + (f" (upload #{', #'.join(map(str, taken.upload_ids))})" if taken.upload_ids else ""))
    drain(broker)
    print("The stranger got no reply; `ers quarantine list` shows the message and why.")


def _close_windows(app, broker, encrypted_school: str) -> None:
    """Each collection's first window closes: every school's reports, then the trust's bundle."""
    from sqlalchemy import select

    from models import School
    from workers.report_list import report_entries
    from workers.scheduler import close_by_hand

    _step("Window 1 of each collection closes: reports for every school, a bundle for the trust")
    with app.sessions.begin() as session:  # this school keeps its PDFs behind a password
        session.scalar(select(School).where(School.dfe == encrypted_school)).report_password = "elm-2026"
    for key in ("ks1-demo", "ks2-demo", "ks4-demo"):
        print(close_by_hand(app, key, 1, by="demo").collection_key, "window 1 claimed")
        drain(broker)
    with app.sessions() as session:
        for entry in report_entries(session):
            print(entry)
    print("Elm Park's PDFs are encrypted with its report password (elm-2026).")


def _zip(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _report(report) -> None:
    print(f"{len(report.received)} files received and validated, {len(report.refused)} refused")
    for line in report.refused:
        print(f"  refused {line}")
