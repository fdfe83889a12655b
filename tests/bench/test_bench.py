"""The benchmarks run at a tiny size, to prove each works; their figures come from `make bench`."""
from __future__ import annotations

import json

import pytest

from tests.bench import closing, validation, world
from tests.bench.__main__ import main
from tests.bench.figures import Measured, percentile, table, write_json


def test_percentiles_are_real_samples_by_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 21)]
    assert percentile(samples, 50) == 10.0
    assert percentile(samples, 95) == 19.0
    assert percentile([3.0], 95) == 3.0


def test_the_synthetic_world_is_the_same_for_the_same_seed_and_its_dfe_numbers_are_distinct() -> None:
    first, again = world.schools(300), world.schools(300)
    assert first == again
    assert len({s.dfe for s in first}) == 300
    assert world.pupils(first[0], 5, 6) == world.pupils(again[0], 5, 6)
    assert {s.trust for s in first[:8]} == {"TR00000"} and {s.trust for s in first[8:16]} == {""}


def test_the_validation_bench_checks_each_format_beside_its_read_floor() -> None:
    measured = validation.run(repeats=2, primary_pupils=12, secondary_pupils=12, say=lambda _: None)
    assert [m.name for m in measured] == ["KS4 GCSE template (12 pupils)", "KS1 template (12 pupils)",
                                          "KS2 CSV, every portal column (12 pupils)",
                                          "KS2 CSV, every cell quoted (12 pupils)"]
    for m in measured:
        assert m.value > 0 and m.floor > 0
        assert m.met == (m.ratio <= validation.TARGET)
        assert m.detail["pupils"] == 12          # every pupil of the file was accepted


def test_the_results_are_written_as_json_and_shown_as_a_table(tmp_path) -> None:
    rows = [Measured("close", "wall time", 12.5, "s", 5.0, "< 300 s", True, {"schools": 3})]
    path = write_json(rows, tmp_path, {"schools": "3"})
    document = json.loads(path.read_text())
    assert document["figures"][0]["ratio"] == 2.5 and document["options"] == {"schools": "3"}
    assert (tmp_path / "latest.json").read_text() == path.read_text()
    assert "2.5x" in table(rows) and "yes" in table(rows)


def test_an_unknown_section_is_refused_with_the_list_of_sections(capsys) -> None:
    assert main(["--only", "validation,speed"]) == 2
    assert "Unknown section(s): speed. Sections: validation, pipeline, close, email." in \
        capsys.readouterr().err


def test_the_bench_explains_every_option(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    for option in ("--only", "--schools", "--pupils", "--burst", "--ks4-burst", "--emails",
                   "--workers", "--repeats", "--out", "--schools 16000"):
        assert option in shown


@pytest.mark.services
def test_the_close_bench_makes_mails_and_counts_every_report_on_the_real_stack(tmp_path) -> None:
    from tests.conftest import service_url
    service_url("ERS_TEST_PG_URL")
    service_url("ERS_TEST_AMQP_URL")
    said: list[str] = []
    measured = closing.close(10, per_school=6, workers=1, data_root=tmp_path, say=said.append)
    wall, pdfs, worker_memory, claim_memory = measured
    detail = wall.detail
    assert detail["reports"] == 11                   # 10 schools and the one trust among them
    assert detail["pdfs"] == 2 * 10 + 1              # two per school and the trust summary
    assert detail["bundles"] == 1
    assert detail["emails"] == {"reports": 10, "trust-reports": 1}
    assert wall.value > 0 and wall.floor > 0 and pdfs.value == 21 / wall.value
    assert worker_memory.value > 0 and claim_memory.value > 0
    assert any("claimed" in line for line in said)
