"""The KS1 results template validator (workers/validators/ks1.py), always through a real .xlsx.

Sources: ../shared/DOMAIN.md sections 1-3 and ../shared/seeds/ks1-results-upload-guidance.txt.
"""
import io
from datetime import date

import pytest
from openpyxl import Workbook

from intake.demo_world import make_upn, results_rows, rosters
from reports.templates import ks1_workbook
from workers.validators import ks1
from workers.validators.ks1 import HEADER
from workers.validators.result import ValidationContext
from workers.validators.rules import UPN_FORMAT_MESSAGE
from workers.validators.workbook import first_sheet_rows
from helpers import lines, only

TODAY = date(2026, 7, 1)
SCHOOL = "8012001"
TA_MESSAGE = "Teacher assessment must be one of GDS, EXS, WTS, PK4, PK3, PK2, PK1, EM, A. Allows empty field."
SCIENCE_MESSAGE = "Science teacher assessment must be one of EXS, HNM, A. Allows empty field."
SCORE_MESSAGE = "Range must be between 85 to 115 and be whole numbers. Allows empty field."


def upn(serial: int, dfe: str = SCHOOL) -> str:
    return make_upn(dfe, 22, serial)


def pupil(serial: int = 1, **changes) -> list:
    """A valid template row; ``changes`` replace cells by header name (spaces and colons as _)."""
    row = {
        "School DFE": SCHOOL, "UPN": upn(serial), "Forename": "Amara", "Surname": "Ahmed",
        "Gender": "Female", "Date of birth": date(2018, 10, 1), "NC Year": 2,
        "Teacher Assessment: KS1 Reading": "EXS", "Teacher Assessment: KS1 Writing": "WTS",
        "Teacher Assessment: KS1 Maths": "GDS", "Teacher Assessment: KS1 Science": "HNM",
        "Scaled Score: KS1 Reading": 100, "Scaled Score: KS1 Maths": 104, "Scaled Score: KS1 GPS": 97,
    }
    by_key = {name.replace(": ", "_").replace(" ", "_").lower(): name for name in HEADER}
    for key, value in changes.items():
        row[by_key[key]] = value
    return [row[name] for name in HEADER]


def no_results(serial: int = 1, **changes) -> list:
    blanks = {key: None for key in ("teacher_assessment_ks1_reading", "teacher_assessment_ks1_writing",
                                    "teacher_assessment_ks1_maths", "teacher_assessment_ks1_science",
                                    "scaled_score_ks1_reading", "scaled_score_ks1_maths",
                                    "scaled_score_ks1_gps")}
    return pupil(serial, **{**blanks, **changes})


def check(rows, context=None, today=TODAY):
    """Write the rows under the KS1 header, read the workbook back and validate it."""
    return ks1.validate(first_sheet_rows(ks1_workbook(rows), max_rows=1000), context, today=today)


def check_with_header(header, rows=()):
    book = Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return ks1.validate(first_sheet_rows(buffer.getvalue(), max_rows=1000), None, today=TODAY)


# --- a valid file ------------------------------------------------------------------------------

def one_school_rows():
    return results_rows([p for p in rosters() if p.dfe == SCHOOL])


def test_a_complete_demo_file_for_one_school_has_no_errors_or_warnings_and_every_pupil():
    result = check(one_school_rows())
    assert result.errors == [] and result.warnings == []
    assert result.valid
    assert result.school == SCHOOL
    assert len(result.pupils) == 24
    assert result.format == "ks1-template"


def test_a_complete_demo_file_checked_against_its_own_roster_has_no_warnings():
    roster = {p.upn for p in rosters() if p.dfe == SCHOOL}
    result = check(one_school_rows(), ValidationContext(roster_for=lambda dfe: roster))
    assert result.errors == [] and result.warnings == []
    assert {p.upn for p in result.pupils} == roster


