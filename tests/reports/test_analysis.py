"""The public API the report workers call (reports/analysis.py), over hand-computed schools.

Source: ../shared/DOMAIN.md section 5 (measures; group means from all participating pupils;
national figures with year and source).
"""
import json
import math

import pytest

from reports import analysis
from reports.analysis import (
    analyse, format_value, kind_for_format, national_for, pool_for, pool_from_json, pool_to_json,
    trust_columns, trust_values,
)
from reports.figures import Figure, National, Pupil
from reports.measures import ctf, ks1, ks2, ks4


def ks2_pupil(upn, surname, forename, read, mat, writing, prior=None) -> Pupil:
    results = {"read_score": read, "read_outcome": "AS" if read >= 100 else "NS",
               "mat_score": mat, "mat_outcome": "AS" if mat >= 100 else "NS",
               "gps_score": None, "gps_outcome": None, "ta_writing": writing, "ta_science": None}
    return Pupil(upn, forename, surname, results, prior)


EXS = {"ta_reading": "EXS", "ta_writing": "EXS", "ta_maths": "EXS"}        # group 2
LOWER = {"ta_reading": "EXS", "ta_writing": "EXS", "ta_maths": "WTS"}      # group 1.5
SCHOOL_A = [ks2_pupil("A1", "Young", "Zoe", 100, 104, "EXS", EXS),
            ks2_pupil("A2", "Adams", "Bea", 95, 98, "WTS", LOWER),
            ks2_pupil("A3", "adams", "Al", 112, 111, "GDS", None)]
SCHOOL_B = [ks2_pupil("B1", "Brown", "Cy", 110, 100, "EXS", EXS),
            ks2_pupil("B2", "Brown", "Di", 101, 90, "EXS", LOWER)]


def test_every_validator_format_maps_to_its_kind():
    assert [kind_for_format(f) for f in ("ks1-template", "ks2-csv", "ks4-gcse", "ks4-non-gcse",
                                         "ctf-xml")] == ["ks1", "ks2", "ks4", "ks4", "ctf"]
    with pytest.raises(ValueError):
        kind_for_format("pdf")
    assert analysis.KINDS == ("ks1", "ks2", "ks4", "ctf")


def test_the_pool_covers_every_participating_schools_pupils():
    pool = pool_for("ks2", [SCHOOL_A, SCHOOL_B])
    assert (pool.kind, pool.schools, pool.pupils) == ("ks2", 2, 5)
    # RWM expected: A1, A3 and B1 of 5 pupils
    rwm = pool.figures["ks2_rwm_expected"]
    assert (rwm.value, rwm.count) == (pytest.approx(60.0), 5)
    assert pool.figures["ks2_reading_average"].value == pytest.approx(103.6)   # 518 / 5
    assert pool.group_means["ks2_reading_progress"] == {"1.5": 98.0, "2": 105.0}
    assert pool.group_means["ks2_maths_progress"] == {"1.5": 94.0, "2": 102.0}
    # reading progress -5, -3, +5, +3: population SD = sqrt(68 / 4)
    assert pool.progress_sd["ks2_reading_progress"] == pytest.approx(math.sqrt(17))


def test_the_pool_taken_one_school_at_a_time_equals_the_pool_over_a_list():
    def one_at_a_time():
        yield SCHOOL_A
        yield SCHOOL_B
    assert pool_for("ks2", one_at_a_time()) == pool_for("ks2", [SCHOOL_A, SCHOOL_B])


def test_the_pooled_progress_sd_equals_the_sd_of_every_pupils_progress_over_many_schools():
    import random
    from reports.measures.progress import group_means, progress_sd
    rng = random.Random(5)
    codes = ["EXS", "WTS", "GDS", "PK4"]
    schools = [[ks2_pupil(f"{s}-{n}", "S", "F", rng.randint(80, 120), rng.randint(80, 120), "EXS",
                          {f"ta_{x}": rng.choice(codes) for x in ("reading", "writing", "maths")})
                for n in range(rng.randint(1, 30))] for s in range(40)]
    pool = pool_for("ks2", schools)
    everyone = [p for school in schools for p in school]
    for measure in ks2.PROGRESS:
        means = group_means(measure, everyone)
        assert pool.group_means[measure.key] == pytest.approx(means)
        assert pool.progress_sd[measure.key] == pytest.approx(progress_sd(measure, everyone, means),
                                                              rel=1e-12)


