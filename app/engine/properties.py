"""The BPMN conventions of this platform (流程建模约定): which ``spiffworkflow:properties``
the engine reads, and where.

On a user task::

    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formKey" value="application"/>        (required) form
      <spiffworkflow:property name="dueWorkingDays" value="3"/>            task due date
      <spiffworkflow:property name="notSameAs" value="enter,check"/>       four-eyes rule
    </spiffworkflow:properties></bpmn:extensionElements>

On the process (or its start event)::

    deadline.statutory = 15 working_days       a named deadline (办件时限): length, and
    deadline.statutory.title = 办理时限          its title; lengths: N working_days,
                                                N calendar_days, N months
    deadlineWorkingDays = 15      shorthand: deadline "statutory", from the case's start
    summaryFields = name,ssn      task-data keys copied into the case summary (lists)
    formKey = application         (start event only) form validating the start data
    applicantWaiting = true       the applicant waits at the window while the case runs
                                  (立等可取): its open tasks come first in the inbox

On any task or event (where a named deadline starts, ends, pauses)::

    deadlineStarts = statutory    the deadline starts when this element completes
    deadlineMet = statutory       the deadline is met when this element completes
    pausesDeadline = true         while the case waits here, the time is the applicant's:
                                  true = every running deadline, or a list of names

A deadline no element starts starts with the case; one no element meets is met when the
case completes.

English names (the ``name`` attribute is the Chinese one)::

    name.en = Fill in the application form          on a process, a lane and every task or
                                                    event: its English name (task titles,
                                                    procedure names, the history)
    titleTemplate.en = Enter the {year} holidays    English of ``titleTemplate``
    deadline.statutory.title.en = Time limit        English title of a named deadline

Where an English name is missing the Chinese one is shown (deploy warns about user tasks,
processes, lanes and deadlines without one: ``validation.ParsedFile.warnings``).
"""
from __future__ import annotations

import re

FORM_KEY = "formKey"
DUE_WORKING_DAYS = "dueWorkingDays"
NOT_SAME_AS = "notSameAs"
DEADLINE_WORKING_DAYS = "deadlineWorkingDays"
SUMMARY_FIELDS = "summaryFields"
APPLICANT_WAITING = "applicantWaiting"

DEADLINE_PREFIX = "deadline."
TITLE_SUFFIX = ".title"
EN_SUFFIX = ".en"        # the English of a property: name.en, titleTemplate.en, deadline.X.title.en
NAME_EN = "name.en"
DEADLINE_STARTS = "deadlineStarts"
DEADLINE_MET = "deadlineMet"
PAUSES_DEADLINE = "pausesDeadline"
STATUTORY = "statutory"  # the name deadlineWorkingDays gives its deadline

INT_PROPERTIES = (DUE_WORKING_DAYS, DEADLINE_WORKING_DAYS)


LEGACY_STATUTORY_TITLE = ("法定办结时限", "Statutory time limit")  # deadlineWorkingDays's deadline


def is_deadline_length(key: str) -> bool:
    """``deadline.NAME`` (not its ``.title`` / ``.title.en``)."""
    return key.startswith(DEADLINE_PREFIX) and not key.endswith(TITLE_SUFFIX) \
        and not key.endswith(TITLE_SUFFIX + EN_SUFFIX)


def declared_deadlines(case_properties: dict[str, str]) -> dict[str, tuple[str, str]]:
    """{name: (length text, title)} of the named deadlines of a process (unparsed lengths)."""
    found = {}
    for key, value in case_properties.items():
        if is_deadline_length(key):
            name = key[len(DEADLINE_PREFIX):]
            title = case_properties.get(key + TITLE_SUFFIX) or name
            found[name] = (str(value).strip(), title)
    legacy = case_properties.get(DEADLINE_WORKING_DAYS)
    if legacy not in (None, "") and STATUTORY not in found:
        found[STATUTORY] = (f"{str(legacy).strip()} working_days", LEGACY_STATUTORY_TITLE[0])
    return found


