"""Compiling sandboxed code 编译: RestrictedPython with the policy, errors as a SyntaxError a
clerk-facing page can show (message and line), cached per source."""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

from RestrictedPython import compile_restricted_eval, compile_restricted_exec

from app.engine.scripting.policy import _Policy


Mode = Literal["eval", "exec"]


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
