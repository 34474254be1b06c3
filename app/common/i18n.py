"""Tiny bilingual text mechanism 中英双语文本.

The UI is Chinese by default and English on request. Every label, description, choice and
message is written once as ``T(zh, en)``; the object stays lazy and picks its language each
time it is turned into a string, from the context variable ``current_locale``. A context
variable (not a global) keeps concurrent requests and threads from seeing each other's
language.

    >>> msg = T("请填写{what}", "Please fill in {what}").format(what=T("姓名", "name"))
    >>> str(msg)
    '请填写姓名'
    >>> with set_locale("en"):
    ...     str(msg)
    'Please fill in name'
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

from markupsafe import escape

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


def normalise_locale(lang: str | None) -> str:
    """Map "zh-CN", "zh_Hans", "EN-us", None ... to "zh" or "en"."""
    code = (lang or DEFAULT_LOCALE).strip().lower().replace("_", "-").split("-")[0]
    if code not in LOCALES:
        raise ValueError(f"unsupported locale {lang!r}; use one of {LOCALES}")
    return code


def get_locale() -> str:
    return current_locale.get()


def pick(zh: str, en: str) -> str:
    """The text of the current language (pages: ``{{ t('收件箱', 'Inbox') }}``)."""
    return en if get_locale() == "en" else zh


class set_locale:
    """Switch the language: ``set_locale("en")`` for the rest of the current context, or
    ``with set_locale("en"): ...`` to switch back afterwards."""

    def __init__(self, lang: str | None):
        self.lang = normalise_locale(lang)
        self._token: Token | None = current_locale.set(self.lang)

    def __enter__(self) -> str:
        return self.lang

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            current_locale.reset(self._token)
            self._token = None


def _plain(value: Any, lang: str) -> Any:
    """Resolve lazy texts nested in format arguments, in the same language."""
    if isinstance(value, T):
        return value.text(lang)
    if isinstance(value, dict):
        return {k: _plain(v, lang) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(v, lang) for v in value)
    return value


class T:
    """A lazy bilingual string: ``str(T("男", "Male"))`` is "男" or "Male" by locale."""

    __slots__ = ("zh", "en", "_fmt")

    def __init__(self, zh: str, en: str | None = None):
        self.zh = zh
        self.en = zh if en is None else en
        self._fmt: tuple | None = None  # ("{}", args, kwargs) or ("%", operand)

    def text(self, lang: str | None = None) -> str:
        """The text in ``lang`` (default: the current locale)."""
        lang = normalise_locale(lang) if lang else current_locale.get()
        template = self.en if lang == "en" else self.zh
        if self._fmt is None:
            return template
        if self._fmt[0] == "%":
            return template % _plain(self._fmt[1], lang)
        _, args, kwargs = self._fmt
        return template.format(*_plain(args, lang), **_plain(kwargs, lang))

    def format(self, *args: Any, **kwargs: Any) -> "T":
        """Like ``str.format`` but lazy; arguments may themselves be ``T``."""
        new = T(self.zh, self.en)
        new._fmt = ("{}", args, kwargs)
        return new

    def __mod__(self, operand: Any) -> "T":
        # WTForms' own validators (Length, NumberRange) do ``message % dict(...)``.
        new = T(self.zh, self.en)
        new._fmt = ("%", operand)
        return new

    def __str__(self) -> str:
        return self.text()

    def __html__(self) -> str:
        # Jinja/markupsafe call this; the text is plain, so escape it.
        return str(escape(self.text()))

    def __format__(self, spec: str) -> str:
        return format(self.text(), spec)

    def __repr__(self) -> str:
        return f"T({self.zh!r}, {self.en!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, T):
            return (self.text("zh"), self.text("en")) == (other.text("zh"), other.text("en"))
        if isinstance(other, str):
            return self.text() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.zh, self.en))

    def __contains__(self, item: str) -> bool:
        return item in self.text()

    def __len__(self) -> int:
        return len(self.text())

    def __add__(self, other: object) -> str:
        return self.text() + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + self.text()


def to_text(value: Any) -> Any:
    """Turn lazy texts inside dicts/lists (e.g. ``form.errors``) into plain strings of the
    current locale, e.g. for a JSON response. Dict keys ``None`` become ``""``."""
    if isinstance(value, T):
        return str(value)
    if isinstance(value, dict):
        return {("" if k is None else k): to_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_text(v) for v in value]
    return value
