"""退卡回收 (seed 000 §3(三)): the employer returns the cards not handed out and those with
wrong data, in two groups counted apart; custody with_employer → returned with the reason; a
wrong-data card opens a correction due in a week (calendar days); the slip in two copies.
Every refusal names each card in a clerk's words and writes nothing."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.procedures.distribution import returns
from app.procedures.distribution.models import (CardCustody, CustodyEvent, DataCorrection,
                                                HolderPickup, ReturnedCard)
from app.procedures.distribution.returns import ReturnNotFound, ReturnRefused
from app.procedures.distribution.states import NOT_HANDED_OUT, Custody, ReturnReason
from tests.procedures.distribution.fixtures_returns import (  # noqa: F401
    cards_for, counts, db, employer_with, other_employer, pickup_of, platform, sign, utc)

TODAY = date(2026, 11, 27)   # a Friday: the week's due day falls in December


@pytest.fixture
def staff(db):
    """An employer with five persons whose cards are with it, on one handover sheet."""
    employer, persons = employer_with(db, [("张三", "一分厂", None), ("李四", "一分厂", None),
                                           ("王五", "二分厂", None), ("赵六", "二分厂", None),
                                           ("钱七", "二分厂", None)])
    cards = cards_for(db, persons)
    pickup = pickup_of(db, employer, cards)
    return employer, persons, cards, pickup


def test_two_groups_counted_apart(db, staff):
    employer, persons, cards, pickup = staff
    slip_cards = [{"card_number": cards[0].card_number, "reason": "moved"},
                  {"card_number": cards[1].card_number.lower(), "reason": "died", "note": "2026年10月去世"},
                  {"card_number": cards[2].card_number, "reason": "wrong_data", "note": "姓名错字"},
                  {"card_number": f" {cards[3].card_number} ", "reason": "wrong_data"}]
    returned = returns.receive_return(db, employer.id, " 陈  经办 ", slip_cards, "centre",
                                      pickup_id=pickup.id, today=TODAY)
    assert returned.number == f"TK{employer.id}-1"
    assert (returned.not_handed_out, returned.wrong_data) == (2, 2)
    assert (returned.agent_name, returned.received_by, returned.pickup_id) == ("陈 经办", "centre", pickup.id)
    states = {c.id: (db.get(CardCustody, c.id).state, db.get(CardCustody, c.id).reason) for c in cards}
    assert states == {cards[0].id: ("returned", "moved"), cards[1].id: ("returned", "died"),
                      cards[2].id: ("returned", "wrong_data"), cards[3].id: ("returned", "wrong_data"),
                      cards[4].id: ("with_employer", None)}
    events = db.scalars(select(CustodyEvent).where(CustodyEvent.return_id == returned.id)
                        .order_by(CustodyEvent.card_id)).all()
    assert [(e.card_id, e.from_state, e.to_state, e.reason, e.by, e.pickup_id) for e in events] == [
        (cards[0].id, "with_employer", "returned", "moved", "centre", pickup.id),
        (cards[1].id, "with_employer", "returned", "died", "centre", pickup.id),
        (cards[2].id, "with_employer", "returned", "wrong_data", "centre", pickup.id),
        (cards[3].id, "with_employer", "returned", "wrong_data", "centre", pickup.id)]
    assert events[1].note == "2026年10月去世" and events[2].note == "姓名错字"
    lines = db.scalars(select(ReturnedCard).where(ReturnedCard.return_id == returned.id)
                       .order_by(ReturnedCard.card_id)).all()
    assert [(x.person_id, x.reason) for x in lines] == [
        (persons[0].id, "moved"), (persons[1].id, "died"), (persons[2].id, "wrong_data"),
        (persons[3].id, "wrong_data")]
    # only the wrong-data cards wait for a correction, due a week later across the month end
    corrections = db.scalars(select(DataCorrection).order_by(DataCorrection.card_id)).all()
    assert [(c.card_id, c.person_id, c.return_id, c.due_on, c.corrected, c.overdue)
            for c in corrections] == [
        (cards[2].id, persons[2].id, returned.id, date(2026, 12, 4), None, False),
        (cards[3].id, persons[3].id, returned.id, date(2026, 12, 4), None, False)]
    # the next return of the employer has the next number
    second = returns.receive_return(db, employer.id, "陈经办", [
        {"card_number": cards[4].card_number, "reason": "retired_elsewhere"}], "centre", today=TODAY)
    assert second.number == f"TK{employer.id}-2" and (second.not_handed_out, second.wrong_data) == (1, 0)


def test_the_week_is_calendar_days():
    assert returns.correction_due(date(2026, 11, 27)) == date(2026, 12, 4)
    assert returns.correction_due(date(2026, 12, 28)) == date(2027, 1, 4)
    assert returns.correction_due(date(2028, 2, 25)) == date(2028, 3, 3)   # leap year
    assert returns.correction_due(date(2026, 9, 30)) == date(2026, 10, 7)  # National Day holidays count


def test_the_slip_in_two_groups(db, staff):
    employer, persons, cards, pickup = staff
    returned = returns.receive_return(db, employer.id, "陈经办", [
        {"card_number": cards[3].card_number, "reason": "wrong_data", "note": "性别错误"},
        {"card_number": cards[0].card_number, "reason": "not_collected"},
        {"card_number": cards[4].card_number, "reason": "other", "note": "长期病假，无法联系"},
        {"card_number": cards[2].card_number, "reason": "wrong_data"}], "centre",
        pickup_id=pickup.id, today=TODAY)
    slip = returns.returned_cards(db, returned.id)
    assert (slip.title, slip.copies, slip.number, slip.total) == ("社会保障卡退卡回收单", 2, returned.number, 4)
    assert (slip.employer_code, slip.employer_name, slip.agent_name, slip.pickup_number) == (
        "E1", employer.name, "陈经办", pickup.number)
    assert [(x.seq, x.name, x.reason, x.reason_zh, x.note) for x in slip.not_handed_out] == [
        (1, "张三", "not_collected", "未领取", None), (2, "钱七", "other", "其他原因未发出", "长期病假，无法联系")]
    assert [(x.seq, x.name, x.reason_zh, x.note) for x in slip.wrong_data] == [
        (1, "王五", "卡面信息与身份证不一致", None), (2, "赵六", "卡面信息与身份证不一致", "性别错误")]
    assert all(x.reason in NOT_HANDED_OUT for x in slip.not_handed_out)
    line = slip.wrong_data[0]
    assert line.id_number == persons[2].id_number
    assert line.id_number_masked == persons[2].id_number[:6] + "********" + persons[2].id_number[-4:]
    assert line.card_number_masked == line.card_number[:3] + "****" + line.card_number[-2:]
    with pytest.raises(ReturnNotFound, match="找不到编号为 999999 的退卡回收单"):
        returns.returned_cards(db, 999999)


def test_every_bad_card_is_named_and_nothing_written(db, staff):
    employer, persons, cards, pickup = staff
    other, other_persons = other_employer(db)
    (foreign,) = cards_for(db, other_persons)
    (at_centre,) = cards_for(db, [employer_with(db, [("周八", "一分厂", None)])[1][0]],
                             Custody.AT_CENTRE)
    at_centre_custody = db.get(CardCustody, at_centre.id)
    at_centre_custody.employer_id = employer.id
    sign(db, pickup, cards[1], utc(2026, 11, 3, 2, 30))     # 李四 signed the roster on 3 November
    db.add(HolderPickup(card_id=cards[4].id, person_id=persons[4].id, by_proxy=True,
                        holder_id_seen=True, holder_household_seen=True, proxy_name="钱小七",
                        proxy_id_number=persons[0].id_number, proxy_id_seen=True,
                        proxy_household_seen=True, handed_at=utc(2026, 11, 5, 17, 0),
                        handed_by="centre"))
    db.get(CardCustody, cards[4].id).state = Custody.WITH_HOLDER
    before = counts(db)
    with pytest.raises(ReturnRefused) as e:
        returns.receive_return(db, employer.id, "陈经办", [
            {"card_number": cards[0].card_number, "reason": "moved"},               # fine
            {"card_number": cards[0].card_number, "reason": "moved"},               # twice
            {"card_number": cards[1].card_number, "reason": "not_collected"},       # signed for
            {"card_number": cards[4].card_number, "reason": "not_collected"},       # proxy took it
            {"card_number": foreign.card_number, "reason": "moved"},                # E2's
            {"card_number": "ZZZ000000", "reason": "moved"},                        # unknown
            {"card_number": cards[2].card_number},                                  # no reason
            {"card_number": cards[3].card_number, "reason": "lost"},                # not a reason
            {"card_number": at_centre.card_number, "reason": "moved"},              # not taken yet
            {"card_number": "", "reason": "moved"},
        ], "centre", pickup_id=pickup.id, today=TODAY)
    zh, problems = e.value.message_zh, e.value.problems
    m = lambda c: c.card_number[:3] + "****" + c.card_number[-2:]  # noqa: E731
    assert zh.startswith("不能办理退卡：")
    assert f"卡号 {m(cards[0])} 重复扫描" in zh
    assert (f"卡 {m(cards[1])}（李四）：该卡已于 2026-11-03 发放给本人（经单位发放花名册由本人签字领取"
            f"（交接单 {pickup.number}）），不能退回") in zh
    assert f"卡 {m(cards[4])}（钱七）：该卡已于 2026-11-06 发放给本人（由 钱小七（代领）领取），不能退回" in zh
    assert f"卡 {m(foreign)}（孙外单）：该卡属于 宁波乙贸易有限公司（单位编码 E2），不是本单位的卡" in zh
    assert "卡号 ZZZ****00：找不到该批次社会保障卡，请核对卡号" in zh
    assert f"卡号 {m(cards[2])} 未注明退卡原因" in zh
    assert f"卡号 {m(cards[3])} 的退卡原因“lost”无效" in zh
    assert f"卡 {m(at_centre)}（周八）：该卡当前为“在社保卡中心”，不在本单位，不能退回" in zh
    assert "第 10 张卡缺少卡号" in zh
    assert len(problems) == 9
    assert cards[0].card_number not in zh and persons[0].id_number not in zh   # masked
    assert e.value.message_en.startswith("The return cannot be received: ")
    assert counts(db) == before


@pytest.mark.parametrize("cards, words", [
    ([], "没有扫描要退回的卡"),
    ("B7K334774", "没有扫描要退回的卡"),
])
def test_an_empty_return_is_refused(db, staff, cards, words):
    employer = staff[0]
    before = counts(db)
    with pytest.raises(ReturnRefused, match=words):
        returns.receive_return(db, employer.id, "陈经办", cards, "centre", today=TODAY)
    assert counts(db) == before


def test_agent_pickup_and_other_reason(db, staff):
    employer, persons, cards, pickup = staff
    other, other_persons = other_employer(db)
    other_pickup = pickup_of(db, other, cards_for(db, other_persons), number="JJ-OTHER")
    before = counts(db)
    with pytest.raises(ReturnRefused) as e:
        returns.receive_return(db, employer.id, "  ", [
            {"card_number": cards[0].card_number, "reason": "other"}], "centre",
            pickup_id=other_pickup.id, today=TODAY)
    zh = e.value.message_zh
    assert "请填写单位退卡人姓名" in zh
    assert f"交接单（编号 {other_pickup.id}）不是本单位的领卡交接单" in zh
    assert "的退卡原因为“其他”，请注明具体原因" in zh
    assert counts(db) == before
    with pytest.raises(ReturnNotFound, match="找不到编号为 999999 的单位"):
        returns.receive_return(db, 999999, "陈经办", [{"card_number": cards[0].card_number,
                                                     "reason": "moved"}], "centre", today=TODAY)


def test_a_card_not_on_the_handover_sheet(db, staff):
    employer, persons, cards, pickup = staff
    extra = employer_with(db, [("吴九", "一分厂", None)])[1][0]
    extra.employer_id = employer.id
    (late,) = cards_for(db, [extra])
    before = counts(db)
    with pytest.raises(ReturnRefused, match=f"该卡不在交接单 {pickup.number} 中"):
        returns.receive_return(db, employer.id, "陈经办", [{"card_number": late.card_number,
                                                          "reason": "moved"}], "centre",
                               pickup_id=pickup.id, today=TODAY)
    assert counts(db) == before


def test_a_returned_card_is_not_returned_twice(db, staff):
    employer, persons, cards, pickup = staff
    first = returns.receive_return(db, employer.id, "陈经办", [
        {"card_number": cards[0].card_number, "reason": "moved"}], "centre", today=TODAY)
    before = counts(db)
    with pytest.raises(ReturnRefused, match="当前为“已退回中心”，不在本单位，不能退回"):
        returns.receive_return(db, employer.id, "陈经办", [
            {"card_number": cards[0].card_number, "reason": "moved"}], "centre", today=TODAY)
    # issued again through the employer, then brought back once more: the return table keeps
    # one line per card, so the second return is refused in words (reported to the lead)
    from app.procedures.distribution import custody
    custody.move(db, [cards[0].id], Custody.WITH_EMPLOYER, "centre")
    before = counts(db)
    with pytest.raises(ReturnRefused, match=f"该卡已在退卡回收单 {first.number} 中退回过"):
        returns.receive_return(db, employer.id, "陈经办", [
            {"card_number": cards[0].card_number, "reason": ReturnReason.MOVED}], "centre", today=TODAY)
    assert counts(db) == before
