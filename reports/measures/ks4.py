"""KS4 measures: Attainment 8 and its slots, English and maths grade 4+/5+, EBacc entry, Progress 8.

Which results keys are GCSEs, their EBacc category and whether they are a double award come from
config/ks4_qualifications.toml through the KS4 validator, so the measures and the templates can
never disagree about a subject. Every pupil in the templates counts (a pupil with no grades has
Attainment 8 of 0); DfE's discounting between overlapping qualifications is not applied.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reports.figures import Bar, Pupil
from reports.measures.common import Measure, Outcome, counted_bars, measures_config, shown, yes_no
from reports.measures.progress import ProgressMeasure, ks2_prior, ks2_prior_group
from workers.validators import ks4 as templates

MEASURES: tuple[Measure, ...] = (
    Measure("ks4_attainment8", "Attainment 8: average score", "points", "Attainment 8"),
    Measure("ks4_a8_grade", "Attainment 8: average grade per slot", "grade", "A8 grade"),
    Measure("ks4_em_4", "English and maths: grade 4 or above", "%", "E&M 4+"),
    Measure("ks4_em_5", "English and maths: grade 5 or above", "%", "E&M 5+"),
    Measure("ks4_ebacc_entry", "English Baccalaureate: entered", "%", "EBacc entry"),
    Measure("ks4_english_4", "English: grade 4 or above", "%", "English 4+"),
    Measure("ks4_maths_4", "Maths: grade 4 or above", "%", "Maths 4+"),
    Measure("ks4_science_4", "Science: grade 4 or above", "%", "Science 4+"),
    Measure("ks4_languages_4", "Languages: grade 4 or above", "%", "Languages 4+"),
    Measure("ks4_humanities_4", "Humanities: grade 4 or above", "%", "Humanities 4+"),
)
HEADLINE: tuple[str, ...] = ("ks4_attainment8", "ks4_a8_grade", "ks4_em_4", "ks4_em_5",
                             "ks4_ebacc_entry")
CHART: tuple[tuple[str, str], ...] = (
    ("English", "ks4_english_4"), ("Maths", "ks4_maths_4"), ("Science", "ks4_science_4"),
    ("Languages", "ks4_languages_4"), ("Humanities", "ks4_humanities_4"))
PUPIL_COLUMNS = ["English", "Maths", "EBacc slots", "Open slots", "Attainment 8",
                 "E&M 4+", "E&M 5+", "EBacc entry"]


@dataclass(frozen=True)
class Unit:
    """One Attainment 8 slot's worth of a qualification (combined science gives two)."""
    key: str
    category: str      # english, maths, science, languages, humanities, none or non_gcse
    points: float


@dataclass(frozen=True)
class Attainment8:
    """A pupil's Attainment 8 by element, in points (English and maths already double-weighted)."""
    english: float
    maths: float
    ebacc: float
    open: float

    @property
    def total(self) -> float:
        return self.english + self.maths + self.ebacc + self.open


@lru_cache(maxsize=1)
def _qualifications() -> tuple[tuple[str, str, bool, dict[str, float] | None], ...]:
    """(key, category, double award, non-GCSE points or None) for every template subject."""
    rows = [(q["key"], q["ebacc"], bool(q.get("double_award")), None)
            for q in templates.qualifications(templates.GCSE)]
    rows += [(q["key"], "non_gcse", False, templates.grade_set(q["grades"]).get("points"))
             for q in templates.qualifications(templates.NON_GCSE)]
    return tuple(rows)


def entered(results: dict[str, Any], key: str) -> bool:
    """Blank means not entered; any grade, U included, is an entry."""
    return results.get(key) not in (None, "")


