"""DynamoDB's legacy (pre-expression) parameters, rewritten as the expressions they mean.

``Expected``, ``QueryFilter``, ``ScanFilter`` (with ``ConditionalOperator``),
``AttributeUpdates``, ``KeyConditions`` and ``AttributesToGet`` become a
``ConditionExpression``, ``FilterExpression``, ``UpdateExpression``,
``KeyConditionExpression`` or ``ProjectionExpression`` over placeholders of their own, so
they are evaluated by the same code as expressions. A request that mixes a legacy parameter
with an expression parameter is refused with DynamoDB's words, as is a malformed condition.

Example::

    body = {"Expected": {"state": {"Value": {"S": "new"}}}}
    rewrite(body)  # {"ConditionExpression": "#l0 = :l0", "ExpressionAttributeNames":
                   #  {"#l0": "state"}, "ExpressionAttributeValues": {":l0": {"S": "new"}}}
"""

from __future__ import annotations

from typing import Any

from .dynamodb_protocol import invalid

#: Each legacy parameter, the expression parameter it becomes, and the expression
#: parameters that may not come with it.
_LEGACY = {
    "Expected": ("ConditionExpression", ("ConditionExpression",)),
    "QueryFilter": ("FilterExpression", ("FilterExpression", "KeyConditionExpression",
                                         "ProjectionExpression")),
    "ScanFilter": ("FilterExpression", ("FilterExpression", "ProjectionExpression")),
    "AttributeUpdates": ("UpdateExpression", ("UpdateExpression", "ConditionExpression")),
    "KeyConditions": ("KeyConditionExpression", ("KeyConditionExpression", "FilterExpression",
                                                 "ProjectionExpression")),
    "AttributesToGet": ("ProjectionExpression", ("ProjectionExpression", "FilterExpression",
                                                 "KeyConditionExpression")),
}  # fmt: skip
_EXPRESSIONS = ("ConditionExpression", "UpdateExpression", "KeyConditionExpression",
                "FilterExpression", "ProjectionExpression")  # fmt: skip

#: Operand counts per ComparisonOperator: (fewest, most); None: any number from one.
_ARGUMENTS: dict[str, tuple[int, int | None]] = {
    "EQ": (1, 1), "NE": (1, 1), "LE": (1, 1), "LT": (1, 1), "GE": (1, 1), "GT": (1, 1),
    "NOT_NULL": (0, 0), "NULL": (0, 0), "CONTAINS": (1, 1), "NOT_CONTAINS": (1, 1),
    "BEGINS_WITH": (1, 1), "IN": (1, None), "BETWEEN": (2, 2),
}  # fmt: skip
_COMPARE = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_INVALID = "One or more parameter values were invalid"


class _Placeholders:
    """Names and values of one rewritten request, each under a placeholder of its own."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        if not isinstance(attribute, str) or not attribute:
            raise invalid(f"{_INVALID}: an attribute name must be a non-empty string")
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#l{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        if not isinstance(value, dict):
            raise invalid(f"{_INVALID}: an AttributeValue is an object, got {value!r}")
        placeholder = f":l{len(self.values)}"
        self.values[placeholder] = value
        return placeholder


def rewrite(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with its legacy parameters replaced by expressions (itself if it has none)."""
    legacy = [name for name in _LEGACY if body.get(name) is not None]
    if not legacy:
        return body
    expressions = sorted({e for name in legacy for e in _LEGACY[name][1] if body.get(e)})
    if expressions:
        raise invalid(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(legacy)}}} Expression parameters: "
            f"{{{', '.join(expressions)}}}"
        )
    for field in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        if body.get(field) is not None and not any(body.get(e) for e in _EXPRESSIONS):
            raise invalid(f"{field} can only be specified when using expressions")
    out = dict(body)
    places = _Placeholders()
    operator = body.get("ConditionalOperator")
    if operator is not None and operator not in ("AND", "OR"):
        raise invalid(
            f"1 validation error detected: Value '{operator}' at 'conditionalOperator' failed "
            "to satisfy constraint: Member must satisfy enum value set: [OR, AND]"
        )
    for name in legacy:
        given = body[name]
        out.pop(name)
        target = _LEGACY[name][0]
        if name == "Expected":
            out[target] = _conditions(_mapping(name, given), places, operator, expected=True)
        elif name in ("QueryFilter", "ScanFilter"):
            out[target] = _conditions(_mapping(name, given), places, operator, expected=False)
        elif name == "KeyConditions":
            out[target] = _conditions(_mapping(name, given), places, "AND", expected=False)
        elif name == "AttributeUpdates":
            text = _updates(_mapping(name, given), places)
            if text:
                out[target] = text
        else:
            if not isinstance(given, list) or not given:
                raise invalid(f"{_INVALID}: AttributesToGet must be a non-empty list")
            if len(set(map(str, given))) != len(given):
                raise invalid(f"{_INVALID}: Duplicate value in attribute name: {given}")
            out[target] = ", ".join(places.name(attribute) for attribute in given)
    out.pop("ConditionalOperator", None)
    if places.names:
        out["ExpressionAttributeNames"] = places.names
    if places.values:
        out["ExpressionAttributeValues"] = places.values
    return out


