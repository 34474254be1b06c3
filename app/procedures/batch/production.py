"""Production and delivery 制卡与到货 (seed 001 §5.1: "由社保卡中心统一送制卡厂商制作社保卡，完成
社保卡到货验收后，通知用人单位领取").

1. ``send_to_manufacturer`` 送制卡厂商制作: the submitted persons of a batch go into one
   production file 制卡数据文件 (an order ``ZK<batch>-<n>``), sent through the manufacturer
   adapter (``app.adapters.manufacturer``).
2. ``receive_delivery`` 制卡结果回盘: the delivery file becomes the kernel's cards
   (``app.cards.models.Card``, in production until accepted); a card the manufacturer could not
   make, or whose number an existing card already has, goes back into a remake order 重制.
3. ``accept_delivery`` 到货验收: the clerk scans the employer's pile; missing and damaged cards
   are cancelled and remade, the others accepted (not yet activated).
4. ``notify_agents`` 通知用人单位领取: an SMS to each agent 经办人 of the employer's voucher.

Plain functions on a SQLAlchemy session, in the caller's transaction: they flush, never commit,
and an error leaves nothing changed once the caller rolls back. A batch is worked in set-based
SQL and chunks (100,000 persons are rows, never 100,000 ORM objects); an employer's acceptance
is small enough for lists. The statements bypass the ORM, so rows of the touched tables loaded
before are expired (``_expire``) and read again when used.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

import app.adapters as adapters
from app.adapters.manufacturer import (
    CardManufacturer,
    DeliveryLine,
    ProductionLine,
    production_writer,
    read_delivery,
    read_production,
)
from app.adapters.sms import SIGNATURE, SmsError
from app.cards.models import Card
from app.cards.rules import VALID_YEARS, add_years
from app.cards.states import LIVE_CARD_STATES, CardStatus
from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_card_number, mask_id
from app.engine.db import UtcDateTime
from app.procedures.batch.city import current as current_city
from app.procedures.batch.models import (
    Batch,
    Employer,
    Person,
    PersonEvent,
    ProductionOrder,
)
from app.procedures.batch.states import Eligibility, EmployerStatus, Entry, Production
from app.procedures.batch.voucher import agents_of, current_voucher

CHUNK = 500          # persons per statement (IN lists stay well under SQLite's limits)
MAX_FAILURES = 1000  # failed lines listed in a delivery's answer (the counts are complete)
MANUFACTURER = "manufacturer"  # who made a card, in the persons' history
# a card at the manufacturer for these persons: ordered, or sent back on arrival and remade
AWAITING = (Production.ORDERED, Production.MISSING, Production.DAMAGED)


# -- errors 错误 --------------------------------------------------------------------------------

class ProductionError(BilingualError):
    """A production step that cannot be done as asked (the message says why and what to do)."""

    def __init__(self, zh: str, en: str, code: str, kind: str = "conflict"):
        super().__init__(zh, en, code=code, kind=kind)


class ForeignCards(ProductionError):
    """The scanned pile holds cards that are not this employer's: nothing is accepted until
    they are taken out. ``unknown`` says whose each one is."""

    def __init__(self, unknown: list["UnknownCard"]):
        self.unknown = unknown
        shown = unknown[:10]
        more_zh = f"等 {len(unknown)} 张" if len(unknown) > len(shown) else ""
        more_en = f" ({len(unknown)} cards in all)" if len(unknown) > len(shown) else ""
        super().__init__(
            "以下卡片不是本单位的卡，请取出后重新验收：" + "；".join(u.zh for u in shown) + more_zh,
            "These cards are not this employer's; take them out and check the delivery again: "
            + "; ".join(u.en for u in shown) + more_en,
            code="foreign_cards", kind="invalid")


# -- which manufacturer -------------------------------------------------------------------------

def manufacturer_for(session: Session, given: CardManufacturer | None = None) -> CardManufacturer:
    """The manufacturer adapter: the one given (tests), else the deployment's (``app.adapters``)."""
    return given if given is not None else adapters.card_manufacturer(session)


# -- 1. the production file 送制卡厂商制作 ----------------------------------------------------------

def to_order(batch_id: int, employer_ids: list[int] | None = None) -> list:
    """Who goes into the next order of a batch: submitted (data frozen), accepted by the
    reviewer, eligible, not yet ordered."""
    where = [Person.batch_id == batch_id, Person.submitted_at.is_not(None),
             Person.entry == Entry.ACCEPTED, Person.eligibility == Eligibility.ELIGIBLE,
             Person.production.is_(None)]
    if employer_ids is not None:
        where.append(Person.employer_id.in_(list(employer_ids)))
    return where


