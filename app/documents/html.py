"""HTML of the documents 单据HTML: a family's Jinja2 templates (documents, not the app's pages)
rendered without Flask (the procedures know no web), over the kit's own templates (the frame
``_document.html``, the macros ``_forms.html``), with the one print stylesheet
``app/static/documents.css`` linked, inline, or left to WeasyPrint."""
from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from app.documents import words

_APP = Path(__file__).resolve().parents[1]
KIT_TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS_FILE = _APP / "static" / "documents.css"

#: filters every document may use
FILTERS = {"count_zh": words.count, "enumerate_zh": words.enumerate_zh,
           "id_boxes": words.id_boxes, "date_zh": words.date_zh, "mask_id": words.mask_id,
           "mask_card": words.mask_card}


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return CSS_FILE.read_text(encoding="utf-8")


class Templates:
    """The templates of one folder (a family's ``templates/``), then the kit's, with the kit's
    filters and the family's own (``filters``; a family's filter of the same name wins)."""

    def __init__(self, folder: Path | str, filters: dict | None = None):
        self.folder = Path(folder)
        self._filters = dict(filters or {})

    @cached_property
    def environment(self) -> Environment:
        env = Environment(loader=ChoiceLoader([FileSystemLoader(self.folder),
                                               FileSystemLoader(KIT_TEMPLATES)]),
                          autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True)
        env.filters.update(FILTERS)
        env.filters.update(self._filters)
        return env

    def render(self, kind: str, *, css_href: str | None = None, inline_css: bool = True,
               subject: str | None = None, **context) -> str:
        """``{kind}.html`` as a page: the stylesheet linked (``css_href``, for browsers: the CSP
        forbids inline styles), inline (a file saved on its own), or left out (``inline_css``
        false: WeasyPrint gets it separately). ``subject`` (an employer's name...) follows the
        title in the page's ``<title>``; ``context`` is the template's."""
        template = self.environment.get_template(f"{kind}.html")
        return template.render(
            kind=kind, css_href=css_href, subject=subject,
            inline_css=stylesheet() if inline_css and not css_href else None, **context)
