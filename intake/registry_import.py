"""Loads reference data an operator supplies: schools and trusts (GIAS extract), contacts, rosters.

Each import reports every bad line with its line number and keeps the good ones, so one typo
does not block a whole trust.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config.codes import gender_code
from models import Contact, Pupil, School, Trust
from models.registry import ROLE_SCHOOL, ROLE_TRUST
from workers.validators.rules import dfe_is_valid, is_valid_upn, parse_date


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self, what: str) -> str:
        lines = [f"{what}: {self.added} added, {self.updated} updated, {len(self.problems)} problem(s)."]
        return "\n".join(lines + [f"  {p}" for p in self.problems])


def _rows(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return [(n, {k.strip(): (v or "").strip() for k, v in row.items() if k})
            for n, row in enumerate(reader, start=2)]


def import_gias(session: Session, text: str) -> ImportReport:
    """GIAS-style CSV: URN, LA (code), EstablishmentNumber, EstablishmentName, PhaseOfEducation (name),
    Trusts (code), Trusts (name)."""
    report = ImportReport()
    trusts = {t.code: t for t in session.scalars(select(Trust))}
    for line, row in _rows(text):
        dfe = f"{row.get('LA (code)', '')}{row.get('EstablishmentNumber', '')}"
        if not dfe_is_valid(dfe):
            report.problems.append(f"line {line}: '{dfe}' is not a valid DfE number (LA code + "
                                   "establishment number); school skipped.")
            continue
        trust = None
        code = row.get("Trusts (code)", "")
        if code:
            trust = trusts.get(code)
            if trust is None:
                trust = trusts[code] = Trust(code=code, name=row.get("Trusts (name)") or code)
                session.add(trust)
        school = session.scalar(select(School).where(School.dfe == dfe))
        if school is None:
            school = School(dfe=dfe)
            session.add(school)
            report.added += 1
        else:
            report.updated += 1
        school.urn = row.get("URN") or None
        school.name = row.get("EstablishmentName") or dfe
        school.phase = row.get("PhaseOfEducation (name)") or None
        school.trust = trust
    session.flush()
    return report


def import_contacts(session: Session, text: str) -> ImportReport:
    """CSV: Email, Name, Role (school|trust), School DFE (for school contacts), Trust code (for trust admins)."""
    report = ImportReport()
    for line, row in _rows(text):
        email = row.get("Email", "").lower()
        role = row.get("Role", "").lower()
        if "@" not in email:
            report.problems.append(f"line {line}: '{email}' is not an email address.")
            continue
        school_id = trust_id = None
        if role in ("school", ROLE_SCHOOL):
            school = session.scalar(select(School).where(School.dfe == row.get("School DFE", "")))
            if school is None:
                report.problems.append(f"line {line}: school '{row.get('School DFE', '')}' is not in "
                                       "the registry; import the schools first.")
                continue
            school_id, role = school.id, ROLE_SCHOOL
        elif role in ("trust", ROLE_TRUST):
            trust = session.scalar(select(Trust).where(Trust.code == row.get("Trust code", "")))
            if trust is None:
                report.problems.append(f"line {line}: trust '{row.get('Trust code', '')}' is not in "
                                       "the registry; import the schools first.")
                continue
            trust_id, role = trust.id, ROLE_TRUST
        else:
            report.problems.append(f"line {line}: role must be 'school' or 'trust', not '{role}'.")
            continue
        contact = session.scalar(select(Contact).where(
            Contact.email == email, Contact.school_id.is_not_distinct_from(school_id),
            Contact.trust_id.is_not_distinct_from(trust_id)))
        if contact is None:
            session.add(Contact(email=email, name=row.get("Name", ""), role=role,
                                school_id=school_id, trust_id=trust_id))
            report.added += 1
        else:
            contact.name = row.get("Name", "") or contact.name
            report.updated += 1
    session.flush()
    return report


def import_roster(session: Session, text: str, on_roll_at: date | None = None) -> ImportReport:
    """CSV: School DFE, UPN, Forename, Surname, Date of birth, Gender, NC Year[, On roll at].

    A school's roster is replaced as a whole by the rows given for it (a feed is a snapshot).
    """
    report = ImportReport()
    by_school: dict[str, list[Pupil]] = {}
    schools = {s.dfe: s for s in session.scalars(select(School))}
    for line, row in _rows(text):
        dfe, upn = row.get("School DFE", ""), row.get("UPN", "").upper()
        school = schools.get(dfe)
        if school is None:
            report.problems.append(f"line {line}: school '{dfe}' is not in the registry.")
            continue
        if not is_valid_upn(upn):
            report.problems.append(f"line {line}: '{upn}' is not a valid UPN; pupil skipped.")
            continue
        nc_year = row.get("NC Year", "")
        by_school.setdefault(dfe, []).append(Pupil(
            school_id=school.id, upn=upn, forename=row.get("Forename", ""),
            surname=row.get("Surname", ""), dob=parse_date(row.get("Date of birth", "")),
            gender=gender_code(row.get("Gender", "")),
            nc_year=int(nc_year) if nc_year.isdigit() else None,
            on_roll_at=parse_date(row.get("On roll at", "")) or on_roll_at))
    for dfe, pupils in by_school.items():
        session.execute(delete(Pupil).where(Pupil.school_id == schools[dfe].id))
        unique = {p.upn: p for p in pupils}
        session.add_all(unique.values())
        report.added += len(unique)
    session.flush()
    return report
