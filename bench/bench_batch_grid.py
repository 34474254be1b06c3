"""Benchmark 人员表格: the employer grid page for an employer of 1,000 persons (target: under
100 ms a page), on SQLite and PostgreSQL, in both modes, through the Flask app as a signed-in
centre clerk (the whole request: session, query, template).

    .venv/bin/python bench/bench_batch_grid.py [--persons 1000] [--rounds 5] [--skip-pg]

Prints the median and the slowest page per database and mode. Figures, never assertions.
"""
from __future__ import annotations

import argparse
from datetime import date
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.cli import seed_demo_users  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.procedures.batch.models import Batch, Employer, Person  # noqa: E402
from tests.fixtures_app import Browser  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def build(url: str, tmp: str, persons: int):
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp,
                      "SCHEDULER_IN_PROCESS": False, "TESTING": True})
    upgrade(url)
    factory = app.extensions["sscard"].session_factory
    with factory() as s, s.begin():
        seed_demo_users(s)
        batch = Batch(name="基准批次", cutoff=date(2026, 6, 30),
                      regions=["350581"], created_by="manager", office="SS-CENTRE", status="confirming")
        s.add(batch)
        s.flush()
        employer = Employer(batch_id=batch.id, code="BIG", name="大单位", region="350581",
                            eligible=persons, status="confirming")
        s.add(employer)
        s.flush()
        s.add_all(Person(batch_id=batch.id, employer_id=employer.id, id_number=f"9{i:017d}",
                         name=f"人员{i}", sex="1", eligibility="eligible", seq=i + 1, entry="out",
                         dept1="生产部") for i in range(persons))
        return app, employer.id


def measure(app, employer_id: int, persons: int, rounds: int) -> dict[str, list[float]]:
    web = Browser(app.test_client())
    web.login("centre")
    pages = max(1, (persons + 49) // 50)
    out = {}
    for mode in ("view", "entry"):
        web.get(f"/batches/employers/{employer_id}/persons?page=1&mode={mode}")  # warm up
        times = []
        for _ in range(rounds):
            for page in range(1, pages + 1):
                t = time.perf_counter()
                r = web.get(f"/batches/employers/{employer_id}/persons?page={page}&mode={mode}")
                times.append(time.perf_counter() - t)
                assert r.status_code == 200, r.status_code
        out[mode] = times
    return out


def report(name: str, results: dict[str, list[float]]) -> None:
    for mode, times in results.items():
        med, worst = statistics.median(times) * 1000, max(times) * 1000
        print(f"{name:10s} {mode:6s} pages {len(times):4d}  median {med:6.1f} ms  slowest {worst:6.1f} ms"
              f"  (target 100 ms: x{med / 100:.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, eid = build(f"sqlite:///{tmp}/grid.db", tmp, args.persons)
        report("SQLite", measure(app, eid, args.persons, args.rounds))
        app.extensions["sscard"].engine.dispose()
    if args.skip_pg:
        return 0
    import psycopg
    name = f"bench_grid_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as e:
        print(f"PostgreSQL skipped: {e}")
        return 0
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app, eid = build(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", tmp, args.persons)
            report("PostgreSQL", measure(app, eid, args.persons, args.rounds))
            app.extensions["sscard"].engine.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