def test_the_pool_round_trips_through_json_exactly():
    pool = pool_for("ks2", [SCHOOL_A, SCHOOL_B])
    assert pool_from_json(json.loads(json.dumps(pool_to_json(pool)))) == pool
    empty = pool_for("ks1", [])
    assert pool_from_json(json.loads(json.dumps(pool_to_json(empty)))) == empty


def test_a_ks2_analysis_compares_the_school_with_the_pool_and_national_figures():
    pool = pool_for("ks2", [SCHOOL_A, SCHOOL_B])
    found = analyse("ks2", SCHOOL_A, pool, national_for("ks2", 2026))
    first = found.headline[0]
    assert first.school == Figure("ks2_rwm_expected", "Reading, writing and maths: expected "
                                  "standard", "%", pytest.approx(200 / 3), 3)
    assert first.participating.value == pytest.approx(60.0)
    assert first.national.value == 62.0 and first.national.year == "2025"
    assert [row.school.key for row in found.headline] == list(ks2.HEADLINE)
    assert found.subject_chart[0] == ("Reading", pytest.approx(200 / 3), pytest.approx(80.0))
    assert found.subject_chart[3] == ("GPS", None, None)


def test_ks2_progress_uses_the_pool_group_means_and_counts_pupils_without_prior():
    pool = pool_for("ks2", [SCHOOL_A, SCHOOL_B])
    found = analyse("ks2", SCHOOL_A, pool, {})
    reading = found.progress[0]
    half = 1.96 * math.sqrt(17) / math.sqrt(2)
    assert (reading.key, reading.pupils, reading.missing) == ("ks2_reading_progress", 2, 1)
    assert (reading.mean, reading.low, reading.high) == (
        pytest.approx(-4.0), pytest.approx(-4.0 - half), pytest.approx(-4.0 + half))
    assert found.progress_note == ("1 pupil has no KS1 teacher assessments in reading, writing and "
                                   "maths that give a prior-attainment group (none held, or A), "
                                   "so they are not given a progress score.")


def test_pupil_lines_are_sorted_by_surname_then_forename_with_aligned_estimates():
    pool = pool_for("ks2", [SCHOOL_A, SCHOOL_B])
    found = analyse("ks2", SCHOOL_A, pool, {})
    assert [line.name for line in found.pupils] == ["adams, Al", "Adams, Bea", "Young, Zoe"]
    al, bea, zoe = found.pupils
    assert (al.prior, al.estimates, al.progress) == (None, [None, None], [None, None])
    assert (bea.prior, bea.estimates, bea.progress) == ("KS1 EXS/EXS/WTS", [98.0, 94.0],
                                                        [-3.0, 4.0])
    assert zoe.results == ["100", "104", "–", "EXS", "–", "Yes"]
    assert found.pupil_columns == ks2.PUPIL_COLUMNS


def test_ks1_has_no_progress_and_says_why():
    pupils = [Pupil("K1", "Ann", "Lee", {"ta_reading": "EXS", "ta_writing": "EXS",
                                         "ta_maths": "GDS", "ta_science": "EXS"})]
    found = analyse("ks1", pupils, pool_for("ks1", [pupils]), national_for("ks1", 2026))
    assert found.progress == []
    assert found.progress_note == ("Progress is not measured for KS1 results: there is no earlier "
                                   "key stage to measure from.")
    assert found.pupils[0].estimates == [] and found.pupils[0].prior is None
    assert found.headline[0].school.value == 100.0
    assert {row.school.key: row.national.value for row in found.headline if row.national} == {
        "ks1_reading_expected": 68.0, "ks1_writing_expected": 60.0, "ks1_maths_expected": 70.0,
        "ks1_science_expected": 79.0}


def test_ks4_progress_8_estimates_are_in_points_and_progress_is_divided_by_10():
    q1 = Pupil("Q1", "A", "Zed", {"ks2_reading": 100, "ks2_maths": 101, "english_language": "5",
                                  "english_literature": "5", "mathematics": "5"})   # A8 25
    q2 = Pupil("Q2", "B", "Yew", {"ks2_reading": 100, "ks2_maths": 100, "mathematics": "7"})
    q3 = Pupil("Q3", "C", "Xu", {"ks2_reading": None, "ks2_maths": 100, "mathematics": "9"})
    pool = pool_for("ks4", [[q1, q3], [q2]])
    found = analyse("ks4", [q1, q3], pool, national_for("ks4", 2026))
    assert [line.upn for line in found.pupils] == ["Q3", "Q1"]
    assert (found.pupils[1].estimates, found.pupils[1].progress) == ([19.5], [pytest.approx(0.55)])
    assert (found.pupils[0].prior, found.pupils[0].progress) == (None, [None])
    p8 = found.progress[0]
    assert (p8.pupils, p8.missing, p8.mean) == (1, 1, pytest.approx(0.55))
    assert found.progress_note.startswith("1 pupil has no KS2 reading or maths scaled score")
    assert found.headline[0].school.value == pytest.approx((25 + 18) / 2)
    assert found.headline[0].national.value == 46.3


