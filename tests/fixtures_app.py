"""Flask app fixtures: a fresh SQLite database per test with the schema from the migrations."""
from pathlib import Path

import pytest

from app import create_app
from app.cli import DEMO_PASSWORD, seed_demo_users
from tests.db_templates import sqlite_copy


def app_config(url: str | None, folder) -> dict:
    """The test platform's settings: ``url`` its database, ``folder`` its instance folder."""
    return {"DATABASE_URL": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(folder),
            "SCHEDULER_IN_PROCESS": False, "TESTING": True}


def _build(url: str, folder: Path) -> None:
    """The schema from the migrations and the demo accounts (tests.db_templates copies it)."""
    from app.migrate import upgrade
    upgrade(url)
    app = create_app(app_config(url, folder))
    with app.app_context():
        session = app.extensions["sscard"].session
        seed_demo_users(session)
        session.commit()
        session.remove()
    app.extensions["sscard"].engine.dispose()


@pytest.fixture
def app(tmp_path):
    """A fresh SQLite database of its own per test: the migrated schema and the demo accounts."""
    url = sqlite_copy("app", tmp_path / "test.db", _build)
    app = create_app(app_config(url, tmp_path))
    yield app
    app.extensions["sscard"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Browser:
    """A test client that signs in and carries the CSRF token like a browser would."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path="/login"):
        import re
        html = self.client.get(path).get_data(as_text=True)
        m = re.search(r'name="csrf_token" value="([^"]+)"', html)
        return m.group(1) if m else ""

    def login(self, username, password=DEMO_PASSWORD):
        token = self.csrf()
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def post(self, path, data=None, page=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf(page or path))
        return self.client.post(path, data=data, **kw)

    def get(self, path, **kw):
        return self.client.get(path, **kw)


@pytest.fixture
def web(client):
    return Browser(client)
