"""End to end through the real stack: files handed to ``receive()`` as fast as the intake takes
them, validated by ``ers worker`` processes over RabbitMQ and PostgreSQL, answered in the outbox.

Two bursts on one seeded world: a mixed one (KS1 templates, KS2 portal CSVs, KS4 GCSE templates)
and a KS4-only one judged against the issue's target. Throughput is files over the time from the
first ``receive()`` call to the last result email row; latency is each upload's own ``receive()``
start to its own result row's ``created_at`` (stamped in the worker's transaction), so a queue
that builds up during a burst shows in p95 as schools would feel it.
"""
from __future__ import annotations

import os
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from intake.demo_world import RosterPupil, roster_csv
from intake.receive import receive
from intake.registry_import import import_contacts, import_gias, import_roster
from models import OutgoingEmail, Upload, UploadStatus
from tests.bench import world
from tests.bench.figures import Measured, median, percentile
from tests.bench.stack import (Processes, ers_env, fresh_database, open_app, private_vhost,
                               rabbitmq, service, stop_after_failure, wait_for_output,
                               write_collections)
from workers.app import App

SECTION = "pipeline"
KS4_TARGET = 50.0      # KS4 uploads/s end to end on the 2-core bench machine (the target)
PUPILS = {"ks1": (60, 2), "ks2": (60, 6), "ks4": (250, 11)}  # (roll, NC year) of each kind's file
STALL_SECONDS = 180.0  # no new answer for this long means something is stuck: fail, do not hang
Say = Callable[[str], None]


@dataclass(frozen=True)
class Planned:
    """One file of a burst: a real school's results of one kind, first or corrected."""
    kind: str                    # "ks1", "ks2" or "ks4"
    school: world.BenchSchool
    change: int = 0              # 0: the school's first file; 1: its corrected second file

    @property
    def file_name(self) -> str:
        extension = "csv" if self.kind == "ks2" else "xlsx"
        return f"{self.school.dfe} {self.kind.upper()}{' corrected' if self.change else ''}.{extension}"


@dataclass
class Burst:
    name: str
    files: list[Planned]
    datas: list[bytes]
    target: float | None = None  # uploads/s the issue asks for, when it asks
    load_before: float = 0.0     # 1-minute load average as the burst began: others' work shows


@dataclass(frozen=True)
class Sent:
    upload_id: int
    started: float               # epoch seconds when receive() was called
    returned: float              # ... and when it returned (committed and enqueued)


# --- the world and the files ---------------------------------------------------------------------

def corrections(count: int) -> int:
    """About one file in ten is a school's corrected second file (at least one in any burst of
    two or more, so supersession is always exercised)."""
    return max(count // 10, 1 if count >= 2 else 0)


def schools_needed(count: int) -> int:
    return count - corrections(count)


def mixed_counts(burst: int) -> dict[str, int]:
    third = burst // 3
    return {"ks1": third, "ks2": third, "ks4": burst - 2 * third}


def plan(counts: dict[str, int], schools: dict[str, list[world.BenchSchool]],
         seed: int) -> list[Planned]:
    """Each kind's files from its schools (a correction from the first few), shuffled into one
    arrival order in which every correction comes after its school's first file."""
    files = []
    for kind, count in counts.items():
        own = schools[kind][:schools_needed(count)]
        files += [Planned(kind, s) for s in own]
        files += [Planned(kind, s, 1) for s in own[:corrections(count)]]
    random.Random(seed).shuffle(files)
    first: dict[tuple[str, str], int] = {}
    for i, planned in enumerate(files):
        key = (planned.kind, planned.school.dfe)
        if key in first and planned.change == 0:  # the correction was drawn first: swap the two
            j = first[key]
            files[i], files[j] = files[j], files[i]
        first.setdefault(key, i)
    return files


def make_file(planned: Planned) -> bytes:
    """The file's bytes; a module-level function so a process pool can build files in parallel."""
    size, year = PUPILS[planned.kind]
    roll = world.pupils(planned.school, size, year)
    if planned.kind == "ks1":
        return world.ks1_workbook(roll, seed=7 + planned.change)
    if planned.kind == "ks2":
        return world.ks2_full_csv(roll, change=planned.change)
    return world.ks4_gcse_workbook(roll, change=planned.change)


def make_files(files: list[Planned]) -> list[bytes]:
    """Every file built before the clock starts (openpyxl takes ~0.1 s for a KS4 workbook)."""
    if len(files) < 50:
        return [make_file(p) for p in files]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(make_file, files, chunksize=16))


