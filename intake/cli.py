"""``ers``: the operator's command line. Each command is a thin call into the domain modules."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from config.settings import Settings, help_text


def _app(args: argparse.Namespace, prepare: bool = True):
    from workers.app import App, install

    app = install(App(Settings.from_env()))
    if prepare:
        prepare_database(app)
    return app


@contextmanager
def _working_app(args: argparse.Namespace):
    """The app with its broker; on the in-process broker, worker threads here finish the work."""
    from workers.runner import embedded_workers, start_broker

    app = _app(args)
    with embedded_workers(app, start_broker(app)):
        yield app


def _stop_on_signals() -> threading.Event:
    """Set on Ctrl-C or SIGTERM, so long-running commands finish their current step and exit."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def prepare_database(app) -> None:
    """Migrate the schema and load the collections TOML; cheap and idempotent, so every command does it."""
    from models.collections import sync_collections
    from models.db import migrate

    app.settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(app.engine)
    with app.sessions.begin() as session:
        sync_collections(session, app.collections)


def cmd_init(args) -> int:
    app = _app(args)
    print(f"Database ready: {app.settings.database_url}")
    print(f"Collections: {', '.join(sorted(app.collections)) or 'none'} "
          f"(from {app.settings.collections_file})")
    return 0


def _import(args, what: str, importer) -> int:
    app = _app(args)
    text = Path(args.file).read_text(encoding="utf-8-sig")
    with app.sessions.begin() as session:
        report = importer(session, text)
    print(report.summary(what))
    return 1 if report.problems and not (report.added or report.updated) else 0


def cmd_registry_import(args) -> int:
    from intake.registry_import import import_gias
    return _import(args, "Schools", import_gias)


def cmd_contacts_import(args) -> int:
    from intake.registry_import import import_contacts
    return _import(args, "Contacts", import_contacts)


def cmd_roster_import(args) -> int:
    from intake.registry_import import import_roster
    return _import(args, "Pupils", import_roster)


def cmd_partners_import(args) -> int:
    from intake.registry_import import import_partners
    return _import(args, "Partners", import_partners)


def cmd_validate(args) -> int:
    """Dry run: needs no database; exit 0 valid, 1 invalid, 2 unreadable or unknown."""
    from config.collections import load_collections
    from workers.check import Checked, check_file

    settings = Settings.from_env()
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        data = None
        checked = Checked(None, None, None, f"The file could not be read: {exc.strerror}.")
    if data is not None and len(data) > settings.max_file_bytes:
        checked = Checked(None, None, None, f"The file is larger than {settings.max_file_bytes:,} "
                          "bytes; please send only the results template.")
    elif data is not None:
        checked = check_file(data, collections=load_collections(settings.collections_file),
                             when=datetime.now(timezone.utc), limits=settings.limits,
                             collection_key=args.collection, file_name=path.name)
    _print_validation(args, checked.as_json(), path)
    if not checked.readable:
        return 2
    return 0 if checked.result.valid else 1


def _print_validation(args, result: dict, path: Path) -> None:
    from workers.validators.findings import Finding

    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    print(f"{path.name}: {result['status'].upper()} ({result['format'] or 'unknown format'}, "
          f"collection {result['collection'] or '-'}, school {result['school'] or '-'}, "
          f"{result['pupils']} pupils)")
    if result.get("reason"):
        print(f"  {result['reason']}")
    for kind in ("errors", "warnings"):
        for finding in result[kind]:
            if finding["rule"] != "unreadable":
                print(f"  {kind[:-1]}: {Finding(**finding).line()}")


