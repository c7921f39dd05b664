"""filterByFormula: tokenizer, recursive-descent parser and evaluator (reference §6)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .fields import iso_timestamp, parse_datetime


class FormulaError(Exception):
    """The formula cannot be parsed or names an unknown field or function."""


class EvalError(Exception):
    """A runtime #ERROR! value; it propagates until ISERROR() or the record filter."""


# ---------------------------------------------------------------------------------------------
# Tokenizer

@dataclass(frozen=True)
class Token:
    """One lexical token; `kind` is NUMBER, STRING, FIELD, NAME, OP, (, ), `,` or END."""

    kind: str
    value: Any
    position: int


NUMBER_RE = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OPERATORS = ("!=", "<=", ">=", "=", "<", ">", "&", "+", "-", "*", "/")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def tokenize(text: str) -> list[Token]:
    """Split formula text into tokens."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in "'\"":
            value, pos = _read_string(text, pos)
            tokens.append(Token("STRING", value, pos))
        elif char == "{":
            value, pos = _read_field_ref(text, pos)
            tokens.append(Token("FIELD", value, pos))
        elif number := NUMBER_RE.match(text, pos):
            tokens.append(Token("NUMBER", float(number.group()), pos))
            pos = number.end()
        elif name := NAME_RE.match(text, pos):
            tokens.append(Token("NAME", name.group(), pos))
            pos = name.end()
        elif char in "(),":
            tokens.append(Token(char, char, pos))
            pos += 1
        else:
            operator = next((op for op in OPERATORS if text.startswith(op, pos)), None)
            if operator is None:
                raise FormulaError(f"Unexpected character {char!r} at {pos}")
            tokens.append(Token("OP", operator, pos))
            pos += len(operator)
    tokens.append(Token("END", None, pos))
    return tokens


def _read_string(text: str, pos: int) -> tuple[str, int]:
    quote, pos, chars = text[pos], pos + 1, []
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            chars.append(ESCAPES.get(text[pos + 1], text[pos + 1]))
            pos += 2
        elif char == quote:
            return "".join(chars), pos + 1
        else:
            chars.append(char)
            pos += 1
    raise FormulaError("Unterminated string literal")


def _read_field_ref(text: str, pos: int) -> tuple[str, int]:
    pos, chars = pos + 1, []
    while pos < len(text):
        char = text[pos]
        # Only `\}` is an escape inside braces; other backslashes are part of the name.
        if char == "\\" and text.startswith("}", pos + 1):
            chars.append("}")
            pos += 2
        elif char == "}":
            return "".join(chars), pos + 1
        else:
            chars.append(char)
            pos += 1
    raise FormulaError("Unterminated field reference")


# ---------------------------------------------------------------------------------------------
# Syntax tree and parser

@dataclass(frozen=True)
class Literal:
    """A number or string constant."""

    value: Any


@dataclass(frozen=True)
class FieldRef:
    """A reference to a field, already resolved to its id and type."""

    field_id: str
    field_type: str


@dataclass(frozen=True)
class Call:
    """A function call; the name is upper-cased."""

    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class BinaryOp:
    """An infix operator application."""

    operator: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Negate:
    """Unary minus."""

    operand: Any


COMPARISONS = {"=", "!=", "<", ">", "<=", ">="}
# Operator levels from lowest to highest precedence.
PRECEDENCE = [COMPARISONS, {"&"}, {"+", "-"}, {"*", "/"}]


class Parser:
    """Recursive-descent parser that resolves field references through `resolve_field`."""

    def __init__(self, text: str, resolve_field: Callable[[str], tuple[str, str] | None]) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.resolve_field = resolve_field

    def parse(self) -> Any:
        """Parse the whole formula."""
        if self.peek().kind == "END":
            raise FormulaError("Empty formula")
        node = self.binary(0)
        if self.peek().kind != "END":
            raise FormulaError(f"Unexpected token at {self.peek().position}")
        return node

    def peek(self) -> Token:
        """The current token."""
        return self.tokens[self.index]

    def take(self, kind: str) -> Token:
        """Consume a token of the given kind or fail."""
        token = self.peek()
        if token.kind != kind:
            raise FormulaError(f"Expected {kind} at {token.position}")
        self.index += 1
        return token

    def binary(self, level: int) -> Any:
        """Parse a left-associative chain of operators at one precedence level."""
        if level == len(PRECEDENCE):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek().kind == "OP" and self.peek().value in PRECEDENCE[level]:
            operator = self.take("OP").value
            node = BinaryOp(operator, node, self.binary(level + 1))
        return node

    def unary(self) -> Any:
        """Parse unary minus/plus."""
        token = self.peek()
        if token.kind == "OP" and token.value in "-+":
            self.index += 1
            operand = self.unary()
            return Negate(operand) if token.value == "-" else operand
        return self.primary()

    def primary(self) -> Any:
        """Parse a literal, field reference, function call or parenthesised expression."""
        token = self.peek()
        self.index += 1
        if token.kind in ("NUMBER", "STRING"):
            return Literal(token.value)
        if token.kind == "FIELD":
            return self.field_ref(token.value)
        if token.kind == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if token.kind == "NAME":
            if self.peek().kind == "(":
                return self.call(token.value.upper())
            return self.field_ref(token.value)
        raise FormulaError(f"Unexpected token at {token.position}")

    def call(self, name: str) -> Call:
        """Parse a function's argument list and check its arity."""
        self.take("(")
        args: list[Any] = []
        if self.peek().kind != ")":
            args.append(self.binary(0))
            while self.peek().kind == ",":
                self.index += 1
                args.append(self.binary(0))
        self.take(")")
        if name not in FUNCTIONS:
            raise FormulaError(f"Unknown function {name}")
        low, high = FUNCTIONS[name][1:]
        if len(args) < low or (high is not None and len(args) > high):
            raise FormulaError(f"Wrong number of arguments to {name}")
        return Call(name, tuple(args))

    def field_ref(self, name: str) -> FieldRef:
        """Resolve a field name or id."""
        resolved = self.resolve_field(name)
        if resolved is None:
            raise FormulaError(f"Unknown field names: {name}")
        return FieldRef(*resolved)


