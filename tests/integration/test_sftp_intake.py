"""SFTP partners and MIS feeds end to end on a real OpenSSH sshd with SFTP-only, chrooted accounts."""
from __future__ import annotations

import json
import posixpath
import subprocess
import uuid
from pathlib import Path

import paramiko
import pytest
from sqlalchemy import select

from conftest import ACORN, BEECH, DALE, build_app, service_url
from helpers import invalid_ks1, roster_of, valid_ks1, valid_ks2
from intake import demo_world as world
from intake.mis import take_feed
from intake.registry_import import import_partners
from intake.sftp import SftpPoller, receive_file
from models import Partner, Upload, UploadStatus
from workers.roster import template_pupils
from workers.runner import drain

pytestmark = pytest.mark.services
SSHD = Path(__file__).resolve().parents[2] / "config" / "services" / "sshd.sh"
HEADER = "Name,Host,Port,User,Password,Key file,Host key,Inbox,Outbox,Feed,Schools\n"


class PartnerSide:
    """The partner's own view of its SFTP account: it drops files and reads our results."""

    def __init__(self, host: str, port: int, host_key: str, key: str, base: str) -> None:
        self.host, self.port, self.host_key, self.key, self.base = host, port, host_key, key, base
        self.inbox, self.outbox, self.feed = (posixpath.join(base, d) for d in ("inbox", "outbox", "feed"))

    def client(self) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect(self.host, self.port, username="ers-partner1", key_filename=self.key,
                       look_for_keys=False, allow_agent=False, timeout=20)
        return client

    def put(self, folder: str, name: str, data: bytes) -> None:
        with self.client() as client, client.open_sftp() as sftp:
            with sftp.open(posixpath.join(folder, name), "wb") as handle:
                handle.write(data)

    def listdir(self, folder: str) -> list[str]:
        with self.client() as client, client.open_sftp() as sftp:
            return sorted(sftp.listdir(folder))

    def read(self, path: str) -> bytes:
        with self.client() as client, client.open_sftp() as sftp, sftp.open(path) as handle:
            return handle.read()


@pytest.fixture
def partner_side() -> PartnerSide:
    side = PartnerSide(service_url("ERS_TEST_SFTP_HOST"), int(service_url("ERS_TEST_SFTP_PORT")),
                       service_url("ERS_TEST_SFTP_HOST_KEY"), service_url("ERS_TEST_SFTP_KEY"),
                       f"/files/t{uuid.uuid4().hex[:10]}")
    with side.client() as client, client.open_sftp() as sftp:
        sftp.mkdir(side.base)
        for folder in (side.inbox, side.outbox, side.feed):
            sftp.mkdir(folder)
    return side


def register(app, side: PartnerSide, host_key: str | None = None, schools=(ACORN, BEECH)) -> None:
    row = (f"wonde,{side.host},{side.port},ers-partner1,,{side.key},{host_key or side.host_key},"
           f"{side.inbox},{side.outbox},{side.feed},{';'.join(schools)}\n")
    with app.sessions.begin() as session:
        assert import_partners(session, HEADER + row).problems == []


@pytest.fixture
def sftp_app(tmp_path, partner_side, stub_broker, stub_worker):
    app = build_app(tmp_path / "data")
    register(app, partner_side)
    yield app
    app.engine.dispose()


def uploads(app) -> list[Upload]:
    with app.sessions() as session:
        return list(session.scalars(select(Upload).order_by(Upload.id)))


def test_a_file_is_taken_once_settled_and_answered_with_a_result_file_and_an_errors_workbook(
        sftp_app, partner_side, stub_broker):
    partner_side.put(partner_side.inbox, "acorn.xlsx", invalid_ks1(ACORN))
    partner_side.put(partner_side.inbox, "beech.xlsx.part", b"half a file")
    poller = SftpPoller(sftp_app)
    first = poller.poll_once()
    assert (first.received, first.waiting) == ([], 1)  # seen once: not yet known to be settled
    second = poller.poll_once()
    assert len(second.received) == 1
    drain(stub_broker)
    # Written as soon as the check is done: in that same poll if the worker was quick, else the next.
    assert second.results_written + poller.poll_once().results_written == 2
    assert partner_side.listdir(partner_side.outbox) == ["acorn.xlsx.errors.xlsx",
                                                         "acorn.xlsx.result.json"]
    result = json.loads(partner_side.read(posixpath.join(partner_side.outbox, "acorn.xlsx.result.json")))
    assert (result["status"], result["upload_status"], result["school"]) == ("invalid", "Upload error", ACORN)
    assert any("Range must be between 85 to 115" in e["message"] for e in result["errors"])
    inbox = partner_side.listdir(partner_side.inbox)
    assert inbox == ["beech.xlsx.part", "processed"]
    [moved] = partner_side.listdir(posixpath.join(partner_side.inbox, "processed"))
    assert moved.endswith("-acorn.xlsx") and len(moved.split("-")[1]) == 12


