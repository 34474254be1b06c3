"""Base class for forms of BPMN user tasks 用户任务表单基类, and ``validate_data`` for the
JSON API.

A ``TaskForm`` is a plain ``wtforms.Form`` (the web layer adds CSRF globally). WTForms' own
messages ("This field is required.") come from its bundled translations in the locale that is
current when the form is *constructed*; messages written as ``T`` stay lazy.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar, Iterable

import wtforms
from werkzeug.datastructures import FileStorage, MultiDict

from forms.i18n import T, get_locale, to_text


@lru_cache(maxsize=None)
def wtforms_translations(lang: str):
    """WTForms' bundled gettext catalogue for "zh" or "en"."""
    return wtforms.i18n.get_translations([lang])


class TaskForm(wtforms.Form):
    """Form of a BPMN user task. Subclasses set ``form_key`` (the user task's form key, e.g.
    "application") and ``title``, and may yield cross-field errors from ``cross_validate``."""

    form_key: ClassVar[str] = ""
    title: ClassVar[T | str] = ""

    class Meta:
        def get_translations(self, form):
            return wtforms_translations(get_locale())

        def wrap_formdata(self, form, formdata):
            formdata = super().wrap_formdata(form, formdata)
            return None if formdata is None else without_stray_uploads(formdata, form)

    def __init__(self, *args, **kwargs):
        self._valid = False
        super().__init__(*args, **kwargs)

    def cross_validate(self) -> Iterable[tuple[str | None, T]]:
        """Rules spanning several fields: yield ``(field_name, message)``; a ``None`` field
        name makes it a form-level error. Field errors of single fields are already set."""
        return ()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for name, message in self.cross_validate():
            if name is None:
                self.form_errors.append(message)
            else:
                self[name].errors.append(message)
            ok = False
        self._valid = ok
        return ok

    def field_ok(self, name: str) -> bool:
        """The field validated without errors and holds a value (for cross-field rules)."""
        field = self[name]
        return not field.errors and field.data not in (None, "", [])

    def errors_text(self) -> dict[str, list[str]]:
        """``errors`` with plain strings of the current locale (JSON-ready); form-level
        errors under the key ""."""
        return to_text(self.errors)

    def cleaned(self) -> dict[str, Any]:
        """JSON-serialisable, normalised field values (dates as ISO strings); file fields
        are left out. Only after a successful ``validate()``."""
        if not self._valid:
            raise RuntimeError("cleaned() needs a successful validate() first")
        skip = (wtforms.FileField, wtforms.SubmitField)
        return {
            name: json_value(field.data)
            for name, field in self._fields.items()
            if not isinstance(field, skip) and name != self.meta.csrf_field_name
        }


def without_stray_uploads(formdata, form: wtforms.Form):
    """``formdata`` without uploads posted under a field that is no file field. A browser sends
    files for file inputs only; a crafted multipart post may send one for any name, and a text
    or date field cannot take it (``len()`` of an upload, rendering it again: a 500). Such an
    upload is left out, as if the field had not been posted."""
    file_fields = {field.name for field in form if isinstance(field, wtforms.FileField)}
    stray = [key for key in formdata.keys() if key not in file_fields
             and any(isinstance(v, FileStorage) for v in formdata.getlist(key))]
    if not stray:
        return formdata
    return MultiDict([(key, value) for key in formdata.keys() for value in formdata.getlist(key)
                      if key in file_fields or not isinstance(value, FileStorage)])


def json_value(value: Any) -> Any:
    if isinstance(value, str):
        return value or None  # an empty optional field is "absent", not ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, T):
        return str(value)
    return value


def _form_values(value: Any) -> list:
    """A JSON value as the list of form values WTForms expects for one key."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [v for item in value for v in _form_values(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, datetime):
        return [value.isoformat()]
    if isinstance(value, date):
        return [value.isoformat()]
    if isinstance(value, (str, bytes, bytearray, FileStorage)):
        return [value]  # photos may come as bytes or uploads: pass them through
    return [str(value)]


def to_formdata(data: dict) -> MultiDict:
    """A JSON-like dict as a werkzeug ``MultiDict`` of strings (files/bytes kept)."""
    return MultiDict([(str(key), v) for key, value in data.items() for v in _form_values(value)])


def validate_data(form_cls: type[TaskForm], data: dict, **kwargs) -> tuple[TaskForm, dict]:
    """Validate a dict (e.g. a JSON request body) with ``form_cls`` exactly as a posted HTML
    form would be. Returns ``(form, errors)``; ``errors`` is ``{}`` when valid, otherwise
    ``{field: [message, ...]}`` in the current locale."""
    form = form_cls(formdata=to_formdata(data or {}), **kwargs)
    if form.validate():
        return form, {}
    return form, to_text(form.errors)
