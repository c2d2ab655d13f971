"""Step conditions: JSONLogic as Novu's v2 workflows store it in a step's `skip` control.

Novu's dashboard builds conditions with react-querybuilder and stores them as JSONLogic.
A step runs when its conditions hold; an empty rule always runs. The evaluator is written
here (no `eval`, bounded depth) and follows Novu's server semantics:

- the standard JSONLogic operations (`var`, `missing`, `missing_some`, `if`, `==`, `===`,
  `!=`, `!==`, `!`, `!!`, `or`, `and`, `<`, `<=`, `>`, `>=` (with the three-argument
  "between" form), `min`, `max`, `+`, `-`, `*`, `/`, `%`, `map`, `filter`, `reduce`,
  `all`, `none`, `some`, `merge`, `in` (array membership and substring), `cat`, `substr`,
  `log`);
- comparisons as Novu overrides them: booleans and "true"/"false" compare as booleans,
  values that read as numbers compare as numbers, two date strings compare as instants;
  anything else compares strictly (and ordering comparisons are then false);
- the rule builder's operators: `=`, `startsWith`, `endsWith`, `contains`,
  `doesNotContain`, `doesNotBeginWith`, `doesNotEndWith`, `null`, `notNull`, `notIn`,
  `between`, `notBetween`, `containsAny`, `doesNotContainAny`, `isEmpty`, `isNonEmpty`,
  and the relative dates `moreThanXAgo`, `lessThanXAgo`, `withinLast`, `notWithinLast`,
  `exactlyXAgo` (`{"amount": 5, "unit": "days"}`).

An unknown operator or a malformed rule raises `ConditionError`.
"""

from __future__ import annotations

import calendar
import itertools
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_DEPTH = 64


class ConditionError(Exception):
    """The rule cannot be evaluated: an unknown operator or a malformed expression."""


# --- JavaScript-like value semantics -----------------------------------------------------


def truthy(value: Any) -> bool:
    """JSONLogic truthiness: false, null, 0, NaN, "" and [] are false; every object is true."""
    if isinstance(value, Mapping):
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def _to_number(value: Any) -> float:
    """JavaScript's `Number(value)`; NaN where JavaScript gives NaN."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    if isinstance(value, list):
        return 0.0 if not value else _to_number(value[0]) if len(value) == 1 else math.nan
    return math.nan


def _to_string(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join("" if item is None else _to_string(item) for item in value)
    return str(value)


def _as_boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    return None


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 8:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both values as booleans, numbers or instants, as Novu compares them; None if neither."""
    left_bool, right_bool = _as_boolean(left), _as_boolean(right)
    if left_bool is not None and right_bool is not None:
        return left_bool, right_bool
    if not isinstance(left, Mapping) and not isinstance(right, Mapping):
        left_number, right_number = _to_number(left), _to_number(right)
        if not math.isnan(left_number) and not math.isnan(right_number):
            return left_number, right_number
    left_instant, right_instant = _parse_instant(left), _parse_instant(right)
    if left_instant is not None and right_instant is not None:
        return left_instant, right_instant
    return None


def _strict_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return float(left) == float(right)
    return type(left) is type(right) and bool(left == right)


def _loose_equal(left: Any, right: Any) -> bool:
    pair = _comparable(left, right)
    return _strict_equal(left, right) if pair is None else bool(pair[0] == pair[1])


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def compare(*values: Any) -> bool:
        if len(values) < 2:
            raise ConditionError("A comparison needs two values")
        for left, right in itertools.pairwise(values):
            pair = _comparable(left, right)
            if pair is None or not test(*pair):
                return False
        return True

    return compare


# --- operations ---------------------------------------------------------------------------


