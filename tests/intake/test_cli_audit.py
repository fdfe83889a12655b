"""``ers audit seal|verify|show``: exit codes and what an operator reads."""
from __future__ import annotations

import argparse

import pytest
from sqlalchemy import update

from intake.cli import build_parser
from models.audit import AuditEvent, audit
from workers.app import App


def ers(*argv: str) -> int:
    args = build_parser().parse_args(["audit", *argv])
    return args.func(args)


@pytest.fixture
def trail(env):
    """The embedded app of ``ers`` (database under ERS_DATA_DIR) with four events written."""
    from intake.cli import _app

    app: App = _app(argparse.Namespace())
    with app.engine.begin() as connection:
        for n in range(4):
            audit(connection, "ops@example.org", "upload", n, "received", channel="cli")
        audit(connection, "relay", "email", 7, "sent")
    yield app
    app.engine.dispose()


def test_seal_then_verify_exit_0_with_the_count_and_the_head(trail, capsys):
    assert ers("verify") == 0
    assert "0 events verified" in capsys.readouterr().out
    assert ers("seal") == 0
    sealed = capsys.readouterr().out
    assert sealed.startswith("5 event(s) sealed; chain head 5:")
    recorded = sealed.split("chain head ")[1].split(" ")[0]
    assert ers("verify", "--expect", recorded) == 0
    out = capsys.readouterr().out
    assert f"5 events verified, chain head {recorded[2:]} (seq 5)" in out
    assert "0 event(s) not sealed yet." in out
    audit_more(trail)
    assert ers("verify") == 0
    assert "1 event(s) not sealed yet (`ers audit seal` or the scheduler seals them)." in \
        capsys.readouterr().out


def audit_more(app: App) -> None:
    with app.engine.begin() as connection:
        audit(connection, "worker", "upload", 9, "validated")


def test_verify_exits_1_and_names_the_changed_event(trail, capsys):
    ers("seal")
    with trail.engine.begin() as connection:
        connection.execute(update(AuditEvent.__table__).where(AuditEvent.seq == 2)
                           .values(actor="someone-else"))
    assert ers("verify") == 1
    err = capsys.readouterr().err
    assert "Audit trail check failed after 1 good event(s): event #" in err
    assert "(seq 2) was changed." in err


def test_verify_exits_2_for_a_malformed_expected_head(trail, capsys):
    assert ers("verify", "--expect", "5:abc") == 2
    assert "SEQ:HASH" in capsys.readouterr().err


def test_show_lists_newest_first_with_filters(trail, capsys):
    ers("seal")
    capsys.readouterr()
    audit_more(trail)
    assert ers("show", "--limit", "2") == 0
    first, second = capsys.readouterr().out.splitlines()
    assert "unsealed" in first and "worker  upload 9  validated" in first
    assert "seq 5" in second and "relay  email 7  sent" in second
    assert ers("show", "--entity", "upload", "--id", "2") == 0
    [only] = capsys.readouterr().out.splitlines()
    assert "ops@example.org  upload 2  received" in only and '{"channel": "cli"}' in only
