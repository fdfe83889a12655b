"""Errors and warnings grouped as the seeds show them: one line per rule and column, every row listed."""
from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol


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
        finding = self._groups.get(key)
        if finding is None:
            finding = self._groups[key] = Finding(rule, message, column)
        if row is not None and row not in finding.rows:
            finding.rows.append(row)

    def __bool__(self) -> bool:
        return bool(self._groups)

    def grouped(self) -> list[Finding]:
        for finding in self._groups.values():
            finding.rows.sort()
        return list(self._groups.values())


class RowFindings(Protocol):
    """Where a check reports a finding on a row: ``Findings`` itself, or ``ColumnFindings``."""

    def add(self, rule: str, message: str, column: str | None, row: int) -> None: ...


class ColumnFindings:
    """Findings made column by column, handed to ``Findings`` in the order a row-by-row check
    would have made them: by row, then by the check's place in a row (``next_check`` moves on).

    That order is the report's order (``Findings`` groups in first-seen order), so checking a
    file a column at a time, each distinct value once, reports exactly what row by row would.
    """

    def __init__(self) -> None:
        self._check = 0
        self._found: list[tuple[int, int, str, str, str | None]] = []

    def next_check(self) -> None:
        """What is added from now on comes after everything added before, on the same row."""
        self._check += 1

    def add(self, rule: str, message: str, column: str | None, row: int) -> None:
        self._found.append((row, self._check, rule, message, column))

    def hand_to(self, findings: Findings) -> None:
        """Add everything found to ``findings`` in row order, then forget it."""
        for row, _, rule, message, column in sorted(self._found, key=itemgetter(0, 1)):
            findings.add(rule, message, column, row)
        self._found.clear()
