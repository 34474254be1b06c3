"""The eligibility rules of a batch, one by one and in combination: the order decides
(issue: 1 cut-off, 2 insurance, 3 duplicate region, 4 police, 5 eligible)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.engine import jobs
from app.procedures.batch.importing import service
from app.procedures.batch.importing.police_extract import load_extract
from app.procedures.batch.models import ContributionRecord, Employer, Person, RejectedRow
from tests.procedures.batch.conftest import HEADER, POLICE_HEADER, csv_bytes, id_number

MED, INPATIENT, PENSION, MIGRANT = "职工基本医疗保险", "住院医疗保险", "基本养老保险", "外来工大病医疗保险"
CITY, CIXI, YUYAO = "330200", "330282", "330281"
BEFORE, AFTER = "2011-06-01", "2011-10-01"
CUTOFF = date(2011, 8, 31)

# person key -> (ID number, name, sex)
P = {k: (id_number(f"33020319800101{i:03d}"), n, s) for i, (k, n, s) in enumerate([
    ("ok", "单田芳", "男"), ("after", "曾国藩", "男"), ("inpatient", "解缙", "男"),
    ("dup", "仇英", "女"), ("after_and_inpatient", "区寄", "男"), ("dup_after", "朴槿", "女"),
    ("not_in_register", "查良", "男"), ("non_local", "盖聂", "男"), ("no_second", "覃华", "女"),
    ("name_differs", "张伟", "男"), ("sex_differs", "李娜", "女"), ("non_local_and_name", "王芳", "女"),
    ("dup_not_in_register", "赵敏", "女"), ("outside_only", "钱七", "男"), ("region_wins", "孙八", "男"),
    ("migrant_only", "周九", "男"),
])}


def row(key, region, insurance, day, employer="E1", dept1="一分厂", dept2=None):
    number, name, sex = P[key]
    names = {"E1": "宁波甲机械有限公司", "E2": "慈溪乙电器有限公司", "E3": "余姚丙塑料厂"}
    return (region, employer, names[employer], dept1, dept2 or "", name, sex, number, insurance, day)


ROWS = [
    row("ok", CITY, MED, BEFORE), row("ok", CITY, PENSION, BEFORE),
    row("after", CITY, MED, AFTER),
    row("inpatient", CITY, INPATIENT, BEFORE),
    row("dup", CITY, MED, BEFORE), row("dup", YUYAO, MED, BEFORE, "E3"),
    row("after_and_inpatient", CITY, MED, AFTER), row("after_and_inpatient", CITY, INPATIENT, BEFORE),
    row("dup_after", CITY, MED, BEFORE), row("dup_after", YUYAO, MED, AFTER, "E3"),
    row("not_in_register", CITY, MED, BEFORE),
    row("non_local", CITY, MED, BEFORE),
    row("no_second", CITY, MED, BEFORE),
    row("name_differs", CITY, MED, BEFORE),
    row("sex_differs", CITY, MED, BEFORE),
    row("non_local_and_name", CITY, MED, BEFORE),
    row("dup_not_in_register", CITY, MED, BEFORE), row("dup_not_in_register", YUYAO, MED, BEFORE, "E3"),
    row("outside_only", YUYAO, MED, BEFORE, "E3"),
    # medical in 慈溪 wins over the pension in 市区: region and employer of the medical record
    row("region_wins", CITY, PENSION, BEFORE, "E1"), row("region_wins", CIXI, MED, BEFORE, "E2", "车间"),
    row("migrant_only", CIXI, MIGRANT, BEFORE, "E2"), row("migrant_only", YUYAO, MED, BEFORE, "E3"),
]
BAD_ROWS = [
    (CITY, "E1", "宁波甲机械有限公司", "", "", "坏号", "男", "330203198001019990", MED, BEFORE),
    (CITY, "E1", "宁波甲机械有限公司", "", "", "", "男", P["ok"][0], PENSION, "2010-01-01"),
    (CITY, "E1", "宁波甲机械有限公司", "", "", "日期", "男", P["ok"][0], MED, "2011/06/01"),
    (CITY, "E1", "宁波甲机械有限公司", "", "", "险种", "男", P["ok"][0], "商业保险", BEFORE),
    ("310000", "E1", "宁波甲机械有限公司", "", "", "外地", "男", P["ok"][0], MED, BEFORE),
    row("ok", CITY, MED, BEFORE),  # the same record again
]


def register_rows():
    rows = []
    for key, (number, name, sex) in P.items():
        if key in ("not_in_register", "dup_not_in_register"):
            continue
        region, second = "330203", "是"
        if key in ("non_local", "non_local_and_name"):
            region = "350581"
        if key == "no_second":
            second = "否"
        if key in ("name_differs", "non_local_and_name"):
            name = name + "华"
        if key == "sex_differs":
            sex = "男"
        rows.append((number, name, sex, "汉族", "1980-01-01", "宁波市海曙区", region, second))
    return rows


def run_batch(factory, content, regions=(CITY, CIXI), cutoff=CUTOFF):
    load_extract(factory, csv_bytes(POLICE_HEADER, register_rows()))
    with factory() as s, s.begin():
        batch = service.create_batch(s, "第一批", cutoff, list(regions), "tester")
        upload = service.store_upload(s, batch, "export.csv", content, "tester")
        job = service.enqueue_import(s, batch, upload, "tester")
        batch_id, job_id = batch.id, job.id
    assert jobs.run_now(factory, job_id) == "done"
    with factory() as s:
        return batch_id, s.get(jobs.BackgroundJob, job_id).result


def status_of(factory, batch_id):
    with factory() as s:
        return {n: e for n, e in s.execute(select(Person.id_number, Person.eligibility)
                                           .where(Person.batch_id == batch_id))}


def test_each_rule_and_their_order(factory):
    batch_id, result = run_batch(factory, csv_bytes(HEADER, ROWS + BAD_ROWS))
    got = status_of(factory, batch_id)
    expected = {
        "ok": "eligible", "after": "excluded_after_cutoff", "inpatient": "excluded_insurance",
        "dup": "held_duplicate_region", "after_and_inpatient": "excluded_after_cutoff",
        "dup_after": "eligible", "not_in_register": "not_in_register", "non_local": "not_local_household",
        "no_second": "no_second_gen_id", "name_differs": "police_mismatch",
        "sex_differs": "police_mismatch", "non_local_and_name": "not_local_household",
        "dup_not_in_register": "held_duplicate_region", "region_wins": "eligible",
        "migrant_only": "excluded_insurance",
    }
    assert {k: got[P[k][0]] for k in expected} == expected
    assert P["outside_only"][0] not in got  # no record in the batch's regions: not a person
    assert result == {
        "batch": batch_id, "rows": len(ROWS) + len(BAD_ROWS), "rejected_rows": len(BAD_ROWS),
        "persons": 15, "eligible": 3, "held_duplicate_region": 2, "excluded_insurance": 2,
        "excluded_after_cutoff": 2, "not_in_register": 1, "not_local_household": 2,
        "no_second_gen_id": 1, "police_mismatch": 2, "employers": 2}


def test_medical_region_wins_and_register_completes(factory):
    batch_id, _ = run_batch(factory, csv_bytes(HEADER, ROWS))
    with factory() as s:
        p = s.scalars(select(Person).where(Person.batch_id == batch_id,
                                           Person.id_number == P["region_wins"][0])).one()
        assert (p.region, p.employer_code, p.dept1) == (CIXI, "E2", "车间")
        assert (p.ethnicity, p.household_address, p.household_region) == ("01", "宁波市海曙区", "330203")
        m = s.scalars(select(Person).where(Person.batch_id == batch_id,
                                           Person.id_number == P["name_differs"][0])).one()
        assert m.detail == {"registered": {"name": "张伟华"}}
        employers = {e.code: (e.eligible, e.not_eligible) for e in s.scalars(
            select(Employer).where(Employer.batch_id == batch_id))}
        assert employers["E2"] == (1, 1) and employers["E1"][0] == 2


def test_rejected_rows_have_line_and_reason(factory):
    batch_id, _ = run_batch(factory, csv_bytes(HEADER, ROWS + BAD_ROWS, bom=True))
    with factory() as s:
        rejected = {r.row_no: r.reason_zh for r in s.scalars(
            select(RejectedRow).where(RejectedRow.batch_id == batch_id))}
    first_bad = len(ROWS) + 2
    assert "校验位" in rejected[first_bad]
    assert "缺少姓名" in rejected[first_bad + 1]
    assert "YYYY-MM-DD" in rejected[first_bad + 2]
    assert "商业保险" in rejected[first_bad + 3]
    assert "不是本市的参保区域" in rejected[first_bad + 4]
    assert "重复" in rejected[first_bad + 5]
    assert all("19990" not in r.raw for r in s.scalars(select(RejectedRow)))  # masked


def test_rerunning_the_job_changes_nothing(factory):
    batch_id, first = run_batch(factory, csv_bytes(HEADER, ROWS))
    with factory() as s, s.begin():
        job = service.import_job(s, batch_id)
        job.state, job.checkpoint = "queued", None  # as if it had to start again from the top
        job_id = job.id
    assert jobs.run_now(factory, job_id) == "done"
    with factory() as s:
        assert s.get(jobs.BackgroundJob, job_id).result == first
        assert s.scalar(select(func.count()).select_from(ContributionRecord)
                        .where(ContributionRecord.batch_id == batch_id)) == len(ROWS)


def test_roster_is_in_pinyin_order(factory):
    from app.procedures.batch.rosters import roster
    batch_id, _ = run_batch(factory, csv_bytes(HEADER, ROWS))
    with factory() as s:
        names = [r["name"] for r in roster(s, batch_id, "E1")]
        assert names == ["朴槿", "单田芳"]  # Piáo before Shàn (单 read as a surname)
        assert roster(s, batch_id, "E1")[0]["id_number"].count("*") >= 8
        assert roster(s, batch_id, "NOPE") is None
