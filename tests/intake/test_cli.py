"""The ers command line: help everywhere, and the validate --json contract."""
from __future__ import annotations

import json

import pytest

from conftest import ACORN
from helpers import invalid_ks1, valid_ctf, valid_ks1, valid_ks2, valid_ks4
from intake.cli import build_parser, main

COMMANDS = [[], ["init"], ["registry", "import"], ["contacts", "import"], ["roster", "import"],
            ["submit"], ["validate"], ["history"], ["delete"], ["confirm"], ["worker"],
            ["template"], ["ctf-parts"], ["intake", "folder"], ["intake", "email"], ["intake", "sftp"], ["intake", "mis"], ["status"],
            ["partners", "import"],
            ["quarantine", "list"], ["quarantine", "release"], ["outbox", "list"],
            ["outbox", "retry"], ["outbox", "send"], ["demo"], ["scheduler"], ["close-window"],
            ["reports", "list"], ["reports", "regenerate"], ["report-password"],
            ["failures", "list"], ["failures", "retry"], ["audit", "seal"], ["audit", "verify"],
            ["audit", "show"], ["doctor"], ["metrics"], ["retention", "run"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ers")
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(command + ["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: ers" in out and "ERS_DATABASE_URL" in out


def run_validate(tmp_path, capsys, data: bytes, *extra) -> tuple[int, dict]:
    path = tmp_path / "file.xlsx"
    path.write_bytes(data)
    code = main(["validate", str(path), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_validate_json_exits_0_for_a_valid_file_and_needs_no_database(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ERS_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    code, result = run_validate(tmp_path, capsys, valid_ks1(ACORN))
    assert code == 0
    assert set(result) == {"format", "collection", "school", "status", "pupils", "errors", "warnings"}
    assert (result["format"], result["school"], result["status"], result["pupils"]) == \
        ("ks1-template", ACORN, "valid", 24)
    assert result["collection"].startswith("ks1-")


def test_validate_json_exits_1_with_grouped_errors_for_an_invalid_file(tmp_path, capsys):
    code, result = run_validate(tmp_path, capsys, invalid_ks1(ACORN))
    assert code == 1 and result["status"] == "invalid"
    assert {"rule": "name-missing", "message": "Surname must have a value.", "column": "Surname",
            "rows": [4]} in result["errors"]


def test_validate_json_exits_2_with_a_reason_for_an_unknown_format(tmp_path, capsys):
    code, result = run_validate(tmp_path, capsys, b"just some text")
    assert code == 2 and result["status"] == "invalid" and "not recognised" in result["reason"]


def test_validate_json_exits_2_for_a_missing_file(tmp_path, capsys):
    code = main(["validate", str(tmp_path / "nope.xlsx"), "--json"])
    assert code == 2 and "could not be read" in json.loads(capsys.readouterr().out)["reason"]


def test_validate_rejects_a_collection_of_another_format(tmp_path, capsys):
    code, result = run_validate(tmp_path, capsys, valid_ks1(ACORN), "--collection", "nope")
    assert code == 2 and "no collection 'nope'" in result["reason"]


@pytest.mark.parametrize("name, build, fmt", [
    (f"{ACORN}_KS2.csv", lambda: valid_ks2(ACORN), "ks2-csv"),
    ("gcse.xlsx", lambda: valid_ks4(ACORN, "ks4-gcse"), "ks4-gcse"),
    ("other.xlsx", lambda: valid_ks4(ACORN, "ks4-non-gcse"), "ks4-non-gcse"),
    ("mis-export.xml", lambda: valid_ctf(ACORN), "ctf-xml"),
], ids=["ks2", "ks4-gcse", "ks4-non-gcse", "ctf"])
def test_validate_json_keeps_one_contract_for_every_format(tmp_path, capsys, name, build, fmt):
    path = tmp_path / name
    path.write_bytes(build())
    assert main(["validate", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"format", "collection", "school", "status", "pupils", "errors", "warnings"}
    assert (result["format"], result["school"], result["status"], result["pupils"]) == (fmt, ACORN, "valid", 24)
