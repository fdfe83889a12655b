"""Findings grouped as the seeds show them (workers/validators/findings.py)."""
from workers.validators.findings import ColumnFindings, Finding, Findings

SCORE = "Range must be between 85 to 115 and be whole numbers. Allows empty field."


def test_a_finding_on_one_row_is_written_with_the_seed_wording_and_a_singular_row():
    finding = Finding("scaled-score", SCORE, "Scaled Score: KS1 GPS", [4])
    assert finding.line() == ("Range must be between 85 to 115 and be whole numbers. Allows empty field. "
                              "Column: Scaled Score: KS1 GPS. Row: 4")


def test_a_finding_on_several_rows_says_rows_and_lists_them_comma_separated():
    finding = Finding("dfe-invalid", "Invalid DFE detected.", "School DFE", [6, 14])
    assert finding.line() == "Invalid DFE detected. Column: School DFE. Rows: 6, 14"


def test_a_finding_with_no_column_and_no_rows_is_just_its_message():
    assert Finding("no-pupils", "The file has no pupil rows.", None).line() == "The file has no pupil rows."


def test_a_finding_with_rows_but_no_column_omits_the_column_part():
    assert Finding("header", "Bad header.", None, [1]).line() == "Bad header. Row: 1"


def test_a_finding_as_a_dict_carries_rule_message_column_and_rows():
    finding = Finding("name-missing", "Surname must have a value.", "Surname", [10])
    assert finding.as_dict() == {"rule": "name-missing", "message": "Surname must have a value.",
                                 "column": "Surname", "rows": [10]}


def test_the_same_rule_column_and_message_on_several_rows_is_one_line_with_rows_sorted():
    findings = Findings()
    findings.add("upn-format", "UPN bad.", "UPN", 14)
    findings.add("upn-format", "UPN bad.", "UPN", 6)
    findings.add("upn-format", "UPN bad.", "UPN", 9)
    [finding] = findings.grouped()
    assert finding.rows == [6, 9, 14]
    assert finding.line() == "UPN bad. Column: UPN. Rows: 6, 9, 14"


def test_a_row_reported_twice_for_the_same_finding_is_listed_once():
    findings = Findings()
    findings.add("dfe-invalid", "Invalid DFE detected.", "School DFE", 7)
    findings.add("dfe-invalid", "Invalid DFE detected.", "School DFE", 7)
    assert findings.grouped()[0].rows == [7]


def test_the_same_rule_in_another_column_is_a_separate_line():
    findings = Findings()
    findings.add("scaled-score", SCORE, "Scaled Score: KS1 Reading", 3)
    findings.add("scaled-score", SCORE, "Scaled Score: KS1 GPS", 3)
    assert [f.column for f in findings.grouped()] == ["Scaled Score: KS1 Reading", "Scaled Score: KS1 GPS"]


def test_the_same_rule_and_column_with_another_message_is_a_separate_line():
    findings = Findings()
    findings.add("name-missing", "Forename must have a value.", "UPN", 2)
    findings.add("name-missing", "Surname must have a value.", "UPN", 2)
    assert len(findings.grouped()) == 2


def test_another_rule_with_the_same_column_and_message_is_a_separate_line():
    findings = Findings()
    findings.add("a", "Same.", "UPN", 2)
    findings.add("b", "Same.", "UPN", 2)
    assert [f.rule for f in findings.grouped()] == ["a", "b"]


def test_lines_come_out_in_the_order_their_rules_were_first_seen():
    findings = Findings()
    findings.add("gender", "Gender bad.", "Gender", 5)
    findings.add("dfe-invalid", "Invalid DFE detected.", "School DFE", 2)
    findings.add("gender", "Gender bad.", "Gender", 3)
    assert [f.rule for f in findings.grouped()] == ["gender", "dfe-invalid"]


def test_a_finding_added_without_a_row_has_no_rows():
    findings = Findings()
    findings.add("pupils-missing", "2 pupil(s) missing.")
    [finding] = findings.grouped()
    assert finding.rows == [] and finding.column is None
    assert finding.line() == "2 pupil(s) missing."


def test_findings_are_falsy_until_something_is_added():
    findings = Findings()
    assert not findings
    findings.add("x", "y")
    assert findings


def test_findings_made_column_by_column_are_handed_over_in_row_order():
    found = ColumnFindings()
    found.add("ta-code", "Bad TA.", "TA", 9)
    found.next_check()
    found.add("upn-format", "UPN bad.", "UPN", 7)
    found.add("upn-format", "UPN bad.", "UPN", 3)
    found.next_check()
    found.add("scaled-score", "Bad score.", "Score", 3)
    findings = Findings()
    found.hand_to(findings)
    assert [(f.rule, f.rows) for f in findings.grouped()] == [
        ("upn-format", [3, 7]), ("scaled-score", [3]), ("ta-code", [9])]


def test_findings_made_on_the_same_row_by_one_check_keep_the_order_they_were_made_in():
    found = ColumnFindings()
    found.add("b", "B.", "X", 2)
    found.add("a", "A.", "X", 2)
    findings = Findings()
    found.hand_to(findings)
    assert [f.rule for f in findings.grouped()] == ["b", "a"]
