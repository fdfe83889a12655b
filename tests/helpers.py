"""Builders shared by tests: valid and broken KS1 workbooks for the demo world's schools."""
from __future__ import annotations

import time

from intake import demo_world as world
from reports.templates import ks1_workbook


def valid_ks1(dfe: str, seed: int = 1, change: int = 0) -> bytes:
    """A valid file for the school; ``change`` alters one TA so two files differ in content."""
    rows = world.results_rows([p for p in world.rosters() if p.dfe == dfe], seed=seed)
    if change:
        rows[0][7] = ["GDS", "EXS", "WTS", "PK4"][change % 4]
        rows[0][13] = 85 + change % 30
    return ks1_workbook(rows)


def invalid_ks1(dfe: str) -> bytes:
    rows = world.results_rows([p for p in world.rosters() if p.dfe == dfe])
    rows[1][11] = 130
    rows[2][3] = ""
    return ks1_workbook(rows)


def wait_until(condition, timeout: float = 60.0) -> None:
    """Poll until the real workers have done their part (they run in other threads or processes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the workers")
