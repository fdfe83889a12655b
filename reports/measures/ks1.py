"""KS1 measures from teacher assessment: % expected standard or above, % greater depth, combined.

KS1 is the first key stage, so there is no progress measure; the scaled scores are shown per
pupil but not summarised (DOMAIN.md section 5 asks only for the TA percentages).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reports.figures import Bar, Pupil
from reports.measures.common import Measure, Outcome, counted_bars, measures_config, shown, yes_no
from reports.measures.progress import ProgressMeasure

SUBJECT_NAMES = {"reading": "Reading", "writing": "Writing", "maths": "Maths"}

MEASURES: tuple[Measure, ...] = (
    Measure("ks1_rwm_expected", "Reading, writing and maths: expected standard or above", "%",
            "RWM EXS+"),
    *(m for subject, name in SUBJECT_NAMES.items() for m in (
        Measure(f"ks1_{subject}_expected", f"{name}: expected standard or above", "%",
                f"{name} EXS+"),
        Measure(f"ks1_{subject}_greater_depth", f"{name}: greater depth", "%", f"{name} GDS"),
    )),
    Measure("ks1_science_expected", "Science: expected standard", "%", "Science EXS"),
)
HEADLINE: tuple[str, ...] = tuple(m.key for m in MEASURES)
CHART: tuple[tuple[str, str], ...] = (
    *((name, f"ks1_{subject}_expected") for subject, name in SUBJECT_NAMES.items()),
    ("Science", "ks1_science_expected"),
)
PROGRESS: tuple[ProgressMeasure, ...] = ()
NO_PROGRESS_NOTE = ("Progress is not measured for KS1 results: there is no earlier key stage to "
                    "measure from.")
PUPIL_COLUMNS = ["Reading TA", "Writing TA", "Maths TA", "Science TA", "Reading score",
                 "Maths score", "GPS score", "RWM EXS+"]
RESULT_KEYS = ("ta_reading", "ta_writing", "ta_maths", "ta_science", "ss_reading", "ss_maths",
               "ss_gps")


def has_results(results: dict[str, Any]) -> bool:
    """A pupil with no KS1 result at all is not counted in any measure (KS1 validator warning)."""
    return any(results.get(key) not in (None, "") for key in RESULT_KEYS)


def _meets(results: dict[str, Any], key: str, codes: list[str]) -> Outcome:
    """True/False for a TA code against the codes that meet; a blank follows config."""
    code = results.get(key)
    if code in (None, ""):
        return None if measures_config()["ks1"]["blank_subject"] == "leave" else False
    return code in codes


def outcomes(pupil: Pupil) -> dict[str, Outcome]:
    results = pupil.results
    if not has_results(results):
        return {}
    config = measures_config()["ks1"]
    out: dict[str, Outcome] = {}
    for subject in SUBJECT_NAMES:
        out[f"ks1_{subject}_expected"] = _meets(results, f"ta_{subject}", config["expected_codes"])
        out[f"ks1_{subject}_greater_depth"] = _meets(results, f"ta_{subject}",
                                                     config["greater_depth_codes"])
    out["ks1_science_expected"] = _meets(results, "ta_science", config["science_expected_codes"])
    each = [out[f"ks1_{subject}_expected"] for subject in SUBJECT_NAMES]
    out["ks1_rwm_expected"] = None if None in each else all(each)
    return out


def distribution(pupils: Sequence[Pupil]) -> tuple[str, list[Bar]]:
    codes = measures_config()["ks1"]["distribution_codes"]
    return ("Pupils by reading teacher assessment",
            counted_bars((p.results.get("ta_reading") for p in pupils), codes))


def pupil_cells(pupil: Pupil) -> list[str]:
    return [shown(pupil.results.get(key)) for key in RESULT_KEYS] + \
        [yes_no(outcomes(pupil).get("ks1_rwm_expected"))]


def prior_text(pupil: Pupil) -> str | None:
    return None


def progress_note(pupils: Sequence[Pupil]) -> str | None:
    return NO_PROGRESS_NOTE


def method_notes() -> list[str]:
    config = measures_config()["ks1"]
    blank = ("A subject left blank is not counted in that subject or in the combined measure."
             if config["blank_subject"] == "leave" else "A subject left blank counts as not meeting.")
    return [
        "Reading, writing and maths: the percentage of pupils whose teacher assessment is "
        f"{' or '.join(config['expected_codes'])} (the expected standard or above), and the "
        f"percentage at {' or '.join(config['greater_depth_codes'])} (greater depth). Pupils with "
        "no KS1 results at all are not counted; A and every other code count as not meeting. "
        + blank,
        "Science: the percentage of pupils assessed "
        f"{' or '.join(config['science_expected_codes'])}; HNM and A count as not meeting.",
        "Reading, writing and maths combined: the percentage of pupils at the expected standard "
        "or above in all three subjects, out of pupils counted in all three.",
    ]