def _var(data: Any, path: Any = None, default: Any = None) -> Any:
    if path is None or path == "" or path == []:
        return data
    value = data
    for key in _to_string(path).split("."):
        if isinstance(value, Mapping):
            if key not in value:
                return default
            value = value[key]
        elif isinstance(value, list) and key.lstrip("-").isdigit():
            index = int(key)
            if not 0 <= index < len(value):
                return default
            value = value[index]
        else:
            return default
    return default if value is None else value


def _missing(data: Any, *paths: Any) -> list[Any]:
    keys = paths[0] if len(paths) == 1 and isinstance(paths[0], list) else list(paths)
    return [key for key in keys if _var(data, key) in (None, "")]


def _missing_some(data: Any, need: Any, paths: Any) -> list[Any]:
    missing = _missing(data, paths if isinstance(paths, list) else [paths])
    return [] if len(paths) - len(missing) >= _to_number(need) else missing


def _in(needle: Any, haystack: Any) -> bool:
    if isinstance(haystack, str):
        return _to_string(needle) in haystack
    if isinstance(haystack, list):
        return any(_strict_equal(needle, item) for item in haystack)
    return False


def _arithmetic(
    reduce: Callable[[float, float], float], unary: Callable[[float], float] | None = None
) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        numbers = [_to_number(value) for value in values]
        if not numbers:
            return None
        if len(numbers) == 1 and unary is not None:
            return _plain(unary(numbers[0]))
        total = numbers[0]
        for number in numbers[1:]:
            total = reduce(total, number)
        return _plain(total)

    return apply


def _divide(left: float, right: float) -> float:
    if right:
        return left / right
    return math.nan if left == 0 or math.isnan(left) else math.copysign(math.inf, left)


def _modulo(left: float, right: float) -> float:
    return math.fmod(left, right) if right else math.nan


def _plain(number: float) -> Any:
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _min_max(pick: Callable[..., float]) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        numbers = [_to_number(value) for value in values]
        return None if not numbers or any(math.isnan(n) for n in numbers) else _plain(pick(numbers))

    return apply


def _substr(text: Any, start: Any = 0, length: Any = None) -> str:
    source = _to_string(text)
    begin = int(_to_number(start))
    begin = max(len(source) + begin, 0) if begin < 0 else begin
    if length is None:
        return source[begin:]
    count = int(_to_number(length))
    end = len(source) + count if count < 0 else begin + count
    return source[begin:end]


def _merge(*values: Any) -> list[Any]:
    merged: list[Any] = []
    for value in values:
        merged.extend(value if isinstance(value, list) else [value])
    return merged


def _string_test(test: Callable[[str, str], bool]) -> Callable[..., bool]:
    def apply(value: Any = None, expected: Any = None) -> bool:
        return isinstance(value, str) and isinstance(expected, str) and test(value, expected)

    return apply


def _range(value: Any, bounds: Any) -> tuple[float, float, float] | None:
    if not isinstance(bounds, list) or len(bounds) != 2:
        return None
    numbers = (value, *bounds)
    if not all(isinstance(item, int | float) and not isinstance(item, bool) for item in numbers):
        return None
    return float(value), float(bounds[0]), float(bounds[1])


def _between(value: Any = None, bounds: Any = None) -> bool:
    checked = _range(value, bounds)
    return checked is not None and checked[1] <= checked[0] <= checked[2]


def _not_between(value: Any = None, bounds: Any = None) -> bool:
    checked = _range(value, bounds)
    return checked is not None and (checked[0] < checked[1] or checked[0] > checked[2])


def _contains_any(values: Any = None, candidates: Any = None) -> bool:
    if not isinstance(values, list) or not isinstance(candidates, list):
        return False
    return any(_in(candidate, values) for candidate in candidates)


def _is_empty(value: Any = None) -> bool:
    return value is None or (isinstance(value, str | list | Mapping) and len(value) == 0)


