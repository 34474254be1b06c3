"""2. The delivery file 制卡结果回盘: the manufacturer's answer becomes cards."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, insert, select, update
from sqlalchemy.orm import Session

from app.adapters.manufacturer import (
    CardManufacturer,
    DeliveryLine,
    ProductionLine,
    read_delivery,
    read_production,
)
from app.cards.models import Card
from app.cards.rules import (CARD_TYPE, INIT_ORG, SPEC_VERSION, VALID_YEARS, add_years,
                             random_card_identifier)
from app.cards.states import LIVE_CARD_STATES, CardStatus
from app.common.clock import utcnow
from app.common.masking import mask_card_number, mask_id
from app.procedures.batch.city import current as current_city
from app.procedures.batch.models import (
    Employer,
    Person,
    PersonEvent,
    ProductionOrder,
)
from app.procedures.batch.production.common import (
    AWAITING,
    MANUFACTURER,
    MAX_FAILURES,
    ProductionError,
    _chunks,
    _expire,
    _history,
    manufacturer_for,
)
from app.procedures.batch.production.order import _remake
from app.procedures.batch.states import EmployerStatus, Production

# -- 2. the delivery file 制卡结果回盘 ------------------------------------------------------------

@dataclass
class _Delivery:
    """What one delivery does, gathered while its lines are worked chunk by chunk."""

    order: ProductionOrder
    made: int = 0
    remake: dict[int, tuple[str, str]] = field(default_factory=dict)    # person id -> reason
    refused: dict[int, tuple[str, str]] = field(default_factory=dict)   # holds a live card
    unmatched: int = 0
    employers: set[int] = field(default_factory=set)
    failures: list[dict] = field(default_factory=list)
    failed_lines: int = 0

    def fail(self, line: int, id_number: str, zh: str, en: str) -> None:
        self.failed_lines += 1
        if len(self.failures) < MAX_FAILURES:
            self.failures.append({"line": line, "id_number": mask_id(id_number), "zh": zh, "en": en})


def receive_delivery(session: Session, order_id: int, manufacturer: CardManufacturer | None = None,
                     actor_name: str = MANUFACTURER) -> dict:
    """制卡结果回盘: read the order's delivery file and register the cards made. Returns the
    counts (``ready`` False while the manufacturer has not answered). Failed cards and card
    numbers an existing card already has go into a remake order; a person who meanwhile holds
    a live card elsewhere (一人一卡) is taken out of production and the card not registered."""
    order = session.get(ProductionOrder, order_id)
    if order is None:
        raise ProductionError(f"制卡订单 {order_id} 不存在", f"Production order {order_id} does not exist",
                              code="order_not_found", kind="not_found")
    if order.delivered_at is not None:
        raise ProductionError(f"订单 {order.number} 的制卡结果已登记，不能重复登记",
                              f"The delivery of order {order.number} is already registered",
                              code="delivery_registered")
    text = manufacturer_for(session, manufacturer).delivery(order.number)
    if text is None:
        return {"ready": False, "order": order.number, "lines": 0, "made": 0, "failed": 0}
    work = _Delivery(order)
    _work_delivery(session, work, read_delivery(text), read_production(order.order_file))
    _take_out_of_production(session, work, actor_name)
    remake = _remake(session, order.batch_id, list(work.remake), actor_name, manufacturer)
    _remake_history(session, work, remake, actor_name)
    delivered = _employers_delivered(session, work.employers)
    order.delivery_file, order.delivered_at = text, utcnow()
    session.flush()
    _expire(session, Person, Employer, Card)
    return {"ready": True, "order": order.number, "lines": order.persons, "made": work.made,
            "failed": work.failed_lines, "remade": len(work.remake), "refused": len(work.refused),
            "unmatched": work.unmatched, "remake_order": remake.number if remake else None,
            "employers_delivered": delivered, "failures": work.failures}


def _work_delivery(session: Session, work: _Delivery, delivery: list[DeliveryLine],
                   ordered: list[ProductionLine]) -> None:
    """Sort the delivery's lines: cards to register (in chunks), lines failed."""
    by_line = {line.line: line for line in ordered}
    answered, made, failed = set(), [], []
    for line in delivery:
        sent = by_line.get(line.line)
        answered.add(line.line)
        if sent is None:
            work.unmatched += 1
            work.fail(line.line, line.id_number, "订单中无此序号", "No such line in the order")
        elif line.id_number != sent.id_number or line.name != sent.name:
            failed.append((sent, ("制卡结果与订单不符", "the delivered line differs from the order")))
        elif not line.made:
            failed.append((sent, (f"制卡失败：{line.note}", f"the manufacturer could not make it: {line.note}")))
        else:
            made.append(line)
    failed += [(sent, ("厂商未交付此卡", "the manufacturer delivered no card for this line"))
               for number, sent in by_line.items() if number not in answered]
    for chunk in _chunks(made):
        _register_cards(session, work, chunk)
    for chunk in _chunks(failed):
        _send_back(session, work, chunk)


