"""The summary 申领汇总表 and the reconciliation 清点核对 (seed 001 §4.2-3, annex 4) with the Ningbo
banks: a matching summary makes the application, mismatches are listed cell by cell, forms
still out are refused."""
from __future__ import annotations


import pytest
from sqlalchemy import event

from app.procedures.batch import confirmation as forms
from app.procedures.batch import reconcile as rec
from app.procedures.batch.reconcile import FormsStillOut, ReconcileInvalid
from app.procedures.batch.states import EmployerStatus, Eligibility
from tests.procedures.batch.conftest import employer_with



def returned(person, bank) -> dict:
    return {"person_id": person.id, "returned": True, "bank": bank, "mobile": "13800000000"}


@pytest.fixture
def factory_forms(db):
    """Seven persons: six forms returned in two departments and three banks, one not returned,
    one not on the card list (no form sent)."""
    employer, p = employer_with(db, [
        ("张一", "一分厂", "装配车间"), ("张二", "一分厂", "装配车间"), ("张三", "一分厂", "装配车间"),
        ("李一", "一分厂", "装配车间"), ("李二", "二分厂", None), ("李三", "二分厂", None),
        ("王一", "二分厂", None), ("赵一", "二分厂", None, Eligibility.NOT_LOCAL_HOUSEHOLD)])
    forms.record_returns(db, employer.id, [
        returned(p[0], "ICBC"), returned(p[1], "ICBC"), returned(p[2], "ICBC"),
        returned(p[3], "CCB"), returned(p[4], "BOC"), returned(p[5], "ICBC"),
        {"person_id": p[6].id, "returned": False}], "clerk1")
    return employer, p


DECLARED = {"一分厂 / 装配车间": {"ICBC": 3, "CCB": 1}, "二分厂": {"ICBC": 1, "BOC": 1}}


def test_summary_by_department_and_bank(db, factory_forms):
    employer, _ = factory_forms
    s = rec.summary(db, employer.id)
    assert s["rows"] == [
        {"dept": "一分厂 / 装配车间", "banks": {"ICBC": 3, "CCB": 1, "BOC": 0}, "total": 4},
        {"dept": "二分厂", "banks": {"ICBC": 1, "CCB": 0, "BOC": 1}, "total": 2}]
    assert s["totals"] == {"ICBC": 4, "CCB": 1, "BOC": 1}
    assert (s["total"], s["returned"], s["not_returned"], s["out"], s["sent"]) == (6, 6, 1, 0, 7)


def test_summary_is_grouped_in_sql(db, factory_forms, platform):
    """A few statements whatever the number of persons: GROUP BY, not a loop over rows."""
    employer, _ = factory_forms
    statements = []
    engine = platform.extensions["sscard"].engine
    listener = lambda conn, cur, statement, *a: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        rec.summary(db, employer.id)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    on_persons = [s for s in statements if "batch_person" in s]
    assert len(on_persons) == 2 and all("GROUP BY" in s for s in on_persons)


def test_matching_summary_makes_the_application(db, factory_forms):
    employer, _ = factory_forms
    # typed as a clerk would: no spaces around the slash, banks by their names
    declared = {"一分厂/装配车间": {"工商银行": 3, "建设银行": "1", "中国银行": 0},
                "二分厂": {"icbc": 1, "BOC": 1}}
    assert rec.reconcile(db, employer.id, declared, 7, 6, "clerk2") == []
    assert employer.applied_at is not None and employer.differences == []
    assert employer.declared == DECLARED
    assert (employer.forms_received, employer.forms_returned) == (7, 6)
    assert employer.status == EmployerStatus.ENTERING  # until review


def test_mismatches_listed_cell_by_cell(db, factory_forms):
    employer, _ = factory_forms
    declared = {"一分厂 / 装配车间": {"ICBC": 3, "CCB": 2}, "二分厂": {"BOC": 1},
                "三分厂": {"BOC": 1}}
    diffs = rec.reconcile(db, employer.id, declared, 8, 7, "clerk2")
    assert [d["zh"] for d in diffs] == [
        "一分厂 / 装配车间 · 建设银行：汇总表 2 人，清点确认表 1 人",
        "二分厂 · 工商银行：汇总表 0 人，清点确认表 1 人",
        "三分厂 · 中国银行：汇总表 1 人，清点确认表 0 人",
        "合计 · 工商银行：汇总表 3 人，清点确认表 4 人",
        "合计 · 建设银行：汇总表 2 人，清点确认表 1 人",
        "合计 · 中国银行：汇总表 2 人，清点确认表 1 人",
        "合计：汇总表 7 人，清点确认表 6 人",
        "返回《确认表》：单位填报 7 份，登记返回 6 份",
        "收到《确认表》：单位填报 8 份，本批发出 7 份",
    ]
    first = diffs[0]
    assert (first["dept"], first["bank"], first["declared"], first["counted"]) == (
        "一分厂 / 装配车间", "CCB", 2, 1)
    assert first["en"] == "一分厂 / 装配车间 · CCB: summary 2, forms counted 1"
    assert employer.applied_at is None and employer.differences == diffs


def test_a_later_disagreeing_count_unmakes_the_application(db, factory_forms):
    employer, _ = factory_forms
    rec.reconcile(db, employer.id, DECLARED, 7, 6, "clerk2")
    assert employer.applied_at is not None
    assert rec.reconcile(db, employer.id, DECLARED, 7, 5, "clerk2")
    assert employer.applied_at is None


def test_forms_still_out_refused(db):
    employer, p = employer_with(db, [("张一", None, None), ("张二", None, None),
                                     ("张三", None, None)])
    forms.record_returns(db, employer.id, [returned(p[0], "ICBC")], "clerk1")
    with pytest.raises(FormsStillOut) as e:
        rec.reconcile(db, employer.id, {"": {"ICBC": 1}}, 3, 1, "clerk2")
    assert "还有 2 人的确认表既未登记返回也未登记未返回" in e.value.message_zh
    assert employer.declared is None and employer.forms_received is None
    assert employer.applied_at is None


@pytest.mark.parametrize("declared, received, words", [
    ({"一分厂 / 装配车间 / 一班": {"ICBC": 1}}, 1, "超过两级"),
    ({"一分厂": {"HSBC": 1}}, 1, "“HSBC”不是本市合作银行（工商银行、建设银行、中国银行）"),
    ({"一分厂": {"ICBC": -1}}, 1, "人数“-1”应为整数"),
    ({"一分厂": {"ICBC": 1}, "一分厂 ": {"CCB": 1}}, 1, "填写了两次"),
    ({"一分厂": {"ICBC": 1}}, "十", "“收到《确认表》共计”应为整数"),
])
def test_summary_as_typed_is_checked(db, declared, received, words):
    employer, (zhang,) = employer_with(db, [("张三", "一分厂", None)])
    forms.record_returns(db, employer.id, [returned(zhang, "ICBC")], "clerk1")
    with pytest.raises(ReconcileInvalid) as e:
        rec.reconcile(db, employer.id, declared, received, 1, "clerk2")
    assert words in e.value.message_zh
    assert employer.declared is None


def test_employer_without_departments(db):
    employer, (zhang,) = employer_with(db, [("张三", None, None)])
    forms.record_returns(db, employer.id, [returned(zhang, "BOC")], "clerk1")
    assert rec.summary(db, employer.id)["rows"][0]["dept"] == ""
    diffs = rec.reconcile(db, employer.id, {"": {"ICBC": 1}}, 1, 1, "clerk2")
    assert diffs[0]["zh"] == "（未分部门） · 工商银行：汇总表 1 人，清点确认表 0 人"
