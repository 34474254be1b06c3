"""A driver for the distribution procedures' tests: the batch walk (tests/procedures/batch/
walk.py) carried to an employer told to collect its accepted cards, then the employer's
pickup, the roster, the returns and the corrections through the runtime."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.engine import runtime
from app.engine.models import HumanTask, ProcessInstance
from app.procedures.batch.cases import BATCH_PROCESS, EMPLOYER_PROCESS
from app.procedures.distribution.models import CardCustody, EmployerPickup, PickupCard
from tests.procedures.batch.test_employer_application import applied
from tests.procedures.batch.walk import AGENT_ID, CLERK, MANAGER, World

PICKUP = "employer_pickup"


class Counter(World):
    """The batch world with one employer whose cards wait at the centre."""

    def cards_at_centre(self):
        self.import_batch()
        self.release()
        applied(self)
        self.complete(BATCH_PROCESS, "production_decision", {"decision": "send"}, MANAGER)
        self.complete(EMPLOYER_PROCESS, "accept_delivery", {"scanned": "\n".join(self.card_numbers())}, CLERK)
        assert self.employer().status == "notified"
        return self

    def start_pickup(self) -> int:
        employer = self.employer()
        with self.factory() as s:
            case = runtime.start_instance(s, PICKUP, {"employer_id": employer.id,
                                                       "employer_name": employer.name},
                                          f"LK{employer.id}-{datetime.now().timestamp()}", CLERK,
                                          now=self.now)
        return case.id

    def agent(self, **changes):
        data = {"agent_name": "陈经办", "agent_id_number": AGENT_ID, "shown_id_number": AGENT_ID,
                "seal_checked": True, **changes}
        self.complete(PICKUP, "check_agent", data, CLERK)

    def pickup(self) -> EmployerPickup:
        with self.factory() as s:
            return s.scalars(select(EmployerPickup).order_by(EmployerPickup.id.desc())).first()

    def custody(self) -> dict[str, int]:
        with self.factory() as s:
            rows = s.scalars(select(CardCustody.state)).all()
        return {state: rows.count(state) for state in set(rows)}

    def pickup_cards(self) -> list[PickupCard]:
        with self.factory() as s:
            return list(s.scalars(select(PickupCard).where(PickupCard.pickup_id == self.pickup().id)
                                  .order_by(PickupCard.seq)))

    def later(self, **delta):
        self.now = self.now + timedelta(**delta)
        return self.now

    def case_data(self, process_key: str) -> dict:
        with self.factory() as s:
            return runtime.instance_data(s, self.case_of(process_key).id)

    def open_in(self, process_key: str) -> list[str]:
        with self.factory() as s:
            ids = s.scalars(select(ProcessInstance.id).where(ProcessInstance.process_key == process_key)).all()
            return sorted(s.scalars(select(HumanTask.task_name).where(
                HumanTask.instance_id.in_(ids), HumanTask.state == "open")))
