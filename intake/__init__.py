"""Channels (folder, CLI, later email, SFTP, MIS feeds) all ending in ``receive()``."""