def _awaiting(session: Session, batch_id: int, id_numbers: list[str]) -> dict:
    """The batch's persons with a card at the manufacturer, by ID number."""
    rows = session.execute(
        select(Person.id, Person.id_number, Person.name, Person.sex, Person.ethnicity,
               Person.birth_date, Person.region, Person.bank, Person.employer_id,
               Employer.region.label("employer_region"))
        .outerjoin(Employer, Employer.id == Person.employer_id)
        .where(Person.batch_id == batch_id, Person.id_number.in_(id_numbers),
               Person.production.in_(AWAITING)))
    return {row.id_number: row for row in rows}


def _send_back(session: Session, work: _Delivery, failed: list) -> None:
    """Failed lines: their persons go into the remake order."""
    persons = _awaiting(session, work.order.batch_id, [sent.id_number for sent, _ in failed])
    for sent, (zh, en) in failed:
        work.fail(sent.line, sent.id_number, zh, en)
        person = persons.get(sent.id_number)
        if person is None:
            work.unmatched += 1
        else:
            work.remake[person.id] = (zh, en)
            work.employers.add(person.employer_id)


def _register_cards(session: Session, work: _Delivery, lines: list[DeliveryLine]) -> None:
    """One chunk of made cards: checked against the kernel's card table (one person one live
    card; card numbers and bank accounts unique), then inserted and linked to the persons."""
    persons = _awaiting(session, work.order.batch_id, [line.id_number for line in lines])
    live = dict(session.execute(select(Card.ssn, Card.card_number).where(
        Card.ssn.in_([line.id_number for line in lines]), Card.status.in_(LIVE_CARD_STATES))).all())
    numbers = _taken(session, Card.card_number, [line.card_number for line in lines])
    accounts = _taken(session, Card.bank_card_number, [line.bank_account for line in lines])
    banks = current_city(session).bank_names
    cards, linked = [], []
    for line in lines:
        person = persons.get(line.id_number)
        problem = _card_problem(line, person, live, numbers, accounts)
        if person is None:
            work.unmatched += 1
            work.fail(line.line, line.id_number, *problem)
            continue
        work.employers.add(person.employer_id)
        if problem is None:
            numbers.add(line.card_number)
            accounts.add(line.bank_account)
            cards.append(_card_row(line, person, banks))
            linked.append(person)
        elif line.id_number in live:
            work.refused[person.id] = problem
            work.fail(line.line, line.id_number, *problem)
        else:
            work.remake[person.id] = problem
            work.fail(line.line, line.id_number, *problem)
    _insert_cards(session, work, cards, linked)


def _card_problem(line: DeliveryLine, person, live: dict, numbers: set, accounts: set):
    """Why the card of this line cannot be registered (zh, en), or None."""
    if person is None:
        return ("本批次无此人员或其卡不在制作中", "no person of the batch awaits this card")
    if line.id_number in live:
        number = mask_card_number(live[line.id_number])
        return (f"该人员已有有效社保卡（卡号 {number}），一人只能持有一张社保卡，本卡不予登记",
                f"the person already holds a live card ({number}); one person holds one card")
    if line.card_number in numbers:
        return ("卡号与已有社保卡重复", "the card number duplicates an existing card")
    if line.bank_account in accounts:
        return ("银行卡号与已有社保卡重复", "the bank account duplicates an existing card's")
    return None


