"""Logging for every ``ers`` process: one JSON object per line, or plain text, on standard error.

``ERS_LOG_FORMAT=json`` gives ``{"ts", "level", "logger", "message", ...}`` with whatever a log
call passed in ``extra`` (``upload_id``, ``submission_id``, ``channel``, ``partner`` ...) as
fields of their own, for a log shipper to index; anything else gives plain text with those
fields appended as ``key=value``. ``ERS_LOG_LEVEL`` (default INFO) sets the level.

Nothing pupil-level may reach a log (UPNs, names, dates of birth, results, file contents):
the service's own log lines carry ids only, and the libraries that would print rows or message
bodies at DEBUG (SQLAlchemy's engine, IMAPClient's protocol trace) are held at WARNING whatever
the level. A traceback keeps every frame (code, never data) but an exception's *message* only
when it comes from the infrastructure (network, database, broker, mail, SSH): a ValueError
raised while reading a workbook may quote a cell, so its message is withheld (the full text is
kept where it belongs, e.g. on the upload's or the report's row). SQL statement parameters are
hidden too, since a failed insert of pupil rows would otherwise print them.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Mapping
from contextvars import ContextVar, Token
from datetime import datetime, timezone

# Loggers whose DEBUG/INFO output carries row values, message bodies or protocol noise.
# pika and paramiko log every failed connection at ERROR, tracebacks included, before raising
# the error the service catches and reports in plain words: only their CRITICAL lines pass.
QUIET = {"sqlalchemy": logging.WARNING, "alembic": logging.WARNING, "imapclient": logging.WARNING,
         "pika": logging.CRITICAL, "paramiko": logging.CRITICAL, "urllib3": logging.WARNING,
         "dramatiq.worker.Worker": logging.WARNING}  # "Shutting down..." after every `ers submit`
FORMATS, LEVELS = ("text", "json"), ("DEBUG", "INFO", "WARNING", "ERROR")
# Attributes every LogRecord has; anything else on a record came from ``extra``.
STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime",
                                                                      "taskName"}
_job: ContextVar[dict | None] = ContextVar("ers_job", default=None)
HANDLER_NAME = "ers"  # marks the handler configure() installs, so a second call replaces it


def hide_sql_parameters(exc: BaseException | None) -> None:
    """Make SQLAlchemy leave bound parameters (pupil rows, roster UPNs) out of the error text."""
    from sqlalchemy.exc import StatementError

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StatementError):
            exc.hide_parameters = True
        exc = exc.__cause__ or exc.__context__


# Exceptions whose messages describe the infrastructure, never a file's contents.
SAFE_MODULES = ("sqlalchemy", "psycopg", "pika", "dramatiq", "paramiko", "imapclient", "imaplib",
                "smtplib", "ssl", "socket", "alembic", "http")
WITHHELD = "(message withheld: it may quote a file's contents)"


def message_is_safe(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return isinstance(exc, OSError) or module.split(".")[0] in SAFE_MODULES


def format_exception(exc: BaseException) -> str:
    """The traceback as Python prints it, chained exceptions included, with each message that
    could carry pupil data replaced by a note."""
    hide_sql_parameters(exc)
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    parts = []
    for n, item in enumerate(reversed(chain)):
        if n:
            parts.append("\nThe above exception led to the following one:\n\n")
        if item.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(item.__traceback__))
        if message_is_safe(item):
            parts.extend(traceback.format_exception_only(type(item), item))
        else:
            name = type(item).__qualname__
            module = type(item).__module__
            parts.append(f"{name if module in ('builtins', None) else f'{module}.{name}'}: {WITHHELD}\n")
    return "".join(parts).rstrip("\n")


def bind_job(fields: dict) -> Token:
    """Fields (ids only) added to every record logged in this context until ``unbind_job``."""
    return _job.set(fields)


def unbind_job(token: Token) -> None:
    _job.reset(token)


class JobContext(logging.Filter):
    """Copies the running job's fields onto each record (a field the call set itself wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_job.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def extras(record: logging.LogRecord) -> dict:
    return {k: v for k, v in vars(record).items() if k not in STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, timezone.utc)
                 .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for key, value in extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info and record.exc_info[1] is not None:
            entry["exc_type"] = type(record.exc_info[1]).__name__
            entry["exc"] = format_exception(record.exc_info[1])
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatException(self, exc_info) -> str:  # noqa: N802 - logging's name
        return format_exception(exc_info[1]) if exc_info[1] is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        cached, record.exc_text = record.exc_text, None  # another handler's may hold the message
        try:
            text = super().format(record)
        finally:
            record.exc_text = cached
        fields = extras(record)
        if not fields:
            return text
        first, *rest = text.split("\n", 1)
        first += " " + " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
        return "\n".join([first, *rest])


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now, so a replaced stream (tests) is still honoured."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _read_settings(environ: Mapping[str, str]) -> tuple[str, str, list[str]]:
    """(format, level name, problems): a value it does not know is replaced by the default
    (text, INFO) and named in problems, so ``configure`` and ``ers doctor`` read them alike."""
    found = []
    fmt = (environ.get("ERS_LOG_FORMAT") or "text").strip().lower()
    level = (environ.get("ERS_LOG_LEVEL") or "INFO").strip().upper()
    if fmt not in FORMATS:
        found.append(f"ERS_LOG_FORMAT is {fmt!r}, not json or text")
        fmt = "text"
    if level not in LEVELS:
        found.append(f"ERS_LOG_LEVEL is {level!r}, not DEBUG, INFO, WARNING or ERROR")
        level = "INFO"
    return fmt, level, found


def problems(environ: Mapping[str, str]) -> list[str]:
    """What is wrong with ERS_LOG_FORMAT and ERS_LOG_LEVEL (``ers doctor`` reports it)."""
    return _read_settings(environ)[2]


def configure(environ: Mapping[str, str] | None = None, stream=None) -> logging.Handler:
    """Install the service's handler on the root logger (replacing an earlier one: idempotent).

    ``stream`` defaults to standard error. A value it does not know falls back to the default
    (text, INFO) with a warning: a typo in a logging setting must not stop the service.
    Returns the handler.
    """
    fmt, level_name, wrong = _read_settings(os.environ if environ is None else environ)
    level = getattr(logging, level_name)
    handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.name = HANDLER_NAME
    handler.addFilter(JobContext())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, floor in QUIET.items():
        logging.getLogger(name).setLevel(max(floor, level))
    for problem in wrong:
        logging.getLogger("ers").warning("%s; using the default", problem)
    return handler
