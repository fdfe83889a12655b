"""Fault tests (issue 8): each sends a known number of files through a real channel to the real
services, breaks one of them on the way (a worker killed, RabbitMQ or PostgreSQL restarted, the
IMAP connection dropped, sshd killed, the SMTP relay stopped), and ends by counting (``ledger``)."""
