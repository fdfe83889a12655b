"""Operations commands: ``ers doctor`` (is every configured component usable?) and ``ers metrics``.

Wired into ``intake/cli.py``'s parser by ``add_commands``; both only read, so neither migrates
the database first the way other commands do (``ers doctor`` must report an old schema, not fix
it; ``ers metrics`` must keep answering, with ``ers_database_up 0``, while the database is down).
"""
from __future__ import annotations

import argparse
import json
import sys

MARKS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "off": "off", "skip": "skip"}


def cmd_doctor(args: argparse.Namespace) -> int:
    from workers.doctor import diagnose

    checks = diagnose(timeout=args.timeout)
    failed = [c for c in checks if not c.ok]
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [c.as_json() for c in checks]}, indent=2))
        return 1 if failed else 0
    width = max(len(c.component) for c in checks)
    for check in checks:
        print(f"{MARKS[check.status]:<5} {check.component:<{width}}  {check.message}")
    warned = [c.component for c in checks if c.status == "warn"]
    if failed:
        print(f"\n{len(failed)} problem{'s' * (len(failed) != 1)} to fix: "
              f"{', '.join(c.component for c in failed)}.")
    else:
        print("\nEvery configured component is usable"
              + (f" (read the warnings: {', '.join(warned)})." if warned else "."))
    return 1 if failed else 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from config.settings import Settings
    from intake.cli import _stop_on_signals
    from workers.app import App, install
    from workers.metrics import make_server, serve

    app = install(App(Settings.from_env()))
    try:
        server = make_server(app, args.host, args.port)
    except OSError as exc:
        print(f"Cannot listen on {args.host}:{args.port}: {exc.strerror or exc} — choose another "
              "--port, or stop what uses it.", file=sys.stderr)
        return 2
    stop = _stop_on_signals()
    print(f"Metrics at http://{args.host}:{server.server_port}/metrics (from "
          f"{'the database and RabbitMQ' if app.settings.broker_url else 'the database'}); "
          "Ctrl-C to stop.", flush=True)
    try:
        serve(server, stop)
    finally:
        app.engine.dispose()
    return 0


def add_commands(sub, command) -> None:
    """Add ``doctor`` and ``metrics`` to the ``ers`` parser (``command`` is build_parser's helper)."""
    p = command("doctor", cmd_doctor, "Check every configured component (database and its "
                "schema, RabbitMQ and its queues, IMAP mailbox, SMTP relay, SFTP partners, folders, "
                "collections) and say in plain words what is wrong and what to do. Sends and "
                "changes nothing. Exit 0 when all is usable, 1 otherwise.", sub)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds allowed to reach each component")

    p = command("metrics", cmd_metrics, "Serve Prometheus metrics at /metrics, read from the "
                "database and RabbitMQ on each scrape: uploads by status and format, outbox by "
                "status, answer latency, reports by status, queue depths.", sub)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback "
                   "only; 0.0.0.0 inside a container)")
    p.add_argument("--port", type=int, default=9464)
