"""A seeded synthetic world at any scale: schools with real-shaped DfE numbers and UPNs, trusts,
contacts, rosters, and valid files of every benchmarked format.

The same seed always gives the same world, so two runs measure the same work.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from config.codes import la_codes
from intake import demo_world
from intake.demo_world import RosterPupil, make_upn
from workers.validators import ks2, ks4

SCHOOLS_PER_TRUST = 8   # about half the schools are in a trust, as academies are
WRITING_TA = ["EXS", "EXS", "EXS", "GDS", "WTS", "PK6"]  # reading and maths TA stay blank, as for most pupils


@dataclass(frozen=True)
class BenchSchool:
    dfe: str
    name: str
    phase: str              # GIAS phase: "Primary" or "Secondary"
    trust: str              # trust code, "" for a standalone school
    email: str

    @property
    def trust_admin(self) -> str:
        return f"admin@{self.trust.lower()}.trust.example" if self.trust else ""


def schools(count: int, phase: str = "Primary") -> list[BenchSchool]:
    """``count`` schools with distinct valid DfE numbers; every other run of 8 forms a trust."""
    las = sorted(la_codes())
    first_estab = 2000 if phase == "Primary" else 4000
    made = []
    for n in range(count):
        la, estab = las[n % len(las)], first_estab + n // len(las)
        if estab > 9999:
            raise ValueError(f"at most {len(las) * (10000 - first_estab)} {phase} schools")
        dfe = f"{la}{estab:04d}"
        group = n // SCHOOLS_PER_TRUST
        trust = f"TR{group:05d}" if group % 2 == 0 else ""
        made.append(BenchSchool(dfe, f"{phase} School {n + 1}", phase, trust,
                                f"data@s{dfe}.sch.example"))
    return made


def pupils(school: BenchSchool, count: int, nc_year: int, seed: int = 2026) -> list[RosterPupil]:
    """The school's year group; born in the academic year that puts them in ``nc_year`` in 2026."""
    rng = random.Random(f"{seed}-{school.dfe}")
    born = date(2026 - nc_year - 6, 9, 1)
    return [RosterPupil(school.dfe, make_upn(school.dfe, 26 - nc_year, serial),
                        rng.choice(demo_world.FORENAMES), rng.choice(demo_world.SURNAMES),
                        rng.choice("MF"), born + timedelta(days=rng.randrange(365)), nc_year)
            for serial in range(1, count + 1)]


# --- the registry as an operator imports it ----------------------------------------------------

def gias_csv(every: list[BenchSchool]) -> str:
    lines = ["URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),"
             "Trusts (code),Trusts (name)"]
    lines += [f"{100000 + n},{s.dfe[:3]},{s.dfe[3:]},{s.name},{s.phase},{s.trust},"
              f"{'Trust ' + s.trust if s.trust else ''}" for n, s in enumerate(every)]
    return "\n".join(lines) + "\n"


def contacts_csv(every: list[BenchSchool]) -> str:
    lines = ["Email,Name,Role,School DFE,Trust code"]
    lines += [f"{s.email},Data Manager,school,{s.dfe}," for s in every]
    admins = {s.trust: s.trust_admin for s in every if s.trust}
    lines += [f"{email},Trust Data Lead,trust,,{code}" for code, email in admins.items()]
    return "\n".join(lines) + "\n"


# --- files ------------------------------------------------------------------------------------

def ks1_workbook(roll: list[RosterPupil], seed: int = 7) -> bytes:
    from reports.templates import ks1_workbook as workbook
    return workbook(demo_world.results_rows(roll, seed=seed))


def ks2_full_csv(roll: list[RosterPupil], change: int = 0) -> bytes:
    """The portal's "All subjects with TA" download with every column the service maps: the
    school's DfE number, pupil details, each paper's raw mark, scaled scores, outcomes and TA."""
    columns = ["dfe", "upn", "surname", "forename", "dob", "gender", "read_raw", "read_score",
               "read_outcome", "mat_arithmetic_raw", "mat_reasoning1_raw", "mat_reasoning2_raw",
               "mat_raw", "mat_score", "mat_outcome", "gps_grammar_raw", "gps_spelling_raw",
               "gps_raw", "gps_score", "gps_outcome", "ta_reading", "ta_writing", "ta_maths",
               "ta_science"]
    lines = [",".join(ks2.display_name(c) for c in columns)]
    expected = ks2.ks2_config()["tests"]["expected_standard"]
    for n, p in enumerate(roll):
        scores = [92 + (n * k + change) % 27 for k in (7, 5, 3)]
        outcomes = ["AS" if s >= expected else "NS" for s in scores]
        read, mat, gps = ([str(s), o] for s, o in zip(scores, outcomes))
        step = (n * 11 + change) % 17
        arithmetic, reasoning1, reasoning2 = 20 + step, 15 + step, 14 + step
        grammar, spelling = 30 + step, 3 + step
        lines.append(",".join(str(v) for v in [
            p.dfe, p.upn, p.surname, p.forename, f"{p.dob:%d/%m/%Y}", "Male" if p.gender == "M"
            else "Female", 25 + step, *read, arithmetic, reasoning1, reasoning2,
            arithmetic + reasoning1 + reasoning2, *mat, grammar, spelling, grammar + spelling,
            *gps, "", WRITING_TA[n % 6], "", "EXS"]))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def ks4_gcse_workbook(roll: list[RosterPupil], change: int = 0) -> bytes:
    """A filled GCSE template: eight subjects graded per pupil (English, maths, sciences ...)."""
    from reports.ks4_templates import ks4_workbook
    subjects = ks4.qualifications("ks4-gcse")
    rows = []
    for n, p in enumerate(roll):
        grades = []
        for k, q in enumerate(subjects):
            usable = [g for g in ks4.grade_set(q["grades"])["grades"] if g != "U"]
            grades.append(usable[(n + k + change) % len(usable)] if k < 8 else "")
        rows.append(["Bench school", p.dfe, 4, 11, p.upn, p.forename, p.surname,
                     "Male" if p.gender == "M" else "Female", p.dob, 95 + n % 20, 96 + n % 19,
                     *grades])
    return ks4_workbook("ks4-gcse", rows)
