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
of one integer (100,000 bits) and the nesting of function calls (100). The compiler puts a
check (``_tick_``) in every loop iteration, comprehension step, function/lambda entry and call
site, and routes ``+ * ** << %``, f-strings, ``str``/``repr``/``range``/``pow``/``sum``/
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

import ast
import logging
import math
import operator
import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Iterator, Literal, Mapping

from RestrictedPython import (PrintCollector, RestrictingNodeTransformer, compile_restricted_eval,
                              compile_restricted_exec, safe_builtins)
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence,
                                     guarded_unpack_sequence, safer_getattr, safer_getattr_raise)
from RestrictedPython.transformer import copy_locations
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from app.engine.errors import (ScriptLimitExceeded, ScriptMemoryExceeded, ScriptTimeExceeded,
                               ScriptTooDeep, ScriptValueTooLarge)
from app.engine.serialization import check_json

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

# -- limits ----------------------------------------------------------------------------------

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


def _call_(func):
    """Around the callee of every call: a tick, and the size-checked version of a few
    builtins (``_call_(str)(x)``)."""
    _current().tick()
    guarded = _CALL_GUARDS.get(id(func))
    return func if guarded is None else guarded


_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _check_add(a, b) -> None:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        n = len(a) + len(b)
        budget = _current()
        if n > budget.limits.max_items:
            budget.too_large(n)


def _check_mul(a, b) -> None:
    if isinstance(a, int):
        if isinstance(b, int):
            bits = a.bit_length() + b.bit_length()
            budget = _current()
            if bits > budget.limits.max_int_bits:
                budget.too_large(bits, "bits")
            return
        a, b = b, a
    if isinstance(a, _SEQUENCES) and isinstance(b, int):
        budget = _current()
        limit = budget.limits.max_items
        # A list repeating a large list is small in memory but not to sort, compare or print:
        # count what the items hold (``[[0] * 10**6] * 10**6`` is 10**12).
        per = _items_held(a, limit) if isinstance(a, (list, tuple)) else len(a)
        n = per * b
        if n > limit:
            budget.too_large(n)


def _items_held(seq, limit: int) -> int:
    """Items of ``seq``, counting the items of the lists, dicts... and the characters of the
    texts it holds; stops counting past ``limit``."""
    total, stack = 0, list(seq)
    while stack:
        x = stack.pop()
        t = type(x)
        if t is list or t is tuple or t is set or t is frozenset:
            if len(x) == 0:
                total += 1
            else:
                stack.extend(x)
        elif t is dict:
            total += 1
            stack.extend(x.keys())
            stack.extend(x.values())
        elif t is str or t is bytes or t is bytearray:
            total += len(x) or 1
        else:
            total += 1
        if total > limit or len(stack) > limit:
            return limit + 1
    return total


def _check_pow(a, b) -> None:
    if isinstance(a, int) and isinstance(b, int) and b > 1 and a not in (0, 1, -1):
        budget = _current()
        limit = budget.limits.max_int_bits
        bits = b if b > limit else b * math.log2(abs(a))  # |a| >= 2: at least b bits
        if bits > limit:
            budget.too_large(bits, "bits")


def _check_lshift(a, b) -> None:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        budget = _current()
        bits = a.bit_length() + b
        if bits > budget.limits.max_int_bits:
            budget.too_large(bits, "bits")


_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.S)


def _check_number_text(digits: str, budget: _Budget) -> None:
    if len(digits) > 9 or int(digits) > budget.limits.max_items:
        budget.too_large(int(digits) if len(digits) < 30 else 10 ** min(len(digits), 300))


def _check_mod(a, b) -> None:
    """``"%10000000000d" % 1`` or ``"%s" % [huge]``: width, precision and text size."""
    if not isinstance(a, (str, bytes)):
        return
    fmt = a.decode("latin-1") if isinstance(a, bytes) else a
    if "%" not in fmt:
        return
    budget = _current()
    star = texty = False
    for m in _PERCENT.finditer(fmt):
        for digits in (m.group(1), m.group(2)):
            if digits == "*":
                star = True
            elif digits:
                _check_number_text(digits, budget)
        texty = texty or m.group(3) in "sra"
    values = list(b.values()) if isinstance(b, dict) else list(b) if isinstance(b, tuple) else [b]
    if star:
        for v in values:
            if isinstance(v, int) and v > budget.limits.max_items:
                budget.too_large(v)
    if texty:
        _check_text(values)


def _add_(a, b):
    _check_add(a, b)
    return a + b