def send_to_manufacturer(session: Session, batch_id: int, actor_name: str,
                         employer_ids: list[int] | None = None,
                         manufacturer: CardManufacturer | None = None) -> ProductionOrder | None:
    """送制卡厂商制作: one order with every person of the batch (or of these employers) ready
    for production; None when nobody is. The persons become ``ordered``, their employers
    ``in_production``; the production file is stored on the order, then sent."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise ProductionError(f"制卡批次 {batch_id} 不存在", f"Batch {batch_id} does not exist",
                              code="batch_not_found", kind="not_found")
    if employer_ids is not None and not employer_ids:
        return None
    where = to_order(batch_id, employer_ids)
    order = _write_order(session, batch_id, [where], actor_name, remake=False)
    if order is None:
        return None
    _history_from_query(session, where, actor_name,
                        f"已送制卡厂制作（订单 {order.number}）",
                        f"Sent to the card manufacturer (order {order.number})")
    _employers_in_production(session, [where])
    marked = session.execute(update(Person).where(*where).values(production=Production.ORDERED)
                             .execution_options(synchronize_session=False)).rowcount
    if marked != order.persons:  # someone was submitted or ordered meanwhile: start again
        raise ProductionError("制卡人员在生成制卡数据期间发生变化，请重新送制",
                              "The persons to order changed while the file was written; send again",
                              code="order_changed")
    _submit(session, order, manufacturer)
    return order


def _write_order(session: Session, batch_id: int, wheres: list[list], actor_name: str,
                 remake: bool) -> ProductionOrder | None:
    """The production file of the persons matching any of ``wheres``, streamed from the
    database into the order's text (rows are read ``CHUNK`` at a time, never all at once)."""
    out = production_writer()
    for row in _order_rows(session, wheres):
        out.add(_production_line(out.lines + 1, batch_id, row).row())
    if not out.lines:
        return None
    order = ProductionOrder(batch_id=batch_id, number=_next_number(session, batch_id),
                            persons=out.lines, remake=remake, order_file=out.text(),
                            sent_by=actor_name)
    session.add(order)
    session.flush()
    return order


def _order_rows(session: Session, wheres: list[list]) -> Iterator:
    columns = (Person.id_number, Person.name, Person.sex, Person.ethnicity, Person.birth_date,
               Person.region, Person.bank, Person.has_photo,
               func.coalesce(Employer.code, Person.employer_code).label("employer_code"),
               Employer.name.label("employer_name"))
    for where in wheres:
        query = (select(*columns).outerjoin(Employer, Employer.id == Person.employer_id)
                 .where(*where).order_by(Person.employer_id, Person.seq, Person.id)
                 .execution_options(yield_per=CHUNK))
        yield from session.execute(query)


def _production_line(number: int, batch_id: int, row) -> ProductionLine:
    return ProductionLine(
        line=number, batch=str(batch_id), employer_code=row.employer_code or "",
        employer_name=row.employer_name or "", name=row.name, sex=row.sex,
        ethnicity=row.ethnicity.zfill(2) if row.ethnicity else "",
        id_number=row.id_number, birth_date=row.birth_date.strftime("%Y%m%d") if row.birth_date else "",
        region=row.region or "", bank=row.bank or "",
        # photos travel in the order's photo package, one JPEG per ID number
        photo=f"{row.id_number}.jpg" if row.has_photo else "")


def _next_number(session: Session, batch_id: int) -> str:
    """ZK<batch>-<n>, n counting the batch's orders (remakes included)."""
    n = session.scalar(select(func.count()).select_from(ProductionOrder)
                       .where(ProductionOrder.batch_id == batch_id)) + 1
    while session.scalar(select(ProductionOrder.id)
                         .where(ProductionOrder.number == f"ZK{batch_id}-{n}")) is not None:
        n += 1
    return f"ZK{batch_id}-{n}"


def _employers_in_production(session: Session, wheres: list[list]) -> None:
    for where in wheres:
        session.execute(update(Employer)
                        .where(Employer.id.in_(select(Person.employer_id).where(*where)))
                        .values(status=EmployerStatus.IN_PRODUCTION)
                        .execution_options(synchronize_session=False))
    _expire(session, Employer)


def _submit(session: Session, order: ProductionOrder, manufacturer: CardManufacturer | None) -> None:
    """The file goes out last: a database error above comes before anything leaves (the
    manufacturer treats a second submit of the same order as the same order)."""
    session.flush()
    _expire(session, Person)
    manufacturer_for(session, manufacturer).submit(order.number, order.order_file)


