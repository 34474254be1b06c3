"""The lifecycle demo (scripts/start), after the batch and distribution demos: medical accounts
for the round's persons, a PIN changed, a debit function activated, a phone report waiting for
the holder, one lifted, a formal report whose replacement case waits at the ICBC window."""
from sqlalchemy import func, select

from app.adapters.medical import MedicalAccountRow
from app.cards.models import Card
from app.cards.states import CardStatus
from app.cards.demo import seed_demo as seed_service_points
from app.engine import jobs, repository
from app.engine.models import HumanTask, ProcessInstance
from app.engine.services import Actor
from app.procedures.batch.demo import seed as seed_batch
from app.procedures.distribution.demo import seed as seed_distribution
from app.procedures.lifecycle.demo import seed
from app.procedures.lifecycle.models import CardEvent, LossReport
from tests.procedures.batch.walk import PROCESSES


def test_demo_cards_in_every_state(app):
    factory = app.extensions["sscard"].session_factory
    with factory() as s:
        repository.deploy_directory(s, PROCESSES, Actor.system("test"))
        seed_service_points(s)  # scripts/start: seed-demo (service points) before the families
        s.commit()
        seed_batch(s)
        seed_distribution(s)
        assert len(seed(s)) == 3
        assert seed(s) == []  # once
    while jobs.work(factory, once=True):
        pass
    with factory() as s:
        from app.procedures.lifecycle.models import ActivationRound
        round_ = s.scalars(select(ActivationRound)).one()
        assert round_.state == "done" and round_.activated == 102 and round_.waiting == 18
        kinds = set(s.scalars(select(CardEvent.kind)))
        assert {"pin_changed", "bank_activated", "temp_loss", "lifted", "formal_loss"} <= kinds
        states = sorted(s.scalars(select(LossReport.state)))
        assert states == ["formal", "lifted", "temporary"]
        statuses = sorted(s.scalars(select(Card.status).where(Card.id.in_(select(LossReport.card_id)))))
        assert statuses == sorted([CardStatus.LOST, CardStatus.NOT_ACTIVATED, CardStatus.TEMP_LOST])
        assert s.scalar(select(func.count()).select_from(MedicalAccountRow)) >= 300
        assert "confirm_loss" in set(s.scalars(select(HumanTask.task_name).where(HumanTask.state == "open")))
        replacement = s.scalars(select(LossReport).where(LossReport.state == "formal")).one().replacement_instance_id
        case = s.get(ProcessInstance, replacement)
        assert case.process_key == "instant_issuance" and case.office == "ICBC-SS"
        # every card in a holder's hand carries complete chip data: the demo station can put
        # the holder's own virtual card in the reader for a PIN change or a move
        from hardware import profile
        held = s.scalars(select(Card).where(Card.status.in_(["active", "not_activated"]),
                                            Card.card_number.is_not(None))).all()
        assert len(held) > 100
        for card in held:
            profile.encode_card(card.chip_data())