def cmd_submit(args) -> int:
    from intake.receive import NotAContact, receive, receive_files

    paths = [Path(f) for f in args.files]
    with _working_app(args) as app:
        try:
            if len(paths) == 1:
                receipt = receive(app, paths[0].read_bytes(), file_name=paths[0].name,
                                  sender=args.sender, channel="cli")
            else:
                receipt = receive_files(app, [(p.name, p.read_bytes()) for p in paths],
                                        sender=args.sender, channel="cli")
        except NotAContact as exc:
            print(f"Refused: {exc}", file=sys.stderr)
            return 1
    note = " (already received: nothing new was done)" if receipt.duplicate else ""
    print(f"Received {len(receipt.upload_ids)} file(s) as submission {receipt.submission_id}{note}.")
    _show_uploads(app, receipt.upload_ids)
    return 0


def _show_uploads(app, upload_ids: list[int]) -> None:
    from workers.history import history

    with app.sessions() as session:
        rows = [r for r in history(session) if r.upload in upload_ids]
    for row in sorted(rows, key=lambda r: r.upload):
        print(f"  #{row.upload} {row.file} ({row.school or 'school not identified'}): {row.status}"
              + (f", {row.pupils} pupils" if row.pupils else ""))


def cmd_history(args) -> int:
    from workers.history import format_table, history

    app = _app(args)
    with app.sessions() as session:
        rows = history(session, school=args.school, collection=args.collection, viewer=args.viewer,
                       show_all=not args.hide)
    if args.json:
        print(json.dumps([r.as_json() for r in rows], indent=2))
    else:
        print(format_table(rows))
    return 0


def cmd_delete(args) -> int:
    from workers.deletion import NotAllowed, delete_upload

    with _working_app(args) as app:
        try:
            current = delete_upload(app, args.upload, args.sender)
        except NotAllowed as exc:
            print(f"Not deleted: {exc}", file=sys.stderr)
            return 1
    print(f"Deleted upload #{args.upload}. " + (f"Upload #{current.id} is now current."
                                                 if current else "No other file is current."))
    return 0


def cmd_confirm(args) -> int:
    from workers.confirmation import CannotConfirm, confirm_upload

    with _working_app(args) as app:
        try:
            upload = confirm_upload(app, args.upload, args.sender)
        except CannotConfirm as exc:
            print(f"Not confirmed: {exc}", file=sys.stderr)
            return 1
    from models import UploadStatus
    print(f"Confirmed upload #{args.upload}: {UploadStatus(upload.status).label}.")
    return 0


def cmd_template(args) -> int:
    from reports.templates import template_for
    from workers.roster import template_pupils

    app = _app(args)
    collection = app.collections.get(args.collection)
    if collection is None:
        print(f"There is no collection '{args.collection}'. Known: {', '.join(sorted(app.collections))}.",
              file=sys.stderr)
        return 2
    fmt = args.format or collection.formats[0]
    if fmt not in collection.formats:
        print(f"{collection.name} has the templates {', '.join(collection.formats)}, not {fmt}.",
              file=sys.stderr)
        return 2
    school_name, pupils = None, []
    if args.school:
        with app.sessions() as session:
            found = template_pupils(session, args.school, fmt, collection.census_date)
        if found is None:
            print(f"School {args.school} is not in the registry.", file=sys.stderr)
            return 2
        school_name, pupils = found
    try:
        data = template_for(fmt, args.school, school_name, pupils)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    Path(args.output).write_bytes(data)
    print(f"Wrote {args.output}: {collection.name}, {fmt}, "
          + (f"{len(pupils)} pupils of {school_name}." if args.school else "blank template."))
    return 0


def _registered_school(session, dfe: str):
    """The school with this DfE number, or None after telling the operator it is not registered."""
    from sqlalchemy import select

    from models import School

    school = session.scalar(select(School).where(School.dfe == dfe))
    if school is None:
        print(f"School {dfe} is not in the registry.", file=sys.stderr)
    return school


