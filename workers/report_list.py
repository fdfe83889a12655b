"""Reports as an operator lists them: whose, from which uploads, in what state, and where the files are."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.collections import in_london
from models import Report, School, Trust


def report_entries(session: Session, key: str | None = None, number: int | None = None,
                   ids: list[int] | None = None) -> Iterator[str]:
    """Each report's entry (a line, then its files and any error, indented), streamed in one
    query: a national window has 17,000 reports, listed without holding them all."""
    query = (select(Report, School.name, School.dfe, Trust.name)
             .outerjoin(School, School.id == Report.school_id)
             .outerjoin(Trust, Trust.id == Report.trust_id)
             .order_by(Report.collection_key, Report.window_number, Report.kind.desc(), Report.id)
             .execution_options(yield_per=500))
    if key is not None:
        query = query.where(Report.collection_key == key)
    if number is not None:
        query = query.where(Report.window_number == number)
    if ids is not None:
        query = query.where(Report.id.in_(ids))
    for report, school, dfe, trust in session.execute(query):
        if report.kind == "school":
            whose = f"{school} ({dfe}) from {', '.join(f'#{u}' for u in report.upload_ids)}"
        else:
            whose = f"trust bundle: {trust}"
        when = report.released_at or report.made_at
        lines = [f"#{report.id} {report.collection_key} window {report.window_number} "
                 f"{report.status}{f' {in_london(when):%d/%m/%Y %H:%M}' if when else ''}: {whose}"]
        lines += [f"    {f.get('copy') or 'deleted under the retention policy'}" for f in report.files]
        if report.error:
            lines.append(f"    error: {report.error}")
        yield "\n".join(lines)