def roster(school: world.BenchSchool) -> list[RosterPupil]:
    """The year groups the school's files are checked against: Years 2 and 6, or Year 11."""
    kinds = ("ks4",) if school.phase == "Secondary" else ("ks1", "ks2")
    return [p for kind in kinds for p in world.pupils(school, *PUPILS[kind])]


def seed_world(app: App, every: list[world.BenchSchool], say: Say) -> None:
    """Schools, contacts and rosters imported as an operator would, rosters in slices so no
    transaction holds a national roster in memory at once."""
    with app.sessions.begin() as session:
        import_gias(session, world.gias_csv(every))
        import_contacts(session, world.contacts_csv(every))
    for start in range(0, len(every), 100):
        with app.sessions.begin() as session:
            import_roster(session, roster_csv([p for s in every[start:start + 100] for p in roster(s)]))
    say(f"{SECTION}: world of {len(every)} schools with their rosters imported")


# --- one burst -----------------------------------------------------------------------------------

def send_all(app: App, burst: Burst, senders: int) -> list[Future]:
    """Hand every file to receive() from ``senders`` threads, as that many intake processes would;
    returns at once (the futures finish as the intake does)."""
    def one(i: int) -> Sent:
        planned = burst.files[i]
        started = time.time()
        receipt = receive(app, burst.datas[i], file_name=planned.file_name,
                          sender=planned.school.email, channel="cli")
        return Sent(receipt.upload_ids[0], started, time.time())

    pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="bench-intake")
    futures = [pool.submit(one, i) for i in range(len(burst.files))]
    pool.shutdown(wait=False)
    return futures


def answered_since(app: App, baseline: int) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(OutgoingEmail).where(
            OutgoingEmail.kind == "result", OutgoingEmail.upload_id > baseline))


def unsent_since(app: App, baseline: int) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(OutgoingEmail).where(
            OutgoingEmail.upload_id > baseline, OutgoingEmail.status.in_(("pending", "sending"))))


