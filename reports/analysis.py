"""The public face of the measures: a window's pool, one school's analysis, national figures.

The pool is computed once when a window closes (``pool_for``) and stored as JSON, so every
school's report is drawn against the same participating figures and group means; ``analyse``
then needs only the school's pupils, the pool and the national figures.
"""
from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from functools import lru_cache
from types import ModuleType
from typing import Any

from config.settings import PACKAGE_DIR
from reports.figures import (
    Analysis, Figure, HeadlineRow, National, Pool, Pupil, PupilLine,
)
from reports.measures import common, ctf, ks1, ks2, ks4
from reports.measures.progress import (
    GroupTally, means_of, pooled_progress_sd, pupil_progress, school_progress, tally_groups,
)
from workers.validators import ctf as ctf_format
from workers.validators import ks1 as ks1_format
from workers.validators import ks2 as ks2_format
from workers.validators import ks4 as ks4_format

KINDS = ("ks1", "ks2", "ks4", "ctf")
MODULES: dict[str, ModuleType] = {"ks1": ks1, "ks2": ks2, "ks4": ks4, "ctf": ctf}
FORMAT_KINDS = {
    ks1_format.FORMAT: "ks1",
    ks2_format.FORMAT: "ks2",
    ks4_format.GCSE: "ks4",
    ks4_format.NON_GCSE: "ks4",
    ctf_format.FORMAT: "ctf",
}
COMPARISON_NOTE = ("Participating schools: the same measures over every pupil of every school "
                   "that sent results in this window. National figures are the latest published "
                   "for England (state-funded schools), with their year; they are for a past year.")


def _module(kind: str) -> ModuleType:
    if kind not in MODULES:
        raise ValueError(f"Unknown kind of results {kind!r}: expected one of {', '.join(KINDS)}")
    return MODULES[kind]


def kind_for_format(fmt: str) -> str:
    """The kind of measures a validator format feeds ('ks4-gcse' and 'ks4-non-gcse' -> 'ks4')."""
    if fmt not in FORMAT_KINDS:
        raise ValueError(f"No measures for the format {fmt!r}")
    return FORMAT_KINDS[fmt]


def _measures(kind: str) -> dict[str, common.Measure]:
    return {m.key: m for m in _module(kind).MEASURES}


# --- the pool ----------------------------------------------------------------------------------

def pool_for(kind: str, schools: Iterable[Sequence[Pupil]]) -> Pool:
    """Every measure, group mean and progress SD over all participating schools' pupils.

    One pass with running tallies, taking one school's pupils at a time: a national window
    (16,000 schools) is pooled in the memory of one school."""
    module = _module(kind)
    tallies = {m.key: common.Tally(m) for m in module.MEASURES}
    groups: dict[str, dict[str, GroupTally]] = {m.key: {} for m in module.PROGRESS}
    school_count = pupil_count = 0
    for pupils in schools:
        school_count += 1
        pupil_count += len(pupils)
        common.tally(tallies, pupils, module.outcomes)
        for measure in module.PROGRESS:
            tally_groups(measure, pupils, groups[measure.key])
    return Pool(kind=kind, schools=school_count, pupils=pupil_count,
                figures={key: running.figure() for key, running in tallies.items()},
                group_means={key: means_of(found) for key, found in groups.items()},
                progress_sd={m.key: pooled_progress_sd(m, groups[m.key]) for m in module.PROGRESS})


def pool_to_json(pool: Pool) -> dict[str, Any]:
    return asdict(pool)


def pool_from_json(data: dict[str, Any]) -> Pool:
    return Pool(kind=data["kind"], schools=data["schools"], pupils=data["pupils"],
                figures={key: Figure(**figure) for key, figure in data["figures"].items()},
                group_means={key: {group: float(v) for group, v in means.items()}
                             for key, means in data["group_means"].items()},
                progress_sd={key: float(v) for key, v in data["progress_sd"].items()})


# --- one school --------------------------------------------------------------------------------

