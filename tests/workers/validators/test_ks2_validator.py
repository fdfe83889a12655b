"""The KS2 early results CSV validator (workers/validators/ks2.py), always through real CSV bytes.

Sources: ../shared/DOMAIN.md sections 1-3 and ../shared/seeds/ks2-early-results-upload-guidance.txt.
"""
import copy
import csv
import io
import random
from datetime import date

import pytest

from intake.demo_world import make_upn, rosters
from workers.validators import ks2
from workers.validators.ks1 import HEADER as KS1_HEADER
from workers.validators.result import UnreadableFile, ValidationContext
from workers.validators.rules import UPN_FORMAT_MESSAGE
from helpers import lines, only

TODAY = date(2026, 7, 1)
SCHOOL = "8012001"
MAX_ROWS = 1000
CODES = "A, B, D, F, P, H, J, L, M, Q, U"
SCORE_MESSAGE = (f"Scaled score must be between 80 and 120 and be a whole number, or one of the codes "
                 f"{CODES}. Allows empty field.")
OUTCOME_MESSAGE = "Test outcome must be one of AS, NS, A, B, D, F, P, H, J, L, M, Q, U. Allows empty field."
AGREE_MESSAGE = ("Test outcome does not agree with the scaled score: a score of 100 or more is AS, a lower "
                 "score is NS, and a code such as A is the same in both columns.")

# A portal-like "All subjects with TA" header: canonical key -> the file's header text.
COLUMNS = {
    "dfe": "DfE number", "upn": "UPN", "surname": "Surname", "forename": "Forename",
    "dob": "Date of birth", "gender": "Gender",
    "read_raw": "Reading raw score", "read_score": "Reading scaled score", "read_outcome": "Reading outcome",
    "mat_raw": "Maths raw score", "mat_score": "Maths scaled score", "mat_outcome": "Maths outcome",
    "gps_raw": "GPS raw score", "gps_score": "GPS scaled score", "gps_outcome": "GPS outcome",
    "ta_writing": "Writing TA", "ta_reading": "Reading TA", "ta_maths": "Maths TA",
    "ta_science": "Science TA",
}
HEADER = list(COLUMNS.values())
REQUIRED = ["upn", "forename", "surname", "dob", "read_score", "mat_score", "gps_score", "ta_writing",
            "ta_science"]


def upn(serial: int, dfe: str = SCHOOL) -> str:
    return make_upn(dfe, 15, serial)


def pupil(serial: int = 1, columns=COLUMNS, **changes) -> list[str]:
    """A valid row; ``changes`` replace cells by canonical key (None = empty cell)."""
    row = {
        "dfe": SCHOOL, "upn": upn(serial), "surname": "Ahmed", "forename": "Amara",
        "dob": "01/10/2014", "gender": "F",
        "read_raw": "38", "read_score": "106", "read_outcome": "AS",
        "mat_raw": "72", "mat_score": "99", "mat_outcome": "NS",
        "gps_raw": "55", "gps_score": "110", "gps_outcome": "AS",
        "ta_writing": "EXS", "ta_reading": "", "ta_maths": "", "ta_science": "EXS",
    }
    row.update({k: "" if v is None else str(v) for k, v in changes.items()})
    return [row.get(key, "") for key in columns]


