"""The real stack a benchmark runs on: the services `make bench` started (RabbitMQ, PostgreSQL,
Dovecot, Postfix), a fresh database per run, and `ers` processes whose peak memory is read back."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[2]


class ServicesMissing(RuntimeError):
    """A section needs a service `make bench` starts; run through `make bench`, or export
    `bash config/services/all.sh env` after `make services`."""


def service(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ServicesMissing(f"{name} is not set: run `make bench` (it starts the services), or "
                              "`make services` and `eval \"$(bash config/services/all.sh env)\"`")
    return value


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database on the bench server for one section, dropped afterwards."""
    base = make_url(service("ERS_TEST_PG_URL"))
    name = f"ers_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def ers_env(data_dir: Path, database_url: str, broker_url: str, collections: Path,
            **extra: str) -> dict[str, str]:
    """The environment an `ers` process of this bench runs with (embedded mail unless told)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERS_") or k.startswith("ERS_TEST_")}
    env.update(ERS_DATA_DIR=str(data_dir), ERS_DATABASE_URL=database_url,
               ERS_BROKER_URL=broker_url, ERS_COLLECTIONS=str(collections), **extra)
    return env


@dataclass
class Processes:
    """`ers` processes started for a bench; their peak resident memory is known once stopped."""
    running: list[subprocess.Popen] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        handle = log.open("w")
        process = subprocess.Popen([sys.executable, "-m", "intake.cli", *args], cwd=REPO, env=env,
                                   stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        process.log = log  # type: ignore[attr-defined]
        self.running.append(process)
        return process

    def check_alive(self) -> None:
        for process in self.running:
            if process.poll() is not None:
                raise RuntimeError(f"`ers` process {process.pid} stopped (exit {process.returncode}):"
                                   f"\n{process.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """SIGTERM each (workers finish their message), noting its peak memory first."""
        for process in self.running:
            self.peak_rss_mb.append(peak_rss_mb(process.pid))
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            wait_watching_memory(process)
            self.outputs.append(process.log.read_text())
        self.running.clear()


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB; 0 once it has gone.

    Not ``ru_maxrss`` from wait4: Linux carries that across exec, so every child would report
    at least the memory of the bench process that forked it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def wait_watching_memory(process: subprocess.Popen, timeout: float = 60.0) -> float:
    """Wait for the process (killing it after ``timeout``), sampling its peak memory until it
    exits; returns that peak in MB."""
    deadline = time.monotonic() + timeout
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, peak_rss_mb(process.pid))
        if time.monotonic() > deadline:
            process.kill()
        time.sleep(0.02)
    return peak


def run_measured(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    """Run one `ers` command to completion; (its result, its peak RSS in MB)."""
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen([sys.executable, "-m", "intake.cli", *args], cwd=REPO, env=env,
                                   stdout=output, stderr=subprocess.STDOUT, text=True)
        peak = wait_watching_memory(process, timeout=3600)
        output.seek(0)
        return subprocess.CompletedProcess(process.args, process.returncode, output.read(), ""), peak


# --- small helpers shared by the sections that run the whole stack ------------------------------

def write_collections(folder: Path) -> Path:
    """The demo collections TOML with every window open now, so a bench never goes stale."""
    from datetime import datetime, timezone

    from intake.demo_world import all_collections_toml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "collections.toml"
    path.write_text(all_collections_toml(datetime.now(timezone.utc)))
    return path


def open_app(data_dir: Path, database_url: str, broker_url: str, collections: Path, **settings):
    """The bench process's own App (installed as the current one) on a migrated database."""
    from config.settings import Settings
    from intake.cli import prepare_database
    from workers.app import App, install

    app = install(App(Settings(data_dir=data_dir, database_url=database_url, broker_url=broker_url,
                               collections_file=collections, **settings)))
    prepare_database(app)
    return app


@contextmanager
def rabbitmq(url: str) -> Iterator[object]:
    """RabbitMQ as this process's broker (publisher confirms, as `receive()` uses in production);
    the in-process one is put back afterwards so later code never publishes by accident."""
    from workers.broker import install, make_broker

    broker = install(make_broker(url))
    try:
        yield broker
    finally:
        broker.close()
        install(make_broker(""))


def wait_for_output(processes: Processes, process: subprocess.Popen, expected: str,
                    timeout: float = 60.0) -> None:
    """Until the process's log shows ``expected`` (e.g. "Worker running"): it is ready for work."""
    deadline = time.monotonic() + timeout
    while expected not in process.log.read_text():  # type: ignore[attr-defined]
        processes.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"`ers` process {process.pid} did not print {expected!r} within "
                               f"{timeout:.0f} s:\n{process.log.read_text()[-2000:]}")
        time.sleep(0.1)


@contextmanager
def private_vhost(url: str) -> Iterator[str]:
    """The AMQP URL of a RabbitMQ virtual host of this bench's own, deleted afterwards.

    The actors' queue names are fixed, so on the shared vhost any other `ers worker` running at
    the same time (another section, a test run) takes this bench's messages and answers them from
    its own database: its uploads would never be answered here, and that run's never there.
    Made with the node's rabbitmqctl (`config/services/rabbitmq.sh ctl`), as `make bench` runs as
    the user who started the services.
    """
    from urllib.parse import quote, unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    name = f"ers-bench-{uuid.uuid4().hex[:10]}"
    user = unquote(parts.username or "guest")

    def ctl(*args: str) -> None:
        done = subprocess.run(["bash", str(REPO / "config" / "services" / "rabbitmq.sh"), "ctl", *args],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise ServicesMissing(f"rabbitmqctl {' '.join(args)} failed: {done.stderr or done.stdout}")

    ctl("add_vhost", name)
    try:
        ctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        yield urlunsplit(parts._replace(path="/" + quote(name, safe="")))
    finally:
        ctl("delete_vhost", name)


def stop_after_failure(processes: Processes, say) -> None:
    """Stop the processes of a failed bench and show the end of each one's log (the reason is
    usually there)."""
    logs = [process.log for process in processes.running]  # type: ignore[attr-defined]
    processes.stop()
    for log in logs:
        say(f"`ers` log {log.name} ends:\n{log.read_text()[-3000:]}")
