"""A workflow's payload JSON Schema: checking the schema, and validating trigger payloads.

Triggers whose payload breaks the schema get Novu's 400 `PAYLOAD_VALIDATION_ERROR`:
`{type, errors: [{field, message, value?, schemaPath}], schema}` beside the usual error
fields. Messages are worded as Novu's validator (ajv) words them.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson
from jsonschema import Draft7Validator, FormatChecker, ValidationError
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from herald.errors import HeraldError

PAYLOAD_VALIDATION_ERROR = "PAYLOAD_VALIDATION_ERROR"
_FORMAT_CHECKER = FormatChecker()


class PayloadValidationError(HeraldError):
    """400 for a trigger payload that does not satisfy the workflow's payload schema."""

    def __init__(self, errors: list[dict[str, Any]], schema: Mapping[str, Any]) -> None:
        super().__init__(
            400,
            "Payload validation failed",
            errors=errors,
            extra={"type": PAYLOAD_VALIDATION_ERROR, "schema": dict(schema)},
        )


def schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Why `schema` is not a usable JSON Schema, or None when it is."""
    try:
        validator_for(schema, default=Draft7Validator).check_schema(dict(schema))
    except SchemaError as error:
        location = "/".join(str(part) for part in error.absolute_path)
        return f"{error.message}" + (f" (at {location})" if location else "")
    return None


@lru_cache(maxsize=512)
def _validator(schema_json: bytes) -> Validator:
    schema = orjson.loads(schema_json)
    validator_class = validator_for(schema, default=Draft7Validator)
    return validator_class(schema, format_checker=_FORMAT_CHECKER)


def payload_errors(schema: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
    """Every way `payload` breaks `schema`, as Novu's error items, in document order."""
    validator = _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))
    found = sorted(validator.iter_errors(payload), key=lambda error: [str(p) for p in error.absolute_path])
    return [_error_item(error) for error in found]


def validate_payload(schema: Mapping[str, Any], payload: Any) -> None:
    """Raise `PayloadValidationError` when `payload` breaks `schema`."""
    errors = payload_errors(schema, payload)
    if errors:
        raise PayloadValidationError(errors, schema)


def _error_item(error: ValidationError) -> dict[str, Any]:
    path = [str(part) for part in error.absolute_path]
    named = _missing_property(error)
    if named is not None:
        path.append(named)
    return {
        "field": ".".join(path),
        "message": _message(error, named),
        "value": error.instance,
        "schemaPath": "#/" + "/".join(str(part) for part in error.absolute_schema_path),
    }


def _missing_property(error: ValidationError) -> str | None:
    """The property a `required` or `additionalProperties` error is about."""
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        declared = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        extra = [key for key in error.instance if key not in declared]
        return str(extra[0]) if len(extra) == 1 else None
    if error.validator != "required":
        return None
    quoted = error.message.removesuffix(" is a required property")
    try:
        name = ast.literal_eval(quoted)
    except (ValueError, SyntaxError):
        return quoted
    return str(name)


def _message(error: ValidationError, missing: str | None) -> str:
    rule, limit = error.validator, error.validator_value
    messages = {
        "required": f"must have required property '{missing}'",
        "type": f"must be {' or '.join(limit) if isinstance(limit, list) else limit}",
        "enum": "must be equal to one of the allowed values",
        "const": "must be equal to constant",
        "minimum": f"must be >= {limit}",
        "maximum": f"must be <= {limit}",
        "exclusiveMinimum": f"must be > {limit}",
        "exclusiveMaximum": f"must be < {limit}",
        "minLength": f"must NOT have fewer than {limit} characters",
        "maxLength": f"must NOT have more than {limit} characters",
        "minItems": f"must NOT have fewer than {limit} items",
        "maxItems": f"must NOT have more than {limit} items",
        "pattern": f'must match pattern "{limit}"',
        "format": f'must match format "{limit}"',
        "additionalProperties": "must NOT have additional properties",
        "uniqueItems": "must NOT have duplicate items",
        "multipleOf": f"must be multiple of {limit}",
    }
    return messages.get(str(rule), error.message)
