"""Task forms 任务表单 for the BPMN user tasks (WTForms, bilingual zh/en).

Importing this package registers every built-in form in ``forms.registry``.
This package must not import the Flask app.
"""

from forms.base import TaskForm, to_formdata, validate_data
from forms.i18n import T, current_locale, get_locale, set_locale, to_text
from forms.registry import UnknownFormKey, all_form_keys, get_form, has_form, register

from forms import application  # noqa: E402,F401  (the application family's task forms)
from forms import calendar  # noqa: E402,F401  (the calendar-entry task)

__all__ = [
    "T", "TaskForm", "UnknownFormKey", "all_form_keys", "current_locale", "get_form",
    "get_locale", "has_form", "register", "set_locale", "to_formdata", "to_text",
    "validate_data",
]