# ---------------------------------------------------------------------------------------------
# Value helpers

def is_blank(value: Any) -> bool:
    """Blank-like values: equal to BLANK(), to "" and to 0 under Airtable's loose equality."""
    return value is None or value == "" or value == [] or (
        isinstance(value, (int, float)) and value == 0)


def truthy(value: Any) -> bool:
    """Airtable's inclusion rule: 0, false, "", NaN, [] and blank are falsy."""
    if isinstance(value, float) and math.isnan(value):
        return False
    return not is_blank(value) and value is not False


def to_text(value: Any) -> str:
    """Render a value the way it appears in a text context."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return iso_timestamp(value)
    if isinstance(value, list):
        return ", ".join(to_text(item) for item in value)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("filename") or value.get("text") or "")
    return str(value)


def to_number(value: Any) -> float:
    """Coerce to a number, raising EvalError when impossible."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise EvalError(f"Not a number: {value!r}") from None
    if isinstance(value, list) and len(value) == 1:
        return to_number(value[0])
    raise EvalError(f"Not a number: {value!r}")


def to_datetime(value: Any) -> datetime:
    """Coerce to an aware datetime, raising EvalError when impossible."""
    if isinstance(value, datetime):
        return value
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise EvalError(f"Not a date: {value!r}")
    return moment


def _numeric_pair(left: Any, right: Any) -> tuple[float, float] | None:
    try:
        return to_number(left), to_number(right)
    except EvalError:
        return None


def equals(left: Any, right: Any) -> bool:
    """Airtable `=`: blank-like values are all equal; text is compared case-sensitively."""
    if is_blank(left) or is_blank(right) or left is False or right is False:
        left_blank = is_blank(left) or left is False
        right_blank = is_blank(right) or right is False
        return left_blank and right_blank
    if isinstance(left, datetime) or isinstance(right, datetime):
        try:
            return _ms(to_datetime(left)) == _ms(to_datetime(right))
        except EvalError:
            return False
    if _is_numeric(left) or _is_numeric(right):
        pair = _numeric_pair(left, right)
        if pair is not None:
            return pair[0] == pair[1]
    return to_text(left) == to_text(right)


def compare(operator: str, left: Any, right: Any) -> bool:
    """Evaluate an ordering comparison on dates, numbers or (failing those) text."""
    if isinstance(left, datetime) or isinstance(right, datetime):
        ordered: tuple[Any, Any] = (_ms(to_datetime(left)), _ms(to_datetime(right)))
    else:
        ordered = _numeric_pair(left, right) or (to_text(left), to_text(right))
    a, b = ordered
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[operator]


