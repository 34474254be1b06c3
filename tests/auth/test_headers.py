"""Security headers on every response (pages, static files, JSON, photos) and the session
cookie's flags (HttpOnly, SameSite=Lax; Secure over HTTPS, also behind a trusted proxy)."""
import re
from pathlib import Path

from app import create_app
from app.cli import DEMO_PASSWORD
from tests.api import app, bearer, token  # noqa: F401  (the platform app: deployed processes)
from tests.web.test_cases import accept_on_page

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def assert_security_headers(r):
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


def test_headers_on_pages_static_files_json_and_redirects(app, web):
    assert_security_headers(web.get("/login"))
    assert_security_headers(web.get("/profile"))  # the redirect to the login page
    web.login("window")
    r = web.get("/profile")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert_security_headers(r)
    r = web.get("/static/style.css")
    assert r.status_code == 200 and r.mimetype == "text/css"
    assert_security_headers(r)
    assert_security_headers(web.get("/no-such-page"))  # error pages too
    r = web.get("/healthz")
    assert r.is_json
    assert_security_headers(r)


def test_headers_on_the_json_api(app, client):
    r = client.get("/api/v1/tasks")
    assert r.status_code == 401 and r.is_json
    assert_security_headers(r)
    r = client.get("/api/v1/tasks", headers=bearer(token(app, "window")))
    assert r.status_code == 200 and r.is_json
    assert_security_headers(r)


def test_headers_on_a_photo(app, web):
    web.login("window")
    case_id = accept_on_page(web)
    r = web.get(f"/cases/{case_id}/photo")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert_security_headers(r)


def test_the_pages_need_no_inline_script_or_style():
    """What the Content-Security-Policy would block: inline scripts, styles and handlers."""
    blocked = {"inline script": r"<script(?![^>]*\bsrc=)", "inline style": r"<style|\sstyle=",
               "event handler": r"\son[a-z]+\s*=", "javascript: URL": r"javascript:"}
    found = [f"{path.relative_to(TEMPLATES)}: {what}"
             for path in sorted(TEMPLATES.rglob("*.html"))
             for what, pattern in blocked.items() if re.search(pattern, path.read_text(encoding="utf-8"))]
    assert found == [], "move these to app/static (style.css or a .js file): " + ", ".join(found)


def cookie_header(r) -> str:
    [cookie] = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def login(client, base_url="http://localhost", headers=None):
    # a browser sends the Referer of the platform's own pages (Referrer-Policy: same-origin):
    # Flask-WTF requires it over HTTPS
    headers = {"Referer": "https://localhost/login", **(headers or {})}
    html = client.get("/login", base_url=base_url, headers=headers).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    return client.post("/login", base_url=base_url, headers=headers,
                       data={"username": "window", "password": DEMO_PASSWORD, "csrf_token": csrf})


def test_session_cookie_is_http_only_and_same_site_lax_and_not_secure_over_http(app, client):
    r = login(client)
    assert r.status_code == 302
    cookie = cookie_header(r)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(app, client):
    r = login(client, base_url="https://localhost")
    assert r.status_code == 302
    cookie = cookie_header(r)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/profile", base_url="https://localhost").status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_scheme_and_address_count(tmp_path):
    from app.auth.models import LoginAttempt
    from app.cli import seed_demo_users
    from app.migrate import upgrade
    url = f"sqlite:///{tmp_path / 'proxy.db'}"
    proxied = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path),
                          "SCHEDULER_IN_PROCESS": False, "TESTING": True, "TRUSTED_PROXIES": 1})
    upgrade(url)
    with proxied.app_context():
        seed_demo_users(proxied.extensions["sscard"].session)
        proxied.extensions["sscard"].session.commit()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.44"}
    try:
        r = login(proxied.test_client(), headers=forwarded)
        assert r.status_code == 302 and "Secure" in cookie_header(r)
        with proxied.app_context():
            attempt = proxied.extensions["sscard"].session.query(LoginAttempt).one()
            assert attempt.ip == "192.0.2.44" and attempt.outcome == "ok"
    finally:
        proxied.extensions["sscard"].engine.dispose()


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(app, client):
    r = login(client, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in cookie_header(r)
