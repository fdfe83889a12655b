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
}


@dataclass(frozen=True)
class Limits:
    """Checked before and while parsing, so no file can exhaust a worker's memory or time."""
    max_rows: int = 20_000
    max_unzipped_bytes: int = 200_000_000
    max_compression_ratio: int = 200
    max_seconds: int = 120


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str = ""
    collections_file: Path = PACKAGE_DIR / "collections.toml"
    mail_from: str = "results@ers.localhost"
    max_file_bytes: int = 20_000_000
    limits: Limits = Limits()

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
        )


def help_text() -> str:
    return "environment:\n" + "\n".join(
        f"  {name:<20} {meaning} (default: {default or 'empty'})"
        for name, (meaning, default) in DOCUMENTED.items()
    )