def wait_for(what: Callable[[], int], count: int, processes: Processes, say: Say, label: str,
             futures: list[Future] = ()) -> None:
    """Poll until ``what()`` reaches ``count``, saying so every 10%; fail when a worker or a sender
    died, or when nothing moved for STALL_SECONDS."""
    step, said = max(1, count // 10), 0
    begun = last_move = time.monotonic()
    last = -1
    while True:
        processes.check_alive()
        for future in futures:
            if future.done() and future.exception() is not None:
                raise RuntimeError(f"{label}: receive() failed") from future.exception()
        done = what()
        now = time.monotonic()
        if done != last:
            last, last_move = done, now
        if done >= count or done // step > said:
            said = done // step
            received = sum(f.done() for f in futures)
            say(f"{SECTION}: {label}: {done}/{count} ({100 * done // max(count, 1)}%)"
                + (f", {received} received" if futures else "") + f", {now - begun:.1f} s")
        if done >= count:
            return
        if now - last_move > STALL_SECONDS:
            raise RuntimeError(f"{label}: stuck at {done}/{count} for {STALL_SECONDS:.0f} s")
        time.sleep(0.5)


def check_answers(app: App, sent: list[Sent], baseline: int) -> tuple[dict[int, float], Counter]:
    """Each upload's own result email time (epoch s), after checking that every upload of the
    burst has exactly one receipt and one result, every email was relayed, and no file was
    refused (the bench sends only valid files, so a refusal means it measured the wrong work)."""
    with app.sessions() as session:
        rows = session.execute(select(OutgoingEmail.upload_id, OutgoingEmail.kind,
                                      OutgoingEmail.created_at, OutgoingEmail.status)
                               .where(OutgoingEmail.upload_id > baseline)).all()
        uploads = session.execute(select(Upload.id, Upload.status, Upload.reason, Upload.errors)
                                  .where(Upload.id > baseline)).all()
    results: dict[int, list[float]] = defaultdict(list)
    receipts: Counter = Counter()
    for upload_id, kind, created_at, status in rows:
        if status != "sent":
            raise RuntimeError(f"the {kind} email of upload #{upload_id} is {status}, not sent")
        if kind == "result":
            results[upload_id].append(created_at.timestamp())
        elif kind == "receipt":
            receipts[upload_id] += 1
    ours = {s.upload_id for s in sent}
    problems = [f"upload #{u}: {len(results[u])} result email(s), {receipts[u]} receipt(s)"
                for u in sorted(ours) if len(results[u]) != 1 or receipts[u] != 1]
    problems += [f"upload #{u} is not one this burst sent" for u in sorted(set(results) - ours)]
    refused = [f"upload #{u}: {reason or errors[:2]}" for u, status, reason, errors in uploads
               if status == UploadStatus.ERROR]
    if problems or refused or len(uploads) != len(ours):
        raise RuntimeError(f"{len(problems)} upload(s) not answered exactly once, {len(refused)} "
                           f"refused, {len(uploads)} uploads for {len(ours)} files:\n  "
                           + "\n  ".join((problems + refused)[:20]))
    return {u: results[u][0] for u in ours}, Counter(status for _, status, _, _ in uploads)


def check_supersession(burst: Burst, statuses: Counter) -> None:
    """KS1 and KS2: one current file per school and kind, each earlier one Overwritten; KS4 waits
    for confirmation. Counted, so it holds whichever of two files a worker finished first."""
    kinds = Counter(p.kind for p in burst.files)
    schools = {(p.kind, p.school.dfe) for p in burst.files}
    current = sum(1 for kind, _ in schools if kind != "ks4")
    expected = Counter({UploadStatus.SUCCESSFUL.value: current,
                        UploadStatus.OVERWRITTEN.value: kinds["ks1"] + kinds["ks2"] - current,
                        UploadStatus.AWAITING.value: kinds["ks4"]})
    if +expected != +Counter({str(k): v for k, v in statuses.items()}):
        raise RuntimeError(f"{burst.name}: upload statuses {dict(statuses)}, expected {dict(+expected)}")


def run_burst(app: App, burst: Burst, processes: Processes, senders: int,
              say: Say) -> tuple[list[Sent], dict[int, float], Counter]:
    """Send the burst, wait for every result and for the outbox to drain, check every answer."""
    with app.sessions() as session:
        baseline = session.scalar(select(func.coalesce(func.max(Upload.id), 0)))
    burst.load_before = os.getloadavg()[0]
    say(f"{SECTION}: {burst.name}: sending {len(burst.files)} files from {senders} intake threads")
    futures = send_all(app, burst, senders)
    try:
        wait_for(lambda: answered_since(app, baseline), len(burst.files), processes, say,
                 f"{burst.name}: answered", futures)
    except BaseException:
        for future in futures:  # files not yet handed to receive() are not sent at all
            future.cancel()
        raise
    sent = [f.result() for f in futures]
    wait_for(lambda: len(burst.files) * 2 - unsent_since(app, baseline), len(burst.files) * 2,
             processes, lambda _: None, f"{burst.name}: relayed")
    answered, statuses = check_answers(app, sent, baseline)
    check_supersession(burst, statuses)
    return sent, answered, statuses


def figures(burst: Burst, sent: list[Sent], answered: dict[int, float], statuses: Counter,
            detail: dict) -> list[Measured]:
    """Throughput and p50/p95 latency of one burst; intake rate and status counts as detail."""
    first = min(s.started for s in sent)
    span = max(answered.values()) - first
    rate = len(sent) / span
    latencies = [answered[s.upload_id] - s.started for s in sent]
    intake = [s.returned - s.started for s in sent]
    detail = {**detail, "files": len(sent), "kinds": dict(Counter(p.kind for p in burst.files)),
              "corrected": sum(p.change for p in burst.files), "statuses": dict(statuses),
              "seconds": round(span, 2),
              "intake_files_per_s": round(len(sent) / (max(s.returned for s in sent) - first), 1),
              "receive_ms_p50": round(median(intake) * 1e3, 1),
              "receive_ms_p95": round(percentile(intake, 95) * 1e3, 1),
              "load_before": round(burst.load_before, 2)}
    target = f">= {burst.target:g} uploads/s" if burst.target else ""
    met = None if burst.target is None else rate >= burst.target
    return [Measured(SECTION, f"uploads/s end to end, {burst.name}", rate, "uploads/s",
                     target=target, met=met, detail=detail),
            Measured(SECTION, f"receive() -> result email p50, {burst.name}",
                     median(latencies), "s", detail={"files": len(sent)}),
            Measured(SECTION, f"receive() -> result email p95, {burst.name}",
                     percentile(latencies, 95), "s", detail={"files": len(sent),
                                                             "max_s": round(max(latencies), 2)})]


# --- the section ---------------------------------------------------------------------------------

def bursts(burst: int, ks4_burst: int) -> tuple[list[world.BenchSchool], list[Burst]]:
    """The schools of the world and the two bursts' plans (files not built yet)."""
    counts = mixed_counts(burst)
    primary = world.schools(max(schools_needed(counts["ks1"]), schools_needed(counts["ks2"]), 1),
                            "Primary")
    secondary = world.schools(schools_needed(counts["ks4"]) + schools_needed(ks4_burst), "Secondary")
    mixed_secondary = secondary[:schools_needed(counts["ks4"])]
    planned = [Burst(f"{burst} mixed files", plan(counts, {"ks1": primary, "ks2": primary,
                                                          "ks4": mixed_secondary}, seed=1), []),
               Burst(f"{ks4_burst} KS4 GCSE files", plan(
                   {"ks4": ks4_burst}, {"ks4": secondary[len(mixed_secondary):]}, seed=2), [],
                   target=KS4_TARGET)]
    return primary + secondary, [b for b in planned if b.files]


def run(burst: int = 2000, ks4_burst: int = 1000, workers: int = 2, threads: int = 4,
        senders: int = 4, say: Say = print) -> list[Measured]:
    """``workers`` `ers worker` processes with ``threads`` threads each; ``senders`` threads
    calling receive() in this process (the intake)."""
    schools, planned = bursts(burst, ks4_burst)
    for each in planned:
        say(f"{SECTION}: building {len(each.files)} files for the {each.name} burst")
        each.datas = make_files(each.files)
    with fresh_database() as database_url, private_vhost(service("ERS_TEST_AMQP_URL")) as amqp, \
            rabbitmq(amqp), tempfile.TemporaryDirectory(prefix="ers-bench-pipeline-") as folder:
        root = Path(folder)
        collections = write_collections(root)
        app = open_app(root / "data", database_url, amqp, collections)
        processes = Processes()
        try:
            seed_world(app, schools, say)
            env = ers_env(root / "data", database_url, amqp, collections)
            for n in range(workers):
                process = processes.start(["worker", "--threads", str(threads)], env,
                                          root / f"worker-{n}.log")
                wait_for_output(processes, process, "Worker running")
            results = [run_burst(app, each, processes, senders, say) for each in planned]
        except BaseException:
            stop_after_failure(processes, say)
            raise
        finally:
            processes.stop()
            app.engine.dispose()
    rss = processes.peak_rss_mb
    detail = {"workers": workers, "threads": threads, "senders": senders,
              "worker_peak_rss_mb": [round(m, 1) for m in rss]}
    measured = [m for each, result in zip(planned, results) for m in figures(each, *result, detail)]
    measured.append(Measured(SECTION, f"ers worker peak RSS (largest of {workers})", max(rss), "MB",
                             detail={"each_mb": [round(m, 1) for m in rss]}))
    for m in measured:
        say(f"{SECTION}: {m.name}: {m.value:.3g} {m.unit}"
            + ("" if m.met is None else f" (target {m.target}: {'met' if m.met else 'NOT met'})"))
    return measured
