"""个人领卡 / 代领 at the centre (seed 000 §3(一)2, §3(二)2): in person with the ID original; by
proxy with the holder's ID original and household register and the proxy's own (all four,
with the proxy's identity); a card is handed over once and a second attempt says who took it
and when; the second issuance of a returned card; a wrong-data or invalidated card is refused.
Every refusal writes nothing."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.cards.states import CardStatus
from app.common.clock import to_local_date, utcnow
from app.procedures.distribution import holder
from app.procedures.distribution.holder import HolderPickupRefused
from app.procedures.distribution.models import CardCustody, CustodyEvent, HolderPickup
from app.procedures.distribution.states import Custody
from tests.procedures.distribution.fixtures_returns import (  # noqa: F401
    cards_for, counts, db, employer_with, flexible_person, id_number, pickup_of, platform, sign,
    utc)

PROXY_ID = id_number("33020319700101123")
BAD_ID = PROXY_ID[:-1] + ("1" if PROXY_ID[-1] == "0" else "0")   # the check digit wrong


def masked(card) -> str:
    return card.card_number[:3] + "****" + card.card_number[-2:]


@pytest.fixture
def waiting(db):
    """A flexible-employment insured person whose card waits at the centre."""
    person = flexible_person(db)
    (card,) = cards_for(db, [person], Custody.AT_CENTRE)
    return person, card


def proxy(**changes) -> dict:
    return {"by_proxy": True, "holder_id_seen": True, "holder_household_seen": True,
            "proxy_name": "王五", "proxy_id_number": PROXY_ID, "proxy_id_seen": True,
            "proxy_household_seen": True, "actor_name": "centre", **changes}


def test_in_person_with_the_id_original(db, waiting):
    person, card = waiting
    row = holder.hand_to_holder(db, card_number=card.card_number.lower(), by_proxy=False,
                                holder_id_seen=True, actor_name="centre", instance_id=7)
    assert (row.card_id, row.person_id, row.by_proxy, row.holder_id_seen, row.proxy_name,
            row.proxy_id_number, row.handed_by, row.instance_id) == (
        card.id, person.id, False, True, None, None, "centre", 7)
    assert db.get(CardCustody, card.id).state == Custody.WITH_HOLDER
    event = db.scalars(select(CustodyEvent).where(CustodyEvent.card_id == card.id)).one()
    assert (event.from_state, event.to_state, event.by, event.note) == (
        "at_centre", "with_holder", "centre", "本人领取")


def test_in_person_without_the_id_original_is_refused(db, waiting):
    person, card = waiting
    before = counts(db)
    with pytest.raises(HolderPickupRefused, match="本人领卡须出示本人身份证原件") as e:
        holder.hand_to_holder(db, card_number=card.card_number, by_proxy=False,
                              holder_id_seen=False, holder_household_seen=True, actor_name="centre")
    assert e.value.kind == "invalid"
    assert counts(db) == before


def test_by_proxy_with_all_four_documents(db, waiting):
    person, card = waiting
    row = holder.hand_to_holder(db, id_number=person.id_number, **proxy())
    assert (row.by_proxy, row.holder_id_seen, row.holder_household_seen, row.proxy_id_seen,
            row.proxy_household_seen, row.proxy_name, row.proxy_id_number) == (
        True, True, True, True, True, "王五", PROXY_ID)
    assert row.proxy_id_masked == PROXY_ID[:6] + "********" + PROXY_ID[-4:]
    event = db.scalars(select(CustodyEvent).where(CustodyEvent.card_id == card.id)).one()
    assert event.note == f"代领：王五（身份证 {row.proxy_id_masked}）" and PROXY_ID not in event.note


@pytest.mark.parametrize("changes, words", [
    ({"holder_household_seen": False, "proxy_household_seen": False},
     "尚缺：参保人户口本、代领人户口本"),
    ({"holder_id_seen": False}, "尚缺：参保人身份证原件"),
    ({"proxy_id_seen": False, "proxy_household_seen": False}, "尚缺：代领人身份证原件、代领人户口本"),
    ({"proxy_name": "  "}, "请填写代领人姓名"),
    ({"proxy_id_number": None}, "请填写代领人身份证号码"),
    ({"proxy_id_number": BAD_ID}, re.escape(f"代领人身份证号码 330203********{BAD_ID[-4:]} 无效，请核对")),
])
def test_a_proxy_is_refused_without_every_document(db, waiting, changes, words):
    person, card = waiting
    before = counts(db)
    with pytest.raises(HolderPickupRefused, match=words) as e:
        holder.hand_to_holder(db, card_number=card.card_number, **proxy(**changes))
    assert e.value.message_zh.startswith("不能发卡：") and e.value.code == "documents_missing"
    assert PROXY_ID not in e.value.message_zh
    assert counts(db) == before


def test_the_proxy_is_not_the_holder(db, waiting):
    person, card = waiting
    before = counts(db)
    with pytest.raises(HolderPickupRefused, match="代领人不能是参保人本人"):
        holder.hand_to_holder(db, card_number=card.card_number,
                              **proxy(proxy_id_number=person.id_number))
    assert counts(db) == before


def test_a_second_attempt_says_who_took_it_and_when(db, waiting):
    person, card = waiting
    first = holder.hand_to_holder(db, card_number=card.card_number, **proxy())
    first.handed_at = utc(2026, 11, 3, 1, 15)   # 09:15 in China
    db.flush()
    before = counts(db)
    with pytest.raises(HolderPickupRefused) as e:
        holder.hand_to_holder(db, card_number=card.card_number, by_proxy=False,
                              holder_id_seen=True, actor_name="centre2")
    assert e.value.message_zh == f"不能发卡：卡 {masked(card)}（刘灵活）：该卡已于 2026-11-03 由 王五（代领）领取"
    assert e.value.code == "already_handed" and e.value.kind == "conflict"
    assert counts(db) == before
    # found by the ID number, the same answer
    with pytest.raises(HolderPickupRefused, match="该卡已于 2026-11-03 由 王五（代领）领取"):
        holder.hand_to_holder(db, id_number=person.id_number, **proxy())


def test_in_person_then_again(db, waiting):
    person, card = waiting
    holder.hand_to_holder(db, card_number=card.card_number, by_proxy=False, holder_id_seen=True,
                          actor_name="centre")
    today = to_local_date(utcnow())
    with pytest.raises(HolderPickupRefused, match=f"该卡已于 {today:%Y-%m-%d} 由本人在中心领取"):
        holder.hand_to_holder(db, card_number=card.card_number, **proxy())


def test_a_card_signed_for_on_the_employers_roster(db):
    employer, persons = employer_with(db, [("张三", "一分厂", None)])
    cards = cards_for(db, persons)
    pickup = pickup_of(db, employer, cards)
    sign(db, pickup, cards[0], utc(2026, 11, 4, 8, 0))
    before = counts(db)
    with pytest.raises(HolderPickupRefused) as e:
        holder.hand_to_holder(db, card_number=cards[0].card_number, by_proxy=False,
                              holder_id_seen=True, actor_name="centre")
    assert e.value.message_zh.endswith(
        f"该卡已于 2026-11-04 经单位发放花名册由本人签字领取（交接单 {pickup.number}）")
    assert counts(db) == before


def test_a_card_with_the_employer(db):
    employer, persons = employer_with(db, [("张三", "一分厂", None)])
    (card,) = cards_for(db, persons)
    with pytest.raises(HolderPickupRefused, match="该卡已由单位领取，请到所在单位领卡"):
        holder.hand_to_holder(db, card_number=card.card_number, by_proxy=False,
                              holder_id_seen=True, actor_name="centre")


def test_second_issuance_of_a_returned_card(db):
    """A card the employer returned (the person moved) is collected at the counter: reissued."""
    employer, persons = employer_with(db, [("张三", "一分厂", None)])
    (card,) = cards_for(db, persons, Custody.RETURNED, reason="moved")
    row = holder.hand_to_holder(db, card_number=card.card_number, by_proxy=False,
                                holder_id_seen=True, actor_name="centre")
    held = db.get(CardCustody, card.id)
    assert (held.state, held.reason) == ("reissued", "moved")
    event = db.scalars(select(CustodyEvent).where(CustodyEvent.card_id == card.id)).one()
    assert (event.from_state, event.to_state, event.note) == ("returned", "reissued", "本人领取（二次发放）")
    assert row.person_id == persons[0].id
    with pytest.raises(HolderPickupRefused, match="由本人在中心领取"):
        holder.hand_to_holder(db, card_number=card.card_number, by_proxy=False,
                              holder_id_seen=True, actor_name="centre")


def test_a_wrong_data_card_is_refused(db):
    employer, persons = employer_with(db, [("张三", "一分厂", None)])
    (card,) = cards_for(db, persons, Custody.RETURNED, reason="wrong_data")
    before = counts(db)
    with pytest.raises(HolderPickupRefused, match="信息有误，需先更正数据并重新制卡") as e:
        holder.hand_to_holder(db, card_number=card.card_number, **proxy())
    assert e.value.code == "wrong_data"
    assert counts(db) == before


def test_an_invalidated_card_is_refused(db, waiting):
    person, card = waiting
    held = db.get(CardCustody, card.id)
    held.state, held.reason = Custody.INVALIDATED, "wrong_data"
    card.status = CardStatus.CANCELLED
    before = counts(db)
    with pytest.raises(HolderPickupRefused, match="该卡已作废，不能发放") as e:
        holder.hand_to_holder(db, card_number=card.card_number, by_proxy=False,
                              holder_id_seen=True, actor_name="centre")
    assert e.value.code == "card_invalidated"
    assert counts(db) == before


def test_a_stopped_card_is_refused(db, waiting):
    person, card = waiting
    card.status = CardStatus.LOST
    with pytest.raises(HolderPickupRefused, match="该卡状态为“挂失”，不能发放"):
        holder.hand_to_holder(db, card_number=card.card_number, by_proxy=False,
                              holder_id_seen=True, actor_name="centre")


def test_by_id_number_the_newest_card(db, waiting):
    """The person's old card was invalidated; a later batch made a new one, now at the centre."""
    person, old = waiting
    held = db.get(CardCustody, old.id)
    held.state = Custody.INVALIDATED
    old.status = CardStatus.CANCELLED
    later = flexible_person(db, name="刘灵活")
    later.id_number = person.id_number
    db.flush()
    (new,) = cards_for(db, [later], Custody.AT_CENTRE)
    row = holder.hand_to_holder(db, id_number=person.id_number.lower(), by_proxy=False,
                                holder_id_seen=True, actor_name="centre")
    assert row.card_id == new.id and row.person_id == later.id