def _taken(session: Session, column, values: list) -> set:
    return set(session.scalars(select(column).where(column.in_([v for v in values if v]))))


def _card_row(line: DeliveryLine, person, banks: dict[str, str]) -> dict:
    region = person.region or person.employer_region or ""
    # the card issuer's data on the chip (EF05), as the manufacturer personalised it
    return {"card_number": line.card_number, "ssn": line.id_number, "name": person.name,
            "sex": person.sex, "ethnicity": person.ethnicity, "birth_date": person.birth_date,
            "birthplace": line.id_number[:6], "card_identifier": random_card_identifier(region),
            "card_type": CARD_TYPE, "spec_version": SPEC_VERSION, "init_org": INIT_ORG,
            "region_code": region,
            "issue_date": line.made_on, "expiry_date": add_years(line.made_on, VALID_YEARS),
            "bank": banks.get(line.bank, line.bank), "bank_card_number": line.bank_account,
            # 制卡中 until the delivery is checked on arrival (到货验收)
            "status": CardStatus.IN_PRODUCTION}


def _insert_cards(session: Session, work: _Delivery, cards: list[dict], persons: list) -> None:
    if not cards:
        return
    session.execute(insert(Card), cards)
    ids = dict(session.execute(select(Card.card_number, Card.id).where(
        Card.card_number.in_([c["card_number"] for c in cards]))).all())
    session.execute(update(Person), [
        {"id": p.id, "card_id": ids[c["card_number"]], "production": Production.MADE}
        for p, c in zip(persons, cards)])
    now = utcnow()
    session.execute(insert(PersonEvent), [
        {"person_id": p.id, "at": now, "by": MANUFACTURER,
         "text_zh": f"卡已制成（订单 {work.order.number}，卡号 {c['card_number']}），待到货验收",
         "text_en": f"Card made (order {work.order.number}, card {c['card_number']}), awaiting "
                    f"acceptance on arrival"}
        for p, c in zip(persons, cards)])
    work.made += len(cards)


def _take_out_of_production(session: Session, work: _Delivery, actor_name: str) -> None:
    """一人一卡: a person who holds a live card elsewhere leaves production (not ordered again
    until a clerk has sorted out the other card)."""
    for chunk in _chunks(sorted(work.refused)):
        session.execute(update(Person).where(Person.id.in_(chunk)).values(production=None)
                        .execution_options(synchronize_session=False))
    _history(session, [(pid, f"制卡结果不予登记：{zh}", f"Card not registered: {en}")
                       for pid, (zh, en) in work.refused.items()], actor_name)


def _remake_history(session: Session, work: _Delivery, remake: ProductionOrder | None,
                    actor_name: str) -> None:
    if remake is None:
        return
    _history(session, [(pid, f"{zh}，已重新送制（订单 {remake.number}）",
                        f"Card not made: {en}; sent again (order {remake.number})")
                       for pid, (zh, en) in work.remake.items()], actor_name)


def _employers_delivered(session: Session, employer_ids: set[int]) -> int:
    """已到货: employers none of whose persons still waits for a card, and with cards to check."""
    waiting = exists().where(Person.employer_id == Employer.id, Person.production.in_(AWAITING))
    to_check = exists().where(Person.employer_id == Employer.id, Person.production == Production.MADE)
    now, done = utcnow(), 0
    for chunk in _chunks(sorted(e for e in employer_ids if e is not None)):
        done += session.execute(
            update(Employer).where(Employer.id.in_(chunk), ~waiting, to_check)
            .values(status=EmployerStatus.DELIVERED, delivered_at=now)
            .execution_options(synchronize_session=False)).rowcount
    return done
