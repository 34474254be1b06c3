"""The BPMN conventions of this platform (流程建模约定): which ``spiffworkflow:properties``
the engine reads, and where.

On a user task::

    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formKey" value="application"/>        (required) form
      <spiffworkflow:property name="dueWorkingDays" value="3"/>            task due date
      <spiffworkflow:property name="notSameAs" value="enter,check"/>       four-eyes rule
    </spiffworkflow:properties></bpmn:extensionElements>

On the process (or its start event)::

    deadlineWorkingDays = 15      statutory deadline of the case (法定办结时限)
    summaryFields = name,ssn      task-data keys copied into the case summary (lists)
    formKey = application         (start event only) form validating the start data
"""
from __future__ import annotations

FORM_KEY = "formKey"
DUE_WORKING_DAYS = "dueWorkingDays"
NOT_SAME_AS = "notSameAs"
DEADLINE_WORKING_DAYS = "deadlineWorkingDays"
SUMMARY_FIELDS = "summaryFields"

INT_PROPERTIES = (DUE_WORKING_DAYS, DEADLINE_WORKING_DAYS)


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


def title(task_spec) -> str:
    return getattr(task_spec, "bpmn_name", None) or getattr(task_spec, "bpmn_id", None) \
        or task_spec.name
