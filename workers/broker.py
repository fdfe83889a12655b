"""Broker set-up: RabbitMQ with publisher confirms for amqp:// URLs, the in-process broker otherwise.

Importing this module installs an in-process broker as Dramatiq's global one, so declaring the
actors never opens a connection to whatever may listen on localhost:5672.
"""
from __future__ import annotations

import dramatiq
from dramatiq.broker import Broker
from dramatiq.brokers.stub import StubBroker

from workers.job_logs import JobLogging

if dramatiq.broker.global_broker is None:
    dramatiq.set_broker(StubBroker())


RABBITMQ_SCHEMES = ("amqp://", "amqps://")


def uses_rabbitmq(url: str) -> bool:
    """Whether ``url`` names RabbitMQ; anything else (empty included) means the in-process broker.

    One test shared by the broker set-up, ``ers metrics`` and ``ers doctor``, so they never
    disagree on which broker a setting gives.
    """
    return url.startswith(RABBITMQ_SCHEMES)


def make_broker(url: str) -> Broker:
    if uses_rabbitmq(url):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # confirm_delivery: send() returns only once RabbitMQ has the message (invariant 1).
        broker: Broker = RabbitmqBroker(url=url, confirm_delivery=True)
    else:
        broker = StubBroker(fail_fast_default=False)
    # The dramatiq CLI emits this; we run workers ourselves, and without it the TimeLimit
    # middleware never starts its watchdog, so no file would ever be stopped.
    broker.add_middleware(JobLogging())
    broker.emit_after("process_boot")
    return broker


def install(broker: Broker) -> Broker:
    """Make ``broker`` the global one and re-bind every declared actor to it."""
    from workers import actors

    dramatiq.set_broker(broker)
    for actor in actors.ALL:
        actor.broker = broker
        broker.declare_actor(actor)
    return broker


def is_embedded(broker: Broker) -> bool:
    return isinstance(broker, StubBroker)
