"""What a validator returns: plain data the pipeline persists and the CLI prints as JSON."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from workers.validators.findings import Finding


@dataclass(slots=True)  # a file makes one per pupil: slots make them quicker and smaller
class PupilRecord:
    row: int
    upn: str
    forename: str
    surname: str
    gender: str | None
    dob: date | None
    nc_year: int | None
    results: dict[str, Any]


@dataclass
class ValidationContext:
    """What a validator may know about the world; all None for a dry run with no database.

    ``may_submit_for(dfe)`` says whether the sender may submit for that school;
    ``roster_for(dfe)`` gives the UPNs on the school's template, or None when no roster is held;
    ``ctf_parts_for(dfe)`` the CTF parts the school imports (None: all of them).
    """
    may_submit_for: Callable[[str], bool] | None = None
    roster_for: Callable[[str], set[str] | None] | None = None
    ctf_parts_for: Callable[[str], frozenset[str] | None] | None = None


@dataclass
class ValidationResult:
    format: str
    school: str | None
    pupils: list[PupilRecord]
    errors: list[Finding]
    warnings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_json(self, collection: str | None) -> dict[str, Any]:
        """The ``ers validate --json`` contract shared by every format."""
        return {
            "format": self.format,
            "collection": collection,
            "school": self.school,
            "status": "valid" if self.valid else "invalid",
            "pupils": len(self.pupils),
            "errors": [f.as_dict() for f in self.errors],
            "warnings": [f.as_dict() for f in self.warnings],
        }


class UnreadableFile(Exception):
    """The file cannot be read at all, or is not a format we know; the message says what to send."""
