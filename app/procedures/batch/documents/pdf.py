"""PDF of the employer documents 单据PDF: the document kit's (WeasyPrint on A4, the same
stylesheet as the pages)."""
from __future__ import annotations

from app.documents import pdf as _kit_pdf
from app.procedures.batch.documents.html import TEMPLATES


def pdf(html_text: str) -> bytes:
    return _kit_pdf(html_text, base_url=TEMPLATES)