def to_csv(rows, header=HEADER, encoding="utf-8", newline="\r\n", bom=False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    for row in ([header] if header is not None else []) + list(rows):
        writer.writerow(row)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode(encoding)


def check(rows, context=None, header=HEADER, file_name=None, **options):
    """Write the rows as CSV bytes under the header, read them back and validate them."""
    data = to_csv(rows, header, **options)
    return ks2.validate(ks2.read_csv(data, MAX_ROWS), context, today=TODAY, file_name=file_name)


def check_bytes(data: bytes, context=None, file_name=None):
    return ks2.validate(ks2.read_csv(data, MAX_ROWS), context, today=TODAY, file_name=file_name)


def realistic_rows(dfe: str = SCHOOL, seed: int = 11) -> list[list[str]]:
    """Plausible, valid portal rows for the demo world's pupils of one school."""
    rng = random.Random(seed)
    rows = []
    for p in [p for p in rosters() if p.dfe == dfe]:
        cells = {"dfe": p.dfe, "upn": p.upn, "surname": p.surname, "forename": p.forename,
                 "dob": f"{p.dob.replace(year=p.dob.year - 4):%d/%m/%Y}", "gender": p.gender}
        for subject, top in (("read", 50), ("mat", 110), ("gps", 70)):
            if rng.random() < 0.08:
                code = rng.choice(["A", "B", "L"])
                cells.update({f"{subject}_raw": "", f"{subject}_score": code, f"{subject}_outcome": code})
            else:
                score = rng.randrange(80, 121)
                cells.update({f"{subject}_raw": str(rng.randrange(0, top + 1)),
                              f"{subject}_score": str(score),
                              f"{subject}_outcome": "AS" if score >= 100 else "NS"})
        cells["ta_writing"] = rng.choice(["GDS", "EXS", "EXS", "WTS", "PK6"])
        cells["ta_science"] = rng.choice(["EXS", "EXS", "HNM"])
        cells["ta_reading"] = rng.choice(["", "", "", "PK5"])
        cells["ta_maths"] = rng.choice(["", "", "", "EM"])
        rows.append([cells[key] for key in COLUMNS])
    return rows


# --- a valid file ------------------------------------------------------------------------------

def test_a_complete_realistic_file_for_one_school_has_no_errors_or_warnings_and_every_pupil():
    result = check(realistic_rows(), file_name=f"{SCHOOL}_KS2_AllSubjectwithTA_Result.csv")
    assert result.errors == [] and result.warnings == []
    assert result.valid
    assert result.school == SCHOOL
    assert result.format == "ks2-csv" == ks2.FORMAT
    assert len(result.pupils) == 24


def test_a_complete_realistic_file_checked_against_its_own_roster_has_no_warnings():
    roster = {p.upn for p in rosters() if p.dfe == SCHOOL}
    result = check(realistic_rows(), ValidationContext(may_submit_for=lambda dfe: dfe == SCHOOL,
                                                       roster_for=lambda dfe: roster))
    assert result.errors == [] and result.warnings == []
    assert {p.upn for p in result.pupils} == roster


def test_a_valid_row_becomes_a_pupil_record_with_its_real_row_number_scores_outcomes_and_ta():
    result = check([pupil(1), pupil(2, read_score="A", read_outcome="A", read_raw="", gender="",
                                     ta_writing="pk6", ta_reading="pk5", ta_maths="em", dob="2014-09-02")])
    assert result.errors == []
    first, second = result.pupils
    assert (first.row, first.upn, first.forename, first.surname) == (2, upn(1), "Amara", "Ahmed")
    assert (first.gender, first.dob, first.nc_year) == ("F", date(2014, 10, 1), None)
    assert first.results == {
        "read_score": 106, "read_outcome": "AS", "read_raw": 38,
        "mat_score": 99, "mat_outcome": "NS", "mat_raw": 72,
        "gps_score": 110, "gps_outcome": "AS", "gps_raw": 55,
        "ta_writing": "EXS", "ta_science": "EXS", "ta_reading": None, "ta_maths": None}
    assert second.row == 3
    assert (second.gender, second.dob) == (None, date(2014, 9, 2))
    assert (second.results["read_score"], second.results["read_outcome"], second.results["read_raw"]) == (
        None, "A", None)
    assert (second.results["ta_writing"], second.results["ta_reading"], second.results["ta_maths"]) == (
        "PK6", "PK5", "EM")


def test_as_json_has_exactly_the_shared_contract_keys():
    body = check([pupil(1)]).as_json("ks2-2026")
    assert body == {"format": "ks2-csv", "collection": "ks2-2026", "school": SCHOOL, "status": "valid",
                    "pupils": 1, "errors": [], "warnings": []}


def test_as_json_of_an_invalid_file_says_invalid_and_lists_errors_as_plain_dicts():
    body = check([pupil(1), pupil(2, gps_score="121")]).as_json("ks2-2026")
    assert set(body) == {"format", "collection", "school", "status", "pupils", "errors", "warnings"}
    assert body["status"] == "invalid" and body["pupils"] == 0 and body["school"] == SCHOOL
    assert body["errors"] == [{"rule": "scaled-score", "message": SCORE_MESSAGE,
                               "column": "GPS scaled score", "rows": [3]}]


# --- reading the bytes: encodings, line endings, quoting, blank lines --------------------------

def test_utf8_with_a_bom_is_read_and_the_bom_is_not_part_of_the_first_header():
    data = to_csv([pupil(1, surname="Zoë")], bom=True)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = ks2.read_csv(data, MAX_ROWS)
    assert rows[0][0] == "DfE number"
    result = check_bytes(data)
    assert result.errors == [] and result.pupils[0].surname == "Zoë"


def test_utf8_without_a_bom_is_read_with_its_accented_letters():
    result = check([pupil(1, forename="Siân", surname="Ó Súilleabháin")])
    assert result.errors == []
    assert (result.pupils[0].forename, result.pupils[0].surname) == ("Siân", "Ó Súilleabháin")


@pytest.mark.parametrize("surname", ["Zoë", "Ó Briain", "Müller–Smith"])
def test_windows_1252_is_read_when_the_file_is_not_utf8(surname):
    data = to_csv([pupil(1, surname=surname)], encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = check_bytes(data)
    assert result.errors == []
    assert result.pupils[0].surname == surname


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_its_bom_is_read(encoding):
    data = to_csv([pupil(1, surname="Zoë")], encoding=encoding, bom=encoding != "utf-16")
    result = check_bytes(data)
    assert result.errors == [] and result.pupils[0].surname == "Zoë"


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_every_line_ending_is_read_with_the_same_rows(newline):
    rows = ks2.read_csv(to_csv([pupil(1), pupil(2)], newline=newline), MAX_ROWS)
    assert rows == [HEADER, pupil(1), pupil(2)]
    assert check([pupil(1), pupil(2)], newline=newline).errors == []


def test_quoted_fields_with_commas_quotes_and_line_breaks_are_one_cell_each():
    data = (",".join(HEADER) + "\r\n").encode() + to_csv(
        [pupil(1, surname="Smith, Jr", forename='Amara "Amy"'), pupil(2, surname="Line\r\nBreak")],
        header=None)
    assert b'"Smith, Jr"' in data and b'"Amara ""Amy"""' in data
    result = check_bytes(data)
    assert result.errors == []
    assert [(p.forename, p.surname) for p in result.pupils] == [('Amara "Amy"', "Smith, Jr"),
                                                               ("Amara", "Line\r\nBreak")]
    assert [p.row for p in result.pupils] == [2, 3]


@pytest.mark.parametrize("text", [
    "UPN,Surname\r\nA1,Smith\r\n",
    "UPN,Surname\nA1,Smith\n\nA2,Jones",
    "UPN,Surname\rA1,Smith\r\rA2,Jones\r",
    "UPN,Surname\r\nA1,Smith\nA2,Jones\rA3,Brown\r\n\r\n",
    "UPN,,Surname,\r\n, A1 ,Smith ,\r\n,,,\r\n",
    "UPN,Surname\r\nA1,Form\ffeed\r\nA2,Next\x85line\r\nA3,Line\u2028sep\u2029par\r\n",
    "UPN,Surname\r\nA1,Sm\x0bith\x1c\x1d\x1e" + "x" * 400 + "\r\n",
    "UPN,Surname\r\nA1,\"Smith, Jr\"\r\n",
], ids=["crlf", "lf-blank-no-end", "cr", "mixed-ends", "spaces-empty-cells", "other-line-breaks",
        "vertical-tab-and-separators", "quoted"])
def test_read_csv_gives_the_records_the_csv_module_reads(text):
    read = list(csv.reader(io.StringIO(text, newline="")))
    while read and not any(cell.strip() for cell in read[-1]):
        read.pop()
    assert ks2.read_csv(text.encode(), MAX_ROWS) == read


def test_a_cell_longer_than_the_csv_module_reads_is_refused_by_it():
    text = "UPN,Surname\r\nA1," + "x" * (csv.field_size_limit() + 1) + "\r\n"
    with pytest.raises(UnreadableFile, match="field larger than field limit"):
        ks2.read_csv(text.encode(), MAX_ROWS)


def test_a_header_quoted_by_excel_is_matched():
    data = ("\ufeff" + ",".join(f'"{h}"' for h in HEADER) + "\r\n").encode() + to_csv([pupil(1)], header=None)
    assert check_bytes(data).errors == []


def test_trailing_blank_lines_are_dropped_and_are_not_pupils():
    data = to_csv([pupil(1), pupil(2)]) + b"\r\n\r\n,,,\r\n  \r\n\r\n"
    rows = ks2.read_csv(data, MAX_ROWS)
    assert rows == [HEADER, pupil(1), pupil(2)]
    result = check_bytes(data)
    assert result.errors == [] and result.warnings == [] and len(result.pupils) == 2


def test_blank_lines_in_the_middle_keep_the_real_row_numbers_of_the_rows_below():
    data = to_csv([pupil(1), [], [""] * len(HEADER), pupil(2, surname=None), [], pupil(3, read_score="130")])
    result = check_bytes(data)
    assert lines(result.errors) == ["Surname must have a value. Column: Surname. Row: 5",
                                    f"{SCORE_MESSAGE} Column: Reading scaled score. Row: 7"]


def test_blank_rows_are_skipped_and_pupil_records_keep_their_spreadsheet_rows():
    result = check([[], pupil(1), [], ["", " "], pupil(2)])
    assert result.errors == [] and result.warnings == []
    assert [p.row for p in result.pupils] == [3, 6]


@pytest.mark.parametrize("data", [
    b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00",
    "UPN,Surname\r\n".encode("utf-16-le"),
    b"UPN,Surname\r\nA\x00B,C\r\n",
], ids=["xlsx", "png", "xls", "utf16-without-bom", "nul-in-text"])
def test_binary_data_or_nul_bytes_are_unreadable_with_a_clear_message(data):
    with pytest.raises(UnreadableFile) as raised:
        ks2.read_csv(data, MAX_ROWS)
    assert "not a CSV text file" in str(raised.value)
    assert "exactly as downloaded from the portal" in str(raised.value)


def test_text_full_of_control_characters_is_unreadable_as_binary():
    data = bytes(random.Random(1).randrange(1, 32) for _ in range(400))
    with pytest.raises(UnreadableFile, match="not a CSV text file"):
        ks2.read_csv(data, MAX_ROWS)


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_unreadable():
    with pytest.raises(UnreadableFile, match="not in a known encoding"):
        ks2.read_csv(b"UPN,Surname\r\nA,\x81\x8d\x90\r\n", MAX_ROWS)


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n  \r\n"], ids=["empty", "only-blank-lines"])
def test_an_empty_file_is_unreadable(data):
    with pytest.raises(UnreadableFile):
        ks2.read_csv(data, MAX_ROWS)


def test_more_pupil_rows_than_the_limit_is_unreadable_but_the_limit_itself_is_fine():
    assert len(ks2.read_csv(to_csv([pupil(n) for n in range(1, 6)]), 5)) == 6
    with pytest.raises(UnreadableFile, match="6 pupil rows; at most 5"):
        ks2.read_csv(to_csv([pupil(n) for n in range(1, 7)]), 5)


def test_blank_lines_do_not_count_towards_the_row_limit():
    assert len(ks2.read_csv(to_csv([pupil(1), [], [], [], pupil(2)]), 2)) == 6


# --- the header map ----------------------------------------------------------------------------

def every_spelling():
    return [(key, spelling) for key, spellings in ks2.ks2_config()["headers"].items()
            for spelling in spellings]


@pytest.mark.parametrize("key, spelling", every_spelling(), ids=lambda v: str(v))
def test_every_configured_header_spelling_maps_to_its_key_in_any_case_with_underscores_or_ks2(key, spelling):
    assert ks2.header_key(spelling) == key
    assert ks2.header_key(f"  {spelling.upper()} ") == key
    assert ks2.header_key(spelling.lower().replace(" ", "_")) == key
    assert ks2.header_key(f"KS2 {spelling}") == key
    assert ks2.header_key(f"KS2_{spelling.upper().replace(' ', '_')}") == key


@pytest.mark.parametrize("key, spelling", [(k, s) for k, s in every_spelling() if k in REQUIRED])
def test_a_file_using_any_accepted_spelling_of_a_required_column_validates_clean(key, spelling):
    columns = {k: (spelling if k == key else v) for k, v in COLUMNS.items()}
    result = check([pupil(1, columns)], header=list(columns.values()))
    assert result.errors == [] and len(result.pupils) == 1


def test_the_issues_example_spellings_are_accepted():
    assert ks2.header_key("Reading scaled score") == "read_score"
    assert ks2.header_key("English reading scaled score") == "read_score"
    assert ks2.header_key("READSCORE") == "read_score"
    assert ks2.header_key("English reading: Scaled score") == "read_score"


def test_an_npd_style_file_with_la_and_estab_columns_validates_clean():
    columns = {"la": "LA", "estab": "ESTAB", "upn": "UPN", "surname": "SURNAME", "forename": "FORENAMES",
               "dob": "DOB", "gender": "GENDER", "read_raw": "KS2_READMRK", "read_score": "KS2_READSCORE",
               "mat_raw": "KS2_MATMRK", "mat_score": "KS2_MATSCORE", "gps_raw": "KS2_GPSMRK",
               "gps_score": "KS2_GPSSCORE", "ta_writing": "KS2_WRITTAOUTCOME",
               "ta_science": "KS2_SCITAOUTCOME", "ta_reading": "KS2_READTAOUTCOME",
               "ta_maths": "KS2_MATTAOUTCOME"}
    rows = [pupil(1, columns, la="801", estab="2001"), pupil(2, columns, la="801", estab="2001")]
    result = check(rows, header=list(columns.values()))
    assert result.errors == [] and result.school == SCHOOL and len(result.pupils) == 2
    assert result.pupils[0].results["read_outcome"] == "AS"  # from the score when no outcome column


def test_no_spelling_is_listed_for_two_columns():
    assert len(ks2.header_lookup()) == len({ks2.normalise_header(s) for _, s in every_spelling()})


def test_unknown_extra_columns_anywhere_are_ignored():
    header = ["Candidate number"] + HEADER[:6] + ["Notes", "Attendance %"] + HEADER[6:] + ["Tier"]
    rows = [["C001"] + row[:6] + ["left early", "95"] + row[6:] + ["x"] for row in [pupil(1), pupil(2)]]
    result = check(rows, header=header)
    assert result.errors == [] and len(result.pupils) == 2


def test_a_row_with_content_only_in_unknown_columns_is_not_a_pupil():
    header = HEADER + ["Notes"]
    rows = [pupil(1) + [""], [""] * len(HEADER) + ["pupil left in May"], pupil(2) + [""]]
    result = check(rows, header=header)
    assert result.errors == [] and [p.row for p in result.pupils] == [2, 4]


def test_columns_in_another_order_are_matched_by_name():
    order = list(reversed(list(COLUMNS)))
    columns = {key: COLUMNS[key] for key in order}
    result = check([pupil(1, columns)], header=list(columns.values()))
    assert result.errors == [] and result.pupils[0].results["mat_score"] == 99


def test_when_two_columns_have_the_same_meaning_the_first_is_used():
    header = HEADER + ["English reading scaled score"]
    result = check([pupil(1) + ["abc"]], header=header)
    assert result.errors == [] and result.pupils[0].results["read_score"] == 106


def test_missing_required_columns_are_one_header_error_naming_each_with_its_accepted_spellings():
    header = [h for key, h in COLUMNS.items() if key not in ("upn", "gps_score", "ta_science")]
    result = check([pupil(1)[:len(header)]], header=header)
    [error] = result.errors
    assert (error.rule, error.rows, error.column) == ("header", [1], None)
    assert error.message.startswith("The header row is missing columns the portal's 'All subjects with "
                                    "TA' file has: 'UPN' (accepted headers: UPN, Unique pupil number, "
                                    "Pupil UPN); 'GPS scaled score' (accepted headers: GPS scaled score, ")
    assert "'Science TA' (accepted headers: Science TA, Science teacher assessment," in error.message
    assert error.message.endswith("Please send the .csv file exactly as downloaded from the portal "
                                  "('All subjects with TA').")
    assert result.pupils == [] and result.school is None


@pytest.mark.parametrize("key", REQUIRED)
def test_each_required_column_missing_alone_is_named(key):
    header = [h for k, h in COLUMNS.items() if k != key]
    [error] = check([], header=header).errors
    assert error.rule == "header"
    assert f"missing a column the portal's 'All subjects with TA' file has: '{COLUMNS[key]}'" in error.message


@pytest.mark.parametrize("key", ["dfe", "gender", "read_raw", "read_outcome", "mat_raw", "mat_outcome",
                                 "gps_raw", "gps_outcome", "ta_reading", "ta_maths"])
def test_optional_columns_may_be_absent(key):
    columns = {k: v for k, v in COLUMNS.items() if k != key}
    result = check([pupil(1, columns)], header=list(columns.values()), file_name=f"{SCHOOL}_x.csv")
    assert result.errors == [] and len(result.pupils) == 1


def test_a_blank_first_row_is_a_header_error():
    result = check_bytes(b",,,\r\n" + to_csv([pupil(1)]))
    [error] = result.errors
    assert error.rule == "header" and error.rows == [1]
    assert error.message.startswith("The first row must be the portal file's header row")


# --- detection by content ----------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    HEADER, ["UPN", "Reading scaled score"], ["upn", "KS2_READSCORE"], ["UPN", "Writing TA"],
    ["Pupil UPN", "Science teacher assessment"],
])
def test_looks_like_a_ks2_file_when_the_header_has_a_upn_and_a_ks2_score_or_ta_column(header):
    assert ks2.looks_like([header, ["x"]])


