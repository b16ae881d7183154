"""A form field's ``when`` condition written as REDCap branching logic.

REDCap shows a field only when its branching logic is true, and compares coded values
(``[sex] = '1'``, ``[sites(3)] = '1'`` for one box of a checkbox field). casepool's rules
are three-valued (``extraction.rules``): a missing or "unknown" value makes a comparison
undecided, and a field whose condition is undecided does not apply. REDCap has no ``not``
and reads a blank as a value, so each part of a rule is written twice, as "is true" and
"is false", each excluding blanks, missing data codes (not reported) and "unknown" codes:
REDCap then shows the field exactly when casepool's rule is true. (One gap: a checkbox
field marked with a missing data code still has each box at '0'.) What cannot be written
so is refused, naming the field.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from extraction.errors import RedcapError
from extraction.forms import Form, FormField
from extraction.rules import parse_rule

_NEGATED = {"=": "<>", "<>": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OPERATORS: dict[type[ast.cmpop], str] = {
    ast.Eq: "=",
    ast.NotEq: "<>",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


class Untranslatable(Exception):
    """A part of a rule with no REDCap equivalent (internal; becomes a RedcapError)."""


@dataclass(frozen=True)
class Logic:
    """The REDCap conditions under which a part of a rule is true and is false."""

    true: str
    false: str


def branching_logic(
    form_name: str,
    form_field: FormField,
    form: Form,
    codes: Callable[[FormField], Mapping[str, str]],
    missing_codes: tuple[str, ...] = (),
) -> str:
    """``form_field.when`` as REDCap branching logic ('' without a condition).

    ``codes(field)`` maps each value of a choice-like field to its REDCap code; a value
    holding one of ``missing_codes`` (not reported) counts as missing, like a blank.
    """
    if form_field.when is None:
        return ""
    rule = parse_rule(form_field.when)
    try:
        return _Writer(form, codes, missing_codes).logic(rule.tree.body).true
    except Untranslatable as reason:
        raise RedcapError(
            f"{form_name}.{form_field.name}: the condition {form_field.when!r} cannot be "
            f"written as REDCap branching logic: {reason}"
        ) from None


def _quoted(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    raise Untranslatable(f"{text!r} holds both kinds of quote")


def _number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _all(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"


def _any(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def _is_unknown(text: str) -> bool:
    return text.strip().lower() in ("", "unknown")


class _Writer:
    def __init__(
        self,
        form: Form,
        codes: Callable[[FormField], Mapping[str, str]],
        missing_codes: tuple[str, ...],
    ) -> None:
        self.form = form
        self.codes = codes
        self.missing = missing_codes

    def field(self, node: ast.expr) -> FormField | None:
        if isinstance(node, ast.Name) and node.id not in ("true", "false"):
            found = self.form.field(node.id)
            if found is None:  # Form checks this; kept for a rule given alone
                raise Untranslatable(f"{node.id} is not a field of the form")
            return found
        return None

    def logic(self, node: ast.expr) -> Logic:
        if isinstance(node, ast.BoolOp):
            parts = [self.logic(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return Logic(_all([p.true for p in parts]), _any([p.false for p in parts]))
            return Logic(_any([p.true for p in parts]), _all([p.false for p in parts]))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.logic(node.operand)
            return Logic(inner.false, inner.true)
        if isinstance(node, ast.Compare):
            pairs = zip(
                [node.left, *node.comparators[:-1]], node.ops, node.comparators, strict=True
            )
            parts = [self.compare(left, op, right) for left, op, right in pairs]
            return Logic(_all([p.true for p in parts]), _any([p.false for p in parts]))
        if isinstance(node, ast.Call):
            return self.known(node.args[0])
        form_field = self.field(node)
        if form_field is not None and form_field.type == "yes-no-unknown":
            return self.equals(form_field, "yes")
        raise Untranslatable(f"{ast.unparse(node)} is not a condition REDCap can test")

    def present(self, form_field: FormField) -> list[str]:
        """The conditions that a single-valued field holds a known value."""
        name = f"[{form_field.name}]"
        unknown = [c for v, c in self.codes(form_field).items() if _is_unknown(v)]
        if form_field.type in ("text", "date"):
            unknown = ["unknown"]
        return [f"{name} <> {_quoted(c)}" for c in ("", *self.missing, *unknown)]

    def known(self, node: ast.expr) -> Logic:
        form_field = self.field(node)
        assert form_field is not None  # parse_rule allows known(name) only
        if form_field.type == "multichoice":
            raise Untranslatable(
                f"known({form_field.name}): REDCap cannot tell an unanswered checkbox field "
                "from one with no box ticked"
            )
        present = self.present(form_field)
        return Logic(_all(present), _any([p.replace("<>", "=", 1) for p in present]))

    def equals(self, form_field: FormField, value: str) -> Logic:
        """``field == value`` for a single-valued field."""
        if _is_unknown(value):
            raise Untranslatable(
                f"{form_field.name} == {value!r} is never true (rules read {value!r} as "
                f"missing): use not known({form_field.name})"
            )
        if form_field.type in ("choice", "yes-no-unknown"):
            codes = self.codes(form_field)
            if value not in codes:
                choices = ", ".join(repr(v) for v in codes)
                raise Untranslatable(f"{value!r} is not a choice of {form_field.name} ({choices})")
            literal = _quoted(codes[value])
        elif form_field.type in ("text", "date"):
            literal = _quoted(value)
        else:
            raise Untranslatable(f"{form_field.name} is a {form_field.type} field, not text")
        name = f"[{form_field.name}]"
        return Logic(
            f"{name} = {literal}", _all([*self.present(form_field), f"{name} <> {literal}"])
        )

    def compare(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> Logic:
        for side in (left, right):
            if isinstance(side, ast.BinOp | ast.IfExp | ast.Call | ast.BoolOp | ast.Compare):
                raise Untranslatable(
                    f"{ast.unparse(side)}: only a field, a value or a list of values can be "
                    "compared"
                )
        left_field, right_field = self.field(left), self.field(right)
        if isinstance(op, ast.In | ast.NotIn):
            found = self.membership(left, left_field, right, right_field)
            return Logic(found.false, found.true) if isinstance(op, ast.NotIn) else found
        symbol = _OPERATORS[type(op)]
        if left_field is None and right_field is not None:
            left, right, left_field, right_field = right, left, right_field, left_field
            symbol = _FLIPPED[symbol]
        if left_field is None:
            raise Untranslatable(
                f"{ast.unparse(left)} {symbol} {ast.unparse(right)} tests no field"
            )
        if left_field.type in ("integer", "number"):
            return self.numeric(left_field, symbol, right, right_field)
        if left_field.type == "multichoice":
            raise Untranslatable(
                f"{left_field.name} is a multichoice field: test one choice with "
                f"'choice' in {left_field.name}"
            )
        if right_field is not None or not (
            isinstance(right, ast.Constant) and isinstance(right.value, str)
        ):
            raise Untranslatable(
                f"{left_field.name} can only be compared with one of its values in quotes"
            )
        if symbol not in ("=", "<>"):
            raise Untranslatable(f"{left_field.name} is not a number and cannot be ordered")
        found = self.equals(left_field, right.value)
        return found if symbol == "=" else Logic(found.false, found.true)

    def numeric(
        self, form_field: FormField, symbol: str, right: ast.expr, right_field: FormField | None
    ) -> Logic:
        name = f"[{form_field.name}]"
        guards = self.present(form_field)
        if right_field is not None:
            if right_field.type not in ("integer", "number"):
                raise Untranslatable(
                    f"{form_field.name} is compared with {right_field.name}, not a number"
                )
            other = f"[{right_field.name}]"
            guards += self.present(right_field)
        elif (
            isinstance(right, ast.UnaryOp)
            and isinstance(right.op, ast.USub)
            and isinstance(right.operand, ast.Constant)
        ):
            other = "-" + self.constant_number(form_field, right.operand)
        elif isinstance(right, ast.Constant):
            other = self.constant_number(form_field, right)
        else:
            raise Untranslatable(f"{ast.unparse(right)}: only a number or a field, not arithmetic")
        return Logic(
            _all([*guards, f"{name} {symbol} {other}"]),
            _all([*guards, f"{name} {_NEGATED[symbol]} {other}"]),
        )

    @staticmethod
    def constant_number(form_field: FormField, node: ast.Constant) -> str:
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise Untranslatable(f"{form_field.name} is a number, compared with {node.value!r}")
        return _number(node.value)

    def membership(
        self,
        left: ast.expr,
        left_field: FormField | None,
        right: ast.expr,
        right_field: FormField | None,
    ) -> Logic:
        if left_field is None and right_field is not None and right_field.type == "multichoice":
            if not (isinstance(left, ast.Constant) and isinstance(left.value, str)):
                raise Untranslatable(f"test one choice of {right_field.name} in quotes")
            codes = self.codes(right_field)
            if left.value not in codes:
                raise Untranslatable(f"{left.value!r} is not a choice of {right_field.name}")
            box = f"[{right_field.name}({codes[left.value]})]"
            return Logic(f"{box} = '1'", f"{box} = '0'")
        if left_field is not None and isinstance(right, ast.List | ast.Tuple) and right.elts:
            values = []
            for element in right.elts:
                if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
                    raise Untranslatable(f"{ast.unparse(element)}: list only values in quotes")
                values.append(element.value)
            if left_field.type in ("integer", "number", "multichoice"):
                raise Untranslatable(
                    f"{left_field.name} is not a choice or text field: list values only for those"
                )
            parts = [self.equals(left_field, v).true for v in values]
            unequal = [p.replace(" = ", " <> ", 1) for p in parts]
            return Logic(_any(parts), _all([*self.present(left_field), *unequal]))
        raise Untranslatable(
            f"{ast.unparse(left)} in {ast.unparse(right)} is not a membership REDCap can test"
        )