def cmd_ctf_parts(args) -> int:
    from workers.validators.ctf import PARTS

    app = _app(args)
    with app.sessions.begin() as session:
        school = _registered_school(session, args.school)
        if school is None:
            return 2
        if args.set is not None:
            chosen = {p.strip().lower() for p in args.set.split(",") if p.strip()}
            if not chosen or chosen - set(PARTS) - {"all"}:
                print(f"Choose parts from {', '.join(PARTS)}, or 'all' (got '{args.set}').",
                      file=sys.stderr)
                return 2
            school.ctf_parts = None if "all" in chosen else [p for p in PARTS if p in chosen]
        parts = school.ctf_parts or list(PARTS)
    print(f"{args.school} imports these CTF parts: {', '.join(parts)}.")
    return 0


def cmd_worker(args) -> int:
    from workers.broker import is_embedded
    from workers.recovery import sweep_until_stopped
    from workers.runner import embedded_workers, start_broker

    app = _app(args)
    broker = start_broker(app)
    if is_embedded(broker):
        with embedded_workers(app, broker, threads=args.threads):
            pass
        print("In-process broker: finished any work left by earlier runs. Set ERS_BROKER_URL to an "
              "amqp:// URL to run a long-lived worker.")
        return 0
    import dramatiq

    stop = _stop_on_signals()
    worker = dramatiq.Worker(broker, worker_threads=args.threads)
    worker.start()
    print(f"Worker running with {args.threads} threads on {app.settings.broker_url.split('@')[-1]}; "
          "Ctrl-C to stop.", flush=True)
    sweep_until_stopped(app, stop)  # a sweep that meets a broker or database restart tries again
    worker.stop()
    return 0


def cmd_intake_folder(args) -> int:
    from intake.folder import scan_once

    root = Path(args.dir)
    with _working_app(args) as app:
        while True:
            report = scan_once(app, root, settle_seconds=args.settle)
            if report.received or report.duplicates or report.refused:
                print(f"{len(report.received)} received, {report.duplicates} already known, "
                      f"{len(report.refused)} refused" + "".join(f"\n  refused {r}" for r in report.refused),
                      flush=True)
            if args.once:
                break
            time.sleep(args.interval)
    return 0


def cmd_intake_email(args) -> int:
    from intake.imap import MailboxIntake

    app = _app(args, prepare=False)
    if not app.settings.imap.host:
        print("Set ERS_IMAP_HOST, ERS_IMAP_USER and ERS_IMAP_PASSWORD to the service's mailbox "
              "(see --help).", file=sys.stderr)
        return 2
    with _working_app(args) as app:
        intake = MailboxIntake(app)

        def show(report) -> None:
            print(f"{report.taken} message(s) taken: {len(report.upload_ids)} file(s) received, "
                  f"{report.quarantined} quarantined, {report.duplicates} already known"
                  + (f"; {report.moved_again} left by an earlier run moved" if report.moved_again
                     else "")
                  + (f"; {report.failed} could not be taken now (see the log), left for the next "
                     "check" if report.failed else ""), flush=True)

        if args.once:
            show(intake.sync_once())
            intake.close()
            return 0
        stop = _stop_on_signals()
        print(f"Watching {intake.mailbox} (IDLE, and a check every {intake.poll_seconds:.0f} s); "
              "Ctrl-C to stop.", flush=True)
        intake.run(stop, on_report=show)
    return 0


def cmd_quarantine_list(args) -> int:
    from sqlalchemy import select

    from config.collections import in_london
    from models import InboundMessage

    app = _app(args)
    with app.sessions() as session:
        rows = list(session.scalars(select(InboundMessage).where(
            InboundMessage.disposition == "quarantined").order_by(InboundMessage.id.desc())))
    if not rows:
        print("Nothing in quarantine.")
    for row in rows:
        print(f"#{row.id}  {in_london(row.received_at):%d/%m/%Y %H:%M}  {row.sender or '(no sender)'}"
              f"  {row.subject!r}  {row.size:,} bytes\n      {row.reason}")
    return 0


