"""``ers audit``: seal the audit trail into its hash chain, verify the chain, list events."""
from __future__ import annotations

import argparse
import json
import sys


def cmd_audit_seal(args) -> int:
    from intake.cli import _app
    from models.audit_chain import ChainBroken, head, seal

    app = _app(args)
    try:
        sealed = seal(app)
    except ChainBroken as exc:
        print(f"Not sealed: {exc}", file=sys.stderr)
        return 1
    print(f"{sealed} event(s) sealed; chain head {head(app)} (seq:hash; keep it to check "
          "against later with `ers audit verify --expect`).")
    return 0


def cmd_audit_verify(args) -> int:
    from intake.cli import _app
    from models.audit_chain import Head, verify

    try:
        expect = Head.parse(args.expect) if args.expect else None
    except ValueError as exc:
        print(f"--expect: {exc}", file=sys.stderr)
        return 2
    result = verify(_app(args), expect=expect)
    if not result.ok:
        print(f"Audit trail check failed after {result.verified} good event(s): {result.problem}.",
              file=sys.stderr)
        return 1
    print(f"{result.verified} events verified, chain head {result.head.hash} (seq {result.head.seq})"
          + (f"; checked against the recorded head at seq {expect.seq}" if expect else "") + ".")
    print(f"{result.unsealed} event(s) not sealed yet" + (" (`ers audit seal` or the scheduler "
          "seals them)." if result.unsealed else "."))
    return 0


def cmd_audit_show(args) -> int:
    from config.collections import in_london
    from intake.cli import _app
    from models.audit_chain import events

    for row in events(_app(args), entity=args.entity, entity_id=args.id, limit=args.limit):
        place = f"seq {row.seq}" if row.seq is not None else "unsealed"
        print(f"#{row.id}  {place:<10} {in_london(row.at):%d/%m/%Y %H:%M:%S}  {row.actor}  "
              f"{row.entity} {row.entity_id}  {row.action}"
              + (f"  {json.dumps(row.detail, sort_keys=True)}" if row.detail else ""))
    return 0


def add_commands(sub: argparse._SubParsersAction, command) -> None:
    """Register ``ers audit seal|verify|show``; ``command`` is ``build_parser``'s helper."""
    g = sub.add_parser("audit", help="The audit trail: every state change, sealed into a hash chain.",
                       description="The audit trail: every state change, sealed into a hash chain "
                       "so that an edit or removal is detected.")
    gsub = g.add_subparsers(dest="action", required=True, metavar="ACTION")
    command("seal", cmd_audit_seal, "Seal the events written since the last seal into the chain "
            "now (the scheduler does it every tick) and print the new chain head.", gsub)
    p = command("verify", cmd_audit_verify, "Recompute the whole chain without sealing anything. "
                "Exit 0 if it is intact, 1 with the first problem (an event changed, removed or "
                "inserted).", gsub)
    p.add_argument("--expect", metavar="SEQ:HASH", help="a chain head recorded earlier (printed "
                   "by `ers audit seal` and the scheduler): the chain must still pass through it")
    p = command("show", cmd_audit_show, "List audit events, newest first, with their seq in the "
                "chain (or 'unsealed').", gsub)
    p.add_argument("--entity", metavar="ENTITY", help="only this kind of thing (upload, email, "
                   "window, report, feed)")
    p.add_argument("--id", metavar="ID", help="only this entity id")
    p.add_argument("--limit", type=int, default=50, help="at most this many events (default 50)")
