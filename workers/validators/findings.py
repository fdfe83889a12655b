"""Errors and warnings grouped as the seeds show them: one line per rule and column, every row listed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Finding:
    rule: str
    message: str
    column: str | None
    rows: list[int] = field(default_factory=list)

    def line(self) -> str:
        """``Surname must have a value. Column: Surname. Row: 10`` (the seeds' wording)."""
        parts = [self.message]
        if self.column:
            parts.append(f"Column: {self.column}.")
        if self.rows:
            label = "Row" if len(self.rows) == 1 else "Rows"
            parts.append(f"{label}: {', '.join(str(r) for r in self.rows)}")
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "column": self.column, "rows": self.rows}


class Findings:
    """Collects findings row by row and groups them by (rule, column, message) in first-seen order."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str | None, str], Finding] = {}

    def add(self, rule: str, message: str, column: str | None = None, row: int | None = None) -> None:
        key = (rule, column, message)
        finding = self._groups.setdefault(key, Finding(rule, message, column))
        if row is not None and row not in finding.rows:
            finding.rows.append(row)

    def __bool__(self) -> bool:
        return bool(self._groups)

    def grouped(self) -> list[Finding]:
        for finding in self._groups.values():
            finding.rows.sort()
        return list(self._groups.values())
