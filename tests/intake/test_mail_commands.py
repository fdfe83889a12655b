"""Subject-line commands are recognised strictly, so ordinary subjects are never taken for one."""
from __future__ import annotations

from intake.mail_commands import Command, help_lines, parse_subject


def test_each_command_is_recognised_in_any_case_and_after_reply_prefixes():
    assert parse_subject("TEMPLATE ks1-2027") == Command("TEMPLATE", ("ks1-2027",))
    assert parse_subject("template ks1-2027 8012001") == Command("TEMPLATE", ("ks1-2027", "8012001"))
    assert parse_subject("Re: RE: confirm #12") == Command("CONFIRM", ("12",))
    assert parse_subject("Fwd: DELETE 7") == Command("DELETE", ("7",))
    assert parse_subject("History") == Command("HISTORY", ())
    assert parse_subject("  help ") == Command("HELP", ())


def test_ordinary_subjects_are_not_commands():
    for subject in ("Template for KS1 attached", "KS1 results", "", "Help with the template please",
                    "Confirm 12 please", "Re: Results of your 3 files"):
        assert parse_subject(subject) is None, subject


def test_the_help_lists_every_command():
    text = "\n".join(help_lines())
    for verb in ("TEMPLATE", "HISTORY", "CONFIRM", "DELETE", "HELP"):
        assert verb in text
