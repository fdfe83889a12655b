"""Collections with terms to accept: a valid upload waits as Awaiting confirmation until confirmed."""
from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import ACORN, TRUST_ADMIN, contact_of
from helpers import valid_ks1
from intake.receive import receive
from models import OutgoingEmail, Upload, UploadStatus
from models.base import utcnow
from workers import pipeline
from workers.confirmation import CannotConfirm, confirm_upload
from workers.history import history


@pytest.fixture
def confirming(app):
    text = app.settings.collections_file.read_text()
    app.settings.collections_file.write_text(
        text.replace('format = "ks1-template"', 'format = "ks1-template"\nrequires_confirmation = true'))
    app.__dict__.pop("collections", None)  # reload the changed TOML
    assert app.collections["ks1-demo"].requires_confirmation
    return app


def send(app, data, sender, minutes_ago):
    upload_id = receive(app, data, file_name="f.xlsx", sender=sender, channel="cli",
                        received_at=utcnow() - timedelta(minutes=minutes_ago)).upload_ids[0]
    pipeline.process_upload(app, upload_id)
    return upload_id


def status(app, upload_id):
    with app.sessions() as session:
        return session.get(Upload, upload_id).status


def test_a_valid_upload_awaits_confirmation_and_is_not_current_until_confirmed(confirming, stub_broker):
    upload_id = send(confirming, valid_ks1(ACORN), contact_of(ACORN), 5)
    assert status(confirming, upload_id) == UploadStatus.AWAITING
    with confirming.sessions() as session:
        row = history(session, school=ACORN)[0]
        email = session.query(OutgoingEmail).filter_by(kind="result").one()
    assert (row.status, row.current) == ("Awaiting confirmation", False)
    assert f"CONFIRM {upload_id}" in email.text_body and "terms" in email.text_body

    confirm_upload(confirming, upload_id, contact_of(ACORN).upper())
    assert status(confirming, upload_id) == UploadStatus.SUCCESSFUL
    with confirming.sessions() as session:
        assert session.query(OutgoingEmail).filter_by(kind="confirmed").count() == 1


def test_only_the_uploader_may_confirm_and_only_once(confirming, stub_broker):
    upload_id = send(confirming, valid_ks1(ACORN), TRUST_ADMIN, 5)
    with pytest.raises(CannotConfirm, match="Only the person who uploaded"):
        confirm_upload(confirming, upload_id, contact_of(ACORN))
    confirm_upload(confirming, upload_id, TRUST_ADMIN)
    with pytest.raises(CannotConfirm, match="not awaiting confirmation"):
        confirm_upload(confirming, upload_id, TRUST_ADMIN)


def test_confirming_an_older_file_does_not_displace_a_later_received_confirmed_one(confirming, stub_broker):
    older = send(confirming, valid_ks1(ACORN, change=1), contact_of(ACORN), 10)
    newer = send(confirming, valid_ks1(ACORN, change=2), contact_of(ACORN), 5)
    confirm_upload(confirming, newer, contact_of(ACORN))
    confirm_upload(confirming, older, contact_of(ACORN))
    assert status(confirming, newer) == UploadStatus.SUCCESSFUL
    assert status(confirming, older) == UploadStatus.OVERWRITTEN


def test_an_invalid_upload_is_never_awaiting_confirmation(confirming, stub_broker):
    from helpers import invalid_ks1
    upload_id = send(confirming, invalid_ks1(ACORN), contact_of(ACORN), 1)
    assert status(confirming, upload_id) == UploadStatus.ERROR
    with pytest.raises(CannotConfirm):
        confirm_upload(confirming, upload_id, contact_of(ACORN))
