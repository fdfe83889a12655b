"""Phonics and MTC measures from CTF results (reports/measures/ctf.py), hand-computed.

Source: ../shared/DOMAIN.md sections 3 (codes, threshold 32, score 0-25) and 5.
"""
import pytest

from reports.figures import Bar, Pupil
from reports.measures import ctf
from reports.measures.common import figures, measures_config


def pupil(**parts) -> Pupil:
    return Pupil("X000000000000", "Ann", "Pupil", parts)


def phonics(mark=None, code=None, year=2026) -> Pupil:
    entry = {"year": year}
    entry.update({"mark": mark} if code is None else {"code": code})
    return pupil(phonics=entry)


def mtc(score=None, code=None, year=2026) -> Pupil:
    entry = {"year": year}
    entry.update({"score": score} if code is None else {"code": code})
    return pupil(mtc=entry)


def test_phonics_counts_marks_of_32_or_more_as_meeting_the_standard():
    pupils = [phonics(32), phonics(31), phonics(40), phonics(code="A"), phonics(code="L"),
              phonics(code="D"), pupil(eyfs={"year": 2026, "E01": 2})]
    found = figures(ctf.MEASURES, pupils, ctf.outcomes)["phonics_expected"]
    # met: 32 and 40; not met: 31, A, D; L and the EYFS-only pupil are not counted
    assert (found.value, found.count) == (pytest.approx(40.0), 5)


def test_q_counts_as_not_meeting_the_phonics_standard():
    assert ctf.phonics_met(phonics(code="Q").results) is False


def test_a_phonics_threshold_can_be_set_for_one_year(monkeypatch):
    monkeypatch.setitem(measures_config()["phonics"]["thresholds_by_year"], "2021", 35)
    assert ctf.phonics_met(phonics(33, year=2021).results) is False
    assert ctf.phonics_met(phonics(33, year=2026).results) is True


def test_mtc_average_and_full_marks_are_over_pupils_with_a_score():
    pupils = [mtc(25), mtc(20), mtc(25), mtc(10), mtc(code="A"), mtc(code="H"), phonics(35)]
    found = figures(ctf.MEASURES, pupils, ctf.outcomes)
    assert (found["mtc_average"].value, found["mtc_average"].count) == (pytest.approx(20.0), 4)
    assert (found["mtc_full_marks"].value, found["mtc_full_marks"].count) == (
        pytest.approx(50.0), 4)


def test_the_distribution_shows_mtc_scores_in_bands_when_there_are_any():
    title, bars = ctf.distribution([mtc(25), mtc(0), mtc(13), mtc(14), phonics(35)])
    assert title == "Pupils by multiplication tables check score"
    assert bars == [Bar("0–4", 1.0), Bar("5–9", 0.0), Bar("10–14", 2.0), Bar("15–19", 0.0),
                    Bar("20–24", 0.0), Bar("25", 1.0)]


def test_the_distribution_shows_phonics_marks_when_there_is_no_mtc_score():
    title, bars = ctf.distribution([phonics(35), phonics(32), phonics(5), phonics(code="A")])
    assert title == "Pupils by phonics screening check mark"
    assert bars == [Bar("0–7", 1.0), Bar("8–15", 0.0), Bar("16–23", 0.0), Bar("24–31", 0.0),
                    Bar("32–40", 2.0)]


def test_a_pupil_line_shows_the_mark_or_code_and_whether_each_check_was_met():
    both = pupil(phonics={"year": 2024, "mark": 36}, mtc={"year": 2026, "code": "A"})
    assert ctf.pupil_cells(both) == ["36", "Yes", "A", "–"]
    assert ctf.pupil_cells(pupil()) == ["–", "–", "–", "–"]
