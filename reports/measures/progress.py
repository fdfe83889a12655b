"""Value added: prior-attainment groups, estimates, pupil progress and the school's 95% CI.

National estimates are not published when the service runs, so a pupil's estimate is the mean
outcome of every *participating* pupil in the same prior-attainment group (DOMAIN.md section 5),
computed once per window in the Pool. A pupil without prior attainment gets no estimate and no
progress: they are counted as missing, never given an invented prior.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reports.figures import Progress, Pupil
from reports.measures.common import mean, measures_config


@dataclass(frozen=True)
class ProgressMeasure:
    """How one progress measure reads a pupil: their prior group and their outcome."""
    key: str
    label: str
    prior_group: Callable[[Pupil], str | None]
    outcome: Callable[[Pupil], float | None]
    divisor: float = 1.0   # Progress 8 is (A8 - estimate) / 10


# --- prior-attainment groups -------------------------------------------------------------------

def round_half_up(value: float, step: float) -> float:
    """``value`` to the nearest multiple of ``step``, halves upwards (never banker's rounding)."""
    return math.floor(value / step + 0.5 + 1e-9) * step


def group_name(value: float) -> str:
    """A group as a JSON-safe key: 1.5 -> "1.5", 100.0 -> "100"."""
    return f"{round(value, 6):g}"


def ks1_prior_group(prior: dict[str, Any] | None) -> str | None:
    """KS2 progress group from KS1 TA: the mean of the reading, writing and maths points.

    A, a blank or any code without points in any of the three subjects means no prior.
    """
    if not prior:
        return None
    config = measures_config()["ks2"]["progress"]
    points = config["ks1_points"]
    codes = [prior.get(f"ta_{s}") for s in measures_config()["ks1"]["subjects"]]
    if any(code not in points for code in codes):
        return None
    average = math.fsum(points[c] for c in codes) / len(codes)
    return group_name(round_half_up(average, config["round_to"]))


def ks2_prior(results: dict[str, Any]) -> float | None:
    """KS4 prior attainment: the mean of KS2 reading and maths scaled scores; both are needed."""
    reading, maths = results.get("ks2_reading"), results.get("ks2_maths")
    if reading is None or maths is None:
        return None
    return (float(reading) + float(maths)) / 2


def ks2_prior_group(results: dict[str, Any]) -> str | None:
    """Progress 8 group: the KS2 prior rounded down to a multiple of the configured band width."""
    prior = ks2_prior(results)
    if prior is None:
        return None
    width = float(measures_config()["ks4"]["progress"]["band_width"])
    return group_name(math.floor(prior / width + 1e-9) * width)


# --- estimates and progress --------------------------------------------------------------------

@dataclass
class GroupTally:
    """One prior-attainment group's running count, sum and squared deviations (Welford), so a
    window's group means and progress SD need one school's pupils in memory at a time."""
    n: int = 0
    total: float = 0.0
    _running_mean: float = 0.0
    squares: float = 0.0   # sum of squared deviations from the group's mean

    def add(self, outcome: float) -> None:
        self.n += 1
        self.total += outcome
        delta = outcome - self._running_mean
        self._running_mean += delta / self.n
        self.squares += delta * (outcome - self._running_mean)

    @property
    def mean(self) -> float:
        return self.total / self.n


def tally_groups(measure: ProgressMeasure, pupils: Iterable[Pupil],
                 groups: dict[str, GroupTally]) -> None:
    """Add the pupils who have both a prior group and an outcome to their group's tally."""
    for pupil in pupils:
        group, outcome = measure.prior_group(pupil), measure.outcome(pupil)
        if group is not None and outcome is not None:
            groups.setdefault(group, GroupTally()).add(outcome)


def means_of(groups: dict[str, GroupTally]) -> dict[str, float]:
    return {group: tally.mean for group, tally in sorted(groups.items())}


def pooled_progress_sd(measure: ProgressMeasure, groups: dict[str, GroupTally]) -> float:
    """``progress_sd`` from group tallies: each pupil's progress is their deviation from their
    group's mean (over the same pupils), so its mean is 0 and its variance the pooled squares."""
    n = sum(t.n for t in groups.values())
    return math.sqrt(sum(t.squares for t in groups.values()) / n) / measure.divisor if n else 0.0


def group_means(measure: ProgressMeasure, pupils: Sequence[Pupil]) -> dict[str, float]:
    """Prior group -> mean outcome of the pupils in it who have both a prior and an outcome."""
    groups: dict[str, GroupTally] = {}
    tally_groups(measure, pupils, groups)
    return means_of(groups)


def pupil_progress(measure: ProgressMeasure, pupil: Pupil,
                   means: dict[str, float]) -> tuple[float | None, float | None]:
    """(estimate, progress) for one pupil; (None, None) without an outcome, prior or group mean."""
    outcome = measure.outcome(pupil)
    group = measure.prior_group(pupil)
    if outcome is None or group is None or group not in means:
        return None, None
    estimate = means[group]
    return estimate, (outcome - estimate) / measure.divisor


def progress_sd(measure: ProgressMeasure, pupils: Sequence[Pupil], means: dict[str, float]) -> float:
    """Population standard deviation of pupil progress over every participating pupil.

    The participating pupils are the whole comparison group (as the national cohort is for
    DfE), so the population form is used; 0.0 when no pupil has a progress score.
    """
    scores = [p for p in (pupil_progress(measure, x, means)[1] for x in pupils) if p is not None]
    return statistics.pstdev(scores) if scores else 0.0


def confidence_interval(average: float | None, sd: float, n: int) -> tuple[float | None, float | None]:
    """mean ± z × SD / √n (z = 1.96 for 95%); (None, None) when no pupil counts."""
    if average is None or n == 0:
        return None, None
    half = float(measures_config()["progress"]["z"]) * sd / math.sqrt(n)
    return average - half, average + half


def school_progress(measure: ProgressMeasure, pupils: Sequence[Pupil], means: dict[str, float],
                    sd: float) -> Progress:
    """The school's mean progress with its 95% CI; pupils with an outcome but no estimate are
    counted as missing, and pupils without an outcome are not part of the measure at all."""
    scores: list[float] = []
    missing = 0
    for pupil in pupils:
        if measure.outcome(pupil) is None:
            continue
        progress = pupil_progress(measure, pupil, means)[1]
        if progress is None:
            missing += 1
        else:
            scores.append(progress)
    average = mean(scores)
    low, high = confidence_interval(average, sd, len(scores))
    return Progress(measure.key, measure.label, len(scores), missing, average, low, high)
