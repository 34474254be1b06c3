"""Sign-in on every page, hashed passwords, CSRF, tokens from the profile page."""
from sqlalchemy import select

from app.auth.models import ApiToken, User


def test_every_page_requires_sign_in(client):
    for path in ("/", "/profile", "/inbox", "/cases", "/start"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"], path


def test_sign_in_with_demo_account_and_wrong_password(web):
    r = web.login("window", "wrong")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    r = web.login("window")
    assert r.status_code == 302
    assert web.get("/profile").status_code == 200


def test_passwords_are_hashed(app):
    with app.app_context():
        user = app.extensions["sscard"].session.scalar(select(User).where(User.username == "window"))
        assert "demo1234" not in user.password_hash and user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_post_without_csrf_token_is_refused(web):
    web.login("window")
    r = web.client.post("/profile", data={"action": "create", "name": "x"})
    assert r.status_code == 400


def test_login_form_needs_csrf_token(client):
    r = client.post("/login", data={"username": "window", "password": "demo1234"})
    assert r.status_code == 400


def test_open_redirect_is_refused(web):
    token = web.csrf()
    r = web.client.post("/login?next=https://evil.example/x",
                            data={"username": "window", "password": "demo1234", "csrf_token": token})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]


def test_create_and_revoke_token_from_profile(app, web):
    web.login("window")
    r = web.post("/profile", {"action": "create", "name": "laptop"})
    html = r.get_data(as_text=True)
    assert 'id="new-token"' in html
    with app.app_context():
        tok = app.extensions["sscard"].session.scalar(select(ApiToken))
        assert tok.name == "laptop" and tok.revoked_at is None and len(tok.token_hash) == 64
        tid = tok.id
    web.post("/profile", {"action": "revoke", "token_id": str(tid)})
    with app.app_context():
        assert app.extensions["sscard"].session.get(ApiToken, tid).revoked_at is not None


def test_english_is_available(web):
    r = web.get("/login?lang=en")
    assert "Sign in" in r.get_data(as_text=True)
    assert "登录" in web.get("/login?lang=zh").get_data(as_text=True)
