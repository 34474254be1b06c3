"""A known scenario for the issuance statistics 发放情况统计表, written straight into the tables
(cards, custody rows and events, pickups with their cards, returns, corrections) with chosen
Beijing times, so that every figure can be worked out by hand (see test_statistics.py).

Offices, batches, employers and cards (c = card, made on the day given, Beijing time)::

    SS-CENTRE  batch B0 (2026年3月)  E0 石狮零号公司   c13 c14 c15          made 2026-03-10
    SS-CENTRE  batch B1 (2026年第一批) E1 石狮甲服装公司 c1 … c6             made 2026-10-09
                                      E2 石狮乙鞋业公司 c7 c8 c9 c10        made 2026-10-09
    XM-CENTRE  batch B2 (厦门)         E3 厦门丙电子公司 c11 c12 c16         made 2026-11-03

What happened (Beijing time; "a -> b" is a custody event)::

    03-20 10:00  c13 c14 c15 accepted -> at_centre                     (delivered)
    04-15 10:00  pickup P0 (E0) c13 c14 c15 at_centre -> with_employer; distribute_by 04-20,
                 return_by 10-15, roster back 04-20 15:00
    04-17 10:00  c13 -> with_holder
    10-12 10:00  c1 … c8 accepted -> at_centre                          (8 of the 10 delivered)
    10-14 11:00  c14 -> returned (not collected)     return R0 (within the 6 months)
    10-19 10:00  pickup P1 (E2) c7 c8 -> with_employer; distribute_by 10-22, return_by 2027-04-19
    10-20 11:00  c15 -> returned (not collected)     return R1 (after the 6 months: 10-15)
    10-20 14:00  c7 -> with_holder
    10-21 16:00  c8 -> returned (wrong data)         return R2; roster of P1 back 10-21 16:00
                 correction of c8 due 10-28, made 10-28 07:30 (UTC 10-27 23:30)     on time
    10-28 09:00  pickup P2 (E1) c1 … c6 -> with_employer; distribute_by 11-02, return_by 2027-04-28
    10-28 10:00  c8 returned -> invalidated
    10-30 15:00  c1 c2 c3 c4 -> with_holder
    11-01 00:30  c9 accepted -> at_centre (UTC 10-31 16:30: November in Beijing)
    11-04 10:00  roster of P2 back (two days late); c11 c12 c16 accepted -> at_centre
    11-05 10:00  c5 -> returned (moved), c6 -> returned (wrong data)   return R3
                 correction of c6 due 11-12, made 11-13 07:00 (UTC 11-12 23:00)      late
    11-06 10:00  pickup P3 (E3) c11 c12 c16 -> with_employer; distribute_by 11-11,
                 return_by 2027-05-06, roster never back
    11-09 10:00  c11 -> with_holder
    11-13 10:00  c6 returned -> invalidated
    11-16 10:00  c9 at_centre -> with_holder (collected at the counter)
    11-20 10:00  c5 returned -> reissued (second issuance at the centre)
    12-03 10:00  c16 -> returned (wrong data)         return R4
                 correction of c16 due 12-10, never made (overdue)
    c10 was never delivered; c12 stays with E3.
"""
from __future__ import annotations

import itertools
from datetime import date, datetime

from sqlalchemy.orm import Session
from stdnum.cn import ric

from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import CHINA_TZ
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.batch.states import Eligibility, EmployerStatus, Entry, Production
from app.procedures.distribution.models import (
    CardCustody,
    CardReturn,
    CustodyEvent,
    DataCorrection,
    EmployerPickup,
    PickupCard,
    ReturnedCard,
)

BY = "tester"
OFFICE, OTHER_OFFICE = "SS-CENTRE", "XM-CENTRE"
_serial = itertools.count(1)


