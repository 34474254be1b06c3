"""SQLite databases built once per test run and copied for each test.

Migrating, seeding the demo accounts (a scrypt hash each) and deploying processes/ take one to
two seconds; copying the finished file takes a millisecond. Four hundred tests start from such a
database, so each recipe is run once (per pytest process) and every test gets its own copy:
tests stay independent, the suite does not pay the recipe four hundred times."""
from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Callable

_templates: dict[str, Path] = {}
_folder: Path | None = None


def _template_folder() -> Path:
    global _folder
    if _folder is None:
        _folder = Path(tempfile.mkdtemp(prefix="sscard-db-templates-"))
        atexit.register(shutil.rmtree, _folder, True)
    return _folder


def sqlite_copy(recipe: str, target: Path, build: Callable[[str, Path], None]) -> str:
    """Put at ``target`` a copy of the database ``build(url, folder)`` makes (run the first time
    ``recipe`` is asked for; ``folder`` is its instance folder) and return the copy's URL.
    ``build`` must close its connections."""
    template = _templates.get(recipe)
    if template is None:
        template = _template_folder() / f"{recipe}.db"
        build(f"sqlite:///{template}", template.parent)
        with closing(sqlite3.connect(template)) as db:  # WAL pages into the main file: one file to copy
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _templates[recipe] = template
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"