def test_a_valid_row_becomes_a_pupil_record_with_its_real_row_number_codes_and_scores():
    result = check([pupil(1), pupil(2, teacher_assessment_ks1_reading="exs", scaled_score_ks1_gps=None,
                                     gender="m", date_of_birth="14/04/2019")])
    assert result.errors == []
    first, second = result.pupils
    assert (first.row, first.upn, first.forename, first.surname) == (2, upn(1), "Amara", "Ahmed")
    assert (first.gender, first.dob, first.nc_year) == ("F", date(2018, 10, 1), 2)
    assert first.results == {"ta_reading": "EXS", "ta_writing": "WTS", "ta_maths": "GDS",
                             "ta_science": "HNM", "ss_reading": 100, "ss_maths": 104, "ss_gps": 97}
    assert second.row == 3
    assert (second.gender, second.dob) == ("M", date(2019, 4, 14))
    assert second.results["ta_reading"] == "EXS"
    assert second.results["ss_gps"] is None


def test_as_json_has_exactly_the_shared_contract_keys():
    result = check([pupil(1)])
    body = result.as_json("ks1-2026")
    assert set(body) == {"format", "collection", "school", "status", "pupils", "errors", "warnings"}
    assert body == {"format": "ks1-template", "collection": "ks1-2026", "school": SCHOOL,
                    "status": "valid", "pupils": 1, "errors": [], "warnings": []}


def test_as_json_of_an_invalid_file_says_invalid_and_lists_errors_as_plain_dicts():
    body = check([pupil(1, school_dfe="1002001")]).as_json(None)
    assert set(body) == {"format", "collection", "school", "status", "pupils", "errors", "warnings"}
    assert body["status"] == "invalid" and body["collection"] is None and body["pupils"] == 0
    assert body["errors"] == [{"rule": "dfe-invalid", "message": "Invalid DFE detected.",
                               "column": "School DFE", "rows": [2]}]


# --- header ------------------------------------------------------------------------------------

def renamed(index, name):
    header = list(HEADER)
    header[index] = name
    return header


@pytest.mark.parametrize("header, expected", [
    (renamed(3, "Last name"),
     "column D should be 'Surname' but is 'Last name'"),
    (renamed(13, "Scaled Score: GPS"),
     "column N should be 'Scaled Score: KS1 GPS' but is 'Scaled Score: GPS'"),
    ([c for c in HEADER if c != "Gender"],
     "column E should be 'Gender' but is 'Date of birth'"),
    (HEADER[:-1],
     "column N should be 'Scaled Score: KS1 GPS' but is empty"),
    ([HEADER[0], HEADER[1], HEADER[3], HEADER[2]] + HEADER[4:],
     "column C should be 'Forename' but is 'Surname'"),
    (HEADER[:7] + ["Notes"] + HEADER[7:],
     "column H should be 'Teacher Assessment: KS1 Reading' but is 'Notes'"),
    (HEADER + ["Notes"],
     "column 'Notes' was added after 'Scaled Score: KS1 GPS'"),
], ids=["renamed", "renamed-last", "missing", "missing-last", "reordered", "added-inside", "added-at-end"])
def test_a_changed_header_is_one_header_error_naming_the_column(header, expected):
    result = check_with_header(header, [pupil(1, school_dfe="bad", upn="bad")])
    [error] = result.errors
    assert error.rule == "header"
    assert error.rows == [1]
    assert expected in error.message
    assert "The header row must not be changed" in error.message
    assert result.pupils == [] and result.school is None


def test_a_first_row_that_is_blank_is_a_header_error():
    result = check_with_header([None] * 3, [pupil(1)])
    [error] = result.errors
    assert error.rule == "header" and error.rows == [1]
    assert "The first row must be the template's header row" in error.message


def test_the_exact_header_is_accepted():
    assert check_with_header(HEADER, [pupil(1)]).errors == []


# --- School DFE --------------------------------------------------------------------------------

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


def test_a_dfe_number_in_a_test_la_is_accepted():
    result = check([pupil(1, school_dfe="9992001", upn=make_upn("9992001", 22, 1))])
    assert result.errors == [] and result.school == "9992001"


def test_rows_for_a_second_school_are_errors_naming_the_school_most_rows_are_for():
    rows = [pupil(1), pupil(2, school_dfe="8012002"), pupil(3), pupil(4, school_dfe="8012002"), pupil(5)]
    result = check(rows)
    error = only(result.errors, "dfe-mixed")
    assert error.rows == [3, 5]
    assert error.column == "School DFE"
    assert error.message == f"Every row must be for the same school ({SCHOOL}); send one file per school."
    assert result.school == SCHOOL
    assert result.pupils == []


