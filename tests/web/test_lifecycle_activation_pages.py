"""统一启用 pages (app/web/lifecycle_activation.py): managers and administrators only, each for
the batches of their offices; the rounds in words (never codes); the form refuses a bad
announcement date with a message; the job's progress bar while it runs, the figures after;
a second activation refused with the time of the first; a batch not closed refused; the
announcement prints (A4, the document kit); every action an audit record."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.common.clock import china_today
from app.engine import jobs
from app.engine.models import AuditEvent
from app.procedures.batch.models import Batch
from app.procedures.batch.states import BatchStatus
from app.procedures.lifecycle.models import ActivationRound, CardActivation
from tests.fixtures_app import Browser
from tests.procedures.lifecycle.scale import build_round, expected

CARDS = 40
#: codes that must never show on a page (states of rounds, batches, jobs, cards, custody)
CODES = ("running", "done", "failed", "queued", "closed", "delivered", "not_activated", "active",
         "with_holder", "with_employer", "at_centre", "returned", "reissued", "invalidated")


@pytest.fixture
def rounds(app):
    """A closed round of 40 cards at SS-CENTRE, a delivered one, and one of another office."""
    with app.extensions["sscard"].session_factory() as s:
        closed = build_round(s, CARDS, prefix="A", name="2026年第一批")
        delivered = build_round(s, 10, prefix="B", start=1000, name="2026年第二批",
                                status=BatchStatus.DELIVERED)
        other = build_round(s, 10, prefix="C", start=2000, name="厦门第一批", office="XM-CENTRE")
        s.commit()
    return {"closed": closed.batch_id, "delivered": delivered.batch_id, "other": other.batch_id}


def browser(app, username) -> Browser:
    web = Browser(app.test_client())
    assert web.login(username).status_code == 302
    return web


def words(html: str) -> str:
    """The page's text as a reader sees it (no tags, no attributes)."""
    return re.sub(r"<[^>]+>", " ", html)


def no_codes(html: str) -> None:
    text = words(html)
    for code in CODES:
        assert not re.search(rf"\b{code}\b", text), code


def audits(app, what: str) -> list[dict]:
    with app.extensions["sscard"].session_factory() as s:
        return [e.detail for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "family"))
                if (e.detail or {}).get("family") == "lifecycle" and e.detail.get("what") == what]


def run_jobs(app) -> None:
    factory = app.extensions["sscard"].session_factory
    with factory() as s:
        ids = s.scalars(select(jobs.BackgroundJob.id).where(jobs.BackgroundJob.state == "queued")).all()
    for job_id in ids:
        assert jobs.run_now(factory, job_id) == "done"


def count_rounds(app) -> int:
    with app.extensions["sscard"].session_factory() as s:
        return s.scalar(select(func.count()).select_from(ActivationRound))


def test_window_and_centre_clerks_are_refused(app, rounds):
    page = f"/activation/batches/{rounds['closed']}"
    for username in ("window", "outlet", "centre", "reviewer"):
        web = browser(app, username)
        assert web.get("/activation").status_code == 403, username
        assert web.get(page).status_code == 403, username
        assert web.post(page, {"announced_on": china_today().isoformat()}, page="/profile").status_code == 403
        assert web.get(page + "/announcement").status_code == 403
        assert 'id="nav-activation"' not in web.get("/profile").get_data(as_text=True)
    assert count_rounds(app) == 0


def test_the_list_in_words_by_office(app, rounds):
    web = browser(app, "manager")
    html = web.get("/activation").get_data(as_text=True)
    assert 'id="nav-activation"' in html
    assert "2026年第一批" in html and "2026年第二批" in html
    assert "厦门第一批" not in html  # another office's batch
    assert "待统一启用" in html and "发卡未结束，暂不能启用" in html
    assert "已结束" in html and "已到货" in html  # the batches' states, in words
    no_codes(html)
    assert web.get(f"/activation/batches/{rounds['other']}").status_code == 403
    assert web.get("/activation/batches/999999").status_code == 404
    admin = browser(app, "admin").get("/activation").get_data(as_text=True)
    assert "厦门第一批" in admin


def test_the_form_refuses_a_bad_date_with_a_message(app, rounds):
    web = browser(app, "manager")
    page = f"/activation/batches/{rounds['closed']}"
    html = web.get(page).get_data(as_text=True)
    left, waiting, _ = expected(CARDS)
    assert 'id="activation-form"' in html and 'name="csrf_token"' in html
    assert f"尚未启用的卡共 {left} 张" in html and f"尚未领取的卡 {waiting} 张" in html
    no_codes(html)
    for value, message in (("2026-02-30", "请输入有效日期"), ("明天", "请输入有效日期"),
                           ("", "请填写“启用公告日期”"),
                           ((china_today() + timedelta(days=1)).isoformat(), "不能晚于今天"),
                           ("2001-01-01", "不能早于制卡批次建立之日")):
        r = web.post(page, {"announced_on": value})
        assert r.status_code == 422, value
        html = r.get_data(as_text=True)
        assert message in html and 'id="error-announced_on"' in html, value
    assert web.client.post(page, data={"announced_on": china_today().isoformat()}).status_code == 400  # no CSRF token
    assert count_rounds(app) == 0 and audits(app, "activation_start") == []


