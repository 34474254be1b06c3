"""Field types shared by task forms 表单字段.

Small adjustments of WTForms fields so the same form works for an HTML post and for a JSON
dict fed through ``validate_data``: lenient dates, more spellings of true/false, and choice
fields that leave "nothing chosen" to ``Required`` instead of reporting an invalid choice.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

import wtforms

from forms.choices import NO, YES, YES_NO
from forms.i18n import T

try:  # WTForms >= 3.3 declares choices as SelectChoice; tuples are deprecated there
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - WTForms 3.1/3.2
    SelectChoice = None


def make_choices(table, blank: T | None = None) -> list:
    """Choices for a Select/RadioField from a ``(code, T)`` table, optionally led by a
    blank "please choose" entry."""
    rows = ([("", blank)] if blank is not None else []) + list(table)
    if SelectChoice is None:
        return rows
    return [SelectChoice(value=code, label=label) for code, label in rows]


PLEASE_CHOOSE = T("请选择", "Please choose")


def strip(value):
    return value.strip() if isinstance(value, str) else value


class StringField(wtforms.StringField):
    """Text field that trims surrounding blanks."""

    def __init__(self, label=None, validators=None, filters=(), **kwargs):
        super().__init__(label, validators, filters=(strip, *filters), **kwargs)


class TextAreaField(StringField):
    widget = wtforms.widgets.TextArea()


class _LenientChoice:
    def pre_validate(self, form):
        if self.data in (None, ""):
            return  # nothing chosen: Required / Optional decide
        super().pre_validate(form)


class SelectField(_LenientChoice, wtforms.SelectField):
    pass


class RadioField(_LenientChoice, wtforms.RadioField):
    pass


_TRUE = {"yes", "y", "true", "1", "on", "是"}
_FALSE = {"no", "n", "false", "0", "off", "否"}


class YesNoField(RadioField):
    """是/否 radio buttons; also takes true/false, 1/0, y/n, 是/否 from an API."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("choices", make_choices(YES_NO))
        kwargs.setdefault("default", "")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            word = str(valuelist[0]).strip().lower()
            valuelist = [YES if word in _TRUE else NO if word in _FALSE else word]
        super().process_formdata(valuelist)


class CheckboxField(wtforms.BooleanField):
    """A checkbox; "false", "0", "off", "no" (any case) also count as unticked."""

    def process_formdata(self, valuelist):
        value = valuelist[0] if valuelist else ""
        self.data = not (value is False or str(value).strip().lower() in _FALSE | {""})


MSG_DATE = T("请输入有效日期，格式为YYYY-MM-DD，例如2015-08-06",
             "Please enter a valid date as YYYY-MM-DD, e.g. 2015-08-06")
_LOOSE_DATE = re.compile(r"(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?")


def parse_date(text: str) -> date | None:
    """2015-08-06, 20150806, 2015/8/6, 2015.8.6, 2015年8月6日, or an ISO datetime."""
    text = unicodedata.normalize("NFKC", text).strip()
    for parse in (date.fromisoformat, lambda s: datetime.fromisoformat(s).date()):
        try:
            return parse(text)
        except ValueError:
            pass
    match = _LOOSE_DATE.fullmatch(text)
    if match:
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            return None
    return None


class DateField(wtforms.DateField):
    """Date input; an empty value is None (left to Required/Optional), several common
    spellings are accepted, a bad one gets a message showing the expected format."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = " ".join(str(v) for v in valuelist).strip()
        if not text:
            self.data = None
            return
        self.data = parse_date(text)
        if self.data is None:
            raise ValueError(MSG_DATE)


class FileField(wtforms.FileField):
    """Upload field; the value may also be bytes or base64 text from the JSON API."""
