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
    schools: dict[str, int] = field(default_factory=dict)  # roster: pupils now held per school

    def summary(self, what: str) -> str:
        lines = [f"{what}: {self.added} added, {self.updated} updated, {len(self.problems)} problem(s)."]
        return "\n".join(lines + [f"  {p}" for p in self.problems])


def _rows(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return [(n, {k.strip(): (v or "").strip() for k, v in row.items() if k})
            for n, row in enumerate(reader, start=2)]


def _find_or_add(session: Session, report: ImportReport, model, **key):
    """The row with this key, or a new one; counted as updated or added."""
    row = session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key)
        session.add(row)
        report.added += 1
    else:
        report.updated += 1
    return row


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
        school = _find_or_add(session, report, School, dfe=dfe)
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


def import_roster(session: Session, text: str, on_roll_at: date | None = None,
                  allowed: set[str] | None = None) -> ImportReport:
    """CSV: School DFE, UPN, Forename, Surname, Date of birth, Gender, NC Year[, On roll at].

    A school's roster is replaced as a whole by the rows given for it (a feed is a snapshot).
    ``allowed``: the only schools this feed may change (a partner's linked schools).
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
        if allowed is not None and dfe not in allowed:
            report.problems.append(f"line {line}: school '{dfe}' is not one this feed serves.")
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
        report.schools[dfe] = len(unique)
    session.flush()
    return report


def import_partners(session: Session, text: str) -> ImportReport:
    """CSV: Name, Host, Port, User, Password, Key file, Host key, Inbox, Outbox, Feed, Schools.

    Schools are DfE numbers separated by spaces or semicolons; they replace the partner's links.
    A partner needs a password or a key file, and the server's host key (``ssh-ed25519 AAAA...``):
    a server whose key differs is never trusted.
    """
    from models import Partner, PartnerSchool

    report = ImportReport()
    schools = {s.dfe: s for s in session.scalars(select(School))}
    for line, row in _rows(text):
        name = row.get("Name", "").lower()
        host_key = row.get("Host key", "")
        port = row.get("Port", "") or "22"
        wanted = [d for d in row.get("Schools", "").replace(";", " ").split() if d]
        missing = [d for d in wanted if d not in schools]
        problem = (
            "a name is needed" if not name
            else "a host is needed" if not row.get("Host")
            else "a password or a key file is needed" if not (row.get("Password") or row.get("Key file"))
            else "the host key must be '<type> <base64>', e.g. 'ssh-ed25519 AAAA...'"
            if len(host_key.split()) < 2
            else f"port '{port}' is not a number" if not port.isdigit()
            else "inbox and outbox folders are needed" if not (row.get("Inbox") and row.get("Outbox"))
            else f"schools {', '.join(missing)} are not in the registry" if missing else None)
        if problem:
            report.problems.append(f"line {line}: {problem}.")
            continue
        partner = _find_or_add(session, report, Partner, name=name)
        partner.host, partner.port, partner.username = row["Host"], int(port), row.get("User", "")
        partner.password, partner.key_path = row.get("Password") or None, row.get("Key file") or None
        partner.host_key = " ".join(host_key.split()[:2])
        partner.inbox, partner.outbox = row["Inbox"], row["Outbox"]
        partner.feed = row.get("Feed") or None
        session.flush()
        links = {link.school_id: link for link in session.scalars(
            select(PartnerSchool).where(PartnerSchool.partner_id == partner.id))}
        keep = {schools[d].id for d in wanted}
        for school_id, link in links.items():
            if school_id not in keep:
                session.delete(link)
        session.add_all(PartnerSchool(partner_id=partner.id, school_id=school_id, status="connected")
                        for school_id in keep - set(links))
    session.flush()
    return report