def cmd_quarantine_release(args) -> int:
    from intake.inbound import CannotRelease, release

    with _working_app(args) as app:
        try:
            taken = release(app, args.message, by=args.by)
        except CannotRelease as exc:
            print(f"Not released: {exc}", file=sys.stderr)
            return 1
    print(f"Released message #{args.message}: handled as {taken.disposition}"
          + (f", {len(taken.upload_ids)} file(s) received." if taken.upload_ids else "."))
    _show_uploads(app, taken.upload_ids)
    return 0


def cmd_outbox_list(args) -> int:
    from sqlalchemy import func, select

    from config.collections import in_london
    from models import OutgoingEmail

    app = _app(args)
    with app.sessions() as session:
        counts = dict(session.execute(select(OutgoingEmail.status, func.count())
                                      .group_by(OutgoingEmail.status)).all())
        query = select(OutgoingEmail).order_by(OutgoingEmail.id.desc()).limit(args.limit)
        if args.status:
            query = query.where(OutgoingEmail.status == args.status)
        rows = list(session.scalars(query))
    print(", ".join(f"{counts.get(s, 0)} {s}" for s in ("pending", "sending", "sent", "failed")))
    for row in rows:
        when = row.sent_at or row.created_at
        print(f"#{row.id}  {row.status:<7} {in_london(when):%d/%m/%Y %H:%M}  {row.kind:<9} "
              f"to {', '.join(row.to_addrs)}  {row.subject!r}"
              + (f"  attempts {row.attempts}" if row.attempts > 1 or row.status != "sent" else "")
              + (f"\n      last error: {row.last_error}" if row.last_error else ""))
    return 0


def cmd_outbox_retry(args) -> int:
    from workers.enqueue import enqueue_email
    from workers.mailer import retry_failed

    with _working_app(args) as app:
        ids = retry_failed(app, args.ids or None)
        enqueue_email(app, outbox_ids=ids)
    print(f"{len(ids)} failed email(s) queued again" + (f": {', '.join(f'#{i}' for i in ids)}" if ids else "."))
    return 0


def cmd_failures_list(args) -> int:
    from config.collections import in_london
    from workers import failures

    jobs = failures.listed(_app(args), include_retried=args.all)
    if not jobs:
        print("No failed jobs." if args.all else "No failed jobs waiting (--all shows re-run ones).")
    for job in jobs:
        what = (f"upload #{job.args[0]}" if job.actor == "validate_upload" and job.args
                else f"{job.actor}({', '.join(map(repr, job.args))})")
        print(f"#{job.id}  {in_london(job.failed_at):%d/%m/%Y %H:%M}  {what}  after {job.attempts} "
              f"attempt(s)" + (f"  re-run {in_london(job.retried_at):%d/%m/%Y %H:%M} by "
                              f"{job.retried_by}" if job.retried_at else "")
              + f"\n      error: {job.error}")
    return 0


def cmd_failures_retry(args) -> int:
    from workers import failures

    with _working_app(args) as app:
        jobs = failures.retry(app, args.ids or None, by=args.by)
    print(f"{len(jobs)} failed job(s) sent again" +
          (f": {', '.join(f'#{j.id}' for j in jobs)}" if jobs else "."))
    return 0


def cmd_retention_run(args) -> int:
    from workers import retention

    lines = retention.run(_app(args))
    print("\n".join(lines) if lines else "Nothing is due for deletion.")
    return 0


def cmd_outbox_send(args) -> int:
    from workers.enqueue import enqueue_email

    with _working_app(args) as app:
        enqueue_email(app)
    return cmd_outbox_list(argparse.Namespace(status="pending", limit=args.limit))


