"""Commands a contact can put in an email's subject line, and the help that lists them.

Strict on purpose: only a subject that is exactly a verb and its arguments is a command, so an
ordinary subject such as "Template for KS1 attached" is never mistaken for one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# verb -> (most arguments, usage, what it does)
VERBS = {
    "TEMPLATE": (2, "TEMPLATE <collection> [<school DfE number>]",
                 "the collection's Excel template, pre-filled with your school's pupils"),
    "HISTORY": (1, "HISTORY [<collection>]", "your upload history, newest first"),
    "CONFIRM": (1, "CONFIRM <upload>", "confirm a submission awaiting confirmation (uploader only)"),
    "DELETE": (1, "DELETE <upload>", "delete an upload you sent; the previous file is used again"),
    "HELP": (0, "HELP", "this list"),
}
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    verb: str
    arguments: tuple[str, ...] = ()


def parse_subject(subject: str) -> Command | None:
    tokens = REPLY_PREFIX.sub("", subject or "").split()
    if not tokens or tokens[0].upper() not in VERBS:
        return None
    verb = tokens[0].upper()
    arguments = tuple(t.lstrip("#") for t in tokens[1:])
    if len(arguments) > VERBS[verb][0]:
        return None
    return Command(verb, arguments)


def help_lines() -> list[str]:
    return [f"{usage}: {what}" for _, usage, what in VERBS.values()]