def _mul_(a, b):
    _check_mul(a, b)
    return a * b


def _pow_(a, b):
    _check_pow(a, b)
    return a ** b


def _lshift_(a, b):
    _check_lshift(a, b)
    return a << b


def _mod_(a, b):
    _check_mod(a, b)
    return a % b


def _text_size(obj, limit: int) -> int:
    """About how many characters ``str(obj)`` makes; stops counting past ``limit``. Shared
    values count each time they appear, as in the text (``[s] * 1000`` is small in memory,
    not as text)."""
    total, stack = 0, [obj]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is str:
            total += len(x) + 2
        elif t is bytes or t is bytearray:
            total += len(x) + 3
        elif t is int:
            total += x.bit_length() // 3 + 2
        elif t is list or t is tuple or t is set or t is frozenset:
            total += 2 + 2 * len(x)
            if total <= limit:
                stack.extend(x)
        elif t is dict:
            total += 2 + 4 * len(x)
            if total <= limit:
                stack.extend(x.keys())
                stack.extend(x.values())
        else:  # numbers, None, dates, functions...: a short text
            total += 32
        if total > limit:
            return total
    return total


def _check_text(obj) -> None:
    if type(obj) is str:
        n = len(obj)
        budget = _current()
        if n > budget.limits.max_items:
            budget.too_large(n)
        return
    budget = _current()
    limit = budget.limits.max_items
    size = _text_size(obj, limit)
    if size > limit:
        budget.too_large(size, at_least=True)


def _str_guard(*args, **kwargs):
    if len(args) == 1 and not kwargs and type(args[0]) is not str:
        _check_text(args[0])
    return str(*args, **kwargs)


def _repr_guard(obj):
    _check_text(obj)
    return repr(obj)


def _format_(value, conversion: int, spec):
    """An f-string's ``{value!conversion:spec}``: text size and width/precision checked."""
    if conversion == 115:  # !s
        value = _str_guard(value)
    elif conversion == 114:  # !r
        value = _repr_guard(value)
    elif conversion == 97:  # !a
        _check_text(value)
        value = ascii(value)
    if spec:
        budget = _current()
        for digits in re.findall(r"\d+", spec):
            _check_number_text(digits, budget)
    elif not isinstance(value, (str, int, float)):
        _check_text(value)
    return format(value, spec or "")


def _range_guard(*args):
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:
        n = abs(r.stop - r.start) // abs(r.step)
    budget = _current()
    if n > budget.limits.max_items:
        budget.too_large(n)
    return r


def _pow_guard(base, exp, mod=None):
    if mod is None:
        _check_pow(base, exp)
        return pow(base, exp)
    return pow(base, exp, mod)


def _sum_guard(iterable, /, start=0):
    if isinstance(start, (list, tuple)):  # sum(lists, []) concatenates in C
        items = list(iterable)
        n = len(start) + sum(len(i) for i in items if isinstance(i, (list, tuple)))
        budget = _current()
        if n > budget.limits.max_items:
            budget.too_large(n)
        return sum(items, start)
    return sum(iterable, start)


def _keyed(func):
    def call(*args, key=None, **kwargs):
        if key is str:
            key = _str_guard
        elif key is repr:
            key = _repr_guard
        return func(*args, key=key, **kwargs)
    return call


def _zip_guard(*iterables, **kwargs):
    """``zip(*[range(10**6)] * 10**6)``: as many tuples as the shortest, each as long as there
    are iterables."""
    sizes = [len(it) for it in iterables if isinstance(it, (list, tuple, range, str, dict))]
    if sizes and len(sizes) == len(iterables):
        n = min(sizes) * len(iterables)
        budget = _current()
        if n > budget.limits.max_items:
            budget.too_large(n)
    return zip(*iterables, **kwargs)


_CALL_GUARDS = {id(f): g for f, g in (
    (str, _str_guard), (repr, _repr_guard), (range, _range_guard), (pow, _pow_guard),
    (sum, _sum_guard), (zip, _zip_guard),
    (sorted, _keyed(sorted)), (min, _keyed(min)), (max, _keyed(max)))}

# str/bytes methods whose result may be much larger than the string
_WIDENING = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join",
                       "translate"})
_TEXT_TYPES = (str, bytes, bytearray)


