"""The school's status box, as the KS4 seed shows it for its MIS connection (Aspire Data Exchange)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.collections import Collection, in_london
from models import Partner, PartnerSchool, School


def status_box(session: Session, collections: dict[str, Collection], dfe: str,
               now: datetime) -> list[tuple[str, str]] | None:
    """(label, value) lines for the school; None when the school is not in the registry."""
    school = session.scalar(select(School).where(School.dfe == dfe))
    if school is None:
        return None
    links = session.execute(select(PartnerSchool, Partner).join(Partner)
                            .where(PartnerSchool.school_id == school.id)
                            .order_by(PartnerSchool.last_feed_at.desc().nulls_last())).all()
    connected = [(link, partner) for link, partner in links if link.status == "connected"]
    enabled = []
    for collection in sorted(collections.values(), key=lambda c: c.key):
        window = collection.window_for(now)
        if window is not None:
            enabled.append(f"{collection.name} (window {window.number} open until "
                           f"{in_london(window.closes):%d/%m/%Y %H:%M})")
    last = next(((link, partner) for link, partner in links if link.last_feed_at), None)
    return [
        ("School", f"{school.name} ({school.dfe})"),
        ("MIS connected", "Yes" if connected else "No"),
        ("Connection partner", ", ".join(p.name for _, p in connected) or "None"),
        ("Collection enabled", "; ".join(enabled) or "No collection is open now"),
        ("Last feed", f"{in_london(last[0].last_feed_at):%d/%m/%Y %H:%M} from {last[1].name}: "
                      f"{last[0].last_feed}" if last else "None received"),
    ]
