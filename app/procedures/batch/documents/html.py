"""HTML of the employer documents 单据HTML: the Jinja2 templates of ``templates/`` beside this
module rendered by the document kit (app.documents: without Flask, the frame and the generic
macros, the one print stylesheet ``app/static/documents.css``)."""
from __future__ import annotations

from pathlib import Path

from app.documents import CSS_FILE, Templates
from app.procedures.batch.documents import texts, words
from app.procedures.batch.documents.source import EmployerData, department

__all__ = ["CSS_FILE", "NOT_RETURNED_ROWS", "ROSTER_ROWS", "SUMMARY_BLANK_ROWS",
           "SUMMARY_MIN_ROWS", "TEMPLATES", "render"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: rows left empty for the employer's hand: the summary's extra departments, the not-returned
#: list (seed 001 annexes 4 and 5 are forms to fill in)
SUMMARY_MIN_ROWS, SUMMARY_BLANK_ROWS, NOT_RETURNED_ROWS = 10, 3, 20
#: roster rows on one A4 sheet (with the heading, the total and the page number)
ROSTER_ROWS = 36

templates = Templates(TEMPLATES, filters={"sex": words.sex, "ethnicity": words.ethnicity,
                                          "department": department})


def render(kind: str, data: EmployerData, *, css_href: str | None = None,
           inline_css: bool = True) -> str:
    """The document as a page: the stylesheet linked (``css_href``), inline (a file saved on
    its own), or left out (WeasyPrint gets it separately)."""
    summary_rows = max(SUMMARY_MIN_ROWS, len(data.departments) + SUMMARY_BLANK_ROWS)
    return templates.render(
        kind, css_href=css_href, inline_css=inline_css, subject=data.employer.name,
        d=data, id_box_count=words.ID_BOXES,
        summary_blank_rows=summary_rows - len(data.departments),
        not_returned_rows=NOT_RETURNED_ROWS, roster_rows=ROSTER_ROWS,
        notes=texts.summary_notes(len(data.city.banks)), note=texts.NOT_RETURNED_NOTE)
