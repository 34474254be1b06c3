"""The issuance statistics page 发放情况统计表 (app/web/distribution_stats.py) on the known
scenario of tests/procedures/distribution/statistics_scenario.py: the table in words, the chart
(SVG, no script, no style attribute), filed or live, the Excel download (audited), who may see
which scope, bad periods and scopes answered with a message."""
from __future__ import annotations

import io
import re
from datetime import date
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.engine.models import AuditEvent
from app.procedures.distribution import statistics as stats
from tests.fixtures_app import Browser
from tests.procedures.distribution.statistics_scenario import (
    OFFICE,
    OTHER_OFFICE,
    build,
    cst,
)

OCTOBER = "/distribution/statistics?period=2026-10&scope=office:SS-CENTRE"
CODES = ("made", "delivered", "picked_up", "handed_to_holders", "reissued", "returned_total",
         "invalidated", "outstanding", "not_collected", "wrong_data", "retired_elsewhere",
         "with_employer", "with_holder", "at_centre", "distribution_met", "correction_missed",
         "return_pending")


@pytest.fixture
def scenario(app):
    with app.extensions["sscard"].session_factory() as s:
        sc = build(s)
        ids = {k: e.id for k, e in sc.employers.items()}
        s.commit()
    return ids


def browser(app, username) -> Browser:
    web = Browser(app.test_client())
    assert web.login(username).status_code == 302
    return web


def cell_after(html: str, label: str) -> str:
    """The number in the table cell after a row's label."""
    m = re.search(re.escape(label) + r'</td><td class="num">(\d+)</td>', html)
    assert m, label
    return m.group(1)


def test_the_page_as_a_manager(app, scenario):
    web = browser(app, "manager")
    r = web.get(OCTOBER)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "发放情况统计表" in html and "2026年10月" in html
    # October at SS-CENTRE, worked out in tests/procedures/distribution/test_statistics.py
    assert cell_after(html, "制卡数（张）") == "10"
    assert cell_after(html, "到货验收合格（张）") == "8"
    assert cell_after(html, "单位领卡（张）") == "8"
    assert cell_after(html, "发放到本人（张）") == "5"
    assert cell_after(html, "退卡回收（张）") == "3"
    assert cell_after(html, "其中：未领取") == "2"
    assert cell_after(html, "其中：卡面信息与身份证不一致") == "1"
    assert cell_after(html, "期末单位未发放（张）") == "2"
    assert "3个工作日内发放到本人并交回签字花名册" in html and "6个月内退回未发出的卡" in html
    assert 'id="stats-live"' in html and "实时统计" in html
    # the chart: SVG markup, presentation attributes only; the print stylesheet
    assert '<svg class="stats-chart"' in html and "<rect" in html
    assert "<script" not in html and "style=" not in html
    assert 'href="/static/print.css" media="print"' in html
    assert 'id="nav-statistics"' in html
    assert 'href="/distribution/statistics.xlsx?period=2026-10&amp;scope=office:SS-CENTRE"' in html
    # labels, never codes
    visible = re.sub(r'value="[^"]*"', "", html)
    for code in CODES:
        assert code not in visible, code


def test_the_default_is_this_month_and_the_widest_scope_the_user_sees(app, scenario):
    html = browser(app, "manager").get("/distribution/statistics").get_data(as_text=True)
    # XM-CENTRE has batches the manager of SS-CENTRE does not see: no "all" for them
    assert '<option value="all"' not in html
    assert f'<option value="office:{OFFICE}" selected>' in html
    assert f"office:{OTHER_OFFICE}" not in html
    assert f'value="employer:{scenario["E1"]}"' in html and f'value="employer:{scenario["E3"]}"' not in html
    admin = browser(app, "admin").get("/distribution/statistics").get_data(as_text=True)
    assert '<option value="all" selected>' in admin and f"office:{OTHER_OFFICE}" in admin