def _remake(session: Session, batch_id: int, person_ids: list[int], actor_name: str,
            manufacturer: CardManufacturer | None) -> ProductionOrder | None:
    """重制: a remake order for these persons (their production state stays: ordered, missing
    or damaged, until the new card arrives)."""
    if not person_ids:
        return None
    wheres = [[Person.id.in_(chunk)] for chunk in _chunks(sorted(set(person_ids)))]
    order = _write_order(session, batch_id, wheres, actor_name, remake=True)
    if order is None:
        return None
    _employers_in_production(session, wheres)
    _submit(session, order, manufacturer)
    return order


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
    return {"card_number": line.card_number, "ssn": line.id_number, "name": person.name,
            "sex": person.sex, "ethnicity": person.ethnicity, "birth_date": person.birth_date,
            "birthplace": line.id_number[:6],
            "region_code": person.region or person.employer_region or "",
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


# -- 3. acceptance on arrival 到货验收 -----------------------------------------------------------

@dataclass(frozen=True)
class UnknownCard:
    """A scanned card that is not this employer's, and whose it is (if the platform knows)."""

    card_number: str
    zh: str
    en: str
    employer: str | None = None
    batch: str | None = None


@dataclass
class AcceptanceResult:
    """The outcome of checking an employer's pile (card numbers upper case, no spaces)."""

    employer_id: int
    expected: int                                   # cards made for the employer, to check
    accepted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)    # expected, not in the pile
    damaged: list[str] = field(default_factory=list)    # listed by the clerk
    unknown: list[UnknownCard] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # scanned more than once
    already_accepted: list[str] = field(default_factory=list)  # accepted on an earlier check
    remake_order: str | None = None
    complete: bool = False                          # every card of the employer accepted


def normalise(numbers: Iterable[str]) -> list[str]:
    """Scanned or typed card numbers: no spaces, upper case, blanks dropped (order kept)."""
    return [n for n in ("".join(str(x or "").split()).upper() for x in numbers) if n]


def check_delivery(session: Session, employer_id: int, scanned: list[str],
                   damaged: list[str]) -> AcceptanceResult:
    """到货验收 without changing anything: what accepting this pile would do (a page shows it
    before the clerk confirms)."""
    employer = _employer(session, employer_id)
    scans, broken = normalise(scanned), list(dict.fromkeys(normalise(damaged)))
    expected, before = _employer_cards(session, employer.id)
    seen = list(dict.fromkeys(scans + broken))
    result = AcceptanceResult(employer.id, len(expected))
    result.duplicates = [n for n, k in Counter(scans).items() if k > 1]
    result.already_accepted = [n for n in seen if n in before]
    result.unknown = _describe_unknown(session, employer,
                                       [n for n in seen if n not in expected and n not in before])
    result.damaged = [n for n in broken if n in expected]
    result.accepted = [n for n in dict.fromkeys(scans) if n in expected and n not in broken]
    present = set(scans) | set(broken)
    result.missing = [n for n in expected if n not in present]
    return result


def accept_delivery(session: Session, employer_id: int, scanned: list[str], damaged: list[str],
                    actor_name: str, manufacturer: CardManufacturer | None = None) -> AcceptanceResult:
    """到货验收: accept the employer's pile. Refused, with nothing changed, when nothing was
    scanned or a card in it is not this employer's. Accepted cards wait for activation (未启用);
    missing and damaged cards are cancelled and remade (a remake order is sent)."""
    if not normalise(scanned):
        raise ProductionError("未扫描或录入任何卡号，请逐张扫描到货的卡片",
                              "No card number was scanned or typed; scan every card delivered",
                              code="nothing_scanned", kind="invalid")
    result = check_delivery(session, employer_id, scanned, damaged)
    if result.unknown:
        raise ForeignCards(result.unknown)
    cards = _cards_by_number(session, employer_id, result.accepted + result.missing + result.damaged)
    _accept(session, [cards[n] for n in result.accepted], actor_name)
    _send_back_on_arrival(session, [cards[n] for n in result.missing], Production.MISSING,
                          ("到货验收短缺", "missing on delivery"), actor_name)
    _send_back_on_arrival(session, [cards[n] for n in result.damaged], Production.DAMAGED,
                          ("到货验收卡片损坏", "damaged on delivery"), actor_name)
    employer = session.get(Employer, employer_id)
    back = [cards[n].person_id for n in result.missing + result.damaged]
    remake = _remake(session, employer.batch_id, back, actor_name, manufacturer)
    result.remake_order = remake.number if remake else None
    result.complete = _all_accepted(session, employer)
    return result