@pytest.mark.parametrize("rows", [
    [KS1_HEADER], [["UPN", "Surname", "Forename"]], [["Reading scaled score", "Writing TA"]],
    [], [[]], [["School DFE", "UPN", "Reading raw score", "Reading outcome"]],
], ids=["ks1-template", "upn-only", "no-upn", "no-rows", "blank-header", "no-score-or-ta"])
def test_does_not_look_like_a_ks2_file_otherwise(rows):
    assert not ks2.looks_like(rows)


def test_looks_like_reads_the_rows_read_csv_returns():
    assert ks2.looks_like(ks2.read_csv(to_csv([pupil(1)], bom=True), MAX_ROWS))


# --- the school: DfE column, LA + Estab, file name ---------------------------------------------

def test_the_school_is_the_dfe_number_column():
    result = check([pupil(1), pupil(2)])
    assert result.school == SCHOOL and result.errors == []


@pytest.mark.parametrize("header", ["LAESTAB", "LA Estab", "LA/Estab", "LA+Estab", "DfE", "School DFE"])
def test_the_dfe_column_may_be_named_any_accepted_way(header):
    result = check([pupil(1)], header=[header] + HEADER[1:])
    assert result.school == SCHOOL and result.errors == []


def test_la_and_estab_columns_make_the_dfe_number():
    columns = {"la": "LA", "estab": "Estab", **{k: v for k, v in COLUMNS.items() if k != "dfe"}}
    result = check([pupil(1, columns, la="801", estab="2001"), pupil(2, columns, la="801", estab="2001")],
                   header=list(columns.values()))
    assert result.errors == [] and result.school == SCHOOL


