"""What an incoming email carries, read from its raw bytes: who sent it, the subject, the files.

Pure: no I/O. Attachment names are metadata only (invariant 6): path parts are dropped and the
bytes are later stored under their hash.
"""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import PurePosixPath

# Parts with a file name that are never results: logos in signatures, S/MIME signatures, invites.
IGNORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".svg", ".webp",
                    ".emz", ".wmz", ".p7s", ".p7m", ".asc", ".sig", ".ics", ".vcf", ".htm", ".html")
MAX_ATTACHMENTS = 200


@dataclass
class Incoming:
    message_id: str
    sender: str | None          # the one From address, lower-cased; None if absent or several
    subject: str
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)   # attachment names not taken as results
    authentication_results: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    auto_submitted: bool = False  # an out-of-office or other automatic reply (RFC 3834)
    our_answer: bool = False      # one of the service's own answers, come back (a forwarding rule)

    @property
    def dedup_key(self) -> str:
        """The Message-ID plus a digest of what the message asks: the same message re-delivered
        (new UID, new Received headers) has the same key; a different message never does."""
        digest = hashlib.sha256(self.subject.encode("utf-8", "replace"))
        for name, data in self.attachments:
            digest.update(b"\0" + name.encode("utf-8", "replace") + b"\0" + hashlib.sha256(data).digest())
        return f"{self.message_id[:500]}|{digest.hexdigest()}"


def parse(raw: bytes) -> Incoming:
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    message_id = _header(message, "Message-ID").strip()
    if not message_id:  # some senders omit it; the content stands in, so re-delivery still matches
        message_id = f"<no-message-id.{hashlib.sha256(raw).hexdigest()[:32]}@ers.invalid>"
    incoming = Incoming(message_id=message_id, sender=_sender(message),
                        subject=" ".join(_header(message, "Subject").split())[:500],
                        authentication_results=[str(h) for h in
                                                message.get_all("Authentication-Results") or []],
                        references=_header(message, "References").split(),
                        auto_submitted=_automatic(message),
                        our_answer=bool(_header(message, "X-ERS-Kind")))
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if not name:
            continue
        name = safe_name(name)
        if name.lower().endswith(IGNORED_SUFFIXES) or len(incoming.attachments) >= MAX_ATTACHMENTS:
            incoming.ignored.append(name)
            continue
        data = part.get_payload(decode=True)
        if data is not None:
            incoming.attachments.append((name, data))
    return incoming


def safe_name(name: str) -> str:
    """The last path part of an attachment's name, at most 200 characters, without control
    characters or the invisible ones that change how it reads: a right-to-left override makes
    ``results\u202eslx.exe`` show as ``resultsexe.xls``, zero-width spaces hide in plain sight."""
    name = "".join(c for c in str(name) if unicodedata.category(c) not in INVISIBLE)
    name = PurePosixPath(name.replace("\\", "/")).name.strip()
    if name in ("", ".", ".."):
        name = "attachment"
    return name if len(name) <= 200 else name[:100] + "…" + name[-99:]


# Control characters, format characters (bidirectional overrides, zero-width), line and
# paragraph separators, unassigned and private-use code points, lone surrogates.
INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn", "Co", "Cs"})


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # malformed: fall back to the raw text
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    return str(value) if value is not None else ""


def _automatic(message: EmailMessage) -> bool:
    auto = _header(message, "Auto-Submitted").strip().lower()
    precedence = _header(message, "Precedence").strip().lower()
    return (auto not in ("", "no") or precedence in ("bulk", "junk", "list")
            or bool(_header(message, "X-Autoreply") or _header(message, "X-Autorespond")))


def _sender(message: EmailMessage) -> str | None:
    try:
        values = message.get_all("From") or []
    except (ValueError, IndexError):
        return None
    addresses = [a for _, a in getaddresses([str(v) for v in values]) if a]
    if len(addresses) != 1 or "@" not in addresses[0]:
        return None
    return addresses[0].strip().lower()