def _employer(session: Session, employer_id: int) -> Employer:
    employer = session.get(Employer, employer_id)
    if employer is None:
        raise ProductionError(f"单位申领 {employer_id} 不存在",
                              f"Employer application {employer_id} does not exist",
                              code="employer_not_found", kind="not_found")
    return employer


def _employer_cards(session: Session, employer_id: int) -> tuple[dict[str, int], set[str]]:
    """The employer's made cards to check (card number -> person id, roster order) and the
    numbers of its cards accepted before."""
    rows = session.execute(
        select(Card.card_number, Person.id, Person.production)
        .join(Card, Card.id == Person.card_id)
        .where(Person.employer_id == employer_id,
               Person.production.in_([Production.MADE, Production.ACCEPTED]))
        .order_by(Person.seq, Person.id)).all()
    expected = {number: pid for number, pid, production in rows if production == Production.MADE}
    return expected, {number for number, _, production in rows if production == Production.ACCEPTED}


def _describe_unknown(session: Session, employer: Employer, numbers: list[str]) -> list[UnknownCard]:
    """Whose each card is: another employer's (which, in which batch), a card of this employer
    no longer expected (cancelled), or a number the platform does not know."""
    if not numbers:
        return []
    owners = {}
    for chunk in _chunks(numbers):
        for row in session.execute(
                select(Card.card_number, Card.status, Employer.id.label("employer_id"),
                       Employer.name.label("employer"), Batch.name.label("batch"))
                .outerjoin(Person, Person.card_id == Card.id)
                .outerjoin(Employer, Employer.id == Person.employer_id)
                .outerjoin(Batch, Batch.id == Employer.batch_id)
                .where(Card.card_number.in_(chunk))):
            owners[row.card_number] = row
    return [_unknown(number, owners.get(number), employer.id) for number in numbers]


def _unknown(number: str, owner, employer_id: int) -> UnknownCard:
    if owner is None:
        return UnknownCard(number, f"{number}（本平台无此卡号，可能是制卡失败未登记的卡）",
                           f"{number} (no such card on the platform: possibly a failed card)")
    if owner.employer_id == employer_id:
        return UnknownCard(number, f"{number}（本单位已作废的卡）",
                           f"{number} (a card of this employer that was cancelled)")
    if owner.employer_id is not None:
        return UnknownCard(number, f"{number}（属于“{owner.batch}”批次的“{owner.employer}”）",
                           f"{number} (belongs to {owner.employer}, batch {owner.batch})",
                           owner.employer, owner.batch)
    return UnknownCard(number, f"{number}（不是批量制卡的卡）", f"{number} (not a card of a batch)")


@dataclass(frozen=True)
class _HeldCard:
    card_id: int
    person_id: int
    number: str


def _cards_by_number(session: Session, employer_id: int, numbers: list[str]) -> dict[str, _HeldCard]:
    held = {}
    for chunk in _chunks(numbers):
        for card_id, person_id, number in session.execute(
                select(Card.id, Person.id, Card.card_number).join(Card, Card.id == Person.card_id)
                .where(Person.employer_id == employer_id, Card.card_number.in_(chunk))):
            held[number] = _HeldCard(card_id, person_id, number)
    return held


def _accept(session: Session, cards: list[_HeldCard], actor_name: str) -> None:
    """验收合格: the card waits for central activation (未启用, seed 000 §4.2)."""
    for chunk in _chunks(cards):
        _set_production(session, [c.person_id for c in chunk], Production.ACCEPTED)
        session.execute(update(Card).where(Card.id.in_([c.card_id for c in chunk]))
                        .values(status=CardStatus.NOT_ACTIVATED)
                        .execution_options(synchronize_session=False))
    _history(session, [(c.person_id, f"到货验收合格（卡号 {c.number}）",
                        f"Accepted on arrival (card {c.number})") for c in cards], actor_name)


def _send_back_on_arrival(session: Session, cards: list[_HeldCard], production: Production,
                          why: tuple[str, str], actor_name: str) -> None:
    """Missing or damaged: the card is cancelled (it never reaches its holder) and remade."""
    now = utcnow()
    for chunk in _chunks(cards):
        _set_production(session, [c.person_id for c in chunk], production)
        session.execute(update(Card).where(Card.id.in_([c.card_id for c in chunk]))
                        .values(status=CardStatus.CANCELLED, stopped_at=now,
                                stop_reason=f"{why[0]}，退回重制")
                        .execution_options(synchronize_session=False))
    _history(session, [(c.person_id, f"{why[0]}（卡号 {c.number}），该卡作废，重新制卡",
                        f"Card {c.number} {why[1]}: cancelled and remade") for c in cards],
             actor_name)