def test_an_invalid_la_and_estab_is_reported_on_both_columns():
    columns = {"la": "LA", "estab": "Estab", **{k: v for k, v in COLUMNS.items() if k != "dfe"}}
    result = check([pupil(1, columns, la="100", estab="2001")], header=list(columns.values()))
    assert lines(result.errors) == ["Invalid DFE detected. Column: LA, Estab. Row: 2"]


@pytest.mark.parametrize("name", [f"{SCHOOL}_KS2_AllSubjectwithTA_Result.csv", f"{SCHOOL}_PHO_123.csv",
                                  f"C:\\Users\\data\\Downloads\\{SCHOOL}_PHO_123A.CSV",
                                  f"drop/admin@trust/{SCHOOL}.csv", f"{SCHOOL} results.csv"])
def test_without_a_dfe_column_the_school_comes_from_the_file_name(name):
    columns = {k: v for k, v in COLUMNS.items() if k != "dfe"}
    result = check([pupil(1, columns)], header=list(columns.values()), file_name=name)
    assert result.errors == [] and result.school == SCHOOL


@pytest.mark.parametrize("name", [None, "AllSubjectwithTA_Result.csv", "80120011_results.csv",
                                  "results_8012001.csv", "801200_x.csv"])
def test_without_a_dfe_column_or_a_dfe_file_name_the_error_says_to_send_the_file_as_downloaded(name):
    columns = {k: v for k, v in COLUMNS.items() if k != "dfe"}
    result = check([pupil(1, columns)], header=list(columns.values()), file_name=name)
    error = only(result.errors, "dfe-missing")
    assert error.line() == ("The file does not say which school it is for: please send the file as "
                            "downloaded from the portal, whose name starts with the school's DfE "
                            "number (1234567_...).")
    assert result.school is None and result.pupils == []


def test_a_file_name_starting_with_an_invalid_dfe_number_is_an_error():
    columns = {k: v for k, v in COLUMNS.items() if k != "dfe"}
    result = check([pupil(1, columns)], header=list(columns.values()), file_name="1002001_x.csv")
    error = only(result.errors, "dfe-invalid")
    assert error.line() == ("Invalid DFE detected in the file name (1002001_...): please send the file "
                            "as downloaded from the portal, whose name starts with the school's DfE "
                            "number.")
    assert result.school is None


def test_a_dfe_column_left_blank_falls_back_to_the_file_name():
    result = check([pupil(1, dfe=None), pupil(2, dfe=None)], file_name=f"{SCHOOL}_KS2.csv")
    assert result.errors == [] and result.school == SCHOOL


def test_blank_dfe_cells_among_filled_ones_are_not_errors():
    result = check([pupil(1), pupil(2, dfe=None), pupil(3)])
    assert result.errors == [] and result.school == SCHOOL


