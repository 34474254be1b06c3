"""``python -m app.worker``: a background-job worker (后台作业) on ``DATABASE_URL`` with the same
procedure families as the web process. Run as many as you like against PostgreSQL; on the
embedded SQLite default the web process runs one worker thread itself."""
from __future__ import annotations

import logging
import os
import signal
import threading

from app.config import load as load_config
from app.database import make_session_factory
from app.engine import jobs
from app.engine.db import make_engine
from app.wiring import configure_engine


def main() -> None:
    logging.basicConfig(level=os.environ.get("SSCARD_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_engine()
    config = load_config(None)
    factory = make_session_factory(make_engine(config["DATABASE_URL"]))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    logging.getLogger(__name__).info("job worker %s started", jobs.worker_name())
    jobs.work(factory, stop, poll=float(os.environ.get("SSCARD_JOB_POLL_SECONDS", "1")))


if __name__ == "__main__":
    main()
