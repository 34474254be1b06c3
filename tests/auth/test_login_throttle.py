"""Sign-in throttling: 5 wrong passwords within 15 minutes lock the user name for 15 minutes
(in the database), too many from one address lock the address; unknown user names cost a
password-hash check like known ones. The throttle's clock is moved, nobody sleeps."""
from datetime import timedelta

import pytest
from sqlalchemy import select

import app.auth.models as auth_models
from app.auth import throttle
from app.auth.models import LoginAttempt
from app.cli import DEMO_PASSWORD
from app.common.clock import utcnow
from tests.api import bearer, db, token
from tests.fixtures_app import Browser

LOCKED_ZH = "登录失败次数过多，账号已临时锁定，请 15 分钟后再试或联系管理员"
WRONG_ZH = "用户名或密码错误"


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by hand."""
    class Clock:
        now = utcnow()

        def advance(self, **kw):
            self.now += timedelta(**kw)
    c = Clock()
    monkeypatch.setattr(throttle, "now", lambda: c.now)
    return c


def text(r) -> str:
    return r.get_data(as_text=True)


def signed_in(web) -> bool:
    return web.get("/profile").status_code == 200


def fail(web, username="window", times=1):
    for _ in range(times):
        r = web.login(username, "wrong")
    return r


def test_fifth_wrong_password_locks_and_the_right_one_is_refused_until_the_lockout_ends(app, web, clock):
    for i in range(4):
        r = web.login("window", "wrong")
        assert r.status_code == 401 and WRONG_ZH in text(r), i
        assert LOCKED_ZH not in text(r)
    assert "再输错 1 次" in text(r)  # the clerk is warned before the lock
    r = web.login("window", "wrong")  # the 5th failure starts the lockout
    assert r.status_code == 429 and LOCKED_ZH in text(r)
    r = web.login("window", "wrong")  # the 6th attempt is answered with the lockout
    assert r.status_code == 429 and LOCKED_ZH in text(r)

    clock.advance(minutes=10)
    r = web.login("window")  # the right password, during the lockout
    assert r.status_code == 429 and "请 5 分钟后再试" in text(r)
    assert not signed_in(web)

    clock.advance(minutes=5, seconds=1)  # the lockout is over
    r = web.login("window")
    assert r.status_code == 302 and signed_in(web)

    with db(app) as s:
        outcomes = [a.outcome for a in s.scalars(select(LoginAttempt).order_by(LoginAttempt.id))]
    assert outcomes == ["failed"] * 5 + ["refused", "refused", "ok"]


def test_the_lockout_message_in_english(web, clock):
    fail(web, times=4)
    r = web.client.post("/login?lang=en", data={"username": "window", "password": "wrong",
                                                 "csrf_token": web.csrf()})
    assert r.status_code == 429
    assert "Too many failed sign-ins: the account is locked for now. Try again in 15 minutes or contact " \
           "your administrator." in text(r)


def test_after_a_lockout_the_count_starts_again(web, clock):
    fail(web, times=5)
    clock.advance(minutes=16)
    r = fail(web)  # the failures before the lockout no longer count
    assert r.status_code == 401
    r = fail(web, times=3)
    assert r.status_code == 401
    assert fail(web).status_code == 429


def test_failures_older_than_the_window_do_not_count(web, clock):
    fail(web, times=4)
    clock.advance(minutes=16)
    assert fail(web, times=4).status_code == 401
    assert web.login("window").status_code == 302


def test_a_successful_sign_in_clears_the_count(app, web, clock):
    fail(web, times=4)
    assert web.login("window").status_code == 302
    other = Browser(app.test_client())
    assert fail(other, times=4).status_code == 401
    assert other.login("window").status_code == 302


def test_user_names_are_counted_whatever_their_case_and_unknown_ones_too(web, clock):
    fail(web, "Window", times=2)
    fail(web, " WINDOW ", times=2)
    assert fail(web, "window").status_code == 429
    # a name nobody has locks the same way: a lockout tells nothing about who exists
    r = fail(web, "nobody-by-this-name", times=5)
    assert r.status_code == 429 and LOCKED_ZH in text(r)


def test_a_lockout_is_of_one_user_name(app, web, clock):
    fail(web, times=5)
    assert Browser(app.test_client()).login("reviewer").status_code == 302


def test_too_many_failures_from_one_address_lock_the_address(app, web, clock):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 6
    for name in ("a1", "a2", "a3"):
        fail(web, name, times=2)  # 6 failures from 127.0.0.1, no user name locked
    r = web.login("reviewer")
    assert r.status_code == 429 and "此电脑登录失败次数过多" in text(r)

    elsewhere = Browser(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert elsewhere.login("reviewer").status_code == 302

    clock.advance(minutes=15, seconds=1)
    assert web.login("reviewer").status_code == 302


def test_the_lockout_is_in_the_database_so_every_process_sees_it(app, web, clock):
    fail(web, times=5)
    with db(app) as s:
        assert throttle.lock_of(s, "window", "", clock.now) is not None  # by user name, any address


def test_an_administrator_unlocks_a_user(app, web, clock):
    fail(web, times=5)
    result = app.test_cli_runner().invoke(args=["unlock-user", "window"])
    assert result.exit_code == 0 and "unlocked" in result.output
    assert web.login("window").status_code == 302


def test_api_tokens_are_not_throttled(app, web, clock):
    secret = token(app, "window")
    fail(web, times=5)
    assert web.login("window").status_code == 429
    r = app.test_client().get("/api/v1/tasks", headers=bearer(secret))
    assert r.status_code == 200


def test_wrong_current_passwords_on_the_password_page_count_too(app, web, clock):
    web.login("window")
    for _ in range(5):
        r = web.post("/password", {"current_password": "guess", "new_password": "x" * 10,
                                   "confirm_password": "x" * 10})
    assert LOCKED_ZH in text(r)
    assert Browser(app.test_client()).login("window").status_code == 429


@pytest.fixture
def hash_checks(monkeypatch):
    calls = []
    real = auth_models.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)
    monkeypatch.setattr(auth_models, "check_password_hash", counting)
    return calls


def test_an_unknown_user_name_costs_a_password_hash_check_like_a_known_one(web, hash_checks):
    assert web.login("nobody", "wrong").status_code == 401
    assert len(hash_checks) == 1  # a dummy hash, verified like a real one
    unknown_hash = hash_checks[0]
    assert web.login("window", "wrong").status_code == 401
    assert len(hash_checks) == 2
    # the dummy hash is made the way real ones are (same method and cost)
    assert unknown_hash.split("$")[0] == hash_checks[1].split("$")[0]


def test_a_deactivated_user_costs_a_password_hash_check_too(app, web, hash_checks):
    app.test_cli_runner().invoke(args=["deactivate-user", "window"])
    r = web.login("window", DEMO_PASSWORD)
    assert r.status_code == 401 and WRONG_ZH in text(r)
    assert len(hash_checks) == 1


def test_a_locked_user_name_checks_no_password(web, clock, hash_checks):
    fail(web, times=5)
    hash_checks.clear()
    assert web.login("window").status_code == 429
    assert hash_checks == []


def test_a_write_committed_during_the_password_check_does_not_fail_the_sign_in(app, web, monkeypatch):
    """The card station and the scheduler write while a clerk signs in. SQLite refuses to turn
    a read that saw an older snapshot into a write (at once, without waiting): the sign-in's
    reads must not be in the transaction that records the attempt (it was a 500)."""
    real = auth_models.check_password_hash

    def meanwhile(pwhash, password):
        with db(app) as s:  # another connection, as the station's request would be
            s.add(LoginAttempt(at=utcnow(), username="someone", ip="10.0.0.9", outcome=throttle.OK))
            s.commit()
        return real(pwhash, password)
    monkeypatch.setattr(auth_models, "check_password_hash", meanwhile)
    assert web.login("window").status_code == 302
    assert signed_in(web)
    assert web.login("window", "wrong").status_code == 401  # and the failure is recorded
    with db(app) as s:
        assert s.scalar(select(LoginAttempt).where(LoginAttempt.outcome == throttle.FAILED))
