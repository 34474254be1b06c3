"""Flask app fixtures: a fresh SQLite database per test with the schema from the migrations."""
import pytest

from app import create_app
from app.cli import DEMO_PASSWORD, seed_demo_users


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'test.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path),
                      "SCHEDULER_IN_PROCESS": False, "TESTING": True})
    from app.migrate import upgrade
    upgrade(url)
    with app.app_context():
        session = app.extensions["sscard"].session
        seed_demo_users(session)
        session.commit()
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
