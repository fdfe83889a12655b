"""The ers commands an operator runs, end to end on the embedded defaults."""
from __future__ import annotations

import json


from conftest import ACORN, contact_of
from helpers import invalid_ks1, valid_ks1
from intake.cli import main


def history_json(capsys, *args) -> list[dict]:
    capsys.readouterr()
    assert main(["history", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_an_operator_loads_the_world_submits_reads_the_history_and_deletes(env, capsys):
    assert main(["init"]) == 0
    assert main(["registry", "import", str(env / "gias.csv")]) == 0
    assert main(["contacts", "import", str(env / "contacts.csv")]) == 0
    assert main(["roster", "import", str(env / "roster.csv")]) == 0
    assert "Pupils: 120 added" in capsys.readouterr().out

    (env / "bad.xlsx").write_bytes(invalid_ks1(ACORN))
    (env / "good.xlsx").write_bytes(valid_ks1(ACORN))
    (env / "better.xlsx").write_bytes(valid_ks1(ACORN, change=1))
    for name in ("bad.xlsx", "good.xlsx", "better.xlsx"):
        assert main(["submit", str(env / name), "--as", contact_of(ACORN)]) == 0
    assert "Successful, 24 pupils" in capsys.readouterr().out

    rows = history_json(capsys, "--school", ACORN)
    assert [(r["file"], r["status"], r["current"]) for r in rows] == [
        ("better.xlsx", "Successful", True), ("good.xlsx", "Overwritten", False),
        ("bad.xlsx", "Upload error", False)]
    assert [r["file"] for r in history_json(capsys, "--school", ACORN, "--hide")] == ["better.xlsx"]

    assert main(["delete", str(rows[0]["upload"]), "--as", "someone@else.example"]) == 1
    assert main(["delete", str(rows[0]["upload"]), "--as", contact_of(ACORN)]) == 0
    after = history_json(capsys, "--school", ACORN)
    assert [(r["status"], r["current"]) for r in after] == [
        ("Deleted", False), ("Successful", True), ("Upload error", False)]
    eml = list((env / "var" / "outbox").glob("*.eml"))
    assert len(eml) == 7  # 3 receipts, 3 results, 1 deletion notice


def test_a_stranger_cannot_submit(env, capsys):
    main(["registry", "import", str(env / "gias.csv")])
    (env / "good.xlsx").write_bytes(valid_ks1(ACORN))
    assert main(["submit", str(env / "good.xlsx"), "--as", "stranger@example.org"]) == 1
    assert "not a registered contact" in capsys.readouterr().err


def test_the_demo_runs_and_shows_every_status(tmp_path, capsys):
    assert main(["demo", "--dir", str(tmp_path / "demo"), "--reports", str(tmp_path / "reports")]) == 0
    out = capsys.readouterr().out
    for status in ("Successful", "Overwritten", "Upload error", "Deleted"):
        assert status in out
    assert "1 refused" in out
    assert "'TEMPLATE ks1-demo' -> command" in out and "-> quarantined" in out
    outbox = tmp_path / "demo" / "outbox"
    assert len(list(outbox.glob("*.eml"))) >= 14
    replies = [p.read_bytes() for p in outbox.glob("*-reply.eml")]
    assert len(replies) == 2 and any(b"8012002_ks1-template_ks1-demo.xlsx" in r for r in replies)
    # Window 1 of KS1, KS2 and KS4 closed: two PDFs per school with a current upload (KS1: 5,
    # KS2: 2, KS4: 1), and a trust summary and zip for each collection the trust takes part in.
    reports = tmp_path / "reports"
    assert len(list(reports.rglob("*pupils.pdf"))) == 8
    assert len(list(reports.rglob("*trust-summary.pdf"))) == 3 == len(list(reports.rglob("*.zip")))
    kinds = [p.name.split("-", 1)[1] for p in outbox.glob("*.eml")]
    assert (kinds.count("reports.eml"), kinds.count("trust-reports.eml")) == (8, 3)
    assert "19 report PDFs and 3 trust bundle(s)" in out


def test_a_prefilled_template_lists_the_schools_year_2_pupils_and_validates_once_filled(env, capsys):
    import openpyxl
    from workers.validators import ks1
    from workers.validators.workbook import first_sheet_rows
    for name in ("gias.csv", "contacts.csv", "roster.csv"):
        kind = {"gias.csv": "registry", "contacts.csv": "contacts", "roster.csv": "roster"}[name]
        assert main([kind, "import", str(env / name)]) == 0
    out = env / "template.xlsx"
    assert main(["template", "--collection", "ks1-demo", "--school", ACORN, "-o", str(out)]) == 0
    assert "24 pupils of Acorn Primary School" in capsys.readouterr().out
    workbook = openpyxl.load_workbook(out)
    sheet = workbook.worksheets[0]
    for row in range(2, 26):
        for column, value in zip("HIJKL", ["EXS", "WTS", "GDS", "EXS", 101]):
            sheet[f"{column}{row}"] = value
    workbook.save(out)
    result = ks1.validate(first_sheet_rows(out.read_bytes(), 1000))
    assert result.valid and len(result.pupils) == 24


def test_template_explains_collections_without_a_template_and_unknown_schools(env, capsys):
    main(["init"])
    assert main(["template", "--collection", "ks2-demo", "-o", str(env / "x.xlsx")]) == 2
    assert "DfE portal" in capsys.readouterr().err
    assert main(["template", "--collection", "ks1-demo", "--school", "8019999",
                 "-o", str(env / "x.xlsx")]) == 2
    assert "not in the registry" in capsys.readouterr().err
    assert main(["template", "--collection", "ks4-demo", "--format", "ks4-non-gcse",
                 "-o", str(env / "blank.xlsx")]) == 0
    assert "blank template" in capsys.readouterr().out


def test_a_school_chooses_which_ctf_parts_it_imports(env, capsys):
    assert main(["registry", "import", str(env / "gias.csv")]) == 0
    assert main(["ctf-parts", ACORN]) == 0
    assert "eyfs, phonics, mtc, ks1, ks2" in capsys.readouterr().out
    assert main(["ctf-parts", ACORN, "--set", "MTC, phonics"]) == 0
    assert "imports these CTF parts: phonics, mtc." in capsys.readouterr().out
    assert main(["ctf-parts", ACORN, "--set", "spelling"]) == 2
    assert "Choose parts from" in capsys.readouterr().err
    assert main(["ctf-parts", ACORN, "--set", "all"]) == 0
    assert "eyfs, phonics, mtc, ks1, ks2" in capsys.readouterr().out


def test_an_operator_closes_a_window_lists_the_reports_and_regenerates_after_a_deletion(
        env, capsys, monkeypatch):
    import io
    for kind, name in (("registry", "gias.csv"), ("contacts", "contacts.csv"), ("roster", "roster.csv")):
        assert main([kind, "import", str(env / name)]) == 0
    (env / "first.xlsx").write_bytes(valid_ks1(ACORN))
    (env / "second.xlsx").write_bytes(valid_ks1(ACORN, change=2))
    for name in ("first.xlsx", "second.xlsx"):
        assert main(["submit", str(env / name), "--as", contact_of(ACORN)]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("pa55word\n"))
    assert main(["report-password", ACORN]) == 0
    capsys.readouterr()

    assert main(["close-window", "ks1-demo", "1"]) == 0
    out = capsys.readouterr().out
    assert "ks1-demo window 1: claimed; 1 school(s) with 24 pupil(s)" in out
    assert "reports: 2 released" in out  # Acorn's, and the trust's bundle
    assert "ks1-demo-window-1-8012001-summary.pdf" in out and "bundle.zip" in out
    assert main(["close-window", "ks1-demo", "1"]) == 2
    assert "already closed" in capsys.readouterr().err

    second = history_json(capsys, "--school", ACORN)[0]["upload"]
    assert main(["delete", str(second), "--as", contact_of(ACORN)]) == 0
    assert main(["reports", "list", "--collection", "ks1-demo"]) == 0
    assert "withdrawn" in capsys.readouterr().out
    assert main(["reports", "regenerate", "ks1-demo", "1", "--school", ACORN]) == 0
    out = capsys.readouterr().out
    assert f"from upload(s) #{second - 1}" in out and "released" in out
    assert main(["reports", "regenerate", "ks1-demo", "2", "--school", ACORN]) == 2
    assert "has not closed yet" in capsys.readouterr().err


def test_closing_a_window_lists_its_first_reports_and_says_how_to_list_every_one(
        env, capsys, monkeypatch):
    monkeypatch.setattr("intake.cli.REPORTS_SHOWN", 1)
    for kind, name in (("registry", "gias.csv"), ("contacts", "contacts.csv"), ("roster", "roster.csv")):
        assert main([kind, "import", str(env / name)]) == 0
    (env / "acorn.xlsx").write_bytes(valid_ks1(ACORN))
    assert main(["submit", str(env / "acorn.xlsx"), "--as", contact_of(ACORN)]) == 0
    capsys.readouterr()
    assert main(["close-window", "ks1-demo", "1"]) == 0
    out = capsys.readouterr().out
    assert "bundle.zip" in out and "8012001-summary.pdf" not in out  # the trust bundle comes first
    assert "... and more: `ers reports list --collection ks1-demo --window 1` lists every one." in out
    assert main(["reports", "list", "--collection", "ks1-demo", "--window", "1"]) == 0
    out = capsys.readouterr().out
    assert "bundle.zip" in out and "ks1-demo-window-1-8012001-summary.pdf" in out

