"""Four eyes and the freeze 录入复核与提交 (seed 001 §4.2-2, §4.3) with the Ningbo banks: the
reviewer is never who entered a form, send back and re-entry, submission freezes the data,
nothing half-written on a refusal."""
from __future__ import annotations


import pytest
from sqlalchemy import func, select

from app.procedures.batch import confirmation as forms
from app.procedures.batch import entry
from app.procedures.batch import reconcile as rec
from app.procedures.batch.entry import DataFrozen, FourEyes, ReviewInvalid, SubmitRefused
from app.procedures.batch.models import PersonEvent
from app.procedures.batch.reconcile import AlreadySubmitted
from app.procedures.batch.states import EmployerStatus, Entry
from tests.procedures.batch.conftest import employer_with



def returned(person, bank="ICBC", **kw) -> dict:
    return {"person_id": person.id, "returned": True, "bank": bank, "mobile": "13800000000", **kw}


def snapshot(db, persons, employer) -> list:
    db.expire_all()
    return [(p.entry, p.bank, p.entered_by, p.reviewed_by, p.review_note, p.submitted_at)
            for p in persons] + [
        (employer.status, employer.submitted_at, employer.applied_at),
        db.scalar(select(func.count()).select_from(PersonEvent))]


@pytest.fixture
def entered(db):
    """张三 and 李四 entered by clerk A, 王五 entered by clerk B, 赵六's form not returned."""
    employer, p = employer_with(db, [("张三", "一分厂", None), ("李四", "一分厂", None),
                                     ("王五", "二分厂", None), ("赵六", "二分厂", None)])
    forms.record_returns(db, employer.id, [returned(p[0]), returned(p[1], "CCB"),
                                           {"person_id": p[3].id, "returned": False}], "A")
    forms.record_returns(db, employer.id, [returned(p[2], "BOC")], "B")
    return employer, p


DECLARED = {"一分厂": {"ICBC": 1, "CCB": 1}, "二分厂": {"BOC": 1}}


def test_four_eyes_per_person(db, entered):
    employer, (zhang, li, wang, zhao) = entered
    assert entry.open_for_review(db, employer.id) == 3
    before = snapshot(db, entered[1], employer)
    # A may review 王五 (entered by B) but not 张三 or 李四: nothing is recorded
    with pytest.raises(FourEyes) as e:
        entry.review(db, employer.id, {zhang.id: ("accept", None), wang.id: ("accept", None),
                                       li.id: ("accept", None)}, "A")
    assert e.value.message_zh.startswith("录入与复核不能为同一人：张三、李四")
    assert "王五" not in e.value.message_zh and e.value.kind == "forbidden"
    assert snapshot(db, entered[1], employer) == before
    assert entry.review(db, employer.id, {wang.id: ("accept", None)}, "A") == {
        "accepted": 1, "sent_back": 0}
    assert entry.review(db, employer.id, {zhang.id: ("accept", None),
                                          li.id: ("send_back", "手机号码与确认表不符")}, "B") == {
        "accepted": 1, "sent_back": 1}
    assert (wang.entry, wang.reviewed_by) == (Entry.ACCEPTED, "A")
    assert (li.entry, li.review_note, li.reviewed_by) == (Entry.SENT_BACK, "手机号码与确认表不符", "B")
    assert entry.open_for_review(db, employer.id) == 0
    assert [p.name for p in entry.sent_back(db, employer.id)] == ["李四"]


def test_send_back_and_reentry(db, entered):
    employer, (zhang, li, wang, zhao) = entered
    with pytest.raises(ReviewInvalid, match="李四：退回时请写明退回原因"):
        entry.review(db, employer.id, {li.id: ("send_back", "  ")}, "B")
    entry.review(db, employer.id, {li.id: ("send_back", "银行勾选不清")}, "B")
    with pytest.raises(ReviewInvalid, match="只有已录入待复核的才能复核"):
        entry.review(db, employer.id, {li.id: ("accept", None)}, "C")
    forms.record_returns(db, employer.id, [returned(li, "CCB", mobile="13900000000")], "A")
    assert (li.entry, li.review_note, li.reviewed_by) == (Entry.ENTERED, None, None)
    entry.review(db, employer.id, {li.id: ("accept", None)}, "B")
    assert li.entry == Entry.ACCEPTED
    history = db.scalars(select(PersonEvent.text_zh).where(PersonEvent.person_id == li.id)
                         .order_by(PersonEvent.id)).all()
    assert history == ["录入确认表：建设银行，一分厂", "确认表复核退回：银行勾选不清",
                       "复核退回后重新录入确认表：建设银行，一分厂", "确认表复核通过"]


def test_review_checks(db, entered):
    employer, (zhang, li, wang, zhao) = entered
    with pytest.raises(ReviewInvalid) as e:
        entry.review(db, employer.id, {zhang.id: ("approve", None), zhao.id: ("accept", None),
                                       999999: ("accept", None)}, "B")
    zh = e.value.message_zh
    assert "张三：复核结果应为“通过”或“退回”" in zh and "找不到编号为 999999 的参保人" in zh
    assert "赵六 的确认表当前为“未返回（单位已报）”" in zh
    assert zhang.entry == Entry.ENTERED


