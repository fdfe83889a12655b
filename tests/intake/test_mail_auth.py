"""Authentication-Results: only our own server's stamp counts, and DMARC or aligned DKIM/SPF must pass."""
from __future__ import annotations

from intake.mail_auth import organisational_domain, refusal, results

SENDER = "data@acorn.northyorks.sch.uk"


def test_nothing_is_required_when_no_server_id_is_configured():
    assert refusal([], "", SENDER) is None


def test_dmarc_passing_at_our_server_is_enough():
    header = "mx.ers.example; dmarc=pass (p=none) header.from=acorn.northyorks.sch.uk"
    assert refusal([header], "mx.ers.example", SENDER) is None


def test_a_pass_stamped_by_another_server_is_ignored_as_possibly_forged():
    forged = "mx.attacker.example; dmarc=pass header.from=acorn.northyorks.sch.uk"
    reason = refusal([forged], "mx.ers.example", SENDER)
    assert reason == "The message carries no Authentication-Results from mx.ers.example."


def test_dkim_passes_only_when_its_domain_is_aligned_with_the_from_domain():
    aligned = "mx.ers.example; dkim=pass header.d=mail.acorn.northyorks.sch.uk; dmarc=none"
    other = "mx.ers.example; dkim=pass header.d=bulkmailer.example; dmarc=fail"
    assert refusal([aligned], "mx.ers.example", SENDER) is None
    reason = refusal([other], "mx.ers.example", SENDER)
    assert "could not be authenticated" in reason and "dkim=pass, dmarc=fail" in reason


def test_spf_passes_when_the_envelope_domain_is_aligned():
    header = "mx.ers.example 1; spf=pass smtp.mailfrom=bounces@acorn.northyorks.sch.uk"
    assert refusal([header], "mx.ers.example", SENDER) is None
    header = "mx.ers.example; spf=pass smtp.mailfrom=bounces@beech.northyorks.sch.uk"
    assert refusal([header], "mx.ers.example", SENDER) is not None


def test_comments_may_hold_semicolons_without_splitting_the_results():
    server, found = results("mx.ers.example; dkim=pass (good; key=2048) header.d=a.example; "
                            "dmarc=fail (p=reject; dis=none) header.from=a.example")
    assert server == "mx.ers.example"
    assert [(m, r) for m, r, _ in found] == [("dkim", "pass"), ("dmarc", "fail")]


def test_school_domains_under_a_local_authority_are_each_their_own_organisation():
    assert organisational_domain("mail.acorn.northyorks.sch.uk") == "acorn.northyorks.sch.uk"
    assert organisational_domain("beech.northyorks.sch.uk") == "beech.northyorks.sch.uk"
    assert organisational_domain("mail.oaktrust.org.uk") == "oaktrust.org.uk"
    assert organisational_domain("smtp.oaktrust.example") == "oaktrust.example"
