"""CTF measures: phonics screening check (% meeting the threshold) and the multiplication tables
check (average score, % full marks). Other CTF parts (EYFS, KS1, KS2) are imported but not reported.

Results are the CTF validator's ``{'phonics': {'year': 2026, 'mark': 35}}`` and
``{'mtc': {'year': 2026, 'score': 23}}`` (a code is under ``code`` instead: config/ctf.toml).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reports.figures import Bar, Pupil
from reports.measures.common import Measure, Outcome, banded, measures_config, shown, yes_no
from reports.measures.progress import ProgressMeasure

MEASURES: tuple[Measure, ...] = (
    Measure("phonics_expected", "Phonics screening check: meeting the expected standard", "%",
            "Phonics met"),
    Measure("mtc_average", "Multiplication tables check: average score", "score", "MTC average"),
    Measure("mtc_full_marks", "Multiplication tables check: full marks", "%", "MTC full marks"),
)
HEADLINE: tuple[str, ...] = tuple(m.key for m in MEASURES)
CHART: tuple[tuple[str, str], ...] = (("Phonics: standard met", "phonics_expected"),
                                      ("MTC: full marks", "mtc_full_marks"))
PROGRESS: tuple[ProgressMeasure, ...] = ()
NO_PROGRESS_NOTE = ("Progress is not measured for the phonics screening check or the "
                    "multiplication tables check: they are not compared with earlier results.")
PUPIL_COLUMNS = ["Phonics mark", "Phonics standard met", "MTC score", "MTC full marks"]


def _part(results: dict[str, Any], part: str) -> dict[str, Any]:
    entry = results.get(part)
    return entry if isinstance(entry, dict) else {}


def phonics_threshold(year: Any) -> int:
    """The year's pass mark: DOMAIN.md says it is set yearly, so a year may override the default."""
    config = measures_config()["phonics"]
    return int(config["thresholds_by_year"].get(str(year), config["threshold"]))


def phonics_met(results: dict[str, Any]) -> Outcome:
    entry = _part(results, "phonics")
    config = measures_config()["phonics"]
    if entry.get("mark") is not None:
        return entry["mark"] >= phonics_threshold(entry.get("year"))
    code = entry.get("code")
    if code in config["not_met_codes"]:
        return False
    return None   # no result, or a leave code (or one the config does not place)


def mtc_score(results: dict[str, Any]) -> float | None:
    score = _part(results, "mtc").get("score")
    return None if score is None else float(score)


def mtc_full_marks(results: dict[str, Any]) -> Outcome:
    config = measures_config()["mtc"]
    score = mtc_score(results)
    if score is not None:
        return score >= config["full_marks"]
    return False if _part(results, "mtc").get("code") in config["not_met_codes"] else None


def outcomes(pupil: Pupil) -> dict[str, Outcome]:
    results = pupil.results
    return {"phonics_expected": phonics_met(results), "mtc_average": mtc_score(results),
            "mtc_full_marks": mtc_full_marks(results)}


def distribution(pupils: Sequence[Pupil]) -> tuple[str, list[Bar]]:
    """MTC scores in bands when any pupil has one, else phonics marks in bands."""
    scores = [v for v in (mtc_score(p.results) for p in pupils) if v is not None]
    marks = [_part(p.results, "phonics").get("mark") for p in pupils]
    marks = [m for m in marks if m is not None]
    if marks and not scores:
        return ("Pupils by phonics screening check mark",
                banded(marks, measures_config()["phonics"]["mark_bands"]))
    return ("Pupils by multiplication tables check score",
            banded(scores, measures_config()["mtc"]["score_bands"]))


def _cell(entry: dict[str, Any], measure: str) -> str:
    return shown(entry.get(measure) if entry.get(measure) is not None else entry.get("code"))


def pupil_cells(pupil: Pupil) -> list[str]:
    results = pupil.results
    return [_cell(_part(results, "phonics"), "mark"), yes_no(phonics_met(results)),
            _cell(_part(results, "mtc"), "score"), yes_no(mtc_full_marks(results))]


def prior_text(pupil: Pupil) -> str | None:
    return None


def progress_note(pupils: Sequence[Pupil]) -> str | None:
    return NO_PROGRESS_NOTE


def method_notes() -> list[str]:
    phonics, mtc = measures_config()["phonics"], measures_config()["mtc"]
    not_met = ", ".join(phonics["not_met_codes"])
    leave = ", ".join(phonics["leave_codes"])
    mtc_codes = (f" Pupils with code {', '.join(mtc['not_met_codes'])} count as not scoring full "
                 "marks." if mtc["not_met_codes"] else "")
    return [
        f"Phonics screening check: the percentage of pupils with a mark of {phonics['threshold']} "
        f"or more (out of 40). Pupils with code {not_met} count as not meeting the standard; "
        f"pupils with code {leave}, or with no phonics result, are not counted.",
        f"Multiplication tables check: the average score (out of {mtc['full_marks']}) and the "
        f"percentage scoring full marks, over the pupils who have a score; pupils with a code "
        f"instead of a score (for example A absent) are not counted.{mtc_codes}",
    ]
