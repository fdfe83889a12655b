"""Code lists loaded once from ``codes.toml`` so a new year's codes are a data change."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from typing import Any

from config.settings import PACKAGE_DIR


@lru_cache(maxsize=1)
def codes() -> dict[str, Any]:
    return tomllib.loads((PACKAGE_DIR / "codes.toml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def la_codes() -> frozenset[int]:
    return frozenset(n for low, high in codes()["la_code_ranges"] for n in range(low, high + 1))


def gender_code(value: str) -> str | None:
    lookup = {k.upper(): v for k, v in codes()["gender"].items()}
    return lookup.get(value.strip().upper())