_OPERATIONS: dict[str, Callable[..., Any]] = {
    "==": lambda a=None, b=None: _loose_equal(a, b),
    "=": lambda a=None, b=None: _loose_equal(a, b),
    "!=": lambda a=None, b=None: not _loose_equal(a, b),
    "===": lambda a=None, b=None: _strict_equal(a, b),
    "!==": lambda a=None, b=None: not _strict_equal(a, b),
    "!": lambda a=None, *_: not truthy(a),
    "!!": lambda a=None, *_: truthy(a),
    "<": _ordered(lambda a, b: bool(a < b)),
    "<=": _ordered(lambda a, b: bool(a <= b)),
    ">": _ordered(lambda a, b: bool(a > b)),
    ">=": _ordered(lambda a, b: bool(a >= b)),
    "in": lambda a=None, b=None: _in(a, b),
    "cat": lambda *values: "".join("" if v is None else _to_string(v) for v in values),
    "substr": _substr,
    "+": _arithmetic(lambda a, b: a + b, unary=lambda a: a),
    "-": _arithmetic(lambda a, b: a - b, unary=lambda a: -a),
    "*": _arithmetic(lambda a, b: a * b),
    "/": _arithmetic(_divide),
    "%": _arithmetic(_modulo),
    "min": _min_max(min),
    "max": _min_max(max),
    "merge": _merge,
    "log": lambda a=None, *_: a,
    "startsWith": _string_test(str.startswith),
    "endsWith": _string_test(str.endswith),
    "contains": _string_test(lambda value, expected: expected in value),
    "doesNotContain": _string_test(lambda value, expected: expected not in value),
    "doesNotBeginWith": _string_test(lambda value, expected: not value.startswith(expected)),
    "doesNotEndWith": _string_test(lambda value, expected: not value.endswith(expected)),
    "null": lambda a=None, *_: a is None,
    "notNull": lambda a=None, *_: a is not None,
    "notIn": lambda a=None, b=None: isinstance(b, list) and not _in(a, b),
    "between": _between,
    "notBetween": _not_between,
    "containsAny": _contains_any,
    "doesNotContainAny": lambda a=None, b=None: isinstance(a, list) and not _contains_any(a, b),
    "isEmpty": _is_empty,
    "isNonEmpty": lambda a=None, *_: not _is_empty(a),
}

_RELATIVE_UNITS = ("minutes", "hours", "days", "weeks", "months", "years")
_TOLERANCE = {
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "years": timedelta(weeks=1),
}
_RELATIVE_OPERATORS = ("moreThanXAgo", "lessThanXAgo", "withinLast", "notWithinLast", "exactlyXAgo")
_DATA_OPERATORS = ("var", "missing", "missing_some")
_LAZY_OPERATORS = ("and", "or", "if", "?:", "map", "filter", "reduce", "all", "none", "some")
KNOWN_OPERATORS = frozenset((*_OPERATIONS, *_RELATIVE_OPERATORS, *_DATA_OPERATORS, *_LAZY_OPERATORS))


