"""The documents' error 单据错误: an unknown document, format or subject (the pages answer 404)."""
from __future__ import annotations

from app.common.errors import BilingualError


class DocumentError(BilingualError):
    kind = "not_found"

    def __init__(self, zh: str, en: str, code: str = "document"):
        super().__init__(zh, en, code=code)
