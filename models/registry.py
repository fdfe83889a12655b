"""Schools, trusts, their contacts and each school's pupil roster (the template's pupils)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base

ROLE_SCHOOL = "school data manager"
ROLE_TRUST = "trust administrator"


class Trust(Base):
    __tablename__ = "trusts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    schools: Mapped[list["School"]] = relationship(back_populates="trust")


class School(Base):
    __tablename__ = "schools"
    id: Mapped[int] = mapped_column(primary_key=True)
    dfe: Mapped[str] = mapped_column(String(7), unique=True)
    urn: Mapped[str | None] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str | None] = mapped_column(String(40))
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    trust: Mapped[Trust | None] = relationship(back_populates="schools")
    # CTF parts the school imports (eyfs, phonics, mtc, ks1, ks2); None means all of them.
    ctf_parts: Mapped[list[str] | None] = mapped_column(JSON)
    # When set, the school's report PDFs are encrypted with it (given to the school separately).
    report_password: Mapped[str | None] = mapped_column(String(200))


class Contact(Base):
    """A person who may send files for a school, or for every school of a trust."""
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("email", "school_id", "trust_id", name="uq_contacts_scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)


class Pupil(Base):
    """A pupil on a school's roster: the pupils a pre-filled template lists."""
    __tablename__ = "pupils"
    __table_args__ = (UniqueConstraint("school_id", "upn", name="uq_pupils_school_upn"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    upn: Mapped[str] = mapped_column(String(13))
    forename: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    dob: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(1))
    nc_year: Mapped[int | None]
    on_roll_at: Mapped[date | None] = mapped_column(Date)
