"""Documents of the distribution 发放单据 (seed 000 §3, seed 001 §5.3-5.4), made with the document
kit (app.documents): for an employer pickup 单位批量领卡 the handover sheet 交接单 (two copies),
the pickup slip 领取单, the distribution roster 发放花名册 / 发放清单, one usage notice 使用须知
per person and the return register 退回登记表 (cards not handed out within 6 months); for a
return 退卡回收 the return slip 退卡回收单 (two copies, the two groups apart) and the provincial
return slip of its wrong-data cards (省社会保障卡退卡回收单, two copies). Printable A4 HTML, PDF,
and Excel where the form is a table.

The roster carries the full ID number (the holder and the employer check it on paper); the other
forms print it masked, and the card numbers masked (but the provincial slip: the province knows a
card by its number). The web layer decides who may download them and records who did.

    render_html(session, "handover", pickup_id, css_href="/static/documents.css")
    render_pdf(session, "return_slip", return_id)
    render_xlsx(session, "distribution_roster", pickup_id)

``SUBJECTS[kind]`` says what ``ref_id`` is: ``"pickup"`` (EmployerPickup.id) or ``"return"``
(CardReturn.id).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.documents import PAPER, TABLE, DocumentError, check, pdf
from app.procedures.distribution.documents import html, source, xlsx

__all__ = ["DOCUMENTS", "SUBJECTS", "DocumentError", "render_html", "render_pdf", "render_xlsx"]

#: kind -> (Chinese title, English title, formats)
DOCUMENTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "handover": ("社会保障卡交接单", "Handover sheet (two copies)", PAPER),
    "pickup_slip": ("社会保障卡领取单", "Pickup slip", PAPER),
    "distribution_roster": ("社会保障卡发放花名册（发放清单）", "Distribution roster", TABLE),
    "usage_notice": ("社会保障卡使用须知", "Usage notices (one per person)", PAPER),
    "return_register": ("社会保障卡退回登记表",
                        "Return register (cards not handed out within 6 months)", TABLE),
    "return_slip": ("社会保障卡退卡回收单", "Return slip (two copies)", PAPER),
    "province_slip": ("省社会保障卡退卡回收单",
                      "Provincial return slip of the wrong-data cards (two copies)", PAPER),
}

#: what each document's ``ref_id`` names
SUBJECTS: dict[str, str] = {kind: "return" if kind in ("return_slip", "province_slip")
                            else "pickup" for kind in DOCUMENTS}


def _data(session: Session, kind: str, ref_id):
    if SUBJECTS[kind] == "return":
        return source.load_return(session, ref_id)
    return source.load_pickup(session, ref_id, with_outstanding=kind == "return_register")


def render_html(session: Session, kind: str, ref_id, css_href: str | None = None) -> str:
    """The document as an HTML page; with ``css_href`` the stylesheet is linked (pages served
    under the CSP), without it the page carries it inline (a file that stands on its own)."""
    check(DOCUMENTS, kind, "html")
    return html.render(kind, _data(session, kind, ref_id), css_href=css_href)


def render_pdf(session: Session, kind: str, ref_id) -> bytes:
    check(DOCUMENTS, kind, "pdf")
    page = html.render(kind, _data(session, kind, ref_id), inline_css=False)
    return pdf(page, base_url=html.TEMPLATES)


def render_xlsx(session: Session, kind: str, ref_id) -> bytes:
    check(DOCUMENTS, kind, "xlsx")
    return xlsx.SHEETS[kind](_data(session, kind, ref_id))
