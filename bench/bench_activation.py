"""Benchmark 统一启用: activate an issuance round of N cards on SQLite and/or PostgreSQL.

    .venv/bin/python bench/bench_activation.py [--cards 10000] [--database sqlite|postgresql|both]
                                               [--chunk 1000] [--pg ADMIN_URL] [--no-analyze]

Builds a closed round of N cards with set-based SQL (``tests/procedures/lifecycle/scale.py``:
85 % of the cards left the centre, 10 % wait, 5 % invalidated; a medical-insurance account per
person), starts the round as a manager would (``activation.start_round``), then runs the job
``lifecycle.activate_round`` in a child process of its own (``--run-job``), exactly as a worker
would: the job's seconds (measured in that process, start-up excluded; cards/s counts the cards
activated) and that process's peak memory (its own rusage, via wait4) are what is measured.
The outcome is checked against the build (MISMATCH is printed loudly when it differs).

SQLite is a fresh file in a temporary directory; PostgreSQL a fresh database on 127.0.0.1:5432
(user postgres, or --pg ADMIN_URL), dropped afterwards (skipped with a message when the server
does not answer). On PostgreSQL the tables are ANALYZEd after the build (a real database has
statistics: autovacuum keeps them; ``--no-analyze`` shows the cold case). Figures are printed,
never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _factory(url: str):
    from app.database import make_session_factory
    from app.engine.db import make_engine
    from app.wiring import configure_engine
    configure_engine()
    return make_session_factory(make_engine(url))


def run_job(url: str, job_id: int) -> int:
    """The child: run the job to its end in this process; its result as JSON on stdout."""
    from app.engine import jobs
    factory = _factory(url)
    t0 = time.perf_counter()
    state = jobs.run_now(factory, job_id)
    seconds = time.perf_counter() - t0
    with factory() as s:
        job = s.get(jobs.BackgroundJob, job_id)
        print(json.dumps({"state": state, "result": job.result, "error": job.error_en,
                          "seconds": seconds}))
    return 0 if state == "done" else 1


def child(url: str, job_id: int, log: Path) -> tuple[int, float, int, str]:
    """(exit status, seconds, peak RSS in KB, stdout) of the job's own process."""
    args = [sys.executable, str(Path(__file__).resolve()), "--run-job", str(job_id), "--url", url]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("TEST_DATABASE_URL", None)
    with open(log, "ab") as err, tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss, text


def bench(label: str, url: str, cards: int, chunk: int, analyze: bool, log: Path) -> dict:
    from datetime import date

    from app.migrate import upgrade
    from app.procedures.lifecycle import activation
    from tests.procedures.lifecycle.scale import build_round

    print(f"\n== {label}: {url}")
    upgrade(url)
    factory = _factory(url)
    t0 = time.perf_counter()
    with factory() as s, s.begin():
        built = build_round(s, cards, name=f"bench {cards}")
    build_secs = time.perf_counter() - t0
    print(f"   build          {build_secs:6.1f} s  ({cards:,} cards: {built.left:,} left the centre, "
          f"{built.waiting:,} waiting, {built.invalidated:,} invalidated)")
    if analyze and url.startswith("postgresql"):
        with factory() as s, s.begin():
            s.connection().exec_driver_sql("ANALYZE")
    with factory() as s, s.begin():
        row = activation.start_round(s, built.batch_id, date.today(), "bench", "SS-CENTRE", chunk=chunk)
        job_id = row.job_id
    factory.kw["bind"].dispose()
    rc, secs, rss, out = child(url, job_id, log)
    got = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    result = got.get("result") or {}
    want = {"activated": built.left, "waiting": built.waiting, "moved_cents": built.left_cents}
    diff = {k: (result.get(k), v) for k, v in want.items() if result.get(k) != v}
    if rc != 0 or diff:
        print("   " + "!" * 70)
        print(f"   !!!!! MISMATCH (exit {rc}, {got.get('error')}): " + json.dumps(diff))
        print("   " + "!" * 70)
    job_secs = float(got.get("seconds") or secs)
    rate = built.left / job_secs
    print(f"   activation job {job_secs:6.1f} s  {rate:,.0f} cards/s  peak {rss / 1024:.0f} MB "
          f"(chunks of {chunk:,}; the worker process: {secs:.1f} s with its start-up)")
    print(f"   outcome {'matches' if not diff and rc == 0 else 'DOES NOT MATCH'} the build: "
          + json.dumps(result, ensure_ascii=False))
    return {"label": label, "seconds": job_secs, "process": secs, "rate": rate, "rss_mb": rss / 1024,
            "build": build_secs, "ok": not diff and rc == 0}


def pg_connect(url: str):
    import psycopg
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1),
                           connect_timeout=3, autocommit=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cards", type=int, default=10_000)
    ap.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--chunk", type=int, default=1000, help="cards per transaction of the job")
    ap.add_argument("--pg", default=PG_ADMIN, help="admin URL of the PostgreSQL server "
                                                   "(a fresh database is made there)")
    ap.add_argument("--no-analyze", action="store_true", help="PostgreSQL: no ANALYZE after the build")
    ap.add_argument("--run-job", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run_job:
        return run_job(args.url, args.run_job)

    tmp = Path(tempfile.mkdtemp(prefix="sscard-bench-activation-"))
    log = tmp / "job.log"
    results = []
    try:
        if args.database in ("sqlite", "both"):
            results.append(bench("SQLite", f"sqlite:///{tmp / 'sscard.db'}", args.cards, args.chunk,
                                 not args.no_analyze, log))
        if args.database in ("postgresql", "both"):
            name = f"sscard_bench_{secrets.token_hex(4)}"
            try:
                with closing(pg_connect(args.pg)) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
            except Exception as e:
                print(f"\n== PostgreSQL: skipped, {args.pg} not reachable ({type(e).__name__})")
            else:
                try:
                    results.append(bench("PostgreSQL", args.pg.rsplit("/", 1)[0] + "/" + name,
                                         args.cards, args.chunk, not args.no_analyze, log))
                finally:
                    with closing(pg_connect(args.pg)) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        if log.exists() and log.stat().st_size:
            print(f"\njob log (last lines of {log}):")
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines()[-10:]:
                print("   | " + line)
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)

    print("\nsummary")
    print(f"{'database':<12} {'cards':>8} {'job s':>7} {'cards/s':>9} {'peak MB':>8} {'process s':>10} "
          f"{'build s':>8}  outcome")
    for r in results:
        print(f"{r['label']:<12} {args.cards:8,} {r['seconds']:7.1f} {r['rate']:9,.0f} {r['rss_mb']:8.0f} "
              f"{r['process']:10.1f} {r['build']:8.1f}  {'ok' if r['ok'] else 'MISMATCH'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
