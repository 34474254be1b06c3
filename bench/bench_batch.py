"""Benchmark 批量导入: import a city's contribution export of N persons on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_batch.py [--persons 100000] [--seed 1] [--skip-pg] [--xlsx]

Generates N persons in N/50 employers with a police extract (Ningbo's configuration, the batch
takes five of its six regions so that persons outside the batch and medical insurance elsewhere
occur; ``app.procedures.batch.generate``), then on each database runs the operator's commands as
separate processes with ``DATABASE_URL`` set, exactly as a clerk's terminal would:

    flask --app app init-db
    flask --app app city-config ningbo.json
    flask --app app police-import police.csv                       (timed)
    flask --app app batch-import contribution.csv --name ... --cutoff ... --regions ... --json
                                                                    (timed, peak memory)

SQLite is a fresh file in a temporary directory; PostgreSQL a fresh database on
127.0.0.1:5432 (user postgres, or --pg ADMIN_URL), dropped afterwards (skipped with a message
when the server does not answer). The import's JSON is checked against the generator's
expected figures (MISMATCH is printed loudly when they differ). Prints per database the
seconds, persons per second, the import process's peak memory (its own rusage, via wait4) and
the ratio to the target of 100,000 persons in 60 s. Figures are printed, never asserted.
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

from app.procedures.batch.generate import COUNT_KEYS, DEFAULT_CUTOFF, generate, load_city  # noqa: E402

TARGET_PERSONS, TARGET_SECONDS = 100_000, 60.0
CITY_FILE = ROOT / "app" / "procedures" / "batch" / "cities" / "ningbo.json"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CUTOFF = DEFAULT_CUTOFF


def run(args: list[str], env: dict, log: Path, timeout: float = 3600) -> tuple[int, float, int, str]:
    """Run one command; (exit status, seconds, peak RSS in KB of that process, stdout).
    The child's own rusage comes from wait4 on its pid: nothing of earlier children mixes in."""
    with open(log, "ab") as err, tempfile.TemporaryFile() as out:
        err.write(("\n$ " + " ".join(args) + "\n").encode())
        err.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    maxrss = usage.ru_maxrss  # KB on Linux
    return proc.returncode, seconds, maxrss, text


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", *args]


