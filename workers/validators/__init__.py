"""One module per file format over shared rules; ``VALIDATORS`` maps a format key to its validator."""
from __future__ import annotations

from typing import Callable

from workers.validators import ks1
from workers.validators.result import ValidationResult

Validator = Callable[..., ValidationResult]

VALIDATORS: dict[str, Validator] = {
    ks1.FORMAT: ks1.validate,
}
