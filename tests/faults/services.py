"""A private set of the real services for the fault tests, started and stopped by the project's
own scripts (`config/services/*.sh`) in a state directory and on ports of this session's own.

The fault tests kill and restart servers. Doing that to the instances `make test` or a developer
started would break every other test run using them at the same time, so each session gets its
own PostgreSQL cluster, RabbitMQ node, Dovecot, Postfix and sshd (about 6 s to start them all,
RabbitMQ being the slowest), and stops exactly those, through the same scripts, at the end.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "config" / "services"
PARENT = REPO / "var" / "faults"
OWNER = "owner.json"
PORTS = ("ERS_PG_PORT", "ERS_RABBIT_PORT", "ERS_RABBIT_DIST_PORT", "ERS_IMAP_PORT", "ERS_LMTP_PORT",
         "ERS_SMTP_PORT", "ERS_SFTP_PORT")


class ServiceFailed(RuntimeError):
    """A script did not do what it was asked; its output says why."""


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now, all different, below the kernel's ephemeral range.

    Not the kernel's own choice (bind to port 0): that is an ephemeral port, and while a server
    is down a client reconnecting to it over loopback may be given that very port as its own
    source port (TCP's self-connect), so the restarted server finds its port taken.
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(20000, min(low, 32768))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in ports:
            ports.append(port)
    return ports


class PrivateServices:
    """The five services in one private directory (under the repository's ``var/``, whose
    root-owned parents sshd accepts for its chroots)."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        if settings is None:
            PARENT.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="services-", dir=PARENT))
            folder.chmod(0o755)  # PostgreSQL runs as its own user and must reach its data below
            settings = dict(zip(PORTS, map(str, free_ports(len(PORTS)))),
                            ERS_SERVICES_DIR=str(folder),
                            ERS_RABBIT_NODE=f"ers-faults-{uuid.uuid4().hex[:8]}@localhost")
            # Who started them and how: a session killed before its clean-up leaves them to
            # the next session to stop (``stop_orphans``).
            (folder / OWNER).write_text(json.dumps({"pid": os.getpid(), "settings": settings}))
        self.dir = Path(settings["ERS_SERVICES_DIR"])
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ERS_")}
        self.env.update(settings)
        self.urls: dict[str, str] = {}
        self.down: set[str] = set()

    @classmethod
    def stop_orphans(cls) -> None:
        """Stop the instances of earlier sessions whose process has gone without stopping them
        (killed by a CI timeout, say), by their own scripts, and remove their files."""
        for owner in sorted(PARENT.glob(f"services-*/{OWNER}")):
            try:
                recorded = json.loads(owner.read_text())
            except (OSError, ValueError):
                continue
            if _alive(recorded["pid"]):
                continue  # its session is still running
            folder = recorded["settings"]["ERS_SERVICES_DIR"]
            for pid in _started_by(folder):  # its `ers` processes, left without their servers
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                cls(recorded["settings"]).stop_all()
            except ServiceFailed:
                pass

    def run(self, service: str, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(["bash", str(SCRIPTS / f"{service}.sh"), *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise ServiceFailed(f"{service}.sh {' '.join(args)} failed ({done.returncode}):\n"
                                f"{done.stdout}{done.stderr}")
        return done.stdout

    def start(self, service: str) -> None:
        self.run(service, "start")
        self.down.discard(service)

    def stop(self, service: str) -> None:
        self.down.add(service)
        self.run(service, "stop")

    def restore(self) -> None:
        """Start again whatever a test stopped and did not start (it failed meanwhile)."""
        for service in sorted(self.down):
            self.start(service)

    def start_all(self) -> None:
        """PostgreSQL, RabbitMQ and sshd side by side; Postfix after Dovecot (it uses Dovecot's
        certificate and LMTP listener). Then their settings, as ``all.sh env`` prints them."""
        with ThreadPoolExecutor(4) as pool:
            started = [pool.submit(self.start, s) for s in ("rabbitmq", "postgres", "sshd")]
            started.append(pool.submit(lambda: (self.start("dovecot"), self.start("postfix"))))
            for future in started:
                future.result()
        for line in self.run("all", "env").splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            self.urls[name] = value.strip("'")

    def stop_all(self) -> None:
        """Each service by its own script (only what this session started), then its files."""
        def stop(service: str) -> str | None:
            try:
                self.stop(service)
            except (ServiceFailed, subprocess.TimeoutExpired) as exc:
                return str(exc)
            return None
        with ThreadPoolExecutor(5) as pool:  # independent of each other; RabbitMQ takes 3 s
            problems = [p for p in pool.map(stop, ("postfix", "dovecot", "sshd", "rabbitmq",
                                                   "postgres")) if p]
        sshd_config = self.dir / "sshd" / "sshd_config"
        chroots = _chroot_base(sshd_config)
        shutil.rmtree(self.dir, ignore_errors=True)
        if chroots and chroots.startswith("/var/lib/ers-sftp/"):  # sshd.sh's fallback for our dir
            shutil.rmtree(chroots, ignore_errors=True)
        if problems:
            raise ServiceFailed("\n".join(problems))

    # --- what the tests need to know or do --------------------------------------------------

    def url(self, name: str) -> str:
        return self.urls[name]

    def pid(self, service: str) -> int:
        """The master process the script recorded (Dovecot, sshd)."""
        return int((self.dir / service / f"{service}.pid").read_text().strip())

    def kill_children(self, service: str, comm: str | None = None) -> list[int]:
        """SIGKILL the master's descendants named ``comm`` (all when None): the processes serving
        connections (Dovecot's ``imap``, sshd's per-connection ``sshd``). Only this session's
        instance has such processes, so no one else's connection is touched."""
        killed = []
        for pid in _descendants(self.pid(service)):
            try:
                name = Path(f"/proc/{pid}/comm").read_text().strip()
                if comm is None or name == comm:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            except (FileNotFoundError, ProcessLookupError):
                pass
        return killed

    def rabbitmqctl(self, *args: str) -> str:
        return self.run("rabbitmq", "ctl", *args, timeout=60)


def _alive(pid: int) -> bool:
    """Running, not a zombie (a dead process stays one until PID 1 reaps it, slowly here)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


SESSION_MARK = "ERS_FAULTS_SERVICES"  # in the environment of every `ers` process a session starts


def _started_by(folder: str) -> list[int]:
    """Processes whose environment marks them as started by the session of ``folder``."""
    mark = f"{SESSION_MARK}={folder}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and mark in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _descendants(pid: int) -> list[int]:
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _chroot_base(sshd_config: Path) -> str | None:
    try:
        for line in sshd_config.read_text().splitlines():
            if line.startswith("ChrootDirectory "):
                return line.split()[1].removesuffix("/chroot/%u")
    except FileNotFoundError:
        pass
    return None
