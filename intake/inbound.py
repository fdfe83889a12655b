"""What the service does with one email, whichever mailbox it came from.

The message is stored and recorded (committed) first, then handed on: attachments go through
``receive`` as one submission, a subject command or a message without a usable file goes to a
worker to answer. Only after this returns may the channel move the message (invariant 1).
Senders who are not contacts, or whose address fails authentication, are quarantined with no
reply, so forged or bounced mail never makes the service write to a stranger (no backscatter).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, update

from intake import store
from intake.mail_auth import refusal as authentication_refusal
from intake.mail_commands import parse_subject
from intake.mail_message import Incoming, parse
from intake.receive import expand, receive_files
from models import InboundMessage
from models.audit import audit
from models.base import utcnow
from workers.app import App
from workers.pipeline import is_known_sender

UPLOAD, COMMAND, QUARANTINED, IGNORED = "upload", "command", "quarantined", "ignored"
NO_FILE = "ATTACH"  # the internal command answering a message with nothing usable attached
ARGUMENT_LENGTH = InboundMessage.argument.type.length  # a command's argument is cut to fit its column


@dataclass
class Taken:
    inbound_id: int
    disposition: str
    duplicate: bool = False
    upload_ids: list[int] = field(default_factory=list)


class CannotRelease(Exception):
    pass


def take_message(app: App, raw: bytes, *, mailbox: str, uidvalidity: int | None = None,
                 uid: int | None = None) -> Taken:
    incoming = parse(raw)
    with app.sessions() as session:
        earlier = session.scalar(select(InboundMessage.id).where(
            InboundMessage.dedup_key == incoming.dedup_key))
    if earlier is not None:  # re-delivered, or taken before a crash: finish whatever was left
        return _hand_on(app, earlier, incoming, raw, duplicate=True)
    stored_path = str(store.put(app.settings.store_dir, raw)[1])
    with app.sessions.begin() as session:
        reason = _refusal(session, app, incoming)
        disposition, command, argument = _route(incoming, reason)
        row = InboundMessage(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid,
                             message_id=incoming.message_id, dedup_key=incoming.dedup_key,
                             sender=(incoming.sender or "")[:254], subject=incoming.subject,
                             received_at=utcnow(), stored_path=stored_path, size=len(raw),
                             disposition=disposition, reason=reason, command=command,
                             argument=argument)
        session.add(row)
        session.flush()
        audit(session, incoming.sender or "unknown", "email", row.id, disposition,
              message_id=incoming.message_id, mailbox=mailbox, uid=uid, reason=reason)
        row_id = row.id
    return _hand_on(app, row_id, incoming, raw)


def release(app: App, inbound_id: int, by: str) -> Taken:
    """An operator vouches for a quarantined message: it is handled as if it had passed the checks.

    The sender must still be a registered contact: releasing cannot give a stranger access.
    """
    with app.sessions.begin() as session:
        row = session.get(InboundMessage, inbound_id, with_for_update=True)
        if row is None or row.disposition != QUARANTINED:
            raise CannotRelease(f"There is no quarantined message #{inbound_id}.")
        raw = store.read(row.stored_path)
        incoming = parse(raw)
        if incoming.sender is None or not is_known_sender(session, incoming.sender):
            raise CannotRelease(f"{incoming.sender or 'The sender'} is not a registered contact; "
                                "add them with `ers contacts import` first, then release again.")
        row.disposition, row.command, row.argument = _route(incoming, None)
        audit(session, by, "email", row.id, "released", was=row.reason)
    return _hand_on(app, inbound_id, incoming, raw)


def _refusal(session, app: App, incoming: Incoming) -> str | None:
    if incoming.sender is None:
        return "The message has no single From address."
    if not is_known_sender(session, incoming.sender):
        return f"{incoming.sender} is not a registered contact of any school or trust."
    return authentication_refusal(incoming.authentication_results, app.settings.authserv_id,
                                  incoming.sender)


def _route(incoming: Incoming, reason: str | None) -> tuple[str, str | None, str | None]:
    """(disposition, command, argument) for a message."""
    if reason is not None:
        return QUARANTINED, None, None
    if incoming.our_answer:  # a school's mailbox forwarded our answer back: answering would loop
        return IGNORED, None, None
    command = parse_subject(incoming.subject)
    if command is not None:
        # cut to what the column holds: a longer argument is no collection or upload anyway
        return COMMAND, command.verb, " ".join(command.arguments)[:ARGUMENT_LENGTH] or None
    if incoming.attachments:
        return UPLOAD, None, None
    if incoming.auto_submitted:  # out-of-office and the like: answering them could loop
        return IGNORED, None, None
    return COMMAND, NO_FILE, None


def _hand_on(app: App, inbound_id: int, incoming: Incoming, raw: bytes,
             duplicate: bool = False) -> Taken:
    """Do the step after recording; safe to repeat, since each step finds its own earlier work."""
    with app.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
        disposition, handled, sender = row.disposition, row.handled_at, row.sender
    taken = Taken(inbound_id, disposition, duplicate)
    if disposition == UPLOAD:
        receipt = receive_files(app, expand(app, incoming.attachments), sender=sender, channel="email",
                                source_ref=incoming.dedup_key, raw=(_eml_name(incoming), raw),
                                message_id=incoming.message_id)
        taken.upload_ids = receipt.upload_ids
        with app.sessions.begin() as session:
            session.execute(update(InboundMessage).where(InboundMessage.id == inbound_id)
                            .values(submission_id=receipt.submission_id, handled_at=utcnow()))
    elif disposition == COMMAND and handled is None:
        from workers.enqueue import enqueue_email_command
        enqueue_email_command(app, inbound_id)
    return taken


def _eml_name(incoming: Incoming) -> str:
    subject = "".join(c for c in incoming.subject if c.isalnum() or c in " -_")[:60].strip()
    return f"{subject or 'email'}.eml"