def test_a_sender_not_permitted_for_the_school_gets_an_error_on_every_row():
    asked = []
    context = ValidationContext(may_submit_for=lambda dfe: asked.append(dfe) or False)
    result = check([pupil(1), pupil(2)], context)
    error = only(result.errors, "dfe-not-permitted")
    assert error.rows == [2, 3]
    assert error.message.startswith(f"You are not registered to send results for school {SCHOOL}.")
    assert asked == [SCHOOL]
    assert result.pupils == []


def test_a_sender_permitted_for_the_school_gets_no_permission_error():
    result = check([pupil(1)], ValidationContext(may_submit_for=lambda dfe: dfe == SCHOOL))
    assert result.errors == [] and len(result.pupils) == 1


# --- UPN ---------------------------------------------------------------------------------------

def test_badly_shaped_upns_are_one_line_listing_every_row_in_the_seed_wording():
    rows = [pupil(n) for n in range(1, 14)]
    rows[4][1] = "P12345678912"      # spreadsheet row 6
    rows[12][1] = "P1234567891234"   # spreadsheet row 14 (the seed's own example UPNs are 14 long)
    assert lines(check(rows).errors) == [
        "UPN must start with a letter and then followed by 11 digit number and end with either a "
        "letter or number. Column: UPN. Rows: 6, 14"]


@pytest.mark.parametrize("bad", ["1801200122001", "X80120012200", "X8012001220011", "X8012001220A1",
                                 "T20110001804I", "T20110001804O", "T20110001804S"])
def test_a_upn_of_the_wrong_shape_is_a_upn_format_error(bad):
    error = only(check([pupil(1, upn=bad)]).errors, "upn-format")
    assert error.message == UPN_FORMAT_MESSAGE
    assert error.rows == [2] and error.column == "UPN"


def test_a_lower_case_upn_is_upper_cased_before_it_is_checked():
    result = check([pupil(1, upn=upn(1).lower()), pupil(2, upn="t20110001804v")])
    assert result.errors == []
    assert [p.upn for p in result.pupils] == [upn(1), "T20110001804V"]


def test_a_upn_with_the_wrong_check_letter_is_reported_as_such():
    error = only(check([pupil(1, upn="Q207000016049")]).errors, "upn-check-letter")
    assert error.line() == ("UPN check letter is not correct: please copy the UPN from your MIS. "
                            "Column: UPN. Row: 2")


def test_a_missing_upn_is_reported_as_upn_must_have_a_value():
    error = only(check([pupil(1), pupil(2, upn=None)]).errors, "upn-missing")
    assert error.line() == "UPN must have a value. Column: UPN. Row: 3"


def test_a_upn_on_several_rows_is_a_duplicate_error_listing_every_row():
    rows = [pupil(1), pupil(2), pupil(1), pupil(3), pupil(1, upn=upn(1).lower())]
    result = check(rows)
    error = only(result.errors, "upn-duplicate")
    assert error.rows == [2, 4, 6]
    assert error.line() == ("UPN appears more than once in the file; each pupil must have one row. "
                            "Column: UPN. Rows: 2, 4, 6")
    assert result.pupils == []


# --- names, gender, date of birth, NC year -----------------------------------------------------

def test_a_missing_surname_is_reported_with_the_seed_wording():
    rows = [pupil(n) for n in range(1, 9)] + [pupil(9, surname="  ")]
    assert lines(check(rows).errors) == ["Surname must have a value. Column: Surname. Row: 10"]


def test_a_missing_forename_is_reported_in_the_forename_column():
    error = only(check([pupil(1, forename=None)]).errors, "name-missing")
    assert error.line() == "Forename must have a value. Column: Forename. Row: 2"


def test_missing_forename_and_surname_on_one_row_are_two_lines():
    errors = check([pupil(1, forename=None, surname=None)]).errors
    assert lines(errors) == ["Forename must have a value. Column: Forename. Row: 2",
                             "Surname must have a value. Column: Surname. Row: 2"]