def test_finding_the_card(db, waiting):
    person, card = waiting
    before = counts(db)
    for kwargs, words, kind in [
        ({}, "请扫描卡号或输入参保人身份证号", "invalid"),
        ({"card_number": "ZZZ000000"}, re.escape("找不到卡号为 ZZZ****00 的批次社会保障卡"), "not_found"),
        ({"id_number": BAD_ID}, re.escape(f"身份证号码 330203********{BAD_ID[-4:]} 无效"), "invalid"),
        ({"id_number": PROXY_ID}, "没有批次制卡的社会保障卡", "not_found"),
        ({"card_number": card.card_number, "id_number": PROXY_ID}, "不是身份证号 330203", "invalid"),
    ]:
        with pytest.raises(HolderPickupRefused, match=words) as e:
            holder.hand_to_holder(db, by_proxy=False, holder_id_seen=True, actor_name="centre",
                                  **kwargs)
        assert e.value.kind == kind
    assert counts(db) == before


def test_a_card_not_yet_at_the_centre(db):
    person = flexible_person(db)
    (card,) = cards_for(db, [person], Custody.ACCEPTED)
    with pytest.raises(HolderPickupRefused, match="该卡当前为“到货验收合格”，尚不能在中心发放"):
        holder.hand_to_holder(db, card_number=card.card_number, by_proxy=False,
                              holder_id_seen=True, actor_name="centre")
    assert db.scalar(select(HolderPickup.id)) is None


