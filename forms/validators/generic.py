"""Generic field validators 通用校验: required with the field's label, a check function as a
validator, dates not after today; ``compact`` normalises what a clerk typed."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from wtforms.validators import StopValidation, ValidationError

from app.common.clock import china_today as today  # forms may use app.common
from forms.i18n import T

def compact(value: object) -> str:
    """Full-width to half-width (IME input), drop spaces, upper-case."""
    text = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", "", text).upper()


# ---------------------------------------------------------------- generic field validators

MSG_REQUIRED = T("请填写“{label}”", "Please fill in “{label}”")
MSG_CHOOSE = T("请选择“{label}”", "Please choose “{label}”")
MSG_NOT_FUTURE = T("“{label}”不能晚于今天", "“{label}” cannot be later than today")


def _is_empty(data: object) -> bool:
    if isinstance(data, str):
        return not data.strip()
    return data is None or data is False or (hasattr(data, "filename") and not data)


class Required:
    """Like WTForms' DataRequired, but names the field in its message and keeps a
    conversion error (e.g. a mistyped date) instead of replacing it with "required"."""

    field_flags = {"required": True}

    def __init__(self, message: T | None = None, choose: bool = False):
        self.message = message
        self.choose = choose

    def __call__(self, form, field) -> None:
        if field.process_errors:
            raise StopValidation()  # the conversion error already says what is wrong
        if _is_empty(field.data):
            template = MSG_CHOOSE if self.choose else MSG_REQUIRED
            raise StopValidation(self.message or template.format(label=field.label.text))


class Rule:
    """Field validator from a check function; empty values are left to Required/Optional.
    The normalised value replaces ``field.data``."""

    def __init__(self, check, **kwargs):
        self.check = check
        self.kwargs = kwargs

    def __call__(self, form, field) -> None:
        if not _is_empty(field.data):
            field.data = self.check(field.data, **self.kwargs)


MSG_BETWEEN = T("“{label}”应在 {low} 至 {high} 之间", "“{label}” must be between {low} and {high}")


class Between:
    """A whole number from ``low`` to ``high`` (WTForms' NumberRange turns the number into a
    float first: a 400-digit number typed in a form is then an OverflowError, not a message)."""

    def __init__(self, low: int, high: int, message: T | None = None):
        self.low, self.high, self.message = low, high, message

    def __call__(self, form, field) -> None:
        if isinstance(field.data, int) and not self.low <= field.data <= self.high:
            raise ValidationError(self.message or MSG_BETWEEN.format(
                label=field.label.text, low=f"{self.low:,}", high=f"{self.high:,}"))


class NotAfterToday:
    """Dates such as the birth date or the application date cannot lie in the future."""

    def __call__(self, form, field) -> None:
        if isinstance(field.data, date) and field.data > today():
            raise ValidationError(MSG_NOT_FUTURE.format(label=field.label.text))
