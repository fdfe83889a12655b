"""Detect and validate one file: shared by the dry run (``ers validate``) and the upload pipeline."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from operator import attrgetter
from typing import Any

from config.collections import Collection, collection_for_format
from config.settings import Limits
from models.uploads import PupilResult
from workers.detect import Detected, detect
from workers.validators import VALIDATORS, ctf, ks2
from workers.validators.findings import Findings
from workers.validators.result import UnreadableFile, ValidationContext, ValidationResult


@dataclass
class Checked:
    format: str | None
    collection: Collection | None
    result: ValidationResult | None
    reason: str | None = None  # set when the file could not be read or placed at all

    @property
    def readable(self) -> bool:
        return self.result is not None

    def as_json(self) -> dict[str, Any]:
        key = self.collection.key if self.collection else None
        if self.result is not None:
            return self.result.as_json(key)
        return {"format": self.format, "collection": key, "school": None, "status": "invalid",
                "pupils": 0, "reason": self.reason,
                "errors": [{"rule": "unreadable", "message": self.reason, "column": None, "rows": []}],
                "warnings": []}


def check_file(data: bytes, *, collections: dict[str, Collection], when: datetime, limits: Limits,
               collection_key: str | None = None, file_name: str | None = None,
               context: ValidationContext | None = None) -> Checked:
    try:
        detected = detect(data, limits)
    except UnreadableFile as exc:
        return Checked(None, None, None, str(exc))
    if collection_key is not None:
        collection = collections.get(collection_key)
        if collection is None:
            return Checked(detected.format, None, None,
                           f"There is no collection '{collection_key}'. Known collections: "
                           f"{', '.join(sorted(collections)) or 'none'}.")
        if detected.format not in collection.formats:
            return Checked(detected.format, collection, None,
                           f"This file is a {detected.format} file, but {collection.name} expects "
                           f"{' or '.join(collection.formats)} files.")
    else:
        collection = collection_for_format(collections, detected.format, when)
    try:
        result = VALIDATORS[detected.format](detected.rows, context, when.date(), file_name)
    except UnreadableFile as exc:  # e.g. a CTF that is not well-formed XML
        return Checked(detected.format, collection, None, str(exc))
    return Checked(detected.format, collection, names_that_fit(result, detected))


def names_that_fit(result: ValidationResult, detected: Detected) -> ValidationResult:
    """The result, with an error for each name longer than the database keeps.

    The formats have no length rule of their own (a name is a name), but a pupil's names are
    stored in columns of ``NAME_LENGTH`` characters: a longer one, from a hostile or broken file,
    would fail the upload's transaction on PostgreSQL and leave the school with no answer.
    """
    if all(max(map(len, map(attrgetter(a), result.pupils)), default=0) <= NAME_LENGTH
           for a in NAME_COLUMNS):  # nearly every file: two passes at C speed
        return result
    too_long = {column: [p.row for p in result.pupils if len(getattr(p, attribute)) > NAME_LENGTH]
                for attribute, column in NAME_COLUMNS.items()}
    errors = Findings()
    for finding in result.errors:
        for row in finding.rows or [None]:
            errors.add(finding.rule, finding.message, finding.column, row)
    for attribute, column in NAME_COLUMNS.items():
        label = _column_label(detected, attribute, column)
        for row in too_long[column]:
            errors.add("name-too-long", f"{column} must be at most {NAME_LENGTH} characters.",
                       label, row)
    return replace(result, pupils=[], errors=errors.grouped())


NAME_COLUMNS = {"forename": "Forename", "surname": "Surname"}
NAME_LENGTH = min(PupilResult.__table__.c[name].type.length for name in NAME_COLUMNS)


def _column_label(detected: Detected, attribute: str, column: str) -> str:
    """The column as the sender's file names it, so the finding marks the right cells."""
    if detected.format == ctf.FORMAT:
        return f"Pupil/{column}"
    if detected.format == ks2.FORMAT and detected.rows:
        return ks2.map_header(detected.rows[0]).get(attribute, (None, column))[1]
    return column
