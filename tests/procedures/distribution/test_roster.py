"""The signed distribution roster back 发放花名册交回 (seed 000 §3(二)1, §3(三)): per person signed,
not handed out (with the reason) or data wrong; the scan archived; a line re-recorded until
its card moved on; what is still with the employer for the 6-month return. The main path once
on PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.procedures.distribution import custody, pickup, roster
from app.procedures.distribution.models import CustodyEvent, EmployerPickup, PickupCard
from app.procedures.distribution.pickup import PickupError
from app.procedures.distribution.roster import RosterInvalid, ScanRefused
from app.procedures.distribution.states import Custody
from app.sla.calendar import WorkingDayCalendar
from tests.procedures.distribution.conftest import (
    AGENT_ID,
    CLERK,
    accepted_employer,
    snapshot,
)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def handed_over(s: Session, made) -> EmployerPickup:
    row = pickup.check_agent(s, made.employer.id, agent_name="王经办", agent_id=AGENT_ID,
                             shown_id=AGENT_ID, seal_checked=True, actor_name=CLERK)
    pickup.count_cards(s, row.id, made.numbers, CLERK)
    return pickup.hand_over(s, row.id, CLERK, today=date(2026, 9, 29), calendar=WorkingDayCalendar())


@pytest.fixture
def out(db, made):
    return handed_over(db, made)


def line(card_id, outcome, reason=None, note=None) -> dict:
    return {"card_id": card_id, "outcome": outcome, "reason": reason, "note": note}


def test_the_signed_roster_comes_back(db, made, out):
    a, b, c = made.card_ids
    result = roster.record_roster(db, out.id, [
        line(a, "signed"), line(b, "not_handed_out", "moved", "  调离本单位  "),
        line(c, "wrong_data", note="身份证号码错一位")], "clerk2", scan=PDF, scan_name="C:\\扫描\\花名册.pdf")
    assert result == {"signed": 1, "not_handed_out": 1, "wrong_data": 1, "not_recorded": 0,
                      "outstanding": 2, "changed": 3, "complete": True}
    assert out.status == "roster_back" and out.roster_back_at is not None
    assert out.roster_scan == PDF and out.roster_scan_name == "花名册.pdf"
    states = [custody.of_person(db, p.id).state for p in made.persons]
    assert states == ["with_holder", "with_employer", "with_employer"]
    last = custody.history(db, a)[-1]
    assert (last.from_state, last.to_state, last.pickup_id, last.by) == (
        "with_employer", "with_holder", out.id, "clerk2")
    rows = db.execute(select(PickupCard.card_id, PickupCard.outcome, PickupCard.reason,
                             PickupCard.note, PickupCard.recorded_by)
                      .order_by(PickupCard.seq)).all()
    assert [tuple(r) for r in rows] == [(a, "signed", None, None, "clerk2"),
                                        (b, "not_handed_out", "moved", "调离本单位", "clerk2"),
                                        (c, "wrong_data", "wrong_data", "身份证号码错一位", "clerk2")]
    assert all(p.recorded_at is not None for p in pickup.pickup_cards(db, out.id))
    left = roster.outstanding(db, out.id)
    assert [(o.card_id, o.name, o.outcome, o.reason, o.seq) for o in left] == [
        (b, "李四", "not_handed_out", "moved", 2), (c, "王五", "wrong_data", "wrong_data", 3)]
    assert left[0].card_number == made.numbers[1] and left[0].person_id == made.persons[1].id


def test_lines_recorded_in_parts_and_outstanding_until_then(db, made, out):
    a, b, c = made.card_ids
    result = roster.record_roster(db, out.id, [line(b, "signed")], CLERK)
    assert result["not_recorded"] == 2 and not result["complete"] and result["outstanding"] == 2
    assert out.status == "handed_over" and out.roster_back_at is None
    assert [(o.card_id, o.outcome) for o in roster.outstanding(db, out.id)] == [(a, None), (c, None)]
    roster.record_roster(db, out.id, [line(a, "signed"), line(c, "signed")], CLERK)
    assert out.status == "roster_back" and roster.outstanding(db, out.id) == []
    assert roster.figures(db, out.id)["signed"] == 3


def test_reasons_and_lines_are_checked_all_at_once_and_nothing_recorded(db, made, out):
    a, b, c = made.card_ids
    other = accepted_employer(db, ("孙七",), code="E2", voucher=False)
    before = snapshot(db)
    with pytest.raises(RosterInvalid) as e:
        roster.record_roster(db, out.id, [
            line(a, "signed"),                          # fine, but the others are not
            line(b, "not_handed_out"),                  # the reason is missing
            line(c, "not_handed_out", "wrong_data"),    # not a reason for not handed out
            line(other.card_ids[0], "signed"),          # not a card of this pickup
            line(a, "signed"),                          # twice
            line("abc", "signed"),
            "not a line"], CLERK, scan=PDF)
    problems = [zh for zh, _ in e.value.problems]
    assert len(problems) == 6
    assert "李四（卡号 " in problems[0] and "须注明原因" in problems[0]
    assert "王五" in problems[1] and "调离、异地退休、死亡、未领取或其他" in problems[1]
    assert "第 4 行：该卡不是本次领取交接单中的卡" == problems[2]
    assert "张三" in problems[3] and "登记了两次" in problems[3]
    assert problems[4] == "第 6 行：该卡不是本次领取交接单中的卡"
    assert problems[5] == "第 7 行格式不对"
    assert made.numbers[1] not in e.value.message_zh and e.value.message_en
    assert snapshot(db) == before
    with pytest.raises(RosterInvalid):
        roster.record_roster(db, out.id, [], CLERK)
    with pytest.raises(RosterInvalid) as e:
        roster.record_roster(db, out.id, [{"card_id": c, "outcome": "lost"}], CLERK)
    assert "请选择“本人已签字领取”“未发出”或“信息错误”" in e.value.message_zh
    with pytest.raises(RosterInvalid) as e:
        roster.record_roster(db, out.id, [line(a, "signed", note="很长" * 101)], CLERK)
    assert "备注超过200字" in e.value.message_zh
    assert snapshot(db) == before


def test_a_line_is_recorded_again_until_the_card_moved_on(db, made, out):
    a, b, c = made.card_ids
    roster.record_roster(db, out.id, [line(a, "signed"), line(b, "not_handed_out", "died"),
                                      line(c, "wrong_data")], CLERK)
    # the card not handed out was handed out after all; the wrong data was a misreading
    result = roster.record_roster(db, out.id, [line(b, "signed"), line(c, "not_handed_out", "other")],
                                  CLERK)
    assert result["signed"] == 2 and result["not_handed_out"] == 1 and result["wrong_data"] == 0
    assert custody.of_person(db, made.persons[1].id).state == "with_holder"
    # the same line again changes nothing: the whole roster may be submitted again
    events = db.scalar(select(func.count()).select_from(CustodyEvent))
    again = roster.record_roster(db, out.id, [line(a, "signed"), line(b, "signed"),
                                              line(c, "not_handed_out", "other")], CLERK)
    assert again["changed"] == 1 and db.scalar(select(func.count()).select_from(CustodyEvent)) == events
    # a signed card is with its holder: its line cannot become "not handed out"
    before = snapshot(db)
    with pytest.raises(RosterInvalid) as e:
        roster.record_roster(db, out.id, [line(a, "not_handed_out", "moved")], CLERK)
    assert "当前为“已发放到本人”，花名册登记不能再更改" in e.value.message_zh
    assert snapshot(db) == before
    # a card returned to the centre has moved on as well
    custody.move(db, [c], Custody.RETURNED, CLERK, reason="other", pickup_id=out.id)
    with pytest.raises(RosterInvalid) as e:
        roster.record_roster(db, out.id, [line(c, "signed")], CLERK)
    assert "已退回中心" in e.value.message_zh
    assert roster.outstanding(db, out.id) == []


@pytest.mark.parametrize("scan, name, stored", [
    (PDF, "roster.pdf", "roster.pdf"),
    (JPEG, None, "-发放花名册.jpg"),
    (PNG, "/tmp/../花名册 第1页.png", "花名册 第1页.png"),
])
def test_scan_kinds_accepted(db, made, out, scan, name, stored):
    result = roster.record_roster(db, out.id, [], CLERK, scan=scan, scan_name=name)
    assert result["changed"] == 0 and result["not_recorded"] == 3
    assert out.roster_scan == scan and out.roster_scan_name.endswith(stored)
    assert out.status == "handed_over"  # the scan alone does not make the roster back


@pytest.mark.parametrize("scan, code", [
    (b"GIF89a\x01\x00", "scan_kind"),
    (b"hello, roster", "scan_kind"),
    (b"", "scan_empty"),
    (PDF + b"\x00" * (20 * 1024 * 1024), "scan_too_large"),
])
def test_scan_kinds_refused(db, made, out, scan, code):
    before = snapshot(db)
    with pytest.raises(ScanRefused) as e:
        roster.record_roster(db, out.id, [line(made.card_ids[0], "signed")], CLERK, scan=scan,
                             scan_name="x.gif")
    assert e.value.code == code and e.value.message_zh and e.value.kind == "invalid"
    assert snapshot(db) == before


def test_exactly_20_mb_is_accepted():
    assert roster.scan_kind(PDF + b"\x00" * (20 * 1024 * 1024 - len(PDF))) == "pdf"


def test_no_roster_before_the_handover(db, made):
    row = pickup.check_agent(db, made.employer.id, agent_name="王经办", agent_id=AGENT_ID,
                             shown_id=AGENT_ID, seal_checked=True, actor_name=CLERK)
    pickup.count_cards(db, row.id, made.numbers, CLERK)
    with pytest.raises(PickupError) as e:
        roster.record_roster(db, row.id, [line(made.card_ids[0], "signed")], CLERK)
    assert e.value.code == "pickup_wrong_status" and "尚未交接" in e.value.message_zh
    with pytest.raises(PickupError) as e:
        roster.outstanding(db, 10 ** 9)
    assert e.value.kind == "not_found"


# -- the main path on PostgreSQL ---------------------------------------------------------------------



@pytest.mark.postgres
def test_main_path_on_postgresql(pg_schema_url):
    from app.engine.db import make_engine
    from app.migrate import upgrade
    upgrade(pg_schema_url)
    engine = make_engine(pg_schema_url)
    try:
        with Session(engine, expire_on_commit=False) as s:
            made = accepted_employer(s, [f"职工{i}" for i in range(1200)])
            other = accepted_employer(s, ("孙七",), code="E2", name="慈溪乙电器有限公司",
                                      batch=made.batch, voucher=False)
            s.commit()
            row = pickup.check_agent(s, made.employer.id, agent_name="王经办", agent_id=AGENT_ID,
                                     shown_id=AGENT_ID, seal_checked=True, actor_name=CLERK)
            s.commit()
            with pytest.raises(pickup.CountDiffers) as e:
                pickup.count_cards(s, row.id, made.numbers[1:] + other.numbers, CLERK)
            assert len(e.value.missing) == 1 and e.value.extra[0].employer == "慈溪乙电器有限公司"
            s.rollback()
            assert pickup.count_cards(s, row.id, made.numbers, CLERK) == {"cards": 1200}
            out = pickup.hand_over(s, row.id, CLERK, today=date(2026, 9, 29),
                                   calendar=WorkingDayCalendar())
            s.commit()
            assert out.distribute_by == date(2026, 10, 9) and out.return_by == date(2027, 3, 29)
            assert custody.counts(s, employer_id=made.employer.id)["with_employer"] == 1200
            lines = [line(cid, "signed") for cid in made.card_ids[2:]]
            lines += [line(made.card_ids[0], "not_handed_out", "retired_elsewhere"),
                      line(made.card_ids[1], "wrong_data")]
            result = roster.record_roster(s, out.id, lines, CLERK, scan=PDF, scan_name="r.pdf")
            s.commit()
            assert result["signed"] == 1198 and result["complete"] and result["outstanding"] == 2
            s.expire_all()
            assert s.get(EmployerPickup, out.id).status == "roster_back"
            assert [o.card_id for o in roster.outstanding(s, out.id)] == made.card_ids[:2]
            assert custody.counts(s, batch_id=made.batch.id)["with_holder"] == 1198
            assert len(custody.history(s, made.card_ids[5])) == 3
            assert s.scalar(select(func.count()).select_from(CustodyEvent)) == 1200 * 3 - 2
    finally:
        engine.dispose()
