"""The CTF XML validator (workers/validators/ctf.py), always through real XML bytes.

Sources: ../shared/DOMAIN.md sections 1, 3 and 4; ../shared/seeds/ctf-import-guidance.txt and
../shared/seeds/tracker-data-returns-ctf-guidance.txt. Codes come from config/ctf.toml.
"""
import socket
import time
from datetime import date

import pytest
from lxml import etree

from intake.demo_world import make_upn
from workers.validators import ctf
from workers.validators.result import UnreadableFile, ValidationContext
from workers.validators.rules import UPN_FORMAT_MESSAGE
from helpers import lines, only

TODAY = date(2026, 7, 1)
SCHOOL = "8012001"
OTHER = "8012002"
MTC_MESSAGE = ("Multiplication tables check result must be a whole number from 0 to 25 or one of "
               "A, B, J, L, U, Z, X, NAA, Q, H.")
PHONICS_MESSAGE = "Phonics screening check mark must be a whole number from 0 to 40 or one of A, D, L, Q."
MTC_PATH = "StageAssessment Stage=KS2 Subject=MAT Component=MTC Method=TT ResultQualifier=MT"
PHONICS_PATH = "StageAssessment Stage=KS1 Subject=PHO Component=PC Method=TT ResultQualifier=MK"


def upn(serial: int, dfe: str = SCHOOL) -> str:
    return make_upn(dfe, 22, serial)


# --- building CTF XML --------------------------------------------------------------------------

def mtc(result="23", year="2026", **changes) -> dict:
    """The confirmed MTC StageAssessment (DOMAIN.md section 4)."""
    return {"Stage": "KS2", "Locale": "ENG", "Year": year, "Subject": "MAT", "Method": "TT",
            "Component": "MTC", "ResultStatus": "R", "ResultQualifier": "MT", "Result": result,
            **changes}


def phonics(result="35", year="2026", **changes) -> dict:
    return {"Stage": "KS1", "Locale": "ENG", "Year": year, "Subject": "PHO", "Method": "TT",
            "Component": "PC", "ResultQualifier": "MK", "Result": result, **changes}


def ks2(component, subject, result, method="TT", qualifier="SS", year="2026") -> dict:
    return {"Stage": "KS2", "Locale": "ENG", "Year": year, "Subject": subject, "Method": method,
            "Component": component, "ResultQualifier": qualifier, "Result": result}


def elg(component, subject, result="2", year="2026") -> dict:
    return {"Stage": "FSP", "Year": year, "Subject": subject, "Method": "TA",
            "Component": component, "ResultQualifier": "EL", "Result": result}


def element(tag, value) -> str:
    return "" if value is None else f"<{tag}>{value}</{tag}>"


def pupil(serial=1, *, upn_=..., forename="Amara", surname="Ahmed", dob="2016-10-01", sex="F",
          sex_tag="Sex", assessments=None, extra="") -> str:
    """One Pupil element; ``assessments`` are dicts of StageAssessment fields (with Stage).

    A value of None leaves its element out (``upn_=None``: no UPN element at all).
    """
    assessments = [mtc()] if assessments is None else assessments
    stages: dict[str, list[dict]] = {}
    for fields in assessments:
        stages.setdefault(fields["Stage"], []).append(fields)
    key_stages = "".join(
        "<KeyStage>" + element("Stage", stage) + "".join(
            "<StageAssessment>" + "".join(element(tag, value) for tag, value in fields.items()
                                          if tag != "Stage") + "</StageAssessment>"
            for fields in rows) + "</KeyStage>"
        for stage, rows in stages.items())
    return ("\n    <Pupil>" + element("UPN", upn(serial) if upn_ is ... else upn_)
            + element("Surname", surname) + element("Forename", forename) + element("DOB", dob)
            + element(sex_tag, sex) + extra
            + (f"<StageAssessments>{key_stages}</StageAssessments>" if key_stages else "")
            + "</Pupil>")


def school(tag, dfe, name="") -> str:
    if dfe is None:
        return ""
    return (f"<{tag}>" + element("LEA", dfe[:3]) + element("Estab", dfe[3:])
            + element("SchoolName", name or None) + f"</{tag}>")


