"""Mail settings from the environment: sensible ports per TLS mode, and a clear error for a typo."""
from __future__ import annotations

import pytest

from config.settings import Settings


def test_without_mail_settings_answers_go_to_eml_files_and_no_mailbox_is_read():
    settings = Settings.from_env({})
    assert settings.smtp.host == "" and settings.imap.host == ""
    assert (settings.smtp.tls, settings.smtp.port) == ("starttls", 587)
    assert (settings.imap.tls, settings.imap.port) == ("ssl", 993)


def test_the_port_follows_the_tls_mode_unless_given():
    settings = Settings.from_env({"ERS_SMTP_HOST": "relay", "ERS_SMTP_TLS": "SSL",
                                  "ERS_IMAP_HOST": "imap", "ERS_IMAP_TLS": "starttls",
                                  "ERS_IMAP_PORT": "1143", "ERS_AUTHSERV_ID": " MX.Example "})
    assert (settings.smtp.tls, settings.smtp.port) == ("ssl", 465)
    assert (settings.imap.tls, settings.imap.port) == ("starttls", 1143)
    assert settings.authserv_id == "mx.example"


def test_an_unknown_tls_mode_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="ERS_SMTP_TLS must be one of starttls, ssl, none"):
        Settings.from_env({"ERS_SMTP_TLS": "tls"})


def test_email_intake_without_a_mailbox_says_what_to_set(monkeypatch, tmp_path, capsys):
    from intake.cli import main
    monkeypatch.setenv("ERS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ERS_IMAP_HOST", raising=False)
    assert main(["intake", "email", "--once"]) == 2
    assert "Set ERS_IMAP_HOST" in capsys.readouterr().err
