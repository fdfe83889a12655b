"""Starting the broker and, in the embedded set-up, worker threads inside the calling process."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
from dramatiq.broker import Broker

from workers.app import App
from workers.broker import install, is_embedded, make_broker

QUEUES = ("uploads", "commands", "reports", "failures", "outbox")


def start_broker(app: App) -> Broker:
    return install(make_broker(app.settings.broker_url))


@contextmanager
def embedded_workers(app: App, broker: Broker, threads: int = 2) -> Iterator[None]:
    """With the in-process broker, run worker threads here and finish all queued work on exit.

    With RabbitMQ this does nothing: ``ers worker`` processes consume the queues.
    """
    if not is_embedded(broker):
        yield
        return
    from workers.recovery import requeue_stranded

    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    try:
        # The in-process queue starts empty, so anything still Processing was lost with a
        # previous process: send it again (actors are idempotent).
        requeue_stranded(app, include_enqueued=True)
        yield
        drain(broker)
    finally:
        worker.stop()


def drain(broker: Broker) -> None:
    """Wait until every queued message (and any it queued in turn) has been processed."""
    for queue in QUEUES:
        broker.join(queue, fail_fast=False)