def test_the_dfe_column_wins_over_a_file_name_for_another_school_with_a_warning():
    result = check([pupil(1)], file_name="8012002_KS2.csv")
    assert result.errors == [] and result.school == SCHOOL
    warning = only(result.warnings, "dfe-file-name")
    assert warning.line() == ("The file name starts with 8012002 but the file's rows are for school "
                              f"{SCHOOL}; the DfE number in the file is used.")


@pytest.mark.parametrize("dfe", ["1002001", "801200", "80120011", "ABCDEFG", "8012001.5"])
def test_an_invalid_dfe_number_is_reported_as_invalid_dfe_detected(dfe):
    result = check([pupil(1, dfe=dfe)], file_name=f"{SCHOOL}_x.csv")
    error = only(result.errors, "dfe-invalid")
    assert error.line() == "Invalid DFE detected. Column: DfE number. Row: 2"
    assert result.school is None


def test_an_invalid_dfe_number_on_row_7_is_reported_with_the_seed_wording():
    rows = [pupil(n) for n in range(1, 6)] + [pupil(6, dfe="1231234")]
    assert lines(check(rows).errors) == ["Invalid DFE detected. Column: DfE number. Row: 7"]


def test_rows_for_a_second_school_are_errors_naming_the_school_most_rows_are_for():
    rows = [pupil(1), pupil(2, dfe="8012002"), pupil(3), pupil(4)]
    result = check(rows)
    error = only(result.errors, "dfe-mixed")
    assert error.line() == (f"Every row must be for the same school ({SCHOOL}); send one file per "
                            "school. Column: DfE number. Row: 3")
    assert result.school == SCHOOL and result.pupils == []


def test_a_sender_not_permitted_for_the_school_gets_an_error_on_every_row():
    asked = []
    context = ValidationContext(may_submit_for=lambda dfe: asked.append(dfe) or False)
    result = check([pupil(1), pupil(2)], context)
    error = only(result.errors, "dfe-not-permitted")
    assert error.rows == [2, 3] and error.column == "DfE number"
    assert error.message == (f"You are not registered to send results for school {SCHOOL}. Please ask "
                             "the school's data manager or trust administrator.")
    assert asked == [SCHOOL] and result.pupils == []


def test_a_sender_not_permitted_for_the_school_in_the_file_name_gets_one_error_without_rows():
    columns = {k: v for k, v in COLUMNS.items() if k != "dfe"}
    result = check([pupil(1, columns)], ValidationContext(may_submit_for=lambda dfe: False),
                   header=list(columns.values()), file_name=f"{SCHOOL}_KS2.csv")
    error = only(result.errors, "dfe-not-permitted")
    assert error.rows == [] and error.column is None
    assert error.message.startswith(f"You are not registered to send results for school {SCHOOL}.")


def test_a_sender_permitted_for_the_school_gets_no_permission_error():
    result = check([pupil(1)], ValidationContext(may_submit_for=lambda dfe: dfe == SCHOOL))
    assert result.errors == [] and len(result.pupils) == 1


# --- UPN, names, date of birth, gender ---------------------------------------------------------

def test_badly_shaped_upns_are_one_line_listing_every_row_in_the_seed_wording():
    rows = [pupil(n) for n in range(1, 14)]
    rows[4] = pupil(5, upn="P12345678912")
    rows[12] = pupil(13, upn="P1234567891234")
    assert lines(check(rows).errors) == [f"{UPN_FORMAT_MESSAGE} Column: UPN. Rows: 6, 14"]


def test_a_upn_with_the_wrong_check_letter_is_an_error():
    error = only(check([pupil(1, upn="Q207000016049")]).errors, "upn-check-letter")
    assert error.line() == ("UPN check letter is not correct: please copy the UPN from your MIS. "
                            "Column: UPN. Row: 2")


def test_a_missing_upn_is_an_error_using_the_files_own_header():
    columns = {**COLUMNS, "upn": "Unique pupil number"}
    error = only(check([pupil(1, columns, upn=None)], header=list(columns.values())).errors, "upn-missing")
    assert error.line() == "UPN must have a value. Column: Unique pupil number. Row: 2"


def test_lower_case_and_temporary_upns_are_accepted():
    result = check([pupil(1, upn=upn(1).lower()), pupil(2, upn="T20110001804V")])
    assert result.errors == []
    assert [p.upn for p in result.pupils] == [upn(1), "T20110001804V"]


def test_a_upn_on_two_rows_is_an_error_on_both_rows():
    error = only(check([pupil(1), pupil(2), pupil(1)]).errors, "upn-duplicate")
    assert error.line() == ("UPN appears more than once in the file; each pupil must have one row. "
                            "Column: UPN. Rows: 2, 4")


@pytest.mark.parametrize("key, header", [("forename", "Forename"), ("surname", "Surname")])
def test_a_missing_name_is_an_error(key, header):
    error = only(check([pupil(1, **{key: "  "})]).errors, "name-missing")
    assert error.line() == f"{header} must have a value. Column: {header}. Row: 2"


def test_a_name_longer_than_the_database_keeps_is_an_error_under_the_files_own_header():
    columns = {**COLUMNS, "surname": "Legal surname"}
    rows = [pupil(1, columns, surname="S" * 101), pupil(2, columns, forename="F" * 100)]
    result = check(rows, header=list(columns.values()))
    assert lines(result.errors) == [
        "Legal surname must be at most 100 characters. Column: Legal surname. Row: 2"]
    assert result.pupils == []


def test_a_missing_name_is_reported_under_the_files_own_header():
    columns = {**COLUMNS, "forename": "First name", "surname": "Legal surname"}
    errors = check([pupil(1, columns, forename=None, surname=None)], header=list(columns.values())).errors
    assert lines(errors) == ["First name must have a value. Column: First name. Row: 2",
                             "Legal surname must have a value. Column: Legal surname. Row: 2"]


@pytest.mark.parametrize("dob", [None, "31/02/2015", "not a date", "2015/04/14", "02/07/2026", "01/07/2026"],
                         ids=["blank", "31-feb", "text", "year-first-slashes", "tomorrow", "today"])
def test_a_date_of_birth_that_is_missing_invalid_or_not_in_the_past_is_an_error(dob):
    error = only(check([pupil(1, dob=dob)]).errors, "dob")
    assert error.line() == ("Date of birth must be a valid date in the past, written DD/MM/YYYY. "
                            "Column: Date of birth. Row: 2")


@pytest.mark.parametrize("dob", ["14/04/2015", "2015-04-14", "14-04-2015", "14.04.2015"])
def test_a_past_date_of_birth_written_day_first_or_iso_is_accepted(dob):
    result = check([pupil(1, dob=dob)])
    assert result.errors == [] and result.pupils[0].dob == date(2015, 4, 14)


