"""KS2 measures: expected and higher standard in RWM, per-subject %, average scaled scores, progress.

Denominators follow the outcome codes (DOMAIN.md section 3, config/measures.toml [ks2]): a
"leave" code takes the pupil out of that subject, and out of RWM combined; a "not achieved" code
keeps them in as not meeting. Averages use only pupils who have a scaled score.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reports.figures import Bar, Pupil
from reports.measures.common import Measure, Outcome, banded, measures_config, shown, yes_no
from reports.measures.progress import ProgressMeasure, ks1_prior_group

TESTS = {"reading": "read", "maths": "mat", "gps": "gps"}   # subject -> results key prefix
NAMES = {"reading": "Reading", "writing": "Writing", "maths": "Maths",
         "gps": "Grammar, punctuation and spelling"}
SHORT = {"reading": "Reading", "writing": "Writing", "maths": "Maths", "gps": "GPS"}

MEASURES: tuple[Measure, ...] = (
    Measure("ks2_rwm_expected", "Reading, writing and maths: expected standard", "%",
            "RWM expected"),
    Measure("ks2_rwm_higher", "Reading, writing and maths: higher standard", "%", "RWM higher"),
    *(Measure(f"ks2_{s}_expected", f"{NAMES[s]}: expected standard", "%", f"{SHORT[s]} expected")
      for s in ("reading", "writing", "maths", "gps")),
    *(Measure(f"ks2_{s}_average", f"{NAMES[s]}: average scaled score", "score",
              f"{SHORT[s]} average") for s in TESTS),
)
HEADLINE: tuple[str, ...] = tuple(m.key for m in MEASURES)
CHART: tuple[tuple[str, str], ...] = tuple((SHORT[s], f"ks2_{s}_expected")
                                           for s in ("reading", "writing", "maths", "gps"))
PUPIL_COLUMNS = ["Reading", "Maths", "GPS", "Writing TA", "Science TA", "RWM expected"]


def score(results: dict[str, Any], subject: str) -> float | None:
    value = results.get(f"{TESTS[subject]}_score")
    return None if value is None else float(value)


def subject_outcome(results: dict[str, Any], subject: str, threshold: float) -> Outcome:
    """Whether a test meets ``threshold``; None when the pupil leaves this subject's denominator.

    An AS outcome without a score meets the expected standard but cannot show the higher one.
    """
    config = measures_config()["ks2"]
    value = score(results, subject)
    if value is not None:
        return value >= threshold
    code = results.get(f"{TESTS[subject]}_outcome")
    if code in (None, "") or code in config["leave_codes"]:
        return None
    if code == "AS":
        return threshold <= config["expected_score"]
    if code == "NS" or code in config["not_achieved_codes"]:
        return False
    return None


def writing_outcome(results: dict[str, Any], codes: list[str]) -> Outcome:
    """Writing TA against the codes that meet; blank and leave codes are not counted."""
    code = results.get("ta_writing")
    if code in (None, "") or code in measures_config()["ks2"]["leave_codes"]:
        return None
    return code in codes


def _combined(parts: list[Outcome]) -> Outcome:
    """RWM: a pupil out of any one subject's denominator is out of the combined one."""
    return None if None in parts else all(parts)


def outcomes(pupil: Pupil) -> dict[str, Outcome]:
    config = measures_config()["ks2"]
    results = pupil.results
    expected = {s: subject_outcome(results, s, config["expected_score"]) for s in TESTS}
    expected["writing"] = writing_outcome(results, config["writing_expected_codes"])
    higher = {s: subject_outcome(results, s, config["higher_score"]) for s in ("reading", "maths")}
    higher["writing"] = writing_outcome(results, config["writing_higher_codes"])
    out: dict[str, Outcome] = {
        "ks2_rwm_expected": _combined([expected[s] for s in ("reading", "writing", "maths")]),
        "ks2_rwm_higher": _combined([higher[s] for s in ("reading", "writing", "maths")]),
    }
    out.update({f"ks2_{s}_expected": value for s, value in expected.items()})
    out.update({f"ks2_{s}_average": score(results, s) for s in TESTS})
    return out


