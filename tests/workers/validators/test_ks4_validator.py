"""The KS4 GCSE and non-GCSE template validators (workers/validators/ks4.py), through real .xlsx files.

Sources: ../shared/DOMAIN.md sections 1-3 and ../shared/seeds/ks4-results-service-guidance.txt.
"""
import io
import re
from datetime import date

import pytest
from openpyxl import Workbook

from intake.demo_world import make_upn
from reports.ks4_templates import ks4_workbook
from workers.validators import ks4
from workers.validators.ks1 import HEADER as KS1_HEADER
from workers.validators.ks4 import FIXED_COLUMNS, GCSE, NON_GCSE, header, kind_of
from workers.validators.result import ValidationContext
from workers.validators.rules import UPN_FORMAT_MESSAGE
from workers.validators.workbook import first_sheet_rows
from helpers import lines, only

TODAY = date(2026, 7, 1)
SCHOOL = "8012001"
GCSE_MESSAGE = "Grade must be 9 to 1 or U, or blank if not entered."
F_X_MESSAGE = ("Grade must be 9 to 1 or U, or blank if not entered (F and X are not used: leave the "
               "cell blank for not entered, U for ungraded).")
SEPARATOR_MESSAGE = ("Combined Science is a double grade written highest first with no separator, "
                     "e.g. 54 (not 5-4, 5 4 or 4/3).")
ORDER_MESSAGE = "Combined Science is a double grade written highest first, e.g. 54 (not 45)."
SCORE_MESSAGE = "Range must be between 80 to 120 and be whole numbers. Allows empty field."
BTEC_MESSAGE = "Grade must be L1P, L1M, L1D, L2P, L2M, L2D, L2D* or U, or blank if not entered."
CN_MESSAGE = "Grade must be P1, M1, D1, P2, M2, D2, D*2 or U, or blank if not entered."
DOUBLE_GRADES = ["99", "98", "88", "87", "77", "76", "66", "65", "55", "54", "44", "43", "33", "32",
                 "22", "21", "11"]
DEFAULT_GRADES = {
    GCSE: {"english_language": "5", "english_literature": "6", "mathematics": "4",
           "combined_science": "54", "history": "U"},
    NON_GCSE: {"btec_tech_enterprise": "L2M", "cn_creative_imedia": "D*2", "fs_mathematics_l1": "P"},
}


def upn(serial: int, dfe: str = SCHOOL) -> str:
    return make_upn(dfe, 15, serial)


def snake(name: str) -> str:
    return name.lower().replace(" ", "_")


def pupil(serial: int = 1, kind: str = GCSE, **changes) -> list:
    """A valid row of the kind's template; ``changes`` replace cells by fixed column name
    (lower case, spaces as _) or by qualification key (``english_language="7"``)."""
    row = {
        "Organisation": "Northgate Academy", "School DFE": SCHOOL, "Key stage": 4, "Year": 11,
        "UPN": upn(serial), "Forename": "Amara", "Surname": "Ahmed", "Gender": "Female",
        "Date of birth": date(2010, 3, 14), "KS2 Reading scaled score": 104,
        "KS2 Maths scaled score": 99,
    }
    by_key = {snake(name): name for name in FIXED_COLUMNS}
    by_key.update({q["key"]: q["column"] for q in ks4.qualifications(kind)})
    for key, grade in DEFAULT_GRADES[kind].items():
        row[by_key[key]] = grade
    for key, value in changes.items():
        row[by_key[key]] = value
    return [row.get(name) for name in header(kind)]


def no_grades(serial: int = 1, kind: str = GCSE, **changes) -> list:
    return pupil(serial, kind, **{**{key: None for key in DEFAULT_GRADES[kind]}, **changes})


def check(rows, context=None, today=TODAY, kind=GCSE, told=True):
    """Write the rows under the kind's header, read the workbook back and validate it
    (``told``: the caller passes the kind, as the pipeline does after detection)."""
    read = first_sheet_rows(ks4_workbook(kind, rows), max_rows=1000)
    return ks4.validate(read, context, today=today, kind=kind if told else None)


def check_with_header(header_row, rows=(), kind=None):
    book = Workbook()
    book.active.append(header_row)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return ks4.validate(first_sheet_rows(buffer.getvalue(), max_rows=1000), None, today=TODAY,
                        kind=kind)


def column(key: str, kind: str = GCSE) -> str:
    return next(q["column"] for q in ks4.qualifications(kind) if q["key"] == key)


# --- the qualification lists in config ---------------------------------------------------------

def test_the_config_has_at_least_40_gcses_including_english_maths_and_combined_science():
    columns = [q["column"] for q in ks4.qualifications(GCSE)]
    assert len(columns) >= 40
    for name in ("GCSE English Language", "GCSE English Literature", "GCSE Mathematics",
                 "GCSE Combined Science"):
        assert name in columns


def test_the_config_has_at_least_15_non_gcse_qualifications():
    assert len(ks4.qualifications(NON_GCSE)) >= 15


def test_every_qualification_has_a_key_a_column_and_a_grade_set_that_exists():
    sets = ks4.ks4_config()["grade_sets"]
    for kind in ks4.FORMATS:
        for q in ks4.qualifications(kind):
            assert q["key"] and q["column"], q
            assert q["grades"] in sets, q


