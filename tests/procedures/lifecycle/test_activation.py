"""统一启用 (app/procedures/lifecycle/activation.py, seed 000 §4.2.2, §4.3): a small hand-made
round (cards with the employer, with their holder, issued again, at the centre, returned,
invalidated, temporarily lost) activates exactly the cards that left the centre — the old
medical card stopped, the balance moved, one activation and one history line each — and leaves
the others locked; a card picked up afterwards is activated by the scheduler's round (late);
a second activation, a batch not closed and a bad announcement date are refused with nothing
changed; a failed job is run again without repeating anything. At scale, a round of 10,000
cards is interrupted and resumed on SQLite (the process "dies" inside a chunk) and on
PostgreSQL (a real worker process killed with SIGKILL), and every card is activated exactly
once."""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from app.adapters.medical import MedicalAccountRow
from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import china_time, china_today, utcnow
from app.database import make_session_factory
from app.engine import jobs
from app.engine.db import make_engine
from app.engine.scheduler import ROUND_HOOKS
from app.migrate import upgrade
from app.procedures.batch.models import Batch
from app.procedures.batch.states import BatchStatus
from app.procedures.distribution import custody
from app.procedures.distribution.models import CardCustody
from app.procedures.distribution.states import Custody, ReturnReason
from app.procedures.lifecycle import activation
from app.procedures.lifecycle.activation import cards as activation_cards
from app.procedures.lifecycle.activation import job as activation_job
from app.procedures.lifecycle.models import ActivationRound, CardActivation, CardEvent
from app.procedures.lifecycle.states import EventKind, RoundState
from app.wiring import load_all
from tests.procedures.distribution.conftest import CLERK, accepted_employer
from tests.procedures.lifecycle.scale import build_round, expected

load_all()

ROOT = Path(__file__).resolve().parents[3]
MANAGER = "manager"
OFFICE = "SS-CENTRE"


@pytest.fixture
def factory(tmp_path):
    """A migrated SQLite file of its own (the job runs in sessions of its own: tests commit)."""
    url = f"sqlite:///{tmp_path / 'activation.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


# -- the small round ------------------------------------------------------------------------------

NAMES = ("甲", "乙", "丙", "丁", "戊", "己", "庚")
#: what happened to each card before the activation
#: 甲 with the employer · 乙 with its holder · 丙 at the centre · 丁 returned (not collected)
#: 戊 returned, then issued again at the counter · 己 wrong data, invalidated · 庚 with its
#: holder but reported lost by phone (临时挂失) before the activation
BALANCES = {"甲": 12_345, "乙": 67_890, "丙": 500, "丁": 100_000, "己": 7_700, "庚": 3_000}  # 戊: no account


def small_round(factory) -> dict:
    with factory() as s, s.begin():
        made = accepted_employer(s, NAMES)
        custody.ensure_custody(s, made.employer.id, CLERK)
        card = dict(zip(NAMES, made.card_ids))
        custody.move(s, [card[n] for n in "甲乙丁戊己庚"], Custody.WITH_EMPLOYER, CLERK)
        custody.move(s, [card["乙"], card["庚"]], Custody.WITH_HOLDER, CLERK)
        custody.move(s, [card["丁"], card["戊"]], Custody.RETURNED, CLERK, reason=ReturnReason.NOT_COLLECTED)
        custody.move(s, [card["己"]], Custody.RETURNED, CLERK, reason=ReturnReason.WRONG_DATA)
        custody.move(s, [card["戊"]], Custody.REISSUED, CLERK)
        custody.move(s, [card["己"]], Custody.INVALIDATED, CLERK)
        s.get(Card, card["庚"]).status = CardStatus.TEMP_LOST
        ssn = dict(zip(NAMES, (c.ssn for c in made.cards)))
        for name, cents in BALANCES.items():
            s.add(MedicalAccountRow(ssn=ssn[name], balance_cents=cents, old_card_number=f"YB{name}",
                                    frozen=False))
        batch = s.get(Batch, made.batch.id)
        batch.status, batch.office = BatchStatus.CLOSED, OFFICE
        return {"batch": batch.id, "card": card, "ssn": ssn, "batch_name": batch.name}