def test_ctf_analysis_reports_phonics_and_mtc_without_progress():
    pupils = [Pupil("C1", "A", "B", {"phonics": {"year": 2026, "mark": 33}}),
              Pupil("C2", "A", "C", {"mtc": {"year": 2026, "score": 25}})]
    found = analyse("ctf", pupils, pool_for("ctf", [pupils]), national_for("ctf", 2026))
    assert [format_value(row.school) for row in found.headline] == ["100.0%", "25.0", "100.0%"]
    assert found.progress == [] and "not measured" in found.progress_note
    assert found.distribution_title == "Pupils by multiplication tables check score"


def test_a_pool_of_another_kind_is_refused():
    with pytest.raises(ValueError):
        analyse("ks1", [], pool_for("ks2", []), {})


@pytest.mark.parametrize(("kind", "year", "expected"), [
    ("ks2", 2026, {"ks2_rwm_expected": (62.0, "2025"), "ks2_reading_expected": (74.0, "2024")}),
    ("ks2", 2024, {"ks2_rwm_expected": (61.0, "2024")}),
    ("ks2", 2023, {"ks2_rwm_expected": (60.0, "2023")}),
    ("ks2", 2022, {"ks2_rwm_expected": (65.0, "2019")}),
    ("ks4", 2023, {"ks4_attainment8": (46.3, "2022/23"), "ks4_em_5": (45.3, "2022/23")}),
    ("ctf", 2023, {"phonics_expected": (79.0, "2023"), "mtc_full_marks": (29.0, "2023")}),
])
def test_national_figures_are_the_latest_whose_year_ends_by_the_collection_year(kind, year,
                                                                                expected):
    found = national_for(kind, year)
    for key, (value, label) in expected.items():
        assert (found[key].value, found[key].year) == (value, label)
        assert found[key].source.startswith("DfE")


def test_no_national_figure_is_given_before_the_first_published_year():
    assert national_for("ks2", 2018) == {}
    assert national_for("ks4", 2022) == {}
    assert analysis.end_year("2022/23") == 2023 and analysis.end_year("2024") == 2024


def test_every_national_figure_belongs_to_a_measure():
    keys = {m.key for module in (ks1, ks2, ks4, ctf) for m in module.MEASURES}
    assert {entry["key"] for entry in analysis.national_config()["figure"]} <= keys


def test_trust_columns_and_values_line_up_with_the_headline():
    pool = pool_for("ks2", [SCHOOL_A, SCHOOL_B])
    found = analyse("ks2", SCHOOL_A, pool, {})
    assert trust_columns("ks2") == ["RWM expected", "RWM higher", "Reading expected",
                                    "Writing expected", "Maths expected", "GPS expected",
                                    "Reading average", "Maths average", "GPS average"]
    # RWM 2 of 3; higher 1 of 3 (A3); reading 2 of 3; writing 2 of 3; maths 2 of 3; GPS none;
    # reading (100 + 95 + 112) / 3; maths (104 + 98 + 111) / 3
    assert trust_values(found) == ["66.7%", "33.3%", "66.7%", "66.7%", "66.7%", "–", "102.3",
                                   "104.3", "–"]
    assert len(trust_columns("ks4")) == len(ks4.HEADLINE)


def test_values_are_formatted_to_one_decimal_place_or_a_dash():
    assert format_value(Figure("k", "l", "%", 61.54, 10)) == "61.5%"
    assert format_value(Figure("k", "l", "score", 104.16, 10)) == "104.2"
    assert format_value(Figure("k", "l", "points", 46.3, 10)) == "46.3"
    assert format_value(Figure("k", "l", "grade", 4.63, 10)) == "4.63"
    assert format_value(Figure("k", "l", "%", None, 0)) == "–"


def test_method_notes_explain_each_measure_and_where_group_means_come_from():
    pool = pool_for("ks4", [[]])
    notes = analyse("ks4", [], pool, {}).method_notes
    assert len(notes) == len(ks4.method_notes()) + 1
    assert any("participating" in note and "National figures are not out yet" in note
               for note in notes)
    assert isinstance(national_for("ks4", 2026)["ks4_em_4"], National)