def test_qualification_keys_and_columns_are_unique_across_both_templates_and_the_fixed_columns():
    everything = ks4.qualifications(GCSE) + ks4.qualifications(NON_GCSE)
    keys = [q["key"] for q in everything] + ["ks2_reading", "ks2_maths"]
    columns = [q["column"].casefold() for q in everything] + [c.casefold() for c in FIXED_COLUMNS]
    assert len(keys) == len(set(keys))
    assert len(columns) == len(set(columns))


def test_every_gcse_has_an_ebacc_category_and_only_combined_science_is_a_double_award():
    categories = {"english", "maths", "science", "languages", "humanities", "none"}
    gcses = {q["key"]: q for q in ks4.qualifications(GCSE)}
    assert all(q["ebacc"] in categories for q in gcses.values())
    assert [k for k, q in gcses.items() if q.get("double_award")] == ["combined_science"]
    assert gcses["combined_science"]["ebacc"] == "science"
    assert gcses["english_language"]["ebacc"] == gcses["english_literature"]["ebacc"] == "english"
    assert gcses["mathematics"]["ebacc"] == "maths"


def test_every_grade_set_allows_u_and_holds_only_upper_case_grades():
    for name, grade_set in ks4.ks4_config()["grade_sets"].items():
        assert "U" in grade_set["grades"], name
        assert all(g == g.upper().strip() for g in grade_set["grades"]), name


def test_the_gcse_grade_sets_are_9_to_1_and_u_and_the_17_combined_science_double_grades_and_u():
    assert ks4.grade_set("gcse_9_1")["grades"] == ["9", "8", "7", "6", "5", "4", "3", "2", "1", "U"]
    assert ks4.grade_set("gcse_combined_science")["grades"] == DOUBLE_GRADES + ["U"]
    assert all(g[0] >= g[1] and int(g[0]) - int(g[1]) <= 1 for g in DOUBLE_GRADES)


def test_non_gcse_qualifications_have_their_own_grade_sets():
    grade_sets = {q["grades"] for q in ks4.qualifications(NON_GCSE)}
    assert len(grade_sets) >= 5 and "gcse_9_1" not in grade_sets
    assert "L2D*" in ks4.grade_set("level_1_2_award")["grades"]
    assert "D*2" in ks4.grade_set("cambridge_national")["grades"]


def test_the_header_is_the_fixed_columns_then_the_subject_columns_in_config_order():
    for kind in ks4.FORMATS:
        assert header(kind) == FIXED_COLUMNS + [q["column"] for q in ks4.qualifications(kind)]
    assert FIXED_COLUMNS == ["Organisation", "School DFE", "Key stage", "Year", "UPN", "Forename",
                             "Surname", "Gender", "Date of birth", "KS2 Reading scaled score",
                             "KS2 Maths scaled score"]
    assert header(GCSE)[11:15] == ["GCSE English Language", "GCSE English Literature",
                                   "GCSE Mathematics", "GCSE Combined Science"]


# --- which template is it ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ks4.FORMATS)
def test_kind_of_recognises_each_templates_header_as_read_from_its_workbook(kind):
    read = first_sheet_rows(ks4_workbook(kind, []), max_rows=10)
    assert kind_of(read[0]) == kind


@pytest.mark.parametrize("header_row", [KS1_HEADER, [], [None, ""], FIXED_COLUMNS,
                                        ["Name", "Class", "GCSE Mathematics", "BTEC Tech Award Sport"],
                                        ["GCSE Mathematics", "GCSE History", "GCSE French"]],
                         ids=["ks1", "empty", "blank", "fixed-columns-only", "unrelated", "subjects-only"])
def test_kind_of_is_none_for_headers_that_are_not_a_ks4_template(header_row):
    assert kind_of(header_row) is None


def test_kind_of_is_none_when_a_header_has_as_many_gcse_as_non_gcse_subjects():
    assert kind_of(FIXED_COLUMNS + ["GCSE Mathematics", "BTEC Tech Award Sport"]) is None


@pytest.mark.parametrize("kind", ks4.FORMATS)
def test_kind_of_still_recognises_a_template_with_a_changed_column(kind):
    columns = header(kind)
    assert kind_of(columns[:12] + ["Renamed subject"] + columns[13:]) == kind
    assert kind_of(columns[:6] + ["Last name"] + columns[7:]) == kind
    assert kind_of(columns[:-1]) == kind
    assert kind_of(columns + [header(NON_GCSE if kind == GCSE else GCSE)[-1]]) == kind
    assert kind_of([c.upper() for c in columns]) == kind


# --- a valid file ------------------------------------------------------------------------------

def every_grade_rows(kind):
    """One pupil per grade position, so every grade of every set is used in every column."""
    subjects = ks4.qualifications(kind)
    longest = max(len(ks4.grade_set(q["grades"])["grades"]) for q in subjects)
    rows = []
    for n in range(longest):
        grades = {}
        for q in subjects:
            valid = ks4.grade_set(q["grades"])["grades"]
            grades[q["key"]] = valid[n % len(valid)]
        rows.append(pupil(n + 1, kind, **grades))
    return rows


