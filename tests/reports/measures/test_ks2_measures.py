"""KS2 measures (reports/measures/ks2.py) against hand-computed percentages and averages.

Source: ../shared/DOMAIN.md sections 3 (outcome codes, denominators) and 5 (KS2 measures).
"""
import pytest

from reports.figures import Bar, Pupil
from reports.measures import ks2
from reports.measures.common import figures


def result(score):
    """A test's (score, outcome) as the validator stores it: a code has no score."""
    if score is None:
        return None, None
    if isinstance(score, str):
        return None, score
    return score, "AS" if score >= 100 else "NS"


def pupil(reading=None, maths=None, writing=None, gps=None, science=None) -> Pupil:
    results = {}
    for prefix, value in (("read", reading), ("mat", maths), ("gps", gps)):
        score, outcome = result(value)
        results.update({f"{prefix}_score": score, f"{prefix}_outcome": outcome,
                        f"{prefix}_raw": None})
    results.update({"ta_writing": writing, "ta_science": science, "ta_reading": None,
                    "ta_maths": None})
    return Pupil("X000000000000", "Ann", "Pupil", results)


def measure(pupils, key):
    found = figures(ks2.MEASURES, pupils, ks2.outcomes)[key]
    return found.value, found.count


def test_rwm_expected_needs_100_in_both_tests_and_exs_or_gds_in_writing():
    pupils = [pupil(105, 100, "EXS"), pupil(99, 110, "GDS"), pupil(100, 100, "WTS"),
              pupil(120, 120, "GDS")]
    assert measure(pupils, "ks2_rwm_expected") == (pytest.approx(50.0), 4)


def test_rwm_higher_needs_110_in_both_tests_and_gds_in_writing():
    pupils = [pupil(110, 110, "GDS"), pupil(110, 109, "GDS"), pupil(115, 118, "EXS")]
    assert measure(pupils, "ks2_rwm_higher") == (pytest.approx(100 / 3), 3)


def test_l_and_m_leave_the_denominator_and_a_and_b_count_as_not_achieved():
    pupils = [pupil(105), pupil("A"), pupil("L"), pupil("M"), pupil("B")]
    assert measure(pupils, "ks2_reading_expected") == (pytest.approx(100 / 3), 3)


def test_h_j_q_and_u_count_as_not_achieved():
    pupils = [pupil(maths=100), pupil(maths="H"), pupil(maths="J"), pupil(maths="Q"),
              pupil(maths="U")]
    assert measure(pupils, "ks2_maths_expected") == (pytest.approx(20.0), 5)


def test_d_counts_as_not_achieved_and_f_and_p_leave_as_configured():
    pupils = [pupil(gps=101), pupil(gps="D"), pupil(gps="F"), pupil(gps="P")]
    assert measure(pupils, "ks2_gps_expected") == (pytest.approx(50.0), 2)


def test_a_pupil_leaving_any_of_reading_writing_or_maths_leaves_the_combined_denominator():
    pupils = [pupil(105, 105, "EXS"), pupil(105, "L", "EXS"), pupil(105, 105, "L"),
              pupil(105, 105, "WTS"), pupil("M", 105, "EXS")]
    assert measure(pupils, "ks2_rwm_expected") == (pytest.approx(50.0), 2)
    assert measure(pupils, "ks2_writing_expected") == (pytest.approx(75.0), 4)


def test_writing_a_counts_as_not_achieved_and_a_blank_leaves():
    pupils = [pupil(writing="EXS"), pupil(writing="A"), pupil(writing=None), pupil(writing="PK6")]
    assert measure(pupils, "ks2_writing_expected") == (pytest.approx(100 / 3), 3)


def test_average_scaled_score_uses_only_pupils_with_a_score():
    pupils = [pupil(100, gps=94), pupil(105, gps="U"), pupil("A"), pupil(None)]
    assert measure(pupils, "ks2_reading_average") == (pytest.approx(102.5), 2)
    assert measure(pupils, "ks2_gps_average") == (pytest.approx(94.0), 1)
    assert measure(pupils, "ks2_maths_average") == (None, 0)


def test_an_as_outcome_without_a_score_meets_the_expected_but_not_the_higher_standard():
    lone = Pupil("X", "A", "B", {"read_score": None, "read_outcome": "AS", "mat_score": 112,
                                 "mat_outcome": "AS", "ta_writing": "GDS"})
    assert measure([lone], "ks2_rwm_expected") == (100.0, 1)
    assert measure([lone], "ks2_rwm_higher") == (0.0, 1)


def test_a_pupil_with_no_results_is_in_no_denominator():
    found = figures(ks2.MEASURES, [pupil()], ks2.outcomes)
    assert all(f.count == 0 and f.value is None for f in found.values())


def test_the_distribution_counts_reading_scores_in_bands():
    pupils = [pupil(85), pupil(99), pupil(100), pupil(104), pupil(110), pupil(120), pupil("A")]
    title, bars = ks2.distribution(pupils)
    assert title == "Pupils by reading scaled score"
    assert bars == [Bar("80–89", 1.0), Bar("90–94", 0.0), Bar("95–99", 1.0),
                    Bar("100–104", 2.0), Bar("105–109", 0.0), Bar("110–114", 1.0),
                    Bar("115–120", 1.0)]


def test_a_pupil_line_shows_scores_or_codes_and_the_rwm_outcome():
    assert ks2.pupil_cells(pupil(105, "A", "EXS", 99, "HNM")) == ["105", "A", "99", "EXS", "HNM",
                                                                   "No"]
    assert ks2.pupil_cells(pupil(105, "L", "EXS"))[-1] == "–"


def test_prior_attainment_is_shown_as_the_ks1_codes_reading_writing_maths():
    with_prior = Pupil("X", "A", "B", {}, {"ta_reading": "EXS", "ta_writing": "GDS",
                                           "ta_maths": "WTS"})
    assert ks2.prior_text(with_prior) == "KS1 EXS/GDS/WTS"
    assert ks2.prior_text(Pupil("X", "A", "B", {}, None)) is None
    assert ks2.prior_text(Pupil("X", "A", "B", {}, {"ta_reading": "A"})) == "KS1 A/–/–"
