"""processes/batch/card_batch.bpmn 制卡批次: every path — the case starts once the checks are
done, the manager releases the batch (one employer case per employer with eligible persons,
the return date in working days), sends to the manufacturer as often as needed (nothing to
send loops back), and closes the batch only when every employer is done."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.engine.models import ProcessInstance
from app.procedures.batch.cases import BATCH_PROCESS as P
from app.procedures.batch.cases import EMPLOYER_PROCESS
from app.procedures.batch.models import ProductionOrder
from tests.procedures.batch.test_employer_application import applied
from tests.procedures.batch.walk import CLERK, MANAGER, World


def test_the_case_starts_with_the_checks_and_release_opens_the_employers(app):
    w = World(app)
    w.import_batch()
    case = w.case_of(P)
    assert case.business_key == f"PC{w.batch_id}" and w.batch.instance_id == case.id
    assert w.open_tasks(P) == ["review_checks"] and w.task(P, "review_checks").group == "manager"
    assert w.case_of(EMPLOYER_PROCESS) is None  # nothing released yet
    w.release(days=10)
    assert w.batch.status == "confirming"
    assert w.batch.return_by == date(2026, 8, 17)  # 10 working days from Mon 3 Aug 2026
    with w.factory() as s:
        employer_cases = s.scalar(select(func.count()).select_from(ProcessInstance)
                                  .where(ProcessInstance.process_key == EMPLOYER_PROCESS))
    assert employer_cases == 1 and w.employer().instance_id is not None
    assert w.open_tasks(P) == ["production_decision"]


def test_sending_with_nobody_applied_sends_nothing_and_asks_again(app):
    w = World(app)
    w.import_batch()
    w.release()
    w.complete(P, "production_decision", {"decision": "send"}, MANAGER)
    assert w.open_tasks(P) == ["production_decision"]
    with w.factory() as s:
        assert s.scalar(select(func.count()).select_from(ProductionOrder)) == 0


def test_send_then_close_once_every_employer_is_told(app):
    w = World(app)
    w.import_batch()
    w.release()
    applied(w)
    w.complete(P, "production_decision", {"decision": "send"}, MANAGER)
    assert w.batch.status == "in_production"
    w.complete(P, "production_decision", {"decision": "close"}, MANAGER)  # the employer is not told yet
    assert w.open_tasks(P) == ["production_decision"] and w.batch.status == "in_production"
    w.complete(EMPLOYER_PROCESS, "accept_delivery", {"scanned": "\n".join(w.card_numbers())}, CLERK)
    w.complete(P, "production_decision", {"decision": "close"}, MANAGER)
    assert w.batch.status == "closed" and w.case_of(P).status == "completed"
