"""Reading an incoming email: sender, subject, files, and the key that recognises it again."""
from __future__ import annotations

from intake.mail_message import parse, safe_name
from mail_helpers import make_email, redelivered


def test_the_sender_subject_and_attached_files_are_read_and_logos_are_ignored():
    raw = make_email("Data Manager <Data@Acorn.sch.example>", "results@ers.localhost", "KS1 results",
                     [("KS1.xlsx", b"PK-workbook"), ("logo.png", b"\x89PNG"), ("notes.csv", b"a,b")])
    incoming = parse(raw)
    assert incoming.sender == "data@acorn.sch.example"
    assert incoming.subject == "KS1 results"
    assert incoming.attachments == [("KS1.xlsx", b"PK-workbook"), ("notes.csv", b"a,b")]
    assert incoming.ignored == ["logo.png"]


def test_a_message_with_several_from_addresses_has_no_sender():
    raw = make_email("a@acorn.sch.example, b@beech.sch.example", "results@ers.localhost")
    assert parse(raw).sender is None


def test_attachment_names_lose_their_path_and_control_characters():
    assert safe_name("..\\..\\windows\\evil.xlsx") == "evil.xlsx"
    assert safe_name("/etc/passwd") == "passwd"
    assert safe_name("a\r\nb.csv") == "ab.csv"
    assert safe_name("") == "attachment"


def test_the_same_message_delivered_twice_has_the_same_key_and_a_different_file_does_not():
    raw = make_email("data@acorn.sch.example", "results@ers.localhost", "KS1",
                     [("KS1.xlsx", b"one")], message_id="<m1@acorn.sch.example>")
    again = redelivered(raw, "relay2.example")
    other = make_email("data@acorn.sch.example", "results@ers.localhost", "KS1",
                       [("KS1.xlsx", b"two")], message_id="<m1@acorn.sch.example>")
    assert parse(raw).dedup_key == parse(again).dedup_key
    assert parse(raw).dedup_key != parse(other).dedup_key


def test_a_message_without_a_message_id_is_keyed_by_its_content():
    raw = make_email("data@acorn.sch.example", "results@ers.localhost", "KS1", [("a.xlsx", b"x")])
    raw = b"\r\n".join(line for line in raw.split(b"\n") if not line.startswith(b"Message-ID"))
    incoming = parse(raw)
    assert incoming.message_id.startswith("<no-message-id.")
    assert parse(raw).dedup_key == incoming.dedup_key


def test_out_of_office_replies_are_recognised_as_automatic():
    auto = make_email("data@acorn.sch.example", "results@ers.localhost", "Out of office",
                      headers={"Auto-Submitted": "auto-replied"})
    bulk = make_email("data@acorn.sch.example", "results@ers.localhost", "News",
                      headers={"Precedence": "bulk"})
    person = make_email("data@acorn.sch.example", "results@ers.localhost", "Hello",
                        headers={"Auto-Submitted": "no"})
    assert parse(auto).auto_submitted and parse(bulk).auto_submitted
    assert not parse(person).auto_submitted
