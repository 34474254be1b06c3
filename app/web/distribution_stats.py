"""发放情况统计表 page (seed 000 §3.2.3): the issuance statistics of a month, quarter or year for
all offices, one office or one employer — the filed table when the period was filed (归档), the
live figures otherwise — with a bar chart (server-rendered SVG: no script, no style attribute),
a print stylesheet and an Excel download (each download an audit record).

Who: managers and the card centre's clerks (``groups``); which scopes: the one rule of
:mod:`app.cases.access` — a user sees the offices of :func:`offices_of` (their office; a centre
or a manager their region) and the employers of those offices' batches
(:func:`may_view_batch`); "all" only when every office that has batches is one of them.
The figures are :mod:`app.procedures.distribution.statistics`.
"""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from urllib.parse import quote

from flask import Blueprint, Response, abort, make_response, render_template, request
from flask_login import current_user
from sqlalchemy import or_, select

from app.cards.models import ServicePoint
from app.cases.access import may_view_batch, office_allows, offices_of
from app.common.clock import CHINA_TZ, china_now, china_today
from app.common.i18n import T, get_locale
from app.extensions import db_session
from app.permissions import groups
from app.procedures.batch.models import Batch, Employer
from app.procedures.distribution import statistics as stats
from app.procedures.distribution.states import RETURN_LABELS
from app.web import t

bp = Blueprint("distribution_stats", __name__)

WHO = ("manager", "centre_clerk")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EMPLOYER_CHOICES = 500  # employers listed in the chooser (others: from their page's link)
ALL_LABEL = T("全部经办机构", "All offices")
SYSTEM_LABEL = T("系统（月末自动归档）", "The system (filed at the month's end)")

#: the chart's bars: figure, colour (the stylesheet's palette)
BARS = (("made", "#1d4f91"), ("delivered", "#1d4f91"), ("picked_up", "#3a6fb5"),
        ("handed_to_holders", "#1b6e3a"), ("reissued", "#1b6e3a"), ("returned_total", "#a15c00"),
        ("invalidated", "#b3261e"), ("outstanding", "#a15c00"))
OUTCOME_COLOURS = {"met": "#1b6e3a", "missed": "#b3261e", "pending": "#9aa5b1"}
CHART_WIDTH, LABEL_WIDTH, BAR_AREA, ROW = 760, 250, 420, 30


class Refused(Exception):
    """A request the page answers with a message (bad period or scope)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


# -- who sees which scope -----------------------------------------------------------------------

def _visible() -> frozenset[str] | None:
    return offices_of(db_session(), current_user)


def _office_names(session) -> dict[str, str]:
    return dict(session.execute(select(ServicePoint.code, ServicePoint.name)).all())


def may_see_all(session) -> bool:
    visible = _visible()
    return visible is None or set(stats.offices_with_batches(session)) <= visible


def office_choices(session) -> list[str]:
    visible = _visible()
    offices = set(stats.offices_with_batches(session))
    if current_user.office:
        offices.add(current_user.office)
    return sorted(o for o in offices if office_allows(visible, o))


def employer_choices(session) -> list[tuple[int, str, str]]:
    """(employer id, employer name, batch name) of the batches the user sees."""
    visible = _visible()
    query = select(Employer.id, Employer.name, Batch.name).join(Batch, Batch.id == Employer.batch_id)
    if visible is not None:
        query = query.where(or_(Batch.office.is_(None), Batch.office.in_(sorted(visible))))
    return [tuple(r) for r in session.execute(
        query.order_by(Batch.id.desc(), Employer.name, Employer.id).limit(EMPLOYER_CHOICES))]


def default_scope(session) -> str:
    if may_see_all(session):
        return stats.ALL
    if current_user.office:
        return f"office:{current_user.office}"
    choices = office_choices(session)
    return f"office:{choices[0]}" if choices else stats.ALL


def scope_label(session, scope: stats.Scope) -> str:
    if scope.kind == "office":
        return _office_names(session).get(scope.office) or t(f"经办机构 {scope.office}", f"Office {scope.office}")
    if scope.kind == "employer":
        row = session.execute(select(Employer.name, Batch.name).join(Batch, Batch.id == Employer.batch_id)
                              .where(Employer.id == scope.employer_id)).first()
        return t(f"{row[0]}（{row[1]}）", f"{row[0]} ({row[1]})") if row else ""
    return str(ALL_LABEL)


def check_scope(session, scope: stats.Scope) -> None:
    """403 for a scope beyond the user's offices, 404 for one that does not exist."""
    if scope.kind == stats.ALL:
        if not may_see_all(session):
            abort(403)
    elif scope.kind == "office":
        known = scope.office in _office_names(session) or scope.office in stats.offices_with_batches(session)
        if not known:
            abort(make_response(render_template(
                "error.html", code=404, message=t(f"没有经办机构“{scope.office}”。",
                                                  f"There is no office “{scope.office}”.")), 404))
        if not office_allows(_visible(), scope.office):
            abort(403)
    else:
        employer = session.get(Employer, scope.employer_id)
        if employer is None:
            abort(make_response(render_template(
                "error.html", code=404, message=t(f"没有编号为 {scope.employer_id} 的单位申领。",
                                                  f"There is no employer application number {scope.employer_id}.")), 404))
        batch = session.get(Batch, employer.batch_id)
        if not may_view_batch(session, current_user, batch.office):
            abort(403)


