"""What every kind of measure shares: the config, percentages, averages and bands.

Each measure module turns one pupil into *outcomes* (per measure key: True/False for a
percentage, a number for an average, None when the pupil is not in that measure's denominator),
so a school's figure and the participating pupils' figure are the same function over different
pupil lists and can never disagree on a rule.
"""
from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from config.settings import PACKAGE_DIR
from reports.figures import Bar, Figure, Pupil

Outcome = bool | float | None
NONE_SHOWN = "–"  # what a report shows for "no value"


@lru_cache(maxsize=1)
def measures_config() -> dict[str, Any]:
    """config/measures.toml: thresholds and code lists are data, changed without code."""
    return tomllib.loads((PACKAGE_DIR / "measures.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Measure:
    """One figure a report shows: ``unit`` "%" is a percentage of pupils; other units a mean."""
    key: str
    label: str
    unit: str          # "%", "score", "points" or "grade"
    short: str = ""    # column heading in the trust summary

    @property
    def is_percent(self) -> bool:
        return self.unit == "%"


def percent(met: int, counted: int) -> float | None:
    """Met as a percentage of counted, unrounded; None when nobody counts (not 0%)."""
    return None if counted == 0 else 100.0 * met / counted


def mean(values: Iterable[float]) -> float | None:
    """The arithmetic mean, None for no values (an average of nobody is not zero)."""
    values = list(values)
    return None if not values else math.fsum(values) / len(values)


@dataclass
class Tally:
    """A measure's running count, so a window's figure over every participating pupil needs only
    one school's pupils in memory at a time; a school's figure is the same tally over fewer."""
    measure: Measure
    counted: int = 0
    met: int = 0
    total: float = 0.0

    def add(self, outcome: Outcome) -> None:
        """Pupils whose outcome is None are not counted."""
        if outcome is None:
            return
        self.counted += 1
        if self.measure.is_percent:
            self.met += outcome is True
        else:
            self.total += float(outcome)

    def figure(self) -> Figure:
        m = self.measure
        if m.is_percent:
            value = percent(self.met, self.counted)
        else:
            value = None if self.counted == 0 else self.total / self.counted
        return Figure(m.key, m.label, m.unit, value, self.counted)


def figure(measure: Measure, outcomes: Iterable[Outcome]) -> Figure:
    """The measure over the pupils' outcomes; pupils whose outcome is None are not counted."""
    tally = Tally(measure)
    for outcome in outcomes:
        tally.add(outcome)
    return tally.figure()


def tally(tallies: dict[str, Tally], pupils: Iterable[Pupil],
          outcomes: Callable[[Pupil], dict[str, Outcome]]) -> None:
    """Add the pupils' outcomes to each measure's tally (keyed by measure key)."""
    for pupil in pupils:
        found = outcomes(pupil)
        for key, running in tallies.items():
            running.add(found.get(key))


def figures(measures: Sequence[Measure], pupils: Sequence[Pupil],
            outcomes: Callable[[Pupil], dict[str, Outcome]]) -> dict[str, Figure]:
    """Every measure over the pupils, keyed by measure key."""
    tallies = {m.key: Tally(m) for m in measures}
    tally(tallies, pupils, outcomes)
    return {key: running.figure() for key, running in tallies.items()}


def band_label(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def banded(values: Iterable[float], bands: Sequence[Sequence[int]]) -> list[Bar]:
    """How many values fall in each inclusive [low, high] band, every band shown (even empty)."""
    values = list(values)
    return [Bar(band_label(low, high), float(sum(1 for v in values if low <= v <= high)))
            for low, high in bands]


def counted_bars(values: Iterable[str], labels: Sequence[str]) -> list[Bar]:
    """How many times each label occurs, in the given order, every label shown."""
    values = list(values)
    return [Bar(label, float(values.count(label))) for label in labels]


def shown(value: Any) -> str:
    """A result as a report cell: the value, or a dash when there is none."""
    if value is None or value == "":
        return NONE_SHOWN
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def yes_no(outcome: Outcome) -> str:
    return NONE_SHOWN if outcome is None else ("Yes" if outcome else "No")
