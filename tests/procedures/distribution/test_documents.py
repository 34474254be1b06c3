"""Documents of the distribution 发放单据 (seed 000 §3-4, seed 001 §5.3-5.4): a small pickup and
a return built by hand in a migrated SQLite database, each document rendered, the PDF's text read
back with pypdf, the Excel files opened with openpyxl."""
from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import sessionmaker
from stdnum.cn import ric

from app.auth.models import User
from app.cards.models import Card
from app.engine.db import make_engine
from app.migrate import upgrade
from app.procedures.batch import city
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.distribution.documents import (
    DOCUMENTS,
    SUBJECTS,
    DocumentError,
    render_html,
    render_pdf,
    render_xlsx,
)
from app.procedures.distribution.documents.source import province
from app.procedures.distribution.models import (
    CardCustody,
    CardReturn,
    DataCorrection,
    EmployerPickup,
    PickupCard,
    ReturnedCard,
)

NINGBO = city.CITIES_DIR / "ningbo.json"
EMPLOYER = "宁波<甲>机械有限公司"


def id_number(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


AGENT_ID = id_number("33020319700101001")
AGENT_MASKED = "330203********" + AGENT_ID[-4:]

# (name, bank, roster line, outcome, reason, note) in the order the persons were entered; the
# roster's order is the line's: 钱二, 李四, 赵一, 孙三
PEOPLE = [
    ("赵一", "ICBC", 3, "wrong_data", None, "姓名应为赵壹"),
    ("钱二", "CCB", 1, "signed", None, None),
    ("孙三", "BOC", 4, None, None, None),
    ("李四", None, 2, "not_handed_out", "moved", "已调往杭州"),
]
ROSTER_ORDER = ["钱二", "李四", "赵一", "孙三"]
CUSTODY = {"赵一": "returned", "钱二": "with_holder", "孙三": "with_employer", "李四": "returned"}


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    """A migrated SQLite database configured for Ningbo with one pickup of four cards (the
    signed roster back: one signed, one not handed out, one wrong, one outstanding), its return
    of the two cards not handed out or wrong, and an empty return."""
    url = f"sqlite:///{tmp_path_factory.mktemp('distribution_documents') / 'docs.db'}"
    upgrade(url)
    engine = make_engine(url)
    f = sessionmaker(bind=engine, expire_on_commit=False)
    ids: dict = {}
    with f() as s, s.begin():
        city.apply(s, city.load_file(NINGBO))
        s.add(User(username="clerk1", display_name="林经办", password_hash="x"))
        batch = Batch(name="2026年第一批", cutoff=date(2026, 6, 30), regions=["330200"],
                      created_by="test")
        s.add(batch)
        s.flush()
        employer = Employer(batch_id=batch.id, code="3302000001", name=EMPLOYER, region="330200")
        s.add(employer)
        s.flush()
        pickup = EmployerPickup(
            number="JJ3302000001-1", employer_id=employer.id, status="roster_back",
            letter_agent_name="王经办", letter_agent_id=AGENT_ID, voucher_version=1,
            seal_checked=True, cards=len(PEOPLE),
            handed_over_at=datetime(2026, 7, 1, 2, 0, tzinfo=UTC),  # 10:00 in China
            handed_over_by="clerk1", distribute_by=date(2026, 7, 6), return_by=date(2027, 1, 1),
            created_by="clerk1")
        s.add(pickup)
        s.flush()
        card_return = CardReturn(number="TK3302000001-1", employer_id=employer.id,
                                 pickup_id=pickup.id, agent_name="王经办", not_handed_out=1,
                                 wrong_data=1, received_by="clerk1",
                                 received_at=datetime(2026, 7, 8, 1, 0, tzinfo=UTC))
        empty_return = CardReturn(number="TK3302000001-2", employer_id=employer.id,
                                  agent_name="王经办", received_by="someone")
        s.add_all([card_return, empty_return])
        s.flush()
        persons, cards = {}, {}
        for i, (name, bank, line, outcome, reason, note) in enumerate(PEOPLE, 1):
            ssn = id_number(f"33020319800101{i:03d}")
            person = Person(batch_id=batch.id, employer_id=employer.id, id_number=ssn, name=name,
                            sex="1", seq=i, eligibility="eligible", bank=bank)
            card = Card(card_number=f"A{i:08d}", ssn=ssn, name=name, region_code="330200",
                        bank="中国银行" if bank is None else None)
            s.add_all([person, card])
            s.flush()
            persons[name], cards[name] = person, card
            s.add(PickupCard(pickup_id=pickup.id, card_id=card.id, person_id=person.id, seq=line,
                             outcome=outcome, reason=reason, note=note))
            s.add(CardCustody(card_id=card.id, person_id=person.id, employer_id=employer.id,
                              batch_id=batch.id, state=CUSTODY[name], changed_by="clerk1",
                              reason=reason or ("wrong_data" if outcome == "wrong_data" else None)))
        s.add(ReturnedCard(return_id=card_return.id, card_id=cards["李四"].id,
                           person_id=persons["李四"].id, reason="moved", note="已调往杭州"))
        s.add(ReturnedCard(return_id=card_return.id, card_id=cards["赵一"].id,
                           person_id=persons["赵一"].id, reason="wrong_data", note="姓名应为赵壹"))
        s.add(DataCorrection(card_id=cards["赵一"].id, person_id=persons["赵一"].id,
                             return_id=card_return.id, due_on=date(2026, 7, 15),
                             corrected={"name": ["赵一", "赵壹"]}))
        ids = {"pickup": pickup.id, "return": card_return.id, "empty_return": empty_return.id,
               "ids": {n: p.id_number for n, p in persons.items()},
               "cards": {n: c.card_number for n, c in cards.items()}}
    yield f, ids
    engine.dispose()


@pytest.fixture
def session(factory):
    with factory[0]() as s:
        yield s
        s.rollback()


@pytest.fixture
def ids(factory):
    return factory[1]


def pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF")
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def in_order(text: str, names: list[str]) -> bool:
    positions = [text.find(n) for n in names]
    return -1 not in positions and positions == sorted(positions)


def rows_of(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def copy_mark(text: str) -> str:
    """The copy's mark at the head of its page ("第一联 社保卡中心留存")."""
    return next(line for line in text.splitlines() if re.fullmatch(r"第.联\s+\S+", line.strip()))


def masked_card(number: str) -> str:
    return number[:3] + "****" + number[-2:]


# -- the catalogue and the errors

def test_catalogue():
    assert set(DOCUMENTS) == {"handover", "pickup_slip", "distribution_roster", "usage_notice",
                              "return_slip", "return_register", "province_slip"}
    for zh, en, formats in DOCUMENTS.values():
        assert zh and en and {"html", "pdf"} <= set(formats)
    assert {k for k, v in DOCUMENTS.items() if "xlsx" in v[2]} == {"distribution_roster",
                                                                   "return_register"}
    assert {k for k, v in SUBJECTS.items() if v == "return"} == {"return_slip", "province_slip"}


@pytest.mark.parametrize("call", [
    lambda s, i: render_html(s, "roster", i["pickup"]),            # the batch family's
    lambda s, i: render_pdf(s, "nonsense", i["pickup"]),
    lambda s, i: render_xlsx(s, "handover", i["pickup"]),         # no table
    lambda s, i: render_html(s, "handover", 999_999),
    lambda s, i: render_pdf(s, "return_slip", "abc"),
    lambda s, i: render_xlsx(s, "distribution_roster", None),
])
def test_unknown_document_format_or_subject(session, ids, call):
    with pytest.raises(DocumentError) as err:
        call(session, ids)
    assert err.value.kind == "not_found" and err.value.message_zh and err.value.message_en


# -- 交接单 handover sheet

def test_handover_two_copies_with_the_count_and_the_agent(session, ids):
    texts = pages(render_pdf(session, "handover", ids["pickup"]))
    assert len(texts) == 2
    assert [squeezed(copy_mark(t)) for t in texts] == ["第一联社保卡中心留存", "第二联用人单位留存"]
    for text in texts:
        flat = squeezed(text)
        assert "宁波市社会保障卡交接单" in flat and "编号：JJ3302000001-1" in flat
        assert EMPLOYER in text and "单位社保编码3302000001" in flat
        assert "交接卡数4张" in flat and "共计4张" in flat
        assert "王经办" in text and AGENT_MASKED in flat and AGENT_ID not in flat
        assert "林经办" in text                                   # the clerk, by name
        assert "2026年7月1日" in flat and "2026年7月6日" in flat    # handed over; to hand out by
        assert all(w in flat for w in ("领卡人签字", "经办人签字", "单位盖章"))


def test_pickup_slip(session, ids):
    [text] = pages(render_pdf(session, "pickup_slip", ids["pickup"]))
    flat = squeezed(text)
    assert "宁波市社会保障卡领取单" in flat and EMPLOYER in text
    assert "领取社保卡数4张" in flat and "王经办" in text and AGENT_MASKED in flat
    assert "2026年7月1日" in flat and "林经办" in text
    assert "单位经办人签名" in flat and "社保卡中心经办人签名" in flat and "单位盖章" in flat


# -- 发放花名册 / 发放清单 distribution roster

def test_distribution_roster_pdf(session, ids):
    [text] = pages(render_pdf(session, "distribution_roster", ids["pickup"]))
    flat = squeezed(text)
    assert "宁波市社会保障卡发放花名册" in flat and "社保卡发放清单" in flat
    assert in_order(text, ROSTER_ORDER)
    assert all(h in flat for h in ("序号", "姓名", "身份证号", "社保卡号", "本人签字", "备注"))
    for name in ROSTER_ORDER:
        assert ids["ids"][name] in flat                          # the full ID number: paper
        assert masked_card(ids["cards"][name]) in flat and ids["cards"][name] not in flat
    assert "共计4人" in flat and "单位盖章" in flat and "单位经办人" in flat
    assert "未发出（调离）：已调往杭州" in flat and "信息错误：姓名应为赵壹" in flat


def test_distribution_roster_xlsx(session, ids):
    rows = rows_of(render_xlsx(session, "distribution_roster", ids["pickup"]))
    assert rows[0][0] == "宁波市社会保障卡发放花名册（社保卡发放清单）"
    assert rows[1][:6] == ("参保区域", "市区", "单位社保编码", "3302000001", "单位名称（盖章）",
                           EMPLOYER)
    assert rows[2][:4] == ("交接单号", "JJ3302000001-1", "领卡日期", "2026年7月1日")
    assert rows[3][:6] == ("序号", "姓名", "身份证号", "社保卡号", "本人签字", "备注")
    body = rows[4:8]
    assert [r[0] for r in body] == [1, 2, 3, 4]
    assert [r[1] for r in body] == ROSTER_ORDER
    assert body[0][2] == ids["ids"]["钱二"] and isinstance(body[0][2], str)
    assert body[0][3] == masked_card(ids["cards"]["钱二"]) and body[0][4] is None
    assert body[1][5] == "未发出（调离）：已调往杭州"
    assert rows[8][0] == "共计 4 人"


# -- 使用须知 usage notice

def test_usage_notice_one_page_per_person(session, ids):
    texts = pages(render_pdf(session, "usage_notice", ids["pickup"]))
    assert len(texts) == 4
    banks = {"钱二": "中国建设银行", "李四": "中国银行", "赵一": "中国工商银行", "孙三": "中国银行"}
    for name, text in zip(ROSTER_ORDER, texts):
        flat = squeezed(text)
        assert "宁波市社会保障卡使用须知" in flat and f"持卡人：{name}" in flat
        assert [n for n in ROSTER_ORDER if n in text] == [name]   # this person's page only
        assert "000000" in flat and "锁定状态" in flat and "统一启用" in flat
        assert "原医疗保险卡作废" in flat and "打印复件" in flat and f"您选择的{banks[name]}" in flat
        assert "妥善保管" in flat and "临时挂失" in flat and "宁波市社会保障卡管理服务中心" in flat
        assert masked_card(ids["cards"][name]) in flat and ids["ids"][name] not in flat


# -- 退卡回收单 return slip

def test_return_slip_two_copies_two_groups(session, ids):
    texts = pages(render_pdf(session, "return_slip", ids["return"]))
    assert len(texts) == 2
    assert [squeezed(copy_mark(t)) for t in texts] == ["第一联社保卡中心留存", "第二联用人单位留存"]
    for text in texts:
        flat = squeezed(text)
        assert "宁波市社会保障卡退卡回收单" in flat and "编号：TK3302000001-1" in flat
        assert "原交接单号：JJ3302000001-1" in flat and "2026年7月8日" in flat
        first, second = flat.index("一、未发出的卡（1张）"), flat.index("二、信息错误的卡（1张）")
        assert first < flat.index("李四") < flat.index("调离：已调往杭州") < second
        assert second < flat.index("赵一") and "姓名应为赵壹" in flat[second:]
        assert "未发出的卡小计：1张" in flat and "信息错误的卡小计：1张" in flat
        assert "合计：2张" in flat
        assert "单位经办人签字：王经办" in flat and "社保卡中心经办人签字：林经办" in flat
        assert "单位盖章" in flat and "社保卡中心盖章" in flat
        for name in ("李四", "赵一"):
            assert ids["ids"][name] not in flat and ids["cards"][name] not in flat
            assert masked_card(ids["cards"][name]) in flat
        assert "钱二" not in flat and "孙三" not in flat


def test_return_slip_of_no_cards(session, ids):
    texts = pages(render_pdf(session, "return_slip", ids["empty_return"]))
    assert len(texts) == 2
    for text in texts:
        flat = squeezed(text)
        assert "未发出的卡（0张）" in flat and "信息错误的卡（0张）" in flat and "合计：0张" in flat
        assert "原交接单号" not in flat and "someone" in flat      # no such user: the name kept


# -- 退回登记表 return register

def test_return_register_lists_the_outstanding_cards(session, ids):
    [text] = pages(render_pdf(session, "return_register", ids["pickup"]))
    flat = squeezed(text)
    assert "宁波市社会保障卡退回登记表" in flat and "应退回日期：2027年1月1日" in flat
    assert "孙三" in text and not any(n in text for n in ("钱二", "李四", "赵一"))
    assert "共计退回1张" in flat and ids["ids"]["孙三"] not in flat
    rows = rows_of(render_xlsx(session, "return_register", ids["pickup"]))
    assert rows[0][0] == "宁波市社会保障卡退回登记表"
    assert rows[3][:6] == ("序号", "姓名", "身份证号", "社会保障卡号", "未发出原因", "备注")
    assert rows[4][:4] == (1, "孙三", "330203********" + ids["ids"]["孙三"][-4:],
                           masked_card(ids["cards"]["孙三"]))
    assert rows[5][0] == "共计退回 1 张"


def test_return_register_without_custody_rows_counts_the_unsigned_lines(session, ids):
    session.query(CardCustody).delete()
    session.query(ReturnedCard).delete()
    session.flush()
    [text] = pages(render_pdf(session, "return_register", ids["pickup"]))
    assert in_order(text, ["李四", "赵一", "孙三"]) and "钱二" not in text
    assert "共计退回3张" in squeezed(text)


# -- 省社会保障卡退卡回收单 provincial return slip

def test_province():
    assert province("宁波市") == ("浙江", "浙江省")
    assert province("石狮市") == ("福建", "福建省")
    assert province("银川市") == ("宁夏", "宁夏回族自治区")
    assert province("成都市") == ("省", "省") and province("") == ("省", "省")


def test_province_slip_ningbo(session, ids):
    texts = pages(render_pdf(session, "province_slip", ids["return"]))
    assert len(texts) == 2
    assert [squeezed(copy_mark(t)) for t in texts] == ["第一联报送浙江省人力资源和社会保障厅",
                                                      "第二联社保卡中心留存"]
    for text in texts:
        flat = squeezed(text)
        assert "浙江社会保障卡退卡回收单" in flat and "编号：TK3302000001-1" in flat
        assert "赵一" in text and "李四" not in text                 # the wrong-data cards only
        assert ids["cards"]["赵一"] in flat and ids["ids"]["赵一"] not in flat
        assert "姓名应为赵壹" in flat and "姓名：赵一→赵壹" in flat
        assert "信息错误退卡共计：1张" in flat and "填报人：林经办" in flat


@pytest.mark.parametrize("config, title", [
    ({"city": "石狮市", "regions": [{"code": "350581", "name": "石狮市"}],
      "banks": [{"code": "ICBC", "name": "中国工商银行"}]}, "福建社会保障卡退卡回收单"),
    ({"city": "成都市", "regions": [{"code": "510100", "name": "市辖区"}],
      "banks": [{"code": "ICBC", "name": "中国工商银行"}]}, "省社会保障卡退卡回收单"),
])
def test_province_slip_title_follows_the_city(session, ids, config, title):
    city.apply(session, config)
    texts = pages(render_pdf(session, "province_slip", ids["return"]))
    assert len(texts) == 2 and all(title in squeezed(t) for t in texts)


# -- the HTML for browsers

def test_html_links_the_stylesheet_and_has_no_inline_style(session, ids):
    for kind in DOCUMENTS:
        ref = ids[SUBJECTS[kind]]
        page = render_html(session, kind, ref, css_href="/static/documents.css")
        assert '<link rel="stylesheet" href="/static/documents.css">' in page
        assert "<style" not in page and "style=" not in page          # CSP default-src 'self'
        assert "宁波&lt;甲&gt;机械有限公司" in page                    # escaped
        assert f'class="document document-{kind}"' in page


def test_html_on_its_own_carries_the_stylesheet(session, ids):
    page = render_html(session, "handover", ids["pickup"])
    assert "<style>" in page and "WenQuanYi Zen Hei" in page and "<link" not in page
    assert page.count('class="page copy"') == 2