def _check_widening(name: str, s, args: tuple, kwargs: dict) -> None:
    budget = _current()
    limit = budget.limits.max_items
    n = 0
    if name in ("ljust", "rjust", "center", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        n = width if isinstance(width, int) else 0
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tab, int) and tab > 0:
            n = len(s) + s.count("\t" if isinstance(s, str) else b"\t") * tab
    elif name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, _TEXT_TYPES) and isinstance(new, _TEXT_TYPES) and len(new) > len(old):
            try:
                times = s.count(old) if old else len(s) + 1
            except TypeError:
                return  # str/bytes mixed: replace refuses it
            count = args[2] if len(args) > 2 else kwargs.get("count", -1)
            if isinstance(count, int) and count >= 0:
                times = min(times, count)
            n = len(s) + times * (len(new) - len(old))
    elif name == "translate" and args and isinstance(args[0], dict) and isinstance(s, str):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        n = len(s) * longest
    if n > limit:
        budget.too_large(n)


def _join_guard(join, sep):
    def call(iterable):
        items = list(iterable)
        n = sum(len(i) for i in items if isinstance(i, _TEXT_TYPES)) \
            + len(sep) * max(len(items) - 1, 0)
        budget = _current()
        if n > budget.limits.max_items:
            budget.too_large(n)
        return join(items)
    return call


def _widening_method(method, s, name: str):
    if name == "join":
        return _join_guard(method, s)

    def call(*args, **kwargs):
        _check_widening(name, s, args, kwargs)
        return method(*args, **kwargs)
    return call


def _widening_unbound(method, name: str):
    def call(s, *args, **kwargs):
        if isinstance(s, _TEXT_TYPES):
            if name == "join":
                return _join_guard(lambda items: method(s, items), s)(*args, **kwargs)
            _check_widening(name, s, args, kwargs)
        return method(s, *args, **kwargs)
    return call


def _to_bytes_guard(method, bound: bool):
    def call(*args, **kwargs):
        rest = args if bound else args[1:]
        length = rest[0] if rest else kwargs.get("length", 1)
        budget = _current()
        if isinstance(length, int) and length > budget.limits.max_items:
            budget.too_large(length)
        return method(*args, **kwargs)
    return call


_MISSING = object()


def _getattr_guard(obj, name, default=_MISSING):
    """RestrictedPython's ``safer_getattr`` (missing attributes raise), plus size checks on
    the widening ``str``/``bytes`` methods and ``int.to_bytes``."""
    value = safer_getattr_raise(obj, name) if default is _MISSING \
        else safer_getattr(obj, name, default)
    if name in _WIDENING:
        if isinstance(obj, _TEXT_TYPES):
            return _widening_method(value, obj, name)
        if obj is str or obj is bytes or obj is bytearray:
            return _widening_unbound(value, name)
    elif name == "to_bytes" and (isinstance(obj, int) or obj is int):
        return _to_bytes_guard(value, bound=obj is not int)
    return value


class _BoundedPrint(PrintCollector):
    """``print()`` of a script: goes to the log, at most 20,000 characters."""

    MAX_CHARS = 20_000

    def __init__(self, _getattr_=None):
        super().__init__(_getattr_)
        self.size, self.cut = 0, False

    def write(self, text: str) -> None:
        room = self.MAX_CHARS - self.size
        if len(text) > room:
            self.cut, text = True, text[:max(room, 0)]
        self.size += len(text)
        if text:
            self.txt.append(text)

    def __call__(self) -> str:
        return "".join(self.txt) + (" …" if self.cut else "")

    def _call_print(self, *objects, **kwargs):
        for obj in objects:
            _check_text(obj)
        super()._call_print(*objects, **kwargs)


_INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
            "/=": operator.itruediv, "//=": operator.ifloordiv, "%=": operator.imod,
            "**=": operator.ipow, "<<=": operator.ilshift, ">>=": operator.irshift,
            "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
            "@=": operator.imatmul}
_INPLACE_CHECKS = {"+=": _check_add, "*=": _check_mul, "**=": _check_pow,
                   "<<=": _check_lshift, "%=": _check_mod}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    check = _INPLACE_CHECKS.get(op)
    if check is not None:
        check(x, y)
    return _INPLACE[op](x, y)


def _apply(func, *args, **kwargs):  # calls with *args / **kwargs
    return func(*args, **kwargs)