def ctf_xml(pupils=None, *, version="25.0", document_name="Common Transfer File", source=SCHOOL,
            dest=SCHOOL, header=True, declaration='<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    """A CTF as an MIS writes it (DOMAIN.md section 4); ``pupils`` are Pupil element strings."""
    pupils = [pupil(1)] if pupils is None else pupils
    head = ("<Header>" + element("DocumentName", document_name) + element("CTFversion", version)
            + "<DateTime>2026-06-30T10:15:00</DateTime><DocumentQualifier>partial</DocumentQualifier>"
            + "<SupplierID>Test MIS</SupplierID>"
            + school("SourceSchool", source, "Acorn Primary School")
            + school("DestSchool", dest) + "</Header>") if header else ""
    body = (f"{declaration}<CTfile>\n  {head}\n  <CTFpupilData>{''.join(pupils)}\n"
            "  </CTFpupilData>\n</CTfile>\n")
    return body.encode("utf-8")


def realistic(n: int, version="25.0", sex_tag="Sex") -> bytes:
    """A v25 file for Year 4 and Year 6 pupils: MTC scores and codes, KS2 results, phonics retakes."""
    pupils = []
    for serial in range(1, n + 1):
        found = [mtc(str(serial % 26) if serial % 7 else "A"),
                 ks2("REA", "ENG", str(80 + serial % 41)), ks2("MAT", "MAT", "105"),
                 ks2("WRI", "ENG", "EXS", method="TA", qualifier="TL"),
                 phonics(str(20 + serial % 21), year="2023")]
        pupils.append(pupil(serial, forename=f"Pupil{serial}", sex="MF"[serial % 2],
                            sex_tag=sex_tag, assessments=found))
    return ctf_xml(pupils, version=version)


def check(data, context=None, **options):
    return ctf.validate(data, context, today=TODAY, **options)


def rules(findings):
    return [f.rule for f in findings]


# --- a valid file ------------------------------------------------------------------------------

def test_a_realistic_v25_file_of_thirty_pupils_has_no_errors_or_warnings_and_every_pupil():
    result = check(realistic(30))
    assert result.errors == [] and result.warnings == []
    assert result.valid and result.format == "ctf-xml" == ctf.FORMAT
    assert result.school == SCHOOL
    assert [p.row for p in result.pupils] == list(range(1, 31))
    assert {p.upn for p in result.pupils} == {upn(n) for n in range(1, 31)}


def test_a_pupil_becomes_a_record_with_its_position_names_sex_dob_and_results_by_part():
    data = ctf_xml([pupil(1), pupil(2, forename="Ben", surname="Brown", sex="m", dob="2016-04-14",
                                     assessments=[mtc("A"), phonics("38", year="2022")])])
    result = check(data)
    assert result.errors == []
    first, second = result.pupils
    assert (first.row, first.upn, first.forename, first.surname) == (1, upn(1), "Amara", "Ahmed")
    assert (first.gender, first.dob, first.nc_year) == ("F", date(2016, 10, 1), None)
    assert first.results == {"mtc": {"year": 2026, "score": 23}}
    assert (second.row, second.gender, second.dob) == (2, "M", date(2016, 4, 14))
    assert second.results == {"mtc": {"year": 2026, "code": "A"},
                              "phonics": {"year": 2022, "mark": 38}}


def test_the_nc_year_is_read_from_basic_details_when_the_file_has_it():
    data = ctf_xml([pupil(1, extra="<BasicDetails><NCyearActual>4</NCyearActual></BasicDetails>")])
    assert check(data).pupils[0].nc_year == 4


def test_as_json_has_exactly_the_shared_contract_keys():
    body = check(ctf_xml()).as_json("ctf-2026")
    assert body == {"format": "ctf-xml", "collection": "ctf-2026", "school": SCHOOL,
                    "status": "valid", "pupils": 1, "errors": [], "warnings": []}


def test_as_json_of_an_invalid_file_lists_errors_with_the_element_path_as_the_column():
    body = check(ctf_xml([pupil(1), pupil(2, surname=" ")])).as_json("ctf-2026")
    assert set(body) == {"format", "collection", "school", "status", "pupils", "errors", "warnings"}
    assert body["status"] == "invalid" and body["pupils"] == 0
    assert body["errors"] == [{"rule": "name-missing", "message": "Surname must have a value.",
                               "column": "Pupil/Surname", "rows": [2]}]


def test_the_parts_are_the_five_the_issue_names():
    assert ctf.PARTS == ("eyfs", "phonics", "mtc", "ks1", "ks2")


# --- sniffing ----------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    ctf_xml(),
    ctf_xml(declaration=""),
    b"\xef\xbb\xbf" + ctf_xml(),
    b"\r\n  \t" + ctf_xml(declaration=""),
    b'<?xml version="1.0"?>\n<!-- made by an MIS -->\n<CTfile>\n<Header/></CTfile>',
    ctf_xml().decode().encode("utf-16"),
    b"<CTfile/>",
], ids=["declaration", "no-declaration", "bom", "leading-whitespace", "comment", "utf-16", "empty-root"])
def test_a_ctf_is_recognised_from_its_first_bytes(data):
    assert ctf.looks_like(data)


@pytest.mark.parametrize("data", [
    b"", b"UPN,Surname\r\nA123,Smith\r\n", b"PK\x03\x04rest-of-a-zip", b"%PDF-1.7",
    b'<?xml version="1.0"?><ATfile><Header/></ATfile>',
    b'<?xml version="1.0"?><html><body>CTfile</body></html>',
    b"hello <CTfile>", b'<?xml version="1.0"?>' + b" " * 5000 + b"<CTfile/>",
], ids=["empty", "csv", "zip", "pdf", "other-root", "word-in-text", "text-first", "root-too-late"])
def test_other_files_are_not_taken_for_a_ctf(data):
    assert not ctf.looks_like(data)


# --- parsing, and refusing what is not a safe CTF ----------------------------------------------

def test_parse_returns_the_ctfile_root_element():
    root = ctf.parse(ctf_xml(), max_pupils=10)
    assert root.tag == "CTfile"
    assert root.find("Header/DocumentName").text == "Common Transfer File"


