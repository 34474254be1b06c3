"""Documents per employer 单位单据 (seed 001 annexes 1-6): rendered from a migrated SQLite
database, the PDF's text read back with pypdf, the Excel files opened with openpyxl."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import sessionmaker

from app.engine.db import make_engine
from app.migrate import upgrade
from app.procedures.batch import city
from app.procedures.batch.documents import (
    DOCUMENTS,
    DocumentError,
    render_html,
    render_pdf,
    render_xlsx,
)
from app.procedures.batch.models import Batch, Employer, Person, Voucher, VoucherAgent
from app.procedures.batch.pinyin import roster_key

NINGBO = city.CITIES_DIR / "ningbo.json"

# (name, sex, dept1, dept2, id body) of the employer's eligible persons, in no particular order
STAFF = [
    ("曾国藩", "1", "销售部", "华东区", "35058119800101001"),
    ("单田芳", "1", "销售部", None, "35058119800101002"),
    ("沈腾", "1", "财务部", None, "35058119800101003"),
    ("欧阳娜娜", "2", "销售部", "华东区", "35058119800101004"),
    ("区志伟", "1", None, None, "35058119800101005"),
]
ROSTER_ORDER = ["欧阳娜娜", "区志伟", "单田芳", "沈腾", "曾国藩"]   # ou'y, ou'z, shan, shen, zeng


def id_number(body17: str) -> str:
    from stdnum.cn import ric
    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    """A migrated SQLite database with two employers of one batch: ``numbered`` (the import
    numbered its roster: seq) and ``unnumbered`` (no seq yet: roster_key order)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('documents') / 'docs.db'}"
    upgrade(url)
    engine = make_engine(url)
    f = sessionmaker(bind=engine, expire_on_commit=False)
    with f() as s, s.begin():
        batch = Batch(name="2026年第一批", cutoff=date(2026, 6, 30), regions=["350581"],
                      created_by="test")
        s.add(batch)
        s.flush()
        numbered = Employer(batch_id=batch.id, code="3505810001", name="石狮市<示例>服装有限公司",
                            region="350581")
        unnumbered = Employer(batch_id=batch.id, code="3505810002", name="石狮市鞋业公司",
                              region="330200")
        s.add_all([numbered, unnumbered])
        s.flush()
        seqs = {n: i for i, n in enumerate(sorted((p[0] for p in STAFF), key=roster_key), 1)}
        for name, sex, d1, d2, body in STAFF:
            s.add(Person(batch_id=batch.id, employer_id=numbered.id, id_number=id_number(body),
                         name=name, sex=sex, dept1=d1, dept2=d2, eligibility="eligible",
                         police_name=name, police_sex=sex, ethnicity="01",
                         sort_key=roster_key(name), seq=seqs[name]))
        # not eligible: on no document
        s.add(Person(batch_id=batch.id, employer_id=numbered.id, name="仇英", sex="1",
                     id_number=id_number("35058119800101006"), eligibility="not_in_register"))
        for i, name in enumerate(["查理", "艾青", "王安"]):
            s.add(Person(batch_id=batch.id, employer_id=unnumbered.id, name=name, sex="2",
                         id_number=id_number(f"3302001990010100{i}"), eligibility="eligible",
                         police_name=name, police_sex="2", ethnicity="04"))
    ids = {"numbered": numbered.id, "unnumbered": unnumbered.id}
    yield f, ids
    engine.dispose()


@pytest.fixture
def session(factory):
    """A session whose changes (a city configuration, a voucher) are rolled back."""
    with factory[0]() as s:
        yield s
        s.rollback()


@pytest.fixture
def numbered(factory):
    return factory[1]["numbered"]


@pytest.fixture
def unnumbered(factory):
    return factory[1]["unnumbered"]


def pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF")
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def squeezed(text: str) -> str:
    """Text without white space: an ID number in boxes reads "3 5 0 5 ..."."""
    return re.sub(r"\s+", "", text)


def in_order(text: str, names: list[str]) -> bool:
    positions = [text.find(n) for n in names]
    return -1 not in positions and positions == sorted(positions)