@pytest.mark.parametrize("gender, stored", [("M", "M"), ("F", "F"), ("Male", "M"), ("female", "F"),
                                            ("", None)])
def test_gender_is_optional_and_read_when_given(gender, stored):
    result = check([pupil(1, gender=gender)])
    assert result.errors == [] and result.pupils[0].gender == stored


def test_an_unknown_gender_is_an_error():
    error = only(check([pupil(1, gender="X")]).errors, "gender")
    assert error.line() == "Gender must be Male or Female. Allows empty field. Column: Gender. Row: 2"


@pytest.mark.parametrize("year, stored", [("6", 6), ("Y6", 6), ("Year 6", 6), ("", None), ("six", None)])
def test_an_nc_year_column_is_read_when_present(year, stored):
    result = check([pupil(1) + [year]], header=HEADER + ["NC Year"])
    assert result.errors == [] and result.pupils[0].nc_year == stored


# --- scaled scores and outcomes ----------------------------------------------------------------

@pytest.mark.parametrize("score, stored, outcome", [("80", 80, "NS"), ("99", 99, "NS"), ("100", 100, "AS"),
                                                    ("120", 120, "AS"), (" 110 ", 110, "AS"),
                                                    ("", None, None)])
@pytest.mark.parametrize("subject", ["read", "mat", "gps"])
def test_a_whole_scaled_score_from_80_to_120_or_a_blank_is_accepted(subject, score, stored, outcome):
    result = check([pupil(1, **{f"{subject}_score": score, f"{subject}_outcome": "",
                                f"{subject}_raw": ""})])
    assert result.errors == []
    results = result.pupils[0].results
    assert (results[f"{subject}_score"], results[f"{subject}_outcome"]) == (stored, outcome)


@pytest.mark.parametrize("score", ["79", "121", "0", "100.5", "100.0", "abc", "AS", "NS", "EXS", "-100"])
def test_a_scaled_score_out_of_range_not_whole_or_not_a_code_is_an_error(score):
    error = only(check([pupil(1, mat_score=score, mat_outcome="")]).errors, "scaled-score")
    assert error.line() == f"{SCORE_MESSAGE} Column: Maths scaled score. Row: 2"


def test_scaled_score_errors_on_several_rows_are_one_line_in_the_issues_wording():
    rows = [pupil(n, read_score="125" if n in (3, 8) else "106") for n in range(1, 10)]
    assert lines(check(rows).errors) == [
        ("Scaled score must be between 80 and 120 and be a whole number, or one of the codes A, B, D, F, "
         "P, H, J, L, M, Q, U. Allows empty field. Column: Reading scaled score. Rows: 4, 9")]


def test_the_scaled_score_message_uses_the_files_own_header():
    columns = {**COLUMNS, "read_score": "English reading scaled score"}
    error = only(check([pupil(1, columns, read_score="130")], header=list(columns.values())).errors,
                 "scaled-score")
    assert error.column == "English reading scaled score"


@pytest.mark.parametrize("code", ["A", "B", "D", "F", "P", "H", "J", "L", "M", "Q", "U", "a", " b "])
def test_a_code_in_a_scaled_score_column_is_that_outcome_and_no_score(code):
    result = check([pupil(1, gps_score=code, gps_outcome="", gps_raw="")])
    assert result.errors == []
    results = result.pupils[0].results
    assert (results["gps_score"], results["gps_outcome"]) == (None, code.strip().upper())


@pytest.mark.parametrize("code", ["AS", "NS", "A", "B", "D", "F", "P", "H", "J", "L", "M", "Q", "U", "as"])
def test_every_outcome_code_is_accepted_in_an_outcome_column_without_a_score(code):
    result = check([pupil(1, read_score="", read_raw="", read_outcome=code)])
    assert result.errors == [] and result.pupils[0].results["read_outcome"] == code.upper()


@pytest.mark.parametrize("score, outcome", [("100", "AS"), ("99", "NS"), ("A", "A"), ("b", "B")])
def test_an_outcome_that_agrees_with_the_scaled_score_is_accepted(score, outcome):
    assert check([pupil(1, read_score=score, read_outcome=outcome, read_raw="")]).errors == []


@pytest.mark.parametrize("outcome", ["X", "EXS", "Y", "100", "ASS"])
def test_an_unknown_outcome_is_an_error_listing_the_codes(outcome):
    error = only(check([pupil(1, read_outcome=outcome)]).errors, "test-outcome")
    assert error.line() == f"{OUTCOME_MESSAGE} Column: Reading outcome. Row: 2"


@pytest.mark.parametrize("score, outcome", [("104", "NS"), ("95", "AS"), ("100", "NS"), ("A", "B"),
                                            ("104", "A"), ("A", "AS")])
def test_an_outcome_that_disagrees_with_the_scaled_score_is_an_error(score, outcome):
    error = only(check([pupil(1, mat_score=score, mat_outcome=outcome, mat_raw="")]).errors,
                 "outcome-mismatch")
    assert error.line() == f"{AGREE_MESSAGE} Column: Maths outcome. Row: 2"


@pytest.mark.parametrize("header", ["Reading result", "English reading result", "READOUTCOME"])
def test_a_result_column_is_an_outcome_column(header):
    columns = {**COLUMNS, "read_outcome": header}
    result = check([pupil(1, columns, read_score="", read_raw="", read_outcome="A")],
                   header=list(columns.values()))
    assert result.errors == [] and result.pupils[0].results["read_outcome"] == "A"


# --- raw marks ---------------------------------------------------------------------------------

RAW_COLUMNS = [  # key, header, highest mark (2016+ test frameworks)
    ("read_raw", "Reading raw score", 50), ("mat_raw", "Maths raw score", 110),
    ("gps_raw", "GPS raw score", 70), ("gps_grammar_raw", "GPS paper 1 raw score", 50),
    ("gps_spelling_raw", "GPS paper 2 raw score", 20), ("mat_arithmetic_raw", "Maths paper 1 raw score", 40),
    ("mat_reasoning1_raw", "Maths paper 2 raw score", 35),
    ("mat_reasoning2_raw", "Maths paper 3 raw score", 35),
]


def with_raw(key, header, value):
    """A one-pupil file whose ``key`` column (added if it is a paper column) holds ``value``."""
    columns = {**COLUMNS, key: header}
    return check([pupil(1, columns, **{key: value})], header=list(columns.values()))


@pytest.mark.parametrize("key, header, top", RAW_COLUMNS)
@pytest.mark.parametrize("mark", ["0", "top", "7", ""])
def test_a_raw_mark_within_each_papers_range_or_a_blank_is_accepted(key, header, top, mark):
    value = str(top) if mark == "top" else mark
    result = with_raw(key, header, value)
    assert result.errors == []
    assert result.pupils[0].results[key] == (int(value) if value else None)