def test_a_namespaced_ctf_is_read_as_if_it_had_no_namespace():
    data = ctf_xml().replace(b"<CTfile>", b'<CTfile xmlns="urn:example:ctf">')
    result = check(data)
    assert result.errors == [] and len(result.pupils) == 1


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><CTfile><Header></CTfile>',
    ctf_xml()[:-40],
    b"<CTfile><Header><DocumentName>A & B</DocumentName></Header></CTfile>",
    b'<?xml version="1.0" encoding="UTF-8"?><CTfile><Surname>\xff\xfe</Surname></CTfile>',
], ids=["mismatched-tag", "truncated", "bare-ampersand", "bad-utf8"])
def test_malformed_xml_is_unreadable_with_the_parsers_reason(data):
    with pytest.raises(UnreadableFile, match="The file is not well-formed XML") as caught:
        ctf.parse(data, max_pupils=10)
    assert "Please create the CTF again" in str(caught.value)


def test_a_ctf_with_an_undeclared_entity_reference_is_unreadable():
    with pytest.raises(UnreadableFile, match="not well-formed"):
        check(ctf_xml([pupil(1, surname="&nbsp;Ahmed")]))


@pytest.mark.parametrize("data", [b"", b"  \r\n "], ids=["empty", "whitespace"])
def test_an_empty_file_is_unreadable(data):
    with pytest.raises(UnreadableFile, match="The file is empty"):
        ctf.parse(data, max_pupils=10)


def test_xml_with_another_root_element_is_unreadable_naming_the_element():
    with pytest.raises(UnreadableFile, match="its first element is <ATfile>, not <CTfile>"):
        ctf.parse(b"<?xml version='1.0'?><ATfile><Header/></ATfile>", max_pupils=10)


def test_more_pupils_than_allowed_is_unreadable():
    with pytest.raises(UnreadableFile, match="The file has 4 pupils; at most 3 can be sent"):
        ctf.validate(ctf_xml([pupil(n) for n in range(1, 5)]), max_pupils=3)
    assert ctf.validate(ctf_xml([pupil(n) for n in range(1, 4)]), max_pupils=3, today=TODAY).valid


BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE CTfile [\n<!ENTITY lol "lol">\n'
                  + b"".join(b'<!ENTITY lol%d "%s">\n'
                             % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b"]>\n<CTfile><Header><DocumentName>&lol9;</DocumentName></Header></CTfile>")


def refused_quickly(data):
    started = time.perf_counter()
    with pytest.raises(UnreadableFile) as caught:
        check(data)
    assert time.perf_counter() - started < 0.5
    assert "document type declaration" in str(caught.value)
    return caught.value


def test_a_doctype_of_any_kind_is_refused():
    refused_quickly(b'<?xml version="1.0"?><!DOCTYPE CTfile><CTfile/>')
    refused_quickly(b'<?xml version="1.0"?>\n<!DOCTYPE CTfile SYSTEM "ctf.dtd">\n' + ctf_xml(declaration=""))


def test_a_billion_laughs_file_is_refused_quickly_without_expansion():
    message = str(refused_quickly(BILLION_LAUGHS))
    assert "lol" not in message


def test_a_billion_laughs_file_in_utf_16_is_refused_quickly_too():
    refused_quickly(BILLION_LAUGHS.decode().encode("utf-16"))


def test_a_lower_case_doctype_is_refused_before_the_parser_sees_it():
    refused_quickly(b'<!doctype CTfile [<!ENTITY x "y">]><CTfile>&x;</CTfile>')


def test_an_external_file_entity_is_refused_and_the_file_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PUPIL-DATA")
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE CTfile [<!ENTITY xxe SYSTEM "'
            + secret.as_uri().encode() + b'">]>\n'
            + ctf_xml([pupil(1, surname="&xxe;")], declaration=""))
    assert "TOP-SECRET" not in str(refused_quickly(data))


@pytest.fixture
def listener():
    """A local TCP port that records whether anything connected to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    yield server.getsockname()[1]
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        connection = None
    server.close()
    assert connection is None, "something fetched the external entity"


def http_entity_ctf(port: int) -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE CTfile [<!ENTITY xxe SYSTEM "http://127.0.0.1:%d/x">'
            b'<!ENTITY %% remote SYSTEM "http://127.0.0.1:%d/evil.dtd"> %%remote;]>\n' % (port, port)
            + ctf_xml([pupil(1, surname="&xxe;")], declaration=""))


def test_an_external_http_entity_is_refused_without_touching_the_network(listener):
    refused_quickly(http_entity_ctf(listener))


def test_the_parser_itself_neither_resolves_external_entities_nor_loads_dtds(tmp_path, listener):
    """Defence in depth: even without the DOCTYPE refusal, the parser settings are safe."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PUPIL-DATA")
    data = (b'<!DOCTYPE CTfile [<!ENTITY xxe SYSTEM "' + secret.as_uri().encode()
            + b'">]><CTfile><Surname>&xxe;</Surname></CTfile>')
    assert b"TOP-SECRET" not in etree.tostring(etree.fromstring(data, ctf._parser()))
    try:
        etree.fromstring(http_entity_ctf(listener), ctf._parser())
    except etree.XMLSyntaxError:
        pass  # refusing is as good as not fetching; the listener checks nothing connected
    started = time.perf_counter()
    try:
        root = etree.fromstring(BILLION_LAUGHS, ctf._parser())
    except etree.XMLSyntaxError:
        pass  # recent libxml2 refuses to amplify entities at all
    else:
        assert len(etree.tostring(root)) < 10_000  # entities left unexpanded
    assert time.perf_counter() - started < 0.5


