"""The document kit 单据工具 shared by the procedure families: printable A4 forms as HTML (Jinja2
templates rendered without Flask), as PDF (WeasyPrint, with the one print stylesheet
``app/static/documents.css``) and as Excel (openpyxl), and the error of an unknown document.
It knows no procedure family: each family keeps its own templates folder, its data and its
catalogue, and uses these pieces.

    templates = Templates(Path(__file__).parent / "templates", filters={"sex": sex})
    page = templates.render("roster", d=data, css_href="/static/documents.css")
    body = pdf(templates.render("roster", d=data, inline_css=False))

The kit's own templates (found after the family's): ``_document.html``, the frame of every
document (blocks ``title`` and ``pages``; ``subject`` follows the title in the browser's tab),
and ``_forms.html``, the generic macros (ID boxes, date line, copy mark, signature lines).
"""
from __future__ import annotations

from app.documents.catalogue import PAPER, TABLE, check, lookup
from app.documents.errors import DocumentError
from app.documents.html import CSS_FILE, KIT_TEMPLATES, Templates, stylesheet
from app.documents.pdf import pdf

__all__ = [
           "CSS_FILE",
           "KIT_TEMPLATES",
           "PAPER",
           "TABLE",
           "DocumentError",
           "Templates",
           "check",
           "lookup",
           "pdf",
           "stylesheet",
]
