"""``python -m app.scheduler``: a standalone timer scheduler (定时任务调度) on ``DATABASE_URL``,
with the same procedure families (and ``SSCARD_ENGINE_PLUGINS``) as the web process."""
from __future__ import annotations

from app.engine.scheduler import main
from app.procedures import load_families
from app.wiring import configure_engine


def _load() -> None:
    configure_engine()
    load_families()


if __name__ == "__main__":
    main(load_plugins=_load)
