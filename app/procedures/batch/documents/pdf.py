"""PDF of the employer documents 单据PDF: the HTML printed by WeasyPrint on A4 with the same
stylesheet (Chinese text in "WenQuanYi Zen Hei", Debian package fonts-wqy-zenhei)."""
from __future__ import annotations

from functools import lru_cache

from app.procedures.batch.documents.html import CSS_FILE, TEMPLATES


@lru_cache(maxsize=1)
def _stylesheet():
    import weasyprint   # heavy: loaded when the first PDF is asked for, not with the pages
    return weasyprint.CSS(filename=str(CSS_FILE))


def pdf(html_text: str) -> bytes:
    import weasyprint
    return weasyprint.HTML(string=html_text, base_url=str(TEMPLATES)).write_pdf(
        stylesheets=[_stylesheet()])
