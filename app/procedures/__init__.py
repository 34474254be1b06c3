"""Procedure families (业务族): each declares itself once, in a manifest (:class:`Family`),
and the web app, the API, the CLI, the scheduler and the job workers all load the same list.

Adding a family = its package here (``app/procedures/<name>/__init__.py`` with ``FAMILY``), its
BPMN folder (``processes/<name>/``), its tests, and one line in :data:`FAMILIES`.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable

#: One line per family: the module holding its ``FAMILY`` manifest.
FAMILIES = (
    "app.procedures.application",   # 立等可取 + 代办网点申领 (seed 002)
    "app.procedures.calendar",      # 录入年度法定节假日安排 (the platform's own)
    "app.procedures.batch",         # 批量制卡: batches, employer applications (seeds 000/001)
    "app.procedures.distribution",  # 发放: pickups, returns, second issuance, statistics
    "app.procedures.lifecycle",     # 卡片生命周期: activation, PIN, bank, loss, moves
)


@dataclass(frozen=True)
class Family:
    """What a family brings. ``modules`` are imported when the family loads: they register
    the family's tables, service operations, task forms and scheduler rounds."""

    name: str
    title_zh: str
    title_en: str
    bpmn_dir: str                                   # processes/<name> (relative to the root)
    modules: tuple[str, ...] = ()
    # the family's panel on the case page: (template, fn(session, instance) -> context or None)
    case_panel: tuple[str, Callable[..., dict | None]] | None = None
    # the family's header on its cases' task pages (whose card it is): (template,
    # fn(session, instance) -> context or None). The context may carry ``deadline`` (the
    # DeadlineView it shows: the page leaves that one out of its own line) and ``notes``
    # ({human task id: note}: what a failed check said); a note's ``again`` (a ``T``) is the
    # message when a completed task comes straight back to the same form
    task_header: tuple[str, Callable[..., dict | None]] | None = None
    demo_seed: Callable[..., Any] | None = None     # fn(session): demo cases (after deploy)
    # fn(session, instance_id, actor, reason): the family's rows end with a cancelled case,
    # in the same transaction (e.g. a card being made is cancelled, its blank card returned)
    on_cancel: Callable[..., Any] | None = None
    # fn(session, text) -> a select of instance ids whose family data match what a clerk typed
    # (a name, an ID number or its last digits, a mobile, a card or application number), or
    # None; the case list joins it with app.cases.access.visible_cases
    search: Callable[..., Any] | None = None
    # fn(session, instance_ids) -> {instance id: (kind, (zh, en) label, (zh, en) reason or None)}
    # for the family's ended cases: how it ended beyond the engine's "completed" (kind "issued",
    # "refused" or "cancelled"), on the case list and the case page
    outcome: Callable[..., dict] | None = None
    # fn(session, instance_ids) -> {instance id: text}: whom the case is for (lists), masked
    subject: Callable[..., dict] | None = None
    processes: tuple[str, ...] = field(default=())  # process ids, for lists and docs


def plugin_modules() -> list[str]:
    """Extra modules named in ``SSCARD_ENGINE_PLUGINS`` (comma-separated)."""
    return [m.strip() for m in os.environ.get("SSCARD_ENGINE_PLUGINS", "").split(",") if m.strip()]


def load_families() -> list[Family]:
    """Import every family (and ``SSCARD_ENGINE_PLUGINS``); the same list for every process."""
    families = []
    for name in FAMILIES:
        family = importlib.import_module(name).FAMILY
        for module in family.modules:
            importlib.import_module(module)
        families.append(family)
    for module in plugin_modules():
        importlib.import_module(module)
    return families