def _all_accepted(session: Session, employer: Employer) -> bool:
    """已验收: every person of the employer in production has an accepted card."""
    if employer.status in (EmployerStatus.ACCEPTED, EmployerStatus.NOTIFIED):
        return True  # a late re-check of the pile: keep the first acceptance's time
    session.flush()
    open_ = session.scalar(select(func.count()).select_from(Person).where(
        Person.employer_id == employer.id, Person.production.is_not(None),
        Person.production != Production.ACCEPTED))
    any_ = session.scalar(select(exists().where(Person.employer_id == employer.id,
                                                Person.production == Production.ACCEPTED)))
    _expire(session, Person, Card, Employer)
    if open_ or not any_:
        return False
    employer.status, employer.accepted_at = EmployerStatus.ACCEPTED, utcnow()
    session.flush()
    return True


# -- 4. notifying the employer 通知用人单位领取 ------------------------------------------------------

def notification_text(employer_name: str, cards: int) -> str:
    return (f"{SIGNATURE}{employer_name}：贵单位申领的社会保障卡 {cards} 张已到货，"
            f"请经办人携单位公章、介绍信和本人身份证到社保卡中心领取。")


def notify_agents(session: Session, employer_id: int) -> int:
    """通知用人单位领取: an SMS to each agent 经办人 of the employer's current voucher
    申领凭证 (queued in the SMS outbox of this transaction). Returns the messages queued."""
    employer = _employer(session, employer_id)
    if employer.status not in (EmployerStatus.ACCEPTED, EmployerStatus.NOTIFIED):
        raise ProductionError("本单位的卡尚未全部到货验收，验收完成后再通知单位领卡",
                              "The employer's cards are not all accepted on arrival yet; notify "
                              "the employer once they are", code="not_accepted")
    voucher = current_voucher(session, employer.code)
    agents = agents_of(session, voucher) if voucher is not None else []
    if not agents:
        raise ProductionError("本单位尚未登记申领凭证（经办人），请先登记《申领凭证》再通知领卡",
                              "The employer has no authorisation voucher (agents) on record; record "
                              "the voucher first", code="no_agents")
    cards = session.scalar(select(func.count()).select_from(Person).where(
        Person.employer_id == employer.id, Person.production == Production.ACCEPTED))
    sent = _send_sms(session, [a.mobile for a in agents], notification_text(employer.name, cards))
    employer.status, employer.notified_at = EmployerStatus.NOTIFIED, utcnow()
    session.flush()
    return sent


def _send_sms(session: Session, phones: list[str], text: str) -> int:
    """One message per agent; an agent's unusable number does not keep the others from being
    told, but somebody must be."""
    gateway, sent, errors = adapters.sms(session), 0, []
    for phone in dict.fromkeys(phones):
        try:
            gateway.send(phone, text)
            sent += 1
        except SmsError as e:
            errors.append(e)
    if not sent:
        raise ProductionError("经办人的手机号码均无法发送短信，请更正《申领凭证》后再通知",
                              "No agent's mobile number can receive an SMS; correct the voucher "
                              "and notify again", code="no_agents")
    return sent


# -- helpers ------------------------------------------------------------------------------------

def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _set_production(session: Session, person_ids: list[int], production: Production) -> None:
    session.execute(update(Person).where(Person.id.in_(person_ids)).values(production=production)
                    .execution_options(synchronize_session=False))


def _history(session: Session, events: list[tuple[int, str, str]], actor_name: str) -> None:
    """The persons' history 人员履历 (one row per person changed)."""
    now = utcnow()
    for chunk in _chunks(events):
        session.execute(insert(PersonEvent), [
            {"person_id": pid, "at": now, "by": actor_name, "text_zh": zh, "text_en": en}
            for pid, zh, en in chunk])


def _history_from_query(session: Session, where: list, actor_name: str, zh: str, en: str) -> None:
    """The same history line for every person a query selects, in one INSERT ... SELECT."""
    session.execute(insert(PersonEvent).from_select(
        ["person_id", "at", "by", "text_zh", "text_en"],
        select(Person.id, literal(utcnow(), UtcDateTime()), literal(actor_name), literal(zh),
               literal(en)).where(*where)))


def _expire(session: Session, *classes) -> None:
    """Rows of these tables loaded before a bulk statement are read again when next used."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, classes):
            session.expire(obj)


__all__ = [
    "AcceptanceResult", "ForeignCards", "ProductionError", "UnknownCard", "accept_delivery",
    "check_delivery", "manufacturer_for", "normalise", "notification_text", "notify_agents",
    "receive_delivery", "send_to_manufacturer", "to_order",
]