def _poll_loop(args, folder: str, take_for=None) -> int:
    """Poll every partner's ``folder`` until stopped (or once), printing what each poll did."""
    import dramatiq

    from intake.sftp import SftpPoller
    from workers.broker import is_embedded
    from workers.runner import drain

    stop = _stop_on_signals()
    with _working_app(args) as app:
        poller = SftpPoller(app, folder=folder, take=take_for(app) if take_for else None,
                            timeout=args.timeout)
        if not poller.partners():
            print(f"No partner has a{'n' if folder == 'inbox' else ''} {folder} folder; import them "
                  "with `ers partners import`.", file=sys.stderr)
            return 2
        while True:
            report = poller.poll_once()
            if args.once and report.received and is_embedded(dramatiq.get_broker()):
                drain(dramatiq.get_broker())  # finish checking here, and answer before exiting
                report.results_written += poller.deliver_once().results_written
            if report.received or report.duplicates or report.results_written or report.notes \
                    or report.errors:
                print(f"{len(report.received)} file(s) received, {report.duplicates} already known, "
                      f"{report.waiting} still being written, {report.results_written} result "
                      "file(s) written" + "".join(f"\n  {n}" for n in report.notes)
                      + "".join(f"\n  not reachable: {e}" for e in report.errors), flush=True)
            if args.once or stop.wait(args.interval):
                break
    return 0


def cmd_intake_sftp(args) -> int:
    return _poll_loop(args, "inbox")


def cmd_intake_mis(args) -> int:
    from intake.mis import take_feed
    return _poll_loop(args, "feed", lambda app: lambda *file: take_feed(app, *file))


def cmd_status(args) -> int:
    from workers.status import status_box

    app = _app(args)
    with app.sessions() as session:
        box = status_box(session, app.collections, args.school, datetime.now(timezone.utc))
    if box is None:
        print(f"School {args.school} is not in the registry.", file=sys.stderr)
        return 2
    width = max(len(label) for label, _ in box)
    print("\n".join(f"{label + ':':<{width + 1}} {value}" for label, value in box))
    return 0


def _report_progress(app, key: str, number: int, stop: threading.Event) -> None:
    """Show report jobs as they finish, until none is left (or Ctrl-C)."""
    from sqlalchemy import func, select

    from models import Report

    last = None
    while True:
        with app.sessions() as session:
            counts = dict(session.execute(select(Report.status, func.count()).where(
                Report.collection_key == key, Report.window_number == number)
                .group_by(Report.status)).all())
        left = counts.get("pending", 0) + counts.get("waiting", 0)
        line = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no reports"
        if line != last:
            print(f"  reports: {line}", flush=True)
            last = line
        if not left or stop.wait(0.5):
            return


REPORTS_SHOWN = 50  # reports listed after a close; a national window has 17,000


def _print_reports(app, key: str | None = None, number: int | None = None,
                   most: int | None = None, ids: list[int] | None = None) -> None:
    """The reports (at most ``most``), printed as they are read."""
    from workers.report_list import report_entries

    shown = 0
    with app.sessions() as session:
        for entry in report_entries(session, key, number, ids):
            if most is not None and shown == most:
                print(f"... and more: `ers reports list --collection {key} --window {number}` "
                      "lists every one.")
                break
            print(entry)
            shown += 1
    if not shown:
        print("No reports yet.")


def cmd_close_window(args) -> int:
    from workers.scheduler import CannotClose, close_by_hand

    stop = _stop_on_signals()
    with _working_app(args) as app:
        try:
            claimed = close_by_hand(app, args.collection, args.window, by=args.by)
        except CannotClose as exc:
            print(exc, file=sys.stderr)
            return 2
        from workers.closing import describe
        print(describe(claimed), flush=True)
        if not args.no_wait:
            _report_progress(app, args.collection, args.window, stop)
    _print_reports(app, args.collection, args.window, most=REPORTS_SHOWN)
    print(f"PDFs are under {app.settings.reports_dir}; emails are in the outbox (`ers outbox list`).")
    return 0