def sandbox_builtins() -> dict[str, Any]:
    """The ``__builtins__`` of sandboxed code: safe builtins plus RestrictedPython's guards
    and the budget's.

    No ``__import__``, ``open``, ``eval``, ``exec``, ``compile``, ``getattr``, ``type``,
    ``globals``, ``vars``, ``dir``. Guards sit in the builtins, so they never mix with task data.
    """
    b = {k: v for k, v in safe_builtins.items() if k not in _DROPPED_BUILTINS}
    b.update({f.__name__: f for f in _EXTRA_BUILTINS})
    b.update({
        # Like safer_getattr (no "_" names, no str.format, no frame/code attributes) but a
        # missing attribute raises AttributeError as in Python instead of giving None.
        "_getattr_": _getattr_guard,
        "_getitem_": lambda ob, index: ob[index],
        "_getiter_": iter,
        "_write_": full_write_guard,  # item/attribute writes only on dict and list
        "_inplacevar_": _inplacevar,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_apply_": _apply,
        "_print_": _BoundedPrint,
        # the budget (see the module docstring)
        "_tick_": _tick_, "_enter_": _enter_, "_call_": _call_, "_format_": _format_,
        "_add_": _add_, "_mul_": _mul_, "_pow_": _pow_, "_lshift_": _lshift_, "_mod_": _mod_,
    })
    return b


def _guard_call(name: str, args: list, where) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, where)
    return node


_BINOP_GUARDS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_",
                 ast.Mod: "_mod_"}


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus: no import and no class, refused when deploying; and the
    budget's checks put into the code (see the module docstring)."""

    def visit_Import(self, node):
        self.error(node, "import is not allowed in BPMN scripts (脚本中不能导入模块)")

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed in BPMN scripts (脚本中不能定义类)")

    # -- the budget: a tick in every loop, comprehension, function, call -----------------------

    def _ticked(self, node):
        tick = ast.Expr(_guard_call("_tick_", [], node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_While(self, node):
        return self._ticked(super().visit_While(node))

    def visit_For(self, node):
        return self._ticked(super().visit_For(node))

    def visit_comprehension(self, node):
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _guard_call("_tick_", [], node.iter))
        return node

    def visit_FunctionDef(self, node):
        node = super().visit_FunctionDef(node)
        enter = ast.Expr(_guard_call("_enter_", [], node))
        copy_locations(enter, node)
        node.body.insert(0, enter)
        return node

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        body = ast.BoolOp(op=ast.Or(), values=[_guard_call("_enter_", [], node.body), node.body])
        copy_locations(body, node.body)
        node.body = body
        return node

    def visit_Call(self, node):
        node = super().visit_Call(node)
        if isinstance(node.func, ast.Name) and node.func.id == "_apply_":  # f(*a): _apply_(f, *a)
            node.args[0] = _guard_call("_call_", [node.args[0]], node.args[0])
        else:
            node.func = _guard_call("_call_", [node.func], node.func)
        return node

    # -- sizes: operators and f-strings --------------------------------------------------------

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        return _guard_call(guard, [node.left, node.right], node)

    def visit_FormattedValue(self, node):
        node = super().visit_FormattedValue(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant(None)
        if node.format_spec is None:
            copy_locations(spec, node.value)
        value = _guard_call("_format_", [node.value, ast.Constant(node.conversion), spec],
                            node.value)
        new = ast.FormattedValue(value=value, conversion=-1, format_spec=None)
        copy_locations(new, node)
        return new


# -- endless loops, found when deploying -------------------------------------------------------

def _always(test, truth: bool) -> bool:
    if isinstance(test, ast.Constant):
        return bool(test.value) is truth
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _always(test.operand, not truth)
    return False


def _leaves(nodes, own_loop: bool) -> bool:
    """Whether ``nodes`` can leave the loop: a ``break`` of the loop itself (``own_loop``),
    or a ``return``, ``raise``, ``yield`` anywhere outside nested functions."""
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Break):
            if own_loop:
                return True
            continue
        if isinstance(node, (ast.Return, ast.Raise, ast.Yield, ast.YieldFrom, ast.Await)):
            return True
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            header = [node.test] if isinstance(node, ast.While) else [node.target, node.iter]
            if _leaves(header, False) or _leaves(node.body, False) \
                    or _leaves(node.orelse, own_loop):
                return True
            continue
        if _leaves(ast.iter_child_nodes(node), own_loop):
            return True
    return False


def endless_loops(source: str) -> list[int]:
    """Lines of the obvious endless loops of a script: ``while True:`` (``while 1:``...)
    with no ``break``, ``return``, ``raise`` or ``yield`` in its body (deploy refuses them;
    anything subtler is stopped by the time budget when it runs)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, TypeError):
        return []
    return sorted(node.lineno for node in ast.walk(tree)
                  if isinstance(node, ast.While) and _always(node.test, True)
                  and not _leaves(node.body, True))


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