@pytest.mark.parametrize("kind", ks4.FORMATS)
def test_a_template_filled_with_every_valid_grade_has_no_errors_or_warnings(kind):
    rows = every_grade_rows(kind)
    result = check(rows, kind=kind)
    assert result.errors == [] and result.warnings == []
    assert result.valid and result.school == SCHOOL and result.format == kind
    assert len(result.pupils) == len(rows)


@pytest.mark.parametrize("kind", ks4.FORMATS)
def test_a_valid_template_is_recognised_without_being_told_its_kind(kind):
    result = check([pupil(1, kind), pupil(2, kind)], kind=kind, told=False)
    assert result.errors == [] and result.format == kind


def test_a_valid_gcse_row_becomes_a_pupil_record_with_its_grades_and_ks2_scores():
    result = check([pupil(1), pupil(2, gender="m", date_of_birth="02/09/2009", ks2_maths_scaled_score=None,
                                    english_language=7, combined_science=66, history=None)])
    assert result.errors == []
    first, second = result.pupils
    assert (first.row, first.upn, first.forename, first.surname) == (2, upn(1), "Amara", "Ahmed")
    assert (first.gender, first.dob, first.nc_year) == ("F", date(2010, 3, 14), 11)
    assert first.results == {"ks2_reading": 104, "ks2_maths": 99, "english_language": "5",
                             "english_literature": "6", "mathematics": "4",
                             "combined_science": "54", "history": "U"}
    assert second.row == 3
    assert (second.gender, second.dob) == ("M", date(2009, 9, 2))
    assert second.results["ks2_maths"] is None
    assert second.results["english_language"] == "7"
    assert second.results["combined_science"] == "66"
    assert "history" not in second.results


def test_a_valid_non_gcse_row_keeps_each_qualifications_own_grade():
    result = check([pupil(1, NON_GCSE, btec_tech_sport="l2d*", cn_it="d*2", elc_english="e3",
                          fsmq_additional_mathematics="b", higher_project="a*")], kind=NON_GCSE)
    assert result.errors == []
    assert result.pupils[0].results == {
        "ks2_reading": 104, "ks2_maths": 99, "btec_tech_enterprise": "L2M", "btec_tech_sport": "L2D*",
        "cn_creative_imedia": "D*2", "cn_it": "D*2", "fsmq_additional_mathematics": "B",
        "higher_project": "A*", "elc_english": "E3", "fs_mathematics_l1": "P"}


@pytest.mark.parametrize("kind", ks4.FORMATS)
def test_as_json_has_the_shared_contract_keys_and_the_kind_as_format(kind):
    body = check([pupil(1, kind)], kind=kind).as_json("ks4-2026")
    assert body == {"format": kind, "collection": "ks4-2026", "school": SCHOOL, "status": "valid",
                    "pupils": 1, "errors": [], "warnings": []}


def test_the_formats_are_the_gcse_and_non_gcse_streams():
    assert (GCSE, NON_GCSE) == ks4.FORMATS == ("ks4-gcse", "ks4-non-gcse")


# --- header ------------------------------------------------------------------------------------

def changed(kind, change):
    columns = header(kind)
    return change(columns)


GCSE_HEADER_CHANGES = [
    (lambda h: h[:6] + ["Last name"] + h[7:],
     "The header row must not be changed: column G should be 'Surname' but is 'Last name'"),
    (lambda h: h[:11] + ["English Language"] + h[12:],
     ("Subject columns must not be added, deleted, renamed or re-ordered: column L should be "
      "'GCSE English Language' but is 'English Language'")),
    (lambda h: h[:13] + h[14:],
     ("Subject columns must not be added, deleted, renamed or re-ordered: column N should be "
      "'GCSE Mathematics' but is 'GCSE Combined Science'")),
    (lambda h: h[:-1],
     (f"Subject columns must not be added, deleted, renamed or re-ordered: column "
      f"{ks4.column_letter(len(header(GCSE)) - 1)} should be '{header(GCSE)[-1]}' but is empty")),
    (lambda h: h[:11] + [h[12], h[11]] + h[13:],
     ("Subject columns must not be added, deleted, renamed or re-ordered: column L should be "
      "'GCSE English Language' but is 'GCSE English Literature'")),
    (lambda h: h[:14] + ["GCSE Welsh"] + h[14:],
     ("Subject columns must not be added, deleted, renamed or re-ordered: column O should be "
      "'GCSE Combined Science' but is 'GCSE Welsh'")),
    (lambda h: h + ["GCSE Welsh"],
     (f"Subject columns must not be added, deleted, renamed or re-ordered: column 'GCSE Welsh' was "
      f"added after '{header(GCSE)[-1]}'. Please remove it.")),
]
HEADER_CHANGE_IDS = ["fixed-renamed", "subject-renamed", "subject-deleted", "last-subject-deleted",
                     "subjects-reordered", "subject-added-inside", "subject-added-at-end"]


@pytest.mark.parametrize("change, expected", GCSE_HEADER_CHANGES, ids=HEADER_CHANGE_IDS)
@pytest.mark.parametrize("told", [True, False], ids=["kind-given", "kind-detected"])
def test_a_changed_gcse_header_is_one_header_error_naming_the_first_column_that_differs(change, expected,
                                                                                       told):
    header_row = changed(GCSE, change)
    result = check_with_header(header_row, [pupil(1, school_dfe="bad", upn="bad")],
                               kind=GCSE if told else None)
    [error] = result.errors
    assert error.rule == "header" and error.rows == [1] and error.column is None
    assert expected in error.message
    assert result.pupils == [] and result.school is None and result.format == GCSE