def cmd_scheduler(args) -> int:
    from workers.scheduler import tick

    stop = _stop_on_signals()
    with _working_app(args) as app:
        print(f"Scheduler: checking every {args.interval:g} s for reminders, due windows and "
              "embargoed reports; Ctrl-C to stop.", flush=True)
        while True:
            for line in tick(app).lines:
                print(line, flush=True)
            if args.once or stop.wait(args.interval):
                break
    return 0


def cmd_reports_list(args) -> int:
    _print_reports(_app(args), args.collection, args.window)
    return 0


def cmd_reports_regenerate(args) -> int:
    from workers.regenerate import CannotRegenerate, regenerate

    stop = _stop_on_signals()
    with _working_app(args) as app:
        try:
            done = regenerate(app, args.collection, args.window, args.school)
        except CannotRegenerate as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"Report #{done.report_id} queued from upload(s) "
              f"{', '.join(f'#{u}' for u in done.upload_ids)}"
              + (f"; withdrew report(s) {', '.join(f'#{r}' for r in done.withdrawn)}"
                 if done.withdrawn else "") + ".", flush=True)
        _report_progress(app, args.collection, args.window, stop)
    _print_reports(app, ids=[i for i in (done.report_id, done.trust_report_id) if i is not None])
    return 0


def cmd_report_password(args) -> int:
    password = None if args.clear else sys.stdin.readline().rstrip("\n")
    if password == "":
        print("No password given on standard input (use --clear to remove one).", file=sys.stderr)
        return 2
    app = _app(args)
    with app.sessions.begin() as session:
        school = _registered_school(session, args.school)
        if school is None:
            return 2
        school.report_password = password
    print(f"{school.name}: reports will be {'encrypted' if password else 'sent unencrypted'}.")
    return 0


