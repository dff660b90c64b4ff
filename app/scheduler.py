"""``linkwatch scheduler``: load → detect → report → deliver on a cron schedule.

APScheduler fires the ticks (no hand-written timing loop). One tick at a time, always: the job allows a
single running instance, a tick that comes while the previous one still runs is skipped (and logged), and a
lock file keeps a second scheduler process from starting. A tick that fails is logged and recorded as a
``(:Report {status: 'failed'})`` with the error; the scheduler carries on and tries again at the next tick.
"""
from __future__ import annotations

import argparse
import fcntl
import logging
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from graph import db
from graph.config import managed_paths, setting
from graph.errors import LinkwatchError

log = logging.getLogger("linkwatch.scheduler")


def cron_trigger(expression: str) -> CronTrigger:
    """A UTC trigger from a crontab line: 5 fields (minute hour day month weekday), or 6 with seconds first."""
    fields = expression.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expression, timezone=timezone.utc)
        if len(fields) == 6:
            second, minute, hour, day, month, weekday = fields
            return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                               day_of_week=weekday, timezone=timezone.utc)
    except ValueError as exc:
        raise LinkwatchError(f"bad schedule {expression!r}: {exc}") from None
    raise LinkwatchError(f"bad schedule {expression!r}: expected 5 cron fields (minute hour day month weekday) "
                         "or 6 (with seconds first)")


@dataclass
class TickResult:
    report_id: str
    ok: bool
    error: str = ""
    deliveries: list[str] = field(default_factory=list)


def tick(source: list[Path], engine: str, trigger: str = "schedule") -> TickResult:
    """One scheduled run. Never raises: a failure is logged and recorded, the next tick tries again."""
    from app import delivery
    from graph import reports

    started = datetime.now(timezone.utc)
    try:
        rejected = _load(source) if source else 0
        _detect(engine)
        result = reports.generate(trigger=trigger)
        outcomes = delivery.deliver(result.report_id, result.path, result.files, result.summary)
        deliveries = [str(o) for o in outcomes]
        db.run("schedule/report_details", report_id=result.report_id, started_at=started.isoformat(),
               deliveries=deliveries, rejected_rows=rejected)
        for outcome in outcomes:
            (log.info if outcome.ok else log.warning)("report %s delivery %s", result.report_id, outcome)
        log.info("report %s written to %s", result.report_id, result.path)
        return TickResult(result.report_id, True, deliveries=deliveries)
    except Exception as exc:  # noqa: BLE001 - any failure of a run is recorded, the scheduler must survive it
        error = str(exc) if isinstance(exc, LinkwatchError) else f"{type(exc).__name__}: {exc}"
        log.error("scheduled run failed: %s", error, exc_info=not isinstance(exc, LinkwatchError))
        try:
            if isinstance(exc, reports.ReportFailed) and exc.report_id:
                report_id = exc.report_id  # generate() recorded it already
            else:
                report_id = reports.record_failure(error, trigger=trigger)
            db.run("schedule/report_details", report_id=report_id, started_at=started.isoformat(),
                   deliveries=[], rejected_rows=0)
        except Exception as record_exc:  # noqa: BLE001 - e.g. Neo4j itself is down: the log is all we have
            log.error("could not record the failed run in Neo4j: %s", record_exc)
            report_id = ""
        return TickResult(report_id, False, error)


def _load(source: list[Path]) -> int:
    """Load the configured bundles (idempotent: the same export loaded twice changes nothing); rejected rows."""
    from loaders.pipeline import LoadOptions, load

    missing = [str(p) for p in source if not p.exists()]
    if missing:
        raise LinkwatchError(f"scheduled load: {', '.join(missing)} does not exist")
    rejects = managed_paths().home / "scheduler-rejects.csv"
    summary = load(source, LoadOptions(rejects_path=rejects, progress=False))
    rejected = sum(summary.log.rejected_rows.values())
    if rejected or summary.log.any:
        log.warning("scheduled load rejected %d row(s); see %s", rejected, rejects)
    return rejected


def _detect(engine: str) -> None:
    from graph.detect import pipeline

    result = pipeline.run(engine)
    log.info("detection run %s: %d campaigns tracked", result.run_id, len(result.campaigns))