def units(results: dict[str, Any]) -> list[Unit]:
    """Every slot-sized unit the pupil's grades give; non-GCSEs only if their grade set has points."""
    gcse_points = measures_config()["ks4"]["gcse_points"]
    found: list[Unit] = []
    for key, category, double, points in _qualifications():
        grade = str(results.get(key) or "").upper()
        if not grade:
            continue
        if category == "non_gcse":
            if points and grade in points:
                found.append(Unit(key, category, float(points[grade])))
        elif double:
            pair = [grade, grade] if grade == "U" else list(grade)
            if len(pair) == 2 and all(g in gcse_points for g in pair):
                each = (gcse_points[pair[0]] + gcse_points[pair[1]]) / 2
                found += [Unit(key, category, float(each))] * 2
        elif grade in gcse_points:
            found.append(Unit(key, category, float(gcse_points[grade])))
    return found


def _best(candidates: list[Unit], slots: int) -> tuple[list[Unit], list[Unit]]:
    ranked = sorted(candidates, key=lambda u: u.points, reverse=True)
    return ranked[:slots], ranked[slots:]


def attainment8(results: dict[str, Any]) -> Attainment8:
    """Maths doubled; English the higher of language and literature, doubled only if both were
    taken (the other may then fill an open slot); 3 EBacc slots; 3 open slots from what is left."""
    config = measures_config()["ks4"]
    every = units(results)
    maths = max((u.points for u in every if u.category == "maths"), default=0.0) * 2
    english_units = sorted((u for u in every if u.category == "english"),
                           key=lambda u: u.points, reverse=True)
    english, spare = 0.0, []
    if len(english_units) >= 2:
        english, spare = english_units[0].points * 2, english_units[1:]
    elif english_units:
        english = english_units[0].points
    ebacc_units, unused = _best([u for u in every if u.category in config["ebacc_slot_categories"]],
                                config["ebacc_slots"])
    others = [u for u in every if u.category in ("none", "non_gcse")]
    open_units, _ = _best(spare + unused + others, config["open_slots"])
    return Attainment8(english, maths, sum(u.points for u in ebacc_units),
                       sum(u.points for u in open_units))


def _best_points(every: list[Unit], category: str) -> float | None:
    return max((u.points for u in every if u.category == category), default=None)


def _at_least(points: float | None, grade: int) -> bool:
    return points is not None and points >= grade


def ebacc_entered(results: dict[str, Any]) -> bool:
    """Entered in English (config rule), maths, science, a language and a humanity."""
    config = measures_config()["ks4"]
    by_category: dict[str, list[str]] = {}
    for key, category, double, _ in _qualifications():
        if entered(results, key):
            by_category.setdefault("combined" if double else category, []).append(key)
    english = len(by_category.get("english", []))
    english_ok = english >= 2 if config["ebacc_english_rule"] == "both" else english >= 1
    singles = sum(1 for key in config["ebacc_single_sciences"] if entered(results, key))
    science_ok = bool(by_category.get("combined")) or singles >= config["ebacc_single_sciences_needed"]
    return (english_ok and bool(by_category.get("maths")) and science_ok
            and bool(by_category.get("languages")) and bool(by_category.get("humanities")))


def outcomes(pupil: Pupil) -> dict[str, Outcome]:
    config = measures_config()["ks4"]
    results = pupil.results
    every = units(results)
    total = attainment8(results).total
    english, maths = _best_points(every, "english"), _best_points(every, "maths")
    out: dict[str, Outcome] = {
        "ks4_attainment8": total,
        "ks4_a8_grade": total / 10,
        "ks4_em_4": _at_least(english, config["pass_grade"]) and _at_least(maths, config["pass_grade"]),
        "ks4_em_5": (_at_least(english, config["strong_pass_grade"])
                     and _at_least(maths, config["strong_pass_grade"])),
        "ks4_ebacc_entry": ebacc_entered(results),
    }
    for category in ("english", "maths", "science", "languages", "humanities"):
        out[f"ks4_{category}_4"] = _at_least(_best_points(every, category), config["pass_grade"])
    return out


