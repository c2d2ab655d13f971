from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.engine.conditions import ConditionError, check_rule, evaluate, should_skip, truthy

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
DATA: dict[str, Any] = {
    "payload": {
        "tier": "pro",
        "amount": "5",
        "count": 7,
        "name": "Johnny Appleseed",
        "tags": ["a", "b"],
        "flag": True,
        "nothing": None,
        "empty": "",
        "items": [{"price": 3}, {"price": 9}],
        "at": (NOW - timedelta(days=10)).isoformat(),
    },
    "subscriber": {"data": {"role": "admin"}, "email": "ada@example.com"},
}


def run(rule: Any) -> Any:
    return evaluate(rule, DATA, now=NOW)


def var(path: str) -> dict[str, str]:
    return {"var": path}


def test_novu_documented_example() -> None:
    rule = {
        "and": [
            {"==": [var("payload.tier"), "pro"]},
            {"==": [var("subscriber.data.role"), "admin"]},
            {">": [var("payload.amount"), "4"]},
        ]
    }
    assert run(rule) is True
    assert should_skip(rule, DATA) is False


def test_skip_inverts_the_rule_and_empty_rules_run() -> None:
    assert should_skip({"==": [var("payload.tier"), "free"]}, DATA) is True
    assert should_skip(None, DATA) is False
    assert should_skip({}, DATA) is False


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"==": [var("payload.count"), "7"]}, True),
        ({"==": [var("payload.flag"), "true"]}, True),
        ({"==": [var("payload.tier"), "PRO"]}, False),
        ({"=": [var("payload.tier"), "pro"]}, True),
        ({"!=": [var("payload.tier"), "free"]}, True),
        ({"===": [var("payload.count"), "7"]}, False),
        ({"!==": [var("payload.count"), "7"]}, True),
        ({"<": [var("payload.amount"), 10]}, True),
        ({">": [var("payload.count"), 10]}, False),
        ({"<=": [var("payload.count"), 7]}, True),
        ({">=": [var("payload.count"), 8]}, False),
        ({"<": ["abc", 1]}, False),
        ({"<=": [1, var("payload.count"), 10]}, True),
        ({"<": [1, var("payload.count"), 7]}, False),
        ({">": ["2024-02-01T00:00:00Z", "2024-01-31"]}, True),
        ({"!": [var("payload.nothing")]}, True),
        ({"!!": [var("payload.tags")]}, True),
        ({"!!": [[]]}, False),
        ({"in": ["b", var("payload.tags")]}, True),
        ({"in": ["z", var("payload.tags")]}, False),
        ({"in": ["Apple", var("payload.name")]}, True),
        ({"in": [var("payload.tier"), ["pro", "enterprise"]]}, True),
        ({"in": ["x", var("payload.count")]}, False),
    ],
)
def test_standard_operators(rule: Any, expected: Any) -> None:
    assert run(rule) is expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"contains": [var("payload.name"), "Apple"]}, True),
        ({"contains": [var("payload.count"), "7"]}, False),
        ({"doesNotContain": [var("payload.name"), "Pear"]}, True),
        ({"startsWith": [var("payload.name"), "John"]}, True),
        ({"doesNotBeginWith": [var("payload.name"), "John"]}, False),
        ({"endsWith": [var("subscriber.email"), "@example.com"]}, True),
        ({"doesNotEndWith": [var("subscriber.email"), ".org"]}, True),
        ({"null": [var("payload.nothing")]}, True),
        ({"null": [var("payload.absent")]}, True),
        ({"notNull": [var("payload.tier")]}, True),
        ({"notIn": [var("payload.tier"), ["free", "trial"]]}, True),
        ({"notIn": [var("payload.tier"), ["pro"]]}, False),
        ({"between": [var("payload.count"), [5, 10]]}, True),
        ({"between": [var("payload.count"), [8, 10]]}, False),
        ({"between": [var("payload.amount"), [1, 10]]}, False),
        ({"notBetween": [var("payload.count"), [8, 10]]}, True),
        ({"notBetween": [var("payload.count"), [5]]}, False),
        ({"containsAny": [var("payload.tags"), ["x", "b"]]}, True),
        ({"doesNotContainAny": [var("payload.tags"), ["x", "y"]]}, True),
        ({"isEmpty": [var("payload.empty")]}, True),
        ({"isNonEmpty": [var("payload.tags")]}, True),
        ({"moreThanXAgo": [var("payload.at"), {"amount": 5, "unit": "days"}]}, True),
        ({"lessThanXAgo": [var("payload.at"), {"amount": 5, "unit": "days"}]}, False),
        ({"withinLast": [var("payload.at"), {"amount": 2, "unit": "weeks"}]}, True),
        ({"notWithinLast": [var("payload.at"), {"amount": 1, "unit": "months"}]}, False),
        ({"exactlyXAgo": [var("payload.at"), {"amount": 10, "unit": "days"}]}, True),
        ({"moreThanXAgo": [var("payload.at"), {"amount": 0, "unit": "days"}]}, False),
        ({"moreThanXAgo": ["not a date", {"amount": 1, "unit": "days"}]}, False),
    ],
)
def test_rule_builder_operators(rule: Any, expected: bool) -> None:
    assert run(rule) is expected