def test_errors_in_several_columns_and_rows_are_reported_in_the_order_a_row_by_row_check_finds_them():
    # Checked a column at a time, but each rule's first row and its column order decide the order.
    result = check([pupil(1, scaled_score_ks1_gps=130, gender="X"),
                    pupil(2, nc_year=3),
                    pupil(3, scaled_score_ks1_gps=130, forename=None, teacher_assessment_ks1_maths="Q")])
    assert lines(result.errors) == [
        "Gender must be Male or Female. Column: Gender. Row: 2",
        f"{SCORE_MESSAGE} Column: Scaled Score: KS1 GPS. Rows: 2, 4",
        "NC Year must be 2. Column: NC Year. Row: 3",
        "Forename must have a value. Column: Forename. Row: 4",
        f"{TA_MESSAGE} Column: Teacher Assessment: KS1 Maths. Row: 4",
    ]


@pytest.mark.parametrize("gender, code", [("Male", "M"), ("female", "F"), ("M", "M"), ("f", "F"),
                                          ("Boy", "M"), ("GIRL", "F"), (" Male ", "M")])
def test_every_accepted_spelling_of_gender_is_stored_as_its_code(gender, code):
    result = check([pupil(1, gender=gender)])
    assert result.errors == []
    assert result.pupils[0].gender == code


@pytest.mark.parametrize("gender", [None, "X", "Unknown", "Mal"])
def test_a_missing_or_unknown_gender_is_an_error(gender):
    error = only(check([pupil(1, gender=gender)]).errors, "gender")
    assert error.line() == "Gender must be Male or Female. Column: Gender. Row: 2"


@pytest.mark.parametrize("dob", [None, "31/02/2019", "not a date", "2019/04/14", date(2026, 7, 2),
                                 TODAY, "02/07/2026"],
                         ids=["blank", "31-feb", "text", "year-first-slashes", "tomorrow", "today",
                              "tomorrow-as-text"])
def test_a_date_of_birth_that_is_missing_invalid_or_not_in_the_past_is_an_error(dob):
    error = only(check([pupil(1, date_of_birth=dob)]).errors, "dob")
    assert error.line() == ("Date of birth must be a valid date in the past, written DD/MM/YYYY. "
                            "Column: Date of birth. Row: 2")


@pytest.mark.parametrize("dob", [date(2019, 4, 14), "14/04/2019", "2019-04-14", date(2026, 6, 30)])
def test_a_past_date_of_birth_as_an_excel_date_or_day_first_text_is_accepted(dob):
    result = check([pupil(1, date_of_birth=dob)])
    assert result.errors == []


@pytest.mark.parametrize("year", [2, 2.0, "2", "Y2", "Year 2", "year 2"])
def test_nc_year_2_written_any_common_way_is_accepted(year):
    result = check([pupil(1, nc_year=year)])
    assert result.errors == []
    assert result.pupils[0].nc_year == 2


@pytest.mark.parametrize("year", [1, 3, None, "two", "Y3", 2.5])
def test_an_nc_year_other_than_2_is_an_error(year):
    error = only(check([pupil(1, nc_year=year)]).errors, "nc-year")
    assert error.line() == "NC Year must be 2. Column: NC Year. Row: 2"


# --- teacher assessment codes ------------------------------------------------------------------

@pytest.mark.parametrize("code", ["GDS", "EXS", "WTS", "PK4", "PK3", "PK2", "PK1", "EM", "A",
                                  "exs", "gds", " pk1 ", None])
@pytest.mark.parametrize("column", ["teacher_assessment_ks1_reading", "teacher_assessment_ks1_writing",
                                    "teacher_assessment_ks1_maths"])
def test_every_ks1_ta_code_in_any_case_or_a_blank_is_accepted_for_reading_writing_and_maths(column, code):
    assert check([pupil(1, **{column: code})]).errors == []


@pytest.mark.parametrize("code", ["HNM", "PK5", "EX", "B", "4", "EXS+"])
def test_an_unknown_ta_code_for_reading_is_an_error_listing_the_codes(code):
    error = only(check([pupil(1, teacher_assessment_ks1_reading=code)]).errors, "ta-code")
    assert error.line() == f"{TA_MESSAGE} Column: Teacher Assessment: KS1 Reading. Row: 2"