def start(factory, batch_id, **kw) -> tuple[int, int]:
    with factory() as s, s.begin():
        row = activation.start_round(s, batch_id, china_today(), MANAGER, OFFICE, **kw)
        return row.id, row.job_id


def run_job(factory, job_id) -> jobs.BackgroundJob:
    assert jobs.run_now(factory, job_id) == "done", job_row(factory, job_id).error_en
    return job_row(factory, job_id)


def job_row(factory, job_id) -> jobs.BackgroundJob:
    with factory() as s:
        job = s.get(jobs.BackgroundJob, job_id)
        s.expunge(job)
        return job


def status_of(s, card_ids) -> dict[int, str]:
    return dict(s.execute(select(Card.id, Card.status).where(Card.id.in_(card_ids))).all())


def snapshot(s) -> tuple:
    """Everything the activation writes."""
    return (s.execute(select(ActivationRound.id, ActivationRound.state, ActivationRound.activated,
                             ActivationRound.waiting)).all(),
            s.scalar(select(func.count()).select_from(jobs.BackgroundJob)),
            s.scalar(select(func.count()).select_from(CardActivation)),
            s.scalar(select(func.count()).select_from(CardEvent)),
            s.execute(select(Card.id, Card.status).order_by(Card.id)).all(),
            s.execute(select(MedicalAccountRow.ssn, MedicalAccountRow.card_number,
                             MedicalAccountRow.moved_cents).order_by(MedicalAccountRow.ssn)).all())


def test_the_round_activates_exactly_the_cards_that_left_the_centre(factory):
    r = small_round(factory)
    card, ssn = r["card"], r["ssn"]
    round_id, job_id = start(factory, r["batch"])
    with factory() as s:  # nothing happens before the job runs
        assert s.get(ActivationRound, round_id).state == RoundState.RUNNING
        assert set(status_of(s, card.values()).values()) == {CardStatus.NOT_ACTIVATED, CardStatus.TEMP_LOST}
    job = run_job(factory, job_id)
    on = {"甲", "乙", "戊"}
    assert job.result == {"round": round_id, "batch": r["batch"], "activated": 3, "waiting": 2,
                          "moved_cents": BALANCES["甲"] + BALANCES["乙"]}
    with factory() as s:
        row = s.get(ActivationRound, round_id)
        assert (row.state, row.activated, row.waiting) == (RoundState.DONE, 3, 2)
        assert row.finished_at is not None
        status = status_of(s, card.values())
        for name, card_id in card.items():
            want = (CardStatus.ACTIVE if name in on else CardStatus.TEMP_LOST if name == "庚"
                    else CardStatus.NOT_ACTIVATED)
            assert status[card_id] == want, name
        activations = {a.card_id: a for a in s.scalars(select(CardActivation))}
        assert set(activations) == {card[n] for n in on}
        assert {a.round_id for a in activations.values()} == {round_id}
        assert not any(a.late for a in activations.values())
        assert activations[card["甲"]].moved_cents == BALANCES["甲"]
        assert activations[card["戊"]].moved_cents == 0  # no account: one made with nothing in it
        assert all(s.get(Card, card[n]).activated_at is not None for n in on)
        events = s.scalars(select(CardEvent).order_by(CardEvent.card_id)).all()
        assert [(e.card_id, e.kind, e.by, e.office) for e in events] == \
            [(card[n], EventKind.ACTIVATED, MANAGER, OFFICE) for n in sorted(on, key=card.get)]
        assert events[0].detail == {"round": round_id, "batch": r["batch"],
                                    "moved_cents": BALANCES["甲"], "late": False}
        accounts = {a.ssn: a for a in s.scalars(select(MedicalAccountRow))}
        for name in ("甲", "乙"):  # the old medical card stopped, the balance on the card
            a = accounts[ssn[name]]
            assert a.card_number == s.get(Card, card[name]).card_number
            assert a.moved_cents == BALANCES[name] and a.old_card_stopped_at is not None
        assert accounts[ssn["戊"]].card_number == s.get(Card, card["戊"]).card_number
        for name in ("丙", "丁", "己", "庚"):  # still on the old medical card
            a = accounts[ssn[name]]
            assert a.card_number is None and a.old_card_stopped_at is None and a.moved_cents is None
        f = activation.figures(s, row)
        assert (f.activated, f.late, f.waiting, f.moved_cents) == (3, 0, 2, 80_235)
        assert f.moved_yuan == "802.35"


