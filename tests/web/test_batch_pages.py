"""The batch family's pages 制卡批次页面 (app/web/batch.py, app/web/batch_grid.py): a batch made
by uploading an export, its progress and figures in words, the rejected rows, the employer
page with its documents, the persons grid's entry and review modes (four eyes), the summary
form, the second data collection, the city's configuration; who may see what; bad input."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import event, func, select

from app.engine import jobs
from app.engine.models import AuditEvent
from app.procedures.batch.importing.police_extract import load_extract
from app.procedures.batch.models import Batch, BatchUpload, ContributionRecord, Employer, Person
from app.procedures.batch.states import RULE_ORDER, Eligibility, EmployerStatus
from tests.fixtures_app import Browser
from tests.procedures.batch.conftest import HEADER, POLICE_HEADER, csv_bytes, id_number

REGION = "350581"  # the embedded default city (石狮市): banks ICBC 工商银行, ABC 农业银行
MED, INPATIENT = "职工基本医疗保险", "住院医疗保险"
BEFORE = "2020-03-01"
# key -> (ID number, name, sex)
P = {k: (id_number(f"35058119850101{i:03d}"), n, s) for i, (k, n, s) in enumerate([
    ("a", "陈明", "男"), ("b", "林芳", "女"), ("c", "黄伟", "男"), ("d", "吴静", "女"),
    ("inpatient", "郑强", "男"), ("unknown", "蔡丽", "女")])}
EMPLOYERS = {"E1": "石狮甲服装有限公司", "E2": "石狮乙鞋业有限公司"}


def row(key, employer="E1", insurance=MED, dept1="生产部", dept2=""):
    number, name, sex = P[key]
    return (REGION, employer, EMPLOYERS[employer], dept1, dept2, name, sex, number, insurance, BEFORE)


ROWS = [row("a"), row("b"), row("c", dept1="财务部"), row("d", "E2"), row("inpatient", insurance=INPATIENT),
        row("unknown")]
BAD = [(REGION, "E1", EMPLOYERS["E1"], "", "", "坏号", "男", "350581198501019990", MED, BEFORE)]
CODES = ("excluded_insurance", "not_in_register", "excluded_after_cutoff", "police_mismatch",
         "held_duplicate_region", "entered", "sent_back", "not_returned", "in_production")


def export(rows=ROWS + BAD) -> bytes:
    return csv_bytes(HEADER, rows)


def factory(app):
    return app.extensions["sscard"].session_factory


def browser(app, username) -> Browser:
    web = Browser(app.test_client())
    assert web.login(username).status_code == 302
    return web


def register(app):
    rows = [(n, name, sex, "汉族", "1985-01-01", "石狮市湖滨街道", REGION, "是")
            for key, (n, name, sex) in P.items() if key != "unknown"]
    load_extract(factory(app), csv_bytes(POLICE_HEADER, rows))


def upload(web, content, file_name="export.csv", **fields):
    data = {"name": "2020年第一批", "cutoff": "2020-06-30", "regions": [REGION],
            "file": (io.BytesIO(content), file_name), **fields}
    return web.post("/batches/new", data=data, content_type="multipart/form-data")


def run_jobs(app) -> None:
    with factory(app)() as s:
        ids = s.scalars(select(jobs.BackgroundJob.id).where(jobs.BackgroundJob.state == "queued")
                        .order_by(jobs.BackgroundJob.id)).all()
    for job_id in ids:
        assert jobs.run_now(factory(app), job_id) == "done"


def new_batch(app, web=None, content=None) -> int:
    register(app)
    web = web or browser(app, "centre")
    r = upload(web, content or export())
    assert r.status_code == 302, r.get_data(as_text=True)
    batch_id = int(re.search(r"/batches/(\d+)$", r.headers["Location"]).group(1))
    run_jobs(app)
    return batch_id


def employer_id(app, batch_id, code="E1") -> int:
    with factory(app)() as s:
        return s.scalar(select(Employer.id).where(Employer.batch_id == batch_id, Employer.code == code))


def persons_of(app, eid) -> dict[str, Person]:
    with factory(app)() as s:
        return {p.name: p for p in s.scalars(select(Person).where(Person.employer_id == eid))}


def no_codes(html: str) -> None:
    found = [c for c in CODES if c in html]
    assert found == [], found


# -- the batch ----------------------------------------------------------------------------------

def test_new_batch_runs_its_import_and_shows_figures_in_words(app):
    register(app)
    web = browser(app, "centre")
    form = web.get("/batches/new").get_data(as_text=True)
    assert "石狮市" in form and 'name="regions"' in form
    r = upload(web, export())
    assert r.status_code == 302
    batch_url = r.headers["Location"]
    page = web.get(batch_url).get_data(as_text=True)  # the job waits for a worker
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "<progress" in page and "排队等待" in page
    assert "停止自动刷新" in page
    assert '<meta http-equiv="refresh"' not in web.get(batch_url + "?refresh=off").get_data(as_text=True)
    run_jobs(app)
    page = web.get(batch_url).get_data(as_text=True)
    assert '<meta http-equiv="refresh"' not in page
    assert "已比对，待下发单位" in page  # the batch's status label
    assert re.search(r'id="persons-count">6<', page) and re.search(r'id="eligible-count">4<', page)
    assert re.search(r'id="rejected-count">1', page)
    assert "未参加职工基本医疗保险" in page and "公安户籍库中无此人" in page
    assert "石狮甲服装有限公司" in page and "待下发" in page
    no_codes(page)
    # the list
    listing = web.get("/batches").get_data(as_text=True)
    assert "2020年第一批" in listing and "石狮市" in listing and "已比对，待下发单位" in listing
    assert 'id="nav-batches"' in listing
    with factory(app)() as s:
        [audit] = s.scalars(select(AuditEvent).where(AuditEvent.action == "family")).all()
        assert audit.detail["what"] == "create" and audit.actor == "centre"


def test_english_pages(app):
    batch_id = new_batch(app)
    web = browser(app, "centre")
    page = web.get(f"/batches/{batch_id}?lang=en").get_data(as_text=True)
    assert "Checked, not yet sent to employers" in page and "Not in the police household register" in page
    no_codes(page)


def test_rejected_rows_download_as_csv_with_bom(app):
    batch_id = new_batch(app)
    r = browser(app, "reviewer").get(f"/batches/{batch_id}/rejected.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    body = r.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "校验位" in text and "350581********9990" in text and "350581198501019990" not in text
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]


def test_the_same_file_again_changes_nothing(app):
    batch_id = new_batch(app)
    web = browser(app, "centre")
    r = web.post(f"/batches/{batch_id}/import", data={"file": (io.BytesIO(export()), "again.csv")},
                 page=f"/batches/{batch_id}", content_type="multipart/form-data", follow_redirects=True)
    assert "该文件已导入本批次，未作更改" in r.get_data(as_text=True)
    with factory(app)() as s:
        assert s.scalar(select(func.count()).select_from(BatchUpload)) == 1
        assert s.scalar(select(func.count()).select_from(jobs.BackgroundJob)) == 1
    # another file is imported and the batch checked again
    more = csv_bytes(HEADER, [row("b", "E2")])
    r = web.post(f"/batches/{batch_id}/import", data={"file": (io.BytesIO(more), "more.csv")},
                 page=f"/batches/{batch_id}", content_type="multipart/form-data")
    assert r.status_code == 302
    run_jobs(app)
    with factory(app)() as s:
        assert s.scalar(select(func.count()).select_from(ContributionRecord)) == len(ROWS) + 1


@pytest.mark.parametrize("content, file_name, fields, words", [
    (b"", "export.csv", {}, "文件为空"),
    (b"a,b,c\n1,2,3\n", "export.csv", {}, "表头缺少列"),
    (export().decode("utf-8").encode("gbk"), "export.csv", {}, "不是 UTF-8"),
    (export(), "export.pdf", {}, "CSV"),
    (export(), "export.csv", {"cutoff": "2020-13-40"}, "YYYY-MM-DD"),
    (export(), "export.csv", {"cutoff": ""}, "YYYY-MM-DD"),
    (export(), "export.csv", {"regions": []}, "请至少选择一个参保区域"),
    (export(), "export.csv", {"name": " "}, "请填写批次名称"),
])
def test_a_bad_upload_says_why_and_creates_nothing(app, content, file_name, fields, words):
    web = browser(app, "manager")
    r = upload(web, content, file_name, **fields)
    assert r.status_code == 200
    assert words in r.get_data(as_text=True)
    with factory(app)() as s:
        for table in (Batch, BatchUpload, jobs.BackgroundJob, AuditEvent):
            assert s.scalar(select(func.count()).select_from(table)) == 0, table


def test_no_file_is_refused(app):
    web = browser(app, "centre")
    r = web.post("/batches/new", data={"name": "x", "cutoff": "2020-06-30", "regions": REGION},
                 content_type="multipart/form-data")
    assert "请选择要导入的缴费数据文件" in r.get_data(as_text=True)


def test_files_beyond_the_apps_limit_but_within_64_mb_are_taken(app, monkeypatch):
    line = ",".join(row("a")) + "\n"
    content = (HEADER + "\n" + line * (5 * 1024 * 1024 // len(line.encode()) + 1)).encode()
    assert len(content) > app.config["MAX_CONTENT_LENGTH"]
    r = upload(browser(app, "centre"), content)
    assert r.status_code == 302
    import app.web.batch as pages
    monkeypatch.setattr(pages, "REQUEST_LIMIT", 100_000)
    r = upload(browser(app, "centre"), content)
    assert r.status_code == 413 and "文件超过 64 MB" in r.get_data(as_text=True)


def test_a_bad_id_is_a_404_page_with_words(app):
    web = browser(app, "centre")
    r = web.get("/batches/999999")
    assert r.status_code == 404 and "没有编号为 999999 的制卡批次" in r.get_data(as_text=True)
    r = web.get("/batches/employers/999999/persons")
    assert r.status_code == 404 and "单位申领" in r.get_data(as_text=True)
    assert web.get("/batches/99999999999999999999").status_code == 404


def test_a_window_clerk_gets_403_on_every_batch_page(app):
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    web = browser(app, "window")
    for url in ("/batches", "/batches/new", f"/batches/{batch_id}", f"/batches/{batch_id}/rejected.csv",
                f"/batches/{batch_id}/second-collection", f"/batches/{batch_id}/second-collection.csv",
                f"/batches/employers/{eid}", f"/batches/employers/{eid}/persons",
                f"/batches/employers/{eid}/documents/roster.html", f"/batches/employers/{eid}/declared",
                "/admin/city"):
        assert web.get(url).status_code == 403, url
    for url in (f"/batches/{batch_id}/import", f"/batches/{batch_id}/second-collection/take",
                f"/batches/employers/{eid}/persons/entry", f"/batches/employers/{eid}/persons/review",
                f"/batches/employers/{eid}/declared"):
        assert web.post(url, page="/profile").status_code == 403, url
    assert 'id="nav-batches"' not in web.get("/profile").get_data(as_text=True)


def test_a_batch_of_another_office_is_not_shown(app):
    batch_id = new_batch(app)
    with factory(app)() as s, s.begin():
        s.get(Batch, batch_id).office = "XM-CENTRE"
    web = browser(app, "centre")
    assert web.get(f"/batches/{batch_id}").status_code == 403
    assert web.get(f"/batches/employers/{employer_id(app, batch_id)}").status_code == 403
    assert "2020年第一批" not in web.get("/batches").get_data(as_text=True)
    assert browser(app, "admin").get(f"/batches/{batch_id}").status_code == 200


# -- the second data collection --------------------------------------------------------------------

def test_not_eligible_persons_are_listed_and_taken_into_a_later_batch(app):
    batch_id = new_batch(app)
    web = browser(app, "centre")
    page = web.get(f"/batches/{batch_id}/second-collection").get_data(as_text=True)
    assert "郑强" in page and "蔡丽" in page and "350581********" in page and P["inpatient"][0] not in page
    no_codes(page)
    csv_text = web.get(f"/batches/{batch_id}/second-collection.csv").get_data().decode("utf-8-sig")
    assert "郑强" in csv_text and P["inpatient"][0] not in csv_text
    # no later batch yet
    assert "没有可纳入的后续批次" in page
    later = new_batch(app, web, csv_bytes(HEADER, [row("a", "E2")]))
    reason = RULE_ORDER.index(Eligibility.EXCLUDED_INSURANCE) + 1  # query values: 1-based positions
    r = web.post(f"/batches/{batch_id}/second-collection/take",
                 data={"reason": str(reason), "target": str(later), "scope": "all"},
                 page=f"/batches/{batch_id}/second-collection", follow_redirects=True)
    assert "已将 1 人纳入后续批次" in r.get_data(as_text=True)
    with factory(app)() as s:
        taken = s.scalars(select(Person).where(Person.taken_into == later)).all()
        assert [p.name for p in taken] == ["郑强"]
    assert "郑强" not in web.get(f"/batches/{batch_id}/second-collection").get_data(as_text=True)
    # none ticked
    r = web.post(f"/batches/{batch_id}/second-collection/take", data={"target": str(later)},
                 page=f"/batches/{batch_id}/second-collection", follow_redirects=True)
    assert "请勾选" in r.get_data(as_text=True)


# -- the employer application ----------------------------------------------------------------------

def test_employer_page_and_documents(app):
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    web = browser(app, "centre")
    page = web.get(f"/batches/employers/{eid}").get_data(as_text=True)
    assert "石狮甲服装有限公司" in page and "待下发" in page and "确认表未返回" in page
    assert "尚未登记申领凭证" in page and "尚未填写单位的申领汇总表" in page
    assert f"/batches/employers/{eid}/documents/roster.xlsx" in page
    r = web.get(f"/batches/employers/{eid}/documents/roster.html")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert P["a"][0] in r.get_data(as_text=True)  # the paper carries the full number
    assert "documents.css" in r.get_data(as_text=True)
    r = web.get(f"/batches/employers/{eid}/documents/roster.xlsx")
    assert r.status_code == 200 and r.get_data()[:2] == b"PK"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "%E8%8A%B1%E5%90%8D%E5%86%8C" in disposition  # 花名册
    assert web.get(f"/batches/employers/{eid}/documents/roster.doc").status_code == 404
    assert web.get(f"/batches/employers/{eid}/documents/nothing.html").status_code == 404
    with factory(app)() as s:
        docs = [a.detail for a in s.scalars(select(AuditEvent).where(AuditEvent.action == "family"))
                if a.detail["what"] == "document"]
        assert [(d["kind"], d["format"]) for d in docs] == [("roster", "html"), ("roster", "xlsx")]


def test_voucher_history_is_masked(app):
    from app.procedures.batch import voucher
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    agent = id_number("35058119700101123")
    with factory(app)() as s, s.begin():
        voucher.record_voucher(s, "E1", EMPLOYERS["E1"], [{"name": "许经办", "id_number": agent,
                                                            "mobile": "13800138000"}], "centre")
        voucher.record_voucher(s, "E1", EMPLOYERS["E1"], [{"name": "施经办", "id_number": agent,
                                                            "mobile": "13900139000"}], "centre")
    page = browser(app, "centre").get(f"/batches/employers/{eid}").get_data(as_text=True)
    assert "现行凭证（第 2 版）" in page and "第 1 版（已被替换）" in page
    assert "施经办" in page and "许经办" in page
    assert agent not in page and "13800138000" not in page and "138****8000" in page


def _entry_form(app, eid, rows: dict) -> dict:
    """A posted entry page: {name: {field: value}} for the given persons."""
    persons = persons_of(app, eid)
    data = {"page": "1", "person": [str(persons[name].id) for name in rows]}
    for name, fields in rows.items():
        pid = persons[name].id
        for key, value in fields.items():
            data[f"{key}-{pid}"] = value
    return data


OK_ROW = {"returned": "1", "bank": "ICBC", "mobile": "13800138001", "dept1": "生产部"}


def test_grid_pages_take_one_query_per_page(app):
    batch_id = new_batch(app)
    with factory(app)() as s, s.begin():
        big = Employer(batch_id=batch_id, code="BIG", name="大单位", region=REGION, eligible=1000)
        s.add(big)
        s.flush()
        s.add_all(Person(batch_id=batch_id, employer_id=big.id, id_number=f"9{i:017d}", name=f"人员{i}",
                         sex="1", eligibility="eligible", seq=i + 1, entry="out") for i in range(1000))
        eid = big.id
    web = browser(app, "centre")
    web.get(f"/batches/employers/{eid}/persons?page=10&mode=entry")  # warm: templates compiled
    engine = app.extensions["sscard"].engine
    statements = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        r = web.get(f"/batches/employers/{eid}/persons?page=10")  # timed in bench/bench_batch_grid.py
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "人员450" in page and "人员499" in page and "人员500" not in page
    persons = [s for s in statements if "FROM batch_person" in s]
    assert len(persons) == 1, persons  # the page and its total in one query, no N+1
    assert len(statements) < 15, statements
    assert "第 10 / 20 页" in page


def test_entry_mode_saves_a_page_and_review_mode_accepts_or_sends_back(app):
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    web = browser(app, "centre")
    page = web.get(f"/batches/employers/{eid}/persons?mode=entry").get_data(as_text=True)
    assert 'name="returned-' in page and "工商银行" in page and "农业银行" in page
    no_codes(page)
    data = _entry_form(app, eid, {"陈明": OK_ROW, "林芳": {**OK_ROW, "bank": "ABC", "mobile": "13800138002"},
                                  "黄伟": {"returned": "0"}})
    r = web.post(f"/batches/employers/{eid}/persons/entry", data=data,
                 page=f"/batches/employers/{eid}/persons?mode=entry", follow_redirects=True)
    assert "已保存 3 份确认表登记" in r.get_data(as_text=True)
    persons = persons_of(app, eid)
    assert (persons["陈明"].entry, persons["陈明"].bank, persons["陈明"].mobile) == ("entered", "ICBC", "13800138001")
    assert persons["黄伟"].entry == "not_returned"
    grid = web.get(f"/batches/employers/{eid}/persons").get_data(as_text=True)
    assert "已录入，待复核" in grid and "138****8001" in grid and "13800138001" not in grid
    no_codes(grid)
    # saving the page unchanged sends nothing (a blank mobile keeps the one entered)
    r = web.post(f"/batches/employers/{eid}/persons/entry", data=data | {"mobile-%d" % persons["陈明"].id: ""},
                 page=f"/batches/employers/{eid}/persons?mode=entry", follow_redirects=True)
    assert "本页没有需要保存的更改" in r.get_data(as_text=True)
    # the reviewer
    rv = browser(app, "reviewer")
    page = rv.get(f"/batches/employers/{eid}/persons?mode=review").get_data(as_text=True)
    assert f'name="decision-{persons["陈明"].id}"' in page
    no_codes(page)
    a, b = persons["陈明"].id, persons["林芳"].id
    r = rv.post(f"/batches/employers/{eid}/persons/review",
                data={"person": [str(a), str(b)], f"decision-{a}": "accept", f"decision-{b}": "sendback"},
                page=f"/batches/employers/{eid}/persons?mode=review")
    assert "退回时请写明退回原因" in r.get_data(as_text=True)  # nothing saved
    assert persons_of(app, eid)["陈明"].entry == "entered"
    r = rv.post(f"/batches/employers/{eid}/persons/review",
                data={"person": [str(a), str(b)], f"decision-{a}": "accept", f"decision-{b}": "sendback",
                      f"note-{b}": "手机号码与确认表不符"},
                page=f"/batches/employers/{eid}/persons?mode=review", follow_redirects=True)
    assert "通过 1 份，退回 1 份" in r.get_data(as_text=True)
    persons = persons_of(app, eid)
    assert persons["陈明"].entry == "accepted" and persons["林芳"].entry == "sent_back"
    assert persons["林芳"].review_note == "手机号码与确认表不符"
    grid = web.get(f"/batches/employers/{eid}/persons").get_data(as_text=True)
    assert "手机号码与确认表不符" in grid and "复核退回，待更正" in grid
    with factory(app)() as s:
        whats = [a.detail["what"] for a in s.scalars(select(AuditEvent).where(AuditEvent.action == "family"))]
        assert whats.count("entry") == 1 and whats.count("review") == 1


def test_a_row_with_two_banks_or_none_is_refused_with_the_name_and_nothing_saved(app):
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    web = browser(app, "centre")
    data = _entry_form(app, eid, {"陈明": {**OK_ROW, "bank": ["ICBC", "ABC"]},
                                  "林芳": {**OK_ROW, "bank": "", "mobile": "13800138002"},
                                  "黄伟": OK_ROW})
    r = web.post(f"/batches/employers/{eid}/persons/entry", data=data,
                 page=f"/batches/employers/{eid}/persons?mode=entry")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "未保存" in page
    assert "陈明" in page and "勾选了 2 家银行" in page and "林芳" in page and "未勾选银行" in page
    assert re.search(r'class="row-error">.*?陈明.*?勾选了 2 家银行', page, re.S)
    assert 'value="13800138002"' in page  # what was typed stays on the page
    assert {p.entry for p in persons_of(app, eid).values()} == {"out"}


def test_the_same_clerk_cannot_review_their_own_entries(app):
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    admin = browser(app, "admin")  # in every group: may enter and review, but not both
    r = admin.post(f"/batches/employers/{eid}/persons/entry", data=_entry_form(app, eid, {"陈明": OK_ROW}),
                   page=f"/batches/employers/{eid}/persons?mode=entry", follow_redirects=True)
    assert "已保存 1 份" in r.get_data(as_text=True)
    pid = persons_of(app, eid)["陈明"].id
    r = admin.post(f"/batches/employers/{eid}/persons/review",
                   data={"person": str(pid), f"decision-{pid}": "accept"},
                   page=f"/batches/employers/{eid}/persons?mode=review")
    assert "录入与复核不能为同一人" in r.get_data(as_text=True)
    assert persons_of(app, eid)["陈明"].entry == "entered"
    # a centre clerk may not review, a reviewer may not enter
    assert browser(app, "centre").post(f"/batches/employers/{eid}/persons/review",
                                       data={"person": str(pid), f"decision-{pid}": "accept"},
                                       page="/profile").status_code == 403
    assert browser(app, "reviewer").post(f"/batches/employers/{eid}/persons/entry",
                                         data=_entry_form(app, eid, {"林芳": OK_ROW}),
                                         page="/profile").status_code == 403


def test_the_declared_summary_is_stored(app):
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    web = browser(app, "centre")
    web.post(f"/batches/employers/{eid}/persons/entry", data=_entry_form(app, eid, {"陈明": OK_ROW}),
             page=f"/batches/employers/{eid}/persons?mode=entry")
    page = web.get(f"/batches/employers/{eid}/declared").get_data(as_text=True)
    assert 'value="生产部"' in page and "工商银行" in page
    form = {"rows": "4", "dept-0": "生产部", "n-0-ICBC": "1", "n-0-ABC": "",
            "dept-1": "财务部 / 出纳组", "n-1-ABC": "2", "received": "3", "returned": "3"}
    r = web.post(f"/batches/employers/{eid}/declared", data=form | {"n-1-ABC": "-2", "returned": ""})
    text = r.get_data(as_text=True)
    assert "人数“-2”应为不小于 0 的整数" in text and "份数（不小于 0 的整数）" in text
    r = web.post(f"/batches/employers/{eid}/declared", data=form | {"n-0-XYZ": "1"})
    assert "不是本市合作银行" in r.get_data(as_text=True)
    r = web.post(f"/batches/employers/{eid}/declared", data=form | {"dept-2": "甲/乙/丙", "n-2-ICBC": "1"})
    assert "超过两级" in r.get_data(as_text=True)
    with factory(app)() as s:
        assert s.get(Employer, eid).declared is None
    r = web.post(f"/batches/employers/{eid}/declared", data=form, follow_redirects=True)
    assert "申领汇总表已保存" in r.get_data(as_text=True)
    with factory(app)() as s:
        e = s.get(Employer, eid)
        assert e.declared == {"生产部": {"ICBC": 1}, "财务部 / 出纳组": {"ABC": 2}}
        assert (e.forms_received, e.forms_returned) == (3, 3)
    page = web.get(f"/batches/employers/{eid}").get_data(as_text=True)
    assert "财务部 / 出纳组" in page and "收到《确认表》共计 3 份" in page
    # once submitted, closed
    with factory(app)() as s, s.begin():
        from app.common.clock import utcnow
        e = s.get(Employer, eid)
        e.submitted_at, e.status = utcnow(), EmployerStatus.SUBMITTED
    r = web.post(f"/batches/employers/{eid}/declared", data=form)
    assert "已于" in r.get_data(as_text=True) and "提交申领" in r.get_data(as_text=True)


def test_differences_read_as_sentences(app):
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    with factory(app)() as s, s.begin():
        s.get(Employer, eid).differences = [{"what": "total", "dept": None, "bank": None, "declared": 3,
                                              "counted": 2, "zh": "合计：汇总表 3 人，清点确认表 2 人",
                                              "en": "Total: summary 3, forms counted 2"}]
    web = browser(app, "centre")
    assert "合计：汇总表 3 人，清点确认表 2 人" in web.get(f"/batches/employers/{eid}").get_data(as_text=True)
    assert "Total: summary 3, forms counted 2" in web.get(f"/batches/employers/{eid}?lang=en").get_data(as_text=True)


# -- the city ----------------------------------------------------------------------------------------

def test_the_city_configuration_page(app):
    web = browser(app, "admin")
    page = web.get("/admin/city").get_data(as_text=True)
    assert 'value="石狮市"' in page and 'value="ICBC"' in page
    form = {"action": "save", "city": "宁波市", "region-code-0": "330200", "region-name-0": "市区",
            "region-code-1": "330282", "region-name-1": "慈溪", "bank-code-0": "ICBC",
            "bank-name-0": "中国工商银行", "bank-short_name-0": "工商银行",
            "bank-code-1": "ABC", "bank-name-1": "中国农业银行", "bank-short_name-1": "农业银行",
            "bank-remove-1": "1"}
    r = web.post("/admin/city", data=form | {"region-code-1": "33028"})
    assert "6 位区划代码" in r.get_data(as_text=True)
    r = web.post("/admin/city", data=form, follow_redirects=True)
    assert "本市配置已保存" in r.get_data(as_text=True)
    from app.procedures.batch import city
    with factory(app)() as s:
        c = city.current(s)
        assert c.name == "宁波市" and list(c.regions) == ["330200", "330282"] and list(c.banks) == ["ICBC"]
    config = b'{"city": "\xe7\x9f\xb3\xe7\x8b\xae\xe5\xb8\x82", "regions": [{"code": "350581", "name": "x"}], "banks": []}'
    r = web.post("/admin/city", data={"action": "upload", "config": (io.BytesIO(config), "c.json")},
                 content_type="multipart/form-data")
    assert "至少应有一家合作银行" in r.get_data(as_text=True)
    assert browser(app, "centre").get("/admin/city").status_code == 403


def test_an_agent_is_checked_against_the_current_voucher(app):
    from app.procedures.batch import voucher
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    first, second = id_number("35058119750505123"), id_number("35058119760606123")
    with factory(app)() as s, s.begin():
        voucher.record_voucher(s, "E1", EMPLOYERS["E1"], [{"name": "陈经办", "mobile": "13905950001",
                                                            "id_number": first}], "centre")
        voucher.record_voucher(s, "E1", EMPLOYERS["E1"], [{"name": "林经办", "mobile": "13905950002",
                                                            "id_number": second}], "centre")
    web = browser(app, "centre")
    page = f"/batches/employers/{eid}"
    r = web.post(f"{page}/agent-check", {"id_number": second}, page=page, follow_redirects=True)
    assert "核验通过：林经办" in r.get_data(as_text=True) and "第 2 版" in r.get_data(as_text=True)
    r = web.post(f"{page}/agent-check", {"id_number": first}, page=page, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "已不在单位现行申领凭证" in html and first not in html
    with factory(app)() as s:
        checks = [a.detail["ok"] for a in s.scalars(select(AuditEvent).where(AuditEvent.action == "family"))
                  if a.detail.get("what") == "agent_check"]
    assert checks == [True, False]


def test_pdfs_are_made_by_a_job_then_downloaded(app):
    batch_id = new_batch(app)
    eid = employer_id(app, batch_id)
    web = browser(app, "centre")
    page = f"/batches/employers/{eid}"
    assert web.get(f"{page}/documents/roster.pdf").status_code == 404  # not made yet: says so
    r = web.post(f"{page}/documents/roster.pdf/make", {}, page=page, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "正在生成 PDF" in html and "PDF 生成中" in html and 'http-equiv="refresh"' in html
    run_jobs(app)
    html = web.get(page).get_data(as_text=True)
    assert "重新生成 PDF" in html and 'http-equiv="refresh"' not in html
    r = web.get(f"{page}/documents/roster.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF") and r.mimetype == "application/pdf"
    assert web.post(f"{page}/documents/nothing.pdf/make", {}, page=page).status_code == 404


def test_the_register_extract_is_imported_by_a_job_from_its_page(app):
    from app.adapters.police import PoliceRegisterPerson
    web = browser(app, "admin")
    good = (P["a"][0], "陈明", "男", "汉族", "1985-01-01", "石狮市湖滨街道", REGION, "是")
    bad = ("350581198501019990", "坏号", "男", "汉族", "1985-01-01", "", REGION, "是")
    content = csv_bytes(POLICE_HEADER, [good, bad])
    r = web.post("/admin/police-register", {"file": (io.BytesIO(content), "police.csv")},
                 page="/admin/police-register", content_type="multipart/form-data", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "已开始导入公安户籍数据" in html and "导入中" in html
    run_jobs(app)
    html = web.get("/admin/police-register").get_data(as_text=True)
    assert "共 2 行，载入 1 人，1 行无法读取" in html and "第 3 行" in html
    with factory(app)() as s:
        assert s.get(PoliceRegisterPerson, P["a"][0]).name == "陈明"
    r = web.post("/admin/police-register", {}, page="/admin/police-register")
    assert "请选择公安户籍数据文件" in r.get_data(as_text=True)
    assert browser(app, "centre").get("/admin/police-register").status_code == 403
