"""A mail server that accepts the connection and then says nothing costs one timeout, not a hang."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from config.settings import MailServer
from intake.imap import CONNECTION_ERRORS, MailboxIntake


def test_a_silent_imap_server_raises_a_connection_error_within_the_timeout(app):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    threading.Thread(target=silent.accept, daemon=True).start()
    server = MailServer(host="127.0.0.1", port=silent.getsockname()[1], tls="none", user="u",
                        password="p")
    intake = MailboxIntake(app, server=server, timeout=1)
    started = time.monotonic()
    with pytest.raises(CONNECTION_ERRORS):
        intake.sync_once()
    silent.close()
    assert time.monotonic() - started < 5