def test_a_card_picked_up_afterwards_is_activated_by_the_next_scheduler_round(factory):
    assert activation.late_round in ROUND_HOOKS
    r = small_round(factory)
    card, ssn = r["card"], r["ssn"]
    round_id, job_id = start(factory, r["batch"])
    run_job(factory, job_id)
    assert activation.late_round(factory) == 0  # nothing picked up since
    with factory() as s, s.begin():  # 丙 collects the card at the counter; 丁's is issued again
        custody.move(s, [card["丙"]], Custody.WITH_HOLDER, CLERK)
        custody.move(s, [card["丁"]], Custody.REISSUED, CLERK)
    assert activation.late_round(factory) == 2
    with factory() as s:
        for name in ("丙", "丁"):
            a = s.get(CardActivation, card[name])
            assert a is not None and a.late and a.round_id == round_id, name
            assert s.get(Card, card[name]).status == CardStatus.ACTIVE
            account = s.get(MedicalAccountRow, ssn[name])
            assert account.moved_cents == BALANCES[name] and account.old_card_stopped_at is not None
        e = s.scalars(select(CardEvent).where(CardEvent.card_id == card["丙"])).one()
        assert e.kind == EventKind.ACTIVATED and e.detail["late"] is True and e.by == MANAGER
        row = s.get(ActivationRound, round_id)
        assert (row.activated, row.waiting) == (3, 2)  # the figures at the end of the round
        f = activation.figures(s, row)
        assert (f.activated, f.late, f.waiting) == (3, 2, 0)  # and now
        before = snapshot(s)
    assert activation.late_round(factory) == 0  # again: nothing twice
    with factory() as s:
        assert snapshot(s) == before
    # the round only looks at events once they are older than the lag; then it is one query
    later = utcnow() + activation.LATE_LAG + timedelta(seconds=1)
    assert activation.late_round(factory, now=later) == 0
    with factory() as s:
        assert s.get(ActivationRound, round_id).late_mark == s.scalar(
            select(func.max(custody.CustodyEvent.id)))
    engine = factory.kw["bind"]
    statements = []
    listener = lambda conn, cursor, sql, *a: statements.append(sql)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert activation.late_round(factory, now=later) == 0
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) == 1, statements
    assert not [q for q in statements if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_a_loss_lifted_after_the_round_activates_the_card(factory):
    """庚 was reported lost by phone before the round (not activated); lifting the loss gives
    it back its status before the loss (未启用): ``activate_if_due`` switches it on then."""
    r = small_round(factory)
    card, ssn = r["card"], r["ssn"]
    round_id, job_id = start(factory, r["batch"])
    with factory() as s, s.begin():  # before the round is done: not yet
        s.get(Card, card["庚"]).status = CardStatus.NOT_ACTIVATED
        assert activation.activate_if_due(s, [card["庚"]]) == 0
        s.get(Card, card["庚"]).status = CardStatus.TEMP_LOST
    run_job(factory, job_id)
    with factory() as s, s.begin():
        s.get(Card, card["庚"]).status = CardStatus.NOT_ACTIVATED  # 解挂
        s.flush()
        assert activation.activate_if_due(s, [card["庚"], card["丙"], card["甲"]]) == 1
    with factory() as s:
        a = s.get(CardActivation, card["庚"])
        assert a.late and a.round_id == round_id and a.moved_cents == BALANCES["庚"]
        assert s.get(Card, card["庚"]).status == CardStatus.ACTIVE
        assert s.get(MedicalAccountRow, ssn["庚"]).card_number == s.get(Card, card["庚"]).card_number
        assert s.get(CardActivation, card["丙"]) is None  # at the centre: still waiting
        assert activation.activate_if_due(s, [card["庚"]]) == 0


def test_a_card_picked_up_while_the_job_runs_is_not_missed(factory, monkeypatch):
    """The job's last pass starts from the first card again: a card picked up behind it (a
    lower card id than the chunk it is at) is activated by the round, not left behind."""
    r = small_round(factory)
    card = r["card"]
    round_id, job_id = start(factory, r["batch"], chunk=1)
    real = activation_job.switch_on
    calls = []

    def pick_up_behind(session, rows, **kw):
        calls.append([c for c, _, _ in rows])
        if calls[-1] == [card["戊"]]:  # the job is past 丙 (at the centre): it is collected now
            custody.move(session, [card["丙"]], Custody.WITH_HOLDER, CLERK)
        return real(session, rows, **kw)

    monkeypatch.setattr(activation_job, "switch_on", pick_up_behind)
    job = run_job(factory, job_id)
    assert [c for chunk in calls for c in chunk] == [card[n] for n in "甲乙戊丙"]
    assert job.result["activated"] == 4 and job.result["waiting"] == 1
    with factory() as s:
        a = s.get(CardActivation, card["丙"])
        assert a is not None and not a.late and a.round_id == round_id


def test_activating_twice_is_refused_and_changes_nothing(factory):
    r = small_round(factory)
    round_id, job_id = start(factory, r["batch"])
    with factory() as s:  # while it runs
        before = snapshot(s)
        with pytest.raises(activation.AlreadyActivated) as e:
            activation.start_round(s, r["batch"], china_today(), "manager2", OFFICE)
        assert "开始统一启用" in e.value.message_zh and "不能重复启用" in e.value.message_zh
        s.rollback()
        assert snapshot(s) == before
    run_job(factory, job_id)
    with factory() as s:
        row = s.get(ActivationRound, round_id)
        at = china_time(row.created_at).strftime("%Y-%m-%d %H:%M")
        before = snapshot(s)
        with pytest.raises(activation.AlreadyActivated) as e:
            activation.start_round(s, r["batch"], china_today(), "manager2", OFFICE)
        err = e.value
        assert err.code == "activation_twice" and err.kind == "conflict" and err.round_id == round_id
        assert f"已于 {at} 统一启用" in err.message_zh and r["batch_name"] in err.message_zh
        assert f"was activated on {at}" in err.message_en
        assert row.announced_on.isoformat() in err.message_zh
        s.rollback()
        assert snapshot(s) == before
    with factory() as s:  # the database itself refuses a second round of the batch
        s.add(ActivationRound(batch_id=r["batch"], announced_on=china_today(), created_by="x"))
        with pytest.raises(IntegrityError):
            s.flush()


def test_a_batch_not_closed_or_a_bad_date_is_refused(factory):
    r = small_round(factory)
    with factory() as s, s.begin():
        s.get(Batch, r["batch"]).status = BatchStatus.DELIVERED
    with factory() as s:
        before = snapshot(s)
        with pytest.raises(activation.BatchNotClosed) as e:
            activation.start_round(s, r["batch"], china_today(), MANAGER, OFFICE)
        assert "尚未结束" in e.value.message_zh and "已到货" in e.value.message_zh
        assert "not closed" in e.value.message_en
        s.rollback()
        assert snapshot(s) == before
    with factory() as s, s.begin():
        s.get(Batch, r["batch"]).status = BatchStatus.CLOSED
    with factory() as s:
        for day, words in ((china_today() + timedelta(days=1), "不能晚于今天"),
                           (date(2001, 1, 1), "不能早于制卡批次建立之日"), (None, "请填写启用公告日期")):
            with pytest.raises(activation.BadAnnouncementDate) as e:
                activation.start_round(s, r["batch"], day, MANAGER, OFFICE)
            assert words in e.value.message_zh and e.value.kind == "invalid"
            s.rollback()
        assert snapshot(s) == before
        with pytest.raises(activation.RoundNotFound):
            activation.start_round(s, 999_999, china_today(), MANAGER, OFFICE)


def test_a_failed_job_fails_the_round_and_runs_again_without_repeating(factory, monkeypatch):
    r = small_round(factory)
    round_id, job_id = start(factory, r["batch"], chunk=1)
    real = activation_cards.medical_insurance
    calls = []

    class Broken:
        def __init__(self, session):
            self.inner = real(session)

        def switch_to_cards(self, cards):
            calls.append(cards)
            if len(calls) == 2:
                raise RuntimeError("the medical-insurance system is down")
            return self.inner.switch_to_cards(cards)

    monkeypatch.setattr(activation_cards, "medical_insurance", Broken)
    assert jobs.run_now(factory, job_id) == "failed"
    with factory() as s:
        row = s.get(ActivationRound, round_id)
        assert row.state == RoundState.FAILED
        assert activation.may_retry(row, s.get(jobs.BackgroundJob, job_id))
        assert s.scalar(select(func.count()).select_from(CardActivation)) == 1  # the first chunk stays
    monkeypatch.setattr(activation_cards, "medical_insurance", real)
    with factory() as s, s.begin():
        job = activation.retry_round(s, round_id, MANAGER)
        new_job = job.id
    assert new_job != job_id
    run_job(factory, new_job)
    with factory() as s:
        row = s.get(ActivationRound, round_id)
        assert (row.state, row.activated, row.waiting, row.job_id) == (RoundState.DONE, 3, 2, new_job)
        assert s.scalar(select(func.count()).select_from(CardEvent)) == 3
        with pytest.raises(activation.ActivationError):
            activation.retry_round(s, round_id, MANAGER)  # done: nothing to run again


def test_the_announcement_prints_the_round(factory):
    r = small_round(factory)
    round_id, job_id = start(factory, r["batch"])
    run_job(factory, job_id)
    with factory() as s:
        page = activation.announcement_html(s, round_id, css_href="/static/documents.css")
    assert r["batch_name"] in page and "统一启用的公告" in page
    assert "社会保障卡在发放期间处于锁定状态，不可以使用" in page
    assert "同时原医疗保险卡作废" in page
    assert "原医保个人账户资金自动转入社会保障卡" in page
    assert "暂时没有领到社会保障卡的参保人员，仍可继续使用原医疗保险卡" in page
    assert "802.35 元" in page and "3 张" in page and "2 张" in page
    today = china_today()
    assert f"{today.year}年{today.month}月{today.day}日" in page  # announced and activated today
    assert '<link rel="stylesheet" href="/static/documents.css">' in page and "<style" not in page


# -- 10,000 cards, interrupted and resumed --------------------------------------------------------

SCALE = 10_000


class Died(BaseException):
    """The worker process dies (not an error the job could report): nothing runs after it."""


def check_exactly_once(factory, built, round_id: int) -> None:
    left, waiting, _ = expected(SCALE)
    assert (built.left, built.waiting) == (left, waiting)
    with factory() as s:
        row = s.get(ActivationRound, round_id)
        assert (row.state, row.activated, row.waiting) == (RoundState.DONE, left, waiting)
        n, distinct, cents = s.execute(select(func.count(), func.count(func.distinct(CardActivation.card_id)),
                                              func.sum(CardActivation.moved_cents))
                                       .where(CardActivation.round_id == round_id)).one()
        assert n == distinct == left and cents == built.left_cents
        n, distinct = s.execute(select(func.count(), func.count(func.distinct(CardEvent.card_id)))
                                .where(CardEvent.kind == EventKind.ACTIVATED)).one()
        assert n == distinct == left
        states = dict(s.execute(
            select(CardCustody.state, func.count()).join(Card, Card.id == CardCustody.card_id)
            .where(CardCustody.batch_id == built.batch_id, Card.status == CardStatus.ACTIVE)
            .group_by(CardCustody.state)).all())
        assert sum(states.values()) == left and set(states) <= {c.value for c in activation.LEFT}
        still = s.scalar(select(func.count()).select_from(CardCustody).join(Card, Card.id == CardCustody.card_id)
                         .where(CardCustody.batch_id == built.batch_id,
                                CardCustody.state.in_([c.value for c in activation.LEFT]),
                                Card.status != CardStatus.ACTIVE))
        assert still == 0
        # every activated card's account is on it, once: what moved is what was there
        moved, on_card = s.execute(
            select(func.sum(MedicalAccountRow.moved_cents), func.count())
            .join(Card, Card.ssn == MedicalAccountRow.ssn)
            .where(Card.status == CardStatus.ACTIVE, MedicalAccountRow.card_number == Card.card_number)).one()
        assert on_card == left and moved == built.left_cents
        assert s.scalar(select(func.count()).select_from(MedicalAccountRow)
                        .where(MedicalAccountRow.card_number.is_(None))) == SCALE - left


def test_10000_cards_on_sqlite_resume_after_the_process_dies_mid_chunk(factory, monkeypatch):
    monkeypatch.setenv("SSCARD_JOB_LEASE_SECONDS", "1")
    with factory() as s, s.begin():
        built = build_round(s, SCALE)
    round_id, job_id = start(factory, built.batch_id)  # chunks of 1,000
    real = activation_cards.medical_insurance
    calls = []

    class DiesInChunkFour:
        def __init__(self, session):
            self.inner = real(session)

        def switch_to_cards(self, cards):
            calls.append(len(cards))
            moved = self.inner.switch_to_cards(cards)  # the accounts switched in the transaction...
            if len(calls) == 4:
                raise Died()  # ...that never commits
            return moved

    monkeypatch.setattr(activation_cards, "medical_insurance", DiesInChunkFour)
    with pytest.raises(Died):
        jobs.run_now(factory, job_id)
    with factory() as s:
        job = s.get(jobs.BackgroundJob, job_id)
        assert job.state == "running" and job.attempts == 1 and job.owner  # abandoned, leased
        assert job.checkpoint["done"] == 3000 and job.done == 3000
        assert s.scalar(select(func.count()).select_from(CardActivation)) == 3000
        assert s.scalar(select(func.count()).select_from(CardEvent)) == 3000
        assert s.scalar(select(func.count()).select_from(MedicalAccountRow)
                        .where(MedicalAccountRow.card_number.is_not(None))) == 3000
        assert s.scalar(select(func.count()).select_from(Card).where(Card.status == CardStatus.ACTIVE)) == 3000
    assert jobs.run_now(factory, job_id) == "busy"  # the lease still holds
    time.sleep(1.2)  # the dead worker's lease runs out
    calls.clear()
    monkeypatch.setattr(activation_cards, "medical_insurance", real)
    counting = []
    monkeypatch.setattr(activation_cards, "medical_insurance",
                        lambda session: counting.append(1) or real(session))
    assert jobs.run_now(factory, job_id) == "done"
    job = job_row(factory, job_id)
    assert job.attempts == 2 and job.done == job.total == built.left
    assert len(counting) == 6  # 5,500 cards left: chunks 4-9 only, none of the first three again
    check_exactly_once(factory, built, round_id)


# -- PostgreSQL: a real worker killed with SIGKILL ------------------------------------------------

LEASE = 2


def _psycopg(url: str):
    import psycopg
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1),
                           connect_timeout=5, autocommit=True)