NON_GCSE_HEADER_CHANGES = [
    (lambda h: h[:11] + ["BTEC Enterprise"] + h[12:],
     "column L should be 'BTEC Tech Award Enterprise' but is 'BTEC Enterprise'"),
    (lambda h: h[:12] + h[13:], ("column M should be 'BTEC Tech Award Health and Social Care' but is "
                                 "'BTEC Tech Award Sport'")),
    (lambda h: h[:11] + [h[12], h[11]] + h[13:],
     "column L should be 'BTEC Tech Award Enterprise' but is 'BTEC Tech Award Health and Social Care'"),
    (lambda h: h[:11] + ["Notes"] + h[11:], "column L should be 'BTEC Tech Award Enterprise' but is 'Notes'"),
    (lambda h: h + ["Notes"], f"column 'Notes' was added after '{header(NON_GCSE)[-1]}'"),
]


@pytest.mark.parametrize("change, expected", NON_GCSE_HEADER_CHANGES,
                         ids=["renamed", "deleted", "reordered", "added-inside", "added-at-end"])
def test_a_changed_non_gcse_header_is_one_header_error_naming_the_first_column_that_differs(change,
                                                                                           expected):
    result = check_with_header(changed(NON_GCSE, change), [pupil(1, NON_GCSE)])
    [error] = result.errors
    assert error.rule == "header" and error.rows == [1]
    assert "Subject columns must not be added, deleted, renamed or re-ordered" in error.message
    assert expected in error.message
    assert "non-GCSE template" in error.message or "Please remove it" in error.message
    assert result.format == NON_GCSE


@pytest.mark.parametrize("kind", ks4.FORMATS)
def test_the_exact_header_is_accepted(kind):
    assert check_with_header(header(kind), [pupil(1, kind)], kind=kind).errors == []


def test_a_gcse_template_validated_as_the_non_gcse_template_is_a_header_error_at_column_l():
    result = check_with_header(header(GCSE), [pupil(1)], kind=NON_GCSE)
    [error] = result.errors
    assert error.rule == "header"
    assert "column L should be 'BTEC Tech Award Enterprise' but is 'GCSE English Language'" in error.message


@pytest.mark.parametrize("header_row", [[None] * 3, KS1_HEADER, FIXED_COLUMNS],
                         ids=["blank", "ks1", "no-subjects"])
def test_a_first_row_that_is_not_a_ks4_header_is_a_header_error_when_no_kind_is_given(header_row):
    result = check_with_header(header_row, [pupil(1)])
    [error] = result.errors
    assert error.rule == "header" and error.rows == [1]
    assert error.message == ("The first row must be the header row of the GCSE or non-GCSE results "
                             "template (Organisation, School DFE, Key stage, ...).")


def test_a_blank_first_row_is_a_header_error_even_when_the_kind_is_given():
    result = check_with_header([None] * 3, [pupil(1)], kind=NON_GCSE)
    assert [e.rule for e in result.errors] == ["header"] and result.format == NON_GCSE


# --- Organisation, School DFE ------------------------------------------------------------------

@pytest.mark.parametrize("organisation", [None, "", "   "])
def test_a_missing_organisation_is_an_error(organisation):
    error = only(check([pupil(1, organisation=organisation)]).errors, "organisation-missing")
    assert error.line() == "Organisation must have a value. Column: Organisation. Row: 2"


@pytest.mark.parametrize("dfe", ["1002001", "801200", "80120011", "", "ABCDEFG", 801200])
def test_an_invalid_dfe_number_is_reported_as_invalid_dfe_detected(dfe):
    error = only(check([pupil(1, school_dfe=dfe)]).errors, "dfe-invalid")
    assert error.line() == "Invalid DFE detected. Column: School DFE. Row: 2"


def test_an_invalid_dfe_number_on_row_7_is_reported_with_the_seed_wording():
    rows = [pupil(n) for n in range(1, 6)] + [pupil(6, school_dfe="1231234")]
    assert lines(check(rows).errors) == ["Invalid DFE detected. Column: School DFE. Row: 7"]


def test_a_dfe_number_typed_as_a_number_is_accepted():
    result = check([pupil(1, school_dfe=8012001)])
    assert result.errors == [] and result.school == SCHOOL


def test_rows_for_a_second_school_are_errors_naming_the_school_most_rows_are_for():
    rows = [pupil(1), pupil(2, school_dfe="8012002"), pupil(3)]
    error = only(check(rows).errors, "dfe-mixed")
    assert error.line() == ("Every row must be for the same school (8012001); send one file per "
                            "school. Column: School DFE. Row: 3")


def test_a_sender_not_registered_for_the_school_gets_a_permission_error_on_every_row():
    result = check([pupil(1), pupil(2)], ValidationContext(may_submit_for=lambda dfe: False))
    error = only(result.errors, "dfe-not-permitted")
    assert error.rows == [2, 3]
    assert error.message.startswith("You are not registered to send results for school 8012001.")
    assert result.pupils == []


