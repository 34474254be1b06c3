"""HTML of the distribution documents 发放单据HTML: the Jinja2 templates of ``templates/`` beside
this module, rendered by the document kit (app.documents)."""
from __future__ import annotations

from pathlib import Path

from app.documents import Templates
from app.procedures.distribution.documents import texts
from app.procedures.distribution.documents.source import Common

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: lines of the distribution roster and the return register on one A4 sheet (rows high enough
#: to sign in, the heading, the total and the signatures)
ROSTER_ROWS = 20
REGISTER_ROWS = 20

templates = Templates(TEMPLATES)


def render(kind: str, data: Common, *, css_href: str | None = None,
           inline_css: bool = True) -> str:
    return templates.render(
        kind, css_href=css_href, inline_css=inline_css, subject=data.employer.name, d=data,
        t=texts, roster_rows=ROSTER_ROWS, register_rows=REGISTER_ROWS,
        province_copies=texts.province_copies(data.province[1]))
