"""The documents' error 单据错误: the document kit's (app.documents), named here too."""
from __future__ import annotations

from app.documents.errors import DocumentError

__all__ = ["DocumentError"]
