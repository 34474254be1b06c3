"""Server-side sessions: sign-out, deactivation and a password change end sessions on the server,
so a copied session cookie stops working."""
from datetime import timedelta

from sqlalchemy import select, update

from app.auth.models import User, UserSession
from app.cli import DEMO_PASSWORD
from tests.api import db, user
from tests.fixtures_app import Browser


def signed_in(browser) -> bool:
    return browser.get("/profile").status_code == 200


def session_cookie(browser) -> str:
    return browser.client.get_cookie("session").value


def records(app, username="window") -> list[UserSession]:
    with db(app) as s:
        return s.scalars(select(UserSession).where(UserSession.user_id == user(s, username).id)).all()


def test_sign_in_keeps_a_session_record_and_only_the_hash_of_its_secret(app, web):
    web.login("window")
    assert signed_in(web)
    [record] = records(app)
    assert record.revoked_at is None and record.user_agent.startswith("Werkzeug")
    with web.client.session_transaction() as sess:
        secret = sess["_sid"]
    assert record.id == UserSession.hash(secret) != secret


def test_cookie_replayed_after_sign_out_is_refused(app, web):
    web.login("window")
    stolen = session_cookie(web)
    r = web.post("/logout", page="/profile")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert [rec.revoked_at is not None for rec in records(app)] == [True]

    web.client.set_cookie("session", stolen)  # the cookie from before the sign-out, replayed
    r = web.get("/profile")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = web.get("/inbox")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_a_session_without_a_record_is_refused(app, client):
    """flask-login's own keys alone (e.g. a session made before records existed) sign nobody in."""
    with db(app) as s:
        uid = user(s, "window").id
    with client.session_transaction() as sess:
        sess["_user_id"] = str(uid)
        sess["_fresh"] = True
    assert client.get("/profile").status_code == 302
    with client.session_transaction() as sess:
        sess["_sid"] = "made-up"
    assert client.get("/profile").status_code == 302


def test_record_of_another_user_is_refused(app, web):
    web.login("window")
    with db(app) as s:
        other = user(s, "reviewer").id
    with web.client.session_transaction() as sess:
        sess["_user_id"] = str(other)  # a cookie edited (with the key) to name someone else
    assert not signed_in(web)


def test_deactivating_a_user_ends_their_open_sessions(app, web):
    web.login("window")
    other = Browser(app.test_client())
    other.login("window")
    assert signed_in(web) and signed_in(other)

    result = app.test_cli_runner().invoke(args=["deactivate-user", "window"])
    assert result.exit_code == 0, result.output
    assert "2 session(s) ended" in result.output

    assert not signed_in(web) and not signed_in(other)
    assert all(rec.revoked_at is not None for rec in records(app))
    assert web.login("window").status_code == 401  # and no new session


def test_a_deactivated_user_is_refused_even_with_a_live_record(app, web):
    web.login("window")
    with db(app) as s:
        s.execute(update(User).where(User.username == "window").values(active=False))
        s.commit()
    r = web.get("/profile")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def change_password(browser, current, new, confirm=None):
    return browser.post("/password", {"current_password": current, "new_password": new,
                                      "confirm_password": new if confirm is None else confirm})


def test_password_change_ends_the_other_sessions_but_not_this_one(app, web):
    web.login("window")
    laptop = Browser(app.test_client())
    laptop.login("window")
    other_user = Browser(app.test_client())
    other_user.login("reviewer")

    r = change_password(web, DEMO_PASSWORD, "new-secret-42")
    assert r.status_code == 302 and r.headers["Location"].endswith("/profile")
    assert "密码已修改" in web.get("/profile").get_data(as_text=True)
    assert signed_in(web)              # this browser stays signed in
    assert not signed_in(laptop)       # the user's other session ended
    assert signed_in(other_user)       # nobody else's did

    assert Browser(app.test_client()).login("window").status_code == 401  # old password
    assert Browser(app.test_client()).login("window", "new-secret-42").status_code == 302


def test_password_change_needs_the_current_password_and_a_good_new_one(app, web):
    web.login("window")
    laptop = Browser(app.test_client())
    laptop.login("window")
    for current, new, confirm, message in [
        ("wrong", "new-secret-42", None, "当前密码不正确"),
        (DEMO_PASSWORD, "short", None, "至少 8 个字符"),
        (DEMO_PASSWORD, "new-secret-42", "new-secret-43", "不一致"),
        (DEMO_PASSWORD, DEMO_PASSWORD, None, "不能与当前密码相同"),
    ]:
        r = change_password(web, current, new, confirm)
        assert r.status_code == 400 and message in r.get_data(as_text=True), message
    assert signed_in(laptop)
    assert Browser(app.test_client()).login("window").status_code == 302  # unchanged


def test_last_seen_is_written_at_most_every_few_minutes(app, web):
    web.login("window")
    [first] = records(app)
    web.get("/profile")
    web.get("/inbox")
    [again] = records(app)
    assert again.last_seen_at == first.last_seen_at  # not on every request

    earlier = first.last_seen_at - timedelta(minutes=6)
    with db(app) as s:
        s.execute(update(UserSession).values(last_seen_at=earlier, created_at=earlier))
        s.commit()
    assert signed_in(web)
    [touched] = records(app)
    assert touched.last_seen_at > earlier + timedelta(minutes=5)


def test_an_idle_session_ends(app, web):
    web.login("window")
    [record] = records(app)
    with db(app) as s:
        s.execute(update(UserSession).values(last_seen_at=record.last_seen_at - timedelta(hours=13)))
        s.commit()
    assert not signed_in(web)
