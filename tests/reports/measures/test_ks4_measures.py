"""KS4 measures (reports/measures/ks4.py): Attainment 8 slot by slot, E&M 4+/5+, EBacc entry.

Source: ../shared/DOMAIN.md sections 3 (grades, combined science) and 5 (KS4 measures).
"""
import pytest

from reports.figures import Bar, Pupil
from reports.measures import ks4
from reports.measures.common import figures
from workers.validators import ks4 as templates


def pupil(**results) -> Pupil:
    return Pupil("X000000000000", "Ann", "Pupil", results)


def a8(**results) -> ks4.Attainment8:
    return ks4.attainment8(results)


def test_maths_counts_double():
    assert a8(mathematics="7") == ks4.Attainment8(english=0.0, maths=14.0, ebacc=0.0, open=0.0)


def test_english_counts_double_only_when_both_english_gcses_are_taken():
    both = a8(english_language="6", english_literature="4")
    assert (both.english, both.open, both.total) == (12.0, 4.0, 16.0)
    assert a8(english_language="6").english == 6.0
    assert a8(english_literature="7").total == 7.0


def test_the_higher_english_gcse_is_doubled_whichever_it_is():
    assert a8(english_language="3", english_literature="8").english == 16.0


def test_combined_science_fills_two_ebacc_slots_at_the_mean_of_its_grades():
    assert a8(combined_science="54", history="3").ebacc == 4.5 + 4.5 + 3


def test_the_best_three_ebacc_subjects_fill_the_ebacc_slots_and_the_rest_may_fill_open_slots():
    found = a8(biology="7", chemistry="6", physics="5", history="8", french="4")
    assert (found.ebacc, found.open, found.total) == (8 + 7 + 6, 5 + 4, 30.0)


def test_combined_science_can_fill_the_last_ebacc_slot_and_an_open_slot():
    found = a8(history="8", geography="7", combined_science="65", art_and_design="4")
    assert (found.ebacc, found.open) == (8 + 7 + 5.5, 5.5 + 4)


def test_open_slots_take_the_best_three_of_the_remaining_qualifications():
    found = a8(english_language="9", english_literature="8", art_and_design="6", music="7",
               drama="5", business="4")
    assert (found.english, found.open) == (18.0, 8 + 7 + 6)


def test_non_gcses_with_points_count_in_open_slots_and_those_without_do_not():
    found = a8(btec_tech_sport="L2D*", cn_it="D2", fs_mathematics_l1="P", elc_english="E3",
               art_and_design="6", music="5")
    assert (found.ebacc, found.open) == (0.0, 8.5 + 7 + 6)
    assert a8(btec_tech_enterprise="L1P").open == 1.25


def test_u_scores_zero_points():
    assert a8(mathematics="U", combined_science="U", english_language="U").total == 0.0


def test_the_example_pupil_scores_60_point_5():
    found = a8(ks2_reading=100, ks2_maths=101, english_language="9", english_literature="8",
               mathematics="7", combined_science="54", biology="6", btec_tech_sport="L2M")
    # English 9x2, maths 7x2, EBacc 6 + 4.5 + 4.5, open: literature 8 + BTEC merit 5.5
    assert found == ks4.Attainment8(english=18.0, maths=14.0, ebacc=15.0, open=13.5)
    assert found.total == 60.5


def test_the_school_attainment8_is_the_mean_over_every_pupil_including_those_with_no_grades():
    pupils = [pupil(mathematics="7"), pupil(english_language="6", english_literature="4"),
              pupil()]
    found = figures(ks4.MEASURES, pupils, ks4.outcomes)
    assert (found["ks4_attainment8"].value, found["ks4_attainment8"].count) == (
        pytest.approx(10.0), 3)                              # (14 + 16 + 0) / 3
    assert found["ks4_a8_grade"].value == pytest.approx(1.0)


def test_english_and_maths_need_maths_and_either_english_at_the_grade():
    pupils = [pupil(english_language="3", english_literature="4", mathematics="4"),
              pupil(english_language="5", mathematics="5"),
              pupil(english_literature="9", mathematics="3"),
              pupil(mathematics="9")]
    found = figures(ks4.MEASURES, pupils, ks4.outcomes)
    assert (found["ks4_em_4"].value, found["ks4_em_4"].count) == (pytest.approx(50.0), 4)
    assert found["ks4_em_5"].value == pytest.approx(25.0)


def test_ebacc_entry_counts_any_grade_including_u_in_every_component():
    entered = pupil(english_language="U", english_literature="4", mathematics="5",
                    combined_science="U", french="3", history="U")
    two_singles = pupil(english_language="5", english_literature="5", mathematics="5",
                        biology="5", computer_science="4", spanish="4", geography="4")
    one_single = pupil(english_language="5", english_literature="5", mathematics="5",
                       physics="9", spanish="4", geography="4")
    one_english = pupil(english_language="5", mathematics="5", combined_science="55",
                        spanish="4", geography="4")
    assert [ks4.ebacc_entered(p.results) for p in (entered, two_singles, one_single,
                                                  one_english)] == [True, True, False, False]
    found = figures(ks4.MEASURES, [entered, two_singles, one_single, one_english], ks4.outcomes)
    assert found["ks4_ebacc_entry"].value == pytest.approx(50.0)


def test_subject_grade_4_figures_take_the_best_result_in_the_area():
    pupils = [pupil(combined_science="44", french="4"), pupil(combined_science="43", history="9")]
    found = figures(ks4.MEASURES, pupils, ks4.outcomes)
    assert found["ks4_science_4"].value == pytest.approx(50.0)     # 4-4 is 4, 4-3 is 3.5
    assert found["ks4_languages_4"].value == pytest.approx(50.0)
    assert found["ks4_humanities_4"].value == pytest.approx(50.0)
    assert found["ks4_english_4"].value == pytest.approx(0.0)


def test_the_distribution_counts_each_combined_science_grade_and_no_non_gcse():
    pupils = [pupil(combined_science="54", biology="5", mathematics="U", btec_tech_sport="L2P"),
              pupil(combined_science="U")]
    title, bars = ks4.distribution(pupils)
    assert title == "GCSE grades awarded"
    assert {b.label: b.value for b in bars if b.value} == {"5": 2.0, "4": 1.0, "U": 3.0}
    assert [b.label for b in bars] == ["9", "8", "7", "6", "5", "4", "3", "2", "1", "U"]
    assert bars[4] == Bar("5", 2.0)


def test_a_pupil_line_shows_the_slots_and_headline_outcomes():
    assert ks4.pupil_cells(pupil(english_language="9", english_literature="8", mathematics="7",
                                 combined_science="54", biology="6", btec_tech_sport="L2M")) == [
        "18", "14", "15", "13.5", "60.5", "Yes", "Yes", "No"]
    assert ks4.prior_text(pupil(ks2_reading=100, ks2_maths=101)) == "KS2 100.5"
    assert ks4.prior_text(pupil(ks2_reading=100, ks2_maths=None)) is None


def test_only_the_two_listed_grade_sets_carry_attainment_8_points():
    with_points = {q["grades"] for q in templates.qualifications(templates.NON_GCSE)
                   if templates.grade_set(q["grades"]).get("points")}
    assert with_points == {"level_1_2_award", "cambridge_national"}
    assert templates.grade_set("cambridge_national")["points"]["D*2"] == 8.5
    assert templates.grade_set("level_1_2_award")["points"]["L1P"] == 1.25
