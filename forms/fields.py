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


class FieldGroup:
    """Fields the form template (``app/templates/_form.html``) draws together, in a fieldset
    under ``legend``, in the form's field order. ``show_when=(field, value)``: the group
    concerns only that answer (e.g. a proxy's details when a proxy collects the card). The
    page then hides it until that answer is chosen (``app/static/forms.js``; without
    scripts it stays visible and its legend says when to fill it in), and the form validates
    its fields only for that answer."""

    def __init__(self, name: str, legend: T, fields: tuple[str, ...],
                 show_when: tuple[str, str] | None = None):
        self.name = name
        self.legend = legend
        self.fields = tuple(fields)
        self.show_when = show_when

    def applies(self, form) -> bool:
        """Whether the group's fields count for the data of ``form`` (always, without
        ``show_when``)."""
        if self.show_when is None:
            return True
        field, value = self.show_when
        return form[field].data == value

    def __repr__(self) -> str:
        return f"FieldGroup({self.name!r}, {self.fields!r})"


class FieldGroups(tuple):
    """A form's :class:`FieldGroup` s (class attribute ``field_groups``)."""

    def of(self, field_name: str) -> FieldGroup | None:
        for group in self:
            if field_name in group.fields:
                return group
        return None

    def ignored(self, form) -> list[str]:
        """Fields of the groups that do not apply to ``form``'s data (not validated, and
        cleared from its results)."""
        return [name for group in self if not group.applies(form) for name in group.fields]


def ignore_fields(form, names) -> None:
    """Leave fields out of validation: as if they had not been posted (``Optional`` stops,
    checkboxes are unticked). For fields of a group that does not apply."""
    for name in names:
        field = form[name]
        field.raw_data = []
        field.data = False if isinstance(field, wtforms.BooleanField) else None


class GroupedFields:
    """Mixin of a task form with ``field_groups`` (put it before ``TaskForm``): the fields
    of a group that does not apply to the posted data are not validated (a proxy's name
    typed by mistake while the holder collects the card is no error) and come out empty."""

    field_groups: FieldGroups = FieldGroups()

    def validate(self, extra_validators=None) -> bool:
        ignore_fields(self, self.field_groups.ignored(self))
        return super().validate(extra_validators)
