"""A family's catalogue of documents 单据目录: ``{kind: (Chinese title, English title, formats)}``,
the check of a kind and a format against it, and the row a document is about."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.documents.errors import DocumentError

#: the formats of a form on paper, and of a form that is a table (Excel too)
PAPER = ("html", "pdf")
TABLE = ("html", "pdf", "xlsx")


def check(catalogue: dict[str, tuple[str, str, tuple[str, ...]]], kind: str, fmt: str) -> None:
    """Raise :class:`DocumentError` unless ``catalogue`` has ``kind`` in format ``fmt``."""
    if kind not in catalogue:
        raise DocumentError(f"没有这种单据：{kind}", f"No such document: {kind}",
                            code="document_unknown")
    if fmt not in catalogue[kind][2]:
        raise DocumentError(f"{catalogue[kind][0]}没有 {fmt} 格式",
                            f"{catalogue[kind][1]}: no {fmt} format", code="format_unknown")


def lookup(session: Session, model, ref, zh: str, en: str, code: str):
    """The row of ``model`` with primary key ``ref`` (a number, or its text); a
    :class:`DocumentError` ("没有编号为 {ref} 的{zh}") when there is none or ``ref`` is no
    number."""
    try:
        found = session.get(model, int(ref))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise DocumentError(f"没有编号为 {ref} 的{zh}", f"No {en} {ref}", code=code)
    return found
