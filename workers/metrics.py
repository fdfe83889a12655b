"""Prometheus metrics, worked out from the database and the broker on every scrape.

Nothing is counted in-process: every ``ers`` process writes its outcome to the database, so one
``ers metrics`` process sees the whole service however many workers run, and a restart loses
nothing. Counts and latencies are aggregated by the database (one row per label set), so a
scrape costs a few index or table scans however many uploads there are.

The text is Prometheus's exposition format 0.0.4, written here rather than with
``prometheus_client``: its registry is built for counters kept in memory, these figures are read
fresh from the database, and the format is a few lines of text.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from workers.broker import uses_rabbitmq

log = logging.getLogger("ers.metrics")

# seconds: an answer is due within seconds; a report email may wait for its window's close
LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNSENT = ("pending", "sending")   # outbox statuses whose age ers_outbox_oldest_unsent_seconds shows


@dataclass(frozen=True)
class Histogram:
    """Cumulative bucket counts (one per bound in LATENCY_BUCKETS), their sum and count."""
    buckets: tuple[int, ...]
    total: float
    count: int


@dataclass
class Figures:
    """Everything one scrape read, as plain data; ``render`` turns it into text."""
    database_up: bool = True
    uploads: dict[tuple[str, str], int] = field(default_factory=dict)        # (status, format)
    emails: dict[tuple[str, str], int] = field(default_factory=dict)         # (status, kind)
    oldest_unsent_seconds: float = 0.0
    reports: dict[tuple[str, str], int] = field(default_factory=dict)        # (status, kind)
    send_latency: dict[str, Histogram] = field(default_factory=dict)         # kind
    answer_latency: dict[str, Histogram] = field(default_factory=dict)       # receipt / result
    broker_up: bool | None = None                                            # None: in-process
    queues: list = field(default_factory=list)                               # QueueDepth
    scrape_seconds: float = 0.0


# -- rendering (pure) ----------------------------------------------------------------------------

def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _family(name: str, kind: str, help: str, samples: Iterable[tuple[str, dict, float]]) -> list[str]:
    lines = [f"# HELP {name} {help}", f"# TYPE {name} {kind}"]
    lines += [f"{sample}{_labels(labels)} {_number(value)}" for sample, labels, value in samples]
    return lines


def _gauge(name: str, help: str, label_names: tuple[str, ...], values: dict) -> list[str]:
    return _family(name, "gauge", help, ((name, dict(zip(label_names, key if isinstance(key, tuple)
                                                            else (key,))), value)
                                         for key, value in sorted(values.items())))


def _histogram(name: str, help: str, label: str, values: dict[str, Histogram]) -> list[str]:
    samples = []
    for key, histogram in sorted(values.items()):
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), (*histogram.buckets, histogram.count)):
            samples.append((f"{name}_bucket", {label: key, "le": _number(bound)}, count))
        samples.append((f"{name}_sum", {label: key}, histogram.total))
        samples.append((f"{name}_count", {label: key}, histogram.count))
    return _family(name, "histogram", help, samples)


def render(figures: Figures) -> str:
    """The exposition text for one scrape."""
    lines = _gauge("ers_database_up", "1 when the database answered this scrape.", (),
                   {(): int(figures.database_up)})
    if figures.database_up:
        lines += _gauge("ers_uploads", "Uploads (one per file received) by status and format.",
                        ("status", "format"), figures.uploads)
        lines += _gauge("ers_outgoing_emails", "Outgoing emails in the outbox by status and kind.",
                        ("status", "kind"), figures.emails)
        lines += _gauge("ers_outbox_oldest_unsent_seconds", "Age of the oldest email still "
                        "pending or being sent (0 when none).", (), {(): figures.oldest_unsent_seconds})
        lines += _gauge("ers_reports", "School reports and trust bundles by status and kind.",
                        ("status", "kind"), figures.reports)
        lines += _histogram("ers_email_send_latency_seconds", "Time from an email being written "
                            "to the outbox to the relay accepting it, by kind.", "kind",
                            figures.send_latency)
        lines += _histogram("ers_upload_answer_latency_seconds", "Time from a file being received "
                            "to its receipt or result email being sent.", "kind",
                            figures.answer_latency)
    if figures.broker_up is not None:
        lines += _gauge("ers_broker_up", "1 when RabbitMQ answered this scrape.", (),
                        {(): int(figures.broker_up)})
        declared = [q for q in figures.queues if q.declared]
        lines += _gauge("ers_queue_messages", "Messages in each queue: ready for a worker, "
                        "delayed (retries waiting out their backoff) or dead (gave up).",
                        ("queue", "state"),
                        {(q.queue, state): getattr(q, state) for q in declared
                         for state in ("ready", "delayed", "dead")})
        lines += _gauge("ers_queue_consumers", "Workers consuming each queue.", ("queue",),
                        {q.queue: q.consumers for q in declared})
    lines += _gauge("ers_scrape_duration_seconds", "Time this scrape took to read its figures.",
                    (), {(): round(figures.scrape_seconds, 6)})
    return "\n".join(lines) + "\n"


# -- the queries ---------------------------------------------------------------------------------

def _seconds_between(dialect: str, start, end):
    """``end - start`` in seconds, in SQL: both databases aggregate, no rows come back."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _histograms(session: Session, key, latency, *where) -> dict[str, Histogram]:
    columns = [func.sum(case((latency <= bound, 1), else_=0)) for bound in LATENCY_BUCKETS]
    rows = session.execute(select(key, func.count(), func.sum(latency), *columns)
                           .where(*where).group_by(key)).all()
    return {str(row[0]): Histogram(tuple(int(n or 0) for n in row[3:]), float(row[2] or 0),
                                   int(row[1])) for row in rows}


