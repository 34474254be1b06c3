"""Workflow state without its spec (流程状态序列化).

A case row stores only its task tree and data: the spec belongs to the model version and is
parsed once (:mod:`app.engine.repository`). On load the cached spec objects are handed to
SpiffWorkflow's converter as they are (its registry passes unknown objects through), which is
~5x faster than rebuilding them from a dict.

Task data must stay JSON that any system reads (任务数据必须是 JSON): text, finite numbers,
integers within ±2^63, booleans, null, lists and objects (dates as ISO text: the state is
written with plain ``json.dumps``, which takes no ``datetime``).
:func:`check_json` refuses anything else with :class:`TaskDataNotJson` naming the value; the
script sandbox calls it before a script's variables reach task data, the platform engine on
service results, and :func:`dump_state` refuses a state that is not such JSON (the step then
rolls back) instead of storing a case nobody can load again.
"""
from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any, Mapping

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.engine.errors import TaskDataNotJson

# Stateless once configured; we never use serialize_json(), whose encoder flag is shared.
_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
_SPEC_KEYS = ("spec", "subprocess_specs")


def dump_state(workflow: BpmnWorkflow) -> str:
    """JSON of the workflow's tasks, data and subprocesses, without the spec."""
    dct = _SERIALIZER.to_dict(workflow)
    for key in _SPEC_KEYS:
        dct.pop(key, None)
    dct[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    try:
        text = json.dumps(dct, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        _refuse_state(dct)  # says which task and value
        raise
    if _LONG_NUMBER.search(text):  # maybe an integer beyond ±2^63 (or just a long digit text)
        _refuse_state(dct)
    return text


def load_state(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_state` output and its model's parsed specs."""
    dct = json.loads(state)
    _SERIALIZER.migrate(dct)  # pops the version key; upgrades older formats
    dct["spec"] = spec
    dct["subprocess_specs"] = dict(subprocess_specs)
    workflow = _SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine  # the engine is not serialized
    return workflow


# -- task data must be JSON ----------------------------------------------------------------------

JSON_INT_MIN, JSON_INT_MAX = -2 ** 63, 2 ** 63 - 1  # what other systems read as a JSON number
MAX_DEPTH = 64
_LONG_NUMBER = re.compile(r"\d{19,}")

_REASONS = {
    "set": ("是集合（set），不能保存为 JSON，请改用列表",
            "is a set, which cannot be stored as JSON; use a list"),
    "bytes": ("是字节串（bytes），不能保存为 JSON，请改用文本",
              "is bytes, which cannot be stored as JSON; use text"),
    "int": ("是超出 ±2^63 范围的整数，其他系统无法读取，请改用文本",
            "is an integer beyond ±2^63, which other systems cannot read; store it as text"),
    "float": ("不是有限数（NaN 或无穷大），不能保存为 JSON",
              "is not a finite number (NaN or infinity), which JSON cannot hold"),
    "date": ("是日期对象，不能保存为 JSON，请改用 ISO 日期文本（.isoformat()）",
             "is a date object, which cannot be stored as JSON; use an ISO date text "
             "(.isoformat())"),
    "cycle": ("引用了自身（循环结构），不能保存为 JSON",
              "refers to itself (a circular structure), which JSON cannot hold"),
    "depth": (f"嵌套超过 {MAX_DEPTH} 层，不能保存", f"is nested more than {MAX_DEPTH} levels deep"),
}


class _Problem(Exception):
    def __init__(self, path: list, reason_zh: str, reason_en: str):
        super().__init__(reason_en)
        self.path, self.reason_zh, self.reason_en = list(path), reason_zh, reason_en


def _type_problem(value: Any, path: list) -> _Problem:
    if isinstance(value, (set, frozenset)):
        return _Problem(path, *_REASONS["set"])
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _Problem(path, *_REASONS["bytes"])
    if isinstance(value, date):  # date, or a datetime subclass the serializer does not know
        return _Problem(path, *_REASONS["date"])
    name = type(value).__name__
    return _Problem(path, f"的类型 {name} 不能保存为 JSON", f"is of type {name}, which cannot be "
                    "stored as JSON")


def _walk(value: Any, path: list, on_path: set, extra: tuple, max_depth: int,
          size: list, max_size: int | None) -> None:
    if isinstance(value, str):
        size[0] += len(value) + 2
        if max_size is not None and size[0] > max_size:
            raise _Problem(path, f"过大（超过 {max_size:,} 个字符），不能保存",
                           f"is too large (over {max_size:,} characters) to be stored")
    elif value is None or isinstance(value, bool):
        size[0] += 4
    elif isinstance(value, int):
        if not JSON_INT_MIN <= value <= JSON_INT_MAX:
            raise _Problem(path, *_REASONS["int"])
        size[0] += 8
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Problem(path, *_REASONS["float"])
        size[0] += 8
    elif isinstance(value, (dict, list, tuple)):
        if len(path) >= max_depth:
            raise _Problem(path, *_REASONS["depth"])
        if id(value) in on_path:
            raise _Problem(path, *_REASONS["cycle"])
        on_path.add(id(value))
        size[0] += 2
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(value, dict) and not (
                    isinstance(key, (str, float)) or key is None
                    or (isinstance(key, int) and JSON_INT_MIN <= key <= JSON_INT_MAX)):
                raise _Problem(path, f"含有类型为 {type(key).__name__} 的键，JSON 不允许",
                               f"has a key of type {type(key).__name__}, which JSON does not "
                               "allow")
            path.append(key)
            _walk(item, path, on_path, extra, max_depth, size, max_size)
            path.pop()
        on_path.discard(id(value))
    elif type(value) in extra:
        size[0] += 40
    else:
        raise _type_problem(value, path)


def _key_text(key: Any) -> str:
    text = key if isinstance(key, str) else str(key) if isinstance(key, (int, float, bool)) \
        or key is None else type(key).__name__
    return text if len(text) <= 40 else text[:40] + "…"


def format_path(path: list) -> str:
    """``['order', 'lines', 0]`` -> ``order['lines'][0]``."""
    if not path:
        return "<data>"
    head, rest = _key_text(path[0]), path[1:]
    return head + "".join(f"[{k}]" if isinstance(k, int) and not isinstance(k, bool)
                          else f"[{_key_text(k)!r}]" for k in rest)


def _plainly_json(value: Any, max_size: int | None, max_depth: int) -> bool:
    """Fast path of :func:`check_json`: True when ``value`` is certainly plain JSON (no path
    kept, no cycle check: a cycle or anything unusual gives False and the slow walk)."""
    budget = max_size if max_size is not None else 1 << 62
    stack, size = [(value, 0)], 0
    while stack:
        x, depth = stack.pop()
        t = type(x)
        size += 1
        if t is str:
            size += len(x)
        elif t is dict or t is list or t is tuple:
            if depth >= max_depth:
                return False
            depth += 1
            if t is dict:
                for k in x:
                    if type(k) is not str:
                        return False
                x = x.values()
            for item in x:
                if type(item) is str:
                    size += len(item) + 1
                else:
                    stack.append((item, depth))
        elif t is int:
            if not JSON_INT_MIN <= x <= JSON_INT_MAX:
                return False
        elif t is float:
            if not math.isfinite(x):
                return False
        elif x is not None and t is not bool:
            return False
        if size > budget:
            return False
    return True


def check_json(data: Mapping[str, Any], *, extra_types: tuple = (),
               max_depth: int = MAX_DEPTH, max_size: int | None = None,
               prefix: str | None = None) -> None:
    """Raise :class:`TaskDataNotJson` when a value of ``data`` (task data: name -> value) is
    not JSON every system reads. ``extra_types``: more types let through (exact type);
    ``max_size``: refuse more than that many characters in all (counted as the JSON would
    be, shared values counted each time they appear)."""
    if not extra_types and _plainly_json(data, max_size, max_depth + 1):
        return
    try:
        _walk(dict(data), [], set(), extra_types, max_depth + 1, [0], max_size)
    except _Problem as problem:
        path = format_path(problem.path)
        if prefix:
            path = f"{prefix}.{path}" if problem.path else prefix
        raise TaskDataNotJson(path, problem.reason_zh, problem.reason_en) from None
    except RecursionError:
        raise TaskDataNotJson(prefix or "<data>", *_REASONS["depth"]) from None


def _refuse_state(dct: dict) -> None:
    """Raise TaskDataNotJson for the first value of a serialized state that is not JSON
    (after SpiffWorkflow's converter, so only plain JSON is allowed); return if none."""
    try:
        _walk(dct, [], set(), (), 2 * MAX_DEPTH, [0], None)
    except _Problem as problem:
        raise TaskDataNotJson(_state_path(dct, problem.path), problem.reason_zh,
                              problem.reason_en) from None
    except RecursionError:
        raise TaskDataNotJson("<state>", *_REASONS["depth"]) from None


def _state_path(dct: dict, path: list) -> str:
    """``['tasks', id, 'data', 'tags']`` -> ``tags (task compute)``."""
    node: Any = dct
    for i, key in enumerate(path):
        if key == "data" and i >= 2 and path[i - 2] == "tasks" and isinstance(node, dict):
            task_name = node.get("task_spec")
            data_path = format_path(path[i + 1:])
            return f"{data_path} ({task_name})" if task_name else data_path
        node = node.get(key) if isinstance(node, dict) else None
    if path[:1] == ["data"]:
        return format_path(path[1:])
    return format_path(path)
