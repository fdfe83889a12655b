"""Identifier and cell rules shared by every format (workers/validators/rules.py).

Sources: ../shared/DOMAIN.md sections 1 and 3; config/codes.toml.
"""
from datetime import date, datetime, timedelta

import pytest

from models.uploads import PupilResult
from workers.validators.rules import (
    NAME_LENGTH, UPN_FORMAT_MESSAGE, all_valid_upns, cell_text, dfe_is_valid, is_valid_upn, parse_date,
    name_problem, upn_check_letter, upn_problem, whole_number,
)
from workers.validators.workbook import is_blank_row

DOMAIN_VALID_UPNS = ["R201100018042", "B801200005001", "M936200524001", "T20110001804V",
                     "L30140002401K", "P207000016049"]


# --- UPN ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("upn", DOMAIN_VALID_UPNS)
def test_every_worked_example_upn_in_the_domain_notes_is_valid(upn):
    assert upn_problem(upn) is None
    assert is_valid_upn(upn)


@pytest.mark.parametrize("upn", DOMAIN_VALID_UPNS)
def test_the_check_letter_of_every_worked_example_is_its_first_character(upn):
    assert upn_check_letter(upn) == upn[0]


def test_the_vendor_help_page_upn_starting_q_fails_the_check_letter():
    assert upn_problem("Q207000016049") == "upn-check-letter"
    assert not is_valid_upn("Q207000016049")


def test_changing_any_digit_of_a_valid_upn_breaks_its_check_letter():
    upn = "B801200005001"
    for position in range(1, 13):
        digit = upn[position]
        changed = upn[:position] + str((int(digit) + 1) % 10) + upn[position + 1:]
        assert upn_problem(changed) == "upn-check-letter", changed


def test_a_blank_upn_is_reported_as_missing():
    assert upn_problem("") == "upn-missing"


@pytest.mark.parametrize("upn", [
    "R20110001804",     # 12 characters: too short
    "R2011000180421",   # 14 characters: too long
    "1201100018042",    # starts with a digit
    "RR01100018042",    # a letter where a digit belongs
    "R2011000180 2",    # a space inside
    "R201100018042 ",   # trailing space (the validator strips cells; upn_problem does not)
    "r201100018042",    # lower case: upn_problem expects the caller to upper-case
    "R20110001804-",    # punctuation as the last character
])
def test_a_upn_of_the_wrong_shape_is_a_format_error(upn):
    assert upn_problem(upn) == "upn-format"


@pytest.mark.parametrize("letter", ["I", "O", "S"])
def test_a_temporary_upn_ending_in_i_o_or_s_is_a_format_error(letter):
    assert upn_problem("T20110001804" + letter) == "upn-format"


def test_a_temporary_upn_counts_its_final_letter_by_its_index_in_the_check_letter_table():
    # V is index 19 in ABCDEFGHJKLMNPQRTUVWXYZ; swapping it for W changes the check letter.
    assert upn_problem("T20110001804V") is None
    assert upn_problem("T20110001804W") == "upn-check-letter"


def test_the_upn_format_message_is_the_seed_wording():
    assert UPN_FORMAT_MESSAGE == ("UPN must start with a letter and then followed by 11 digit number "
                                  "and end with either a letter or number.")


def test_a_upn_followed_by_a_newline_is_not_valid():
    assert upn_problem("R201100018042\n") == "upn-format"


def test_a_column_of_valid_upns_is_valid_all_at_once():
    assert all_valid_upns(DOMAIN_VALID_UPNS)
    assert all_valid_upns(DOMAIN_VALID_UPNS[:1]) and all_valid_upns([])


@pytest.mark.parametrize("bad", [
    "", "Q207000016049", "r201100018042", " R201100018042", "R20110001804", "R2011000180420",
    "A80120011500I", "T20110001804S", "R2011000\n18042", "R201100018042\nB801200005001", "Ä201100018042",
])
def test_one_upn_that_is_not_valid_makes_the_column_not_valid_all_at_once(bad):
    for place in range(len(DOMAIN_VALID_UPNS) + 1):
        column = [*DOMAIN_VALID_UPNS[:place], bad, *DOMAIN_VALID_UPNS[place:]]
        assert not all_valid_upns(column), column


def test_every_changed_digit_or_check_letter_is_found_all_at_once():
    upn = "B801200005001"
    for position in range(13):
        for char in "0123456789ABCDEFGHJKLMNPQRTUVWXYZ":
            changed = upn[:position] + char + upn[position + 1:]
            column = [*DOMAIN_VALID_UPNS, changed]
            assert all_valid_upns(column) == (upn_problem(changed) is None), changed


def test_a_valid_upn_in_digits_of_another_script_is_left_to_the_one_by_one_check():
    upn = "A" + "80120011500".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + "1"
    upn = upn_check_letter(upn) + upn[1:]
    assert upn_problem(upn) is None
    assert not all_valid_upns([upn])  # not plain ASCII: False means "check them one by one"


# --- DfE number --------------------------------------------------------------------------------

@pytest.mark.parametrize("dfe", [
    "8012001",  # LA 801
    "9992001",  # 999 is the test LA
    "2012001", "2132001",  # 201-213
    "3012001", "3202001", "3302001", "3942001",  # 301-320, 330-394
    "4202001",  # 420
    "6602001", "6812001", "7012001", "7082001",  # 660-681, 701-708
    "8002001", "9382001",  # 800-938
    "9402001", "9412001", "9422001", "9432001",  # Northamptonshire and Cumbria reorganisations
])
def test_a_seven_digit_dfe_number_with_a_configured_la_code_is_valid(dfe):
    assert dfe_is_valid(dfe)


