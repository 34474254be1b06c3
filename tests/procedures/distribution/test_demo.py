"""The distribution demo (scripts/start): cards at an employer, most with their holders, a
return in two groups and a correction waiting — after the batch demo."""
from sqlalchemy import select

from app.engine import repository
from app.engine.models import HumanTask
from app.engine.services import Actor
from app.procedures.batch.demo import seed as seed_batch
from app.procedures.distribution.demo import seed
from app.procedures.distribution.models import CardCustody, CardReturn, DataCorrection, EmployerPickup
from tests.procedures.batch.walk import PROCESSES


def test_demo_pickup_with_a_return_and_a_correction(app):
    factory = app.extensions["sscard"].session_factory
    with factory() as s:
        repository.deploy_directory(s, PROCESSES, Actor.system("test"))
        s.commit()
        seed_batch(s)
        assert len(seed(s)) == 1
        assert seed(s) == []  # once
    with factory() as s:
        pickup = s.scalars(select(EmployerPickup)).one()
        assert pickup.status == "closed" and pickup.roster_back_at is not None
        states = list(s.scalars(select(CardCustody.state).where(CardCustody.employer_id == pickup.employer_id)))
        assert states.count("returned") == 2 and states.count("with_holder") == len(states) - 2
        assert s.scalars(select(CardReturn)).one().wrong_data == 1
        assert s.scalars(select(DataCorrection)).one().instance_id is not None
        assert "record_correction" in set(s.scalars(select(HumanTask.task_name).where(HumanTask.state == "open")))
        # the batch's other employer told to collect still has its cards at the centre
        assert s.scalar(select(CardCustody.card_id).where(CardCustody.employer_id != pickup.employer_id)) is None