def accept_all(db, employer, persons):
    for p in persons:
        if p.entry == Entry.ENTERED:
            entry.review(db, employer.id, {p.id: ("accept", None)},
                         "B" if p.entered_by == "A" else "A")


def test_submit_freezes(db, entered):
    employer, (zhang, li, wang, zhao) = entered
    accept_all(db, employer, entered[1])
    assert rec.reconcile(db, employer.id, DECLARED, 4, 3, "A") == []
    assert entry.submit(db, employer.id, "C") == 3
    db.expire_all()
    assert all(p.submitted_at is not None for p in (zhang, li, wang)) and zhao.submitted_at is None
    assert employer.status == EmployerStatus.SUBMITTED
    assert employer.submitted_at == zhang.submitted_at
    event_ = db.scalars(select(PersonEvent).where(PersonEvent.person_id == wang.id)
                        .order_by(PersonEvent.id.desc())).first()
    assert (event_.by, event_.text_zh) == ("C", "单位申领已提交，基本信息冻结至社保卡发放")
    assert event_.at == wang.submitted_at


def test_change_after_submit_refused(db, entered):
    employer, (zhang, li, wang, zhao) = entered
    accept_all(db, employer, entered[1])
    rec.reconcile(db, employer.id, DECLARED, 4, 3, "A")
    entry.submit(db, employer.id, "C")
    before = snapshot(db, entered[1], employer)
    with pytest.raises(DataFrozen) as e:
        forms.change_basic_data(db, zhang.id, "A", name="张珊")
    assert e.value.message_zh == "张三：已提交申领，参保人基本信息在社保卡发放前不能修改"
    assert "§" not in e.value.message_zh and "cannot be changed" in e.value.message_en
    with pytest.raises(DataFrozen, match="李四"):
        forms.record_returns(db, employer.id, [returned(li, "BOC")], "A")
    # the not-returned 赵六 is not frozen, but the application is closed: a later batch
    with pytest.raises(AlreadySubmitted, match="下一批次"):
        forms.record_returns(db, employer.id, [returned(zhao)], "A")
    with pytest.raises(AlreadySubmitted):
        entry.submit(db, employer.id, "C")
    with pytest.raises(AlreadySubmitted):
        rec.reconcile(db, employer.id, DECLARED, 4, 3, "A")
    with pytest.raises(DataFrozen):
        entry.ensure_not_frozen(zhang)
    assert snapshot(db, entered[1], employer) == before


def test_submit_refused_says_what_is_missing(db, entered):
    employer, (zhang, li, wang, zhao) = entered
    entry.review(db, employer.id, {li.id: ("send_back", "地址不清")}, "B")
    before = snapshot(db, entered[1], employer)
    with pytest.raises(SubmitRefused) as e:
        entry.submit(db, employer.id, "C")
    zh = e.value.message_zh
    assert "还有 2 份确认表已录入未复核" in zh and "还有 1 份复核退回的确认表未重新录入复核" in zh
    assert "没有复核通过的确认表" in zh and "尚未与单位《申领汇总表》核对一致" in zh
    assert snapshot(db, entered[1], employer) == before


def test_submit_refused_while_forms_out(db):
    employer, (zhang, li) = employer_with(db, [("张三", None, None), ("李四", None, None)])
    forms.record_returns(db, employer.id, [returned(zhang)], "A")
    entry.review(db, employer.id, {zhang.id: ("accept", None)}, "B")
    with pytest.raises(SubmitRefused, match="还有 1 人的确认表未登记返回或未返回"):
        entry.submit(db, employer.id, "C")


def test_correction_after_reconciliation_is_checked_again(db, entered):
    """A send-back corrected the bank: the summary no longer agrees and submission waits."""
    employer, (zhang, li, wang, zhao) = entered
    rec.reconcile(db, employer.id, DECLARED, 4, 3, "A")
    assert employer.applied_at is not None
    entry.review(db, employer.id, {li.id: ("send_back", "银行应为中国银行")}, "B")
    forms.record_returns(db, employer.id, [returned(li, "BOC")], "A")
    accept_all(db, employer, entered[1])
    with pytest.raises(SubmitRefused) as e:
        entry.submit(db, employer.id, "C")
    assert "不再一致（一分厂 · 建设银行：汇总表 1 人，清点确认表 0 人" in e.value.message_zh
    assert zhang.submitted_at is None
    # the agent's corrected summary agrees again
    rec.reconcile(db, employer.id, {"一分厂": {"ICBC": 1, "BOC": 1}, "二分厂": {"BOC": 1}},
                  4, 3, "A")
    assert entry.submit(db, employer.id, "C") == 3


def test_long_name_lists_are_cut():
    names = [f"员工{i}" for i in range(12)]
    e = DataFrozen(names)
    assert e.message_zh.startswith("员工0、员工1") and "员工9等 12 人：已提交申领" in e.message_zh
    assert "员工10" not in e.message_zh and "and 2 more" in e.message_en