def accepted_only(db, persons) -> list:
    """Cards accepted on delivery whose place was never recorded (no custody row yet)."""
    cards = cards_for(db, persons, Custody.AT_CENTRE)
    for card in cards:
        db.delete(db.get(CardCustody, card.id))
    db.flush()
    return cards


def test_an_accepted_card_first_seen_at_the_counter(db):
    """A flexible-employment person's card accepted on delivery: recorded at the centre, then
    handed over (two events)."""
    person = flexible_person(db)
    (card,) = accepted_only(db, [person])
    before = counts(db)
    with pytest.raises(HolderPickupRefused, match="尚缺：参保人户口本"):   # a refusal records nothing
        holder.hand_to_holder(db, card_number=card.card_number, **proxy(holder_household_seen=False))
    assert counts(db) == before
    holder.hand_to_holder(db, id_number=person.id_number, by_proxy=False, holder_id_seen=True,
                          actor_name="centre")
    held = db.get(CardCustody, card.id)
    assert (held.state, held.person_id, held.employer_id, held.batch_id) == (
        "with_holder", person.id, None, person.batch_id)
    assert [(e.from_state, e.to_state) for e in db.scalars(
        select(CustodyEvent).where(CustodyEvent.card_id == card.id).order_by(CustodyEvent.id))] == [
        ("accepted", "at_centre"), ("at_centre", "with_holder")]


def test_an_employers_accepted_card_at_the_counter(db):
    """An employee collecting at the counter: the employer's accepted cards are all recorded."""
    employer, persons = employer_with(db, [("张三", "一分厂", None), ("李四", "一分厂", None)])
    cards = accepted_only(db, persons)
    holder.hand_to_holder(db, card_number=cards[0].card_number, by_proxy=False,
                          holder_id_seen=True, actor_name="centre")
    assert [db.get(CardCustody, c.id).state for c in cards] == ["with_holder", "at_centre"]