@pytest.mark.parametrize("dfe", [
    "1002001",  # LA 100 does not exist
    "2002001", "2142001", "3212001", "3292001", "3952001", "4192001", "4212001",
    "6592001", "6822001", "7002001", "7092001", "7992001", "9392001", "9442001", "9982001",
    "0012001",
])
def test_a_dfe_number_whose_first_three_digits_are_not_an_la_code_is_invalid(dfe):
    assert not dfe_is_valid(dfe)


@pytest.mark.parametrize("dfe", ["801200", "80120011", "", "801 2001", "801200A", "8012001.0",
                                 "ABCDEFG", "-801200"])
def test_a_dfe_number_that_is_not_exactly_seven_digits_is_invalid(dfe):
    assert not dfe_is_valid(dfe)


def test_a_dfe_number_followed_by_a_newline_is_not_valid():
    assert not dfe_is_valid("8012001\n")


# --- cell_text ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (None, ""),
    ("", ""),
    ("  EXS  ", "EXS"),
    (8011234.0, "8011234"),
    (8011234, "8011234"),
    (100.5, "100.5"),
    (True, "TRUE"),
    (False, "FALSE"),
    (date(2015, 4, 14), "14/04/2015"),
    (datetime(2015, 4, 14), "14/04/2015"),
    (datetime(2015, 4, 14, 9, 30), "2015-04-14T09:30:00"),
])
def test_a_cell_reads_as_the_text_a_person_typed(value, text):
    assert cell_text(value) == text


# --- parse_date --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    date(2015, 4, 14),
    datetime(2015, 4, 14),
    datetime(2015, 4, 14, 13, 5),
    "14/04/2015",
    " 14/04/2015 ",
    "2015-04-14",
    "14-04-2015",
    "14.04.2015",
])
def test_a_date_is_read_from_an_excel_date_or_from_text_written_day_first(value):
    assert parse_date(value) == date(2015, 4, 14)


@pytest.mark.parametrize("value", ["31/02/2019", "29/02/2019", "32/01/2019", "14/13/2015", "04/14/2015x",
                                   "", None, "abc", "14 April 2015", 42000])
def test_an_impossible_or_unreadable_date_gives_none(value):
    assert parse_date(value) is None


def test_a_leap_day_in_a_leap_year_is_a_real_date():
    assert parse_date("29/02/2016") == date(2016, 2, 29)


# --- whole_number ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, number", [
    (100, 100), (100.0, 100), ("100", 100), (" 100 ", 100), ("+100", 100), ("-5", -5), (0, 0),
])
def test_a_whole_number_is_read_from_an_int_a_whole_float_or_digits(value, number):
    assert whole_number(value) == number


@pytest.mark.parametrize("value", [100.5, "100.5", "abc", "", None, "1 00", True, False, "1e2"])
def test_a_fraction_text_blank_or_boolean_is_not_a_whole_number(value):
    assert whole_number(value) is None


def test_a_date_written_with_single_digit_day_and_month_is_read():
    assert parse_date("4/3/2015") == date(2015, 3, 4)


def test_every_day_first_date_is_read_exactly_as_strptime_reads_it():
    def by_strptime(text):
        try:
            return datetime.strptime(text, "%d/%m/%Y").date()
        except ValueError:
            return None

    for year in ["0000", "0001", "0999", "1000", "2015", "2016", "2100", "9999"]:
        for month in range(14):
            for day in range(33):
                text = f"{day:02d}/{month:02d}/{year}"
                assert parse_date(text) == by_strptime(text), text


@pytest.mark.parametrize("text", ["١٤/٠٤/٢٠١٥", "1٤/04/2015", "14/04/２015"])
def test_a_date_in_digits_of_another_script_is_read_as_strptime_reads_it(text):
    try:
        expected = datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        expected = None
    assert parse_date(text) == expected


def test_a_date_cell_reads_as_strftime_writes_it_day_first():
    day = date(1, 1, 1)
    while day < date(9999, 12, 1):
        assert cell_text(day) == day.strftime("%d/%m/%Y"), day
        assert cell_text(datetime(day.year, day.month, day.day)) == day.strftime("%d/%m/%Y"), day
        day += timedelta(days=97)


def test_a_whole_number_may_be_written_in_the_digits_of_any_script():
    assert whole_number("١٠٠") == 100
    assert whole_number("²") is None


def test_the_check_letter_counts_digits_of_any_script_at_their_value():
    assert upn_check_letter("A٨٠١٢٠٠١١٥٠٠١") == upn_check_letter("A801200115001")


@pytest.mark.parametrize("upn", ["A80120011500I", "A8012001150-1"])
def test_the_check_letter_of_a_character_no_upn_holds_is_an_error(upn):
    with pytest.raises(ValueError):
        upn_check_letter(upn)


# --- is_blank_row ------------------------------------------------------------------------------

@pytest.mark.parametrize("row, blank", [
    ([], True), ([None, "", "  \t"], True), (("", ""), True),
    (["", "x"], False), ([None, 0], False), ([False], False), ([0.0, None], False),
])
def test_a_row_is_blank_when_every_cell_is_empty_or_spaces(row, blank):
    assert is_blank_row(row) is blank


# --- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["forename", "surname"])
def test_the_longest_name_allowed_is_what_the_database_keeps(column):
    assert PupilResult.__table__.c[column].type.length == NAME_LENGTH


@pytest.mark.parametrize("name, problem", [
    ("Ada", None),
    ("A" * NAME_LENGTH, None),
    ("", ("name-missing", "Forename must have a value.")),
    ("A" * (NAME_LENGTH + 1), ("name-too-long", "Forename must be at most 100 characters.")),
])
def test_a_name_is_kept_only_when_it_is_there_and_fits(name, problem):
    assert name_problem("Forename", name) == problem

