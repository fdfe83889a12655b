"""Answers to emails that are not uploads: the subject commands, and messages with nothing to use.

Each answer is queued in the same transaction that marks the message handled (and, for CONFIRM
and DELETE, makes the change), so a re-run after a crash neither acts nor answers twice.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.collections import Collection
from intake.mail_commands import help_lines
from models import InboundMessage, OutgoingEmail, School
from models.base import utcnow
from reports.templates import template_for
from workers import answers
from workers.app import App
from workers.confirmation import CannotConfirm, confirm_in
from workers.deletion import NotAllowed, delete_in, remove_unused
from workers.history import format_table, history
from workers.pipeline import permitted_schools
from workers.roster import template_pupils

WHAT_TO_ATTACH = [
    "KS1: the completed results template (.xlsx); send TEMPLATE <collection> for yours",
    "KS2: the results CSV downloaded from the Primary Assessment Gateway (.csv)",
    "KS4: the completed GCSE or non-GCSE template (.xlsx)",
    "A common transfer file (CTF, .xml) exported from your MIS",
    "Trusts: several schools' files in one email, or in one .zip",
]
MAX_HISTORY_ROWS = 200


class Refused(Exception):
    """The command cannot be done; the message says why, to the sender."""


def answer_message(app: App, inbound_id: int) -> list[int]:
    """Answer one recorded message unless already answered; returns the outbox ids queued."""
    paths: list[str] = []
    with app.sessions.begin() as session:
        inbound = session.get(InboundMessage, inbound_id, with_for_update=True)
        if inbound is None or inbound.handled_at is not None:
            return []
        verb, arguments = inbound.command, tuple((inbound.argument or "").split())
        try:
            emails, paths = _run(app, session, inbound, verb, arguments)
        except (Refused, CannotConfirm, NotAllowed) as exc:
            emails = [answers.queue_reply(session, app.settings, inbound, [
                f"Your {verb} request could not be done: {exc}", "Send HELP for the list of commands."])]
        for email in emails:  # a change's own answer (confirmed, deleted) answers the command
            email.in_reply_to = inbound.message_id
        inbound.handled_at = utcnow()
        session.flush()
        queued = [e.id for e in emails]
    remove_unused(app, paths)
    return queued


def _run(app: App, session: Session, inbound: InboundMessage, verb: str,
         arguments: tuple[str, ...]) -> tuple[list[OutgoingEmail], list[str]]:
    """Do the command: (the answers it queued, files to remove once committed)."""
    if verb in ("CONFIRM", "DELETE"):
        upload_id = _upload_number(verb, arguments)
        paths: list[str] = []
        if verb == "CONFIRM":
            confirm_in(app, session, upload_id, inbound.sender)
        else:
            _, paths = delete_in(app, session, upload_id, inbound.sender)
        kind = "confirmed" if verb == "CONFIRM" else "deleted"
        return list(session.scalars(select(OutgoingEmail).where(
            OutgoingEmail.message_id == answers.message_id(app.settings, kind, upload_id)))), paths
    if verb == "TEMPLATE":
        return [_template(app, session, inbound, arguments)], []
    if verb == "HISTORY":
        return [_history(app, session, inbound, arguments)], []
    if verb == "HELP":
        return [answers.queue_reply(session, app.settings, inbound, [
            "You can send results files to this address as attachments, and put one of these "
            "commands in the subject line of an email (no attachment needed):"],
            help_lines() + ["", "What to attach:"] + WHAT_TO_ATTACH)], []
    # Nothing usable attached.
    paragraphs = ["Your email had no file we could use, so nothing was uploaded. Please send it "
                  "again with one of these attached:"]
    return [answers.queue_reply(session, app.settings, inbound, paragraphs, WHAT_TO_ATTACH + [
        "", "Or put a command in the subject line:"] + help_lines())], []


def _upload_number(verb: str, arguments: tuple[str, ...]) -> int:
    if len(arguments) != 1 or not arguments[0].isdigit():
        raise Refused(f"please give the upload's number, e.g. {verb} 123 (it is in the answer "
                      "we sent about the file, and in HISTORY).")
    return int(arguments[0])


def _collection(app: App, key: str | None) -> Collection | None:
    if key is None:
        return None
    found = app.collections.get(key.lower())
    if found is None:
        raise Refused(f"there is no collection '{key}'. Collections: "
                      f"{', '.join(sorted(app.collections))}.")
    return found


def _template(app: App, session: Session, inbound: InboundMessage,
              arguments: tuple[str, ...]) -> OutgoingEmail:
    if not arguments:
        raise Refused(f"please name the collection, e.g. TEMPLATE {min(app.collections)}. "
                      f"Collections: {', '.join(sorted(app.collections))}.")
    collection = _collection(app, arguments[0])
    schools = sorted(permitted_schools(session, inbound.sender))
    if len(arguments) == 2:
        if arguments[1] not in schools:
            raise Refused(f"you are not a registered contact of school {arguments[1]}.")
        schools = [arguments[1]]
    attachments, lines = [], []
    for dfe in schools:
        for fmt in collection.formats:
            school_name, pupils = template_pupils(session, dfe, fmt, collection.census_date)
            try:
                data = template_for(fmt, dfe, school_name, pupils)
            except ValueError as exc:  # KS2 and CTF come from the portal and the MIS
                raise Refused(str(exc)) from exc
            name = f"{dfe}_{fmt}_{collection.key}.xlsx"
            attachments.append(answers.stored_attachment(app.settings, name, data))
            lines.append(f"{name}: {school_name}, {len(pupils)} pupils")
    return answers.queue_reply(session, app.settings, inbound, [
        f"The {collection.name} template is attached, pre-filled with each school's pupils. "
        "Fill it in and send it back to this address as an attachment."], lines,
        attachments=attachments)


def _history(app: App, session: Session, inbound: InboundMessage,
             arguments: tuple[str, ...]) -> OutgoingEmail:
    collection = _collection(app, arguments[0] if arguments else None)
    rows = history(session, collection=collection.key if collection else None, viewer=inbound.sender)
    shown = rows[:MAX_HISTORY_ROWS]
    schools = ", ".join(session.scalars(select(School.name).where(
        School.dfe.in_(permitted_schools(session, inbound.sender))).order_by(School.name)))
    paragraphs = [f"Upload history for {schools or 'your schools'}"
                  + (f", {collection.name}" if collection else "") + ", newest first. "
                  "The file marked ✔ is the one in use for its window."]
    if len(rows) > len(shown):
        paragraphs.append(f"Showing the latest {len(shown)} of {len(rows)} uploads.")
    return answers.queue_reply(session, app.settings, inbound, paragraphs, table=format_table(shown))
