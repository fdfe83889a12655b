"""Reports as an operator lists them: whose, from which uploads, in what state, and where the files are."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.collections import in_london
from models import Report, School, Trust


def report_lines(session: Session, key: str | None = None, number: int | None = None) -> list[str]:
    query = select(Report).order_by(Report.collection_key, Report.window_number, Report.kind.desc(),
                                    Report.id)
    if key is not None:
        query = query.where(Report.collection_key == key)
    if number is not None:
        query = query.where(Report.window_number == number)
    lines = []
    for report in session.scalars(query):
        if report.kind == "school":
            school = session.get(School, report.school_id)
            whose = f"{school.name} ({school.dfe}) from {', '.join(f'#{u}' for u in report.upload_ids)}"
        else:
            whose = f"trust bundle: {session.get(Trust, report.trust_id).name}"
        when = report.released_at or report.made_at
        lines.append(f"#{report.id} {report.collection_key} window {report.window_number} "
                     f"{report.status}{f' {in_london(when):%d/%m/%Y %H:%M}' if when else ''}: {whose}")
        lines += [f"    {f.get('copy') or 'deleted under the retention policy'}" for f in report.files]
        if report.error:
            lines.append(f"    error: {report.error}")
    return lines
