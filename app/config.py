"""Configuration from the environment 环境配置 (12-factor: nothing secret in the repository)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance: Path) -> str:
    """$SECRET_KEY, else a random key kept in instance/secret_key (stable across restarts)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load(overrides: dict | None = None) -> dict:
    instance = Path(os.environ.get("SSCARD_INSTANCE", ROOT / "instance"))
    cfg = {
        "INSTANCE_PATH": str(instance),
        # Embedded default: SQLite in instance/; production: DATABASE_URL=postgresql+psycopg://...
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'sscard.db'}"),
        "PROCESSES_DIR": os.environ.get("SSCARD_PROCESSES", str(ROOT / "processes")),
        # Fire BPMN timers from the web process (default) or from `python -m app.scheduler`.
        "SCHEDULER_IN_PROCESS": os.environ.get("SSCARD_SCHEDULER", "web") == "web",
        # Run background jobs in the web process (default) or in `python -m app.worker` processes.
        "WORKER_IN_PROCESS": os.environ.get("SSCARD_WORKER", "web") == "web",
        "SCHEDULER_INTERVAL": float(os.environ.get("SSCARD_SCHEDULER_INTERVAL", "2")),
        "STATION_TOKEN": os.environ.get("SSCARD_STATION_TOKEN", ""),
        "DEFAULT_LOCALE": os.environ.get("SSCARD_LOCALE", "zh"),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        "PAGE_SIZE": 25,
    }
    cfg.update(overrides or {})
    if "SECRET_KEY" not in cfg:
        cfg["SECRET_KEY"] = _secret_key(Path(cfg["INSTANCE_PATH"]))
    return cfg