PROGRESS: tuple[ProgressMeasure, ...] = tuple(
    ProgressMeasure(f"ks2_{s}_progress", f"{SHORT[s]} progress",
                    prior_group=lambda p: ks1_prior_group(p.prior),
                    outcome=lambda p, s=s: score(p.results, s))
    for s in ("reading", "maths"))


def distribution(pupils: Sequence[Pupil]) -> tuple[str, list[Bar]]:
    scores = [v for v in (score(p.results, "reading") for p in pupils) if v is not None]
    return ("Pupils by reading scaled score", banded(scores, measures_config()["ks2"]["reading_bands"]))


def _test_cell(results: dict[str, Any], subject: str) -> str:
    value = results.get(f"{TESTS[subject]}_score")
    return shown(value if value is not None else results.get(f"{TESTS[subject]}_outcome"))


def pupil_cells(pupil: Pupil) -> list[str]:
    results = pupil.results
    return [_test_cell(results, s) for s in TESTS] + [
        shown(results.get("ta_writing")), shown(results.get("ta_science")),
        yes_no(outcomes(pupil)["ks2_rwm_expected"])]


def prior_text(pupil: Pupil) -> str | None:
    """The KS1 TAs as held, reading/writing/maths ("KS1 EXS/EXS/WTS"); None when none is held."""
    prior = pupil.prior or {}
    codes = [prior.get(f"ta_{s}") for s in measures_config()["ks1"]["subjects"]]
    if all(code in (None, "") for code in codes):
        return None
    return "KS1 " + "/".join(shown(code) for code in codes)


def progress_note(pupils: Sequence[Pupil]) -> str | None:
    """How many pupils with a reading or maths score have no usable KS1 prior attainment."""
    missing = sum(1 for p in pupils
                  if ks1_prior_group(p.prior) is None
                  and any(score(p.results, s) is not None for s in ("reading", "maths")))
    if not missing:
        return None
    who = "1 pupil has" if missing == 1 else f"{missing} pupils have"
    return (f"{who} no KS1 teacher assessments in reading, writing and maths that give a prior-"
            "attainment group (none held, or A), so they are not given a progress score.")


def method_notes() -> list[str]:
    config = measures_config()["ks2"]
    points = config["progress"]["ks1_points"]
    leave, not_achieved = ", ".join(config["leave_codes"]), ", ".join(config["not_achieved_codes"])
    return [
        f"Reading, writing and maths combined: the percentage of pupils with a reading scaled "
        f"score of {config['expected_score']} or more, a maths scaled score of "
        f"{config['expected_score']} or more and a writing teacher assessment of "
        f"{' or '.join(config['writing_expected_codes'])}. The higher standard needs "
        f"{config['higher_score']} or more in both tests and "
        f"{' or '.join(config['writing_higher_codes'])} in writing.",
        f"Who counts: a pupil whose result is {leave} (or blank) is left out of that subject and "
        f"of the combined measure; {not_achieved} and NS count as not achieved.",
        "Per-subject percentages use the same rules for each test (reading, maths, grammar, "
        "punctuation and spelling) and for writing teacher assessment.",
        "Average scaled scores are over the pupils who have a scaled score in that test.",
        "Progress (reading and maths separately): each pupil's scaled score minus the average "
        "scaled score of all participating pupils in the same KS1 prior-attainment group. National "
        "figures are not out yet when these reports are made, so the averages come from every "
        "participating school's pupils. The group is the mean of the pupil's KS1 teacher "
        "assessment points in reading, writing and maths ("
        + ", ".join(f"{code} {value:g}" for code, value in points.items())
        + f"), rounded to the nearest {config['progress']['round_to']:g}; a pupil with A or no "
        "KS1 assessment has no group and no progress score. The school's figure is the mean of "
        "its pupils' progress, with a 95% confidence interval of ±1.96 × the standard deviation "
        "of all participating pupils' progress ÷ √(number of the school's pupils).",
    ]
