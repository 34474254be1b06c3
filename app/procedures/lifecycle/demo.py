"""The lifecycle family's demo 演示数据, on the cards the distribution demo put in their holders'
hands: the holders' medical accounts (balances to move at activation), a PIN changed at a
terminal, a debit function activated at the bank, a temporary loss by phone waiting for the
holder (the centre clerk's task), one lifted, and a formal loss whose replacement waits at the
ICBC window (the window clerk's task, once the job ran). Idempotent: nothing when a loss exists."""
from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.adapters.medical import MedicalAccountRow
from app.auth.models import User
from app.auth.service import actor_of
from app.cards import jobs as card_jobs
from app.cards.models import Card, CardJob
from app.common.clock import utcnow
from app.engine import runtime
from app.engine.models import HumanTask
from app.procedures.lifecycle import bank, cases, pin
from app.procedures.lifecycle.models import LossReport


def _balance(ssn: str) -> int:
    """A stable made-up balance of ¥50–¥3,000 (in cents) per person."""
    return 5_000 + int(hashlib.sha256(ssn.encode()).hexdigest()[:8], 16) % 295_000


def _station_done(s: Session, job: CardJob) -> None:
    """What the desk's station reports for the demo's past jobs."""
    job = card_jobs.claim_next_job(s, f"{job.window}:demo", window=job.window, kinds=[job.kind])
    card_jobs.record_result(s, job.id, {"job_id": str(job.id), "attempt": job.attempts, "ok": True,
                                        "kind": job.kind, "result_id": f"demo-{job.id}",
                                        "station": f"{job.window}:demo", "pin_changed": True,
                                        "finished_at": utcnow().isoformat()})
    card_jobs.finish_without_case(s, job)


def seed(session: Session) -> list[int]:
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    with factory() as s:
        if s.scalar(select(LossReport.id).limit(1)) is not None:
            return []
        users = {u.username: u for u in s.scalars(select(User).where(User.username.in_(["centre", "window"])))}
        if len(users) < 2:
            return []
        from app.procedures.distribution.models import CardCustody
        held = s.scalars(select(Card).join(CardCustody, CardCustody.card_id == Card.id)
                         .where(CardCustody.state == "with_holder").order_by(Card.id)).all()
        # the medical accounts of the round's persons (used with their old medical IC cards)
        from app.procedures.batch.models import Person
        known = set(s.scalars(select(MedicalAccountRow.ssn)))
        for n, ssn in enumerate(s.scalars(select(Person.id_number).distinct()).all()):
            if ssn not in known:
                s.add(MedicalAccountRow(ssn=ssn, balance_cents=_balance(ssn), frozen=False,
                                        old_card_number=f"YB3505{n + 1:08d}"))
        s.commit()
        if len(held) < 5:
            return []
        clerk, window = actor_of(users["centre"]), actor_of(users["window"])
        card_ids = [c.id for c in held[:5]]
    started = []
    with factory() as s, s.begin():  # a PIN changed at the self-service terminal
        _station_done(s, pin.queue_pin_change(s, s.get(Card, card_ids[0]), clerk))
    with factory() as s, s.begin():  # the debit function activated at the bank
        card = s.get(Card, card_ids[1])
        bank.activate_debit(s, card, window, shown_id_number=card.ssn, form_copy_seen=True,
                            branch="工商银行石狮支行制卡窗口")
    for index in (2, 3):  # temporary losses by phone; the second is lifted by its holder
        with factory() as s:
            card = s.get(Card, card_ids[index])
            answers = {"name": True, "birth_date": True, "mobile": None}
            _, instance = cases.report_by_phone(s, card, clerk, caller="本人", answers=answers)
            started.append(instance.id)
            ssn = card.ssn
        if index == 3:
            with factory() as s:
                task = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.state == "open")).one()
                runtime.complete_task(s, task.id, {"decision": "lift", "shown_id_number": ssn,
                                                   "id_seen": True}, clerk)
    with factory() as s:  # a formal loss at the counter, replaced at the ICBC window
        card = s.get(Card, card_ids[4])
        _, instance = cases.report_in_person(s, card, clerk, shown_id_number=card.ssn,
                                             replace_via="instant", replace_at="ICBC-SS")
        started.append(instance.id)
    return started

