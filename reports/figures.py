"""The plain data a report is made of: measures compute it, PDFs draw it, the database stores it.

Everything here is JSON-friendly (``dataclasses.asdict``) so a window's pooled figures can be
stored once when it closes and every school's report is drawn against the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Pupil:
    """One pupil's results for a collection, merged over the school's current uploads.

    ``results`` is the validator's dict (KS4: both templates merged); ``prior`` is prior
    attainment found elsewhere (KS2: the pupil's KS1 teacher assessments), or None.
    """
    upn: str
    forename: str
    surname: str
    results: dict[str, Any]
    prior: dict[str, Any] | None = None


@dataclass(frozen=True)
class Figure:
    """One measure for one group of pupils. ``value`` is None when no pupil counts."""
    key: str       # "ks2_rwm_expected"
    label: str     # "Reading, writing and maths: expected standard"
    unit: str      # "%", "score" (an average) or "points"
    value: float | None
    count: int     # the pupils counted: the denominator


@dataclass(frozen=True)
class National:
    value: float
    year: str      # "2024" or "2022/23"
    source: str    # where the figure was published


@dataclass(frozen=True)
class HeadlineRow:
    school: Figure
    participating: Figure | None   # the same measure over every participating school's pupils
    national: National | None


@dataclass(frozen=True)
class Progress:
    """A school's average progress on one measure, with its 95% confidence interval."""
    key: str              # "p8", "ks2_reading_progress"
    label: str
    pupils: int           # pupils with prior attainment, who count
    missing: int          # pupils without prior attainment: not counted, never invented
    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class PupilLine:
    upn: str
    name: str                     # "Surname, Forename"
    results: list[str]            # cells under SchoolReport.pupil_columns
    prior: str | None             # prior attainment as shown ("KS2 105.5"), None if unknown
    # One of each per Analysis.progress measure, in the same order; None where it cannot be said.
    estimates: list[float | None]  # mean outcome of participating pupils in the same prior group
    progress: list[float | None]   # outcome minus estimate (KS4: divided by 10, as Progress 8)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


@dataclass(frozen=True)
class Analysis:
    """What the measures say about one school, ready to be drawn."""
    headline: list[HeadlineRow]
    subject_chart: list[tuple[str, float | None, float | None]]  # (label, school %, participating %)
    distribution_title: str
    distribution: list[Bar]       # e.g. pupils per GCSE grade
    progress: list[Progress]
    progress_note: str | None     # e.g. "Progress is not measured for KS1: there is no prior attainment."
    pupil_columns: list[str]
    pupils: list[PupilLine]
    method_notes: list[str]       # one short paragraph per measure


@dataclass(frozen=True)
class Pool:
    """Figures over every participating school's pupils, computed once when a window closes."""
    kind: str                          # "ks1", "ks2", "ks4" or "ctf"
    schools: int
    pupils: int
    figures: dict[str, Figure]         # by Figure.key
    group_means: dict[str, dict[str, float]]  # progress key -> prior group -> mean outcome
    progress_sd: dict[str, float]      # progress key -> standard deviation of pupil progress


@dataclass(frozen=True)
class ReportHeader:
    """What every page shows: whose figures, from which upload(s), for which window."""
    school_name: str
    dfe: str
    trust_name: str | None
    collection_key: str
    collection_name: str
    window_number: int
    window_closes: datetime
    uploads: list[str]            # "Upload #12: results.xlsx, received 03/07/2026 14:02"
    generated_at: datetime


@dataclass(frozen=True)
class TrustRow:
    school_name: str
    dfe: str
    submitted: bool               # False: flagged as having no submission in this window
    pupils: int
    values: list[str]             # cells under TrustSummary.columns


@dataclass(frozen=True)
class TrustSummary:
    trust_name: str
    collection_name: str
    window_number: int
    window_closes: datetime
    columns: list[str]
    rows: list[TrustRow]
    participating: list[str] = field(default_factory=list)  # the pooled figures, same columns
    generated_at: datetime | None = None


def as_of(value: date | datetime) -> str:
    return f"{value:%d/%m/%Y %H:%M}" if isinstance(value, datetime) else f"{value:%d/%m/%Y}"
