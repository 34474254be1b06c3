"""The timer scheduler (定时任务调度): fires due BPMN timers every few seconds.

In the web process::

    scheduler = start_in_process(SessionFactory)      # a daemon thread
    ...
    scheduler.shutdown()

As its own process (any number of them on one PostgreSQL)::

    DATABASE_URL=postgresql+psycopg://... python -m app.scheduler [--interval 2]

Several schedulers never fire a timer twice: see :mod:`app.engine.timers`.
"""
from __future__ import annotations

import argparse
import logging
import os
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from app.engine.recompute import process_calendar_changes
from app.engine.timers import fire_due_timers

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 2.0  # seconds
JOB_ID = "sscard-fire-due-timers"


#: Extra work for each round, added by plugins: ``fn(session_factory)`` (e.g. the calendar's
#: "enter next year" task). A failing one is logged and does not stop the timers.
ROUND_HOOKS: list[Callable[[Callable[[], Session]], None]] = []


def _job(session_factory: Callable[[], Session], limit: int) -> None:
    # A calendar change not yet applied (the process entering it crashed) is finished first,
    # so timers fire on the dates it gives.
    try:
        process_calendar_changes(session_factory)
    except Exception:
        log.exception("calendar changes not applied this round")
    for hook in ROUND_HOOKS:
        try:
            hook(session_factory)
        except Exception:
            log.exception("scheduler hook %s failed", getattr(hook, "__name__", hook))
    # Keep firing while full batches come back, so a backlog drains within one run.
    while True:
        fired = fire_due_timers(session_factory, limit=limit)
        if fired:
            log.info("fired %d timer(s)", fired)
        if fired < limit:
            return


def _add_job(scheduler, session_factory, interval: float, limit: int) -> None:
    scheduler.add_job(_job, "interval", seconds=interval, args=(session_factory, limit),
                      id=JOB_ID, max_instances=1, coalesce=True, replace_existing=True)


def start_in_process(session_factory: Callable[[], Session], interval: float = DEFAULT_INTERVAL,
                     limit: int = 100) -> BackgroundScheduler:
    """Start a background (daemon thread) scheduler in this process; returns it for
    ``shutdown()``."""
    scheduler = BackgroundScheduler(daemon=True)
    _add_job(scheduler, session_factory, interval, limit)
    scheduler.start()
    return scheduler


def main(argv: list[str] | None = None, load_plugins: Callable[[], object] | None = None) -> None:
    """A standalone scheduler on ``DATABASE_URL``. ``load_plugins`` imports what registers the
    service operations (the engine knows no procedure): ``python -m app.scheduler`` passes
    the procedure families."""
    from app.engine.db import make_engine

    parser = argparse.ArgumentParser(description="Fire due BPMN timers (定时器调度)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or pass --database-url")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line every 2 s
    if load_plugins is not None:
        load_plugins()
    session_factory = sessionmaker(make_engine(args.database_url))
    scheduler = BlockingScheduler()
    _add_job(scheduler, session_factory, args.interval, args.limit)
    log.info("timer scheduler started (every %ss)", args.interval)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


if __name__ == "__main__":
    main()
