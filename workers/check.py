"""Detect and validate one file: shared by the dry run (``ers validate``) and the upload pipeline."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.collections import Collection, collection_for_format
from config.settings import Limits
from workers.detect import detect
from workers.validators import VALIDATORS
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
    return Checked(detected.format, collection, result)
