"""Collections and their submission windows, loaded from TOML.

Windows are data because every service and year has its own dates; the rule that places a
file in a window lives here so that every channel and worker applies it identically.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london_to_utc(value: datetime) -> datetime:
    """TOML local datetimes are Europe/London wall-clock times (BST in summer)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    return value.astimezone(timezone.utc)


def in_london(value: datetime) -> datetime:
    return value.astimezone(LONDON)


@dataclass(frozen=True)
class Window:
    number: int
    closes: datetime  # UTC
    reports_by: datetime  # UTC


@dataclass(frozen=True)
class Collection:
    key: str
    name: str
    formats: tuple[str, ...]  # KS4 has two templates, each its own stream
    opens: datetime  # UTC
    final_close: datetime  # UTC
    windows: tuple[Window, ...]
    census_date: date | None = None
    requires_confirmation: bool = False  # the KS4 seed's "confirm submission" step
    embargo: bool = False  # reports are made at the deadline but sent at "reports available by"
    phases: tuple[str, ...] = ()  # GIAS phases of the schools expected to take part; () = all

    @property
    def year(self) -> int:
        """The year the results are for (the summer the service runs), for national figures."""
        return in_london(self.final_close).year

    def expects(self, phase: str | None) -> bool:
        """Whether a school of this phase is expected to take part (for reminders and bundles)."""
        return not self.phases or phase is None or phase in self.phases

    def stream_for(self, fmt: str) -> str:
        """Uploads compete for "current" only within a stream: one per format when there are several."""
        return "main" if len(self.formats) == 1 else fmt

    def window_for(self, received_at: datetime, closed: frozenset[int] = frozenset()) -> Window | None:
        """The window a file received at this moment counts towards, or None if outside the service.

        A file received after one window's deadline (or once it was closed) belongs to the next.
        """
        if received_at < self.opens or received_at > self.final_close:
            return None
        for window in self.windows:
            if received_at <= window.closes and window.number not in closed:
                return window
        return None

    def window(self, number: int) -> Window:
        for window in self.windows:
            if window.number == number:
                return window
        raise KeyError(f"{self.key} has no window {number}")

    def refusal(self, received_at: datetime) -> str:
        """Why a file received at this moment cannot be placed in any window."""
        if received_at < self.opens:
            return (f"The {self.name} service opens on {in_london(self.opens):%d/%m/%Y at %H:%M}; "
                    "please send the file again then.")
        if received_at <= self.final_close:
            return (f"No submission window of {self.name} is open at the moment, so the file "
                    "cannot be used; please contact the service operator.")
        return (f"The {self.name} service closed on {in_london(self.final_close):%d/%m/%Y at %H:%M}; "
                "files can no longer be accepted.")


def parse_collections(text: str) -> dict[str, Collection]:
    data = tomllib.loads(text)
    collections: dict[str, Collection] = {}
    for item in data.get("collection", []):
        windows = tuple(sorted(
            (Window(number=int(w["number"]), closes=london_to_utc(w["closes"]),
                    reports_by=london_to_utc(w["reports_by"]))
             for w in item.get("window", [])),
            key=lambda w: w.closes))
        if not windows:
            raise ValueError(f"collection {item.get('key')!r} has no windows")
        collection = Collection(
            key=item["key"], name=item["name"],
            formats=tuple(item["formats"]) if "formats" in item else (item["format"],),
            opens=london_to_utc(item["opens"]),
            requires_confirmation=bool(item.get("requires_confirmation", False)),
            final_close=london_to_utc(item.get("final_close", windows[-1].closes)),
            windows=windows, census_date=item.get("census_date"),
            embargo=bool(item.get("embargo", False)), phases=tuple(item.get("phases", ())))
        if collection.key in collections:
            raise ValueError(f"collection {collection.key!r} is defined twice")
        collections[collection.key] = collection
    return collections


def load_collections(path: Path) -> dict[str, Collection]:
    return parse_collections(Path(path).read_text(encoding="utf-8"))


def collection_for_format(collections: dict[str, Collection], fmt: str,
                          when: datetime) -> Collection | None:
    """The collection a file of this format belongs to when received at ``when``.

    The one whose service period contains ``when``; otherwise the one that closed most recently
    (so a late file is told the service has closed), else the next to open.
    """
    candidates = sorted((c for c in collections.values() if fmt in c.formats), key=lambda c: c.opens)
    if not candidates:
        return None
    for collection in candidates:
        if collection.opens <= when <= collection.final_close:
            return collection
    closed = [c for c in candidates if c.final_close < when]
    return max(closed, key=lambda c: c.final_close) if closed else candidates[0]
