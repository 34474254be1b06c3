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

On any task or event (where a named deadline starts, ends, pauses)::

    deadlineStarts = statutory    the deadline starts when this element completes
    deadlineMet = statutory       the deadline is met when this element completes
    pausesDeadline = true         while the case waits here, the time is the applicant's:
                                  true = every running deadline, or a list of names

A deadline no element starts starts with the case; one no element meets is met when the
case completes.
"""
from __future__ import annotations

import re

FORM_KEY = "formKey"
DUE_WORKING_DAYS = "dueWorkingDays"
NOT_SAME_AS = "notSameAs"
DEADLINE_WORKING_DAYS = "deadlineWorkingDays"
SUMMARY_FIELDS = "summaryFields"

DEADLINE_PREFIX = "deadline."
TITLE_SUFFIX = ".title"
DEADLINE_STARTS = "deadlineStarts"
DEADLINE_MET = "deadlineMet"
PAUSES_DEADLINE = "pausesDeadline"
STATUTORY = "statutory"  # the name deadlineWorkingDays gives its deadline

INT_PROPERTIES = (DUE_WORKING_DAYS, DEADLINE_WORKING_DAYS)


def declared_deadlines(case_properties: dict[str, str]) -> dict[str, tuple[str, str]]:
    """{name: (length text, title)} of the named deadlines of a process (unparsed lengths)."""
    found = {}
    for key, value in case_properties.items():
        if key.startswith(DEADLINE_PREFIX) and not key.endswith(TITLE_SUFFIX):
            name = key[len(DEADLINE_PREFIX):]
            title = case_properties.get(key + TITLE_SUFFIX) or name
            found[name] = (str(value).strip(), title)
    legacy = case_properties.get(DEADLINE_WORKING_DAYS)
    if legacy not in (None, "") and STATUTORY not in found:
        found[STATUTORY] = (f"{str(legacy).strip()} working_days", "法定办结时限")
    return found


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


def task_title(task) -> str:
    """A task's title: ``titleTemplate`` with ``{field}`` filled from its data (plain
    substitution, never str.format), else the element's name."""
    template = properties(task.task_spec).get(TITLE_TEMPLATE)
    if not template:
        return title(task.task_spec)
    return _FIELD.sub(lambda m: str(task.data.get(m.group(1), m.group(0)))[:60], template)[:500]


def title(task_spec) -> str:
    return getattr(task_spec, "bpmn_name", None) or getattr(task_spec, "bpmn_id", None) \
        or task_spec.name
