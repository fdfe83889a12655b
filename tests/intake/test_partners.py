"""SFTP partners in the registry: what they may deliver, how they are answered, and MIS feeds."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from conftest import ACORN, BEECH, DALE, contact_of
from helpers import roster_of, valid_ctf, valid_ks1
from intake import demo_world as world
from intake.mis import take_feed
from intake.receive import receive
from intake.registry_import import import_partners
from intake.sftp import result_json
from models import OutgoingEmail, Partner, PartnerSchool, Pupil, School, Upload, UploadStatus
from workers.runner import drain
from workers.status import status_box

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
HEADER = "Name,Host,Port,User,Password,Key file,Host key,Inbox,Outbox,Feed,Schools\n"


@pytest.fixture
def wonde(app) -> Partner:
    text = HEADER + (f"Wonde,127.0.0.1,52222,ers-partner1,,/keys/id,{HOST_KEY},/files/in,"
                     f"/files/out,/files/feed,{ACORN};{BEECH}\n")
    with app.sessions.begin() as session:
        report = import_partners(session, text)
    assert (report.added, report.problems) == (1, [])
    with app.sessions() as session:
        partner = session.scalar(select(Partner))
        session.expunge(partner)
    return partner


def test_bad_partner_rows_are_reported_with_their_line_and_good_ones_kept(app):
    text = HEADER + "\n".join([
        f"ok,host,22,u,pw,,{HOST_KEY},/in,/out,,{ACORN}",
        f"nokey,host,22,u,pw,,,/in,/out,,{ACORN}",
        f"noauth,host,22,u,,,{HOST_KEY},/in,/out,,{ACORN}",
        f"stranger,host,22,u,pw,,{HOST_KEY},/in,/out,,9999999",
        f"badport,host,ssh,u,pw,,{HOST_KEY},/in,/out,,{ACORN}"]) + "\n"
    with app.sessions.begin() as session:
        report = import_partners(session, text)
    assert report.added == 1
    assert [p.split(":")[0] for p in report.problems] == ["line 3", "line 4", "line 5", "line 6"]
    assert "host key must be" in report.problems[0] and "password or a key file" in report.problems[1]
    assert "9999999 are not in the registry" in report.problems[2] and "not a number" in report.problems[3]


def test_importing_again_replaces_the_partners_schools(app, wonde):
    text = HEADER + f"Wonde,127.0.0.1,52222,ers-partner1,pw,,{HOST_KEY},/in,/out,,{DALE}\n"
    with app.sessions.begin() as session:
        assert import_partners(session, text).updated == 1
    with app.sessions() as session:
        linked = session.scalars(select(School.dfe).join(PartnerSchool)).all()
    assert linked == [DALE]


def test_a_partners_file_is_answered_to_the_schools_contacts_not_to_the_partner(
        app, wonde, stub_broker, stub_worker):
    receipt = receive(app, valid_ks1(ACORN), file_name="acorn.xlsx", sender=wonde.sender,
                      channel="sftp", source_ref="wonde:/files/in/acorn.xlsx:1:2")
    drain(stub_broker)
    with app.sessions() as session:
        upload = session.get(Upload, receipt.upload_ids[0])
        emails = session.scalars(select(OutgoingEmail)).all()
        assert upload.status == UploadStatus.SUCCESSFUL and upload.uploaded_by == "sftp:wonde"
    assert [e.kind for e in emails] == ["result"]  # no receipt: the partner gets result files
    assert contact_of(ACORN) in emails[0].to_addrs and "sftp:wonde" not in emails[0].to_addrs
    document = result_json(upload, ACORN)
    assert {"format", "collection", "school", "status", "pupils", "errors", "warnings"} <= set(document)
    assert (document["status"], document["upload"], document["upload_status"]) == (
        "valid", upload.id, "Successful")


def test_a_partners_file_for_a_school_it_does_not_serve_is_refused(app, wonde, stub_broker, stub_worker):
    receipt = receive(app, valid_ks1(DALE), file_name="dale.xlsx", sender=wonde.sender,
                      channel="sftp", source_ref="wonde:/files/in/dale.xlsx:1:2")
    drain(stub_broker)
    with app.sessions() as session:
        upload = session.get(Upload, receipt.upload_ids[0])
    document = result_json(upload, None)
    assert document["status"] == "invalid" and upload.status == UploadStatus.ERROR
    assert any(DALE in e["message"] for e in document["errors"])


def test_a_roster_feed_replaces_the_linked_schools_roster_and_refuses_other_schools(app, wonde):
    pupils = roster_of(ACORN)[:10] + roster_of(DALE)[:3]
    note = take_feed(app, wonde, "roster.csv", world.roster_csv(pupils).encode(), "wonde:feed:1").note
    assert f"{ACORN} 10 pupils" in note and "3 problem(s)" in note and "not one this feed serves" in note
    with app.sessions() as session:
        acorn = session.scalar(select(School).where(School.dfe == ACORN))
        dale = session.scalar(select(School).where(School.dfe == DALE))
        assert session.query(Pupil).filter_by(school_id=acorn.id).count() == 10
        assert session.query(Pupil).filter_by(school_id=dale.id).count() == len(roster_of(DALE))
        box = dict(status_box(session, app.collections, ACORN, datetime.now(timezone.utc)))
    assert box["MIS connected"] == "Yes" and box["Connection partner"] == "wonde"
    assert "roster CSV roster.csv: 10 pupils" in box["Last feed"]
    assert "window 1 open until" in box["Collection enabled"]


def test_a_ctf_feed_updates_the_roster_and_its_results_are_uploaded(app, wonde, stub_broker, stub_worker):
    taken = take_feed(app, wonde, f"{ACORN}_CTF.xml", valid_ctf(ACORN), "wonde:feed:2")
    drain(stub_broker)
    assert "CTF" in taken.note and f"results received as upload #{taken.upload_ids[0]}" in taken.note
    with app.sessions() as session:
        upload = session.scalar(select(Upload))
        assert (upload.format, upload.status) == ("ctf-xml", UploadStatus.SUCCESSFUL)
        link = session.scalar(select(PartnerSchool).join(School).where(School.dfe == ACORN))
        assert link.last_feed.startswith("CTF")


def test_a_school_with_no_partner_shows_it_is_not_connected(app):
    with app.sessions() as session:
        box = dict(status_box(session, app.collections, DALE, datetime.now(timezone.utc)))
        assert status_box(session, app.collections, "0000000", datetime.now(timezone.utc)) is None
    assert (box["MIS connected"], box["Connection partner"], box["Last feed"]) == (
        "No", "None", "None received")