@pytest.fixture
def pg(pg_url):
    """A fresh migrated database on the pg_url server (dropped afterwards): (url, factory)."""
    name = f"sscard_activation_{secrets.token_hex(4)}"
    base, _, query = pg_url.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    try:
        with closing(_psycopg(base)) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as e:
        pytest.skip(f"cannot create a database on the test server: {e}")
    engine = make_engine(url)
    try:
        upgrade(url)
        yield url, make_session_factory(engine)
    finally:
        engine.dispose()
        with closing(_psycopg(base)) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Worker:
    """``python -m app.worker`` on the test database, its output in a log file."""

    def __init__(self, url: str, log: Path):
        self.log = log
        env = {**os.environ, "DATABASE_URL": url, "SSCARD_JOB_LEASE_SECONDS": str(LEASE),
               "SSCARD_JOB_POLL_SECONDS": "0.2", "SSCARD_INSTANCE": str(log.parent),
               "PYTHONUNBUFFERED": "1"}
        env.pop("TEST_DATABASE_URL", None)
        self.fh = open(log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "app.worker"], cwd=ROOT, env=env,
                                     stdout=self.fh, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.fh.close()

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])


def wait_until(predicate, timeout: float, what: str, worker: Worker | None = None):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}"
                                 + (f"\nworker log:\n{worker.tail()}" if worker else ""))
        time.sleep(0.01)


