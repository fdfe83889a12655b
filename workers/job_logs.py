"""Job context for logs: every line logged while a job runs carries the ids it works on.

A Dramatiq middleware (cross-cutting, so no actor changes): before a job it records the actor
and its id arguments (``upload_id``, ``outbox_id``, ``report_ids`` ...) as the job's log
fields, which the handler ``config.logs.configure`` installs copies onto each record; after it,
one line says how long the job took. Only arguments named ``*_id``/``*_ids``
are taken, so no payload (never pupil data: jobs are sent ids, not contents) reaches a log.
"""
from __future__ import annotations

import inspect
import logging
import time

from dramatiq.middleware import Middleware

from config.logs import bind_job, unbind_job

log = logging.getLogger("ers.jobs")
MAX_IDS = 20  # a list of ids longer than this is cut, so one line stays readable


def id_arguments(fn, args, kwargs) -> dict:
    """The call's arguments named like ids, by name."""
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
    except TypeError:
        return {}
    found = {}
    for name, value in bound.arguments.items():
        if name.endswith("_id") and isinstance(value, int):
            found[name] = value
        elif name.endswith("_ids") and isinstance(value, (list, tuple)) \
                and all(isinstance(v, int) for v in value):
            found[name] = list(value[:MAX_IDS])
    return found


class JobLogging(Middleware):
    def __init__(self) -> None:
        self._started: dict[str, tuple[object, float]] = {}

    def before_process_message(self, broker, message) -> None:
        try:
            fn = broker.get_actor(message.actor_name).fn
        except Exception:  # noqa: BLE001 - an unknown actor is Dramatiq's to report
            fn = None
        fields = {"actor": message.actor_name, "message_id": message.message_id,
                  **(id_arguments(fn, message.args, message.kwargs) if fn else {})}
        self._started[message.message_id] = (bind_job(fields), time.perf_counter())

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        started = self._started.pop(message.message_id, None)
        if started is None:
            return
        token, began = started
        ms = round((time.perf_counter() - began) * 1000, 1)
        if exception is None:
            log.info("%s done in %.0f ms", message.actor_name, ms, extra={"duration_ms": ms})
        else:  # Dramatiq logs the traceback (or the retry); this line carries the outcome
            log.info("%s stopped after %.0f ms: %s", message.actor_name, ms,
                     type(exception).__name__,
                     extra={"duration_ms": ms, "error": type(exception).__name__})
        unbind_job(token)

    def after_skip_message(self, broker, message) -> None:
        started = self._started.pop(message.message_id, None)
        if started is not None:
            unbind_job(started[0])

