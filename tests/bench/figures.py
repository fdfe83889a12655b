"""What a benchmark section reports: named figures beside their floor and target, as a table and
as JSON under ``var/bench/`` so runs can be compared later."""
from __future__ import annotations

import json
import platform
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


@dataclass
class Measured:
    section: str                 # "validation", "pipeline", "close" or "email"
    name: str                    # what was measured, with its size
    value: float
    unit: str                    # "ms", "uploads/s", "s", "MB", "PDFs/s"
    floor: float | None = None   # the same work without our code, measured in the same run
    target: str = ""             # the target, in words
    met: bool | None = None      # None: no target for this figure
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return None if not self.floor else self.value / self.floor


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), so p95 of 20 samples is the 19th: a real sample."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(rows: list[Measured]) -> str:
    head = ("section", "measure", "value", "floor", "ratio", "target", "met")
    lines = [head]
    for r in rows:
        lines.append((r.section, r.name, f"{_number(r.value)} {r.unit}",
                      "" if r.floor is None else f"{_number(r.floor)} {r.unit}",
                      "" if r.ratio is None else f"{r.ratio:.1f}x", r.target,
                      "" if r.met is None else ("yes" if r.met else "NO")))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def write_json(rows: list[Measured], folder: Path, options: dict[str, Any]) -> Path:
    """One file per run (stamped) plus ``latest.json``; nothing is overwritten but the latter."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc)
    document = {"run_at": stamp.isoformat(timespec="seconds"), "options": options,
                "machine": {"python": platform.python_version(), "cpus": _cpus(),
                            "platform": platform.platform()},
                "figures": [{**asdict(r), "ratio": r.ratio} for r in rows]}
    text = json.dumps(document, indent=2, default=str)
    path = folder / f"bench-{stamp:%Y%m%dT%H%M%SZ}.json"
    path.write_text(text)
    (folder / "latest.json").write_text(text)
    return path


def _cpus() -> int:
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