@pytest.mark.postgres
def test_10000_cards_on_postgresql_resume_after_the_worker_is_killed(pg, tmp_path):
    url, factory = pg
    with factory() as s, s.begin():
        built = build_round(s, SCALE)
    round_id, job_id = start(factory, built.batch_id, chunk=100)  # 85 chunks: time to kill it
    first = Worker(url, tmp_path / "worker-1.log")
    second = None
    try:
        def progressed():
            job = job_row(factory, job_id)
            assert job.state in ("queued", "running"), \
                f"the job ended ({job.state}) before it could be killed:\n{first.tail()}"
            if first.proc.poll() is not None:
                raise AssertionError(f"the worker died on its own:\n{first.tail()}")
            return job if job.total and job.done * 5 > job.total else None

        wait_until(progressed, 60, "the activation to make progress", first)
        first.kill()
        job = job_row(factory, job_id)
        assert job.state == "running" and job.attempts == 1 and 0 < job.done < built.left, \
            (job.state, job.done)
        with factory() as s:  # what was committed is whole chunks, with their checkpoint
            done = s.scalar(select(func.count()).select_from(CardActivation))
            assert done == job.checkpoint["done"] and done % 100 == 0
            assert s.scalar(select(func.count()).select_from(CardEvent)) == done
        wait_until(lambda: job_row(factory, job_id).lease_until < utcnow(), LEASE + 5,
                   "the dead worker's lease to run out")
        second = Worker(url, tmp_path / "worker-2.log")
        ended = jobs.wait(factory, job_id, timeout=120)
        assert ended.state == "done", f"{ended.state}: {ended.error_en}\n{second.tail()}"
        assert ended.attempts == 2
    finally:
        first.stop()
        if second:
            second.stop()
    check_exactly_once(factory, built, round_id)
    # and the scheduler's round finds nothing more to do
    assert activation.late_round(factory, now=utcnow() + activation.LATE_LAG * 2) == 0


@pytest.mark.postgres
def test_the_late_round_on_postgresql(pg):
    url, factory = pg
    r = small_round(factory)
    round_id, job_id = start(factory, r["batch"])
    run_job(factory, job_id)
    with factory() as s, s.begin():
        custody.move(s, [r["card"]["丙"]], Custody.WITH_HOLDER, CLERK)
    assert activation.late_round(factory) == 1
    assert activation.late_round(factory) == 0
    with factory() as s:
        a = s.get(CardActivation, r["card"]["丙"])
        assert a.late and a.moved_cents == BALANCES["丙"]
        e = s.scalars(select(CardEvent).where(CardEvent.card_id == r["card"]["丙"])).one()
        assert e.detail == {"round": round_id, "batch": r["batch"], "moved_cents": BALANCES["丙"],
                            "late": True}