def _mapping(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{_INVALID}: {name} must map attribute names to conditions")
    return value


def _conditions(
    conditions: dict[str, Any], places: _Placeholders, operator: str | None, *, expected: bool
) -> str:
    if not conditions:
        raise invalid(f"{_INVALID}: the map of conditions is empty")
    parts = []
    for attribute, condition in conditions.items():
        if not isinstance(condition, dict):
            raise invalid(f"{_INVALID}: the condition on {attribute!r} must be an object")
        parts.append(_condition(attribute, condition, places, expected))
    return f" {operator or 'AND'} ".join(f"({part})" for part in parts)


def _condition(
    attribute: str, condition: dict[str, Any], places: _Placeholders, expected: bool
) -> str:
    path = places.name(attribute)
    operator = condition.get("ComparisonOperator")
    value = condition.get("Value")
    arguments = condition.get("AttributeValueList")
    exists = condition.get("Exists")
    if operator is None:
        if not expected:
            raise invalid(f"{_INVALID}: ComparisonOperator is missing for {attribute}")
        if arguments is not None:
            raise invalid(f"{_INVALID}: AttributeValueList can only be used with a "
                           "ComparisonOperator for Attribute: " + attribute)  # fmt: skip
        if exists is False:
            if value is not None:
                raise invalid(f"{_INVALID}: Value cannot be used when Exists is false for "
                               f"Attribute: {attribute}")  # fmt: skip
            return f"attribute_not_exists({path})"
        if value is None:
            raise invalid(f"{_INVALID}: Value must be provided when Exists is true for "
                           f"Attribute: {attribute}")  # fmt: skip
        return f"{path} = {places.value(value)}"
    if exists is not None:
        raise invalid(f"{_INVALID}: Exists and ComparisonOperator cannot be used together for "
                       f"Attribute: {attribute}")  # fmt: skip
    if not isinstance(operator, str) or operator not in _ARGUMENTS:
        raise invalid(
            f"1 validation error detected: Value '{operator}' at 'comparisonOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, "
            "NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        )
    if value is not None and arguments is not None:
        raise invalid(f"{_INVALID}: Value and AttributeValueList cannot be used together for "
                       f"Attribute: {attribute}")  # fmt: skip
    given = [value] if value is not None else arguments if arguments is not None else []
    if not isinstance(given, list):
        raise invalid(f"{_INVALID}: AttributeValueList must be a list")
    fewest, most = _ARGUMENTS[operator]
    if len(given) < fewest or (most is not None and len(given) > most):
        raise invalid(
            f"{_INVALID}: Invalid number of argument(s) for the {operator} ComparisonOperator"
        )
    values = [places.value(v) for v in given]
    if operator in _COMPARE:
        return f"{path} {_COMPARE[operator]} {values[0]}"
    if operator == "NOT_NULL":
        return f"attribute_exists({path})"
    if operator == "NULL":
        return f"attribute_not_exists({path})"
    if operator == "CONTAINS":
        return f"contains({path}, {values[0]})"
    if operator == "NOT_CONTAINS":
        return f"attribute_exists({path}) AND NOT contains({path}, {values[0]})"
    if operator == "BEGINS_WITH":
        return f"begins_with({path}, {values[0]})"
    if operator == "IN":
        return f"{path} IN ({', '.join(values)})"
    return f"{path} BETWEEN {values[0]} AND {values[1]}"


def _updates(updates: dict[str, Any], places: _Placeholders) -> str:
    clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    for attribute, update in updates.items():
        if not isinstance(update, dict):
            raise invalid(f"{_INVALID}: the update of {attribute!r} must be an object")
        action = update.get("Action", "PUT")
        value = update.get("Value")
        path = places.name(attribute)
        if action == "PUT":
            if value is None:
                raise invalid(f"{_INVALID}: Only DELETE action is allowed when no attribute "
                               f"value is specified")  # fmt: skip
            clauses["SET"].append(f"{path} = {places.value(value)}")
        elif action == "DELETE":
            if value is None:
                clauses["REMOVE"].append(path)
            else:
                clauses["DELETE"].append(f"{path} {places.value(value)}")
        elif action == "ADD":
            if value is None:
                raise invalid(f"{_INVALID}: Only DELETE action is allowed when no attribute "
                               f"value is specified")  # fmt: skip
            if isinstance(value, dict) and "L" in value:  # ADD appends to a list
                empty = places.value({"L": []})
                clauses["SET"].append(
                    f"{path} = list_append(if_not_exists({path}, {empty}), {places.value(value)})"
                )
            else:
                clauses["ADD"].append(f"{path} {places.value(value)}")
        else:
            raise invalid(
                f"1 validation error detected: Value '{action}' at 'attributeUpdates."
                f"{attribute}.member.action' failed to satisfy constraint: Member must satisfy "
                "enum value set: [ADD, PUT, DELETE]"
            )
    return " ".join(f"{clause} {', '.join(parts)}" for clause, parts in clauses.items() if parts)
