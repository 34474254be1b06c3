"""BPMN script sandbox (脚本沙箱).

SpiffWorkflow runs gateway conditions (条件表达式), script tasks (脚本任务) and timer
expressions (定时器表达式) with plain ``eval``/``exec``. BPMN files are uploaded by analysts, so
here they are compiled with RestrictedPython and run with a small set of builtins, guarded
attribute access and only the platform functions passed in (e.g. ``working_days``).

Task-data semantics follow SpiffWorkflow's ``TaskDataEnvironment``: an expression sees the task
data as variables; a script's top-level assignments become task data, while functions, the
platform functions and external context (data objects) are not written back. One difference:
a script that fails leaves task data as it was (no half-done assignments).

Not covered: CPU and memory exhaustion (``while True: pass``, ``10 ** 10 ** 9``). Bound that
around the engine step (worker time limit), not here.
"""
from __future__ import annotations

import logging
import operator
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, Mapping

from RestrictedPython import (PrintCollector, RestrictingNodeTransformer, compile_restricted_eval,
                              compile_restricted_exec, safe_builtins)
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence,
                                     guarded_unpack_sequence, safer_getattr_raise)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

log = logging.getLogger(__name__)

Mode = Literal["eval", "exec"]

# Opt-in helpers for the platform's function dict. Not exposed by default: a form field called
# "date" would then clash with them (SpiffWorkflow refuses task data shadowing a function).
DATE_HELPERS = {"date": date, "datetime": datetime, "timedelta": timedelta}

# Beyond RestrictedPython's safe_builtins. It leaves out sorted/tuple/zip/... because they
# iterate in C past `_getiter_`; our `_getiter_` guards nothing (plain iter), so that is moot.
_EXTRA_BUILTINS = (len, min, max, sum, sorted, any, all, abs, round, int, float, str, bool,
                   list, dict, set, tuple, enumerate, range, zip, isinstance)
# Classes are refused at compile time anyway; the BaseException-only exceptions would slip
# past the engine's `except Exception` and stop the worker process.
_DROPPED_BUILTINS = ("__build_class__", "BaseException", "SystemExit", "KeyboardInterrupt",
                     "GeneratorExit")

_INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
            "/=": operator.itruediv, "//=": operator.ifloordiv, "%=": operator.imod,
            "**=": operator.ipow, "<<=": operator.ilshift, ">>=": operator.irshift,
            "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
            "@=": operator.imatmul}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    return _INPLACE[op](x, y)


def _apply(func, *args, **kwargs):  # calls with *args / **kwargs
    return func(*args, **kwargs)


