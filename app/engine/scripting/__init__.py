"""BPMN script sandbox (脚本沙箱).

SpiffWorkflow runs gateway conditions (条件表达式), script tasks (脚本任务) and timer
expressions (定时器表达式) with plain ``eval``/``exec``. BPMN files are uploaded by analysts, so
here they are compiled with RestrictedPython and run with a small set of builtins, guarded
attribute access and only the platform functions passed in (e.g. ``working_days``).

Task-data semantics follow SpiffWorkflow's ``TaskDataEnvironment``: an expression sees the task
data as variables; a script's top-level assignments become task data, while functions, the
platform functions and external context (data objects) are not written back. Differences: a
script that fails leaves task data as it was (no half-done assignments), and what a script
leaves in task data must be JSON (:func:`app.engine.serialization.check_json`: no set, bytes,
integers beyond ±2^63...), else ``TaskDataNotJson``.

Budget (脚本运行预算): every evaluation (one script, condition or timer expression) gets
:class:`ScriptLimits` — CPU time (``SSCARD_SCRIPT_BUDGET_SECONDS``, default 1 s; wall-clock
at most 5x that), memory growth of the process (``SSCARD_SCRIPT_MEMORY_MB``, default 256, 0 =
off, Linux), the size of one text/list/range (``SSCARD_SCRIPT_MAX_ITEMS``, default 1,000,000),
of one integer (100,000 bits) and the nesting of function calls (100). The compiler (``policy``, ``compiler``) puts a
check (``_tick_``, ``limits``) in every loop iteration, comprehension step, function/lambda entry and call
site, and routes (``guards``) ``+ * ** << %``, f-strings, ``str``/``repr``/``range``/``pow``/``sum``/
``print`` and the widening ``str`` methods (``ljust``, ``replace``, ``join``...) through size
checks that refuse *before* allocating. Over budget the script is stopped with a
:class:`~app.engine.errors.ScriptLimitExceeded` (bilingual, with the line), which the runtime
turns into an incident like any script error. The stop cannot be swallowed by the script:
it is a ``BaseException`` inside the sandbox, every later check re-raises it, and the
evaluation raises it at its end whatever the script did. No ``sys.settrace``: a tracer is
switched off by CPython the first time it raises (so ``try``/``except`` would then loop
unchecked), it misses long C calls, and it would displace coverage tools and debuggers.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from app.engine.scripting.compiler import Mode, ScriptCompileError, compile_check, restricted_code
from app.engine.scripting.guards import DATE_HELPERS, sandbox_builtins
from app.engine.scripting.limits import (ENV_MAX_ITEMS, ENV_MEMORY_MB, ENV_SECONDS,
                                         MAX_TASK_DATA_CHARS, ScriptLimits, _budgeted,
                                         current_limits)
from app.engine.scripting.policy import endless_loops
from app.engine.serialization import check_json

__all__ = ["DATE_HELPERS", "ENV_MAX_ITEMS", "ENV_MEMORY_MB", "ENV_SECONDS", "Mode",
           "SandboxedEnvironment", "SandboxedScriptEngine", "ScriptCompileError", "ScriptLimits",
           "compile_check", "current_limits", "endless_loops", "restricted_code",
           "sandbox_builtins"]

log = logging.getLogger(__name__)


class SandboxedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment that runs RestrictedPython code.

    ``functions``: name -> callable/value exposed to every expression and script (they become
    ``self.globals``, so task data may not reuse those names, as in SpiffWorkflow).
    """

    def __init__(self, functions: Mapping[str, Any] | None = None,
                 limits: ScriptLimits | None = None):
        super().__init__(dict(functions or {}))
        self.builtins = sandbox_builtins()
        self.limits = limits  # None: current_limits() (environment variables) at each run

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
        ns = self._namespace(context, external_context)
        with _budgeted(self.limits) as budget:
            return budget.run(eval, code, ns)

    def execute(self, script, context, external_context=None):
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code = restricted_code(script, "exec")
        self._prepare_context(context)
        ns = self._namespace(context, external_context)
        with _budgeted(self.limits) as budget:
            budget.run(exec, code, ns)
        if "_print" in ns:  # output of print(): to the log, never to task data
            log.info("BPMN script printed: %s", ns["_print"]())
        self._write_back(ns, context, external_context)
        return True

    def _write_back(self, ns: dict, context: dict, external_context: Mapping[str, Any]) -> None:
        """Copy the script's variables into task data, as TaskDataEnvironment leaves them;
        nothing when one of them is not JSON (``TaskDataNotJson``)."""
        values = {key: value for key, value in ns.items()
                  if not (key.startswith("_") or key in self.globals
                          or key in external_context or callable(value))}
        check_json(values, max_size=MAX_TASK_DATA_CHARS)
        for key in [k for k in context if not k.startswith("_") and k not in ns]:
            del context[key]  # `del x` in the script
        context.update(values)


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
