"""One employer application 单位申领 (routes on ``app.web.batch.bp``): its page, the agent
check against the voucher, its documents (HTML and Excel at once, PDF by a job)."""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.cases.access import BATCH_GROUPS
from app.common.errors import BilingualError
from app.common.i18n import T
from app.extensions import db_session
from app.permissions import groups
from app.procedures.batch import city as city_config
from app.procedures.batch import reconcile, rosters, voucher
from app.procedures.batch.documents import job as pdf_jobs
from app.procedures.batch.states import RULE_ORDER, Eligibility, Entry
from app.web import t
from app.web.batch import audit, bp, employer_or_404, file_response, message, not_found

# -- one employer application 单位申领 ---------------------------------------------------------

@bp.get("/batches/employers/<int:employer_id>", endpoint="employer")
@groups(*BATCH_GROUPS)
def show_employer(employer_id):
    from app.procedures.batch.documents import DOCUMENTS
    session = db_session()
    employer, batch = employer_or_404(employer_id)
    city = city_config.current(session)
    entries = reconcile.entry_counts(session, employer.id)
    statuses = rosters.status_counts(session, employer.id)
    vouchers = voucher.history(session, employer.code)
    summary = reconcile.summary(session, employer.id)
    declared = employer.declared or {}
    banks = list(summary["totals"]) or list(city.banks)
    declared_rows = [{"dept": d, "banks": {b: row.get(b, 0) for b in banks}, "total": sum(row.values())}
                     for d, row in sorted(declared.items())]
    pdfs = {kind: (pdf_jobs.pdf_job(session, employer.id, kind), pdf_jobs.latest_pdf(session, employer.id, kind))
            for kind, (_zh, _en, formats) in DOCUMENTS.items() if "pdf" in formats}
    from app.web.distribution import employer_section  # 领卡与发放 (the distribution pages)
    return render_template(
        "batch/employer.html", pdfs=pdfs, distribution=employer_section(session, employer),
        refresh=3 if any(j is not None and j.active for j, _ in pdfs.values()) else None,
        employer=employer, batch=batch, city=city, entries=entries,
        statuses=statuses, documents=DOCUMENTS, vouchers=vouchers, summary=summary, banks=banks,
        declared_rows=declared_rows, declared_totals={b: sum(r["banks"][b] for r in declared_rows) for b in banks},
        differences=employer.differences or [], no_dept=T(*reconcile.NO_DEPT),
        entry_order=list(Entry), eligibility_order=[*RULE_ORDER, Eligibility.ELIGIBLE],
        to_review=list(Entry).index(Entry.ENTERED) + 1)  # the grid's filter: entered forms


@bp.post("/batches/employers/<int:employer_id>/agent-check")
@groups("centre_clerk", "manager")
def agent_check(employer_id):
    """核验经办人: an agent acts by showing an ID, checked against the current voucher."""
    session = db_session()
    employer, _ = employer_or_404(employer_id)
    number = "".join((request.form.get("id_number") or "").split()).upper()[:18]
    if not number:
        flash(t("请输入经办人身份证号码", "Type the agent's ID number"))
    else:
        try:
            agent = voucher.check_agent(session, employer.code, number)
        except BilingualError as e:
            flash(message(e))
            audit(session, "agent_check", employer=employer.code, ok=False)
        else:
            current = voucher.current_voucher(session, employer.code)
            flash(t(f"核验通过：{agent.name} 是现行申领凭证（第 {current.version} 版）上的经办人",
                    f"Checked: {agent.name} is an agent on the current voucher (version {current.version})"))
            audit(session, "agent_check", employer=employer.code, ok=True)
        session.commit()
    return redirect(url_for("batch.employer", employer_id=employer.id))


@bp.post("/batches/employers/<int:employer_id>/documents/<kind>.pdf/make")
@groups(*BATCH_GROUPS)
def make_pdf(employer_id, kind):
    """生成 PDF: a background job; the employer page shows its progress, then the download."""
    from app.procedures.batch import documents
    session = db_session()
    employer, batch = employer_or_404(employer_id)
    if kind not in documents.DOCUMENTS or "pdf" not in documents.DOCUMENTS[kind][2]:
        not_found(T("没有这种单据或格式。", "There is no such document or format."))
    pdf_jobs.request_pdf(session, employer.id, kind, current_user.username)
    audit(session, "make_pdf", batch=batch.id, employer=employer.id, kind=kind)
    session.commit()
    flash(t("正在生成 PDF，完成后可在下方下载。", "The PDF is being made; it can be downloaded below when ready."))
    return redirect(url_for("batch.employer", employer_id=employer.id) + "#documents")


FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.get("/batches/employers/<int:employer_id>/documents/<kind>.<fmt>")
@groups(*BATCH_GROUPS)
def document(employer_id, kind, fmt):
    """单位单据: they carry full ID numbers, so each download is an audit record."""
    from app.procedures.batch import documents
    session = db_session()
    employer, batch = employer_or_404(employer_id)
    if kind not in documents.DOCUMENTS or fmt not in documents.DOCUMENTS[kind][2]:
        not_found(T("没有这种单据或格式。", "There is no such document or format."))
    try:
        if fmt == "html":
            body = documents.render_html(session, kind, employer.id,
                                         css_href=url_for("static", filename="documents.css"))
        elif fmt == "pdf":  # made by a job (minutes for a thousand forms): the newest one
            stored = pdf_jobs.latest_pdf(session, employer.id, kind)
            if stored is None:
                not_found(T("该单据的 PDF 尚未生成：请在单位页面点“生成 PDF”。",
                            "This PDF has not been made yet: use “Make PDF” on the employer page."))
            body = stored.content
        else:
            body = documents.render_xlsx(session, kind, employer.id)
    except documents.DocumentError as e:
        session.rollback()
        not_found(T(e.message_zh, e.message_en))
    audit(session, "document", batch=batch.id, employer=employer.id, employer_code=employer.code,
          kind=kind, format=fmt)
    session.commit()
    zh, _en, _formats = documents.DOCUMENTS[kind]
    code = re.sub(r"[^A-Za-z0-9_-]", "", employer.code)[:30] or str(employer.id)
    return file_response(body, FORMATS[fmt], f"{employer.name}-{zh}.{fmt}",
                         f"employer-{code}-{kind}.{fmt}", inline=fmt != "xlsx")