def test_a_sender_registered_for_the_school_is_asked_about_that_school_and_accepted():
    asked = []
    result = check([pupil(1)], ValidationContext(may_submit_for=lambda dfe: asked.append(dfe) or True))
    assert result.errors == [] and asked == [SCHOOL]


# --- Key stage and Year ------------------------------------------------------------------------

@pytest.mark.parametrize("key_stage", [4, 4.0, "4", "KS4", "ks4", "KS 4", "Key stage 4"])
def test_key_stage_4_written_any_common_way_is_accepted(key_stage):
    assert check([pupil(1, key_stage=key_stage)]).errors == []


@pytest.mark.parametrize("key_stage", [3, 5, None, "KS3", "four", 4.5])
def test_a_key_stage_other_than_4_is_an_error(key_stage):
    error = only(check([pupil(1, key_stage=key_stage)]).errors, "key-stage")
    assert error.line() == "Key stage must be 4. Column: Key stage. Row: 2"


@pytest.mark.parametrize("year", [11, 11.0, "11", "Y11", "Year 11", "year 11"])
def test_year_11_written_any_common_way_is_accepted(year):
    result = check([pupil(1, year=year)])
    assert result.errors == [] and result.pupils[0].nc_year == 11


@pytest.mark.parametrize("year", [10, 12, None, "Y10", "eleven", 11.5])
def test_a_year_other_than_11_is_an_error(year):
    error = only(check([pupil(1, year=year)]).errors, "year")
    assert error.line() == "Year must be 11. Column: Year. Row: 2"


# --- UPN -----------------------------------------------------------------------------------------

def test_invalid_upns_on_rows_6_and_14_are_one_line_with_the_seed_wording():
    rows = [pupil(n) for n in range(1, 15)]
    rows[4] = pupil(5, upn="A12345678901")
    rows[12] = pupil(13, upn="801200115013")
    assert lines(check(rows).errors) == [f"{UPN_FORMAT_MESSAGE} Column: UPN. Rows: 6, 14"]


@pytest.mark.parametrize("bad", ["1801200122001", "X80120012200", "X8012001220011", "T20110001804I"])
def test_a_upn_of_the_wrong_shape_is_a_upn_format_error(bad):
    error = only(check([pupil(1, upn=bad)]).errors, "upn-format")
    assert error.message == UPN_FORMAT_MESSAGE and error.rows == [2]


def test_a_upn_with_the_wrong_check_letter_is_reported_as_such():
    error = only(check([pupil(1, upn="Q207000016049")]).errors, "upn-check-letter")
    assert error.line() == ("UPN check letter is not correct: please copy the UPN from your MIS. "
                            "Column: UPN. Row: 2")


def test_a_missing_upn_is_reported_as_upn_must_have_a_value():
    error = only(check([pupil(1), pupil(2, upn=None)]).errors, "upn-missing")
    assert error.line() == "UPN must have a value. Column: UPN. Row: 3"


def test_a_lower_case_upn_is_upper_cased_before_it_is_checked():
    result = check([pupil(1, upn=upn(1).lower())])
    assert result.errors == [] and result.pupils[0].upn == upn(1)


def test_a_upn_on_several_rows_is_a_duplicate_error_listing_every_row():
    result = check([pupil(1), pupil(2), pupil(1), pupil(1, upn=upn(1).lower())])
    error = only(result.errors, "upn-duplicate")
    assert error.line() == ("UPN appears more than once in the file; each pupil must have one row. "
                            "Column: UPN. Rows: 2, 4, 5")
    assert result.pupils == []


# --- names, gender, date of birth --------------------------------------------------------------

def test_a_missing_surname_is_reported_with_the_seed_wording():
    rows = [pupil(n) for n in range(1, 9)] + [pupil(9, surname="  ")]
    assert lines(check(rows).errors) == ["Surname must have a value. Column: Surname. Row: 10"]


def test_a_missing_forename_is_reported_in_the_forename_column():
    error = only(check([pupil(1, forename=None)]).errors, "name-missing")
    assert error.line() == "Forename must have a value. Column: Forename. Row: 2"


def test_a_forename_longer_than_the_database_keeps_is_an_error_on_its_row():
    rows = [pupil(1, forename="F" * 101), pupil(2, surname="S" * 100)]
    assert lines(check(rows).errors) == [
        "Forename must be at most 100 characters. Column: Forename. Row: 2"]


@pytest.mark.parametrize("gender, code", [("Male", "M"), ("female", "F"), ("M", "M"), ("Girl", "F")])
def test_every_accepted_spelling_of_gender_is_stored_as_its_code(gender, code):
    result = check([pupil(1, gender=gender)])
    assert result.errors == [] and result.pupils[0].gender == code


@pytest.mark.parametrize("gender", [None, "X", "Unknown"])
def test_a_missing_or_unknown_gender_is_an_error(gender):
    error = only(check([pupil(1, gender=gender)]).errors, "gender")
    assert error.line() == "Gender must be Male or Female. Column: Gender. Row: 2"


@pytest.mark.parametrize("dob", [None, "31/02/2010", "not a date", TODAY, date(2026, 7, 2)],
                         ids=["blank", "31-feb", "text", "today", "tomorrow"])