def test_a_file_being_written_slowly_is_never_taken_half_written(sftp_app, partner_side, stub_broker):
    data = valid_ks1(BEECH)
    poller = SftpPoller(sftp_app)
    with partner_side.client() as client, client.open_sftp() as sftp:
        with sftp.open(posixpath.join(partner_side.inbox, "beech.xlsx"), "wb") as handle:
            for start in range(0, len(data), len(data) // 4 + 1):
                handle.write(data[start:start + len(data) // 4 + 1])
                handle.flush()
                assert poller.poll_once().received == []  # it grew since the last poll
    [taken] = poller.poll_once().received  # unchanged since the last poll: settled
    drain(stub_broker)
    [upload] = uploads(sftp_app)
    assert (upload.id, upload.status, upload.size) == (taken, UploadStatus.SUCCESSFUL, len(data))


def test_a_done_marker_means_the_file_is_taken_at_the_first_poll(sftp_app, partner_side):
    partner_side.put(partner_side.inbox, "acorn.xlsx", valid_ks1(ACORN))
    partner_side.put(partner_side.inbox, "acorn.xlsx.done", b"")
    assert len(SftpPoller(sftp_app).poll_once().received) == 1
    assert partner_side.listdir(partner_side.inbox) == ["processed"]


def test_each_file_is_processed_once_across_poller_restarts(sftp_app, partner_side, stub_broker):
    partner_side.put(partner_side.inbox, "acorn.xlsx", valid_ks1(ACORN))
    crashing = SftpPoller(sftp_app)
    crashing.poll_once()

    def crash_after_receiving(*file):
        receive_file(sftp_app, *file)
        raise OSError("the poller died before moving the file")
    assert crashing.poll_once(take=crash_after_receiving).errors  # received, not moved
    restarted = SftpPoller(sftp_app)
    restarted.poll_once()
    again = restarted.poll_once()
    drain(stub_broker)
    assert (again.received, again.duplicates) == ([], 1)
    assert len(uploads(sftp_app)) == 1
    assert partner_side.listdir(partner_side.inbox) == ["processed"]


def test_sshd_stopped_mid_poll_loses_nothing_and_the_loop_recovers(sftp_app, partner_side, stub_broker):
    for n in range(3):
        partner_side.put(partner_side.inbox, f"acorn-{n}.xlsx", valid_ks1(ACORN, change=n))
    poller = SftpPoller(sftp_app, timeout=5)
    poller.poll_once()

    def stop_sshd_after_first(*file):
        taken = receive_file(sftp_app, *file)
        subprocess.run(["bash", str(SSHD), "stop"], check=True, capture_output=True, timeout=60)
        return taken
    try:
        broken = poller.poll_once(take=stop_sshd_after_first)
        assert broken.errors
        assert poller.poll_once().errors  # still down: reported, nothing taken
    finally:
        subprocess.run(["bash", str(SSHD), "start"], check=True, capture_output=True, timeout=60)
    for _ in range(3):
        poller.poll_once()
    drain(stub_broker)
    assert len(uploads(sftp_app)) == 3
    assert partner_side.listdir(partner_side.inbox) == ["processed"]
    assert len(partner_side.listdir(posixpath.join(partner_side.inbox, "processed"))) == 3


def test_a_partner_delivering_for_a_school_it_does_not_serve_is_refused_with_a_result_file(
        sftp_app, partner_side, stub_broker):
    partner_side.put(partner_side.inbox, "dale.xlsx", valid_ks1(DALE))
    poller = SftpPoller(sftp_app)
    poller.poll_once()
    poller.poll_once()
    drain(stub_broker)
    poller.poll_once()
    result = json.loads(partner_side.read(posixpath.join(partner_side.outbox, "dale.xlsx.result.json")))
    assert result["status"] == "invalid"
    assert any(DALE in e["message"] for e in result["errors"])


def test_two_hundred_files_dropped_at_once_are_all_processed(sftp_app, partner_side, stub_broker):
    with partner_side.client() as client, client.open_sftp() as sftp:
        for n in range(200):
            school = (ACORN, BEECH)[n % 2]
            with sftp.open(posixpath.join(partner_side.inbox, f"{school}_KS2_{n:03d}.csv"), "wb") as h:
                h.write(valid_ks2(school, change=n))
    poller = SftpPoller(sftp_app)
    poller.poll_once()
    taken = poller.poll_once()
    drain(stub_broker)
    assert len(taken.received) == 200
    assert {u.status for u in uploads(sftp_app)} <= {UploadStatus.SUCCESSFUL, UploadStatus.OVERWRITTEN}
    assert taken.results_written + poller.poll_once().results_written == 200
    assert len([n for n in partner_side.listdir(partner_side.outbox) if n.endswith(".result.json")]) == 200
    assert partner_side.listdir(partner_side.inbox) == ["processed"]


def test_a_server_with_another_host_key_is_refused(tmp_path, partner_side):
    app = build_app(tmp_path / "data")
    kind, blob = partner_side.host_key.split()[:2]
    flipped = blob[:40] + ("B" if blob[40] != "B" else "C") + blob[41:]  # another valid key
    register(app, partner_side, host_key=f"{kind} {flipped}")
    partner_side.put(partner_side.inbox, "acorn.xlsx.done", b"")
    partner_side.put(partner_side.inbox, "acorn.xlsx", valid_ks1(ACORN))
    report = SftpPoller(app).poll_once()
    assert report.received == [] and "wonde" in report.errors[0]
    assert "acorn.xlsx" in partner_side.listdir(partner_side.inbox)
    app.engine.dispose()


def test_a_roster_feed_changes_the_next_template(sftp_app, partner_side):
    with sftp_app.sessions() as session:
        before = template_pupils(session, ACORN, "ks1-template", None)[1]
    arrivals = roster_of(ACORN)[:5] + [world.RosterPupil(ACORN, world.make_upn(ACORN, 22, 777), "New",
                                                         "Arrival", "F", roster_of(ACORN)[0].dob, 2)]
    partner_side.put(partner_side.feed, "roster.csv", world.roster_csv(arrivals).encode())
    poller = SftpPoller(sftp_app, folder="feed", take=lambda *file: take_feed(sftp_app, *file))
    poller.poll_once()
    report = poller.poll_once()
    assert report.notes and f"{ACORN} 6 pupils" in report.notes[0]
    with sftp_app.sessions() as session:
        after = template_pupils(session, ACORN, "ks1-template", None)[1]
        partner = session.scalar(select(Partner))
    assert len(before) == 24 and {p.upn for p in after} == {p.upn for p in arrivals if p.nc_year == 2}
    assert "Arrival" in {p.surname for p in after}
    assert partner.name == "wonde" and partner_side.listdir(partner_side.feed) == ["processed"]


def test_the_operator_imports_a_partner_runs_both_pollers_and_reads_the_status_box(
        env, partner_side, capsys):
    from intake.cli import main
    (env / "partners.csv").write_text(
        HEADER + f"wonde,{partner_side.host},{partner_side.port},ers-partner1,,{partner_side.key},"
        f"{partner_side.host_key},{partner_side.inbox},{partner_side.outbox},{partner_side.feed},{ACORN}\n")
    for kind, name in (("registry", "gias"), ("contacts", "contacts"), ("partners", "partners")):
        assert main([kind, "import", str(env / f"{name}.csv")]) == 0
    partner_side.put(partner_side.feed, "roster.csv", world.roster_csv(roster_of(ACORN)).encode())
    partner_side.put(partner_side.feed, "roster.csv.done", b"")
    partner_side.put(partner_side.inbox, "acorn.xlsx", valid_ks1(ACORN))
    partner_side.put(partner_side.inbox, "acorn.xlsx.done", b"")
    capsys.readouterr()
    assert main(["intake", "mis", "--once"]) == 0
    assert f"{ACORN} 24 pupils" in capsys.readouterr().out
    assert main(["intake", "sftp", "--once"]) == 0
    assert "1 file(s) received" in capsys.readouterr().out
    assert main(["status", "--school", ACORN]) == 0
    box = capsys.readouterr().out
    for line in ("MIS connected:      Yes", "Connection partner: wonde", "roster CSV roster.csv: 24 pupils",
                 "Collection enabled: "):
        assert line in box
    assert "acorn.xlsx.result.json" in partner_side.listdir(partner_side.outbox)


def test_a_hung_partner_server_costs_one_timeout_and_the_other_partners_are_still_served(
        sftp_app, partner_side):
    import socket
    import threading
    import time
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    row = (f"hung,127.0.0.1,{silent.getsockname()[1]},x,pw,,{partner_side.host_key},/in,/out,,"
           f"{DALE}\n")
    with sftp_app.sessions.begin() as session:
        assert import_partners(session, HEADER + row).problems == []
    partner_side.put(partner_side.inbox, "acorn.xlsx", valid_ks1(ACORN))
    partner_side.put(partner_side.inbox, "acorn.xlsx.done", b"")
    started = time.monotonic()
    report = SftpPoller(sftp_app, timeout=2).poll_once()
    elapsed = time.monotonic() - started
    silent.close()
    assert len(report.received) == 1                       # wonde was served
    assert [e.split(":")[0] for e in report.errors] == ["hung"]
    assert elapsed < 10, f"a silent server held the poll for {elapsed:.1f} s"