def sandbox_builtins() -> dict[str, Any]:
    """The ``__builtins__`` of sandboxed code: safe builtins plus RestrictedPython's guards.

    No ``__import__``, ``open``, ``eval``, ``exec``, ``compile``, ``getattr``, ``type``,
    ``globals``, ``vars``, ``dir``. Guards sit in the builtins, so they never mix with task data.
    """
    b = {k: v for k, v in safe_builtins.items() if k not in _DROPPED_BUILTINS}
    b.update({f.__name__: f for f in _EXTRA_BUILTINS})
    b.update({
        # Like safer_getattr (no "_" names, no str.format, no frame/code attributes) but a
        # missing attribute raises AttributeError as in Python instead of giving None.
        "_getattr_": safer_getattr_raise,
        "_getitem_": lambda ob, index: ob[index],
        "_getiter_": iter,
        "_write_": full_write_guard,  # item/attribute writes only on dict and list
        "_inplacevar_": _inplacevar,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_apply_": _apply,
        "_print_": PrintCollector,
    })
    return b


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus: no import and no class, refused when deploying."""

    def visit_Import(self, node):
        self.error(node, "import is not allowed in BPMN scripts (脚本中不能导入模块)")

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed in BPMN scripts (脚本中不能定义类)")


class ScriptCompileError(SyntaxError):
    """A condition, script or timer expression that does not compile or is refused.

    ``msg`` and ``lineno`` (1-based, 0 if unknown) locate the first problem; ``errors`` holds
    every message from RestrictedPython.
    """

    def __init__(self, msg: str, lineno: int, source: str | None, errors: tuple[str, ...] = ()):
        lines = source.splitlines() if source else []
        line = lines[lineno - 1] if 0 < lineno <= len(lines) else None
        super().__init__(msg, ("<string>", lineno, None, line))
        self.errors = errors or (msg,)

    def __str__(self) -> str:
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f"line {self.lineno}: {self.msg}{more}"


def _first_problem(errors: tuple[str, ...]) -> tuple[str, int]:
    """RestrictedPython reports 'Line N: message'; split that."""
    head = errors[0]
    if head.startswith("Line "):
        number, _, msg = head[5:].partition(": ")
        if number.isdigit():
            return msg, int(number)
    return head, 0


@lru_cache(maxsize=2048)  # specs are parsed once; their expressions run many times
def _compile(source: str, mode: Mode):
    """A code object, or the refusal as (msg, lineno, errors).

    Refusals are cached as plain data and turned into a fresh exception per call: a cached
    exception instance would pile up tracebacks (and the task data they reference).
    """
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, policy=_Policy)
    except (TypeError, ValueError) as err:  # NUL bytes and the like
        return str(err), 0, ()
    if result.errors:
        msg, lineno = _first_problem(tuple(result.errors))
        return msg, lineno, tuple(result.errors)
    return result.code


def _code_or_error(source: str, mode: Mode):
    if not isinstance(source, str):
        return ScriptCompileError(f"expected a string, got {type(source).__name__}", 0, None)
    found = _compile(source, mode)
    if isinstance(found, tuple):
        msg, lineno, errors = found
        return ScriptCompileError(msg, lineno, source, errors)
    return found


def compile_check(source: str, mode: Mode) -> ScriptCompileError | None:
    """Deploy-time check (部署校验): None if ``source`` compiles in the sandbox, else the error.

    ``mode`` is "eval" for gateway conditions and timer expressions, "exec" for scripts.
    Names missing at run time (``open``, ``eval``...) are only found when the code runs: a
    task-data variable may legitimately carry such a name.
    """
    if mode not in ("eval", "exec"):
        raise ValueError("mode must be 'eval' or 'exec'")
    found = _code_or_error(source, mode)
    return found if isinstance(found, ScriptCompileError) else None


def restricted_code(source: str, mode: Mode):
    """The compiled code of ``source``, or raise ScriptCompileError."""
    found = _code_or_error(source, mode)
    if isinstance(found, ScriptCompileError):
        raise found
    return found


class SandboxedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment that runs RestrictedPython code.

    ``functions``: name -> callable/value exposed to every expression and script (they become
    ``self.globals``, so task data may not reuse those names, as in SpiffWorkflow).
    """

    def __init__(self, functions: Mapping[str, Any] | None = None):
        super().__init__(dict(functions or {}))
        self.builtins = sandbox_builtins()

    def _namespace(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None):
        ns = dict(self.globals)
        ns.update(external_context or {})
        # "_" names cannot be written in sandboxed code; dropping them also keeps task data
        # from shadowing the guards or replacing __builtins__.
        ns.update((k, v) for k, v in context.items() if not k.startswith("_"))
        ns["__builtins__"] = self.builtins
        return ns

    def evaluate(self, expression, context, external_context=None):
        code = restricted_code(expression, "eval")
        self._prepare_context(context)
        return eval(code, self._namespace(context, external_context))

    def execute(self, script, context, external_context=None):
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code = restricted_code(script, "exec")
        self._prepare_context(context)
        ns = self._namespace(context, external_context)
        exec(code, ns)
        if "_print" in ns:  # output of print(): to the log, never to task data
            log.info("BPMN script printed: %s", ns["_print"]())
        self._write_back(ns, context, external_context)
        return True

    def _write_back(self, ns: dict, context: dict, external_context: Mapping[str, Any]) -> None:
        """Copy the script's variables into task data, as TaskDataEnvironment leaves them."""
        for key in [k for k in context if not k.startswith("_") and k not in ns]:
            del context[key]  # `del x` in the script
        for key, value in ns.items():
            if key.startswith("_") or key in self.globals or key in external_context \
                    or callable(value):
                continue
            context[key] = value


class SandboxedScriptEngine(PythonScriptEngine):
    """The script engine for every workflow: ``BpmnWorkflow(spec, subs, script_engine=...)``.

    Subclass it to add ``call_service``; pass the platform functions as ``functions``.
    """

    def __init__(self, functions: Mapping[str, Any] | None = None,
                 environment: SandboxedEnvironment | None = None):
        super().__init__(environment=environment or SandboxedEnvironment(functions))

    def validate(self, expression):
        """Used by SpiffWorkflow's DMN engine; raises ScriptCompileError (a SyntaxError)."""
        error = compile_check(expression, "eval")
        if error is not None:
            raise error
