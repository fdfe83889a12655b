"""Validation cost per file beside the bare read floor measured in the same run.

Our cost is what a worker spends on one file: ``check_file`` (format detection, reading and every
rule, with the school's roster to check against). The floor is reading the same bytes and nothing
else: python-calamine reading every cell of a workbook, ``csv`` reading every row of the CSV.
"""
from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from datetime import datetime, timezone

from python_calamine import CalamineWorkbook

from config.collections import load_collections
from config.settings import PACKAGE_DIR, Limits
from tests.bench import world
from tests.bench.figures import Measured, median
from workers.check import Checked, check_file
from workers.validators.result import ValidationContext

TARGET = 3.0  # validation at most 3x the read floor, for each format
WHEN = datetime(2026, 6, 20, 9, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    file_name: str
    floor: Callable[[bytes], object]
    roster: frozenset[str]


def read_workbook(data: bytes) -> list[list[object]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def cases(primary_pupils: int, secondary_pupils: int) -> list[Case]:
    primary = world.schools(1, "Primary")[0]
    secondary = world.schools(1, "Secondary")[0]
    ks1 = world.pupils(primary, primary_pupils, 2)
    ks2 = world.pupils(primary, primary_pupils, 6)
    ks4 = world.pupils(secondary, secondary_pupils, 11)
    upns = lambda roll: frozenset(p.upn for p in roll)  # noqa: E731
    ks2_csv = world.ks2_full_csv(ks2)
    return [
        Case(f"KS4 GCSE template ({secondary_pupils} pupils)", world.ks4_gcse_workbook(ks4),
             f"{secondary.dfe}_gcse.xlsx", read_workbook, upns(ks4)),
        Case(f"KS1 template ({primary_pupils} pupils)", world.ks1_workbook(ks1),
             f"{primary.dfe}_ks1.xlsx", read_workbook, upns(ks1)),
        Case(f"KS2 CSV, every portal column ({primary_pupils} pupils)", ks2_csv,
             f"{primary.dfe}_KS2.csv", read_csv, upns(ks2)),
        Case(f"KS2 CSV, every cell quoted ({primary_pupils} pupils)",
             every_cell_quoted(ks2_csv), f"{primary.dfe}_KS2.csv", read_csv, upns(ks2)),
    ]


def every_cell_quoted(data: bytes) -> bytes:
    """The same file with each cell in quotes, as some exports write them: our reader splits a
    file without quotes itself and leaves a quoted one to the csv module, so both are measured."""
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(read_csv(data))
    return out.getvalue().encode("utf-8")


def timed(work: Callable[[], object], repeats: int) -> float:
    """Median seconds over ``repeats`` runs after one warm-up (caches and imports)."""
    work()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return median(samples)


def _checker(case: Case, collections: dict) -> Callable[[], Checked]:
    """What a worker does with the file: detect, read and check it against the school's roster."""
    context = ValidationContext(may_submit_for=lambda dfe: True, roster_for=lambda dfe: case.roster,
                                ctf_parts_for=lambda dfe: None)
    return partial(check_file, case.data, collections=collections, when=WHEN, limits=Limits(),
                   file_name=case.file_name, context=context)


def run(repeats: int = 50, primary_pupils: int = 90, secondary_pupils: int = 250,
        say: Callable[[str], None] = print) -> list[Measured]:
    collections = load_collections(PACKAGE_DIR / "collections.toml")
    measured = []
    for case in cases(primary_pupils, secondary_pupils):
        check = _checker(case, collections)
        checked = check()
        if checked.result is None or checked.result.errors:
            raise RuntimeError(f"the benchmark's {case.name} is not a valid file: "
                               f"{checked.reason or checked.result.errors[0].line()}")
        ours = timed(check, repeats)
        floor = timed(partial(case.floor, case.data), repeats)
        ratio = ours / floor
        say(f"validation: {case.name}: {ours * 1e3:.2f} ms, floor {floor * 1e3:.3f} ms, "
            f"{ratio:.1f}x")
        measured.append(Measured("validation", case.name, ours * 1e3, "ms", floor * 1e3,
                                 f"<= {TARGET:g}x floor", ratio <= TARGET,
                                 {"bytes": len(case.data), "repeats": repeats,
                                  "pupils": len(checked.result.pupils)}))
    return measured