@contextmanager
def single_instance(lock_path: Path):
    """Hold an exclusive lock for the scheduler's lifetime, so two schedulers never run jobs side by side."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LinkwatchError(f"another linkwatch scheduler is running (it holds {lock_path})") from None
        yield


class Scheduler:
    """A cron-driven loop of ticks, stoppable (signals, ``max_runs``) so tests and services can run it."""

    def __init__(self, expression: str, source: list[Path], engine: str, max_runs: int | None = None):
        self.trigger = cron_trigger(expression)
        self.source, self.engine, self.max_runs = source, engine, max_runs
        self.results: list[TickResult] = []
        self.skipped = 0
        self.done = threading.Event()
        self._running = threading.Lock()

    def _job(self) -> None:
        if not self._running.acquire(blocking=False):  # belt and braces: APScheduler already allows one instance
            self.skipped += 1
            return
        try:
            self.results.append(tick(self.source, self.engine))
        finally:
            self._running.release()
        if self.max_runs is not None and len(self.results) >= self.max_runs:
            self.done.set()

    def _on_skip(self, event) -> None:
        self.skipped += 1
        log.warning("tick at %s skipped: the previous run is still going", event.scheduled_run_times[0])

    def run(self, run_now: bool = False) -> list[TickResult]:
        scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)}, timezone=timezone.utc)
        scheduler.add_listener(self._on_skip, EVENT_JOB_MAX_INSTANCES)
        scheduler.add_job(self._job, self.trigger, id="linkwatch-run", max_instances=1, coalesce=True,
                          misfire_grace_time=60)
        if run_now:
            scheduler.add_job(self._job, id="linkwatch-run-now", max_instances=1)
        scheduler.start()
        log.info("scheduler started; next run at %s", scheduler.get_job("linkwatch-run").next_run_time)
        try:
            self.done.wait()
        finally:
            scheduler.shutdown(wait=True)  # let a running tick finish: no half-written report
        return self.results


def _scheduler(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if args.engine not in ("gds", "local"):
        raise LinkwatchError(f"LINKWATCH_SCHEDULE_ENGINE must be gds or local, got {args.engine!r}")
    source = [Path(p) for p in args.source] if args.source else [
        Path(p) for p in setting("LINKWATCH_SCHEDULE_SOURCE").split(",") if p.strip()]
    lock = managed_paths().home / "scheduler.lock"
    if args.once:
        with single_instance(lock):
            return 0 if tick(source, args.engine, trigger="cli").ok else 1
    scheduler = Scheduler(args.cron or setting("LINKWATCH_SCHEDULE"), source, args.engine, args.max_runs)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: scheduler.done.set())
    with single_instance(lock):
        results = scheduler.run(run_now=args.run_now)
    failed = sum(not r.ok for r in results)
    print(f"scheduler stopped after {len(results)} run(s), {failed} failed, {scheduler.skipped} tick(s) skipped")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "scheduler", help="run load → detect → report → deliver on a cron schedule",
        description="Every tick of the schedule: load the configured bundles, detect, write a report, deliver it "
                    "(folder / webhook / e-mail). One run at a time; a failed run is recorded and retried at the "
                    "next tick. See docs/reports.md.")
    parser.add_argument("--cron", metavar="EXPR",
                        help="crontab line in UTC, 5 fields or 6 with seconds first (default: LINKWATCH_SCHEDULE)")
    parser.add_argument("--source", action="append", metavar="DIR|FILE",
                        help="bundle to load at every tick (repeatable; default: LINKWATCH_SCHEDULE_SOURCE, "
                             "comma-separated; none = detect on what the graph holds)")
    parser.add_argument("--engine", choices=["gds", "local"], default=setting("LINKWATCH_SCHEDULE_ENGINE"),
                        help="detection engine (default: LINKWATCH_SCHEDULE_ENGINE)")
    parser.add_argument("--run-now", action="store_true", help="also run once right away")
    parser.add_argument("--max-runs", type=int, metavar="N", help="stop after N runs (default: run until stopped)")
    parser.add_argument("--once", action="store_true",
                        help="run one load → detect → report now and exit (exit 1 if it failed); for system cron")
    parser.set_defaults(handler=_scheduler)
