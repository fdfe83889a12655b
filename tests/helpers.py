"""Builders shared by tests: valid and broken files of every format for the demo world's schools."""
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


def lines(findings) -> list[str]:
    return [f.line() for f in findings]


def only(findings, rule: str):
    """The one finding of this rule (the failure message lists them all)."""
    matching = [f for f in findings if f.rule == rule]
    assert len(matching) == 1, lines(findings)
    return matching[0]


def wait_until(condition, timeout: float = 60.0, what: str = "the workers") -> None:
    """Poll until the real workers have done their part (they run in other threads or processes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def roster_of(dfe: str) -> list[world.RosterPupil]:
    return [p for p in world.rosters() if p.dfe == dfe]


def valid_ks2(dfe: str, change: int = 0) -> bytes:
    return world.ks2_csv(roster_of(dfe), change)


def valid_ks4(dfe: str, kind: str, change: int = 0) -> bytes:
    """A filled GCSE or non-GCSE template: the first subjects graded, the rest not entered."""
    from reports.ks4_templates import ks4_workbook
    from workers.validators import ks4
    subjects = ks4.qualifications(kind)
    rows = []
    for n, p in enumerate(roster_of(dfe)):
        grades = []
        for q in subjects:
            grade_set = ks4.grade_set(q["grades"])
            usable = [g for g in grade_set["grades"] if g != "U"]
            grades.append(usable[(n + change) % len(usable)] if len(grades) < 6 else "")
        rows.append(["Demo school", dfe, 4, 11, p.upn, p.forename, p.surname,
                     "Male" if p.gender == "M" else "Female", p.dob, 100 + n % 10, 101 + n % 9,
                     *grades])
    return ks4_workbook(kind, rows)


def valid_ctf(dfe: str, mtc_scores: int = 0) -> bytes:
    """A v25 CTF from the school's MIS with each pupil's MTC score (the confirmed codes)."""
    pupils = "".join(
        f"<Pupil><UPN>{p.upn}</UPN><Surname>{p.surname}</Surname><Forename>{p.forename}</Forename>"
        f"<DOB>{p.dob:%Y-%m-%d}</DOB><Sex>{p.gender}</Sex><StageAssessments><KeyStage>"
        "<Stage>KS2</Stage><StageAssessment><Locale>ENG</Locale><Year>2026</Year>"
        "<Subject>MAT</Subject><Method>TT</Method><Component>MTC</Component>"
        f"<ResultStatus>R</ResultStatus><ResultQualifier>MT</ResultQualifier>"
        f"<Result>{(n + mtc_scores) % 26}</Result></StageAssessment></KeyStage></StageAssessments>"
        "</Pupil>" for n, p in enumerate(roster_of(dfe)))
    school = f"<LEA>{dfe[:3]}</LEA><Estab>{dfe[3:]}</Estab>"
    return (f'<?xml version="1.0" encoding="UTF-8"?><CTfile><Header>'
            "<DocumentName>Common Transfer File</DocumentName><CTFversion>25.0</CTFversion>"
            "<DateTime>2026-06-30T10:15:00</DateTime><DocumentQualifier>partial</DocumentQualifier>"
            f"<SupplierID>Test MIS</SupplierID><SourceSchool>{school}</SourceSchool>"
            f"<DestSchool>{school}</DestSchool></Header><CTFpupilData>{pupils}</CTFpupilData>"
            "</CTfile>").encode("utf-8")


# A broker URL nothing listens on (port 1): every publish fails, as during a RabbitMQ restart.
CLOSED_BROKER = "amqp://guest:guest@127.0.0.1:1/%2F"


def run_queued_jobs(broker) -> None:
    """Run what waits on the in-process broker with a worker started now, as a restarted worker
    (or RabbitMQ redelivering) would; the worker is stopped afterwards."""
    import dramatiq

    from workers.runner import drain

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        drain(broker)
    finally:
        worker.stop()