def test_react_querybuilder_output_shapes() -> None:
    # "contains" on a string field, "not in", "is null" and "between" as the builder writes them.
    assert run({"in": ["Apple", var("payload.name")]}) is True
    assert run({"!": {"in": [var("payload.tier"), ["free"]]}}) is True
    assert run({"==": [var("payload.nothing"), None]}) is True
    assert run({"!=": [var("payload.tier"), None]}) is True
    assert run({"<=": [5, var("payload.count"), 10]}) is True


def test_nested_and_or() -> None:
    rule = {
        "or": [
            {"and": [{"==": [var("payload.tier"), "free"]}, {">": [var("payload.count"), 1]}]},
            {"and": [{"startsWith": [var("payload.name"), "John"]}, {"!!": [var("payload.tags")]}]},
        ]
    }
    assert run(rule) is True
    assert run({"and": [True, {"or": [False, 0, ""]}]}) == ""
    assert run({"or": [0, "x", {"unknown_but_never_reached": 1}]}) == "x"


def test_var_paths_defaults_and_indexes() -> None:
    assert run(var("payload.items.1.price")) == 9
    assert run({"var": ["payload.absent", "fallback"]}) == "fallback"
    assert run({"var": "payload.items.5.price"}) is None
    assert run({"var": ""}) is DATA
    assert evaluate({"var": 1}, ["a", "b"]) == "b"


def test_data_and_array_operations() -> None:
    assert run({"missing": ["payload.tier", "payload.nope"]}) == ["payload.nope"]
    assert run({"missing_some": [1, ["payload.tier", "payload.nope"]]}) == []
    assert run({"if": [{">": [var("payload.count"), 5]}, "big", "small"]}) == "big"
    assert run({"map": [var("payload.items"), {"*": [var("price"), 2]}]}) == [6, 18]
    assert run({"filter": [var("payload.items"), {">": [var("price"), 5]}]}) == [{"price": 9}]
    assert run({"reduce": [var("payload.items"), {"+": [var("current.price"), var("accumulator")]}, 0]}) == 12
    assert run({"all": [var("payload.items"), {">": [var("price"), 1]}]}) is True
    assert run({"none": [var("payload.items"), {">": [var("price"), 10]}]}) is True
    assert run({"some": [var("payload.items"), {">": [var("price"), 8]}]}) is True
    assert run({"cat": ["a", 1, None, True]}) == "a1true"
    assert run({"substr": ["abcdef", -2]}) == "ef"
    assert run({"merge": [[1], 2, [3]]}) == [1, 2, 3]
    assert run({"max": [1, "7", 3]}) == 7
    assert run({"-": [5]}) == -5
    assert run({"/": [1, 0]}) == float("inf")


def test_truthiness_follows_jsonlogic() -> None:
    assert [truthy(v) for v in (0, "", None, [], float("nan"), False)] == [False] * 6
    assert [truthy(v) for v in ("0", {}, [0], 1, "x")] == [True] * 5


def test_unknown_operator_is_a_clear_error() -> None:
    with pytest.raises(ConditionError, match='Unknown operator "regexMatch"'):
        run({"and": [True, {"regexMatch": [var("payload.name"), ".*"]}]})
    with pytest.raises(ConditionError, match="Unknown operator"):
        check_rule({"or": [{"==": [1, 1]}, {"eval": "import os"}]})


def test_malformed_and_deep_rules_are_errors() -> None:
    with pytest.raises(ConditionError):
        run({"<": [1]})
    deep: Any = True
    for _ in range(100):
        deep = {"!": [deep]}
    with pytest.raises(ConditionError, match="nested deeper"):
        run(deep)
    with pytest.raises(ConditionError, match="nested deeper"):
        check_rule(deep)


def test_check_rule_accepts_every_builder_rule() -> None:
    check_rule(
        {
            "and": [
                {"startsWith": [var("payload.name"), "J"]},
                {"withinLast": [var("payload.at"), {"amount": 1, "unit": "days"}]},
                {"!": {"in": ["x", var("payload.tags")]}},
            ]
        }
    )
