"""``python -m app.scheduler``: a standalone timer scheduler (定时任务调度) on ``DATABASE_URL``,
with the same procedure families (and ``SSCARD_ENGINE_PLUGINS``) as the web process."""
from __future__ import annotations

from app.engine.scheduler import main
from app.wiring import configure_engine


def load() -> None:
    """What the web process loads too: every family, the plugins, the engine's ports."""
    configure_engine()


if __name__ == "__main__":
    main(load_plugins=load)
