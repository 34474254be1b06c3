"""The budget of one evaluation 脚本运行预算: limits from the environment, the clock and memory
readings, and the checks the compiler puts in loops, calls and function entries."""
from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator


from app.engine.errors import (ScriptLimitExceeded, ScriptMemoryExceeded, ScriptTimeExceeded,
                               ScriptTooDeep, ScriptValueTooLarge)


log = logging.getLogger(__name__)

ENV_SECONDS = "SSCARD_SCRIPT_BUDGET_SECONDS"
ENV_MEMORY_MB = "SSCARD_SCRIPT_MEMORY_MB"
ENV_MAX_ITEMS = "SSCARD_SCRIPT_MAX_ITEMS"
WALL_FACTOR = 5          # wall-clock time may be this many times the CPU budget
MAX_TASK_DATA_CHARS = 16_000_000  # what one script may leave in task data, as JSON text
_CHECK_INTERVAL = 0.005  # seconds between clock/memory readings (each tick reads a fast clock)


@dataclass(frozen=True)
class ScriptLimits:
    """The budget of one evaluation (a script, a condition, a timer expression)."""

    seconds: float = 1.0          # CPU time of the thread (wall-clock: WALL_FACTOR x)
    memory_mb: int = 256          # growth of the process's resident memory; 0: not checked
    max_items: int = 1_000_000    # characters or items of one text, list, range, format width
    max_int_bits: int = 100_000   # bits of one integer built by * ** <<
    max_depth: int = 100          # nested calls of the script's own functions


def _env_number(name: str, text: str | None, default, kind, minimum):
    if text is None or not text.strip():
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < minimum:
        log.warning("ignoring %s=%r (not a number >= %s); using %s", name, text, minimum, default)
        return default
    return value


@lru_cache(maxsize=16)
def _limits_from(seconds: str | None, memory: str | None, items: str | None) -> ScriptLimits:
    base = ScriptLimits()
    return ScriptLimits(
        seconds=_env_number(ENV_SECONDS, seconds, base.seconds, float, 0.001),
        memory_mb=_env_number(ENV_MEMORY_MB, memory, base.memory_mb, int, 0),
        max_items=_env_number(ENV_MAX_ITEMS, items, base.max_items, int, 1000))


def current_limits() -> ScriptLimits:
    """The limits from the environment variables (read at each evaluation, so a test or an
    operator changing them needs no restart)."""
    env = os.environ
    return _limits_from(env.get(ENV_SECONDS), env.get(ENV_MEMORY_MB), env.get(ENV_MAX_ITEMS))


# -- the budget of the running evaluation ---------------------------------------------------------

class _Stop(BaseException):
    """Stops sandboxed code. A BaseException: ``except Exception`` in a script does not catch
    it; a bare ``except:`` does, but the next check raises it again and the evaluation ends
    with the error anyway."""


def _rss_reader():
    try:
        page = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        page = 4096

    def rss() -> int | None:
        try:
            with open("/proc/self/statm", "rb") as f:
                return int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            return None  # not Linux: memory is not checked
    return rss


_rss = _rss_reader()
_local = threading.local()  # the budget of the evaluation running in this thread


class _Budget:
    __slots__ = ("limits", "wall0", "cpu0", "next_check", "rss0", "stop")

    def __init__(self, limits: ScriptLimits):
        self.limits = limits
        self.wall0 = time.monotonic()
        self.cpu0 = time.thread_time()
        self.next_check = self.wall0 + _CHECK_INTERVAL
        # Memory is first read at the first check (5 ms in): most evaluations end before.
        self.rss0 = 0 if limits.memory_mb else None
        self.stop: ScriptLimitExceeded | None = None

    def tick(self) -> None:
        if self.stop is not None:
            raise _Stop()
        now = time.monotonic()
        if now >= self.next_check:
            self._check(now)

    def _check(self, now: float) -> None:
        self.next_check = now + _CHECK_INTERVAL
        lim = self.limits
        if time.thread_time() - self.cpu0 > lim.seconds \
                or now - self.wall0 > lim.seconds * WALL_FACTOR:
            self.halt(ScriptTimeExceeded(lim.seconds))
        if self.rss0 is not None:
            rss = _rss()
            if rss is None or not self.rss0:
                self.rss0 = rss  # None (not Linux): memory is not checked
            elif rss - self.rss0 > lim.memory_mb * 1024 * 1024:
                self.halt(ScriptMemoryExceeded(lim.memory_mb))

    def halt(self, error: ScriptLimitExceeded):
        if self.stop is None:
            error.line = _script_line()
            self.stop = error
        raise _Stop()

    def too_large(self, size: int, unit: str = "items", *, at_least: bool = False):
        limit = self.limits.max_items if unit == "items" else self.limits.max_int_bits
        self.halt(ScriptValueTooLarge(int(size), limit, unit, at_least=at_least))

    def run(self, run, code, ns):
        """``run(code, ns)`` (eval or exec); raise the stop, if any, whatever the code did."""
        try:
            result = run(code, ns)
        except BaseException:
            if self.stop is not None:
                raise self.stop.with_traceback(None) from None
            raise
        if self.stop is not None:  # stopped, and the script swallowed it with a bare except
            raise self.stop.with_traceback(None)
        return result


@contextmanager
def _budgeted(limits: ScriptLimits | None) -> Iterator[_Budget]:
    outer = getattr(_local, "budget", None)
    if outer is not None:  # an evaluation inside another shares its budget
        yield outer
        return
    budget = _Budget(limits or current_limits())
    _local.budget = budget
    try:
        yield budget
    finally:
        del _local.budget


def _current() -> _Budget:
    try:
        return _local.budget
    except AttributeError:
        raise RuntimeError("sandboxed code ran outside of an evaluation") from None


def _is_sandboxed(frame) -> bool:
    return frame.f_builtins.get("_tick_") is _tick_


def _script_line() -> int | None:
    frame = sys._getframe(1)
    while frame is not None:
        if _is_sandboxed(frame):
            return frame.f_lineno
        frame = frame.f_back
    return None


# -- guards the compiler puts into sandboxed code --------------------------------------------------

def _tick_() -> bool:
    """In every loop iteration and comprehension step."""
    _current().tick()
    return True


def _enter_() -> None:
    """First thing of every function and lambda of a script: a tick and the nesting depth."""
    budget = _current()
    budget.tick()
    limit, depth = budget.limits.max_depth, 0
    frame = sys._getframe(1)
    while frame is not None and _is_sandboxed(frame):
        depth += 1
        if depth > limit:
            budget.halt(ScriptTooDeep(limit))
        frame = frame.f_back
