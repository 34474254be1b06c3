"""A driver for the lifecycle procedures' tests: a SQLite (or PostgreSQL) database with the
demo service points, the Ningbo regions and processes/ deployed; cards made by hand; the loss
and move cases walked through the runtime, and the card station's results as the station API
records them."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from stdnum.cn import ric

import app.engine.models  # noqa: F401
from app.cards import jobs as card_jobs
from app.cards.demo import seed_demo
from app.cards.models import Card, CardJob
from app.cards.states import CardStatus
from app.common.clock import CHINA_TZ
from app.database import Base
from app.engine import jobs, repository, runtime
from app.engine.clock import engine_clock
from app.engine.db import make_engine
from app.engine.models import HumanTask, ProcessInstance
from app.engine.services import Actor
from app.procedures import load_families
from app.procedures.batch import city

load_families()

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
NINGBO = Path(city.CITIES_DIR) / "ningbo.json"
NOW = datetime(2026, 8, 3, 10, 0, tzinfo=CHINA_TZ)  # Monday; no holiday until 25 September
CENTRE = "SS-CENTRE"
CLERK = Actor("centre", 4, frozenset({"centre_clerk"}), "中心经办 王强", CENTRE, frozenset({CENTRE}))
ADMIN = Actor("admin", 1)
_serial = itertools.count(1)


def citizen_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def prepared(engine) -> sessionmaker:
    Base.metadata.create_all(engine)
    Session = sessionmaker(engine)
    with Session() as s:
        seed_demo(s)
        city.apply(s, city.load_file(NINGBO))
        s.commit()
        repository.deploy_directory(s, PROCESSES, ADMIN)
    return Session


@pytest.fixture
def life(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lifecycle.db'}")
    yield Life(prepared(engine))
    engine.dispose()


class Life:
    def __init__(self, Session):
        self.Session = Session
        self.now = NOW

    def card(self, status=CardStatus.ACTIVE, name="陈晓明", region="330200", bank="中国工商银行",
             ssn: str | None = None) -> int:
        n = next(_serial)
        born = date(1985, 1, 1) + timedelta(days=n)
        ssn = ssn or citizen_id(f"330203{born:%Y%m%d}{n % 1000:03d}")
        with self.Session() as s, s.begin():
            card = Card(card_number=f"C{n:08d}"[:9], ssn=ssn, name=name, sex="1",
                        birth_date=born, region_code=region, status=status,
                        bank=bank, bank_card_number=f"62122614080{n:08d}")
            s.add(card)
            s.flush()
            return card.id

    def holder_mobile(self, card_id: int, mobile: str = "13905741234") -> None:
        """The holder as a person of an issuance round (the platform knows their mobile)."""
        from app.procedures.batch.models import Batch, Person
        with self.Session() as s, s.begin():
            card = s.get(Card, card_id)
            batch = Batch(name="2011年第一批", cutoff=date(2011, 8, 31), regions=["330200"],
                          status="closed", created_by="t")
            s.add(batch)
            s.flush()
            s.add(Person(batch_id=batch.id, id_number=card.ssn, name=card.name, sex="1",
                         region="330200", mobile=mobile, card_id=card.id))

    def get(self, card_id: int) -> Card:
        with self.Session() as s:
            return s.get(Card, card_id)

    def case(self, process_key: str) -> ProcessInstance:
        with self.Session() as s:
            return s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == process_key)
                             .order_by(ProcessInstance.id.desc())).first()

    def open_tasks(self, process_key: str) -> list[str]:
        iid = self.case(process_key).id
        with self.Session() as s:
            return sorted(s.scalars(select(HumanTask.task_name).where(
                HumanTask.instance_id == iid, HumanTask.state == "open")))

    def complete(self, process_key: str, name: str, data: dict, actor: Actor = CLERK):
        iid = self.case(process_key).id
        with self.Session() as s:
            task = s.scalars(select(HumanTask).where(HumanTask.instance_id == iid,
                                                     HumanTask.task_name == name,
                                                     HumanTask.state == "open")).one()
            runtime.complete_task(s, task.id, data, actor, now=self.now)
        self.run_jobs()

    def data(self, process_key: str) -> dict:
        with self.Session() as s:
            return runtime.instance_data(s, self.case(process_key).id)

    def run_jobs(self) -> int:
        with engine_clock(self.now):
            return jobs.work(self.Session, once=True)

    def fire_timers(self, at: datetime) -> int:
        self.now = at
        n = runtime.fire_due_timers(self.Session, now=at)
        self.run_jobs()
        return n

    def later(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def station(self, ok: bool = True, region: str | None = None, error: dict | None = None,
                station_id: str = f"{CENTRE}:1") -> CardJob:
        """The card station claims the next job of the centre and reports, as app/api/station.py
        records it (a case waiting gets the message; a job without a case runs its hook)."""
        with self.Session() as s:
            job = card_jobs.claim_next_job(s, station_id, window=CENTRE)
            assert job is not None
            wire = card_jobs.job_payload(s, job)
            s.commit()
            result = {"job_id": wire["id"], "attempt": wire["attempt"], "kind": wire["kind"],
                      "station": station_id, "result_id": f"r-{wire['id']}-{wire['attempt']}",
                      "ok": ok, "card": wire["card"], "apdus": 12, "resumed": False,
                      "error": None if ok else (error or {"code": "CARD_REMOVED",
                                                          "message_zh": "卡片在操作过程中被拔出",
                                                          "message_en": "The card was removed"}),
                      "finished_at": self.now.isoformat()}
            if wire["kind"] == "rewrite_region" and ok:
                result["region"] = {"region_code": region or wire["region"]["region_code"],
                                    "moved_on": wire["region"]["moved_on"]}
            if wire["kind"] == "change_pin" and ok:
                result["pin_changed"] = True
            job, first = card_jobs.record_result(s, job.id, result)
            assert first
            if job.instance_id is None:
                card_jobs.finish_without_case(s, job)
                s.commit()
            else:
                runtime.send_message(s, "card_job_finished", card_jobs.message_payload(job),
                                     instance_id=job.instance_id, actor=Actor.system("station"),
                                     now=self.now)
            return job