def cmd_demo(args) -> int:
    from intake.demo import run_demo
    return run_demo(Path(args.dir), Path(args.reports))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ers", description="Early results service: validates schools' results files, keeps the "
        "upload history and answers every sender.", epilog=help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help, parent=sub):
        p = parent.add_parser(name, help=help, description=help, epilog=help_text(),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    command("init", cmd_init, "Create or upgrade the database and load the collections.")
    for group, func, what in (("registry", cmd_registry_import, "schools and trusts from a GIAS-style CSV"),
                              ("contacts", cmd_contacts_import, "contacts from a CSV (Email, Name, "
                               "Role, School DFE, Trust code)"),
                              ("roster", cmd_roster_import, "pupil rosters from a CSV (School DFE, "
                               "UPN, Forename, Surname, Date of birth, Gender, NC Year, On roll at)"),
                              ("partners", cmd_partners_import, "SFTP partners from a CSV (Name, "
                               "Host, Port, User, Password, Key file, Host key, Inbox, Outbox, "
                               "Feed, Schools)")):
        g = sub.add_parser(group, help=f"Import {what}.", description=f"Import {what}.")
        gsub = g.add_subparsers(dest="action", required=True, metavar="ACTION")
        command("import", func, f"Import {what}.", gsub).add_argument("file", help="CSV file")

    p = command("submit", cmd_submit, "Submit files as a contact would (channel 'cli'); several "
                "files, or a zip of them, are one bulk submission with an upload per file.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--as", dest="sender", required=True, metavar="EMAIL", help="the contact sending it")

    p = command("validate", cmd_validate, "Check a file without a database (dry run). Exit 0 valid, "
                "1 invalid, 2 unreadable or unknown format.")
    p.add_argument("file")
    p.add_argument("--collection", metavar="KEY", help="collection to check against (default: detected)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = command("history", cmd_history, "Show the upload history, newest first (✔ = file in use).")
    p.add_argument("--school", metavar="DFE")
    p.add_argument("--collection", metavar="KEY")
    p.add_argument("--as", dest="viewer", metavar="EMAIL", help="only what this contact can see")
    p.add_argument("--hide", action="store_true", help="hide deleted, overwritten and invalid uploads")
    p.add_argument("--json", action="store_true")

    p = command("delete", cmd_delete, "Delete an upload (only its uploader may).")
    p.add_argument("upload", type=int)
    p.add_argument("--as", dest="sender", required=True, metavar="EMAIL")

    p = command("confirm", cmd_confirm, "Confirm a submission awaiting confirmation (collections "
                "with terms to accept, e.g. KS4); only its uploader may.")
    p.add_argument("upload", type=int)
    p.add_argument("--as", dest="sender", required=True, metavar="EMAIL")

    p = command("template", cmd_template, "Write a collection's Excel template, pre-filled with a "
                "school's pupils (Year 2 for KS1, Year 11 for KS4) or blank.")
    p.add_argument("--collection", required=True, metavar="KEY")
    p.add_argument("--school", metavar="DFE", help="pre-fill with this school's roster")
    p.add_argument("--format", metavar="FORMAT", help="which template, when the collection has "
                   "several (e.g. ks4-gcse, ks4-non-gcse)")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")

    p = command("ctf-parts", cmd_ctf_parts, "Show or choose which parts of a CTF a school imports "
                "(eyfs, phonics, mtc, ks1, ks2; default all).")
    p.add_argument("school", metavar="DFE")
    p.add_argument("--set", metavar="PARTS", help="comma-separated parts, or 'all'")

    p = command("worker", cmd_worker, "Run the validation and outbox actors.")
    p.add_argument("--threads", type=int, default=4)

    g = sub.add_parser("intake", help="Run an intake channel.", description="Run an intake channel.")
    gsub = g.add_subparsers(dest="channel", required=True, metavar="CHANNEL")
    p = command("folder", cmd_intake_folder, "Watch a drop folder: DIR/<email>/<file> is sent by "
                "that contact.", gsub)
    p.add_argument("dir")
    p.add_argument("--once", action="store_true", help="scan once and exit")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between scans")
    p.add_argument("--settle", type=float, default=2.0, help="seconds a file must be unchanged")

    for name, func, what in (
            ("sftp", cmd_intake_sftp, "Take results files from each partner's SFTP inbox and write "
             "a result file for each to its outbox."),
            ("mis", cmd_intake_mis, "Take MIS connector feeds (roster CSVs and CTFs) from each "
             "partner's feed folder: rosters replace the school's roster, CTF results are uploaded.")):
        p = command(name, func, what, gsub)
        p.add_argument("--once", action="store_true", help="poll once and exit")
        p.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
        p.add_argument("--timeout", type=float, default=20.0,
                       help="seconds allowed for connecting and for each SFTP operation")

    p = command("email", cmd_intake_email, "Take submissions and commands from the service's IMAP "
                "mailbox (ERS_IMAP_*): IDLE, with a poll as the safety net.", gsub)
    p.add_argument("--once", action="store_true", help="take what is there now and exit")

    g = sub.add_parser("quarantine", help="Emails held back: unknown or unauthenticated senders.",
                       description="Emails held back because the sender is not a registered "
                       "contact or failed authentication. They got no reply.")
    gsub = g.add_subparsers(dest="action", required=True, metavar="ACTION")
    command("list", cmd_quarantine_list, "List quarantined emails, newest first, with the reason.", gsub)
    p = command("release", cmd_quarantine_release, "Handle a quarantined email as if it had passed "
                "the checks (its sender must be a registered contact).", gsub)
    p.add_argument("message", type=int, metavar="ID")
    p.add_argument("--by", default="operator", metavar="NAME", help="who releases it (for the audit trail)")

    g = sub.add_parser("outbox", help="Outgoing emails: pending, sent and failed.",
                       description="Outgoing emails: pending, sent and failed.")
    gsub = g.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = command("list", cmd_outbox_list, "List outgoing emails, newest first, with attempts and the "
                "last error.", gsub)
    p.add_argument("--status", choices=("pending", "sending", "sent", "failed"))
    p.add_argument("--limit", type=int, default=50)
    p = command("retry", cmd_outbox_retry, "Queue failed emails again (all, or these ids).", gsub)
    p.add_argument("ids", nargs="*", type=int, metavar="ID")
    p = command("send", cmd_outbox_send, "Send every pending email now, then list what is still "
                "pending.", gsub)
    p.add_argument("--limit", type=int, default=50)

    g = sub.add_parser("failures", help="Jobs that failed on every attempt: list and re-run them.",
                       description="Jobs that failed on every attempt the worker allows (a file "
                       "that could not be checked, a report that could not be made). Their "
                       "senders were told the file is being looked at.")
    gsub = g.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = command("list", cmd_failures_list, "List failed jobs, newest first, with their error.", gsub)
    p.add_argument("--all", action="store_true", help="include jobs already re-run")
    p = command("retry", cmd_failures_retry, "Run failed jobs again (all waiting, or these ids).",
                gsub)
    p.add_argument("ids", nargs="*", type=int, metavar="ID")
    p.add_argument("--by", default="operator", metavar="NAME", help="who re-runs them (audit trail)")

    g = sub.add_parser("retention", help="Delete raw files and pupil-level data once kept long "
                       "enough (ERS_RETENTION_DAYS after a collection's final close).",
                       description="Delete raw files and pupil-level data once kept long enough.")
    gsub = g.add_subparsers(dest="action", required=True, metavar="ACTION")
    command("run", cmd_retention_run, "Delete what is due now (the scheduler does this on every "
            "tick); the upload history and report records stay.", gsub)

    p = command("scheduler", cmd_scheduler, "Close windows at their deadlines (reports for every "
                "school, bundles for every trust), send reminders before them and release "
                "embargoed reports when they are due. Several may run: each window closes once.")
    p.add_argument("--once", action="store_true", help="one check, then exit")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between checks")

    p = command("close-window", cmd_close_window, "Close a window now, by hand, as the scheduler "
                "does at its deadline: reports for every school with a current upload, then a "
                "bundle for every trust.")
    p.add_argument("collection", metavar="KEY")
    p.add_argument("window", type=int, metavar="N")
    p.add_argument("--by", default="operator", metavar="NAME", help="who closes it (audit trail)")
    p.add_argument("--no-wait", action="store_true", help="do not wait for the reports")

    g = sub.add_parser("reports", help="Reports made when windows close.",
                       description="Reports made when windows close.")
    gsub = g.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = command("list", cmd_reports_list, "List reports with their status and files.", gsub)
    p.add_argument("--collection", metavar="KEY")
    p.add_argument("--window", type=int, metavar="N")
    p = command("regenerate", cmd_reports_regenerate, "Make a school's reports again from the "
                "upload now current (after the one they came from was deleted).", gsub)
    p.add_argument("collection", metavar="KEY")
    p.add_argument("window", type=int, metavar="N")
    p.add_argument("--school", required=True, metavar="DFE")

    p = command("report-password", cmd_report_password, "Set the password a school's report PDFs "
                "are encrypted with, read from standard input (or --clear it).")
    p.add_argument("school", metavar="DFE")
    p.add_argument("--clear", action="store_true", help="send this school's reports unencrypted")

    p = command("status", cmd_status, "A school's status box: MIS connected, collection enabled, "
                "connection partner, last feed.")
    p.add_argument("--school", required=True, metavar="DFE")

    p = command("demo", cmd_demo, "Build a small world and run the whole pipeline on embedded defaults.")
    p.add_argument("--dir", default="var/demo", help="where the demo's data goes (replaced each run)")
    p.add_argument("--reports", default="var/reports", help="where the demo's report PDFs go "
                   "(replaced each run)")
    from intake import cli_audit, cli_ops
    cli_audit.add_commands(sub, command)
    cli_ops.add_commands(sub, command)
    return parser


def main(argv: list[str] | None = None) -> int:
    from config.logs import configure

    args = build_parser().parse_args(argv)
    configure()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
