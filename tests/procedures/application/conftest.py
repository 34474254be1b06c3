"""Fixtures of the procedure tests: a SQLite database with the platform's tables, the demo data
and the BPMN files of processes/ deployed; clerks of each lane; a driver that walks a case."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

import app.engine.models  # noqa: F401
from app.adapters.sms import SmsMessage
from app.cards import jobs
from app.cards.demo import seed_demo
from app.cards.models import BlankCard, Card, CardJob
from app.database import Base
from app.engine import audit, repository, runtime
from app.engine.db import make_engine
from app.engine.models import HumanTask, ProcessInstance, Timer
from app.engine.services import Actor
from app.procedures import load_families
from app.procedures.application.models import Application
from app.common.clock import CHINA_TZ
from tests.cards.helpers import form_for, pg_engine  # noqa: F401  (fixture)

load_families()  # tables, service operations and forms of every procedure family

PROCESSES = Path(__file__).resolve().parents[3] / "processes"

# Mon 3 August 2026, 10:00 in Shishi: a plain working month (no public holiday until 25 Sept).
NOW = datetime(2026, 8, 3, 10, 0, tzinfo=CHINA_TZ)

WINDOW = Actor("window1", 11, frozenset({"window_clerk"}), "柯美华")
WINDOW2 = Actor("window2", 12, frozenset({"window_clerk"}), "蔡明")
OUTLET = Actor("outlet1", 21, frozenset({"outlet_clerk"}), "施丽")
MANAGER = Actor("manager1", 31, frozenset({"manager"}), "洪科长")
ADMIN = Actor("admin", 1)
STATION = Actor.system("station:ICBC-SS-01")


def _prepared(engine) -> sessionmaker:
    Base.metadata.create_all(engine)
    Session = sessionmaker(engine)
    with Session() as session:
        seed_demo(session)
        session.commit()
        repository.deploy_directory(session, PROCESSES, ADMIN)
    return Session


@pytest.fixture
def db(tmp_path):
    """SQLite (file) with the demo data and processes/ deployed."""
    engine = make_engine(f"sqlite:///{tmp_path / 'procedures.db'}")
    yield _prepared(engine)
    engine.dispose()


@pytest.fixture
def pg_db(request):
    """The same on PostgreSQL, in a schema of its own (skipped without a server)."""
    pg = request.getfixturevalue("pg_engine")  # tests.cards.helpers: an empty schema
    return _prepared(pg)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request):
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


class Case:
    """Walks one case through the runtime, one committed step at a time, like the web layer."""

    def __init__(self, Session, process_key: str, now: datetime = NOW):
        self.Session = Session
        self.s = Session()
        self.key = process_key
        self.now = now
        self.id = runtime.start_instance(self.s, process_key, {}, None, self.clerk,
                                         now=self.now).id

    @property
    def clerk(self) -> Actor:
        return WINDOW if self.key == "instant_issuance" else OUTLET

    def later(self, **delta) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    # -- reading
    def open_tasks(self) -> list[str]:
        return sorted(self.s.scalars(select(HumanTask.task_name).where(
            HumanTask.instance_id == self.id, HumanTask.state == "open")
            .execution_options(populate_existing=True)))

    def task(self, name: str) -> HumanTask:
        return self.s.scalars(select(HumanTask).where(
            HumanTask.instance_id == self.id, HumanTask.task_name == name,
            HumanTask.state == "open").execution_options(populate_existing=True)).one()

    @property
    def instance(self) -> ProcessInstance:
        return self.s.get(ProcessInstance, self.id, populate_existing=True)

    @property
    def app(self) -> Application:
        return self.s.scalars(select(Application).where(Application.instance_id == self.id)
                              .execution_options(populate_existing=True)).one()

    def cards(self) -> list[Card]:
        return list(self.s.scalars(select(Card).where(Card.application_id == self.app.id)
                                   .order_by(Card.id).execution_options(populate_existing=True)))

    def jobs(self) -> list[CardJob]:
        return list(self.s.scalars(select(CardJob).where(CardJob.instance_id == self.id)
                                   .order_by(CardJob.id).execution_options(populate_existing=True)))

    def blank_cards(self) -> list[BlankCard]:
        return list(self.s.scalars(select(BlankCard).where(BlankCard.reserved_for == self.app.id)
                                   .order_by(BlankCard.id).execution_options(populate_existing=True)))

    def sms(self) -> list[SmsMessage]:
        return list(self.s.scalars(select(SmsMessage).where(
            SmsMessage.application_id == self.app.id)))

    def data(self) -> dict:
        return runtime.instance_data(self.s, self.id)

    def task_data(self, name: str) -> dict:
        """What the open task ``name`` sees (its form starts from this)."""
        return runtime.task_data(self.s, self.task(name).id)

    def audit(self) -> list[tuple[str, str | None]]:
        return [(e.action, e.task_name) for e in audit.trail(self.s, self.id)]

    # -- acting
    def complete(self, name: str, data: dict, actor: Actor | None = None):
        row = self.task(name)
        runtime.complete_task(self.s, row.id, data, actor or self.clerk, now=self.now)

    def accept(self, person: str, **changes):
        self.complete("accept_application",
                      form_for(person, on=self.now.date(), **changes))

    def station(self, ok: bool = True, error_code: str = "CARD_REMOVED", station_id="ST-01",
                bank_card_number: str | None = None, resend: bool = False) -> CardJob:
        """What app/api/station.py does when the card station claims the job and reports."""
        job = jobs.claim_next_job(self.s, station_id)
        assert job is not None and job.instance_id == self.id
        wire = jobs.job_payload(self.s, job)
        self.s.commit()
        expected = wire.get("expected_bank_card_number")
        result = {
            "job_id": wire["id"], "attempt": wire["attempt"], "kind": "issue",
            "station": station_id, "result_id": f"res-{wire['id']}-{wire['attempt']}", "ok": ok,
            "card": {**wire["card"], "issue_date": wire["card"]["issue_date"].replace("-", "")}
            if ok else None,
            "bank_card_number": bank_card_number or expected, "apdus": 57, "resumed": False,
            "error": None if ok else {"code": error_code, "message_zh": "卡片在操作过程中被拔出",
                                      "message_en": "The card was removed", "retryable": True},
            "finished_at": self.now.isoformat()}
        for attempt in range(2 if resend else 1):
            job, first_time = jobs.record_result(self.s, job.id, result)
            if first_time:
                message = {"ok": result["ok"], "job_id": job.id, "error": result["error"],
                           "card_number": (result["card"] or {}).get("card_number"),
                           "bank_card_number": result["bank_card_number"]}
                runtime.send_message(self.s, "card_job_finished", message,
                                     instance_id=job.instance_id, actor=STATION, now=self.now)
            else:
                self.s.commit()
            assert first_time == (attempt == 0)
        return job

    def fire_timers(self, at: datetime) -> int:
        return runtime.fire_due_timers(self.Session, now=at)

    def timers(self) -> list[Timer]:
        return list(self.s.scalars(select(Timer).where(Timer.instance_id == self.id)
                                   .execution_options(populate_existing=True)))

    def close(self):
        self.s.close()


def _case_factory(Session):
    opened = []

    def make(process_key: str, now: datetime = NOW) -> Case:
        c = Case(Session, process_key, now)
        opened.append(c)
        return c

    return make, opened


@pytest.fixture
def case(db):
    """``case(process_key)`` starts a case on SQLite and returns its driver."""
    make, opened = _case_factory(db)
    yield make
    for c in opened:
        c.close()


@pytest.fixture
def any_case(any_db):
    """Like ``case``, once on SQLite and once on PostgreSQL."""
    make, opened = _case_factory(any_db)
    yield make
    for c in opened:
        c.close()
