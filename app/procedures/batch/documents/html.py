"""HTML of the employer documents 单据HTML: the Jinja2 templates of
``templates/`` beside this module (documents, not the app's pages) rendered without Flask (the procedures know no web), with
the one print stylesheet ``app/static/documents.css``."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.procedures.batch.documents import texts, words
from app.procedures.batch.documents.source import EmployerData, department

_APP = Path(__file__).resolve().parents[3]
TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS_FILE = _APP / "static" / "documents.css"

#: rows left empty for the employer's hand: the summary's extra departments, the not-returned
#: list (seed 001 annexes 4 and 5 are forms to fill in)
SUMMARY_MIN_ROWS, SUMMARY_BLANK_ROWS, NOT_RETURNED_ROWS = 10, 3, 20
#: roster rows on one A4 sheet (with the heading, the total and the page number)
ROSTER_ROWS = 36


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(sex=words.sex, ethnicity=words.ethnicity, count_zh=words.count,
                       enumerate_zh=words.enumerate_zh, id_boxes=words.id_boxes,
                       date_zh=words.date_zh, department=department)
    return env


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return CSS_FILE.read_text(encoding="utf-8")


def render(kind: str, data: EmployerData, *, css_href: str | None = None,
           inline_css: bool = True) -> str:
    """The document as a page: the stylesheet linked (``css_href``, for browsers: the CSP
    forbids inline styles), inline (a file saved on its own), or left out (WeasyPrint gets it
    separately)."""
    summary_rows = max(SUMMARY_MIN_ROWS, len(data.departments) + SUMMARY_BLANK_ROWS)
    template = environment().get_template(f"{kind}.html")
    return template.render(
        d=data, kind=kind, css_href=css_href,
        inline_css=stylesheet() if inline_css and not css_href else None,
        id_box_count=words.ID_BOXES,
        summary_blank_rows=summary_rows - len(data.departments),
        not_returned_rows=NOT_RETURNED_ROWS, roster_rows=ROSTER_ROWS,
        notes=texts.summary_notes(len(data.city.banks)), note=texts.NOT_RETURNED_NOTE)