def workbook(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def ningbo(session):
    city.apply(session, city.load_file(NINGBO))


# -- the catalogue and the errors

def test_catalogue():
    assert set(DOCUMENTS) == {"roster", "confirmation", "notice", "summary", "not_returned",
                              "voucher"}
    for kind, (zh, en, formats) in DOCUMENTS.items():
        assert zh and en and {"html", "pdf"} <= set(formats)
    assert {k for k, v in DOCUMENTS.items() if "xlsx" in v[2]} == {"roster", "summary",
                                                                   "not_returned"}


@pytest.mark.parametrize("call", [
    lambda s, e: render_html(s, "handover", e),
    lambda s, e: render_pdf(s, "nonsense", e),
    lambda s, e: render_xlsx(s, "notice", e),          # a notice is no table
    lambda s, e: render_xlsx(s, "confirmation", e),
    lambda s, e: render_html(s, "roster", 999_999),
    lambda s, e: render_pdf(s, "roster", "abc"),
    lambda s, e: render_xlsx(s, "roster", None),
])
def test_unknown_document_format_or_employer(session, numbered, call):
    with pytest.raises(DocumentError) as err:
        call(session, numbered)
    assert err.value.kind == "not_found" and err.value.message_zh and err.value.message_en


# -- 花名册 comparison roster (annex 3)

def test_roster_pdf_lists_the_eligible_persons_in_roster_order(session, numbered):
    [text] = pages(render_pdf(session, "roster", numbered))
    assert "用人单位职工社保卡个人信息比对花名册" in text
    assert "参保区域：石狮市" in text and "石狮市<示例>服装有限公司" in text
    assert in_order(text, ROSTER_ORDER)
    assert "共计 5 人" in text
    assert "仇英" not in text                             # not eligible
    for _, _, _, _, body in STAFF:
        assert id_number(body) in text                    # the full ID number: a paper form


def test_roster_without_numbers_follows_the_pinyin(session, unnumbered):
    [text] = pages(render_pdf(session, "roster", unnumbered))
    assert in_order(text, ["艾青", "王安", "查理"]) and "共计 3 人" in text


def test_roster_xlsx(session, numbered):
    ws = workbook(render_xlsx(session, "roster", numbered))
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "用人单位职工社保卡个人信息比对花名册"
    assert rows[1][:6] == ("参保区域", "石狮市", "单位社保编码", "3505810001", "单位名称",
                           "石狮市<示例>服装有限公司")
    assert rows[3][:5] == ("序号", "姓名", "身份证号", "性别", "二维码编号")
    body = rows[4:9]
    assert [r[0] for r in body] == [1, 2, 3, 4, 5]
    assert [r[1] for r in body] == ROSTER_ORDER
    assert body[0][2] == id_number("35058119800101004") and body[0][3] == "女"
    assert isinstance(body[0][2], str)                    # the ID number stays text
    assert rows[9][0] == "共计 5 人"


# -- 确认表 personal confirmation forms (annex 2)

def test_confirmation_one_page_per_person_default_city(session, numbered):
    texts = pages(render_pdf(session, "confirmation", numbered))
    assert len(texts) == 5
    for name, text in zip(ROSTER_ORDER, texts):
        assert "石狮市社会保障卡个人信息确认及申领表" in text
        assert text.count(name) == 2                      # 社保参保信息 and 公安户籍信息
        assert "汉族" in text and "单位社保编码：3505810001" in text
        assert "中国工商银行" in text and "中国农业银行" in text and "中国建设银行" not in text
        assert "社保卡业务专用章" in text and "复核人" in text and "粘贴此处" in text
    staff = {n: id_number(b) for n, _, _, _, b in STAFF}
    assert squeezed(texts[0]).count(staff["欧阳娜娜"]) == 2


def test_confirmation_with_the_ningbo_configuration(session, unnumbered):
    ningbo(session)
    texts = pages(render_pdf(session, "confirmation", unnumbered))
    assert len(texts) == 3
    for name, text in zip(["艾青", "王安", "查理"], texts):
        assert name in text and "藏族" in text
        assert "宁波市社会保障卡个人信息确认及申领表" in text and "参保区域：市区" in text
        assert all(b in text for b in ("中国工商银行", "中国建设银行", "中国银行"))
        assert "中国农业银行" not in text
        assert "宁波市公安户籍信息中无该参保人信息" in squeezed(text)


def test_confirmation_reprinted_after_entry_shows_what_was_entered(session, unnumbered):
    person = session.query(Person).filter_by(employer_id=unnumbered, name="王安").one()
    person.mobile, person.address, person.bank = "13800000000", "石狮市湖滨路1号", "ABC"
    session.flush()
    page = render_html(session, "confirmation", unnumbered)
    assert "13800000000" in page and "石狮市湖滨路1号" in page
    assert re.search(r'<span class="tick">√</span>中国农业银行', page)
    assert re.search(r'<span class="tick"></span>中国工商银行', page)


# -- 告知书 notice (annex 6)

def test_notice_default_city(session, numbered):
    [text] = pages(render_pdf(session, "notice", numbered))
    assert "石狮市单位职工社会保障卡申领办理告知书" in text
    assert "工商银行和农业银行" in text and "两家银行" in text


def test_notice_ningbo(session, numbered):
    ningbo(session)
    [text] = pages(render_pdf(session, "notice", numbered))
    assert "宁波市单位职工社会保障卡申领办理告知书" in text
    assert "工商银行、建设银行和中国银行" in squeezed(text) and "三家银行" in text


# -- 申领汇总表 summary (annex 4)

def test_summary_pdf(session, numbered):
    [text] = pages(render_pdf(session, "summary", numbered))
    assert "用人单位社保卡申领汇总表" in text and "单位名称（盖章）" in text
    flat = squeezed(text)
    assert "申请人数（工商银行）" in flat and "申请人数（农业银行）" in flat
    assert "财务部" in text and "销售部/华东区" in flat and "合计" in text
    assert "收到《信息确认表》共计" in text and "返回《信息确认表》共计" in text
    assert "单位经办人" in text and "社保卡中心经办人" in text
    assert "两个银行申请人数" in flat


def test_summary_xlsx_ningbo(session, numbered):
    ningbo(session)
    ws = workbook(render_xlsx(session, "summary", numbered))
    assert ws["A1"].value == "用人单位社保卡申领汇总表"
    assert [c.value for c in ws[4]] == ["序号", "部门名称", "申请人数（工商银行）",
                                        "申请人数（建设银行）", "申请人数（中国银行）", "小计"]
    assert [ws.cell(r, 2).value for r in (5, 6, 7)] == ["财务部", "销售部", "销售部 / 华东区"]
    assert ws["F5"].value == "=SUM(C5:E5)"
    total = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value == "合计")
    assert total == 15                                    # ten rows at least, then 合计
    assert ws.cell(total, 3).value == "=SUM(C5:C14)" and ws.cell(total, 6).value == "=SUM(F5:F14)"
    assert ws.cell(total + 2, 1).value.startswith("我单位确认收到《信息确认表》共计")