def test_a_date_of_birth_that_is_missing_invalid_or_not_in_the_past_is_an_error(dob):
    error = only(check([pupil(1, date_of_birth=dob)]).errors, "dob")
    assert error.line() == ("Date of birth must be a valid date in the past, written DD/MM/YYYY. "
                            "Column: Date of birth. Row: 2")


@pytest.mark.parametrize("dob", [date(2010, 3, 14), "14/03/2010", "2010-03-14"])
def test_a_past_date_of_birth_as_an_excel_date_or_text_is_accepted(dob):
    result = check([pupil(1, date_of_birth=dob)])
    assert result.errors == [] and result.pupils[0].dob == date(2010, 3, 14)


# --- KS2 prior attainment ----------------------------------------------------------------------

@pytest.mark.parametrize("score, stored", [(80, 80), (120, 120), (100.0, 100), ("100", 100),
                                           (None, None), ("  ", None)])
@pytest.mark.parametrize("column, key", [("ks2_reading_scaled_score", "ks2_reading"),
                                         ("ks2_maths_scaled_score", "ks2_maths")])
def test_a_whole_ks2_scaled_score_from_80_to_120_or_a_blank_is_accepted(column, key, score, stored):
    result = check([pupil(1, **{column: score})])
    assert result.errors == []
    assert result.pupils[0].results[key] == stored


@pytest.mark.parametrize("score", [79, 121, 0, 100.5, "abc", "AS", "A"])
def test_a_ks2_scaled_score_out_of_range_not_whole_or_a_code_is_an_error(score):
    error = only(check([pupil(1, ks2_reading_scaled_score=score)]).errors, "ks2-scaled-score")
    assert error.line() == f"{SCORE_MESSAGE} Column: KS2 Reading scaled score. Row: 2"


# --- GCSE grades ---------------------------------------------------------------------------------

@pytest.mark.parametrize("grade, stored", [("9", "9"), ("1", "1"), ("U", "U"), ("u", "U"), (7, "7"),
                                           (4.0, "4"), (" 5 ", "5")])
@pytest.mark.parametrize("key", ["english_language", "english_literature", "mathematics", "biology",
                                 "french", "statistics"])
def test_a_gcse_grade_from_9_to_1_or_u_is_accepted_and_stored_as_text(key, grade, stored):
    result = check([pupil(1, **{key: grade})])
    assert result.errors == []
    assert result.pupils[0].results[key] == stored


@pytest.mark.parametrize("grade", [None, "", "   "])
def test_a_blank_gcse_grade_means_not_entered_and_is_left_out_of_the_results(grade):
    result = check([pupil(1, english_language=grade)])
    assert result.errors == []
    assert "english_language" not in result.pupils[0].results


@pytest.mark.parametrize("grade", ["F", "X", "f", "x"])
def test_f_and_x_are_errors_saying_to_leave_the_cell_blank_or_write_u(grade):
    error = only(check([pupil(1, mathematics=grade)]).errors, "grade-not-used")
    assert error.line() == f"{F_X_MESSAGE} Column: GCSE Mathematics. Row: 2"


@pytest.mark.parametrize("grade", ["10", 0, "A*", "C", 4.5, "5+", "Pass", "54", "-"])
def test_any_other_gcse_grade_is_an_error_saying_9_to_1_or_u(grade):
    error = only(check([pupil(1, english_literature=grade)]).errors, "grade")
    assert error.line() == f"{GCSE_MESSAGE} Column: GCSE English Literature. Row: 2"


# --- Combined Science double grade ---------------------------------------------------------------

@pytest.mark.parametrize("grade", DOUBLE_GRADES + ["U", "u"])
def test_every_combined_science_double_grade_written_highest_first_is_accepted(grade):
    result = check([pupil(1, combined_science=grade)])
    assert result.errors == []
    assert result.pupils[0].results["combined_science"] == grade.upper()


def test_a_combined_science_grade_typed_as_a_number_is_accepted():
    result = check([pupil(1, combined_science=54), pupil(2, combined_science=66.0)])
    assert result.errors == []
    assert [p.results["combined_science"] for p in result.pupils] == ["54", "66"]


@pytest.mark.parametrize("grade", ["5 4", "5-4", "4/3", "3-3", "5 - 4", "5.4", 5.4, "4,4", "4-5"])
def test_a_combined_science_grade_with_a_gap_or_separator_says_to_write_it_with_no_separator(grade):
    error = only(check([pupil(1, combined_science=grade)]).errors, "double-grade-separator")
    assert error.line() == f"{SEPARATOR_MESSAGE} Column: GCSE Combined Science. Row: 2"


@pytest.mark.parametrize("grade", ["45", 45, "34", "89", "12"])
def test_a_combined_science_grade_written_lowest_first_says_to_write_it_highest_first(grade):
    error = only(check([pupil(1, combined_science=grade)]).errors, "double-grade-order")
    assert error.line() == f"{ORDER_MESSAGE} Column: GCSE Combined Science. Row: 2"


@pytest.mark.parametrize("grade", ["F", "X"])
def test_f_and_x_in_combined_science_are_errors_saying_to_leave_blank_or_write_u(grade):
    error = only(check([pupil(1, combined_science=grade)]).errors, "grade-not-used")
    assert error.message.startswith("Grade must be a double grade")
    assert error.message.endswith(
        "(F and X are not used: leave the cell blank for not entered, U for ungraded).")