def test_unknown_ta_codes_in_two_columns_are_two_lines():
    errors = check([pupil(1, teacher_assessment_ks1_writing="HNM", teacher_assessment_ks1_maths="X")]).errors
    assert [e.column for e in errors] == ["Teacher Assessment: KS1 Writing", "Teacher Assessment: KS1 Maths"]


@pytest.mark.parametrize("code", ["EXS", "HNM", "A", "hnm", "exs", None])
def test_every_science_code_in_any_case_or_a_blank_is_accepted_for_science(code):
    result = check([pupil(1, teacher_assessment_ks1_science=code)])
    assert result.errors == []
    assert result.pupils[0].results["ta_science"] == (code.upper() if code else None)


@pytest.mark.parametrize("code", ["GDS", "WTS", "PK4", "EM", "gds"])
def test_a_reading_writing_maths_only_code_such_as_gds_is_not_valid_for_science(code):
    error = only(check([pupil(1, teacher_assessment_ks1_science=code)]).errors, "science-code")
    assert error.line() == f"{SCIENCE_MESSAGE} Column: Teacher Assessment: KS1 Science. Row: 2"


# --- scaled scores -----------------------------------------------------------------------------

@pytest.mark.parametrize("score, stored", [(85, 85), (115, 115), (100, 100), (100.0, 100), ("100", 100),
                                           (None, None), ("", None), ("  ", None)])
@pytest.mark.parametrize("column", ["scaled_score_ks1_reading", "scaled_score_ks1_maths",
                                    "scaled_score_ks1_gps"])
def test_a_whole_scaled_score_from_85_to_115_or_a_blank_is_accepted(column, score, stored):
    result = check([pupil(1, **{column: score})])
    assert result.errors == []
    key = {"scaled_score_ks1_reading": "ss_reading", "scaled_score_ks1_maths": "ss_maths",
           "scaled_score_ks1_gps": "ss_gps"}[column]
    assert result.pupils[0].results[key] == stored


@pytest.mark.parametrize("score", [84, 116, 0, 100.5, "abc", "100.5", "EXS", -100])
def test_a_scaled_score_out_of_range_or_not_whole_is_an_error(score):
    error = only(check([pupil(1, scaled_score_ks1_maths=score)]).errors, "scaled-score")
    assert error.line() == f"{SCORE_MESSAGE} Column: Scaled Score: KS1 Maths. Row: 2"


def test_a_scaled_score_of_116_is_reported_with_the_seed_wording():
    rows = [pupil(1), pupil(2), pupil(3, scaled_score_ks1_gps=116)]
    assert lines(check(rows).errors) == [
        "Range must be between 85 to 115 and be whole numbers. Allows empty field. "
        "Column: Scaled Score: KS1 GPS. Row: 4"]


# --- real row numbers and blank rows -----------------------------------------------------------

def test_an_error_below_a_blank_row_is_reported_at_its_real_spreadsheet_row():
    rows = [pupil(1), [], pupil(2, scaled_score_ks1_gps=116)]
    assert lines(check(rows).errors) == [
        "Range must be between 85 to 115 and be whole numbers. Allows empty field. "
        "Column: Scaled Score: KS1 GPS. Row: 4"]


def test_errors_below_several_blank_rows_keep_their_real_row_numbers():
    rows = [[], [None] * 14, pupil(1, surname=None), [""] * 14, [], pupil(2), pupil(3, surname=None)]
    assert lines(check(rows).errors) == ["Surname must have a value. Column: Surname. Rows: 4, 8"]


def test_blank_rows_are_skipped_and_are_not_pupils():
    result = check([pupil(1), [], [None] * 14, ["  "] * 14, pupil(2)])
    assert result.errors == [] and result.warnings == []
    assert [p.row for p in result.pupils] == [2, 6]


def test_a_pupil_records_row_is_its_real_spreadsheet_row_after_blank_rows():
    result = check([[], [], pupil(1)])
    assert result.pupils[0].row == 4


# --- empty files and pupils without results ----------------------------------------------------

def test_a_file_with_only_the_header_is_an_error_saying_there_are_no_pupils():
    result = check([])
    [error] = result.errors
    assert error.rule == "no-pupils"
    assert error.rows == [] and error.column is None
    assert error.line() == ("The file has no pupil rows: please enter your pupils' results below the "
                            "header row.")
    assert result.school is None and result.pupils == []