def test_a_ctf_in_utf_16_is_read_like_any_other():
    result = check(realistic(3).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    assert result.errors == [] and len(result.pupils) == 3


# --- header ------------------------------------------------------------------------------------

@pytest.mark.parametrize("version, sex_tag", [("24.0", "Gender"), ("25.0", "Sex"), ("26.0", "Sex"),
                                              ("25", "Gender"), ("24.0", "Sex"), ("26.1", "Gender")])
def test_versions_24_25_and_26_are_accepted_with_either_gender_or_sex(version, sex_tag):
    result = check(realistic(3, version=version, sex_tag=sex_tag))
    assert result.errors == [] and result.warnings == []
    assert [p.gender for p in result.pupils] == ["F", "M", "F"]


@pytest.mark.parametrize("version, shown", [("23.0", "'23.0'"), ("27.0", "'27.0'"), ("", "missing"),
                                            ("twenty-five", "'twenty-five'"), ("25.0.1", "'25.0.1'"),
                                            (None, "missing")])
def test_another_ctf_version_is_a_header_error_and_no_pupil_is_read(version, shown):
    result = check(ctf_xml([pupil(1, upn_="bad")], version=version))
    error = only(result.errors, "ctf-version")
    assert error.line() == (f"CTFversion must be 24, 25 or 26 but is {shown}. Please create the CTF "
                            "with an up-to-date MIS or download it again. Column: Header/CTFversion.")
    assert rules(result.errors) == ["ctf-version"]  # the pupil's bad UPN is not looked at
    assert result.pupils == []
    assert result.school == SCHOOL


@pytest.mark.parametrize("name, shown", [(None, "missing"), ("", "missing"),
                                         ("Admissions Transfer File", "'Admissions Transfer File'")])
def test_a_missing_or_unknown_document_name_is_a_header_error(name, shown):
    error = only(check(ctf_xml(document_name=name)).errors, "document-name")
    assert error.line() == (f"DocumentName must be 'Common Transfer File' but is {shown}. "
                            "Column: Header/DocumentName.")
    assert error.rows == []


def test_the_document_name_is_compared_ignoring_case_and_spaces():
    assert check(ctf_xml(document_name="  COMMON transfer file ")).valid


def test_a_file_without_a_header_is_one_error():
    result = check(ctf_xml(header=False))
    assert rules(result.errors) == ["header-missing"]
    assert result.school is None and result.pupils == []


@pytest.mark.parametrize("missing", ["SourceSchool", "DestSchool"])
def test_a_missing_source_or_destination_school_is_an_error(missing):
    result = check(ctf_xml(**{"source" if missing == "SourceSchool" else "dest": None}))
    error = only(result.errors, "school-missing")
    assert error.line() == f"{missing} must be given (LEA and Estab). Column: Header/{missing}."
    assert result.pupils == []


@pytest.mark.parametrize("dfe", ["1002001", "801200", "80120011", "ABC2001", "801ABCD", "9392001"])
def test_an_lea_and_estab_that_are_not_a_dfe_number_are_an_invalid_dfe_error(dfe):
    result = check(ctf_xml(dest=dfe))
    error = only(result.errors, "dfe-invalid")
    assert error.column == "Header/DestSchool"
    assert error.message.startswith("Invalid DFE detected: DestSchool LEA")
    assert result.school is None and result.pupils == []


def test_an_invalid_source_school_is_an_error_but_the_destination_is_still_the_school():
    result = check(ctf_xml(source="1002001"))
    assert only(result.errors, "dfe-invalid").column == "Header/SourceSchool"
    assert result.school == SCHOOL and result.pupils == []


def test_a_test_la_school_is_accepted():
    result = check(ctf_xml([pupil(1, upn_=make_upn("9992001", 22, 1))], source="9992001",
                           dest="9992001"))
    assert result.errors == [] and result.school == "9992001"


def test_a_ctf_from_another_school_for_a_new_pupil_is_accepted():
    result = check(ctf_xml(source="9362004"), ValidationContext(may_submit_for={SCHOOL}.__contains__))
    assert result.errors == [] and result.school == SCHOOL


# --- the destination school (seed: data for any other school is ignored) -----------------------

def test_a_file_for_another_destination_school_ignores_every_pupil_with_a_warning_and_an_error():
    asked = []
    context = ValidationContext(may_submit_for=lambda dfe: asked.append(dfe) or dfe == SCHOOL)
    result = check(ctf_xml([pupil(n) for n in range(1, 4)], dest=OTHER), context)
    warning = only(result.warnings, "other-destination")
    assert warning.line() == ("Data for another school is ignored: this file is addressed to school "
                              f"{OTHER} (DestSchool). Column: Header/DestSchool. Rows: 1, 2, 3")
    error = only(result.errors, "dest-other-school")
    assert error.line() == (f"The file is addressed to another school ({OTHER}), so nothing in it can "
                            f"be imported. Please create the CTF again with your own school ({SCHOOL}) "
                            "as the destination. Column: Header/DestSchool.")
    assert result.school is None and result.pupils == []
    assert OTHER in asked


def test_another_destination_from_a_stranger_asks_for_their_own_school_as_destination():
    context = ValidationContext(may_submit_for=lambda dfe: False)
    result = check(ctf_xml(dest=OTHER), context)
    assert only(result.errors, "dest-other-school").message.endswith(
        "Please create the CTF with your own school as the destination school.")


def test_pupils_addressed_to_another_school_are_not_validated():
    context = ValidationContext(may_submit_for={SCHOOL}.__contains__)
    result = check(ctf_xml([pupil(1, upn_="bad", surname=None)], dest=OTHER), context)
    assert rules(result.errors) == ["dest-other-school"]


@pytest.mark.parametrize("context", [None, ValidationContext(),
                                     ValidationContext(may_submit_for={SCHOOL}.__contains__)],
                         ids=["no-context", "no-permission-lookup", "permitted"])
def test_the_destination_is_the_school_when_the_sender_may_submit_for_it(context):
    result = check(ctf_xml(), context)
    assert result.errors == [] and result.school == SCHOOL


def test_a_trust_sender_may_send_a_file_for_any_of_its_schools():
    context = ValidationContext(may_submit_for={SCHOOL, OTHER}.__contains__)
    result = check(ctf_xml([pupil(1, upn_=upn(1, OTHER))], source=OTHER, dest=OTHER), context)
    assert result.errors == [] and result.school == OTHER


# --- pupils: UPN, names, sex, date of birth ----------------------------------------------------

def test_a_file_with_no_pupils_is_an_error():
    result = check(ctf_xml([]))
    error = only(result.errors, "no-pupils")
    assert error.column == "CTFpupilData" and error.rows == []
    assert result.school == SCHOOL


def test_badly_shaped_upns_are_one_line_listing_every_pupil_position():
    pupils = [pupil(n) for n in range(1, 8)]
    pupils[1] = pupil(2, upn_="P12345678912")
    pupils[6] = pupil(7, upn_="P1234567891234")
    assert lines(check(ctf_xml(pupils)).errors) == [f"{UPN_FORMAT_MESSAGE} Column: Pupil/UPN. Rows: 2, 7"]


def test_a_upn_with_the_wrong_check_letter_is_reported_as_such():
    error = only(check(ctf_xml([pupil(1, upn_="Q207000016049")])).errors, "upn-check-letter")
    assert error.line() == ("UPN check letter is not correct: please copy the UPN from your MIS. "
                            "Column: Pupil/UPN. Row: 1")


@pytest.mark.parametrize("value", [None, "", "   "], ids=["element-missing", "empty", "spaces"])
def test_a_missing_upn_is_reported_as_upn_must_have_a_value(value):
    error = only(check(ctf_xml([pupil(1), pupil(2, upn_=value)])).errors, "upn-missing")
    assert error.line() == "UPN must have a value. Column: Pupil/UPN. Row: 2"


def test_lower_case_and_temporary_upns_are_accepted():
    result = check(ctf_xml([pupil(1, upn_=upn(1).lower()), pupil(2, upn_="t20110001804v")]))
    assert result.errors == []
    assert [p.upn for p in result.pupils] == [upn(1), "T20110001804V"]


def test_a_upn_twice_in_the_file_is_a_duplicate_error_listing_both_positions():
    result = check(ctf_xml([pupil(1), pupil(2), pupil(1, upn_=upn(1).lower())]))
    error = only(result.errors, "upn-duplicate")
    assert error.line() == ("UPN appears more than once in the file; each pupil must appear once. "
                            "Column: Pupil/UPN. Rows: 1, 3")


@pytest.mark.parametrize("tag", ["Forename", "Surname"])
@pytest.mark.parametrize("value", [None, "", "  "], ids=["element-missing", "empty", "spaces"])
def test_a_missing_name_is_reported_at_its_element(tag, value):
    error = only(check(ctf_xml([pupil(1), pupil(2, **{tag.lower(): value})])).errors, "name-missing")
    assert error.line() == f"{tag} must have a value. Column: Pupil/{tag}. Row: 2"


@pytest.mark.parametrize("tag", ["Forename", "Surname"])
def test_a_name_longer_than_the_database_keeps_is_reported_at_its_element(tag):
    error = only(check(ctf_xml([pupil(1), pupil(2, **{tag.lower(): "N" * 101})])).errors,
                 "name-too-long")
    assert error.line() == f"{tag} must be at most 100 characters. Column: Pupil/{tag}. Row: 2"


@pytest.mark.parametrize("sex_tag", ["Sex", "Gender"])
@pytest.mark.parametrize("value", ["X", "U", "Male", "", "2"])
def test_a_sex_other_than_m_or_f_is_an_error_naming_the_element_the_file_uses(sex_tag, value):
    error = only(check(ctf_xml([pupil(1, sex=value, sex_tag=sex_tag)])).errors, "sex")
    assert error.line() == f"{sex_tag} must be M or F. Column: Pupil/{sex_tag}. Row: 1"


def test_a_pupil_with_neither_sex_nor_gender_is_an_error_asking_for_sex():
    error = only(check(ctf_xml([pupil(1, sex=None)])).errors, "sex")
    assert error.line() == "Sex must be M or F. Column: Pupil/Sex. Row: 1"


@pytest.mark.parametrize("dob", [None, "", "14/04/2016", "2016-02-30", "2016-4-14", "20160414",
                                 "2026-07-01", "2026-07-02", "yesterday"])
def test_a_dob_that_is_missing_not_yyyy_mm_dd_or_not_in_the_past_is_an_error(dob):
    error = only(check(ctf_xml([pupil(1, dob=dob)])).errors, "dob")
    assert error.line() == ("DOB must be a valid date in the past, written YYYY-MM-DD. "
                            "Column: Pupil/DOB. Row: 1")


def test_every_rule_broken_by_one_pupil_is_reported_at_its_position():
    bad = pupil(2, upn_="Q207000016049", forename=None, surname="", sex="X", dob="31/02/2016",
                assessments=[mtc("26")])
    result = check(ctf_xml([pupil(1), bad]))
    assert rules(result.errors) == ["upn-check-letter", "name-missing", "name-missing", "sex", "dob",
                                    "result-invalid"]
    assert all(e.rows == [2] for e in result.errors)
    assert result.pupils == []


# --- stage assessments: MTC and phonics --------------------------------------------------------

@pytest.mark.parametrize("value, expected", [("0", {"score": 0}), ("25", {"score": 25}),
                                             (" 17 ", {"score": 17})]
                         + [(code, {"code": code}) for code in
                            ["A", "B", "J", "L", "U", "Z", "X", "NAA", "Q", "H", "naa"]])
def test_an_mtc_result_from_0_to_25_or_a_domain_code_is_accepted(value, expected):
    result = check(ctf_xml([pupil(1, assessments=[mtc(value)])]))
    assert result.errors == [] and result.warnings == []
    expected = {key: v.upper() if isinstance(v, str) else v for key, v in expected.items()}
    assert result.pupils[0].results == {"mtc": {"year": 2026, **expected}}


@pytest.mark.parametrize("value", ["26", "-1", "23.5", "abc", "", None, "W", "100"])
def test_an_mtc_result_out_of_range_or_an_unknown_code_is_an_error_naming_the_element(value):
    result = check(ctf_xml([pupil(1), pupil(2, assessments=[mtc(value)])]))
    error = only(result.errors, "result-invalid")
    assert error.line() == f"{MTC_MESSAGE} Column: {MTC_PATH} Result. Row: 2"


@pytest.mark.parametrize("value, expected", [("0", {"mark": 0}), ("40", {"mark": 40}),
                                             ("32", {"mark": 32}), ("A", {"code": "A"}),
                                             ("D", {"code": "D"}), ("L", {"code": "L"}),
                                             ("Q", {"code": "Q"})])
def test_a_phonics_mark_from_0_to_40_or_code_a_d_l_or_q_is_accepted(value, expected):
    result = check(ctf_xml([pupil(1, assessments=[phonics(value)])]))
    assert result.errors == [] and result.warnings == []
    assert result.pupils[0].results == {"phonics": {"year": 2026, **expected}}


@pytest.mark.parametrize("value", ["41", "-1", "B", "WA", "", "3.5"])
def test_a_phonics_mark_out_of_range_or_an_unknown_code_is_an_error(value):
    error = only(check(ctf_xml([pupil(1, assessments=[phonics(value)])])).errors, "result-invalid")
    assert error.line() == f"{PHONICS_MESSAGE} Column: {PHONICS_PATH} Result. Row: 1"


def test_a_phonics_retake_in_year_2_replaces_the_year_1_mark_in_either_order():
    for order in ([phonics("28", year="2025"), phonics("34")], [phonics("34"), phonics("28", year="2025")]):
        result = check(ctf_xml([pupil(1, assessments=order)]))
        assert result.pupils[0].results == {"phonics": {"year": 2026, "mark": 34}}


@pytest.mark.parametrize("code", ["Q", "H"])
def test_mtc_code_q_or_h_overrides_a_score_in_either_order(code):
    for order in ([mtc("20"), mtc(code)], [mtc(code), mtc("20")]):
        result = check(ctf_xml([pupil(1, assessments=order)]))
        assert result.pupils[0].results == {"mtc": {"year": 2026, "code": code}}


def test_ks2_eyfs_and_mtc_results_land_in_their_own_parts():
    found = [mtc("19", year="2024"), ks2("REA", "ENG", "104"), ks2("MAT", "MAT", "NS"),
             ks2("GPS", "ENG", "111"), ks2("WRI", "ENG", "GDS", method="TA", qualifier="TL"),
             ks2("SCI", "SCI", "EXS", method="TA", qualifier="TL"),
             elg("E01", "COM", "2", year="2022"), elg("E11", "MAT", "1", year="2022")]
    result = check(ctf_xml([pupil(1, assessments=found)]))
    assert result.errors == [] and result.warnings == []
    assert result.pupils[0].results == {
        "mtc": {"year": 2024, "score": 19},
        "ks2": {"year": 2026, "reading_score": 104, "maths_code": "NS", "gps_score": 111,
                "ta_writing": "GDS", "ta_science": "EXS"},
        "eyfs": {"year": 2022, "E01": 2, "E11": 1},
    }


def test_an_invalid_result_under_an_unconfirmed_code_list_is_a_warning_and_not_imported():
    result = check(ctf_xml([pupil(1, assessments=[mtc(), ks2("REA", "ENG", "125")])]))
    assert result.errors == []
    warning = only(result.warnings, "result-invalid")
    assert warning.line() == (
        "KS2 test result must be a whole number from 80 to 120 or one of AS, NS, A, B, D, F, P, H, "
        "J, L, M, Q, U. It is not imported. Column: StageAssessment Stage=KS2 Subject=ENG "
        "Component=REA Method=TT ResultQualifier=SS Result. Row: 1")
    assert result.pupils[0].results == {"mtc": {"year": 2026, "score": 23}}


# --- unknown codes -----------------------------------------------------------------------------

def test_an_unknown_component_is_a_warning_naming_the_element_and_the_rest_is_imported():
    unknown = mtc(Component="XYZ")
    result = check(ctf_xml([pupil(1, assessments=[unknown, phonics()]),
                            pupil(2, assessments=[mtc(), unknown])]))
    assert result.errors == []
    warning = only(result.warnings, "code-unknown")
    assert warning.column.startswith("StageAssessment Stage=KS2 Subject=MAT Component=XYZ")
    assert warning.line() == ("These codes are not in the 2026 code list, so this result is not "
                              "imported. Column: StageAssessment Stage=KS2 Subject=MAT Component=XYZ "
                              "Method=TT ResultQualifier=MT. Rows: 1, 2")
    assert [p.results for p in result.pupils] == [{"phonics": {"year": 2026, "mark": 35}},
                                                  {"mtc": {"year": 2026, "score": 23}}]


@pytest.mark.parametrize("change", [{"Subject": "ENG"}, {"Method": "TA"}, {"ResultQualifier": "SS"},
                                    {"Locale": "WAL"}, {"ResultStatus": "X"}])
def test_any_code_that_differs_from_the_code_list_makes_the_mtc_result_unknown(change):
    result = check(ctf_xml([pupil(1, assessments=[mtc(**change)])]))
    assert rules(result.warnings) == ["code-unknown", "no-results"]
    assert result.pupils[0].results == {}


def test_a_missing_locale_or_result_status_still_matches_the_code_list():
    result = check(ctf_xml([pupil(1, assessments=[mtc(Locale=None, ResultStatus=None)])]))
    assert result.warnings == [] and result.pupils[0].results["mtc"]["score"] == 23


def test_codes_are_compared_ignoring_case():
    result = check(ctf_xml([pupil(1, assessments=[mtc(Subject="mat", Component="mtc", Method="tt",
                                                      ResultQualifier="mt", Stage="ks2")])]))
    assert result.warnings == [] and result.pupils[0].results["mtc"]["score"] == 23


def test_a_year_without_a_code_list_is_a_warning_naming_the_stage_and_year():
    found = [mtc(), elg("E01", "COM", year="2019"), elg("E02", "COM", year="2019")]
    result = check(ctf_xml([pupil(1, assessments=found), pupil(2, assessments=found)]))
    warning = only(result.warnings, "code-list-missing")
    assert warning.line() == ("There is no code list for year 2019, so these results are not imported. "
                              "Column: StageAssessment Stage=FSP Year=2019. Rows: 1, 2")


def test_a_missing_year_is_a_warning_too():
    result = check(ctf_xml([pupil(1, assessments=[mtc(), mtc(year=None)])]))
    assert only(result.warnings, "code-list-missing").message.startswith(
        "There is no code list for a missing Year")


def test_an_unknown_stage_is_a_warning_and_ks4_is_skipped_silently():
    found = [mtc(), {**mtc(), "Stage": "KS9"}, {**mtc(), "Stage": "KS4"}]
    result = check(ctf_xml([pupil(1, assessments=found)]))
    warning = only(result.warnings, "stage-unknown")
    assert warning.column == "KeyStage Stage=KS9" and warning.rows == [1]
    assert rules(result.warnings) == ["stage-unknown"]


def test_a_pupil_with_no_results_in_the_chosen_parts_is_a_warning_and_still_a_pupil():
    result = check(ctf_xml([pupil(1), pupil(2, assessments=[]), pupil(3, assessments=[phonics()])]),
                   parts=frozenset({"mtc"}))
    warning = only(result.warnings, "no-results")
    assert warning.line() == ("No results to import for this pupil in the parts chosen (Multiplication "
                              "tables check); the pupil will not be counted in reports. "
                              "Column: Pupil/StageAssessments. Rows: 2, 3")
    assert len(result.pupils) == 3


# --- the parts a school chooses ----------------------------------------------------------------

def test_parts_not_chosen_are_skipped_without_errors_or_warnings():
    found = [mtc("26"), phonics("35"), ks2("REA", "ENG", "104"), {**phonics(), "Component": "ZZZ"}]
    result = check(ctf_xml([pupil(1, assessments=found)]), parts=frozenset({"phonics"}))
    assert result.pupils and result.pupils[0].results == {"phonics": {"year": 2026, "mark": 35}}
    assert result.errors == []  # the invalid MTC result is not looked at
    assert rules(result.warnings) == ["code-unknown"]  # phonics is chosen, so KS1 codes are checked


def test_unknown_codes_under_a_stage_whose_parts_are_all_unchosen_are_skipped_silently():
    found = [mtc(), {**phonics(), "Component": "ZZZ"}, elg("E99", "COM")]
    result = check(ctf_xml([pupil(1, assessments=found)]), parts=frozenset({"mtc"}))
    assert result.errors == [] and result.warnings == []
    assert result.pupils[0].results == {"mtc": {"year": 2026, "score": 23}}


def test_by_default_every_part_is_imported():
    found = [mtc(), phonics(), ks2("REA", "ENG", "104"), elg("E01", "COM")]
    result = check(ctf_xml([pupil(1, assessments=found)]))
    assert set(result.pupils[0].results) == {"mtc", "phonics", "ks2", "eyfs"}


def test_choosing_only_mtc_and_phonics_keeps_only_those_parts():
    found = [mtc(), phonics(), ks2("REA", "ENG", "104"), elg("E01", "COM")]
    result = check(ctf_xml([pupil(1, assessments=found)]), parts=frozenset({"mtc", "phonics"}))
    assert set(result.pupils[0].results) == {"mtc", "phonics"}


def test_an_unknown_part_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown CTF parts"):
        check(ctf_xml(), parts=frozenset({"mtc", "ks3"}))


# --- the file-name convention (a warning only) -------------------------------------------------

@pytest.mark.parametrize("name", ["8012001_CTF_8012001_001.XML", "8012001_ctf_8012001_042.xml",
                                  "C:\\Users\\office\\Downloads\\8012001_CTF_8012001_001.XML",
                                  "drop/data@acorn.sch.example/8012001_CTF_8012001_001.XML"])
def test_a_file_name_that_follows_the_convention_gets_no_warning(name):
    result = check(ctf_xml(), file_name=name)
    assert result.warnings == [] and result.valid


@pytest.mark.parametrize("name", ["results.xml", "8012001_CTF_8012001.XML", "8012001_CTF_8012001_1.XML",
                                  "801200_CTF_8012001_001.XML", "8012001_CTF_8012001_001.XML.txt",
                                  "8012001_FSP_8012001_001.XML"])
def test_a_file_name_that_breaks_the_convention_is_a_warning_and_the_file_is_still_read(name):
    result = check(ctf_xml(), file_name=name)
    warning = only(result.warnings, "file-name")
    assert warning.message.startswith(f"The file name '{name}' does not follow the CTF convention "
                                      "LLLEEEE_CTF_LLLEEEE_NNN.XML")
    assert warning.column is None and warning.rows == []
    assert result.valid and len(result.pupils) == 1


def test_a_file_name_for_other_schools_than_the_header_is_a_warning():
    result = check(ctf_xml(), file_name="9362004_CTF_8012002_003.XML")
    warning = only(result.warnings, "file-name")
    assert warning.line() == ("The file name '9362004_CTF_8012002_003.XML' says the file is from "
                              "9362004 to 8012002, but its header says from 8012001 to 8012001.")
    assert result.valid


def test_without_a_file_name_the_convention_is_not_checked():
    assert check(ctf_xml()).warnings == []


# --- the school's roster -----------------------------------------------------------------------

def test_a_pupil_not_on_the_roster_is_warned_about_and_still_processed():
    roster = {upn(1), upn(3)}
    result = check(ctf_xml([pupil(1), pupil(2), pupil(3)]),
                   ValidationContext(roster_for=lambda dfe: roster))
    assert result.errors == []
    warning = only(result.warnings, "pupil-not-on-roster")
    assert warning.line() == ("Pupil is not on the school's roster; their results are imported "
                              "anyway. Column: Pupil/UPN. Row: 2")
    assert [p.upn for p in result.pupils] == [upn(1), upn(2), upn(3)]


def test_the_roster_is_asked_for_the_destination_school():
    asked = []
    check(ctf_xml(), ValidationContext(roster_for=lambda dfe: asked.append(dfe) or {upn(1)}))
    assert asked == [SCHOOL]


@pytest.mark.parametrize("context", [None, ValidationContext(),
                                     ValidationContext(roster_for=lambda dfe: None)],
                         ids=["no-context", "no-roster-lookup", "no-roster-held"])
def test_without_a_roster_there_are_no_roster_warnings(context):
    result = check(ctf_xml([pupil(1), pupil(9)]), context)
    assert result.errors == [] and result.warnings == [] and len(result.pupils) == 2


# --- configuration -----------------------------------------------------------------------------

def test_the_confirmed_mtc_row_is_in_the_code_list_for_2026():
    rows = ctf.code_lists()[2026][("KS2", "MAT", "TT", "MTC", "MT")]
    assert [(r.locale, r.status, r.part, r.measure, r.code_measure, r.result) for r in rows] == [
        ("ENG", "R", "mtc", "score", "code", "mtc")]


def test_every_code_list_row_names_a_known_part_and_result_kind_and_every_part_is_covered():
    config = ctf.ctf_config()
    assert set(config["parts"]) == set(ctf.PARTS)
    assert {row["part"] for row in config["assessment"]} == set(ctf.PARTS)
    assert all(row["result"] in config["results"] for row in config["assessment"])
    assert config["versions"] == [24, 25, 26]
    assert set(config["results"]["mtc"]["codes"]) == {"A", "B", "J", "L", "U", "Z", "X", "NAA", "Q", "H"}
    assert config["results"]["phonics"]["codes"] == ["A", "D", "L", "Q"]


def test_the_guessed_codes_are_marked_unconfirmed_in_the_config_file():
    from config.settings import PACKAGE_DIR
    text = (PACKAGE_DIR / "ctf.toml").read_text(encoding="utf-8")
    assert text.count("# unconfirmed") >= 20