@pytest.mark.parametrize("grade", ["5", "53", "555", "A", "UU", "0"])
def test_a_single_grade_or_a_double_grade_more_than_one_apart_is_a_combined_science_error(grade):
    error = only(check([pupil(1, combined_science=grade)]).errors, "grade")
    assert error.message == ("Grade must be a double grade of two grades equal or one apart, highest "
                             "first with no separator (99, 98, 88, 87 ... 22, 21, 11), or U, or blank "
                             "if not entered.")
    assert error.column == "GCSE Combined Science"


# --- non-GCSE grades -----------------------------------------------------------------------------

@pytest.mark.parametrize("key, grade", [("btec_tech_sport", "L1P"), ("btec_tech_sport", "l2d*"),
                                        ("wjec_hospitality_and_catering", "L2D"),
                                        ("cn_child_development", "P1"), ("cn_child_development", "d*2"),
                                        ("l2_further_mathematics", 3), ("fsmq_additional_mathematics", "E"),
                                        ("higher_project", "A*"), ("elc_mathematics", "E1"),
                                        ("fs_english_l2", "P"), ("fs_english_l2", "U")])
def test_a_non_gcse_grade_from_the_qualifications_own_set_is_accepted(key, grade):
    result = check([pupil(1, NON_GCSE, **{key: grade})], kind=NON_GCSE)
    assert result.errors == []
    assert result.pupils[0].results[key] == str(grade).upper()


@pytest.mark.parametrize("grade", ["Distinction", "L2D**", "D*2", "L1D*", "5", "Level 2 Pass"])
def test_a_grade_not_in_the_btec_set_is_an_error_listing_the_btec_grades(grade):
    error = only(check([pupil(1, NON_GCSE, btec_tech_enterprise=grade)], kind=NON_GCSE).errors, "grade")
    assert error.line() == f"{BTEC_MESSAGE} Column: BTEC Tech Award Enterprise. Row: 2"


@pytest.mark.parametrize("grade", ["L2P", "D*1", "Merit", "9"])
def test_a_grade_not_in_the_cambridge_national_set_is_an_error_listing_its_grades(grade):
    error = only(check([pupil(1, NON_GCSE, cn_creative_imedia=grade)], kind=NON_GCSE).errors, "grade")
    assert error.line() == f"{CN_MESSAGE} Column: Cambridge National Creative iMedia. Row: 2"


@pytest.mark.parametrize("key, grade, message", [
    ("fsmq_additional_mathematics", "A*", "Grade must be A to E or U, or blank if not entered."),
    ("l2_further_mathematics", "2", "Grade must be 9 to 3 or U, or blank if not entered."),
    ("fs_mathematics_l2", "Pass", "Grade must be P or U, or blank if not entered."),
    ("elc_science", "E4", "Grade must be E3, E2, E1 or U, or blank if not entered."),
])
def test_each_non_gcse_grade_error_says_which_grades_its_qualification_takes(key, grade, message):
    error = only(check([pupil(1, NON_GCSE, **{key: grade})], kind=NON_GCSE).errors, "grade")
    assert error.message == message and error.column == column(key, NON_GCSE)


def test_f_and_x_in_a_non_gcse_qualification_say_to_leave_blank_or_write_u():
    errors = check([pupil(1, NON_GCSE, btec_tech_sport="F", cn_it="X")], kind=NON_GCSE).errors
    assert lines(errors) == [
        ("Grade must be L1P, L1M, L1D, L2P, L2M, L2D, L2D* or U, or blank if not entered (F and X are "
         "not used: leave the cell blank for not entered, U for ungraded). Column: BTEC Tech Award Sport. "
         "Row: 2"),
        ("Grade must be P1, M1, D1, P2, M2, D2, D*2 or U, or blank if not entered (F and X are not used: "
         "leave the cell blank for not entered, U for ungraded). Column: Cambridge National IT. Row: 2")]


# --- grouping and real row numbers -------------------------------------------------------------

def test_the_same_grade_error_in_one_column_on_several_rows_is_one_line():
    rows = [pupil(1, combined_science="5-4"), pupil(2), pupil(3, combined_science="4 4")]
    assert lines(check(rows).errors) == [f"{SEPARATOR_MESSAGE} Column: GCSE Combined Science. Rows: 2, 4"]


def test_grade_errors_in_two_columns_are_two_lines_in_column_order():
    errors = check([pupil(1, english_language="F", mathematics="A*")]).errors
    assert lines(errors) == [f"{F_X_MESSAGE} Column: GCSE English Language. Row: 2",
                             f"{GCSE_MESSAGE} Column: GCSE Mathematics. Row: 2"]


def test_errors_below_blank_rows_keep_their_real_spreadsheet_row_numbers():
    width = len(header(GCSE))
    rows = [[], [None] * width, pupil(1, surname=None), [""] * width, pupil(2, physics="X")]
    assert lines(check(rows).errors) == ["Surname must have a value. Column: Surname. Row: 4",
                                         f"{F_X_MESSAGE} Column: GCSE Physics. Row: 6"]