# -- the request --------------------------------------------------------------------------------

def requested(session) -> tuple[stats.Period, stats.Scope]:
    """The period and scope asked for (defaults: this month, the widest scope the user sees);
    ``Refused`` with the message for text that is not one."""
    lang = get_locale()
    period_text = (request.args.get("period") or "").strip() or stats.month_of(china_today())
    scope_text = (request.args.get("scope") or "").strip() or default_scope(session)
    try:
        period = stats.parse_period(period_text)
    except stats.StatisticsError as e:
        raise Refused(e.message(lang)) from None
    try:
        scope = stats.parse_scope(scope_text)
    except stats.StatisticsError as e:
        raise Refused(e.message(lang)) from None
    check_scope(session, scope)
    return period, scope


def period_choices(today: date) -> list[tuple[str, str]]:
    """Recent periods for the chooser's list: 12 months, 4 quarters, 3 years."""
    out, month = [], today.replace(day=1)
    for _ in range(12):
        p = stats.parse_period(stats.month_of(month))
        out.append((p.key, t(p.label_zh, p.label_en)))
        month = (month - timedelta(days=1)).replace(day=1)
    year, q = today.year, (today.month - 1) // 3 + 1
    for _ in range(4):
        p = stats.parse_period(f"{year}-Q{q}")
        out.append((p.key, t(p.label_zh, p.label_en)))
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    for y in range(today.year, today.year - 3, -1):
        p = stats.parse_period(str(y))
        out.append((p.key, t(p.label_zh, p.label_en)))
    return out


def rows_of(figures: dict) -> dict:
    """The figures in words for the page and the Excel file."""
    reasons = [(str(RETURN_LABELS[r]), (figures.get("returned") or {}).get(r.value, 0))
               for r in stats.RETURN_REASONS]
    flows = [{"label": str(label), "value": figures.get(key, 0),
              "reasons": reasons if key == "returned_total" else None} for key, label in stats.FIGURES]
    deadlines = [(str(label), str(unit), [figures.get(f"{key}_{o}", 0) for o, _ in stats.OUTCOMES])
                 for key, label, unit in stats.DEADLINES]
    return {"flows": flows, "reasons": reasons, "deadlines": deadlines,
            "outcomes": [str(label) for _, label in stats.OUTCOMES]}


def chart(figures: dict) -> dict:
    """Geometry of the horizontal bar chart (SVG presentation attributes only)."""
    labels = dict(stats.FIGURES)
    values = [(str(labels[key]), int(figures.get(key, 0) or 0), colour) for key, colour in BARS]
    top = max([v for _, v, _ in values] + [1])
    bars = [{"label": label, "value": v, "fill": colour, "y": 10 + i * ROW,
             "width": round(BAR_AREA * v / top, 1)} for i, (label, v, colour) in enumerate(values)]
    y = 10 + len(bars) * ROW + 20
    stacks = []
    for key, label, _unit in stats.DEADLINES:
        counts = [(o, int(figures.get(f"{key}_{o}", 0) or 0)) for o, _ in stats.OUTCOMES]
        total = sum(n for _, n in counts)
        x, parts = LABEL_WIDTH, []
        for outcome, n in counts:
            width = round(BAR_AREA * n / total, 1) if total else 0
            if n:
                parts.append({"x": x, "width": width, "fill": OUTCOME_COLOURS[outcome], "value": n})
            x += width
        stacks.append({"label": str(label), "y": y, "parts": parts, "total": total})
        y += ROW
    legend = [{"x": LABEL_WIDTH + i * 110, "fill": OUTCOME_COLOURS[o], "label": str(label)}
              for i, (o, label) in enumerate(stats.OUTCOMES)]
    return {"bars": bars, "stacks": stacks, "legend": legend, "legend_y": y + 6, "height": y + 30,
            "width": CHART_WIDTH, "label_x": LABEL_WIDTH - 8, "bar_x": LABEL_WIDTH,
            "split_y": 10 + len(bars) * ROW + 4}


def filed_by(table) -> str:
    if table is None:
        return ""
    return str(SYSTEM_LABEL) if table.generated_by == stats.ACTOR else table.generated_by


