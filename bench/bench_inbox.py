"""Inbox paging with many tasks: time of a page near the start and far down the list.

Keyset paging (due date, id) keeps every page an index range scan, so page 400 should cost
what page 1 costs. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_inbox.py [--tasks 50000] [--url postgresql+psycopg://...]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.engine.models import HumanTask, ProcessInstance, ProcessModel  # noqa: E402
from app.inbox.queries import tasks  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.sla.calendar import WorkingDayCalendar  # noqa: E402


class FakeUser:
    """A window clerk whose office's cases are the bench's (cases without an office)."""
    id = 1
    office = "ICBC-SS"
    group_names = frozenset({"window_clerk"})
    _sscard_offices = frozenset({"ICBC-SS"})  # app.cases.access.offices_of reads it first


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=50000)
    ap.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    db = f"bench_inbox_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{db}"'))
    url = args.url.rsplit("/", 1)[0] + "/" + db
    try:
        upgrade(url)
        engine = create_engine(url)
        now = datetime.now(timezone.utc)
        with Session(engine) as s:
            model = ProcessModel(key="bench", version=1, sha256="0" * 64, bpmn_xml="<x/>", file_name="b.bpmn")
            s.add(model)
            s.flush()
            s.execute(insert(ProcessInstance), [
                {"model_id": model.id, "process_key": "bench", "status": "running", "state": "{}", "summary": {},
                 "deadline_at": now + timedelta(days=i % 40)} for i in range(args.tasks)])
            ids = [r[0] for r in s.execute(text("SELECT id FROM process_instance ORDER BY id"))]
            s.execute(insert(HumanTask), [
                {"instance_id": iid, "task_guid": str(uuid.uuid4()), "task_name": "t", "title": "任务",
                 "group": "window_clerk", "state": "open", "due_at": now + timedelta(hours=i % 900)}
                for i, iid in enumerate(ids)])
            s.commit()
            s.execute(text("ANALYZE"))
        cal = WorkingDayCalendar()
        with Session(engine) as s:
            cursor, page, times = None, 0, {}
            pages = args.tasks // 25
            wanted = {1, 10, 100, pages // 2, pages}
            while True:
                page += 1
                this_page = cursor
                started = time.perf_counter()
                rows, cursor = tasks(s, FakeUser(), "group", cal, date.today(), after=this_page, limit=25)
                if page in wanted:
                    times[page] = [(time.perf_counter() - started) * 1000]
                    for _ in range(9):  # repeat this page for a median
                        t0 = time.perf_counter()
                        tasks(s, FakeUser(), "group", cal, date.today(), after=this_page, limit=25)
                        times[page].append((time.perf_counter() - t0) * 1000)
                if cursor is None:
                    break
        print(f"{args.tasks} open tasks on PostgreSQL, 25 per page ({pages} pages)")
        for p, ms in sorted(times.items()):
            print(f"  page {p:5d}: median {statistics.median(ms):6.2f} ms")
    finally:
        engine.dispose() if "engine" in locals() else None
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