@pytest.mark.parametrize("key, header, top", RAW_COLUMNS)
@pytest.mark.parametrize("mark", ["-1", "above", "12.5", "ten", "AS"])
def test_a_raw_mark_outside_its_papers_range_or_not_whole_is_an_error(key, header, top, mark):
    value = str(top + 1) if mark == "above" else mark
    error = only(with_raw(key, header, value).errors, "raw-mark")
    assert error.line() == (f"Raw mark must be between 0 and {top} and be a whole number, or one of the "
                            f"codes {CODES}. Allows empty field. Column: {header}. Row: 2")


def test_a_code_in_a_raw_mark_column_is_the_outcome_when_no_other_is_given():
    result = check([pupil(1, read_raw="A", read_score="", read_outcome="")])
    assert result.errors == []
    assert (result.pupils[0].results["read_raw"], result.pupils[0].results["read_outcome"]) == (None, "A")


def test_raw_mark_columns_for_separate_papers_are_kept_only_when_present():
    result = with_raw("gps_spelling_raw", "GPS paper 2 raw score", "17")
    results = result.pupils[0].results
    assert results["gps_spelling_raw"] == 17 and "gps_grammar_raw" not in results
    assert "mat_arithmetic_raw" not in check([pupil(1)]).pupils[0].results


# --- teacher assessment ------------------------------------------------------------------------

TA = {
    "ta_writing": ("Writing TA", ["GDS", "EXS", "WTS", "PK1", "PK2", "PK3", "PK4", "PK5", "PK6", "EM", "A",
                                  "L", "F", "P"]),
    "ta_science": ("Science TA", ["EXS", "HNM", "A", "L", "F", "P"]),
    "ta_reading": ("Reading TA", ["PK1", "PK2", "PK3", "PK4", "PK5", "PK6", "EM", "A"]),
    "ta_maths": ("Maths TA", ["PK1", "PK2", "PK3", "PK4", "PK5", "PK6", "EM", "A"]),
}


@pytest.mark.parametrize("key, code", [(key, code) for key, (_, codes) in TA.items()
                                       for code in codes + [codes[0].lower(), f" {codes[-1]} ", ""]])
def test_every_ta_code_of_each_subject_in_any_case_or_a_blank_is_accepted(key, code):
    result = check([pupil(1, **{key: code})])
    assert result.errors == []
    assert result.pupils[0].results[key] == (code.strip().upper() or None)


@pytest.mark.parametrize("key, code", [("ta_writing", "HNM"), ("ta_writing", "B"), ("ta_writing", "PK7"),
                                       ("ta_science", "GDS"), ("ta_science", "WTS"), ("ta_science", "PK6"),
                                       ("ta_reading", "EXS"), ("ta_reading", "GDS"), ("ta_maths", "WTS"),
                                       ("ta_maths", "L")])
def test_a_ta_code_not_valid_for_its_subject_is_an_error_listing_that_subjects_codes(key, code):
    header, codes = TA[key]
    label = header.removesuffix(" TA")
    error = only(check([pupil(1, **{key: code})]).errors, "ta-code")
    assert error.line() == (f"{label} teacher assessment must be one of {', '.join(codes)}. "
                            f"Allows empty field. Column: {header}. Row: 2")


def test_unknown_ta_codes_in_two_columns_are_two_lines():
    errors = check([pupil(1, ta_writing="HNM", ta_science="GDS")]).errors
    assert [e.column for e in errors] == ["Writing TA", "Science TA"]


# --- empty files, pupils without results, the roster -------------------------------------------

def test_a_file_with_only_the_header_is_an_error_saying_there_are_no_pupils():
    result = check([], file_name=f"{SCHOOL}_x.csv")
    [error] = result.errors
    assert (error.rule, error.rows, error.column) == ("no-pupils", [], None)
    assert error.line() == ("The file has no pupil rows under the header row. Please send the .csv file "
                            "exactly as downloaded from the portal ('All subjects with TA').")


def test_a_pupil_with_no_results_at_all_is_a_warning_not_an_error():
    blank = {key: "" for key in COLUMNS if key.split("_")[0] in ("read", "mat", "gps", "ta")}
    result = check([pupil(1), pupil(2, **blank), pupil(3, **blank)])
    assert result.errors == []
    warning = only(result.warnings, "no-results")
    assert warning.line() == ("No results in the file for this pupil; the pupil will not be counted in "
                              "reports. Column: UPN. Rows: 3, 4")
    assert len(result.pupils) == 3


def test_a_pupil_not_on_the_roster_is_warned_about_and_not_processed():
    roster = {upn(1), upn(2), upn(3)}
    result = check([pupil(1), pupil(9), pupil(2), pupil(3)], ValidationContext(roster_for=lambda dfe: roster))
    assert result.errors == []
    warning = only(result.warnings, "pupil-not-on-roll")
    assert warning.line() == ("Pupil is not on the school's roll held by the service and will not be "
                              "processed. Column: UPN. Row: 3")
    assert [p.upn for p in result.pupils] == [upn(1), upn(2), upn(3)]


def test_roster_pupils_missing_from_the_file_are_one_warning_counting_them():
    roster = {upn(1), upn(2), upn(3), upn(4)}
    result = check([pupil(1), pupil(3)], ValidationContext(roster_for=lambda dfe: roster))
    warning = only(result.warnings, "pupils-missing")
    assert warning.line() == ("2 pupil(s) on the school's roll held by the service are not in this file. "
                              "A new file replaces the previous one, so include every pupil.")
    assert result.errors == [] and len(result.pupils) == 2


def test_the_roster_is_asked_for_the_files_school_even_when_it_comes_from_the_file_name():
    asked = []
    columns = {k: v for k, v in COLUMNS.items() if k != "dfe"}
    check([pupil(1, columns)], ValidationContext(roster_for=lambda dfe: asked.append(dfe) or {upn(1)}),
          header=list(columns.values()), file_name=f"{SCHOOL}_x.csv")
    assert asked == [SCHOOL]


@pytest.mark.parametrize("context", [None, ValidationContext(),
                                     ValidationContext(roster_for=lambda dfe: None)],
                         ids=["no-context", "no-roster-lookup", "no-roster-held"])
def test_without_a_roster_there_are_no_roster_warnings_and_every_pupil_is_kept(context):
    result = check([pupil(1), pupil(9)], context)
    assert result.errors == [] and result.warnings == [] and len(result.pupils) == 2


def test_a_file_with_errors_hands_on_no_pupils():
    result = check([pupil(1), pupil(2, ta_science="GDS")])
    assert not result.valid and result.pupils == [] and result.school == SCHOOL


