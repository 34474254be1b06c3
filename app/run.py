"""Start the whole platform on one machine 单机启动: database, demo data, pcscd + virtual card
reader, the card station, the timer scheduler and the web server (``scripts/start``)."""
from __future__ import annotations

import atexit
import logging
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("sscard")


def _station_token(instance: Path) -> str:
    path = instance / "station_token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("spiff").setLevel(logging.WARNING)  # a line per task state change
    instance = Path(os.environ.get("SSCARD_INSTANCE", "instance")).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("SSCARD_PORT", "5000"))
    os.environ.setdefault("SSCARD_STATION_TOKEN", _station_token(instance))

    from app import create_app
    from app.cli import DEMO_PASSWORD, DEMO_USERS
    from app.migrate import upgrade

    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    runner = app.test_cli_runner()
    commands = [["seed-demo"], ["deploy"], ["seed-demo-cases"]]
    if os.environ.get("SSCARD_CALENDAR_OVERRIDES"):
        commands.append(["calendar-import", os.environ["SSCARD_CALENDAR_OVERRIDES"]])
    for command in commands:
        result = runner.invoke(args=command)
        if result.exit_code != 0:
            print(result.output, file=sys.stderr)
            return result.exit_code

    from hardware import lab
    children: list[subprocess.Popen] = []
    pcscd = lab.start_pcscd()
    if pcscd is not None:
        children.append(pcscd)
    station = subprocess.Popen([
        sys.executable, "-m", "hardware", "station", "--platform", f"http://127.0.0.1:{port}",
        "--station-id", "window-1", "--reader", lab.VIRTUAL_READERS[0],
        "--spool", str(instance / "station" / "spool"), "--queue", str(instance / "station" / "print-queue"),
        "--virtual-cards", str(instance / "station" / "cards")])
    children.append(station)
    atexit.register(lambda: [lab.stop(c) for c in reversed(children)])
    # SIGTERM (service managers, tests) ends like Ctrl-C: atexit stops the station and pcscd.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    if app.config["SCHEDULER_IN_PROCESS"]:
        from app.engine.scheduler import start_in_process
        start_in_process(app.extensions["sscard"].session_factory, app.config["SCHEDULER_INTERVAL"])
    if app.config["WORKER_IN_PROCESS"]:  # background jobs (imports, checks...): python -m app.worker
        from app.engine import jobs
        jobs.start_in_process(app.extensions["sscard"].session_factory)

    print("\n社会保障卡制发平台 Social security card platform")
    print(f"  http://127.0.0.1:{port}/   (演示账号 demo accounts, password {DEMO_PASSWORD})")
    for username, name, groups, org, _office in DEMO_USERS:
        print(f"    {username:10s} {name}  [{', '.join(groups)}]  {org}")
    print("  card station: window-1 on reader 'Virtual PCD 00 00' (virtual cards: the blank card of an "
          "issue job, the holder's card of a PIN, block or region job)\n", flush=True)

    from waitress import serve
    serve(app, host=os.environ.get("SSCARD_HOST", "127.0.0.1"), port=port, threads=8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
