"""Production and delivery 制卡与到货 (seed 001 §5.1): the production file to the manufacturer,
the delivery back, acceptance on arrival with a missing and a damaged card, the remake order,
the notice to the employer's agents; a foreign card in the pile, a card number collision, a
person who meanwhile holds a live card. On SQLite, and the round trip on PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from app.adapters.manufacturer import ManufacturerCard, read_production
from app.adapters.sms import SmsMessage
from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import utcnow
from app.procedures.batch import city
from app.procedures.batch.models import (
    Batch,
    CityRegion,
    Employer,
    Person,
    PersonEvent,
    ProductionOrder,
    Voucher,
    VoucherAgent,
)
from app.procedures.batch.production import (
    ForeignCards,
    ProductionError,
    accept_delivery,
    check_delivery,
    notify_agents,
    receive_delivery,
    send_to_manufacturer,
)
from app.procedures.batch.states import Eligibility, EmployerStatus, Entry, Production

NINGBO = city.CITIES_DIR / "ningbo.json"
CLERK = "clerk1"


def citizen_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


# -- data built by hand: a batch, employers, persons ready for production ---------------------

def make_batch(s: Session, name: str = "2011年第一批") -> Batch:
    if s.scalar(select(func.count()).select_from(CityRegion)) == 0:
        city.apply(s, city.load_file(NINGBO))
    batch = Batch(name=name, cutoff=date(2011, 8, 31), regions=["330200"], status="confirming",
                  created_by=CLERK)
    s.add(batch)
    s.flush()
    return batch


def make_employer(s: Session, batch: Batch, code: str, name: str, persons: int, start: int,
                  banks=("ICBC", "CCB", "BOC")) -> Employer:
    """An employer whose ``persons`` persons are submitted (eligible, accepted by the reviewer,
    data frozen), ID numbers from ``start`` on."""
    employer = Employer(batch_id=batch.id, code=code, name=name, region="330200",
                        status=EmployerStatus.SUBMITTED, submitted_at=utcnow())
    s.add(employer)
    s.flush()
    for i in range(persons):
        n = start + i
        s.add(Person(batch_id=batch.id, employer_id=employer.id, employer_code=code,
                     id_number=citizen_id(f"33020319800101{n:03d}"), name=f"职工{n}",
                     sex="1" if n % 2 else "2", region="330200", ethnicity="01",
                     birth_date=date(1980, 1, 1), has_photo=True, seq=i + 1,
                     eligibility=Eligibility.ELIGIBLE, entry=Entry.ACCEPTED,
                     bank=banks[i % len(banks)], mobile="13800000000", submitted_at=utcnow()))
    s.flush()
    return employer


def add_voucher(s: Session, employer: Employer, mobiles: list[str], version: int = 1) -> None:
    voucher = Voucher(employer_code=employer.code, version=version, employer_name=employer.name,
                      recorded_by=CLERK)
    s.add(voucher)
    s.flush()
    for slot, mobile in enumerate(mobiles, 1):
        s.add(VoucherAgent(voucher_id=voucher.id, slot=slot, name=f"经办人{slot}", mobile=mobile,
                           id_number=citizen_id(f"33020319700101{slot:03d}")))
    s.flush()


def persons_of(s: Session, employer: Employer) -> list[Person]:
    s.expire_all()
    return list(s.scalars(select(Person).where(Person.employer_id == employer.id)
                          .order_by(Person.id)))


def card_of(s: Session, person: Person) -> Card:
    return s.get(Card, person.card_id)


def events(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(PersonEvent))


@pytest.fixture
def s(app):
    session = app.extensions["sscard"].session_factory()
    yield session
    session.rollback()
    session.close()


# -- the round trip --------------------------------------------------------------------------------

def round_trip(s: Session) -> None:
    """order → delivery → acceptance with one card missing and one damaged → remake order →
    second delivery → acceptance complete → notice to the agents."""
    batch = make_batch(s)
    employer = make_employer(s, batch, "E1", "宁波甲机械有限公司", 4, 1)
    # not ready: not submitted, or not eligible (they stay out of the order)
    s.add(Person(batch_id=batch.id, employer_id=employer.id, id_number=citizen_id("33020319800101091"),
                 name="未提交", sex="1", eligibility=Eligibility.ELIGIBLE, entry=Entry.ENTERED, bank="ICBC"))
    s.add(Person(batch_id=batch.id, employer_id=employer.id, id_number=citizen_id("33020319800101092"),
                 name="不符合", sex="1", eligibility=Eligibility.NOT_IN_REGISTER, entry=Entry.ACCEPTED,
                 bank="ICBC", submitted_at=utcnow()))
    add_voucher(s, employer, ["13900000001"], version=1)
    add_voucher(s, employer, ["13900000011", "13900000012"], version=2)  # agents changed
    s.commit()

    # 1. the production file goes out
    order = send_to_manufacturer(s, batch.id, CLERK)
    assert order.number == f"ZK{batch.id}-1" and order.persons == 4 and not order.remake
    lines = read_production(order.order_file)
    assert [l.name for l in lines] == ["职工1", "职工2", "职工3", "职工4"]
    assert lines[0].employer_code == "E1" and lines[0].bank == "ICBC" and lines[1].bank == "CCB"
    assert lines[0].birth_date == "19800101" and lines[0].photo == lines[0].id_number + ".jpg"
    people = persons_of(s, employer)
    assert [p.production for p in people[:4]] == [Production.ORDERED] * 4
    assert people[4].production is None and people[5].production is None
    assert s.get(Employer, employer.id).status == EmployerStatus.IN_PRODUCTION
    assert events(s) == 4
    assert send_to_manufacturer(s, batch.id, CLERK) is None  # nobody left to order
    s.commit()

    # 2. the delivery comes back: cards in production, linked to the persons
    counts = receive_delivery(s, order.id)
    assert counts["made"] == 4 and counts["failed"] == 0 and counts["remake_order"] is None
    assert counts["employers_delivered"] == 1
    people = persons_of(s, employer)[:4]
    cards = [card_of(s, p) for p in people]
    assert [p.production for p in people] == [Production.MADE] * 4
    assert [c.status for c in cards] == [CardStatus.IN_PRODUCTION] * 4
    assert [c.ssn for c in cards] == [p.id_number for p in people]
    assert [c.bank for c in cards[:3]] == ["中国工商银行", "中国建设银行", "中国银行"]
    assert cards[0].bank_card_number.startswith("621226") and cards[0].region_code == "330200"
    assert cards[0].sex == "1" and cards[0].birth_date == date(1980, 1, 1)
    emp = s.get(Employer, employer.id)
    assert emp.status == EmployerStatus.DELIVERED and emp.delivered_at is not None
    assert s.get(ProductionOrder, order.id).delivery_file.startswith("序号,身份证号")
    with pytest.raises(ProductionError) as e:
        receive_delivery(s, order.id)
    assert e.value.code == "delivery_registered"
    with pytest.raises(ProductionError) as e:
        notify_agents(s, employer.id)  # not accepted yet
    assert e.value.code == "not_accepted"
    s.commit()

    # 3. acceptance: card 4 missing, card 3 damaged; typed in lower case with spaces, card 2 twice
    numbers = [c.card_number for c in cards]
    scanned = [f" {numbers[0].lower()} ", numbers[1][:4] + " " + numbers[1][4:], numbers[1], numbers[2]]
    preview = check_delivery(s, employer.id, scanned, [numbers[2]])
    assert preview.missing == [numbers[3]] and events(s) == 8  # nothing changed by a preview
    result = accept_delivery(s, employer.id, scanned, [numbers[2]], CLERK)
    assert result.expected == 4
    assert result.accepted == numbers[:2] and result.missing == [numbers[3]]
    assert result.damaged == [numbers[2]] and result.duplicates == [numbers[1]]
    assert result.unknown == [] and not result.complete
    assert result.remake_order == f"ZK{batch.id}-2"
    people = persons_of(s, employer)[:4]
    assert [p.production for p in people] == [Production.ACCEPTED, Production.ACCEPTED,
                                              Production.DAMAGED, Production.MISSING]
    assert [card_of(s, p).status for p in people] == [CardStatus.NOT_ACTIVATED] * 2 + \
        [CardStatus.CANCELLED] * 2
    assert "损坏" in card_of(s, people[2]).stop_reason and "短缺" in card_of(s, people[3]).stop_reason
    assert s.get(Employer, employer.id).status == EmployerStatus.IN_PRODUCTION
    remake = s.scalars(select(ProductionOrder).where(ProductionOrder.number == result.remake_order)).one()
    assert remake.remake and remake.persons == 2
    assert [l.name for l in read_production(remake.order_file)] == ["职工3", "职工4"]
    s.commit()

    # 4. the remade cards arrive and are accepted: the employer's acceptance is complete
    counts = receive_delivery(s, remake.id)
    assert counts["made"] == 2 and counts["employers_delivered"] == 1
    people = persons_of(s, employer)[:4]
    new = [card_of(s, p) for p in people[2:]]
    assert [c.status for c in new] == [CardStatus.IN_PRODUCTION] * 2
    assert {c.card_number for c in new}.isdisjoint(numbers)
    result = accept_delivery(s, employer.id, [c.card_number for c in new] + [numbers[0]], [], CLERK)
    assert result.accepted == [c.card_number for c in new] and result.already_accepted == [numbers[0]]
    assert result.complete and result.missing == [] and result.remake_order is None
    emp = s.get(Employer, employer.id)
    assert emp.status == EmployerStatus.ACCEPTED and emp.accepted_at is not None
    # the cancelled cards stay as history; each person holds one live card
    assert s.scalar(select(func.count()).select_from(Card).where(Card.status == CardStatus.CANCELLED)) == 2
    s.commit()

    # 5. the agents of the current voucher are told
    assert notify_agents(s, employer.id) == 2
    messages = s.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()
    assert [m.phone for m in messages] == ["13900000011", "13900000012"]
    assert messages[0].text == ("【宁波人社】宁波甲机械有限公司：贵单位申领的社会保障卡 4 张已到货，"
                                "请经办人携单位公章、介绍信和本人身份证到社保卡中心领取。")
    emp = s.get(Employer, employer.id)
    assert emp.status == EmployerStatus.NOTIFIED and emp.notified_at is not None
    history = s.scalars(select(PersonEvent.text_zh).where(PersonEvent.person_id == people[3].id)
                        .order_by(PersonEvent.id)).all()
    assert [h[:4] for h in history] == ["已送制卡", "卡已制成", "到货验收", "卡已制成", "到货验收"]
    s.commit()


def test_round_trip_with_a_missing_and_a_damaged_card(s):
    round_trip(s)




@pytest.mark.postgres
def test_round_trip_on_postgresql(pg_schema_url):
    from app.engine.db import make_engine
    from app.migrate import upgrade
    upgrade(pg_schema_url)
    engine = make_engine(pg_schema_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            round_trip(session)
    finally:
        engine.dispose()


# -- refusals and failures ---------------------------------------------------------------------------

def test_a_foreign_card_in_the_pile_is_refused_and_nothing_changes(s):
    batch = make_batch(s)
    other_batch = make_batch(s, "2011年第二批")
    mine = make_employer(s, batch, "E1", "宁波甲机械有限公司", 2, 1)
    theirs = make_employer(s, other_batch, "E2", "慈溪乙电器有限公司", 1, 10)
    s.commit()
    for b in (batch, other_batch):
        receive_delivery(s, send_to_manufacturer(s, b.id, CLERK).id)
    s.commit()
    my_cards = [card_of(s, p).card_number for p in persons_of(s, mine)]
    their_card = card_of(s, persons_of(s, theirs)[0]).card_number
    before = (events(s), s.get(Employer, mine.id).status,
              s.scalars(select(Card.status).order_by(Card.id)).all(),
              s.scalar(select(func.count()).select_from(ProductionOrder)))

    with pytest.raises(ForeignCards) as e:
        accept_delivery(s, mine.id, my_cards + [their_card, "zzzzzzzz1"], [], CLERK)
    assert [u.card_number for u in e.value.unknown] == [their_card, "ZZZZZZZZ1"]
    assert e.value.unknown[0].employer == "慈溪乙电器有限公司" and e.value.unknown[0].batch == "2011年第二批"
    assert "慈溪乙电器有限公司" in e.value.message_zh and "2011年第二批" in e.value.message_zh
    assert "本平台无此卡号" in e.value.message_zh and e.value.message_en
    with pytest.raises(ProductionError) as e:
        accept_delivery(s, mine.id, [" ", ""], [my_cards[0]], CLERK)
    assert e.value.code == "nothing_scanned"
    with pytest.raises(ForeignCards):  # a foreign card among the damaged ones is refused too
        accept_delivery(s, mine.id, my_cards[:1], [their_card], CLERK)
    s.expire_all()
    after = (events(s), s.get(Employer, mine.id).status,
             s.scalars(select(Card.status).order_by(Card.id)).all(),
             s.scalar(select(func.count()).select_from(ProductionOrder)))
    assert after == before


def test_a_card_number_that_collides_is_remade(s):
    batch = make_batch(s)
    employer = make_employer(s, batch, "E1", "宁波甲机械有限公司", 3, 1)
    s.commit()
    order = send_to_manufacturer(s, batch.id, CLERK)
    # the manufacturer's number for line 2 was meanwhile given to a card issued elsewhere
    clash = s.scalars(select(ManufacturerCard.card_number).where(
        ManufacturerCard.order_number == order.number, ManufacturerCard.line == 2)).one()
    s.add(Card(card_number=clash, ssn=citizen_id("35058119900307131"), name="林堃", region_code="350581",
               status=CardStatus.ACTIVE))
    s.commit()

    counts = receive_delivery(s, order.id)
    assert counts["made"] == 2 and counts["failed"] == 1 and counts["remade"] == 1
    assert counts["failures"][0]["line"] == 2 and "卡号与已有社保卡重复" in counts["failures"][0]["zh"]
    people = persons_of(s, employer)
    assert [p.production for p in people] == [Production.MADE, Production.ORDERED, Production.MADE]
    assert people[1].card_id is None
    assert s.get(Employer, employer.id).status == EmployerStatus.IN_PRODUCTION  # one still to come
    remake = s.scalars(select(ProductionOrder).where(ProductionOrder.number == counts["remake_order"])).one()
    assert remake.remake
    assert [l.id_number for l in read_production(remake.order_file)] == [people[1].id_number]
    s.commit()

    counts = receive_delivery(s, remake.id)
    assert counts["made"] == 1 and counts["employers_delivered"] == 1
    people = persons_of(s, employer)
    assert card_of(s, people[1]).card_number != clash
    assert s.get(Employer, employer.id).status == EmployerStatus.DELIVERED


def test_a_person_who_meanwhile_holds_a_live_card_is_a_failed_line(s):
    batch = make_batch(s)
    employer = make_employer(s, batch, "E1", "宁波甲机械有限公司", 2, 1)
    s.commit()
    order = send_to_manufacturer(s, batch.id, CLERK)
    first = persons_of(s, employer)[0]
    # issued at a bank window in the meantime (一人一卡: the database allows one live card)
    s.add(Card(card_number="A00000000", ssn=first.id_number, name=first.name,
               region_code="330200", status=CardStatus.NOT_ACTIVATED))
    s.commit()
    counts = receive_delivery(s, order.id)
    assert counts["made"] == 1 and counts["refused"] == 1 and counts["remake_order"] is None
    assert "已有有效社保卡" in counts["failures"][0]["zh"]
    people = persons_of(s, employer)
    assert people[0].production is None and people[0].card_id is None
    assert people[1].production == Production.MADE
    assert s.get(Employer, employer.id).status == EmployerStatus.DELIVERED
    last = s.scalars(select(PersonEvent.text_zh).where(PersonEvent.person_id == people[0].id)
                     .order_by(PersonEvent.id.desc())).first()
    assert last.startswith("制卡结果不予登记")


def test_send_for_some_employers_only(s):
    batch = make_batch(s)
    first = make_employer(s, batch, "E1", "宁波甲机械有限公司", 2, 1)
    second = make_employer(s, batch, "E2", "宁波丙电子有限公司", 2, 20)
    s.commit()
    order = send_to_manufacturer(s, batch.id, CLERK, employer_ids=[second.id])
    assert order.persons == 2
    assert {p.production for p in persons_of(s, first)} == {None}
    assert s.get(Employer, first.id).status == EmployerStatus.SUBMITTED
    assert send_to_manufacturer(s, batch.id, CLERK, employer_ids=[]) is None
    assert send_to_manufacturer(s, batch.id, CLERK).number == f"ZK{batch.id}-2"
    with pytest.raises(ProductionError) as e:
        send_to_manufacturer(s, 999999, CLERK)
    assert e.value.code == "batch_not_found"


def test_notice_needs_the_agents_of_a_voucher(s):
    batch = make_batch(s)
    employer = make_employer(s, batch, "E1", "宁波甲机械有限公司", 1, 1)
    s.commit()
    receive_delivery(s, send_to_manufacturer(s, batch.id, CLERK).id)
    accept_delivery(s, employer.id, [card_of(s, persons_of(s, employer)[0]).card_number], [], CLERK)
    with pytest.raises(ProductionError) as e:
        notify_agents(s, employer.id)
    assert e.value.code == "no_agents" and "申领凭证" in e.value.message_zh and e.value.message_en
    assert s.get(Employer, employer.id).status == EmployerStatus.ACCEPTED


def test_a_delivery_not_ready_yet(s):
    class Slow:
        def submit(self, order_number, production_file):
            self.sent = (order_number, production_file)

        def delivery(self, order_number):
            return None

    from app.adapters.manufacturer import CardManufacturer
    CardManufacturer.register(Slow)
    batch = make_batch(s)
    make_employer(s, batch, "E1", "宁波甲机械有限公司", 1, 1)
    s.commit()
    slow = Slow()
    order = send_to_manufacturer(s, batch.id, CLERK, manufacturer=slow)
    assert slow.sent[0] == order.number and slow.sent[1] == order.order_file
    assert receive_delivery(s, order.id, manufacturer=slow)["ready"] is False
    assert s.get(ProductionOrder, order.id).delivered_at is None
