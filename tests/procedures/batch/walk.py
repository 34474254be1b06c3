"""A driver for the batch procedures' tests: a migrated SQLite database with processes/
deployed, a batch imported from a small export (every person eligible), background jobs run
in the test's thread, and the clerks of each lane."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from app.common.clock import CHINA_TZ
from app.engine import jobs, repository, runtime
from app.engine.models import HumanTask, ProcessInstance, Timer
from app.engine.services import Actor
from app.procedures.batch import city
from app.procedures.batch.cases import BATCH_PROCESS, EMPLOYER_PROCESS
from app.procedures.batch.importing import service
from app.procedures.batch.importing.police_extract import load_extract
from app.procedures.batch.models import Batch, Employer, Person
from app.engine.clock import engine_clock
from tests.procedures.batch.conftest import HEADER, NINGBO, POLICE_HEADER, csv_bytes, id_number

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
OFFICE = "SS-CENTRE"
MANAGER = Actor("manager", 6, frozenset({"manager"}), "科长 张伟", OFFICE, frozenset({OFFICE}))
CLERK = Actor("centre", 4, frozenset({"centre_clerk"}), "中心经办 王强", OFFICE, frozenset({OFFICE}))
CLERK2 = Actor("centre2", 9, frozenset({"centre_clerk"}), "中心经办 李明", OFFICE, frozenset({OFFICE}))
REVIEWER = Actor("reviewer", 5, frozenset({"reviewer"}), "复核 林芳", OFFICE, frozenset({OFFICE}))
NAMES = ["单田芳", "曾小贤", "欧阳修", "王芳", "李娜", "张伟"]
AGENT_ID = id_number("33020319750505123")


def export(n: int = len(NAMES)):
    rows, register = [], []
    for i, name in enumerate(NAMES[:n]):
        number = id_number(f"33020319800101{i:03d}")
        dept = "一分厂" if i % 2 else "二分厂"
        rows.append(("330200", "E1", "宁波甲机械有限公司", dept, "", name, "男", number,
                     "职工基本医疗保险", "2011-06-01"))
        register.append((number, name, "男", "汉族", "1980-01-01", "宁波市海曙区", "330203", "是"))
    return csv_bytes(HEADER, rows), csv_bytes(POLICE_HEADER, register)


NOW = datetime(2026, 8, 3, 10, 0, tzinfo=CHINA_TZ)  # Monday; no holiday until 25 September


class World:
    """Every step and job runs at ``self.now`` (the engine's clock)."""

    def __init__(self, app):
        self.now = NOW
        self.factory = app.extensions["sscard"].session_factory
        with self.factory() as s, s.begin():
            city.apply(s, city.load_file(NINGBO))
        with self.factory() as s:
            repository.deploy_directory(s, PROCESSES, Actor.system("test"))
            s.commit()

    # -- the batch
    def import_batch(self, n: int = len(NAMES)) -> int:
        contribution, register = export(n)
        load_extract(self.factory, register)
        with self.factory() as s, s.begin():
            batch = service.create_batch(s, "2011年第一批", date(2011, 8, 31), ["330200"],
                                         "manager", OFFICE)
            upload = service.store_upload(s, batch, "export.csv", contribution, "manager")
            service.enqueue_import(s, batch, upload, "manager")
            self.batch_id = batch.id
        self.run_jobs()
        return self.batch_id

    def run_jobs(self) -> int:
        with engine_clock(self.now):
            return jobs.work(self.factory, once=True)

    @property
    def batch(self) -> Batch:
        with self.factory() as s:
            return s.get(Batch, self.batch_id)

    def employer(self) -> Employer:
        with self.factory() as s:
            return s.scalars(select(Employer).where(Employer.batch_id == self.batch_id)).one()

    def persons(self) -> list[Person]:
        with self.factory() as s:
            return list(s.scalars(select(Person).where(Person.batch_id == self.batch_id)
                                  .order_by(Person.seq)))

    def case_of(self, process_key: str) -> ProcessInstance:
        with self.factory() as s:
            return s.scalars(select(ProcessInstance).where(
                ProcessInstance.process_key == process_key).order_by(ProcessInstance.id.desc())).first()

    def open_tasks(self, process_key: str) -> list[str]:
        iid = self.case_of(process_key).id
        with self.factory() as s:
            return sorted(s.scalars(select(HumanTask.task_name).where(
                HumanTask.instance_id == iid, HumanTask.state == "open")))

    def task(self, process_key: str, name: str) -> HumanTask:
        iid = self.case_of(process_key).id
        with self.factory() as s:
            return s.scalars(select(HumanTask).where(HumanTask.instance_id == iid,
                                                     HumanTask.task_name == name,
                                                     HumanTask.state == "open")).one()

    def complete(self, process_key: str, name: str, data: dict, actor: Actor):
        task = self.task(process_key, name)
        with self.factory() as s:
            runtime.complete_task(s, task.id, data, actor, now=self.now)
        self.run_jobs()

    def timers(self, process_key: str) -> list[Timer]:
        iid = self.case_of(process_key).id
        with self.factory() as s:
            return list(s.scalars(select(Timer).where(Timer.instance_id == iid).order_by(Timer.id)))

    def fire_timers(self, at: datetime) -> int:
        self.now = at
        n = runtime.fire_due_timers(self.factory, now=at)
        self.run_jobs()
        return n

    # -- the employer's work in the grid
    def release(self, days: int = 10):
        self.complete(BATCH_PROCESS, "review_checks", {"return_working_days": days, "confirm": True}, MANAGER)

    def voucher(self):
        self.complete(EMPLOYER_PROCESS, "record_voucher", {
            "employer_name": "宁波甲机械有限公司", "agent1_name": "陈经办", "agent1_mobile": "13905740001",
            "agent1_id_number": AGENT_ID}, CLERK)

    def enter_all(self, actor: Actor = CLERK, bank: str = "ICBC"):
        from app.procedures.batch.confirmation import record_returns
        with self.factory() as s, s.begin():
            record_returns(s, self.employer().id, [
                {"person_id": p.id, "returned": True, "bank": bank, "mobile": "13800000000",
                 "dept1": p.dept1} for p in self.persons()], actor.username)

    def declare(self, counts: dict | None = None):
        from app.procedures.batch.reconcile import summary
        with self.factory() as s, s.begin():
            e = s.get(Employer, self.employer().id)
            e.declared = counts if counts is not None else {
                row["dept"]: row["banks"] for row in summary(s, e.id)["rows"]}

    def review_all(self, decision: str = "accept", actor: Actor = REVIEWER, note: str | None = None):
        from app.procedures.batch.entry import review
        with self.factory() as s, s.begin():
            review(s, self.employer().id, {p.id: (decision, note) for p in self.persons()},
                   actor.username)

    def returns(self, actor: Actor = CLERK):
        n = len(self.persons())
        self.complete(EMPLOYER_PROCESS, "record_returns",
                      {"forms_received": n, "forms_returned": n, "confirm": True}, actor)

    def card_numbers(self) -> list[str]:
        from app.cards.models import Card
        with self.factory() as s:
            return list(s.scalars(select(Card.card_number).join(Person, Person.card_id == Card.id)
                                  .where(Person.batch_id == self.batch_id).order_by(Person.seq)))


def china(y, m, d, h=10) -> datetime:
    return datetime(y, m, d, h, tzinfo=CHINA_TZ)