def cst(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    """A Beijing time."""
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


def citizen_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


class Scenario:
    def __init__(self, s: Session):
        self.s = s
        self.batches: dict[str, Batch] = {}
        self.employers: dict[str, Employer] = {}
        self.cards: dict[str, int] = {}     # c1 -> card id
        self.persons: dict[str, int] = {}   # c1 -> person id
        self.employer_of: dict[str, str] = {}
        self.state: dict[str, str] = {}
        self.pickups: dict[str, EmployerPickup] = {}
        self.returns: dict[str, CardReturn] = {}

    # -- rows --------------------------------------------------------------------------------

    def batch(self, key: str, name: str, office: str) -> Batch:
        b = Batch(name=name, cutoff=date(2026, 1, 31), regions=["350581"], status="delivered",
                  office=office, created_by=BY)
        self.s.add(b)
        self.s.flush()
        self.batches[key] = b
        return b

    def employer(self, key: str, batch: str, name: str) -> Employer:
        e = Employer(batch_id=self.batches[batch].id, code=f"35058100{len(self.employers):02d}",
                     name=name, region="350581", status=EmployerStatus.NOTIFIED)
        self.s.add(e)
        self.s.flush()
        self.employers[key] = e
        return e

    def card(self, key: str, employer: str, made: datetime, production=Production.ACCEPTED) -> None:
        n = next(_serial)
        ssn = citizen_id(f"35058119850101{n:03d}")
        e = self.employers[employer]
        card = Card(card_number=f"S{n:08d}", ssn=ssn, name=f"持卡人{key}", region_code="350581",
                    status=CardStatus.NOT_ACTIVATED, created_at=made)
        self.s.add(card)
        self.s.flush()
        person = Person(batch_id=e.batch_id, employer_id=e.id, employer_code=e.code, id_number=ssn,
                        name=f"持卡人{key}", sex="1", region="350581", seq=n,
                        eligibility=Eligibility.ELIGIBLE, entry=Entry.ACCEPTED,
                        production=production, card_id=card.id)
        self.s.add(person)
        self.s.flush()
        self.cards[key], self.persons[key], self.employer_of[key] = card.id, person.id, employer

    def move(self, keys, to_state: str, at: datetime, reason: str | None = None,
             pickup: str | None = None, return_: str | None = None) -> None:
        """One custody event per card (from its current place), and its custody row."""
        for key in keys.split() if isinstance(keys, str) else keys:
            from_state = self.state.get(key)
            if from_state is None:  # the custody row begins at the store (as ensure_custody)
                from_state = "accepted"
                e = self.employers[self.employer_of[key]]
                self.s.add(CardCustody(card_id=self.cards[key], person_id=self.persons[key],
                                       employer_id=e.id, batch_id=e.batch_id, state=to_state,
                                       changed_at=at, changed_by=BY))
            else:
                row = self.s.get(CardCustody, self.cards[key])
                row.state, row.changed_at = to_state, at
                row.reason = reason if reason else row.reason
            self.s.add(CustodyEvent(card_id=self.cards[key], at=at, by=BY, from_state=from_state,
                                    to_state=to_state, reason=reason,
                                    pickup_id=self.pickups[pickup].id if pickup else None,
                                    return_id=self.returns[return_].id if return_ else None))
            self.state[key] = to_state
        self.s.flush()

    def pickup(self, key: str, employer: str, cards: str, at: datetime, distribute_by: date,
               return_by: date, roster_back: datetime | None) -> None:
        e = self.employers[employer]
        p = EmployerPickup(number=f"JJ{e.code}-{len(self.pickups) + 1}", employer_id=e.id,
                           office=self.s.get(Batch, e.batch_id).office, status="handed_over",
                           letter_agent_name="王经办", letter_agent_id=citizen_id("35058119700101001"),
                           voucher_version=1, seal_checked=True, cards=len(cards.split()),
                           counted_at=at, handed_over_at=at, handed_over_by=BY,
                           distribute_by=distribute_by, return_by=return_by,
                           roster_back_at=roster_back, created_by=BY, created_at=at)
        self.s.add(p)
        self.s.flush()
        self.pickups[key] = p
        for seq, card in enumerate(cards.split(), 1):
            self.s.add(PickupCard(pickup_id=p.id, card_id=self.cards[card],
                                  person_id=self.persons[card], seq=seq))
        self.move(cards, "with_employer", at, pickup=key)

    def give_back(self, key: str, employer: str, at: datetime, cards: dict[str, str]) -> None:
        """A return slip 退卡回收单: {card: reason}."""
        e = self.employers[employer]
        wrong = sum(1 for r in cards.values() if r == "wrong_data")
        r = CardReturn(number=f"TK{e.code}-{len(self.returns) + 1}", employer_id=e.id,
                       agent_name="王经办", not_handed_out=len(cards) - wrong, wrong_data=wrong,
                       received_by=BY, received_at=at)
        self.s.add(r)
        self.s.flush()
        self.returns[key] = r
        for card, reason in cards.items():
            self.s.add(ReturnedCard(return_id=r.id, card_id=self.cards[card],
                                    person_id=self.persons[card], reason=reason))
            self.move([card], "returned", at, reason=reason, return_=key)

    def correction(self, card: str, return_: str, due_on: date, corrected_at: datetime | None,
                   overdue: bool = False) -> None:
        self.s.add(DataCorrection(card_id=self.cards[card], person_id=self.persons[card],
                                  return_id=self.returns[return_].id, due_on=due_on,
                                  corrected={"name": ["旧", "新"]} if corrected_at else None,
                                  corrected_at=corrected_at, corrected_by=BY if corrected_at else None,
                                  overdue=overdue))
        self.s.flush()


def build(s: Session) -> Scenario:
    """The scenario of the module docstring (flushed, not committed)."""
    sc = Scenario(s)
    sc.batch("B0", "2026年3月批次", OFFICE)
    sc.batch("B1", "2026年第一批", OFFICE)
    sc.batch("B2", "厦门2026年批次", OTHER_OFFICE)
    sc.employer("E0", "B0", "石狮零号公司")
    sc.employer("E1", "B1", "石狮甲服装有限公司")
    sc.employer("E2", "B1", "石狮乙鞋业有限公司")
    sc.employer("E3", "B2", "厦门丙电子有限公司")
    for key in ("c13", "c14", "c15"):
        sc.card(key, "E0", cst(3, 10, 9))
    for i in range(1, 7):
        sc.card(f"c{i}", "E1", cst(10, 9, 9))
    for i in range(7, 11):
        sc.card(f"c{i}", "E2", cst(10, 9, 9),
                production=Production.MADE if i == 10 else Production.ACCEPTED)
    for key in ("c11", "c12", "c16"):
        sc.card(key, "E3", cst(11, 3, 9))

    sc.move("c13 c14 c15", "at_centre", cst(3, 20))
    sc.pickup("P0", "E0", "c13 c14 c15", cst(4, 15), date(2026, 4, 20), date(2026, 10, 15),
              roster_back=cst(4, 20, 15))
    sc.move("c13", "with_holder", cst(4, 17))
    sc.move("c1 c2 c3 c4 c5 c6 c7 c8", "at_centre", cst(10, 12))
    sc.give_back("R0", "E0", cst(10, 14, 11), {"c14": "not_collected"})
    sc.pickup("P1", "E2", "c7 c8", cst(10, 19), date(2026, 10, 22), date(2027, 4, 19),
              roster_back=cst(10, 21, 16))
    sc.give_back("R1", "E0", cst(10, 20, 11), {"c15": "not_collected"})
    sc.move("c7", "with_holder", cst(10, 20, 14), pickup="P1")
    sc.give_back("R2", "E2", cst(10, 21, 16), {"c8": "wrong_data"})
    sc.correction("c8", "R2", date(2026, 10, 28), cst(10, 28, 7, 30))
    sc.pickup("P2", "E1", "c1 c2 c3 c4 c5 c6", cst(10, 28, 9), date(2026, 11, 2), date(2027, 4, 28),
              roster_back=cst(11, 4))
    sc.move("c8", "invalidated", cst(10, 28))
    sc.move("c1 c2 c3 c4", "with_holder", cst(10, 30, 15), pickup="P2")
    sc.move("c9", "at_centre", cst(11, 1, 0, 30))
    sc.move("c11 c12 c16", "at_centre", cst(11, 4))
    sc.give_back("R3", "E1", cst(11, 5), {"c5": "moved", "c6": "wrong_data"})
    sc.correction("c6", "R3", date(2026, 11, 12), cst(11, 13, 7))
    sc.pickup("P3", "E3", "c11 c12 c16", cst(11, 6), date(2026, 11, 11), date(2027, 5, 6),
              roster_back=None)
    sc.move("c11", "with_holder", cst(11, 9), pickup="P3")
    sc.move("c6", "invalidated", cst(11, 13))
    sc.move("c9", "with_holder", cst(11, 16))
    sc.move("c5", "reissued", cst(11, 20))
    sc.give_back("R4", "E3", cst(12, 3), {"c16": "wrong_data"})
    sc.correction("c16", "R4", date(2026, 12, 10), None, overdue=True)
    return sc
