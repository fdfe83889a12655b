"""One module per file format over shared rules; ``VALIDATORS`` maps a format key to its validator.

Every validator is called the same way, ``(payload, context, today, file_name)``, where the
payload is what detection already read: rows for workbooks and CSV files, bytes for a CTF.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

from workers.validators import ctf, ks1, ks2, ks4
from workers.validators.result import ValidationContext, ValidationResult

Validator = Callable[[Any, ValidationContext | None, date, str | None], ValidationResult]


def _ctf(payload: bytes, context: ValidationContext | None, today: date,
         file_name: str | None) -> ValidationResult:
    """The destination school is only known once the file is read: when that school imports
    only some parts, the file is checked again for just those parts."""
    result = ctf.validate(payload, context, today, file_name=file_name)
    parts_for = context.ctf_parts_for if context else None
    parts = parts_for(result.school) if parts_for and result.school else None
    if parts is not None:
        result = ctf.validate(payload, context, today, file_name=file_name, parts=parts)
    return result


VALIDATORS: dict[str, Validator] = {
    ks1.FORMAT: lambda rows, context, today, name: ks1.validate(rows, context, today),
    ks2.FORMAT: lambda rows, context, today, name: ks2.validate(rows, context, today, file_name=name),
    ks4.GCSE: lambda rows, context, today, name: ks4.validate(rows, context, today, kind=ks4.GCSE),
    ks4.NON_GCSE: lambda rows, context, today, name: ks4.validate(rows, context, today,
                                                                  kind=ks4.NON_GCSE),
    ctf.FORMAT: _ctf,
}