def analyse(kind: str, pupils: list[Pupil], pool: Pool, national: dict[str, National]) -> Analysis:
    """One school's figures against the pool and national figures, ready to be drawn."""
    module = _module(kind)
    if pool.kind != kind:
        raise ValueError(f"A {pool.kind} pool cannot be used for {kind} results")
    school = common.figures(module.MEASURES, pupils, module.outcomes)
    headline = [HeadlineRow(school[key], pool.figures.get(key), national.get(key))
                for key in module.HEADLINE]
    chart = [(label, school[key].value, _value(pool.figures.get(key))) for label, key in module.CHART]
    title, bars = module.distribution(pupils)
    means = {m.key: pool.group_means.get(m.key, {}) for m in module.PROGRESS}
    progress = [school_progress(m, pupils, means[m.key], pool.progress_sd.get(m.key, 0.0))
                for m in module.PROGRESS]
    lines = []
    for pupil in sorted(pupils, key=lambda p: (p.surname.casefold(), p.forename.casefold(), p.upn)):
        each = [pupil_progress(m, pupil, means[m.key]) for m in module.PROGRESS]
        lines.append(PupilLine(pupil.upn, f"{pupil.surname}, {pupil.forename}",
                               module.pupil_cells(pupil), module.prior_text(pupil),
                               [e for e, _ in each], [p for _, p in each]))
    return Analysis(headline=headline, subject_chart=chart, distribution_title=title,
                    distribution=bars, progress=progress, progress_note=module.progress_note(pupils),
                    pupil_columns=list(module.PUPIL_COLUMNS), pupils=lines,
                    method_notes=[*module.method_notes(), COMPARISON_NOTE])


def _value(figure: Figure | None) -> float | None:
    return None if figure is None else figure.value


# --- national figures --------------------------------------------------------------------------

@lru_cache(maxsize=1)
def national_config() -> dict[str, Any]:
    """config/national.toml: each figure with its year and source (DOMAIN.md section 5)."""
    return tomllib.loads((PACKAGE_DIR / "national.toml").read_text(encoding="utf-8"))


def end_year(label: str) -> int:
    """The calendar year a figure's year ends in: "2024" -> 2024, "2022/23" -> 2023."""
    start, _, _ = label.partition("/")
    return int(start) + 1 if "/" in label else int(start)


def national_for(kind: str, year: int) -> dict[str, National]:
    """Per measure key of the kind, the latest national figure whose year ends by ``year``."""
    keys = _measures(kind)
    chosen: dict[str, dict[str, Any]] = {}
    for entry in national_config()["figure"]:
        key, ends = entry["key"], end_year(entry["year"])
        if key in keys and ends <= year and (key not in chosen
                                             or ends > end_year(chosen[key]["year"])):
            chosen[key] = entry
    return {key: National(float(e["value"]), e["year"], e["source"]) for key, e in chosen.items()}


# --- trust summary and formatting --------------------------------------------------------------

def trust_columns(kind: str) -> list[str]:
    """Short headline labels for the trust summary, in headline order."""
    measures = _measures(kind)
    return [measures[key].short or measures[key].label for key in _module(kind).HEADLINE]


def trust_values(analysis: Analysis) -> list[str]:
    """The school's headline values formatted, in the order of ``trust_columns``."""
    return [format_value(row.school) for row in analysis.headline]


def pool_values(pool: Pool) -> list[str]:
    """The pooled figures formatted, in the order of ``trust_columns``: the trust table's last row."""
    return [format_value(pool.figures[key]) for key in _module(pool.kind).HEADLINE]


def format_value(figure: Figure) -> str:
    """1 decimal place ("61.5%", "104.2", "46.3"); an average grade 2 places; "–" for no value."""
    if figure.value is None:
        return common.NONE_SHOWN
    if figure.unit == "%":
        return f"{figure.value:.1f}%"
    if figure.unit == "grade":
        return f"{figure.value:.2f}"
    return f"{figure.value:.1f}"