def test_every_rule_broken_on_one_row_is_reported_on_that_row():
    row = pupil(1, dfe="1002001", upn="Q207000016049", forename="", surname="", dob="31/02/2015",
                gender="X", read_raw="51", read_score="79", read_outcome="X", mat_score="104",
                mat_outcome="NS", ta_writing="HNM", ta_reading="EXS", ta_maths="GDS", ta_science="PK1")
    errors = check([row], file_name=f"{SCHOOL}_x.csv").errors
    assert [e.rule for e in errors] == ["dfe-invalid", "upn-check-letter", "name-missing", "name-missing",
                                        "dob", "gender", "scaled-score", "test-outcome", "raw-mark",
                                        "outcome-mismatch", "ta-code", "ta-code", "ta-code", "ta-code"]
    assert all(e.rows == [2] for e in errors)


# --- checked column by column, reported row by row ---------------------------------------------

def test_findings_are_listed_in_the_order_of_the_rows_they_are_first_on():
    rows = [pupil(1, ta_writing="XYZ"), pupil(2, dfe="1002001", read_score="79"),
            pupil(3, surname="", ta_writing="XYZ")]
    errors = check(rows).errors
    assert [(e.rule, e.rows) for e in errors] == [
        ("ta-code", [2, 4]), ("dfe-invalid", [3]), ("scaled-score", [3]), ("name-missing", [4])]


def test_the_same_value_in_many_rows_and_columns_is_judged_for_each_column():
    rows = [pupil(n, read_raw="60", mat_raw="60", gps_raw="60") for n in range(1, 4)]
    errors = check(rows).errors
    assert lines(errors) == [
        "Raw mark must be between 0 and 50 and be a whole number, or one of the codes "
        f"{CODES}. Allows empty field. Column: Reading raw score. Rows: 2, 3, 4"]


def test_a_second_file_with_other_headers_is_reported_under_its_own_headers():
    first = check([pupil(1, forename="")])
    renamed = {**COLUMNS, "forename": "First name"}
    second = check([pupil(1, columns=renamed, forename="")], header=list(renamed.values()))
    assert only(first.errors, "name-missing").column == "Forename"
    assert only(second.errors, "name-missing").column == "First name"
    assert only(second.errors, "name-missing").message == "First name must have a value."


def test_a_date_of_birth_is_judged_against_each_files_own_today():
    rows = [pupil(1, dob="01/07/2026")]
    data = to_csv(rows)
    late = ks2.validate(ks2.read_csv(data, MAX_ROWS), today=date(2026, 7, 2))
    same_day = ks2.validate(ks2.read_csv(data, MAX_ROWS), today=date(2026, 7, 1))
    assert late.valid
    assert only(same_day.errors, "dob").rows == [2]


def test_a_changed_configuration_gets_rules_of_its_own(monkeypatch):
    rows = [pupil(1, read_score="115", read_outcome="AS")]
    assert check(rows).valid
    changed = copy.deepcopy(ks2.ks2_config())
    changed["tests"]["scaled_score_max"] = 110
    monkeypatch.setattr(ks2, "ks2_config", lambda: changed)
    assert "between 80 and 110" in only(check(rows).errors, "scaled-score").message
    monkeypatch.undo()
    assert check(rows).valid


@pytest.mark.parametrize("encoding, name", [("utf-8", "Łukasz Wiśniewski"), ("utf-16", "Łukasz Wiśniewski"),
                                            ("cp1252", "Zoë Brontë")])
def test_control_characters_are_counted_the_same_in_text_of_any_encoding(encoding, name):
    text = "UPN,Surname,Note\r\n" + f"{upn(1)},{name},{'a' * 40}\r\n" * 40
    allowed = len(text) // 100

    def with_controls(count: int) -> bytes:
        return text.replace("a" * count, "\x01" * count, 1).encode(encoding)

    assert len(ks2.read_csv(with_controls(allowed), MAX_ROWS)) == 41
    with pytest.raises(UnreadableFile, match="not a CSV text file"):
        ks2.read_csv(with_controls(allowed + 1), MAX_ROWS)


# --- remembered rules and compiled records (speed, without changing a result) -------------------

def _outcome(result):
    """All a result says, to compare two checks of the same file."""
    return (result.school, lines(result.errors), lines(result.warnings),
            [(p.row, p.upn, p.forename, p.surname, p.gender, p.dob, p.nc_year, list(p.results.items()))
             for p in result.pupils])


def _varied_files():
    """Valid files, files with wrong cells of every kind, and files with odd spellings."""
    valid = [pupil(n, read_score=str(80 + n), read_outcome="AS" if 80 + n >= 100 else "NS")
             for n in range(1, 40)]
    wrong = [pupil(1, read_score="79"), pupil(2, mat_raw="111"), pupil(3, ta_writing="XYZ"),
             pupil(4, dob="31/02/2014"), pupil(5, gender="x"), pupil(6, forename=""),
             pupil(7, upn=upn(7).lower()), pupil(1), pupil(9, read_outcome="NS", read_score="101"),
             pupil(10, mat_raw="A", mat_outcome="", mat_score=""), pupil(11, gps_score=" 0100 ")]
    odd = [pupil(n, read_score=f" {90 + n} ", mat_raw=f"0{n}", ta_reading=" pk1 ") for n in range(1, 9)]
    return [valid, wrong, odd, valid[:1], wrong[:3]]


def test_a_file_is_checked_the_same_when_the_remembered_texts_are_forgotten(monkeypatch):
    files = _varied_files()
    first = [_outcome(check(rows)) for rows in files]
    monkeypatch.setattr(ks2, "REMEMBERED", 3)  # forgotten on nearly every column
    monkeypatch.setattr(ks2, "MAPPED_HEADERS", 1)
    for _ in range(2):
        assert [_outcome(check(rows)) for rows in files] == first


def test_a_pupils_results_keep_the_order_of_the_columns_checked():
    result = check([pupil(1)])
    assert list(result.pupils[0].results)[:3] == ["read_score", "read_outcome", "read_raw"]
    assert list(result.pupils[0].results)[-4:] == ["ta_writing", "ta_science", "ta_reading", "ta_maths"]


@pytest.mark.parametrize("keys", [("read_score", "ta_writing"), ("read score", "class", "__x", "ok")])
def test_a_compiled_record_is_the_record_the_constructor_makes(keys):
    """Result keys that cannot be attribute names are made by a dict display instead."""
    fields = (2, "A801200115001", "Amara", "Ahmed", "F", date(2014, 10, 1), 6)
    values = list(range(len(keys)))
    made = ks2._records_maker(keys)(*fields, *values)
    expected = ks2.PupilRecord(*fields, dict(zip(keys, values)))
    assert made == expected
    assert list(made.results.items()) == list(expected.results.items())