def deadline_titles(case_properties: dict[str, str]) -> dict[str, tuple[str, str]]:
    """{name: (Chinese title, English title)} of the named deadlines of a process; the
    English is ``deadline.NAME.title.en``, else the Chinese."""
    found = {}
    for name, (_length, zh) in declared_deadlines(case_properties).items():
        key = DEADLINE_PREFIX + name + TITLE_SUFFIX + EN_SUFFIX
        if name == STATUTORY and key not in case_properties \
                and DEADLINE_PREFIX + STATUTORY not in case_properties:
            found[name] = LEGACY_STATUTORY_TITLE
        else:
            found[name] = (zh, case_properties.get(key) or zh)
    return found


def process_names(name: str | None, key: str, process_properties: dict[str, str]) -> tuple[str, str]:
    """(Chinese, English) name of a procedure: the process's ``name`` attribute (else its id)
    and its ``name.en`` property (else the Chinese)."""
    zh = name or key
    return zh, process_properties.get(NAME_EN) or zh


def deadline_names(task_spec, prop: str) -> list[str]:
    """Names listed in ``deadlineStarts`` / ``deadlineMet`` / ``pausesDeadline`` ("true" is
    returned as ``["*"]``: every deadline)."""
    value = properties(task_spec).get(prop)
    if value is None:
        return []
    if str(value).strip().lower() == "true":
        return ["*"]
    return split_list(value)


def properties(task_spec) -> dict[str, str]:
    """The ``spiffworkflow:properties`` of a parsed task spec (empty if none)."""
    return (getattr(task_spec, "extensions", None) or {}).get("properties") or {}


def is_true(value) -> bool:
    """A boolean property's value: "true" (any case, spaces around) is true."""
    return str(value or "").strip().lower() == "true"


def form_key(task_spec) -> str | None:
    return properties(task_spec).get(FORM_KEY) or None


def due_working_days(task_spec) -> int | None:
    value = properties(task_spec).get(DUE_WORKING_DAYS)
    return int(value) if value not in (None, "") else None


def split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def not_same_as(task_spec) -> list[str]:
    """BPMN ids of the tasks whose performer may not do this one (四眼原则)."""
    return split_list(properties(task_spec).get(NOT_SAME_AS))


CALLED_VERSION = "calledVersion"  # on a callActivity: pin the called model's version
CALLER_LANE = "callerLane"        # on a shared sub-process: its tasks take the caller's lane

TITLE_TEMPLATE = "titleTemplate"
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,40})\}")


def _english(lang: str | None) -> bool:
    return bool(lang) and lang.lower().startswith("en")


def task_title(task, lang: str = "zh") -> str:
    """A task's title in ``lang`` ("zh" or "en"): ``titleTemplate`` (``titleTemplate.en``)
    with ``{field}`` filled from its data (plain substitution, never str.format), else the
    element's name (``name.en``). English falls back to the English name, then to Chinese."""
    p = properties(task.task_spec)
    template = p.get(TITLE_TEMPLATE)
    if _english(lang):
        template = p.get(TITLE_TEMPLATE + EN_SUFFIX) or (None if p.get(NAME_EN) else template)
    if not template:
        return title(task.task_spec, lang)
    return _FIELD.sub(lambda m: str(task.data.get(m.group(1), m.group(0)))[:60], template)[:500]


def title(task_spec, lang: str = "zh") -> str:
    """An element's name in ``lang``: the ``name`` attribute, or in English its ``name.en``
    property (falling back to the Chinese name, then to the element's id)."""
    zh = getattr(task_spec, "bpmn_name", None) or getattr(task_spec, "bpmn_id", None) \
        or task_spec.name
    if _english(lang):
        return properties(task_spec).get(NAME_EN) or zh
    return zh


def names(task_spec) -> tuple[str, str]:
    """(Chinese, English) name of an element (:func:`title` in both languages)."""
    return title(task_spec, "zh"), title(task_spec, "en")
