"""The platform's one shape of error a person reads (双语错误): a Chinese and an English message,
a stable ``code`` where a diagram or a client may act on it, and a ``kind`` the web and API
map to their answer (``not_found`` 404, ``invalid`` 422, ``forbidden`` 403, ``conflict`` 409).

EngineError, ServiceError, the adapters' errors and the domain's rule errors all derive from
it. (``hardware`` keeps its own ``HardwareError`` of the same shape: it imports nothing of the
platform.)
"""
from __future__ import annotations


class BilingualError(Exception):
    kind = "conflict"
    code: str | None = None
    message_zh: str = ""
    message_en: str = ""

    def __init__(self, message_zh: str | None = None, message_en: str | None = None, *,
                 code: str | None = None, kind: str | None = None):
        self.message_zh = message_zh if message_zh is not None else type(self).message_zh
        self.message_en = message_en or type(self).message_en or self.message_zh
        if code is not None:
            self.code = code
        if kind is not None:
            self.kind = kind
        super().__init__(f"{self.message_zh} / {self.message_en}")

    # the adapters' historical names
    @property
    def zh(self) -> str:
        return self.message_zh

    @property
    def en(self) -> str:
        return self.message_en

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang.startswith("en") else self.message_zh