def context(session, period: stats.Period, scope: stats.Scope) -> dict:
    figures, table = stats.filed_or_live(session, period, scope)
    return {"period": period, "period_label": t(period.label_zh, period.label_en),
            "scope": scope, "scope_label": scope_label(session, scope), "figures": figures,
            "table": table, "filed_by": filed_by(table), "rows": rows_of(figures),
            "chart": chart(figures), "now": china_now()}


def choosers(session, period_key: str, scope_key: str) -> dict:
    names = _office_names(session)
    return {"period_value": period_key, "scope_value": scope_key,
            "periods": period_choices(china_today()), "may_see_all": may_see_all(session),
            "offices": [(f"office:{o}", names.get(o) or t(f"经办机构 {o}", f"Office {o}"))
                        for o in office_choices(session)],
            "employers": [(f"employer:{i}", t(f"{name}（{batch}）", f"{name} ({batch})"))
                          for i, name, batch in employer_choices(session)],
            "all_label": str(ALL_LABEL)}


@bp.get("/distribution/statistics")
@groups(*WHO)
def page():
    session = db_session()
    try:
        period, scope = requested(session)
    except Refused as e:
        body = render_template("distribution/statistics.html", error=e.message,
                               **choosers(session, request.args.get("period", "")[:40],
                                          request.args.get("scope", "")[:60]))
        return body, 400
    return render_template("distribution/statistics.html", error=None,
                           **choosers(session, period.key, scope.key), **context(session, period, scope))


# -- the Excel file ------------------------------------------------------------------------------

def workbook(ctx: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = t("发放情况统计表", "Issuance statistics")
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    ws.append([t("发放情况统计表", "Issuance statistics")])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([t("统计期间", "Period"), ctx["period_label"]])
    ws.append([t("统计范围", "Scope"), ctx["scope_label"]])
    table = ctx["table"]
    if table is not None:
        ws.append([t("归档", "Filed"), table.generated_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
                   ctx["filed_by"]])
    else:
        ws.append([t("实时统计", "Live figures"), ctx["now"].strftime("%Y-%m-%d %H:%M"),
                   t("尚未归档", "not filed")])
    ws.append([])
    header = ws.max_row + 1
    ws.append([t("项目", "Item"), t("数量", "Number")])
    for flow in ctx["rows"]["flows"]:
        ws.append([flow["label"], flow["value"]])
        for reason, n in flow["reasons"] or ():
            ws.append([t(f"　其中：{reason}", f"   of which: {reason}"), n])
    for row in ws.iter_rows(min_row=header, max_row=ws.max_row, max_col=2):
        for cell in row:
            cell.border = box
    for cell in ws[header]:
        cell.font = bold
    ws.append([])
    header = ws.max_row + 1
    ws.append([t("时限", "Deadline"), t("单位", "Counted in"), *ctx["rows"]["outcomes"]])
    for label, unit, counts in ctx["rows"]["deadlines"]:
        ws.append([label, unit, *counts])
    for row in ws.iter_rows(min_row=header, max_row=ws.max_row, max_col=5):
        for cell in row:
            cell.border = box
    for cell in ws[header]:
        cell.font = bold
    ws.append([])
    ws.append([t("时限按到期日所在期间统计；期末单位未发放为期末时仍在单位、尚未发到本人或退回的卡。",
                 "Deadlines count in the period in which they fall due; cards with employers: "
                 "cards an employer held at the period's end, neither handed out nor returned.")])
    ws.column_dimensions["A"].width = 46
    for col in "BCDE":
        ws.column_dimensions[col].width = 16
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(vertical="center", wrap_text=cell.column == 1 and cell.row > 1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def download(body: bytes, name: str, ascii_name: str) -> Response:
    """An attachment with its Chinese file name (RFC 5987) and an ASCII fallback; not cached."""
    name = re.sub(r'[\\/:*?"<>|\r\n]+', "_", name)
    response = Response(body, mimetype=XLSX)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def audit(session, what: str, **detail) -> None:
    """One audit record 审计记录 of the statistics pages, in the request's transaction."""
    from app.engine import audit as engine_audit
    from app.engine.services import Actor
    engine_audit.record(session, "family", Actor(current_user.username, current_user.id),
                        family="distribution", what=what, **detail)


@bp.get("/distribution/statistics.xlsx")
@groups(*WHO)
def xlsx():
    session = db_session()
    try:
        period, scope = requested(session)
    except Refused as e:
        return make_response(render_template("error.html", code=400, message=e.message), 400)
    ctx = context(session, period, scope)
    body = workbook(ctx)
    audit(session, "statistics_xlsx", period=period.key, scope=scope.key,
          filed=ctx["table"].id if ctx["table"] is not None else None)
    session.commit()
    ascii_scope = re.sub(r"[^A-Za-z0-9_-]", "-", scope.key)[:40]
    return download(body, f"发放情况统计表-{period.label_zh}-{ctx['scope_label']}.xlsx",
                    f"issuance-statistics-{period.key}-{ascii_scope}.xlsx")
