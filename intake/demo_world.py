"""A small, seeded world for the demo and the tests: one trust of three schools, two standalone
schools, their contacts and Year 2 rosters, written as the CSV files an operator would import."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from config.collections import LONDON
from workers.validators.rules import upn_check_letter

TRUST = ("TR00001", "Oak Learning Trust", "admin@oaktrust.example")
SCHOOLS = [  # dfe, name, trust code, contact email
    ("8012001", "Acorn Primary School", "TR00001", "data@acorn.sch.example"),
    ("8012002", "Beech Primary School", "TR00001", "data@beech.sch.example"),
    ("8012003", "Cedar Infant School", "TR00001", "data@cedar.sch.example"),
    ("9362004", "Dale Church of England Primary", "", "office@dale.sch.example"),
    ("2012005", "Elm Park Primary", "", "results@elmpark.sch.example"),
]
FORENAMES = ["Amara", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hari", "Isla", "Jack",
             "Kai", "Lily", "Musa", "Nia", "Oscar", "Priya", "Quinn", "Rosa", "Sam", "Tara"]
SURNAMES = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fisher", "Green", "Hughes", "Iqbal",
            "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Owen", "Patel", "Roberts", "Smith"]


@dataclass
class RosterPupil:
    dfe: str
    upn: str
    forename: str
    surname: str
    gender: str
    dob: date
    nc_year: int = 2


def make_upn(dfe: str, year: int, serial: int) -> str:
    body = f"{dfe}{year % 100:02d}{serial:03d}"
    return upn_check_letter("X" + body) + body


def rosters(seed: int = 2026, pupils_per_school: int = 24) -> list[RosterPupil]:
    rng = random.Random(seed)
    pupils = []
    for dfe, *_ in SCHOOLS:
        for serial in range(1, pupils_per_school + 1):
            dob = date(2018, 9, 1) + timedelta(days=rng.randrange(365))
            pupils.append(RosterPupil(dfe, make_upn(dfe, 22, serial), rng.choice(FORENAMES),
                                      rng.choice(SURNAMES), rng.choice("MF"), dob))
    return pupils


def gias_csv() -> str:
    lines = ["URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),"
             "Trusts (code),Trusts (name)"]
    for n, (dfe, name, trust, _) in enumerate(SCHOOLS, start=1):
        trust_name = TRUST[1] if trust else ""
        lines.append(f"{140000 + n},{dfe[:3]},{dfe[3:]},{name},Primary,{trust},{trust_name}")
    return "\n".join(lines) + "\n"


def contacts_csv() -> str:
    lines = ["Email,Name,Role,School DFE,Trust code", f"{TRUST[2]},Trust Data Lead,trust,,{TRUST[0]}"]
    lines += [f"{email},Data Manager,school,{dfe}," for dfe, _, _, email in SCHOOLS]
    return "\n".join(lines) + "\n"


def roster_csv(pupils: list[RosterPupil]) -> str:
    lines = ["School DFE,UPN,Forename,Surname,Date of birth,Gender,NC Year,On roll at"]
    lines += [f"{p.dfe},{p.upn},{p.forename},{p.surname},{p.dob:%d/%m/%Y},{p.gender},{p.nc_year},"
              "31/05/2026" for p in pupils]
    return "\n".join(lines) + "\n"


def results_rows(pupils: list[RosterPupil], seed: int = 7) -> list[list[object]]:
    """Plausible, valid KS1 results for these pupils, as template rows."""
    rng = random.Random(seed)
    ta = ["GDS", "EXS", "EXS", "EXS", "WTS", "WTS", "PK4"]
    rows = []
    for p in pupils:
        score = lambda: rng.choice([None] + list(range(88, 115)))  # noqa: E731
        rows.append([p.dfe, p.upn, p.forename, p.surname, "Male" if p.gender == "M" else "Female",
                     p.dob, 2, rng.choice(ta), rng.choice(ta), rng.choice(ta),
                     rng.choice(["EXS", "EXS", "HNM"]), score(), score(), score()])
    return rows


DEMO_COLLECTIONS = [  # key, name, format line, extra lines
    ("ks2-demo", "KS2 early results (demo)", 'format = "ks2-csv"', ""),
    ("ks4-demo", "KS4 results (demo)", 'formats = ["ks4-gcse", "ks4-non-gcse"]',
     "requires_confirmation = true\n"),
    ("ctf-demo", "CTF assessment import (demo)", 'format = "ctf-xml"', ""),
]


def all_collections_toml(now: datetime) -> str:
    """The KS1 demo collection and one for every other service, all open now."""
    return collections_toml(now) + "".join(
        "\n" + collections_toml(now, key).replace('name = "KS1 results (demo)"', f'name = "{name}"')
        .replace('format = "ks1-template"', fmt + "\n" + extra.rstrip())
        for key, name, fmt, extra in DEMO_COLLECTIONS)


def collections_toml(now: datetime, key: str = "ks1-demo") -> str:
    """A KS1 collection whose first window is open now, so the demo and tests never go stale."""
    local = now.astimezone(LONDON).replace(tzinfo=None, microsecond=0)
    fmt = lambda d: d.strftime("%Y-%m-%dT%H:%M:%S")  # noqa: E731
    windows = "".join(
        f"\n  [[collection.window]]\n  number = {n}\n  closes = {fmt(local + timedelta(days=7 * n))}\n"
        f"  reports_by = {fmt(local + timedelta(days=7 * n + 3))}\n" for n in (1, 2, 3))
    return (f'[[collection]]\nkey = "{key}"\nname = "KS1 results (demo)"\nformat = "ks1-template"\n'
            f"opens = {fmt(local - timedelta(days=7))}\nfinal_close = {fmt(local + timedelta(days=21))}\n"
            + windows)


def ks2_csv(pupils: list[RosterPupil], change: int = 0) -> bytes:
    """The portal's KS2 "All subjects with TA" CSV for these pupils (CRLF, as downloaded)."""
    from workers.validators import ks2
    keys = ["upn", "forename", "surname", "dob", "read_score", "mat_score", "gps_score",
            "ta_writing", "ta_science"]
    lines = [",".join(ks2.display_name(k) for k in keys)]
    for n, p in enumerate(pupils):
        score = 95 + (n * 7 + change) % 20
        lines.append(f"{p.upn},{p.forename},{p.surname},{p.dob:%d/%m/%Y},{score},{score + 1},"
                     f"{score - 1},EXS,EXS")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