def test_activating_a_round_progress_figures_and_the_announcement(app, rounds):
    web = browser(app, "manager")
    page = f"/activation/batches/{rounds['closed']}"
    today = china_today().isoformat()
    r = web.post(page, {"announced_on": today})
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    [detail] = audits(app, "activation_start")
    assert detail["batch"] == rounds["closed"] and detail["announced_on"] == today
    html = web.get(page).get_data(as_text=True)  # the job has not run yet: the progress bar
    assert 'id="activation-bar"' in html and '<meta http-equiv="refresh" content="2">' in html
    assert "排队等待" in html and "启用中" in html
    no_codes(html)
    assert '<meta http-equiv="refresh"' not in web.get(page + "?refresh=off").get_data(as_text=True)

    run_jobs(app)
    left, waiting, _ = expected(CARDS)
    html = web.get(page).get_data(as_text=True)
    assert "已统一启用" in html and 'id="activation-bar"' not in html and "http-equiv" not in html
    assert re.search(rf'id="activated">{left}<', html) and re.search(rf'id="waiting">{waiting}<', html)
    assert re.search(r'id="late">0<', html)
    with app.extensions["sscard"].session_factory() as s:
        cents = s.scalar(select(func.sum(CardActivation.moved_cents)))
    assert f'id="moved">{cents // 100:,}.{cents % 100:02d}<' in html
    no_codes(html)
    list_html = web.get("/activation").get_data(as_text=True)
    assert "已统一启用" in list_html and f"<td>{left}</td>" in list_html
    no_codes(list_html)

    # twice: refused with the time of the first, nothing changed
    r = web.post(page, {"announced_on": today})
    assert r.status_code == 302
    html = web.get(page).get_data(as_text=True)
    assert re.search(r"已于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 统一启用", html) and "不能重复启用" in html
    assert count_rounds(app) == 1 and len(audits(app, "activation_start")) == 1

    # the announcement, A4, printed from the browser
    r = web.get(page + "/announcement")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Cache-Control"] == "private, no-store"
    doc = r.get_data(as_text=True)
    assert "关于2026年第一批社会保障卡统一启用的公告" in doc
    assert "社会保障卡在发放期间处于锁定状态，不可以使用" in doc and "同时原医疗保险卡作废" in doc
    assert "原医保个人账户资金自动转入社会保障卡" in doc
    assert "暂时没有领到社会保障卡的参保人员，仍可继续使用原医疗保险卡" in doc
    assert f"{left} 张" in doc and f"{waiting} 张" in doc
    assert 'href="/static/documents.css"' in doc and "<style" not in doc and "<script" not in doc
    assert 'class="page letter announcement"' in doc
    assert len(audits(app, "activation_announcement")) == 1


def test_a_batch_not_closed_is_refused(app, rounds):
    web = browser(app, "manager")
    page = f"/activation/batches/{rounds['delivered']}"
    html = web.get(page).get_data(as_text=True)
    assert 'id="not-closed"' in html and 'id="activation-form"' not in html
    no_codes(html)
    r = web.post(page, {"announced_on": china_today().isoformat()})
    assert r.status_code == 302
    html = web.get(page).get_data(as_text=True)
    assert "尚未结束" in html and "已到货" in html
    assert count_rounds(app) == 0
    assert web.get(page + "/announcement").status_code == 404


def test_a_failed_round_is_run_again_from_its_page(app, rounds, monkeypatch):
    from app.procedures.lifecycle.activation import cards as activation_cards
    web = browser(app, "manager")
    page = f"/activation/batches/{rounds['closed']}"
    assert web.post(page, {"announced_on": china_today().isoformat()}).status_code == 302

    def down(session):
        raise RuntimeError("the medical-insurance system is down")

    monkeypatch.setattr(activation_cards, "medical_insurance", down)
    factory = app.extensions["sscard"].session_factory
    with factory() as s:
        job_id = s.scalar(select(ActivationRound.job_id))
    assert jobs.run_now(factory, job_id) == "failed"
    html = web.get(page).get_data(as_text=True)
    assert "启用作业失败" in html and 'id="retry-form"' in html and 'id="job-error"' in html
    no_codes(html)
    monkeypatch.undo()
    assert web.post(page + "/retry", {}, page=page).status_code == 302
    assert len(audits(app, "activation_retry")) == 1
    run_jobs(app)
    html = web.get(page).get_data(as_text=True)
    assert "已统一启用" in html and 'id="retry-form"' not in html
    assert web.post(page + "/retry", {}, page=page).status_code == 302  # nothing to run again
    assert "没有失败" in web.get(page).get_data(as_text=True)
    with factory() as s:
        assert s.get(Batch, rounds["closed"]).status == BatchStatus.CLOSED
