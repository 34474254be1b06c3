"""信息更正（一周内） (seed 000 §3(三)2): the person comes with the ID card or household register;
the corrected values are kept {field: [old, new]}; the card is reported to the province (the
report row), invalidated (custody and the kernel card) and the person's history says a new
card comes in a later batch; the overdue list after the week. Refusals change nothing."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

import app.adapters as adapters
from app.adapters.province import ProvinceCardReport, ProvincialReport, ProvincialReportError
from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import to_local_date
from app.procedures.batch.models import PersonEvent
from app.procedures.distribution import corrections, holder, returns
from app.procedures.distribution.corrections import CorrectionNotFound, CorrectionRefused
from app.procedures.distribution.holder import HolderPickupRefused
from app.procedures.distribution.models import CardCustody, CustodyEvent, DataCorrection
from tests.procedures.distribution.fixtures_returns import (  # noqa: F401
    cards_for, counts, db, employer_with, id_number, platform)

TODAY = date(2026, 11, 27)
NEW_ID = id_number("33020319800101999")


def reports(db) -> int:
    return db.scalar(select(func.count()).select_from(ProvinceCardReport))


@pytest.fixture
def wrong(db):
    """Two cards of an employer returned with wrong data on 27 November: due 4 December."""
    employer, persons = employer_with(db, [("张三", "一分厂", None), ("李四", "一分厂", None),
                                           ("王五", "二分厂", None)])
    cards = cards_for(db, persons)
    returned = returns.receive_return(db, employer.id, "陈经办", [
        {"card_number": cards[0].card_number, "reason": "wrong_data", "note": "姓名错字"},
        {"card_number": cards[1].card_number, "reason": "wrong_data"},
        {"card_number": cards[2].card_number, "reason": "moved"}], "centre", today=TODAY)
    rows = db.scalars(select(DataCorrection).order_by(DataCorrection.card_id)).all()
    return returned, persons, cards, rows


def test_correction_reports_and_invalidates(db, wrong):
    returned, persons, cards, (first, second) = wrong
    old_name, old_id = persons[0].name, persons[0].id_number
    row = corrections.record_correction(db, first.id, {"name": "张珊", "id_number": NEW_ID.lower(),
                                                       "photo": True}, " clerk ",
                                        document="household_register")
    assert row is first
    assert row.corrected == {"name": ["张三", "张珊"], "id_number": [old_id, NEW_ID],
                             "photo": [None, "重新采集照片"]}
    assert row.corrected_by == "clerk" and row.corrected_at is not None
    # the report row of the embedded provincial report
    report = db.scalars(select(ProvinceCardReport)).one()
    assert row.reported == report.report_number
    assert re.fullmatch(r"SJTK\d{8}-\d{6}", report.report_number)
    assert (report.card_number, report.id_number, report.name, report.reason, report.returned_on) == (
        cards[0].card_number, old_id, "张三", "信息错误：姓名、身份证号、照片",
        to_local_date(returned.received_at))
    # the card invalidated: custody and the kernel card
    held = db.get(CardCustody, cards[0].id)
    assert (held.state, held.reason) == ("invalidated", "wrong_data")
    event = db.scalars(select(CustodyEvent).where(CustodyEvent.card_id == cards[0].id)
                       .order_by(CustodyEvent.id.desc())).first()
    assert (event.from_state, event.to_state, event.by, event.return_id) == (
        "returned", "invalidated", "clerk", returned.id)
    assert event.note == f"信息更正，已上报省级 {row.reported}"
    card = db.get(Card, cards[0].id)
    assert (card.status, card.stop_reason) == (CardStatus.CANCELLED, "信息错误，已退卡上报")
    assert card.stopped_at is not None
    # the batch rows unchanged but for a history line
    assert (persons[0].name, persons[0].id_number, persons[0].card_id) == (old_name, old_id, cards[0].id)
    line = db.scalars(select(PersonEvent).where(PersonEvent.person_id == persons[0].id)).one()
    masked_card = cards[0].card_number[:3] + "****" + cards[0].card_number[-2:]
    assert line.by == "clerk"
    assert line.text_zh == (
        f"凭户口本原件办理信息更正：姓名 张三→张珊、身份证号 {old_id[:6]}********{old_id[-4:]}→"
        f"{NEW_ID[:6]}********{NEW_ID[-4:]}、照片（重新采集照片）；原卡 {masked_card} 已作废并上报省级"
        f"（{row.reported}），待二次数据采集后在以后批次另行制卡")
    assert old_id not in line.text_zh and NEW_ID not in line.text_en
    assert "a new card will be made in a later batch" in line.text_en
    # the other correction is untouched and the card can no longer be handed out
    assert second.corrected is None and db.get(CardCustody, cards[1].id).state == "returned"
    with pytest.raises(HolderPickupRefused, match="该卡已作废，不能发放"):
        holder.hand_to_holder(db, card_number=cards[0].card_number, by_proxy=False,
                              holder_id_seen=True, actor_name="centre")
    # one live card per person: the cancelled card no longer stands in a new card's way
    db.add(Card(card_number="NEW000001", ssn=old_id, name="张珊", region_code="330200",
                status=CardStatus.NUMBER_ASSIGNED))
    db.flush()


def test_sex_with_the_id_card(db, wrong):
    returned, persons, cards, (first, second) = wrong
    row = corrections.record_correction(db, second.id, {"sex": "女"}, "clerk", document="id_card")
    assert row.corrected == {"sex": ["1", "2"]}
    line = db.scalars(select(PersonEvent).where(PersonEvent.person_id == persons[1].id)).one()
    assert line.text_zh.startswith("凭身份证原件办理信息更正：性别 男→女；")


@pytest.mark.parametrize("fields, document, words", [
    ({"name": "张珊"}, None, "须查验本人身份证或户口本原件，请选择所出示的证件"),
    ({"name": "张珊"}, "passport", "须查验本人身份证或户口本原件"),
    ({}, "id_card", "请至少填写一项更正内容（姓名、性别、身份证号或照片）"),
    ({"name": "", "photo": False}, "id_card", "请至少填写一项更正内容"),
    ({"address": "宁波"}, "id_card", "不能更正的项目：address"),
    ({"id_number": "330203198001019990"}, "id_card", "更正后的身份证号码 330203"),
    ({"name": "张三"}, "id_card", "姓名与卡面信息相同，无需更正"),
    ({"sex": "x"}, "id_card", "性别应为“男”或“女”"),
    ({"name": "名" * 31}, "id_card", "姓名应为 1 至 30 个字"),
])
def test_refusals_change_nothing(db, wrong, fields, document, words):
    returned, persons, cards, (first, second) = wrong
    if "id_number" in fields and corrections.valid_citizen_id(fields["id_number"]):
        fields = {"id_number": fields["id_number"][:-1] + "0" if fields["id_number"][-1] != "0"
                  else fields["id_number"][:-1] + "1"}
    before = counts(db), reports(db)
    with pytest.raises(CorrectionRefused, match=re.escape(words)) as e:
        corrections.record_correction(db, first.id, fields, "clerk", document=document)
    assert e.value.message_zh.startswith("不能办理信息更正：")
    assert persons[0].id_number not in e.value.message_zh
    db.expire_all()
    assert (counts(db), reports(db)) == before
    assert first.corrected is None and first.reported is None


def test_corrected_once(db, wrong):
    returned, persons, cards, (first, second) = wrong
    corrections.record_correction(db, first.id, {"name": "张珊"}, "clerk", document="id_card")
    before = counts(db), reports(db)
    with pytest.raises(CorrectionRefused, match="的信息更正已于 .* 由 clerk 办理") as e:
        corrections.record_correction(db, first.id, {"name": "张杉"}, "clerk2", document="id_card")
    assert e.value.kind == "conflict"
    assert (counts(db), reports(db)) == before
    with pytest.raises(CorrectionNotFound, match="找不到编号为 999999 的信息更正"):
        corrections.record_correction(db, 999999, {"name": "张珊"}, "clerk", document="id_card")


def test_the_province_refusing_changes_nothing(db, wrong):
    returned, persons, cards, (first, second) = wrong

    class Refusing(ProvincialReport):
        def __init__(self, session):
            pass

        def report_returned(self, records):
            raise ProvincialReportError("省级系统拒收：卡号不存在", "The province refused the report")

    before = counts(db)
    adapters.configure(province=Refusing)
    try:
        with pytest.raises(ProvincialReportError, match="省级系统拒收"):
            corrections.record_correction(db, first.id, {"name": "张珊"}, "clerk", document="id_card")
    finally:
        adapters.reset()
    db.expire_all()
    assert counts(db) == before and first.corrected is None


def test_another_connector_gets_the_record(db, wrong):
    returned, persons, cards, (first, second) = wrong
    seen = []

    class Recording(ProvincialReport):
        def __init__(self, session):
            pass

        def report_returned(self, records):
            seen.extend(records)
            return "NX-2026-0001"

    adapters.configure(province=Recording)
    try:
        row = corrections.record_correction(db, second.id, {"photo": "照片非本人"}, "clerk",
                                            document="id_card")
    finally:
        adapters.reset()
    assert row.reported == "NX-2026-0001" and row.corrected == {"photo": [None, "照片非本人"]}
    assert seen == [{"card_number": cards[1].card_number, "id_number": persons[1].id_number,
                     "name": "李四", "reason": "信息错误：照片",
                     "returned_on": to_local_date(returned.received_at)}]
    assert reports(db) == 0


def test_a_card_not_returned_for_wrong_data(db, wrong):
    returned, persons, cards, (first, second) = wrong
    held = db.get(CardCustody, first.card_id)
    held.reason = "moved"
    db.flush()
    with pytest.raises(CorrectionRefused, match="不是因信息错误退回中心的卡"):
        corrections.record_correction(db, first.id, {"name": "张珊"}, "clerk", document="id_card")


def test_overdue_after_the_week(db, wrong):
    returned, persons, cards, (first, second) = wrong
    assert first.due_on == date(2026, 12, 4)
    assert corrections.overdue(db, date(2026, 12, 4)) == []           # the last day still counts
    assert corrections.overdue(db, date(2026, 12, 5)) == [first, second]
    corrections.record_correction(db, first.id, {"name": "张珊"}, "clerk", document="id_card")
    assert corrections.overdue(db, date(2026, 12, 5)) == [second]
    # the week's timer marks it; too early is refused, a corrected one is left alone
    before = counts(db)
    with pytest.raises(CorrectionRefused, match="更正期限为 2026-12-04，尚未逾期"):
        corrections.mark_overdue(db, second.id, today=date(2026, 12, 4))
    assert counts(db) == before and not second.overdue
    assert corrections.mark_overdue(db, second.id, today=date(2026, 12, 5)).overdue is True
    assert corrections.mark_overdue(db, second.id).overdue is True     # again: nothing new
    lines = db.scalars(select(PersonEvent.text_zh).where(PersonEvent.person_id == persons[1].id)).all()
    assert lines == ["逾期未办理信息更正（期限 2026-12-04）"]
    assert corrections.mark_overdue(db, first.id).overdue is False
    # late, the person may still come: the correction is recorded, the mark stays
    row = corrections.record_correction(db, second.id, {"name": "李斯"}, "clerk", document="id_card")
    assert row.overdue and row.corrected == {"name": ["李四", "李斯"]}
    assert corrections.overdue(db, date(2026, 12, 20)) == []
