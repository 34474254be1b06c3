"""The batch demo (scripts/start): a batch in progress whose employers stand at different
points, so the pages a newcomer and a manager open are not empty."""
from sqlalchemy import select

from app.engine import repository
from app.engine.models import HumanTask
from app.engine.services import Actor
from app.procedures.batch.demo import seed
from app.procedures.batch.models import Batch, Employer
from tests.procedures.batch.walk import PROCESSES


def test_demo_batch_in_several_states(app):
    factory = app.extensions["sscard"].session_factory
    with factory() as s:
        repository.deploy_directory(s, PROCESSES, Actor.system("test"))
        s.commit()
        assert len(seed(s)) == 1
        assert seed(s) == []  # once
    with factory() as s:
        batch = s.scalars(select(Batch)).one()
        assert batch.status == "in_production" and batch.counts["eligible"] > 200
        statuses = [e.status for e in s.scalars(select(Employer).where(Employer.eligible > 0)
                                                .order_by(Employer.id))]
        assert statuses[:7] == ["confirming", "confirming", "entering", "reviewing", "delivered",
                                "notified", "notified"]
        tasks = set(s.scalars(select(HumanTask.task_name).where(HumanTask.state == "open")))
        assert {"record_voucher", "record_returns", "review", "accept_delivery",
                "production_decision"} <= tasks
