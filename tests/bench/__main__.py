"""`python -m tests.bench` (what `make bench` runs): every section, a table, and JSON under var/bench/.

The defaults are a small results day that runs in a few minutes; `--schools 16000` is a national
KS2 window. Sections needing the real services (everything but validation) say so plainly when
they are not running.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.bench.figures import Measured, table, write_json
from tests.bench.stack import ServicesMissing

SECTIONS = ("validation", "pipeline", "close", "email")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="make bench ARGS=... (or python -m tests.bench)",
        description="Benchmarks of the early results service at results-day scale, each beside "
                    "a floor measured in the same run (the same work without our code). Prints a "
                    "table and writes JSON to --out.",
        epilog="National scale: --schools 16000 (a KS2 window of every primary school). "
               "Sections other than validation need the services `make bench` starts.")
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (default: all)")
    p.add_argument("--schools", default="2000",
                   help="schools in the closed window; a comma list runs each size, showing how "
                        "time and memory grow (default: 2000)")
    p.add_argument("--pupils", type=int, default=45,
                   help="Year 6 pupils per school in the closed window (default: 45, the "
                        "national average)")
    p.add_argument("--burst", type=int, default=2000,
                   help="mixed files (KS1, KS2, KS4) in the end-to-end burst (default: 2000)")
    p.add_argument("--ks4-burst", type=int, default=1000,
                   help="KS4 GCSE files (250 pupils each) in the KS4 end-to-end burst (default: 1000)")
    p.add_argument("--emails", type=int, default=50,
                   help="emails sent one at a time for the answer latency (default: 50)")
    p.add_argument("--workers", type=int, default=2,
                   help="`ers worker` processes (default: 2, one per core of the bench machine)")
    p.add_argument("--repeats", type=int, default=50,
                   help="timed repeats per file for the validation medians (default: 50)")
    p.add_argument("--out", type=Path, default=Path("var/bench"),
                   help="folder for the JSON results (default: var/bench)")
    return p


def run_section(name: str, args: argparse.Namespace) -> list[Measured]:
    say = lambda line: print(line, flush=True)  # noqa: E731
    if name == "validation":
        from tests.bench import validation
        return validation.run(repeats=args.repeats, say=say)
    if name == "close":
        from tests.bench import closing
        sizes = [int(n) for n in args.schools.split(",")]
        return closing.run(sizes, per_school=args.pupils, workers=args.workers, say=say)
    if name == "pipeline":
        from tests.bench import pipeline
        return pipeline.run(burst=args.burst, ks4_burst=args.ks4_burst, workers=args.workers,
                            say=say)
    from tests.bench import email_latency
    return email_latency.run(messages=args.emails, say=say)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        print(f"Unknown section(s): {', '.join(unknown)}. Sections: {', '.join(SECTIONS)}.",
              file=sys.stderr)
        return 2
    measured: list[Measured] = []
    missing: list[str] = []
    for name in chosen:
        started = time.perf_counter()
        print(f"== {name} ==", flush=True)
        try:
            measured += run_section(name, args)
        except ServicesMissing as exc:
            missing.append(f"{name}: {exc}")
            print(f"{name}: skipped: {exc}", flush=True)
            continue
        print(f"== {name}: {time.perf_counter() - started:.0f} s ==", flush=True)
    print()
    print(table(measured))
    if measured:
        path = write_json(measured, args.out, {k: str(v) for k, v in vars(args).items()})
        print(f"\nJSON: {path} (and {args.out / 'latest.json'})")
    for line in missing:
        print(f"Not run: {line}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
