"""Returned confirmation forms 确认表回收登记 (seed 001 §4.2, annex 2) with the Ningbo banks: one
bank ticked by the person, departments at most two levels, forms not returned, the freeze, one
query for a page; basic data corrected before submission."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, select

from app.procedures.batch import confirmation as forms
from app.procedures.batch.confirmation import ConfirmationInvalid
from app.procedures.batch.entry import DataFrozen
from app.procedures.batch.models import Person, PersonEvent
from app.procedures.batch.states import Eligibility, Entry
from tests.procedures.batch.conftest import employer_with



def form(person, bank="ICBC", **kw) -> dict:
    return {"person_id": person.id, "returned": True, "bank": bank, "mobile": "13800000000",
            "landline": None, "address": "宁波市海曙区中山西路1号", "postcode": "315000", **kw}


def state(db, persons) -> list[tuple]:
    db.expire_all()
    return [(p.entry, p.bank, p.mobile, p.dept1, p.dept2, p.entered_by, p.reviewed_by)
            for p in persons] + [db.scalar(select(func.count()).select_from(PersonEvent))]


def test_returned_and_not_returned(db):
    employer, (zhang, li, wang) = employer_with(
        db, [("张三", "一分厂", "装配车间"), ("李四", "一分厂", None), ("王五", None, None)])
    n = forms.record_returns(db, employer.id, [
        form(zhang, dept1="一分厂", dept2="装配车间"),
        form(li, bank="建设银行", mobile="+86 139-0000-1111", landline="0574-87654321"),
        {"person_id": wang.id, "returned": False},
    ], "clerk1")
    assert n == 3
    assert (zhang.entry, zhang.bank, zhang.entered_by) == (Entry.ENTERED, "ICBC", "clerk1")
    assert (li.bank, li.mobile, li.landline, li.dept1) == ("CCB", "13900001111", "0574-87654321",
                                                           "一分厂")
    assert (wang.entry, wang.bank) == (Entry.NOT_RETURNED, None)
    texts = db.scalars(select(PersonEvent.text_zh).where(PersonEvent.person_id == zhang.id)).all()
    assert texts == ["录入确认表：工商银行，一分厂 / 装配车间"]


@pytest.mark.parametrize("bank, words", [
    (None, "张三：未勾选银行：须由本人在确认表上勾选一家合作银行（工商银行、建设银行、中国银行），单位不能代选"),
    ("", "未勾选银行"),
    ("HSBC", "张三：“HSBC”不是本市合作银行（工商银行、建设银行、中国银行）"),
    ("ABC", "不是本市合作银行"),  # Shishi's bank, not Ningbo's
    (["ICBC", "CCB"], "张三：勾选了 2 家银行，只能选择一家"),
])
def test_exactly_one_partner_bank_ticked_by_the_person(db, bank, words):
    employer, (zhang, li) = employer_with(db, [("张三", None, None), ("李四", None, None)])
    before = state(db, [zhang, li])
    with pytest.raises(ConfirmationInvalid) as e:
        forms.record_returns(db, employer.id, [form(li), form(zhang, bank=bank)], "clerk1")
    assert words in e.value.message_zh and e.value.kind == "invalid"
    assert "第 2 行" in e.value.message_zh and "Row 2 张三" in e.value.message_en
    assert state(db, [zhang, li]) == before  # 李四's good row was not recorded either


@pytest.mark.parametrize("row, words", [
    ({"dept1": None, "dept2": "装配车间"}, "填写了二级部门但没有一级部门"),
    ({"dept1": "一分厂", "dept2": "装配车间", "dept3": "一班"}, "部门最多两级"),
    ({"dept1": "一分厂/装配车间"}, "不能含有“/”"),
    ({"mobile": "12345"}, "手机号码应为11位"),
    ({"mobile": None}, "未填写手机号码"),
    ({"postcode": "3150"}, "邮政编码应为6位数字"),
    ({"address": "路" * 101}, "通信地址最多100字"),
    ({"returned": "maybe"}, "请注明确认表是否返回"),
])
def test_row_checks(db, row, words):
    employer, (zhang,) = employer_with(db, [("张三", "一分厂", None)])
    with pytest.raises(ConfirmationInvalid) as e:
        forms.record_returns(db, employer.id, [form(zhang, **row)], "clerk1")
    assert words in e.value.message_zh
    assert zhang.entry == Entry.OUT


def test_department_kept_from_the_contribution_data_when_not_typed(db):
    employer, (zhang,) = employer_with(db, [("张三", "一分厂", "装配车间")])
    forms.record_returns(db, employer.id, [form(zhang)], "clerk1")
    assert (zhang.dept1, zhang.dept2) == ("一分厂", "装配车间")
    forms.record_returns(db, employer.id, [form(zhang, dept1="二分厂", dept2="")], "clerk1")
    assert (zhang.dept1, zhang.dept2) == ("二分厂", None)


def test_only_eligible_persons_of_the_employer(db):
    employer, (zhang, held) = employer_with(
        db, [("张三", None, None), ("赵六", None, None, Eligibility.HELD_DUPLICATE_REGION)])
    other, (stranger,) = employer_with(db, [("钱七", None, None)], code="E2")
    with pytest.raises(ConfirmationInvalid) as e:
        forms.record_returns(db, employer.id, [form(zhang), form(held), form(stranger),
                                               {"person_id": 999999, "returned": False},
                                               form(zhang)], "clerk1")
    zh = e.value.message_zh
    assert "第 2 行 赵六：不在本批制卡名单中（在两个及以上参保区域重复参加职工医保" in zh
    assert f"第 3 行：编号 {stranger.id} 不是本单位的参保人" in zh and "钱七" not in zh
    assert "第 4 行：编号 999999 不是本单位的参保人" in zh
    assert "第 5 行 张三：与第 1 行是同一人" in zh
    assert zhang.entry == Entry.OUT


def test_frozen_person_refused_and_nothing_changed(db):
    employer, (zhang, li) = employer_with(db, [("张三", None, None), ("李四", None, None)])
    forms.record_returns(db, employer.id, [form(zhang), form(li)], "clerk1")
    li.submitted_at = datetime(2011, 10, 8, tzinfo=timezone.utc)
    db.flush()
    before = state(db, [zhang, li])
    with pytest.raises(DataFrozen) as e:
        forms.record_returns(db, employer.id, [form(zhang, bank="BOC"), form(li, bank="CCB")],
                             "clerk2")
    assert e.value.message_zh == "李四：已提交申领，参保人基本信息在社保卡发放前不能修改"
    assert "N §4.3" not in e.value.message_zh and e.value.kind == "conflict"
    assert state(db, [zhang, li]) == before and not db.dirty and not db.new


def test_reentry_after_send_back_clears_the_review(db):
    employer, (zhang,) = employer_with(db, [("张三", None, None)])
    forms.record_returns(db, employer.id, [form(zhang)], "clerk1")
    zhang.entry, zhang.reviewed_by, zhang.review_note = Entry.SENT_BACK, "clerk2", "手机号码有误"
    db.flush()
    forms.record_returns(db, employer.id, [form(zhang, mobile="13900000000")], "clerk1")
    assert (zhang.entry, zhang.reviewed_by, zhang.review_note) == (Entry.ENTERED, None, None)
    last = db.scalars(select(PersonEvent.text_zh).where(PersonEvent.person_id == zhang.id)
                      .order_by(PersonEvent.id.desc())).first()
    assert last.startswith("复核退回后重新录入确认表")


def test_same_row_again_writes_no_second_event(db):
    employer, (zhang,) = employer_with(db, [("张三", None, None)])
    forms.record_returns(db, employer.id, [form(zhang)], "clerk1")
    forms.record_returns(db, employer.id, [form(zhang)], "clerk1")
    assert db.scalar(select(func.count()).where(PersonEvent.person_id == zhang.id)) == 1


def test_a_page_of_200_rows_loads_its_persons_in_one_query(db, platform):
    employer, persons = employer_with(db, [(f"员工{i}", "一分厂", None) for i in range(200)])
    rows = [form(p, bank=("ICBC", "CCB", "BOC")[i % 3]) if i % 10 else
            {"person_id": p.id, "returned": False} for i, p in enumerate(persons)]
    db.expire_all()
    selects = []
    engine = platform.extensions["sscard"].engine

    def watch(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM batch_person " in statement:
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        assert forms.record_returns(db, employer.id, rows, "clerk1") == 200
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert len(selects) == 1
    assert db.scalar(select(func.count()).where(Person.employer_id == employer.id,
                                                Person.entry == Entry.ENTERED)) == 180


def test_change_basic_data_before_submission(db):
    employer, (zhang,) = employer_with(db, [("张三", None, None)])
    forms.record_returns(db, employer.id, [form(zhang)], "clerk1")
    zhang.entry, zhang.reviewed_by = Entry.ACCEPTED, "clerk2"
    person = forms.change_basic_data(db, zhang.id, "clerk3", name="张珊", sex="女")
    assert (person.name, person.sex) == ("张珊", "2")
    # a corrected form goes back to a second person's review
    assert (person.entry, person.entered_by, person.reviewed_by) == (Entry.ENTERED, "clerk3", None)
    last = db.scalars(select(PersonEvent).where(PersonEvent.person_id == zhang.id)
                      .order_by(PersonEvent.id.desc())).first()
    assert last.text_zh == "更正基本信息：姓名 张三 → 张珊，性别 男 → 女（待重新复核）"
    assert last.by == "clerk3"


def test_change_basic_data_checks_and_freeze(db):
    employer, (zhang,) = employer_with(db, [("张三", None, None)])
    with pytest.raises(ConfirmationInvalid, match="性别应为"):
        forms.change_basic_data(db, zhang.id, "clerk1", sex="X")
    with pytest.raises(ConfirmationInvalid, match="没有要更正的内容"):
        forms.change_basic_data(db, zhang.id, "clerk1")
    with pytest.raises(ConfirmationInvalid, match="姓名只能由文字"):
        forms.change_basic_data(db, zhang.id, "clerk1", name="张3")
    zhang.submitted_at = datetime(2011, 10, 8, tzinfo=timezone.utc)
    with pytest.raises(DataFrozen, match="张三：已提交申领"):
        forms.change_basic_data(db, zhang.id, "clerk1", name="张珊")
    assert zhang.name == "张三"
