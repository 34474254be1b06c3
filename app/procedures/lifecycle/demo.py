"""The lifecycle family's demo 演示数据: an earlier round, closed and activated by the manager
(its job runs in the worker), and, on the cards the distribution demo put in their holders'
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


ROUND_NAME = "2025年第一批（已发放完毕）"
ROUND_SIZE = 120
#: where the round's cards are, by position modulo 20: most with their holders, some still
#: with the employer, two waiting at the centre and one returned uncollected (they stay locked)
ROUND_MIX = {0: "at_centre", 1: "returned", 7: "at_centre", 4: "with_employer", 5: "with_employer"}


def _closed_round(factory) -> None:
    """An earlier issuance round, all handed out and closed, activated by the manager three
    days ago (the activation page and the card pages show a finished round)."""
    import random
    from datetime import date, timedelta

    from stdnum.cn import ric

    from app.cards.rules import CARD_TYPE, INIT_ORG, SPEC_VERSION, new_card_identifier
    from app.cards.states import CardStatus
    from app.common.clock import china_today
    from app.procedures.batch.generate.people import _name
    from app.procedures.batch.models import Batch, Person
    from app.procedures.batch.states import BatchStatus, Eligibility, Entry, Production
    from app.procedures.distribution.models import CardCustody
    from app.procedures.lifecycle.activation import start_round
    from hardware.profile import new_card_number
    with factory() as s:
        if s.scalar(select(Batch.id).where(Batch.name == ROUND_NAME)) is not None:
            return
        rng = random.Random(2025)
        batch = Batch(name=ROUND_NAME, cutoff=date(2025, 3, 31), regions=["350581"],
                      status=BatchStatus.CLOSED, office="SS-CENTRE", created_by="manager",
                      created_at=utcnow() - timedelta(days=120))
        s.add(batch)
        s.flush()
        for n in range(ROUND_SIZE):
            sex = "1" if n % 2 else "2"
            born = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 16000))
            body = f"350581{born:%Y%m%d}{700 + n:03d}"
            ssn = body + ric.calc_check_digit(body + "0")
            name = _name(rng, "男" if sex == "1" else "女")
            card = Card(card_number=new_card_number(), ssn=ssn, name=name, sex=sex, birth_date=born,
                        region_code="350581", status=CardStatus.NOT_ACTIVATED, bank="中国工商银行",
                        ethnicity="01", birthplace="350581", card_type=CARD_TYPE,
                        spec_version=SPEC_VERSION, init_org=INIT_ORG,
                        card_identifier=new_card_identifier(s, "350581"),
                        issue_date=date(2025, 6, 1), expiry_date=date(2035, 6, 1))
            s.add(card)
            s.flush()
            person = Person(batch_id=batch.id, id_number=ssn, name=name, sex=sex, region="350581",
                            eligibility=Eligibility.ELIGIBLE, entry=Entry.ACCEPTED,
                            production=Production.ACCEPTED, seq=n + 1, card_id=card.id)
            s.add(person)
            s.flush()
            state = ROUND_MIX.get(n % 20, "with_holder")
            s.add(CardCustody(card_id=card.id, person_id=person.id, batch_id=batch.id, state=state,
                              reason="not_collected" if state == "returned" else None,
                              changed_by="centre"))
            s.add(MedicalAccountRow(ssn=ssn, balance_cents=_balance(ssn), frozen=False,
                                    old_card_number=f"YB3505{9000 + n:08d}"))
        start_round(s, batch.id, china_today() - timedelta(days=3), "manager", "SS-CENTRE")
        s.commit()


def seed(session: Session) -> list[int]:
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    _closed_round(factory)
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
        # the ICBC window activates an ICBC account (a card of the bank the holder chose)
        icbc = [c.id for c in held if "工商银行" in (c.bank or "")][:1]
        card_ids = [c.id for c in held if c.id not in icbc][:4]
        card_ids.insert(1, icbc[0] if icbc else held[4].id)
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

