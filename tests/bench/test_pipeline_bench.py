"""The end-to-end pipeline section at a tiny size: proves it runs on the real stack and checks what
it claims (every upload answered exactly once); the figures themselves come from `make bench`."""
from __future__ import annotations

import pytest

from conftest import service_url
from tests.bench import pipeline

pytestmark = pytest.mark.services


@pytest.fixture
def services() -> None:
    for name in ("ERS_TEST_PG_URL", "ERS_TEST_AMQP_URL"):
        service_url(name)


def test_a_burst_plan_sends_each_schools_correction_after_its_first_file():
    every, bursts = pipeline.bursts(30, 11)
    mixed, ks4 = bursts
    for burst in bursts:
        position = {(p.kind, p.school.dfe, p.change): i for i, p in enumerate(burst.files)}
        corrected = [key for key in position if key[2] == 1]
        assert corrected, "every burst has at least one corrected file"
        assert all(position[(kind, dfe, 0)] < i for (kind, dfe, _), i in
                   ((key, position[key]) for key in corrected))
    assert len(mixed.files) == 30 and {p.kind for p in mixed.files} == {"ks1", "ks2", "ks4"}
    assert len(ks4.files) == 11 and {p.kind for p in ks4.files} == {"ks4"}
    # Every file is a real school's, and the two bursts' secondary schools differ.
    assert {p.school for b in bursts for p in b.files} <= set(every)
    assert not {p.school for p in mixed.files if p.kind == "ks4"} & {p.school for p in ks4.files}


def test_the_pipeline_bench_answers_every_upload_exactly_once_and_reports_its_figures(services):
    said: list[str] = []
    measured = pipeline.run(burst=9, ks4_burst=4, workers=1, threads=2, senders=2, say=said.append)
    by_name = {m.name: m for m in measured}
    assert set(by_name) == {
        "uploads/s end to end, 9 mixed files", "receive() -> result email p50, 9 mixed files",
        "receive() -> result email p95, 9 mixed files", "uploads/s end to end, 4 KS4 GCSE files",
        "receive() -> result email p50, 4 KS4 GCSE files",
        "receive() -> result email p95, 4 KS4 GCSE files", "ers worker peak RSS (largest of 1)"}
    for burst in ("9 mixed files", "4 KS4 GCSE files"):
        rate = by_name[f"uploads/s end to end, {burst}"]
        assert rate.unit == "uploads/s" and rate.value > 0
        assert 0 < by_name[f"receive() -> result email p50, {burst}"].value \
            <= by_name[f"receive() -> result email p95, {burst}"].value
    ks4 = by_name["uploads/s end to end, 4 KS4 GCSE files"]
    assert ks4.target == ">= 50 uploads/s" and ks4.met is (ks4.value >= 50)
    assert ks4.detail["kinds"] == {"ks4": 4} and ks4.detail["corrected"] == 1
    assert by_name["uploads/s end to end, 9 mixed files"].detail["kinds"] == {"ks1": 3, "ks2": 3, "ks4": 3}
    assert by_name["ers worker peak RSS (largest of 1)"].value > 30
    assert any("9/9 (100%)" in line for line in said) and any("4/4 (100%)" in line for line in said)
