from typing import Any

import pytest

from herald.engine.payload_schema import (
    PAYLOAD_VALIDATION_ERROR,
    PayloadValidationError,
    payload_errors,
    schema_problem,
    validate_payload,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "user": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18}},
            "required": ["name"],
        },
        "email": {"type": "string", "format": "email"},
        "plan": {"enum": ["free", "pro"]},
    },
    "required": ["user"],
    "additionalProperties": False,
}


def test_valid_payload_has_no_errors() -> None:
    assert payload_errors(SCHEMA, {"user": {"name": "Ada", "age": 30}, "plan": "pro"}) == []
    validate_payload(SCHEMA, {"user": {"name": "Ada"}})


def test_error_items_follow_novus_shape() -> None:
    errors = payload_errors(SCHEMA, {"user": {"age": 5}, "email": "nope", "plan": "gold", "extra": 1})
    assert {error["field"]: error["message"] for error in errors} == {
        "extra": "must NOT have additional properties",
        "email": 'must match format "email"',
        "plan": "must be equal to one of the allowed values",
        "user.age": "must be >= 18",
        "user.name": "must have required property 'name'",
    }
    by_field = {error["field"]: error for error in errors}
    assert by_field["user.name"]["value"] == {"age": 5}
    assert by_field["user.name"]["schemaPath"] == "#/properties/user/required"
    assert by_field["user.age"]["value"] == 5
    assert by_field["user.age"]["schemaPath"] == "#/properties/user/properties/age/minimum"


def test_type_errors() -> None:
    errors = payload_errors({"type": "object", "properties": {"n": {"type": ["number", "null"]}}}, {"n": "x"})
    assert errors == [
        {"field": "n", "message": "must be number or null", "value": "x", "schemaPath": "#/properties/n/type"}
    ]


def test_validate_payload_raises_the_400_shape() -> None:
    with pytest.raises(PayloadValidationError) as caught:
        validate_payload(SCHEMA, {})
    error = caught.value
    assert error.status_code == 400
    assert error.extra["type"] == PAYLOAD_VALIDATION_ERROR
    assert error.extra["schema"] == SCHEMA
    assert error.errors == [
        {
            "field": "user",
            "message": "must have required property 'user'",
            "value": {},
            "schemaPath": "#/required",
        }
    ]


def test_schema_problem_reports_invalid_schemas() -> None:
    assert schema_problem(SCHEMA) is None
    assert schema_problem({"type": "object", "properties": {"a": {"type": "strnig"}}}) is not None
    assert schema_problem({"type": "object", "required": "name"}) is not None


def test_schema_dialect_is_honoured() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"list": {"type": "array", "prefixItems": [{"type": "string"}]}},
    }
    assert payload_errors(schema, {"list": ["ok", 1]}) == []
    assert payload_errors(schema, {"list": [1]})[0]["field"] == "list.0"
