"""Value added (reports/measures/progress.py): prior groups, estimates, progress and the 95% CI.

Source: ../shared/DOMAIN.md section 5 (group averages from all participating pupils, 95% CI).
"""
import math

import pytest

from reports.figures import Progress, Pupil
from reports.measures import ks2, ks4
from reports.measures.progress import (
    confidence_interval, group_means, ks1_prior_group, ks2_prior_group, progress_sd,
    pupil_progress, round_half_up, school_progress,
)

READING, P8 = ks2.PROGRESS[0], ks4.PROGRESS[0]


def ks1(reading, writing, maths) -> dict:
    return {"ta_reading": reading, "ta_writing": writing, "ta_maths": maths}


def ks2_pupil(upn, read_score, prior) -> Pupil:
    return Pupil(upn, "Ann", upn, {"read_score": read_score, "read_outcome": None}, prior)


@pytest.mark.parametrize(("codes", "group"), [
    (("EXS", "EXS", "EXS"), "2"),
    (("EXS", "EXS", "WTS"), "1.5"),   # 5/3 = 1.67
    (("GDS", "EXS", "EXS"), "2.5"),   # 7/3 = 2.33
    (("GDS", "GDS", "EXS"), "2.5"),   # 8/3 = 2.67
    (("WTS", "PK4", "EM"), "0.5"),    # 1/3 = 0.33
    (("PK1", "EM", "PK2"), "0"),
    (("GDS", "GDS", "GDS"), "3"),
])
def test_the_ks1_group_is_the_mean_of_ta_points_rounded_to_the_nearest_half(codes, group):
    assert ks1_prior_group(ks1(*codes)) == group


@pytest.mark.parametrize("prior", [None, {}, ks1("A", "EXS", "EXS"), ks1("EXS", None, "EXS"),
                                   {"ta_reading": "EXS", "ta_writing": "EXS"}])
def test_a_or_a_missing_ks1_code_gives_no_prior_group(prior):
    assert ks1_prior_group(prior) is None


def test_rounding_takes_halves_upwards():
    assert [round_half_up(v, 0.5) for v in (1.25, 1.74, 1.75, 0.2)] == [1.5, 1.5, 2.0, 0.0]
    assert round_half_up(2.5, 1.0) == 3.0


def test_the_ks2_group_is_the_mean_of_reading_and_maths_in_one_point_bands():
    assert ks2_prior_group({"ks2_reading": 100, "ks2_maths": 101}) == "100"   # 100.5
    assert ks2_prior_group({"ks2_reading": 99, "ks2_maths": 100}) == "99"     # 99.5
    assert ks2_prior_group({"ks2_reading": 110, "ks2_maths": 110}) == "110"
    assert ks2_prior_group({"ks2_reading": 100, "ks2_maths": None}) is None
    assert ks2_prior_group({}) is None


# KS2 reading: groups "2" (100, 110) and "1.5" (95); one pupil has no prior, one no score.
POOL = [
    ks2_pupil("P1", 100, ks1("EXS", "EXS", "EXS")),
    ks2_pupil("P2", 110, ks1("EXS", "EXS", "EXS")),
    ks2_pupil("P3", 95, ks1("EXS", "EXS", "WTS")),
    ks2_pupil("P4", 104, None),
    ks2_pupil("P5", None, ks1("EXS", "EXS", "EXS")),
]


def test_group_means_use_participating_pupils_with_both_a_prior_and_a_score():
    assert group_means(READING, POOL) == {"1.5": 95.0, "2": 105.0}


def test_pupil_progress_is_the_score_minus_the_group_mean():
    means = group_means(READING, POOL)
    assert [pupil_progress(READING, p, means) for p in POOL] == [
        (105.0, -5.0), (105.0, 5.0), (95.0, 0.0), (None, None), (None, None)]


def test_the_sd_is_the_population_sd_of_every_participating_pupils_progress():
    assert progress_sd(READING, POOL, group_means(READING, POOL)) == pytest.approx(
        math.sqrt(50 / 3))                                           # of -5, 5, 0


def test_school_progress_is_the_mean_with_a_95_percent_confidence_interval():
    means = group_means(READING, POOL)
    sd = math.sqrt(50 / 3)
    found = school_progress(READING, [POOL[0], POOL[2], POOL[3], POOL[4]], means, sd)
    half = 1.96 * sd / math.sqrt(2)                                  # 5.658
    assert found == Progress("ks2_reading_progress", "Reading progress", pupils=2, missing=1,
                             mean=pytest.approx(-2.5), low=pytest.approx(-2.5 - half),
                             high=pytest.approx(-2.5 + half))
    assert found.low == pytest.approx(-8.158, abs=1e-3)


def test_a_school_with_no_pupils_counted_has_no_mean_or_interval():
    found = school_progress(READING, [POOL[3]], group_means(READING, POOL), 4.0)
    assert (found.pupils, found.missing, found.mean, found.low, found.high) == (0, 1, None, None,
                                                                                None)
    assert confidence_interval(None, 4.0, 0) == (None, None)
    assert confidence_interval(1.0, 2.0, 4) == (pytest.approx(1 - 1.96), pytest.approx(1 + 1.96))


def test_progress_8_divides_the_attainment_8_difference_by_10():
    q1 = Pupil("Q1", "A", "B", {"ks2_reading": 100, "ks2_maths": 101, "english_language": "5",
                                "english_literature": "5", "mathematics": "5"})   # A8 25
    q2 = Pupil("Q2", "A", "B", {"ks2_reading": 100, "ks2_maths": 100, "mathematics": "7"})  # 14
    q3 = Pupil("Q3", "A", "B", {"ks2_reading": None, "ks2_maths": 100, "mathematics": "9"})
    means = group_means(P8, [q1, q2, q3])
    assert means == {"100": 19.5}
    assert pupil_progress(P8, q1, means) == (19.5, pytest.approx(0.55))
    assert pupil_progress(P8, q2, means) == (19.5, pytest.approx(-0.55))
    sd = progress_sd(P8, [q1, q2, q3], means)
    assert sd == pytest.approx(0.55)
    found = school_progress(P8, [q1, q3], means, sd)
    assert (found.pupils, found.missing) == (1, 1)
    assert (found.mean, found.low, found.high) == (
        pytest.approx(0.55), pytest.approx(0.55 - 1.078), pytest.approx(0.55 + 1.078))
