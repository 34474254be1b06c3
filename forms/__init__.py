"""Task forms 任务表单 for the BPMN user tasks (WTForms, bilingual zh/en).

Each family's manifest names its forms module (``forms.<family>``); importing it registers its
forms in ``forms.registry``.
This package must not import the Flask app.
"""

from forms.base import TaskForm, to_formdata, validate_data
from forms.i18n import T, current_locale, get_locale, set_locale, to_text
from forms.registry import UnknownFormKey, all_form_keys, get_form, has_form, register

__all__ = [
    "T", "TaskForm", "UnknownFormKey", "all_form_keys", "current_locale", "get_form",
    "get_locale", "has_form", "register", "set_locale", "to_formdata", "to_text",
    "validate_data",
]