def last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def failed(label: str, log: Path) -> dict:
    """Show the end of the commands' output (the temporary directory goes away)."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    print("   --- last lines of the commands' output:")
    for line in lines[-25:]:
        print("   | " + line)
    return {"label": label, "failed": True}


def bench_database(label: str, url: str, data: Path, expected, regions: list[str],
                   persons: int, instance: Path, log: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "SSCARD_INSTANCE": str(instance),
           "FLASK_APP": "app", "PYTHONUNBUFFERED": "1"}
    env.pop("TEST_DATABASE_URL", None)
    print(f"\n== {label}: {url}")
    for args in (flask("init-db"), flask("city-config", str(CITY_FILE))):
        rc, secs, _, _ = run(args, env, log)
        print(f"   {args[5]:<14} {secs:6.1f} s" + ("" if rc == 0 else f"  FAILED (exit {rc})"))
        if rc != 0:
            return failed(label, log)
    rc, police_secs, police_rss, out = run(flask("police-import", str(data / "police.csv")), env, log)
    print(f"   police-import  {police_secs:6.1f} s  ({expected.police_rows} register rows, "
          f"{expected.police_rows / police_secs:,.0f}/s, peak {police_rss / 1024:.0f} MB)"
          + ("" if rc == 0 else f"  FAILED (exit {rc})"))
    if rc != 0:
        return failed(label, log)
    contribution = Path(expected.contribution)
    rc, secs, rss, out = run(flask("batch-import", str(contribution), "--name", f"bench {persons}",
                                   "--cutoff", expected.cutoff.isoformat(),
                                   "--regions", ",".join(regions), "--json"), env, log)
    if rc != 0:
        print(f"   batch-import   FAILED (exit {rc}) after {secs:.1f} s")
        return failed(label, log)
    got = last_json(out)
    want = expected.counts()
    if got is None:
        print(f"   !!!!! MISMATCH: batch-import printed no JSON: {out[-500:]!r}")
        ok = False
    else:
        diff = {k: (got.get(k), want[k]) for k in COUNT_KEYS if got.get(k) != want[k]}
        ok = not diff
        if diff:
            print("   " + "!" * 70)
            print("   !!!!! MISMATCH between batch-import --json and the generator's Expected:")
            for k, (g, w) in diff.items():
                print(f"   !!!!!   {k:<24} got {g!r:>10}   expected {w!r:>10}")
            print("   " + "!" * 70)
    rate = persons / secs
    ratio = (secs / persons) / (TARGET_SECONDS / TARGET_PERSONS)
    print(f"   batch-import   {secs:6.1f} s  {rate:,.0f} persons/s  {expected.rows / secs:,.0f} rows/s  "
          f"peak {rss / 1024:.0f} MB")
    print(f"   vs target (100,000 persons in 60 s): {ratio:.2f}x the time budget "
          f"({'within' if ratio <= 1 else 'OVER'} target)")
    print(f"   figures {'match' if ok else 'DO NOT MATCH'} the generator: "
          + json.dumps(got, ensure_ascii=False))
    return {"label": label, "seconds": secs, "rate": rate, "rss_mb": rss / 1024, "ratio": ratio,
            "police_seconds": police_secs, "ok": ok}


def pg_connect(url: str):
    import psycopg
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1),
                           connect_timeout=3, autocommit=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--xlsx", action="store_true", help="import contribution.xlsx instead of .csv")
    ap.add_argument("--skip-pg", action="store_true", help="SQLite only")
    ap.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--pg", default=PG_ADMIN, help="admin URL of the PostgreSQL server "
                                                   "(a fresh database is made there)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)

    city = load_city(CITY_FILE)
    regions = [r["code"] for r in city["regions"]][:-1]  # 象山 stays out of the batch
    tmp = Path(tempfile.mkdtemp(prefix="sscard-bench-batch-"))
    log = tmp / "commands.log"
    results = []
    try:
        t0 = time.perf_counter()
        expected = generate(tmp / "data", args.persons, city=city, regions=regions, cutoff=CUTOFF,
                            seed=args.seed, fmt="xlsx" if args.xlsx else "csv")
        gen = time.perf_counter() - t0
        size = Path(expected.contribution).stat().st_size / 1e6
        print(f"generated {args.persons:,} persons in {args.persons // 50:,} employers: "
              f"{expected.rows:,} rows ({size:.1f} MB {Path(expected.contribution).name}), "
              f"{expected.police_rows:,} register rows, in {gen:.1f} s")
        print("expected: " + json.dumps(expected.counts(), ensure_ascii=False))
        print(f"command output: {log}")

        if not args.skip_sqlite:
            sqlite_dir = tmp / "sqlite"
            sqlite_dir.mkdir()
            results.append(bench_database("SQLite", f"sqlite:///{sqlite_dir / 'sscard.db'}",
                                          tmp / "data", expected, regions, args.persons,
                                          sqlite_dir, log))
        if args.skip_pg:
            print("\n== PostgreSQL: skipped (--skip-pg)")
        else:
            name = f"sscard_bench_{secrets.token_hex(4)}"
            try:
                with closing(pg_connect(args.pg)) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
            except Exception as e:
                print(f"\n== PostgreSQL: skipped, {args.pg} not reachable "
                      f"({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e) else ''})")
            else:
                try:
                    pg_dir = tmp / "pg"
                    pg_dir.mkdir()
                    results.append(bench_database("PostgreSQL", args.pg.rsplit("/", 1)[0] + "/" + name,
                                                  tmp / "data", expected, regions, args.persons,
                                                  pg_dir, log))
                finally:
                    with closing(pg_connect(args.pg)) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)

    print("\nsummary")
    print(f"{'database':<12} {'import s':>9} {'persons/s':>10} {'peak MB':>8} {'x budget':>9} "
          f"{'police s':>9}  figures")
    for r in results:
        if r.get("failed"):
            print(f"{r['label']:<12} {'FAILED':>9}")
            continue
        print(f"{r['label']:<12} {r['seconds']:9.1f} {r['rate']:10,.0f} {r['rss_mb']:8.0f} "
              f"{r['ratio']:9.2f} {r['police_seconds']:9.1f}  {'ok' if r['ok'] else 'MISMATCH'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
