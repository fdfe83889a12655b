"""How much work waits in RabbitMQ, read with passive declares (nothing is created or consumed).

Shared by ``ers doctor`` and the metrics endpoint. Dramatiq keeps three queues per actor queue:
the queue itself, ``<name>.DQ`` for delayed messages (retries waiting out their backoff) and
``<name>.XQ`` for messages that gave up after their last retry.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from workers.runner import QUEUES


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    declared: bool          # False until a worker or a publisher has declared it
    ready: int = 0          # waiting for a worker
    consumers: int = 0      # workers taking from it
    delayed: int = 0        # retries waiting out their backoff (<queue>.DQ)
    dead: int = 0           # gave up after the last retry (<queue>.XQ)


def describe_amqp(url: str) -> str:
    """``host:port (vhost v)`` of an AMQP URL, without its password, for messages."""
    parts = urlsplit(url)
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    return f"{parts.hostname or 'localhost'}:{port} (vhost {vhost})"


def connect(url: str, timeout: float = 5.0):
    """A blocking connection that gives up after ``timeout`` instead of pika's retries."""
    import pika

    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = timeout
    parameters.stack_timeout = timeout
    parameters.blocked_connection_timeout = timeout
    return pika.BlockingConnection(parameters)


def queue_depths(url: str, queues: tuple[str, ...] = QUEUES, timeout: float = 5.0) -> list[QueueDepth]:
    """Each queue's depth; raises pika's connection errors when the broker cannot be used."""
    import pika.exceptions

    connection = connect(url, timeout)
    try:
        channel = connection.channel()
        found = []
        for queue in queues:
            counts = {}
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                try:
                    method = channel.queue_declare(name, passive=True).method
                except pika.exceptions.ChannelClosedByBroker:  # 404: not declared yet
                    channel = connection.channel()
                    continue
                counts[name] = (method.message_count, method.consumer_count)
            if queue not in counts:
                found.append(QueueDepth(queue, declared=False))
                continue
            ready, consumers = counts[queue]
            found.append(QueueDepth(queue, True, ready, consumers,
                                    counts.get(f"{queue}.DQ", (0, 0))[0],
                                    counts.get(f"{queue}.XQ", (0, 0))[0]))
        return found
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - already closed by the broker: nothing to release
            pass
