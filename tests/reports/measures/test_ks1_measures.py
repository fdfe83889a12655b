"""KS1 measures (reports/measures/ks1.py) against hand-computed percentages.

Source: ../shared/DOMAIN.md section 5 (KS1: % EXS or above and % GDS per subject, combined RWM).
"""
import pytest

from reports.figures import Bar, Pupil
from reports.measures import ks1
from reports.measures.common import figures


def pupil(reading=None, writing=None, maths=None, science=None, **scores) -> Pupil:
    results = {"ta_reading": reading, "ta_writing": writing, "ta_maths": maths,
               "ta_science": science, "ss_reading": None, "ss_maths": None, "ss_gps": None}
    results.update(scores)
    return Pupil("X000000000000", "Ann", "Pupil", results)


# Five pupils: one has no results at all and is not counted, so every denominator is 4.
SCHOOL = [
    pupil("GDS", "EXS", "EXS", "EXS"),
    pupil("EXS", "WTS", "GDS", "HNM"),
    pupil("A", "A", "A", "A"),
    pupil(),
    pupil("WTS", "EXS", "PK4", "EXS", ss_reading=95),
]


def test_expected_standard_counts_exs_and_gds_out_of_pupils_with_results():
    found = figures(ks1.MEASURES, SCHOOL, ks1.outcomes)
    assert found["ks1_reading_expected"].value == pytest.approx(50.0)   # GDS, EXS of 4
    assert found["ks1_writing_expected"].value == pytest.approx(50.0)   # EXS, EXS of 4
    assert found["ks1_maths_expected"].value == pytest.approx(50.0)     # EXS, GDS of 4
    assert [found[k].count for k in ("ks1_reading_expected", "ks1_writing_expected",
                                     "ks1_maths_expected")] == [4, 4, 4]


def test_greater_depth_counts_only_gds():
    found = figures(ks1.MEASURES, SCHOOL, ks1.outcomes)
    assert found["ks1_reading_greater_depth"].value == pytest.approx(25.0)
    assert found["ks1_writing_greater_depth"].value == pytest.approx(0.0)
    assert found["ks1_maths_greater_depth"].value == pytest.approx(25.0)


def test_science_counts_exs_and_hnm_and_a_do_not_meet():
    found = figures(ks1.MEASURES, SCHOOL, ks1.outcomes)["ks1_science_expected"]
    assert (found.value, found.count) == (pytest.approx(50.0), 4)


def test_combined_needs_the_expected_standard_in_all_three_subjects():
    found = figures(ks1.MEASURES, SCHOOL, ks1.outcomes)["ks1_rwm_expected"]
    assert (found.value, found.count) == (pytest.approx(25.0), 4)     # only the first pupil


def test_a_pupil_with_no_results_at_all_is_in_no_denominator():
    found = figures(ks1.MEASURES, [pupil()], ks1.outcomes)
    assert all(f.value is None and f.count == 0 for f in found.values())


def test_a_counts_as_not_meeting_rather_than_leaving_the_denominator():
    found = figures(ks1.MEASURES, [pupil("A", "A", "A", "A")], ks1.outcomes)
    assert found["ks1_reading_expected"].value == 0.0
    assert found["ks1_rwm_expected"].count == 1


def test_a_blank_subject_leaves_that_subject_and_the_combined_measure():
    pupils = [pupil("EXS", None, "EXS", None), pupil("EXS", "EXS", "EXS", "EXS")]
    found = figures(ks1.MEASURES, pupils, ks1.outcomes)
    assert found["ks1_reading_expected"].count == 2
    assert found["ks1_writing_expected"].count == 1
    assert found["ks1_science_expected"].count == 1
    assert (found["ks1_rwm_expected"].value, found["ks1_rwm_expected"].count) == (100.0, 1)


def test_a_pupil_with_only_a_scaled_score_is_counted_and_blank_tas_leave():
    found = figures(ks1.MEASURES, [pupil(ss_maths=101)], ks1.outcomes)
    assert found["ks1_reading_expected"].count == 0
    assert ks1.has_results(pupil(ss_maths=101).results)


def test_the_distribution_counts_pupils_by_reading_code_in_code_order():
    title, bars = ks1.distribution(SCHOOL)
    assert title == "Pupils by reading teacher assessment"
    assert bars == [Bar("GDS", 1.0), Bar("EXS", 1.0), Bar("WTS", 1.0), Bar("PK4", 0.0),
                    Bar("PK3", 0.0), Bar("PK2", 0.0), Bar("PK1", 0.0), Bar("EM", 0.0),
                    Bar("A", 1.0)]


def test_a_pupil_line_shows_every_result_and_whether_rwm_was_met():
    assert ks1.pupil_cells(SCHOOL[4]) == ["WTS", "EXS", "PK4", "EXS", "95", "–", "–", "No"]
    assert ks1.pupil_cells(SCHOOL[3])[-1] == "–"