def test_blank_rows_and_a_note_beyond_the_last_column_are_not_pupils():
    width = len(header(GCSE))
    result = check([pupil(1), [], [None] * width + ["note: left in May"], pupil(2)])
    assert result.errors == [] and result.warnings == []
    assert [p.row for p in result.pupils] == [2, 5]


# --- empty files and pupils without grades ------------------------------------------------------

@pytest.mark.parametrize("kind", ks4.FORMATS)
def test_a_file_with_only_the_header_is_an_error_saying_there_are_no_pupils(kind):
    result = check([], kind=kind)
    [error] = result.errors
    assert error.line() == ("The file has no pupil rows: please enter your pupils' results below the "
                            "header row.")
    assert result.school is None and result.pupils == []


@pytest.mark.parametrize("kind, name", [(GCSE, "GCSE"), (NON_GCSE, "non-GCSE")])
def test_a_pupil_with_no_grades_is_a_warning_and_is_still_a_pupil(kind, name):
    result = check([pupil(1, kind), no_grades(2, kind), no_grades(3, kind)], kind=kind)
    assert result.errors == []
    warning = only(result.warnings, "no-results")
    assert warning.line() == f"No grades entered for this pupil in the {name} template. Column: UPN. Rows: 3, 4"
    assert len(result.pupils) == 3


def test_ks2_scores_alone_do_not_count_as_grades():
    result = check([no_grades(1)])
    assert [w.rule for w in result.warnings] == ["no-results"]


def test_a_pupil_with_one_grade_gets_no_warning():
    assert check([no_grades(1, mathematics="U")]).warnings == []


# --- the school's roster (template pupils) -----------------------------------------------------

def test_a_pupil_added_to_the_template_is_processed_with_a_warning():
    roster = {upn(1), upn(2)}
    result = check([pupil(1), pupil(9), pupil(2)], ValidationContext(roster_for=lambda dfe: roster))
    assert result.errors == []
    warning = only(result.warnings, "pupil-not-in-template")
    assert warning.line() == ("Pupil was added to the school's template; they will be processed, so "
                              "please check the UPN is correct. Column: UPN. Row: 3")
    assert [p.upn for p in result.pupils] == [upn(1), upn(9), upn(2)]


def test_roster_pupils_missing_from_the_file_are_one_warning_counting_them():
    roster = {upn(1), upn(2), upn(3)}
    result = check([pupil(1)], ValidationContext(roster_for=lambda dfe: roster))
    warning = only(result.warnings, "pupils-missing")
    assert warning.line() == ("2 pupil(s) in the school's template are not in this file and will not "
                              "be in reports. A new file replaces the previous one, so include every "
                              "pupil.")
    assert result.errors == [] and len(result.pupils) == 1


def test_a_file_matching_its_roster_has_no_warnings_and_the_roster_is_asked_for_its_school():
    asked = []
    roster = {upn(1), upn(2)}
    result = check([pupil(1), pupil(2)],
                   ValidationContext(roster_for=lambda dfe: asked.append(dfe) or roster))
    assert result.errors == [] and result.warnings == [] and asked == [SCHOOL]


@pytest.mark.parametrize("context", [None, ValidationContext(), ValidationContext(roster_for=lambda dfe: None)],
                         ids=["no-context", "no-roster-lookup", "no-roster-held"])
def test_without_a_roster_there_are_no_roster_warnings_and_every_pupil_is_kept(context):
    result = check([pupil(1), pupil(9)], context)
    assert result.errors == [] and result.warnings == [] and len(result.pupils) == 2


def test_a_file_with_errors_hands_on_no_pupils():
    result = check([pupil(1), pupil(2, english_language="X")])
    assert not result.valid and result.pupils == [] and result.school == SCHOOL


def test_every_rule_broken_on_one_row_is_reported_on_that_row():
    row = pupil(1, organisation=None, school_dfe="1002001", key_stage=3, year=10, upn="Q207000016049",
                forename=None, surname=None, gender="X", date_of_birth="31/02/2010",
                ks2_reading_scaled_score=79, ks2_maths_scaled_score=121, english_language="F",
                english_literature="A*", combined_science="5-4", history="10")
    result = check([row])
    assert [e.rule for e in result.errors] == [
        "organisation-missing", "dfe-invalid", "key-stage", "year", "upn-check-letter", "name-missing",
        "name-missing", "gender", "dob", "ks2-scaled-score", "ks2-scaled-score", "grade-not-used",
        "grade", "double-grade-separator", "grade"]
    assert all(e.rows == [2] for e in result.errors)
    lowest_first = check([pupil(1, combined_science="45")]).errors
    assert [e.rule for e in lowest_first] == ["double-grade-order"]


# --- the test workbook builder -----------------------------------------------------------------

def test_the_workbook_builder_keeps_formula_like_text_as_text():
    result = check([pupil(1, organisation="=HYPERLINK(\"http://x\")", forename="=1+1")])
    assert result.errors == []
    assert result.pupils[0].forename == "=1+1"


def test_column_letters_used_in_header_errors_go_past_z():
    assert [ks4.column_letter(i) for i in (0, 11, 25, 26, 63)] == ["A", "L", "Z", "AA", "BL"]
    assert re.fullmatch(r"[A-Z]{1,2}", ks4.column_letter(len(header(GCSE)) - 1))
