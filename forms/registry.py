"""Registry of task forms by form key 表单登记. The platform's keys are namespaced by procedure
family (``application.handover``, ``calendar.year_entry``); a form may list the ``legacy_keys``
that models deployed before carried.

The BPMN engine checks at deploy time that every user task's form key has a form
(``get_form``/``has_form``), and the inbox looks the form up to render a task.
Importing the ``forms`` package registers all built-in forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forms.base import TaskForm

_FORMS: dict[str, type["TaskForm"]] = {}
_ALIASES: dict[str, str] = {}  # legacy key -> key (models deployed before keys had a family)


class UnknownFormKey(KeyError):
    """No form is registered under this form key."""


def register(form_cls: type["TaskForm"]) -> type["TaskForm"]:
    """Class decorator: register ``form_cls`` under its ``form_key``."""
    key = getattr(form_cls, "form_key", "")
    if not key:
        raise ValueError(f"{form_cls.__name__} has no form_key")
    if key in _ALIASES:
        raise ValueError(f"form key {key!r} is the legacy key of {_ALIASES[key]!r}")
    known = _FORMS.get(key)
    name = f"{form_cls.__module__}.{form_cls.__qualname__}"
    if known is not None and f"{known.__module__}.{known.__qualname__}" != name:
        raise ValueError(f"form key {key!r} is already used by {known.__qualname__}")
    _FORMS[key] = form_cls  # same class again (module reloaded): replace
    for legacy in getattr(form_cls, "legacy_keys", ()):
        if legacy in _FORMS or _ALIASES.get(legacy, key) != key:
            raise ValueError(f"legacy form key {legacy!r} is already used")
        _ALIASES[legacy] = key
    return form_cls


def get_form(form_key: str) -> type["TaskForm"]:
    """The form class for ``form_key``; raises ``UnknownFormKey``."""
    try:
        return _FORMS[_ALIASES.get(form_key, form_key)]
    except KeyError:
        raise UnknownFormKey(form_key) from None


def has_form(form_key: str) -> bool:
    return _ALIASES.get(form_key, form_key) in _FORMS


def all_form_keys() -> list[str]:
    return sorted(_FORMS)