PROGRESS: tuple[ProgressMeasure, ...] = (
    ProgressMeasure("p8", "Progress 8", prior_group=lambda p: ks2_prior_group(p.results),
                    outcome=lambda p: attainment8(p.results).total, divisor=10.0),
)


def grades_awarded(results: dict[str, Any]) -> list[str]:
    """The GCSE grades a pupil was awarded; combined science counts each of its two grades."""
    grades: list[str] = []
    for key, category, double, _ in _qualifications():
        grade = str(results.get(key) or "").upper()
        if category == "non_gcse" or not grade:
            continue
        grades += ([grade, grade] if grade == "U" else list(grade)) if double else [grade]
    return grades


def distribution(pupils: Sequence[Pupil]) -> tuple[str, list[Bar]]:
    grades = [g for p in pupils for g in grades_awarded(p.results)]
    return ("GCSE grades awarded", counted_bars(grades, measures_config()["ks4"]["distribution_grades"]))


def pupil_cells(pupil: Pupil) -> list[str]:
    a8 = attainment8(pupil.results)
    out = outcomes(pupil)
    return [shown(a8.english), shown(a8.maths), shown(a8.ebacc), shown(a8.open), shown(a8.total),
            yes_no(out["ks4_em_4"]), yes_no(out["ks4_em_5"]), yes_no(out["ks4_ebacc_entry"])]


def prior_text(pupil: Pupil) -> str | None:
    prior = ks2_prior(pupil.results)
    return None if prior is None else f"KS2 {prior:.1f}"


def progress_note(pupils: Sequence[Pupil]) -> str | None:
    missing = sum(1 for p in pupils if ks2_prior(p.results) is None)
    if not missing:
        return None
    who = "1 pupil has" if missing == 1 else f"{missing} pupils have"
    return (f"{who} no KS2 reading or maths scaled score in the template, so no prior attainment "
            "and they are not given a Progress 8 score.")


def method_notes() -> list[str]:
    config = measures_config()["ks4"]
    width = measures_config()["ks4"]["progress"]["band_width"]
    english_rule = ("both English language and English literature"
                    if config["ebacc_english_rule"] == "both" else "English language or literature")
    sciences = ", ".join(s.replace("_", " ") for s in config["ebacc_single_sciences"])
    return [
        "Attainment 8: each pupil's points from maths (counted twice), English (the higher of "
        "language and literature, counted twice only if both were taken), the best three "
        "sciences, languages and humanities (EBacc slots), and the best three other results "
        "(open slots: the unused English, unused EBacc subjects, other GCSEs and approved "
        "non-GCSE qualifications). Grades 9 to 1 score 9 to 1 point, U scores 0; combined science "
        "fills two slots at the mean of its two grades (54 scores 4.5 + 4.5). The school's figure "
        "is the mean over every pupil in the templates; the average grade is that ÷ 10.",
        f"English and maths: the percentage of all pupils with grade {config['pass_grade']} or "
        f"above (and {config['strong_pass_grade']} or above) in maths and in either English "
        "language or English literature.",
        f"EBacc entry: the percentage of all pupils entered (any grade, U included) in "
        f"{english_rule}, maths, science (combined science or "
        f"{config['ebacc_single_sciences_needed']} of {sciences}), a language and a humanity.",
        "Progress 8: each pupil's Attainment 8 minus the average Attainment 8 of all participating "
        "pupils in the same KS2 prior-attainment group, divided by 10. National figures are not "
        "out yet when these reports are made, so the averages come from every participating "
        "school's pupils. Prior attainment is the mean of KS2 reading and maths scaled scores, "
        f"grouped in bands of {width:g} point; a pupil missing either score has no Progress 8 "
        "score. The school's figure is the mean of its pupils' scores, with a 95% confidence "
        "interval of ±1.96 × the standard deviation of all participating pupils' scores ÷ "
        "√(number of the school's pupils).",
    ]