def test_a_file_with_only_blank_rows_under_the_header_is_an_error_saying_there_are_no_pupils():
    assert [e.rule for e in check([[], [None] * 14]).errors] == ["no-pupils"]


def test_a_pupil_with_no_results_at_all_is_a_warning_not_an_error():
    result = check([pupil(1), no_results(2), pupil(3), no_results(4)])
    assert result.errors == []
    warning = only(result.warnings, "no-results")
    assert warning.rows == [3, 5]
    assert warning.column == "UPN"
    assert warning.message == ("No results entered for this pupil; the pupil will not be counted "
                               "in reports.")
    assert len(result.pupils) == 4


def test_a_pupil_with_only_one_result_gets_no_no_results_warning():
    result = check([no_results(1, teacher_assessment_ks1_science="A")])
    assert result.warnings == []


# --- the school's roster (template pupils) -----------------------------------------------------

def test_a_pupil_not_on_the_roster_is_warned_about_and_not_processed():
    roster = {upn(1), upn(2), upn(3)}
    result = check([pupil(1), pupil(9), pupil(2), pupil(3)],
                   ValidationContext(roster_for=lambda dfe: roster))
    assert result.errors == []
    warning = only(result.warnings, "pupil-not-in-template")
    assert warning.rows == [3] and warning.column == "UPN"
    assert warning.message == ("Pupil is not in the school's template (not on roll at the census date) "
                               "and will not be processed.")
    assert [p.upn for p in result.pupils] == [upn(1), upn(2), upn(3)]


def test_roster_pupils_missing_from_the_file_are_one_warning_counting_them():
    roster = {upn(1), upn(2), upn(3), upn(4)}
    result = check([pupil(1), pupil(3)], ValidationContext(roster_for=lambda dfe: roster))
    assert result.errors == []
    warning = only(result.warnings, "pupils-missing")
    assert warning.rows == [] and warning.column is None
    assert warning.message == ("2 pupil(s) in the school's template are not in this file. A new file "
                               "replaces the previous one, so include every pupil.")
    assert len(result.pupils) == 2


def test_the_roster_is_asked_for_the_files_school():
    asked = []
    check([pupil(1)], ValidationContext(roster_for=lambda dfe: asked.append(dfe) or {upn(1)}))
    assert asked == [SCHOOL]


@pytest.mark.parametrize("context", [None, ValidationContext(), ValidationContext(roster_for=lambda dfe: None)],
                         ids=["no-context", "no-roster-lookup", "no-roster-held"])
def test_without_a_roster_there_are_no_roster_warnings_and_every_pupil_is_kept(context):
    result = check([pupil(1), pupil(9)], context)
    assert result.errors == [] and result.warnings == []
    assert len(result.pupils) == 2


def test_a_file_with_errors_hands_on_no_pupils():
    result = check([pupil(1), pupil(2, gender="X")])
    assert not result.valid
    assert result.pupils == []
    assert result.school == SCHOOL


def test_every_rule_broken_on_one_row_is_reported_on_that_row():
    row = ["1002001", "Q207000016049", None, None, "X", "31/02/2019", 3,
           "HNM", "B", "4", "GDS", 84, 116, 100.5]
    rules = [e.rule for e in check([row]).errors]
    assert rules == ["dfe-invalid", "upn-check-letter", "name-missing", "name-missing", "gender", "dob",
                     "nc-year", "ta-code", "ta-code", "ta-code", "science-code", "scaled-score",
                     "scaled-score", "scaled-score"]
    assert all(e.rows == [2] for e in check([row]).errors)


def test_a_row_whose_only_content_is_a_note_beyond_the_last_column_is_skipped_as_blank():
    from reports.templates import ks1_workbook
    from workers.validators.workbook import first_sheet_rows
    from intake import demo_world as world
    from workers.validators import ks1 as ks1_module
    rows = world.results_rows([p for p in world.rosters() if p.dfe == "8012001"][:2])
    rows.insert(1, [""] * 14 + ["note: pupil left in May"])
    result = ks1_module.validate(first_sheet_rows(ks1_workbook(rows), 100))
    assert result.errors == [] and len(result.pupils) == 2
