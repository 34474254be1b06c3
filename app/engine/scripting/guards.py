"""Size guards 大小检查: the operators, builtins and string methods that could allocate without
bound are checked *before* they run (``+ * ** << %``, f-strings, ``str``, ``range``,
``join``...), and the sandbox's ``__builtins__``."""
from __future__ import annotations

import math
import operator
import re
from datetime import date, datetime, timedelta
from typing import Any

from RestrictedPython import PrintCollector, safe_builtins
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence,
                                     guarded_unpack_sequence, safer_getattr, safer_getattr_raise)

from app.engine.scripting.limits import _Budget, _current, _enter_, _tick_


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


def _call_(func):
    """Around the callee of every call: a tick, and the size-checked version of a few
    builtins (``_call_(str)(x)``)."""
    _current().tick()
    guarded = _CALL_GUARDS.get(id(func))
    return func if guarded is None else guarded
