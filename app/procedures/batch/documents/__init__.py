"""Documents per employer 单位单据 (seed 001 §3.2, §4.1-4.2, annexes 1-6): the comparison
roster 花名册, one personal confirmation form 确认表 per eligible person, the notice 告知书, the
application summary 申领汇总表, the list of forms not returned 未返回人员汇总表 and the
authorisation voucher 申领凭证, as printable A4 HTML, as PDF, and as Excel where the form is a
table, made with the document kit (app.documents).

Paper forms carry the full ID number: the person and the employer check it. The web layer
decides who may download them and records who did.

    render_html(session, "roster", employer_id, css_href="/static/documents.css")
    render_pdf(session, "confirmation", employer_id)
    render_xlsx(session, "summary", employer_id)
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.documents import PAPER as _PAPER
from app.documents import TABLE as _TABLE
from app.documents import DocumentError, check
from app.procedures.batch.documents import html, pdf, source, xlsx

__all__ = ["DOCUMENTS", "DocumentError", "render_html", "render_pdf", "render_xlsx"]

#: kind -> (Chinese title, English title, formats)
DOCUMENTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "roster": ("用人单位职工社保卡个人信息比对花名册", "Comparison roster of the employees", _TABLE),
    "confirmation": ("社会保障卡个人信息确认及申领表",
                     "Personal confirmation and application forms (one per person)", _PAPER),
    "notice": ("单位职工社会保障卡申领办理告知书", "Notice to the employees", _PAPER),
    "summary": ("用人单位社保卡申领汇总表", "Application summary of the employer", _TABLE),
    "not_returned": ("《信息确认表》未返回人员汇总表", "List of confirmation forms not returned",
                     _TABLE),
    "voucher": ("参保单位统一申领本单位职工社会保障卡凭证", "Employer's authorisation voucher", _PAPER),
}

# what each document reads besides the employer and the city
_NEEDS_PERSONS = {"roster", "confirmation", "summary"}
_NEEDS_VOUCHER = {"voucher"}


def _check(kind: str, fmt: str) -> None:
    check(DOCUMENTS, kind, fmt)


def _data(session: Session, kind: str, employer_id) -> source.EmployerData:
    return source.load(session, employer_id, persons=kind in _NEEDS_PERSONS,
                       voucher=kind in _NEEDS_VOUCHER)


def render_html(session: Session, kind: str, employer_id, *, css_href: str | None = None) -> str:
    """The document as an HTML page; with ``css_href`` the stylesheet is linked (pages served
    under the CSP), without it the page carries it inline (a file that stands on its own)."""
    _check(kind, "html")
    return html.render(kind, _data(session, kind, employer_id), css_href=css_href)


def render_pdf(session: Session, kind: str, employer_id) -> bytes:
    _check(kind, "pdf")
    page = html.render(kind, _data(session, kind, employer_id), inline_css=False)
    return pdf.pdf(page)


def render_xlsx(session: Session, kind: str, employer_id) -> bytes:
    _check(kind, "xlsx")
    return xlsx.SHEETS[kind](_data(session, kind, employer_id))