def _is_numeric(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or value is True


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def arithmetic(operator: str, left: Any, right: Any) -> float:
    """Evaluate + - * / on numbers."""
    a, b = to_number(left), to_number(right)
    if operator == "/":
        if b == 0:
            raise EvalError("Division by zero")
        return a / b
    return {"+": a + b, "-": a - b, "*": a * b}[operator]


def flatten(values: list[Any]) -> list[Any]:
    """Spread list arguments (multi-value cells) into their items."""
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


# ---------------------------------------------------------------------------------------------
# Evaluation

@dataclass
class Context:
    """What a formula can see while evaluating one record."""

    record_id: str
    cells: dict[str, Any]
    created_time: str = ""


def evaluate(node: Any, ctx: Context) -> Any:
    """Evaluate a syntax tree against one record."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, FieldRef):
        return _field_value(node, ctx)
    if isinstance(node, Negate):
        return -to_number(evaluate(node.operand, ctx))
    if isinstance(node, BinaryOp):
        left, right = evaluate(node.left, ctx), evaluate(node.right, ctx)
        if node.operator == "=":
            return equals(left, right)
        if node.operator == "!=":
            return not equals(left, right)
        if node.operator in COMPARISONS:
            return compare(node.operator, left, right)
        if node.operator == "&":
            return to_text(left) + to_text(right)
        return arithmetic(node.operator, left, right)
    function, _, _ = FUNCTIONS[node.name]
    if node.name in LAZY_FUNCTIONS:
        return function(ctx, *node.args)
    return function(*(evaluate(arg, ctx) for arg in node.args))


def _field_value(node: FieldRef, ctx: Context) -> Any:
    value = ctx.cells.get(node.field_id)
    if value is not None and node.field_type in ("date", "dateTime", "createdTime"):
        return parse_datetime(value)
    return value


def _lazy_if(ctx: Context, condition: Any, then: Any, otherwise: Any = None) -> Any:
    if truthy(evaluate(condition, ctx)):
        return evaluate(then, ctx)
    return evaluate(otherwise, ctx) if otherwise is not None else None


def _lazy_iserror(ctx: Context, expression: Any) -> bool:
    try:
        evaluate(expression, ctx)
    except (EvalError, ArithmeticError, ValueError):
        return True
    return False


def _record_id(ctx: Context) -> str:
    return ctx.record_id


def _created_time(ctx: Context) -> str:
    return ctx.created_time


def _find(needle: Any, haystack: Any, start: Any = 0) -> int:
    offset = max(int(to_number(start)) - 1, 0)
    return to_text(haystack).find(to_text(needle), offset) + 1


def _search(needle: Any, haystack: Any, start: Any = 0) -> int | None:
    return _find(needle, haystack, start) or None


def _round(value: Any, places: Any = 0) -> float:
    # Airtable rounds half away from zero, unlike Python's banker's rounding.
    factor = 10 ** int(to_number(places))
    number = to_number(value) * factor
    return math.copysign(math.floor(abs(number) + 0.5), number) / factor


def _mid(text: Any, start: Any, count: Any) -> str:
    begin = max(int(to_number(start)) - 1, 0)
    return to_text(text)[begin:begin + max(int(to_number(count)), 0)]


def _substitute(text: Any, old: Any, new: Any, index: Any = None) -> str:
    source, old_text, new_text = to_text(text), to_text(old), to_text(new)
    if not old_text:
        return source
    if index is None:
        return source.replace(old_text, new_text)
    parts = source.split(old_text)
    which = int(to_number(index))
    if which < 1 or which >= len(parts):
        return source
    return old_text.join(parts[:which]) + new_text + old_text.join(parts[which:])


def _value(text: Any) -> float:
    cleaned = re.sub(r"[^0-9eE.+-]", "", to_text(text))
    return to_number(cleaned)


def _is_same(left: Any, right: Any, unit: Any = None) -> bool:
    a, b = to_datetime(left), to_datetime(right)
    if unit is None:
        return _ms(a) == _ms(b)
    fields = {"year": 1, "month": 2, "day": 3, "hour": 4, "minute": 5, "second": 6}
    depth = fields.get(to_text(unit).lower().rstrip("s"))
    if depth is None:
        raise EvalError(f"Unknown unit {unit!r}")
    return a.astimezone(UTC).timetuple()[:depth] == b.astimezone(UTC).timetuple()[:depth]


def _datetime_format(value: Any, pattern: Any = "YYYY-MM-DDTHH:mm:ss.SSSZ") -> str:
    moment = to_datetime(value).astimezone(UTC)
    tokens = {"YYYY": "%Y", "MM": "%m", "DD": "%d", "HH": "%H", "mm": "%M", "ss": "%S",
              "SSS": f"{moment.microsecond // 1000:03d}", "Z": "Z", "M": str(moment.month),
              "D": str(moment.day)}
    parts = re.split(r"(YYYY|SSS|MM|DD|HH|mm|ss|M|D|Z)", to_text(pattern))
    return "".join(moment.strftime(tokens[p]) if p in tokens else p for p in parts)


def _datetime_parse(value: Any, _format: Any = None) -> datetime:
    return to_datetime(to_text(value) if not isinstance(value, datetime) else value)


def _numbers(values: tuple[Any, ...]) -> list[float]:
    return [to_number(v) for v in flatten(list(values)) if v is not None and v != ""]


def _error(*_args: Any) -> Any:
    raise EvalError("ERROR()")


def _mod(value: Any, divisor: Any) -> float:
    d = to_number(divisor)
    if d == 0:
        raise EvalError("Division by zero")
    return math.fmod(to_number(value), d)


LAZY_FUNCTIONS = {"IF", "ISERROR", "RECORD_ID", "CREATED_TIME"}

# name -> (implementation, minimum args, maximum args or None for variadic)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "AND": (lambda *a: all(truthy(v) for v in flatten(list(a))), 1, None),
    "OR": (lambda *a: any(truthy(v) for v in flatten(list(a))), 1, None),
    "XOR": (lambda *a: sum(truthy(v) for v in flatten(list(a))) % 2 == 1, 1, None),
    "NOT": (lambda v: not truthy(v), 1, 1),
    "IF": (_lazy_if, 2, 3),
    "ISERROR": (_lazy_iserror, 1, 1),
    "RECORD_ID": (_record_id, 0, 0),
    "CREATED_TIME": (_created_time, 0, 0),
    "TRUE": (lambda: True, 0, 0),
    "FALSE": (lambda: False, 0, 0),
    "BLANK": (lambda: None, 0, 0),
    "ERROR": (_error, 0, None),
    "FIND": (_find, 2, 3),
    "SEARCH": (_search, 2, 3),
    "LOWER": (lambda s: to_text(s).lower(), 1, 1),
    "UPPER": (lambda s: to_text(s).upper(), 1, 1),
    "LEN": (lambda s: len(to_text(s)), 1, 1),
    "TRIM": (lambda s: to_text(s).strip(), 1, 1),
    "T": (lambda s: s if isinstance(s, str) else "", 1, 1),
    "CONCATENATE": (lambda *a: "".join(to_text(v) for v in a), 1, None),
    "LEFT": (lambda s, n=1: to_text(s)[:max(int(to_number(n)), 0)], 1, 2),
    "RIGHT": (lambda s, n=1: to_text(s)[len(to_text(s)) - max(int(to_number(n)), 0):], 1, 2),
    "MID": (_mid, 3, 3),
    "SUBSTITUTE": (_substitute, 3, 4),
    "REPT": (lambda s, n: to_text(s) * max(int(to_number(n)), 0), 2, 2),
    "REGEX_MATCH": (lambda s, p: re.search(to_text(p), to_text(s)) is not None, 2, 2),
    "VALUE": (_value, 1, 1),
    "ABS": (lambda v: abs(to_number(v)), 1, 1),
    "ROUND": (_round, 1, 2),
    "INT": (lambda v: float(math.floor(to_number(v))), 1, 1),
    "CEILING": (lambda v: float(math.ceil(to_number(v))), 1, 2),
    "FLOOR": (lambda v: float(math.floor(to_number(v))), 1, 2),
    "MOD": (_mod, 2, 2),
    "POWER": (lambda a, b: to_number(a) ** to_number(b), 2, 2),
    "SQRT": (lambda v: math.sqrt(to_number(v)) if to_number(v) >= 0 else math.nan, 1, 1),
    "MIN": (lambda *a: min(_numbers(a), default=0.0), 1, None),
    "MAX": (lambda *a: max(_numbers(a), default=0.0), 1, None),
    "SUM": (lambda *a: sum(_numbers(a)), 1, None),
    "AVERAGE": (lambda *a: sum(_numbers(a)) / len(_numbers(a)) if _numbers(a) else 0.0, 1, None),
    "COUNT": (lambda *a: sum(_is_numeric(v) for v in flatten(list(a))), 1, None),
    "COUNTA": (lambda *a: sum(not is_blank(v) or v == 0 for v in flatten(list(a))), 1, None),
    "DATETIME_PARSE": (_datetime_parse, 1, 3),
    "DATETIME_FORMAT": (_datetime_format, 1, 2),
    "IS_BEFORE": (lambda a, b: _ms(to_datetime(a)) < _ms(to_datetime(b)), 2, 2),
    "IS_AFTER": (lambda a, b: _ms(to_datetime(a)) > _ms(to_datetime(b)), 2, 2),
    "IS_SAME": (_is_same, 2, 3),
    "NOW": (lambda: datetime.now(UTC), 0, 0),
    "TODAY": (lambda: datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0), 0, 0),
    "YEAR": (lambda d: to_datetime(d).astimezone(UTC).year, 1, 1),
    "MONTH": (lambda d: to_datetime(d).astimezone(UTC).month, 1, 1),
    "DAY": (lambda d: to_datetime(d).astimezone(UTC).day, 1, 1),
}


def compile_formula(text: str, resolve_field: Callable[[str], tuple[str, str] | None]) -> Any:
    """Parse formula text into a tree, raising FormulaError for syntax or unknown names."""
    return Parser(text, resolve_field).parse()


def matches(tree: Any, ctx: Context) -> bool:
    """True if the record passes the filter; evaluation errors exclude it."""
    try:
        return truthy(evaluate(tree, ctx))
    except (EvalError, ArithmeticError, ValueError, OverflowError):
        return False
