"""A small, safe expression language for outcome rules and form ``when`` conditions.

Rules are Python-like expressions over field names: comparisons, ``and``/``or``/``not``,
``in`` with a list, arithmetic, parentheses, ``known(field)`` and ``a if condition else b``,
e.g. ``pain_vas_after <= 0.5 * pain_vas_before and new_inflammation_or_ulceration == "no"``.
Evaluation uses Kleene three-valued logic: a missing field (absent, empty or "unknown")
makes a comparison unknown (None), so "missing" is never read as "no".
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from extraction.errors import RuleError

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_ALLOWED_CONSTANTS = (int, float, str, bool)


@dataclass(frozen=True)
class Rule:
    """A parsed rule: its source text, syntax tree and the field names it reads."""

    text: str
    tree: ast.Expression
    fields: frozenset[str]

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The rule's value for one row; None when missing data leave it undecided."""
        return _eval(self.tree.body, values)


@functools.lru_cache(maxsize=4096)
def parse_rule(text: str) -> Rule:
    """Parse and check a rule; raise RuleError saying what is not allowed. Parsed once per
    text (rules and conditions are evaluated for every row of an import)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        # Python gives offset 0 (or one past the text) when the rule ends too early
        at = exc.offset if exc.offset and exc.offset <= len(text.strip()) else None
        where = f"at column {at}" if at else "at the end of the rule"
        raise RuleError(f"cannot parse {text!r}: {exc.msg} {where}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        _check_node(node, text)
        if isinstance(node, ast.Name):
            names.add(node.id)
    return Rule(text=text, tree=tree, fields=frozenset(names - {"true", "false", "known"}))


def _check_node(node: ast.AST, text: str) -> None:
    allowed = (
        ast.Expression,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.Compare,
        ast.BinOp,
        ast.Name,
        ast.Load,
        ast.Constant,
        ast.List,
        ast.Tuple,
        ast.IfExp,
        ast.Call,
        *_COMPARE,
        *_ARITH,
    )
    if not isinstance(node, allowed):
        raise RuleError(f"{text!r}: {type(node).__name__} is not allowed in a rule")
    if isinstance(node, ast.Call) and not (
        isinstance(node.func, ast.Name)
        and node.func.id == "known"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Name)
        and not node.keywords
    ):
        raise RuleError(f"{text!r}: only known(field) may be called in a rule")
    if isinstance(node, ast.Constant) and not isinstance(node.value, _ALLOWED_CONSTANTS):
        raise RuleError(f"{text!r}: the constant {node.value!r} is not allowed in a rule")


def _and(values: list[Any]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[Any]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _eval(node: ast.AST, values: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in ("true", "false"):
            return node.id == "true"
        value = values.get(node.id)
        if isinstance(value, str) and value.strip().lower() in ("", "unknown"):
            return None
        return value
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, values) for e in node.elts]
    if isinstance(node, ast.BoolOp):
        parts = [_truth(_eval(v, values)) for v in node.values]
        return _and(parts) if isinstance(node.op, ast.And) else _or(parts)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        if operand is None:
            return None
        if isinstance(node.op, ast.Not):
            return not _truth(operand)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Div) and right == 0:
            return None
        return _ARITH[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        return _compare(node, values)
    if isinstance(node, ast.Call):
        return _eval(node.args[0], values) is not None
    if isinstance(node, ast.IfExp):
        condition = _truth(_eval(node.test, values))
        if condition is None:
            return None
        return _eval(node.body if condition else node.orelse, values)
    raise RuleError(f"{type(node).__name__} is not allowed in a rule")


def _truth(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("yes", "true"):
            return True
        if lowered in ("no", "false"):
            return False
        if lowered in ("unknown", ""):
            return None
    return bool(value)


def _compare(node: ast.Compare, values: Mapping[str, Any]) -> bool | None:
    left = _eval(node.left, values)
    results: list[bool | None] = []
    for op, comparator in zip(node.ops, node.comparators, strict=True):
        right = _eval(comparator, values)
        if left is None or right is None or (isinstance(right, list) and None in right):
            results.append(None)
        else:
            try:
                results.append(bool(_COMPARE[type(op)](left, right)))
            except TypeError:
                raise RuleError(
                    f"cannot compare {left!r} with {right!r} ({type(op).__name__})"
                ) from None
        left = right
    return _and(list(results))
