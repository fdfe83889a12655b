"""The scheduler seals the audit trail on every tick, so the chain keeps up without anyone asking."""
from __future__ import annotations

from models.audit import audit
from models.audit_chain import head, verify
from workers.scheduler import tick


def test_a_tick_seals_new_events_and_logs_the_chain_head(app):
    with app.sessions.begin() as session:
        for n in range(3):
            audit(session, "ops@example.org", "upload", n, "received")
    lines = tick(app).lines
    assert f"3 audit event(s) sealed, chain head {head(app)}" in lines
    result = verify(app)
    assert result.ok and result.unsealed == 0 and result.verified >= 3
    assert not [line for line in tick(app).lines if "audit" in line]  # nothing new: no line
