"""The Procfile and docker-compose.yml agree with each other and with the `ers` command.

No Docker engine runs here, so this is what can be known without one: the compose file parses,
every Procfile process has a compose service running the same `ers` command from the one image,
the third-party services use the official images, and nothing but the mail and SFTP ports
partners need is published beyond loopback.
"""
from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pytest

from intake.cli import build_parser

yaml = pytest.importorskip("yaml")
REPO = Path(__file__).resolve().parents[1]


def procfile() -> dict[str, str]:
    processes = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            assert name not in processes, f"{name} twice in the Procfile"
            processes[name.strip()] = command.strip()
    return processes


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def parsed(command: str | list[str]) -> argparse.Namespace:
    words = shlex.split(command) if isinstance(command, str) else list(command)
    assert words[0] == "ers", f"{command!r} is not an ers command"
    return build_parser().parse_args(words[1:])


def test_every_procfile_process_is_a_valid_ers_command():
    processes = procfile()
    assert {"worker", "scheduler", "metrics", "intake-email", "intake-sftp", "intake-mis",
            "intake-folder"} <= set(processes)
    for command in processes.values():
        parsed(command)  # exits (fails the test) on an unknown command or option


def test_every_procfile_process_has_a_compose_service_running_the_same_command():
    services = compose()["services"]
    for name, command in procfile().items():
        assert name in services, f"the Procfile's {name} has no service in docker-compose.yml"
        service = services[name]
        assert parsed(service["command"]).func is parsed(command).func, name
        assert service.get("build") == "." and service["image"] == services["worker"]["image"]


def test_the_third_party_services_use_the_official_images():
    services = compose()["services"]
    images = {name: s["image"] for name, s in services.items() if "build" not in s}
    assert images["rabbitmq"] == "rabbitmq:3-management"
    assert images["postgres"] == "postgres:15"
    assert images["mail"].startswith("mailserver/docker-mailserver:")
    assert images["sftp"].startswith("atmoz/sftp")


def test_only_the_mail_and_sftp_ports_partners_use_are_published_beyond_loopback():
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            if not str(port).startswith("127.0.0.1:"):
                assert (name, port) in {("mail", "25:25"), ("sftp", "2222:22")}, (name, port)


def test_the_services_own_processes_start_after_the_database_is_migrated():
    services = compose()["services"]
    assert parsed(services["init"]["command"]).func.__name__ == "cmd_init"
    for name in procfile():
        assert services[name]["depends_on"] == {
            "init": {"condition": "service_completed_successfully"}}, name
    assert set(services["init"]["depends_on"]) == {"postgres", "rabbitmq"}
