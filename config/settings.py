"""Settings read from the environment, so one build runs embedded, in CI and in production.

Every variable has a default that makes the embedded set-up work on a fresh machine:
SQLite under ``var/``, Dramatiq's in-process broker and ``.eml`` files for outgoing mail.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

# name -> (meaning, default shown in --help and the README)
DOCUMENTED = {
    "ERS_DATA_DIR": ("where stored files, the SQLite database and the outbox live", "./var"),
    "ERS_DATABASE_URL": ("SQLAlchemy URL of the database", "sqlite:///$ERS_DATA_DIR/ers.db"),
    "ERS_BROKER_URL": ("amqp://... for RabbitMQ; empty for the in-process broker", ""),
    "ERS_COLLECTIONS": ("TOML file of collections and their windows", "config/collections.toml"),
    "ERS_MAIL_FROM": ("address the service's answers come from", "results@ers.localhost"),
    "ERS_MAX_FILE_BYTES": ("largest file accepted", "20000000"),
    "ERS_MAX_ROWS": ("most rows read from one sheet", "20000"),
    "ERS_MAX_UNZIPPED_BYTES": ("largest a workbook may be once unzipped", "200000000"),
    "ERS_MAX_COMPRESSION_RATIO": ("highest unzipped:zipped ratio of a workbook (zip bombs)", "200"),
    "ERS_MAX_SECONDS_PER_FILE": ("time allowed to check one file", "120"),
    "ERS_SMTP_HOST": ("SMTP relay for answers and reports; empty writes .eml files to the outbox", ""),
    "ERS_SMTP_PORT": ("SMTP relay port", "587"),
    "ERS_SMTP_TLS": ("starttls, ssl or none", "starttls"),
    "ERS_SMTP_USER": ("SMTP login; empty sends without authenticating", ""),
    "ERS_SMTP_PASSWORD": ("SMTP password", ""),
    "ERS_SMTP_CA_FILE": ("CA certificate to trust for the relay (default: the system's)", ""),
    "ERS_SEND_ATTEMPTS": ("attempts before an outgoing email is marked failed", "10"),
    "ERS_IMAP_HOST": ("IMAP server of the service's mailbox (for `ers intake email`)", ""),
    "ERS_IMAP_PORT": ("IMAP port", "993 (ssl) or 143"),
    "ERS_IMAP_TLS": ("ssl, starttls or none", "ssl"),
    "ERS_IMAP_USER": ("IMAP login", ""),
    "ERS_IMAP_PASSWORD": ("IMAP password", ""),
    "ERS_IMAP_CA_FILE": ("CA certificate to trust for the IMAP server (default: the system's)", ""),
    "ERS_IMAP_FOLDER": ("folder schools' emails arrive in", "INBOX"),
    "ERS_IMAP_POLL_SECONDS": ("longest wait between checks when IDLE reports nothing", "60"),
    "ERS_AUTHSERV_ID": ("server id in Authentication-Results to trust; when set, a sender's "
                        "DMARC (or aligned DKIM/SPF) must pass", ""),
    "ERS_RETENTION_DAYS": ("days after a collection's final close that its raw files and "
                           "pupil-level data are deleted (`ers retention run`, and the scheduler)",
                           "90"),
    "ERS_LOG_FORMAT": ("json (one object per line, for a log collector) or text", "text"),
    "ERS_LOG_LEVEL": ("DEBUG, INFO, WARNING or ERROR", "INFO"),
    "ERS_REPORTS_DIR": ("where report PDFs and trust bundles are written", "$ERS_DATA_DIR/reports"),
    "ERS_REPORT_FONT_DIR": ("folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf for report PDFs "
                            "(Helvetica, Western European letters only, when absent)",
                            "/usr/share/fonts/truetype/dejavu"),
    "ERS_REMINDER_DAYS": ("days before a deadline that schools with no successful upload (and "
                          "their trusts) are reminded; 0 sends no reminders", "3"),
    "ERS_CLOSE_GRACE_SECONDS": ("how long a due window waits for files received before its "
                                "deadline that are still being checked", "900"),
}


@dataclass(frozen=True)
class Limits:
    """Checked before and while parsing, so no file can exhaust a worker's memory or time."""
    max_rows: int = 20_000
    max_unzipped_bytes: int = 200_000_000
    max_compression_ratio: int = 200
    max_seconds: int = 120
    # The workbook reader lays a sheet out as a full grid (rows x columns, ~40 bytes a cell) and
    # copies a shared string into every cell that uses it, so both are bounded before it reads.
    max_columns: int = 200
    max_cells: int = 3_000_000
    max_text_bytes: int = 50_000_000
    max_zip_entries: int = 10_000    # parts of one workbook
    max_zip_members: int = 500       # files in one bulk zip


