"""Detect and validate one file, as the dry run and the pipeline do (workers/check.py)."""
from datetime import date, datetime, timezone

from config.collections import parse_collections
from intake.demo_world import collections_toml, make_upn
from reports.templates import ks1_workbook
from config.settings import Limits
from workers.check import check_file

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
COLLECTIONS = parse_collections(collections_toml(NOW))


LIMITS = Limits(max_rows=1000)


def a_file(dob=date(2018, 10, 1)) -> bytes:
    return ks1_workbook([["8012001", make_upn("8012001", 22, 1), "Amara", "Ahmed", "Female", dob, 2,
                          "EXS", "EXS", "EXS", "EXS", 100, 100, 100]])


def test_a_valid_ks1_file_is_placed_in_the_open_collection_and_validated():
    checked = check_file(a_file(), collections=COLLECTIONS, when=NOW, limits=LIMITS)
    assert checked.readable and checked.reason is None
    assert checked.format == "ks1-template"
    assert checked.collection.key == "ks1-demo"
    assert checked.as_json() == {"format": "ks1-template", "collection": "ks1-demo", "school": "8012001",
                                 "status": "valid", "pupils": 1, "errors": [], "warnings": []}


def test_the_date_of_birth_is_judged_against_the_day_the_file_was_received():
    checked = check_file(a_file(dob=date(2026, 7, 2)), collections=COLLECTIONS, when=NOW, limits=LIMITS)
    assert [e.rule for e in checked.result.errors] == ["dob"]


def test_an_unreadable_file_is_invalid_with_its_reason_as_the_only_error():
    checked = check_file(b"%PDF-1.4", collections=COLLECTIONS, when=NOW, limits=LIMITS)
    assert not checked.readable
    body = checked.as_json()
    assert set(body) == {"format", "collection", "school", "status", "pupils", "reason", "errors",
                         "warnings"}
    assert body["status"] == "invalid" and body["pupils"] == 0 and body["format"] is None
    assert body["errors"] == [{"rule": "unreadable", "message": checked.reason, "column": None, "rows": []}]
    assert "PDF" in checked.reason


def test_naming_an_unknown_collection_lists_the_known_ones():
    checked = check_file(a_file(), collections=COLLECTIONS, when=NOW, limits=LIMITS,
                         collection_key="ks1-1999")
    assert not checked.readable
    assert checked.reason == "There is no collection 'ks1-1999'. Known collections: ks1-demo."


def test_naming_a_collection_of_another_format_says_which_format_it_expects():
    collections = parse_collections(collections_toml(NOW, key="ks2-demo").replace(
        'format = "ks1-template"', 'format = "ks2-csv"'))
    checked = check_file(a_file(), collections=collections, when=NOW, limits=LIMITS,
                         collection_key="ks2-demo")
    assert not checked.readable
    assert checked.reason == ("This file is a ks1-template file, but KS1 results (demo) expects "
                              "ks2-csv files.")
