"""PDF of the documents 单据PDF: the HTML printed by WeasyPrint on A4 with the same stylesheet
as the pages (Chinese text in "WenQuanYi Zen Hei", Debian package fonts-wqy-zenhei)."""
from __future__ import annotations

from functools import lru_cache

from app.documents.html import CSS_FILE, KIT_TEMPLATES


@lru_cache(maxsize=1)
def _weasyprint():
    """WeasyPrint, imported when the first PDF is asked for (heavy, not with the pages). Its
    import sets Pillow's process-wide ``LOAD_TRUNCATED_IMAGES``, which would let the photo
    check of the application form accept a truncated JPEG in every later request: put it back."""
    from PIL import ImageFile
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint
    ImageFile.LOAD_TRUNCATED_IMAGES = before
    return weasyprint


@lru_cache(maxsize=1)
def _stylesheet():
    return _weasyprint().CSS(filename=str(CSS_FILE))


def pdf(html_text: str, base_url=None) -> bytes:
    """The page (rendered with ``inline_css=False``) as a PDF; ``base_url`` resolves relative
    links (the kit's templates folder when none is given)."""
    weasyprint = _weasyprint()
    return weasyprint.HTML(string=html_text, base_url=str(base_url or KIT_TEMPLATES)).write_pdf(
        stylesheets=[_stylesheet()])
