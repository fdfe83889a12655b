"""MIS connector feeds: each school's roster, and its CTF results, delivered by its MIS partner.

A roster (our roster CSV, or a CTF with pupils' basic details) replaces the school's roster, so
the next template is pre-filled from it and "pupil not in template" warnings follow it. A CTF
that carries results also enters as a CTF upload, checked and answered like any other. A feed
may only change the schools linked to its partner; each school's link records the last feed.
"""
from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from intake.receive import receive
from intake.registry_import import import_roster
from intake.sftp import Taken
from models import Partner, PartnerSchool, School
from models.audit import audit
from models.base import utcnow
from workers.app import App
from workers.pipeline import permitted_schools
from workers.validators import ctf
from workers.validators.result import ValidationContext

ROSTER_HEADER = ["School DFE", "UPN", "Forename", "Surname", "Date of birth", "Gender", "NC Year",
                 "On roll at"]


def take_feed(app: App, partner: Partner, name: str, data: bytes, source_ref: str) -> Taken:
    """Apply one feed file; its note says what it did (or why it was not used)."""
    with app.sessions() as session:
        linked = permitted_schools(session, partner.sender)
    if ctf.looks_like(data):
        return _ctf_feed(app, partner, name, data, source_ref, linked)
    if name.lower().endswith(".csv"):
        return Taken(note=_roster_feed(app, partner, name, data.decode("utf-8-sig", errors="replace"),
                                       linked, "roster CSV"))
    return Taken(note=f"{name}: not used: a feed is a roster CSV or a CTF (.xml).")


def _roster_feed(app: App, partner: Partner, name: str, text: str, linked: set[str],
                 kind: str) -> str:
    with app.sessions.begin() as session:
        report = import_roster(session, text, on_roll_at=date.today(), allowed=linked)
        for dfe, pupils in report.schools.items():
            link = session.scalar(select(PartnerSchool).join(School).where(
                PartnerSchool.partner_id == partner.id, School.dfe == dfe))
            link.last_feed_at, link.last_feed = utcnow(), f"{kind} {name}: {pupils} pupils"
        audit(session, partner.sender, "feed", name, "roster", schools=report.schools,
              problems=report.problems[:20])
    done = ", ".join(f"{dfe} {n} pupils" for dfe, n in sorted(report.schools.items())) or "no roster"
    problems = f"; {len(report.problems)} problem(s): {report.problems[0]}" if report.problems else ""
    return f"{name}: {kind}: {done}{problems}"


def _ctf_feed(app: App, partner: Partner, name: str, data: bytes, source_ref: str,
              linked: set[str]) -> Taken:
    try:
        result = ctf.validate(data, ValidationContext(may_submit_for=linked.__contains__),
                              file_name=name)
    except ctf.UnreadableFile as exc:
        return Taken(note=f"{name}: CTF not used: {exc}")
    lines, taken = [], Taken()
    if result.school and result.pupils:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(ROSTER_HEADER)
        for p in result.pupils:
            writer.writerow([result.school, p.upn, p.forename, p.surname,
                             p.dob.isoformat() if p.dob else "", p.gender or "", p.nc_year or "", ""])
        lines.append(_roster_feed(app, partner, name, buffer.getvalue(), linked, "CTF"))
    else:
        lines.append(f"{name}: CTF roster not used ({'; '.join(f.message for f in result.errors[:2])})")
    if b"<StageAssessment" in data or result.errors:  # results, or a refusal the partner should see
        receipt = receive(app, data, file_name=name, sender=partner.sender, channel="mis",
                          source_ref=source_ref)
        taken = Taken(receipt.upload_ids, receipt.duplicate)
        lines.append(f"results received as upload #{receipt.upload_ids[0]}")
    taken.note = "; ".join(lines)
    return taken
