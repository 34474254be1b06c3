"""The batch family's demo 演示数据: a batch of generated persons of Shishi, released to its
employers, which stand at different points (voucher to record, entry half done, summary
differing, under review, cards delivered to check, employer told to collect), so a newcomer
and a manager find every page filled."""
from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import User
from app.auth.service import actor_of
from app.engine import jobs, runtime
from app.engine.models import HumanTask
from app.procedures.batch import city
from app.procedures.batch.generate import generate
from app.procedures.batch.importing import service
from app.procedures.batch.importing.police_extract import load_extract
from app.procedures.batch.models import Batch, Employer, Person

PERSONS = 350  # seven employers of about fifty


def seed(session: Session) -> list[int]:
    """Start the demo batch; its case id (nothing when a batch exists already)."""
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    with factory() as s:  # a session of its own: the caller's may hold an older snapshot
        if s.scalar(select(Batch.id).limit(1)) is not None:
            return []
        users = {u.username: u for u in s.scalars(select(User).where(
            User.username.in_(("manager", "centre", "reviewer"))))}
        if len(users) < 3:
            return []
        manager, clerk, reviewer = (actor_of(users[n]) for n in ("manager", "centre", "reviewer"))
    batch_id = _import(factory, session, manager)
    with factory() as s:
        batch = s.get(Batch, batch_id)
        if batch.instance_id is None:
            return []
        instance_id = batch.instance_id
        _complete(s, instance_id, "review_checks", {"return_working_days": 10, "confirm": True}, manager)
    jobs.work(factory, once=True)  # the employer cases
    with factory() as s:
        employers = list(s.scalars(select(Employer).where(Employer.batch_id == batch_id,
                                                          Employer.eligible > 0).order_by(Employer.id)))
    for employer, stage in zip(employers, STAGES):
        for step in stage:
            with factory() as s:
                step(s, employer, clerk, reviewer)
    with factory() as s:
        _complete(s, instance_id, "production_decision", {"decision": "send"}, manager)
    jobs.work(factory, once=True)  # the delivery told to the employer cases
    for employer in employers[5:7]:  # accepted and told; the distribution demo takes the last
        with factory() as s:
            _accept_all(s, employer, clerk)
    jobs.work(factory, once=True)
    return [instance_id]


def _import(factory, session: Session, manager) -> int:
    shishi = city.load_file(city.DEFAULT_CITY)
    with factory() as s, s.begin():
        city.current(s)  # the default configuration, when none was set
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, PERSONS, city=shishi, regions=["350581"], cutoff=date(2026, 10, 31), seed=7)
        load_extract(factory, (Path(tmp) / "police.csv").read_bytes())
        content = (Path(tmp) / "contribution.csv").read_bytes()
    with factory() as s, s.begin():
        batch = service.create_batch(s, "2026年第一批（石狮市）", date(2026, 10, 31), ["350581"],
                                     manager.username, manager.office)
        upload = service.store_upload(s, batch, "统一申报征缴数据-2026-10.csv", content, manager.username)
        job = service.enqueue_import(s, batch, upload, manager.username)
        batch_id, job_id = batch.id, job.id
    jobs.run_now(factory, job_id)
    return batch_id


def _task(s, instance_id: int, name: str) -> HumanTask | None:
    return s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                             HumanTask.task_name == name,
                                             HumanTask.state == "open")).first()


def _complete(s, instance_id, name, data, actor) -> None:
    task = _task(s, instance_id, name)
    if task is not None:
        runtime.complete_task(s, task.id, data, actor)


def _persons(s, employer) -> list[Person]:
    return list(s.scalars(select(Person).where(Person.employer_id == employer.id,
                                               Person.eligibility == "eligible").order_by(Person.seq)))


def _voucher(s, employer, clerk, reviewer) -> None:
    from stdnum.cn import ric
    body = f"35058119780{employer.id % 10}01{employer.id % 100:03d}"[:17]
    _complete(s, employer.instance_id, "record_voucher", {
        "employer_name": employer.name, "phone": "0595-88881234",
        "agent1_name": "陈经办", "agent1_mobile": f"139059{employer.id:05d}"[:11],
        "agent1_id_number": body + ric.calc_check_digit(body + "0")}, clerk)


def _rows(persons, banks) -> list[dict]:
    return [{"person_id": p.id, "returned": i % 17 != 5, "bank": banks[i % len(banks)],
             "mobile": f"138{p.id:08d}"[-11:], "dept1": p.dept1, "dept2": p.dept2}
            for i, p in enumerate(persons)]


def _enter(s, employer, clerk, part) -> None:
    from app.procedures.batch.confirmation import record_returns
    with s.begin():
        persons = _persons(s, employer)
        half = len(persons) // 2
        chosen = persons[:half] if part == "first" else persons[half:]
        record_returns(s, employer.id, _rows(chosen, list(city.current(s).banks)), clerk.username)


def _enter_half(s, employer, clerk, reviewer) -> None:
    _enter(s, employer, clerk, "first")


def _enter_rest(s, employer, clerk, reviewer) -> None:
    _enter(s, employer, clerk, "rest")


def _declared_returns(s, employer, clerk, reviewer, wrong: bool = False) -> None:
    from app.procedures.batch.reconcile import summary
    with s.begin():
        e = s.get(Employer, employer.id)
        counted = summary(s, e.id)
        e.declared = {row["dept"]: dict(row["banks"]) for row in counted["rows"]}
        if wrong and counted["rows"]:
            first = counted["rows"][0]
            bank = next(iter(first["banks"]), "ICBC")
            e.declared[first["dept"]][bank] = first["banks"].get(bank, 0) + 2
        received = e.eligible
    _complete(s, employer.instance_id, "record_returns",
              {"forms_received": received, "forms_returned": counted["returned"], "confirm": True}, clerk)


def _review(s, employer, clerk, reviewer) -> None:
    from app.procedures.batch.entry import review
    with s.begin():
        review(s, employer.id, {p.id: ("accept", None) for p in _persons(s, employer)
                                if p.entry == "entered"}, reviewer.username)
    _complete(s, employer.instance_id, "review", {"confirm": True}, reviewer)


def _accept_all(s, employer, clerk) -> None:
    from app.cards.models import Card
    numbers = list(s.scalars(select(Card.card_number).join(Person, Person.card_id == Card.id)
                             .where(Person.employer_id == employer.id, Person.production == "made")))
    _complete(s, employer.instance_id, "accept_delivery", {"scanned": "\n".join(numbers)}, clerk)



def _differing(s, employer, clerk, reviewer) -> None:
    _declared_returns(s, employer, clerk, reviewer, wrong=True)


_ENTERED = (_voucher, _enter_half, _enter_rest)
_SUBMITTED = _ENTERED + (_declared_returns, _review)
# where each employer stands: voucher to record; entry half done; summary differing; under
# review; three submitted (their cards are then made: one to check, two accepted and told)
STAGES = ((), (_voucher, _enter_half), _ENTERED + (_differing,), _ENTERED + (_declared_returns,),
          _SUBMITTED, _SUBMITTED, _SUBMITTED)
