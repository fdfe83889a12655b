"""Which of a school's pupils a template lists: the right year group, on roll at the census date."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Pupil, School

NC_YEAR = {"ks1-template": 2, "ks4-gcse": 11, "ks4-non-gcse": 11}


def template_pupils(session: Session, dfe: str, fmt: str,
                    census_date: date | None) -> tuple[str, list[Pupil]] | None:
    """(school name, pupils) for the school's template, or None when the school is unknown."""
    school = session.scalar(select(School).where(School.dfe == dfe))
    if school is None:
        return None
    query = select(Pupil).where(Pupil.school_id == school.id).order_by(Pupil.surname, Pupil.forename)
    if fmt in NC_YEAR:
        query = query.where(Pupil.nc_year == NC_YEAR[fmt])
    if census_date is not None:
        query = query.where(or_(Pupil.on_roll_at.is_(None), Pupil.on_roll_at <= census_date))
    return school.name, list(session.scalars(query))