def _months_back(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _ago(amount: float, unit: str, now: datetime) -> datetime:
    if unit in ("months", "years"):
        return _months_back(now, int(amount) * (12 if unit == "years" else 1))
    return now - timedelta(**{unit: amount})


def _relative(operator: str, value: Any, spec: Any, now: datetime) -> bool:
    if not isinstance(spec, Mapping):
        return False
    amount, unit = spec.get("amount"), spec.get("unit")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
        return False
    if unit not in _RELATIVE_UNITS:
        return False
    moment = _parse_instant(value)
    if moment is None:
        return False
    target = _ago(float(amount), unit, now)
    if operator == "moreThanXAgo" or operator == "notWithinLast":
        return moment < target
    if operator == "lessThanXAgo":
        return moment >= target
    if operator == "withinLast":
        return target <= moment <= now
    return abs(moment - target) <= _TOLERANCE.get(unit, timedelta(days=1))


# --- evaluation -----------------------------------------------------------------------------


def _operation(node: Any) -> tuple[str, list[Any]] | None:
    """(operator, arguments) when `node` is a JSONLogic operation; None for plain data."""
    if not isinstance(node, Mapping) or len(node) != 1:
        return None
    operator, arguments = next(iter(node.items()))
    return str(operator), arguments if isinstance(arguments, list) else [arguments]


class _Evaluation:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def run(self, node: Any, data: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ConditionError(f"The rule is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, list):
            return [self.run(item, data, depth + 1) for item in node]
        operation = _operation(node)
        if operation is None:
            return node
        operator, arguments = operation
        if operator in _LAZY_OPERATORS:
            return self._lazy(operator, arguments, data, depth + 1)
        values = [self.run(argument, data, depth + 1) for argument in arguments]
        if operator == "var":
            return _var(data, *values[:2])
        if operator == "missing":
            return _missing(data, *values)
        if operator == "missing_some":
            return _missing_some(data, *values[:2]) if len(values) >= 2 else []
        if operator in _RELATIVE_OPERATORS:
            value, spec = ([*values, None, None])[:2]
            return _relative(operator, value, spec, self.now)
        function = _OPERATIONS.get(operator)
        if function is None:
            raise ConditionError(f'Unknown operator "{operator}"')
        try:
            return function(*values)
        except TypeError as error:
            raise ConditionError(f'Wrong arguments for "{operator}": {error}') from None

    def _lazy(self, operator: str, arguments: list[Any], data: Any, depth: int) -> Any:
        if operator in ("and", "or"):
            value: Any = None
            for argument in arguments:
                value = self.run(argument, data, depth)
                if truthy(value) != (operator == "and"):
                    return value
            return value
        if operator in ("if", "?:"):
            index = 0
            while index + 1 < len(arguments):
                if truthy(self.run(arguments[index], data, depth)):
                    return self.run(arguments[index + 1], data, depth)
                index += 2
            return self.run(arguments[index], data, depth) if index < len(arguments) else None
        items = self.run(arguments[0], data, depth) if arguments else None
        items = items if isinstance(items, list) else []
        body = arguments[1] if len(arguments) > 1 else None
        if operator == "map":
            return [self.run(body, item, depth) for item in items]
        if operator == "filter":
            return [item for item in items if truthy(self.run(body, item, depth))]
        if operator == "reduce":
            accumulator = self.run(arguments[2], data, depth) if len(arguments) > 2 else None
            for item in items:
                accumulator = self.run(body, {"current": item, "accumulator": accumulator}, depth)
            return accumulator
        results = [truthy(self.run(body, item, depth)) for item in items]
        if operator == "all":
            return bool(results) and all(results)
        if operator == "none":
            return not any(results)
        return any(results)


def evaluate(rule: Any, data: Any, *, now: datetime | None = None) -> Any:
    """Apply a JSONLogic rule to `data` and return its value."""
    return _Evaluation(now or datetime.now(UTC)).run(rule, data)


def should_skip(skip: Any, data: Any, *, now: datetime | None = None) -> bool:
    """True when a step must be skipped: its non-empty `skip` rule does not hold.

    Novu's dashboard stores the conditions under which the step runs, so the result is
    inverted, as Novu's worker does.
    """
    if skip is None or skip == {} or skip == []:
        return False
    return not truthy(evaluate(skip, data, now=now))


def check_rule(rule: Any, depth: int = 0) -> None:
    """Raise `ConditionError` if the rule uses an unknown operator or nests too deeply."""
    if depth > MAX_DEPTH:
        raise ConditionError(f"The rule is nested deeper than {MAX_DEPTH} levels")
    if isinstance(rule, list):
        for item in rule:
            check_rule(item, depth + 1)
        return
    operation = _operation(rule)
    if operation is None:
        return
    operator, arguments = operation
    if operator not in KNOWN_OPERATORS:
        raise ConditionError(f'Unknown operator "{operator}"')
    for argument in arguments:
        check_rule(argument, depth + 1)