@dataclass(frozen=True)
class MailServer:
    """Where and how to reach an SMTP relay or IMAP server; an empty host means not configured."""
    host: str = ""
    port: int = 0
    tls: str = "none"  # ssl, starttls or none
    user: str = ""
    password: str = ""
    ca_file: str = ""

    def ssl_context(self):
        import ssl
        return ssl.create_default_context(cafile=self.ca_file or None)

    @classmethod
    def from_env(cls, env, prefix: str, tls: str, ports: dict[str, int]) -> "MailServer":
        tls = (env.get(f"{prefix}_TLS") or tls).lower()
        if tls not in ports:
            raise ValueError(f"{prefix}_TLS must be one of {', '.join(ports)}, not {tls!r}")
        return cls(host=env.get(f"{prefix}_HOST", ""), port=int(env.get(f"{prefix}_PORT") or ports[tls]),
                   tls=tls, user=env.get(f"{prefix}_USER", ""),
                   password=env.get(f"{prefix}_PASSWORD", ""), ca_file=env.get(f"{prefix}_CA_FILE", ""))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str = ""
    collections_file: Path = PACKAGE_DIR / "collections.toml"
    mail_from: str = "results@ers.localhost"
    max_file_bytes: int = 20_000_000
    limits: Limits = Limits()
    smtp: MailServer = MailServer()
    send_attempts: int = 10
    imap: MailServer = MailServer()
    imap_folder: str = "INBOX"
    imap_poll_seconds: float = 60.0
    authserv_id: str = ""
    reminder_days: float = 3.0
    close_grace_seconds: int = 900
    retention_days: float = 90.0
    reports_path: Path | None = None

    @property
    def reports_dir(self) -> Path:
        return self.reports_path or self.data_dir / "reports"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("ERS_DATA_DIR") or "var").resolve()
        return cls(
            data_dir=data_dir,
            database_url=env.get("ERS_DATABASE_URL") or f"sqlite:///{data_dir / 'ers.db'}",
            broker_url=env.get("ERS_BROKER_URL", ""),
            collections_file=Path(env.get("ERS_COLLECTIONS") or PACKAGE_DIR / "collections.toml"),
            mail_from=env.get("ERS_MAIL_FROM") or "results@ers.localhost",
            max_file_bytes=int(env.get("ERS_MAX_FILE_BYTES") or 20_000_000),
            limits=Limits(
                max_rows=int(env.get("ERS_MAX_ROWS") or 20_000),
                max_unzipped_bytes=int(env.get("ERS_MAX_UNZIPPED_BYTES") or 200_000_000),
                max_compression_ratio=int(env.get("ERS_MAX_COMPRESSION_RATIO") or 200),
                max_seconds=int(env.get("ERS_MAX_SECONDS_PER_FILE") or 120)),
            smtp=MailServer.from_env(env, "ERS_SMTP", "starttls",
                                     {"starttls": 587, "ssl": 465, "none": 25}),
            send_attempts=int(env.get("ERS_SEND_ATTEMPTS") or 10),
            imap=MailServer.from_env(env, "ERS_IMAP", "ssl", {"ssl": 993, "starttls": 143, "none": 143}),
            imap_folder=env.get("ERS_IMAP_FOLDER") or "INBOX",
            imap_poll_seconds=float(env.get("ERS_IMAP_POLL_SECONDS") or 60),
            authserv_id=env.get("ERS_AUTHSERV_ID", "").strip().lower(),
            reports_path=Path(env["ERS_REPORTS_DIR"]).resolve() if env.get("ERS_REPORTS_DIR") else None,
            reminder_days=float(env.get("ERS_REMINDER_DAYS") or 3),
            close_grace_seconds=int(env.get("ERS_CLOSE_GRACE_SECONDS") or 900),
            retention_days=float(env.get("ERS_RETENTION_DAYS") or 90),
        )


def help_text() -> str:
    return "environment:\n" + "\n".join(
        f"  {name:<20} {meaning} (default: {default or 'empty'})"
        for name, (meaning, default) in DOCUMENTED.items()
    )
