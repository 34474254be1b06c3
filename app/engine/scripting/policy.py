"""The compiler's policy 编译策略: RestrictedPython's transformer plus the budget's checks in
every loop, comprehension, call and function entry; and the deploy-time search for obvious
endless loops."""
from __future__ import annotations

import ast

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.transformer import copy_locations


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