def _outbox(session: Session) -> tuple[dict[tuple[str, str], int], datetime | None]:
    """Counts by (status, kind) and the oldest unsent email's creation time, in one query.

    The oldest time is each group's ``min(created_at)`` folded over the unsent statuses, so a
    scrape reads the outbox once rather than twice; ``min`` keeps the column's UTCDateTime type,
    so the time comes back aware (UTC) exactly as the column does.
    """
    from models import OutgoingEmail

    rows = session.execute(
        select(OutgoingEmail.status, OutgoingEmail.kind, func.count(),
               func.min(OutgoingEmail.created_at))
        .group_by(OutgoingEmail.status, OutgoingEmail.kind)).all()
    emails = {(status, kind): n for status, kind, n, _ in rows}
    oldest = min((first for status, _, _, first in rows
                  if status in UNSENT and first is not None), default=None)
    return emails, oldest


def database_figures(session: Session, now) -> Figures:
    from models import OutgoingEmail, Report, Upload

    dialect = session.get_bind().dialect.name
    figures = Figures()
    figures.uploads = {(status, fmt or "unknown"): n for status, fmt, n in session.execute(
        select(Upload.status, Upload.format, func.count()).group_by(Upload.status, Upload.format))}
    figures.emails, oldest = _outbox(session)
    figures.oldest_unsent_seconds = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    figures.reports = {(status, kind): n for status, kind, n in session.execute(
        select(Report.status, Report.kind, func.count()).group_by(Report.status, Report.kind))}
    figures.send_latency = _histograms(
        session, OutgoingEmail.kind,
        _seconds_between(dialect, OutgoingEmail.created_at, OutgoingEmail.sent_at),
        OutgoingEmail.sent_at.is_not(None))
    figures.answer_latency = _histograms(
        session, OutgoingEmail.kind,
        _seconds_between(dialect, Upload.received_at, OutgoingEmail.sent_at),
        OutgoingEmail.upload_id == Upload.id, OutgoingEmail.sent_at.is_not(None),
        OutgoingEmail.kind.in_(("receipt", "result")))
    return figures


def collect(app, broker_timeout: float = 3.0) -> Figures:
    """One scrape's figures; a database or broker that cannot be read is reported as down."""
    started = time.perf_counter()
    try:
        with app.sessions() as session:
            figures = database_figures(session, datetime.now(timezone.utc))
    except SQLAlchemyError as exc:
        log.warning("metrics: the database cannot be read: %s", type(exc).__name__,
                    extra={"component": "database"})
        figures = Figures(database_up=False)
    url = app.settings.broker_url
    if uses_rabbitmq(url):
        from workers.queue_depth import queue_depths
        try:
            figures.queues = queue_depths(url, timeout=broker_timeout)
            figures.broker_up = True
        except Exception as exc:  # noqa: BLE001 - any broker failure is "down" for this scrape
            log.warning("metrics: RabbitMQ cannot be read: %s", type(exc).__name__,
                        extra={"component": "broker"})
            figures.broker_up = False
    figures.scrape_seconds = time.perf_counter() - started
    return figures


def metrics_text(app) -> str:
    return render(collect(app))


# -- serving -------------------------------------------------------------------------------------

def make_server(app, host: str = "127.0.0.1", port: int = 9464) -> ThreadingHTTPServer:
    """An HTTP server answering ``GET /metrics``; call ``serve_forever`` (or run it in a thread)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics_text(app), CONTENT_TYPE)
            elif path == "/":
                self._send(200, "Early results service: metrics at /metrics\n", "text/plain")
            else:
                self._send(404, "Not found: metrics are at /metrics\n", "text/plain")

        def _send(self, code: int, text: str, content_type: str) -> None:
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # http.server writes to stderr
            log.debug("metrics request: " + format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(server: ThreadingHTTPServer, stop: threading.Event) -> None:
    """Serve until ``stop`` is set (Ctrl-C or SIGTERM)."""
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