def test_scopes_beyond_the_users_offices_are_refused(app, scenario):
    web = browser(app, "manager")
    assert web.get("/distribution/statistics?period=2026-11&scope=all").status_code == 403
    assert web.get(f"/distribution/statistics?period=2026-11&scope=office:{OTHER_OFFICE}").status_code == 403
    assert web.get(f"/distribution/statistics?period=2026-11&scope=employer:{scenario['E3']}").status_code == 403
    assert web.get(f"/distribution/statistics.xlsx?period=2026-11&scope=employer:{scenario['E3']}").status_code == 403
    assert web.get("/distribution/statistics?period=2026-11&scope=employer:999999").status_code == 404
    assert web.get("/distribution/statistics?period=2026-11&scope=office:NOWHERE").status_code == 404
    r = web.get(f"/distribution/statistics?period=2026-10&scope=employer:{scenario['E1']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "石狮甲服装有限公司（2026年第一批）" in html and cell_after(html, "制卡数（张）") == "6"
    # the administrator sees everything
    admin = browser(app, "admin")
    html = admin.get("/distribution/statistics?period=2026-11&scope=all").get_data(as_text=True)
    assert cell_after(html, "制卡数（张）") == "3" and "全部经办机构" in html


def test_window_and_outlet_clerks_and_reviewers_are_refused(app, scenario):
    for username in ("window", "outlet", "reviewer"):
        web = browser(app, username)
        assert web.get(OCTOBER).status_code == 403, username
        assert web.get(OCTOBER.replace("statistics?", "statistics.xlsx?")).status_code == 403, username
        assert 'id="nav-statistics"' not in web.get("/profile").get_data(as_text=True)
    assert browser(app, "centre").get(OCTOBER).status_code == 200


@pytest.mark.parametrize("query, message", [
    ("period=2026-13", "月份应为 01 至 12"),
    ("period=abc", "无法识别的统计期间"),
    ("period=2026-Q5", "无法识别的统计期间"),
    ("period=1800", "统计年份应在"),
    ("period=2026-10&scope=everything", "无法识别的统计范围"),
    ("period=2026-10&scope=employer:abc", "无法识别的统计范围"),
])
def test_bad_periods_and_scopes_get_a_message(app, scenario, query, message):
    web = browser(app, "manager")
    r = web.get("/distribution/statistics?" + query)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message in html and 'id="stats-error"' in html and 'id="stats-choosers"' in html
    r = web.get("/distribution/statistics.xlsx?" + query)
    assert r.status_code == 400 and message in r.get_data(as_text=True)


def test_a_bad_period_in_english(app, scenario):
    web = browser(app, "manager")
    web.get("/lang/en")
    html = web.get("/distribution/statistics?period=2026-11-05").get_data(as_text=True)
    assert "Unknown period" in html


def test_the_excel_file(app, scenario):
    web = browser(app, "manager")
    r = web.get(OCTOBER.replace("statistics?", "statistics.xlsx?"))
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = r.headers["Content-Disposition"]
    assert 'filename="issuance-statistics-2026-10-office-SS-CENTRE.xlsx"' in disposition
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name.startswith("发放情况统计表-2026年10月-") and name.endswith(".xlsx")
    assert r.headers["Cache-Control"] == "private, no-store"
    sheet = load_workbook(io.BytesIO(r.data)).active
    values = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert values["统计期间"][0] == "2026年10月"
    assert values["制卡数（张）"][0] == 10
    assert values["单位领卡（张）"][0] == 8
    assert values["　其中：未领取"][0] == 2
    assert values["期末单位未发放（张）"][0] == 2
    assert values["6个月内退回未发出的卡"][:4] == ("张", 1, 1, 0)
    assert values["一周内更正信息"][:4] == ("人", 1, 0, 0)
    with app.extensions["sscard"].session_factory() as s:
        records = [e.detail for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "family"))]
    assert {"family": "distribution", "what": "statistics_xlsx", "period": "2026-10",
            "scope": f"office:{OFFICE}", "filed": None}.items() <= records[-1].items()


def test_a_filed_table_is_shown_as_filed_and_unchanged(app, scenario):
    factory = app.extensions["sscard"].session_factory
    with factory() as s:
        stats.file(s, "2026-10", f"office:{OFFICE}", "科长 张伟", today=date(2026, 11, 1))
        s.commit()
        # afterwards a card made in October is recorded: the live figures change, the filed not
        from app.procedures.batch.models import Employer
        from tests.procedures.distribution.statistics_scenario import Scenario
        later = Scenario(s)
        later.employers = {"E1": s.get(Employer, scenario["E1"])}
        later.card("c99", "E1", cst(10, 20))
        s.commit()
    web = browser(app, "manager")
    html = web.get(OCTOBER).get_data(as_text=True)
    assert 'id="stats-filed"' in html and "已归档于" in html and "科长 张伟" in html
    assert cell_after(html, "制卡数（张）") == "10"
    html = web.get(f"/distribution/statistics?period=2026-10&scope=employer:{scenario['E1']}").get_data(as_text=True)
    assert 'id="stats-live"' in html and cell_after(html, "制卡数（张）") == "7"
    r = web.get(OCTOBER.replace("statistics?", "statistics.xlsx?"))
    sheet = load_workbook(io.BytesIO(r.data)).active
    values = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert values["制卡数（张）"][0] == 10 and values["归档"][1] == "科长 张伟"


def test_the_page_in_english(app, scenario):
    web = browser(app, "manager")
    web.get("/lang/en")
    html = web.get(OCTOBER).get_data(as_text=True)
    assert "Issuance statistics" in html and "October 2026" in html
    assert re.search(r"Cards made</td><td class=\"num\">10<", html)
    assert "of which: Not collected" in html