# -- 未返回人员汇总表 not-returned list (annex 5)

def test_not_returned(session, numbered):
    [text] = pages(render_pdf(session, "not_returned", numbered))
    assert "《信息确认表》未返回人员汇总表" in text and "未申领人员" in text
    assert all(h in text for h in ("序号", "部门名称", "姓名", "身份证号", "备注"))
    ws = workbook(render_xlsx(session, "not_returned", numbered))
    assert [c.value for c in ws[4]][:5] == ["序号", "部门名称", "姓名", "身份证号", "备注"]
    assert [ws.cell(r, 1).value for r in range(5, 25)] == list(range(1, 21))
    assert ws.cell(5, 3).value is None                    # to fill in


# -- 申领凭证 voucher (annex 1)

def test_voucher_blank(session, numbered):
    [text] = pages(render_pdf(session, "voucher", numbered))
    assert "参保单位统一申领本单位职工社会保障卡凭证" in text
    assert "单位社保编码：3505810001" in text
    assert all(f"经办人（{n}）" in text for n in "一二三")
    assert "石狮市人力资源和社会保障局社保卡管理服务机构" in text and "单位公章" in text


def test_voucher_filled_from_the_latest_version(session, numbered):
    old = Voucher(employer_code="3505810001", version=1, employer_name="石狮市示例服装有限公司",
                  recorded_by="clerk")
    new = Voucher(employer_code="3505810001", version=2, employer_name="石狮市示例服装有限公司",
                  phone="0595-88880000", address="石狮市宝岛路8号", postcode="362700",
                  filled_by="林小红", recorded_by="clerk")
    session.add_all([old, new])
    session.flush()
    session.add_all([
        VoucherAgent(voucher_id=old.id, slot=1, name="陈旧人", mobile="13900000000",
                     id_number=id_number("35058119700101009")),
        VoucherAgent(voucher_id=new.id, slot=1, name="蔡经办", office_phone="0595-88881111",
                     mobile="13911112222", id_number=id_number("35058119750101001")),
        VoucherAgent(voucher_id=new.id, slot=3, name="洪三", mobile="13933334444",
                     id_number=id_number("35058119760101002")),
    ])
    session.flush()
    [text] = pages(render_pdf(session, "voucher", numbered))
    assert "蔡经办" in text and "洪三" in text and "陈旧人" not in text
    assert "林小红" in text and "0595-88880000" in text and "362700" in text
    assert id_number("35058119750101001") in squeezed(text)


# -- the HTML for browsers

def test_html_links_the_stylesheet_and_has_no_inline_style(session, numbered):
    for kind in DOCUMENTS:
        page = render_html(session, kind, numbered, css_href="/static/documents.css")
        assert '<link rel="stylesheet" href="/static/documents.css">' in page
        assert "<style" not in page and "style=" not in page          # CSP default-src 'self'
        assert "石狮市&lt;示例&gt;服装有限公司" in page                # escaped


def test_html_on_its_own_carries_the_stylesheet(session, numbered):
    page = render_html(session, "roster", numbered)
    assert "<style>" in page and "WenQuanYi Zen Hei" in page and "<link" not in page
