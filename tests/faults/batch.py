"""The files a fault test sends: KS1 templates for the demo world's schools, each one different
(so none is a byte-for-byte repeat of the sender's last), some of them invalid on purpose."""
from __future__ import annotations

from intake import demo_world as world
from reports.templates import ks1_workbook
from tests.faults.ledger import Sent

SCHOOLS = [s[0] for s in world.SCHOOLS]


def ks1_file(dfe: str, n: int, valid: bool = True) -> bytes:
    """The school's KS1 template, its first pupil's results varied by ``n`` (distinct for n < 60);
    an invalid one has a score out of range and a missing name."""
    rows = world.results_rows([p for p in world.rosters() if p.dfe == dfe])
    rows[0][7] = ["GDS", "EXS", "WTS", "PK4"][n % 4]
    rows[0][13] = 85 + n % 30
    if not valid:
        rows[1][11] = 130
        rows[2][3] = ""
    return ks1_workbook(rows)


def batch(count: int, schools: list[str] = SCHOOLS, invalid_every: int = 0, first: int = 0,
          kinds: tuple[str, ...] = ("receipt", "result")) -> list[Sent]:
    """``count`` files, the schools taking turns; every ``invalid_every``-th one invalid.
    Batches for the same schools differ when their ``first`` numbers keep them apart."""
    sent = []
    for n in range(first, first + count):
        dfe = schools[n % len(schools)]
        valid = not (invalid_every and n % invalid_every == invalid_every - 1)
        sent.append(Sent(dfe, ks1_file(dfe, n, valid), valid, kinds))
    return sent
