"""CloudFormation's intrinsic functions, resolved locally.

``Resolver(template, stack, parameters, imports).resolve(value, path)`` returns ``value`` with
every intrinsic function in it replaced by what CloudFormation would put there: ``Ref`` (a
parameter, a pseudo parameter, a resource), ``Fn::GetAtt``, ``Fn::Sub`` (a string, or a
string and a map of variables; ``${!Literal}``), ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
``Fn::If`` with the template's ``Conditions`` (``Fn::Equals``, ``Fn::And``, ``Fn::Or``,
``Fn::Not``, ``Condition``), ``Fn::FindInMap``, ``Fn::ImportValue`` (a value given in the
overlay's ``imports``), ``Fn::Base64`` and ``Fn::GetAZs``. ``Ref: AWS::NoValue`` removes the
key or item that holds it.

Parameters take the value given (``--parameter-overrides``, the overlay's ``parameters``),
else their ``Default``; values are checked against ``AllowedValues``, ``AllowedPattern``,
lengths and bounds as CloudFormation checks them. What cannot be resolved raises
``Unresolved`` with the path of the intrinsic and a message in CloudFormation's terms
(``!GetAtt Missing.Arn names no resource``). Only what eventsim uses is resolved, so an
intrinsic eventsim has no value for (``Fn::Cidr``) is a problem only where it matters.

Example::

    resolver = Resolver(template, Stack(name="shop"), {"Stage": "dev"}, {})
    resolver.resolve({"Fn::Sub": "${AWS::StackName}-${Stage}"}, path)    # "shop-dev"
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from .. import yamlpos
from ..config_checks import did_you_mean
from . import names
from .names import Stack
from .template import Template

KeyPath = yamlpos.Path


class Unresolved(Exception):
    """A value that cannot be resolved: where, and why."""

    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


#: What ``Ref: AWS::NoValue`` resolves to; dicts and lists drop it.
NO_VALUE: Any = _NoValue()

INTRINSICS = frozenset(
    {
        "Ref", "Condition", "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt",
        "Fn::GetAZs", "Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub",
        "Fn::Transform", "Fn::And", "Fn::Equals", "Fn::If", "Fn::Not", "Fn::Or",
    }
)  # fmt: skip
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
#: Properties SAM lets templates reference on the resources it expands (``!Ref Fn.Alias``,
#: ``${Api.Deployment}``): placeholders here, as eventsim has no versions or deployments.
SAM_PROPERTIES = frozenset({"Alias", "Version", "Deployment", "DestinationQueue",
                            "DestinationTopic", "DomainName"})  # fmt: skip


def intrinsic(value: Any) -> tuple[str, Any] | None:
    """``(name, argument)`` if ``value`` is an intrinsic function, else None."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key in INTRINSICS:
            return key, argument
    return None


def shown(value: Any) -> str:
    """An intrinsic as written in short form, for messages: ``!GetAtt Missing.Arn``."""
    found = intrinsic(value)
    if found is None:
        return json.dumps(value, default=str)[:120]
    name, argument = found
    short = name.removeprefix("Fn::")
    if name == "Fn::GetAtt" and isinstance(argument, list):
        return f"!GetAtt {'.'.join(str(a) for a in argument)}"
    if isinstance(argument, str):
        return f"!{short} {argument}"
    return f"!{short} {json.dumps(argument, default=str)[:120]}"


class Resolver:
    """Resolves intrinsic functions in one template (see the module's docstring)."""

    def __init__(
        self,
        template: Template,
        stack: Stack,
        parameters: Mapping[str, Any],
        imports: Mapping[str, Any],
    ) -> None:
        self.template = template
        self.stack = stack
        self.imports = dict(imports)
        data = template.data
        self.resources: dict[str, Any] = _mapping(data.get("Resources"))
        self.conditions: dict[str, Any] = _mapping(data.get("Conditions"))
        self.mappings: dict[str, Any] = _mapping(data.get("Mappings"))
        self.declared: dict[str, Any] = _mapping(data.get("Parameters"))
        #: Resources SAM adds (``ServerlessRestApi``, ``<Function>Role``...): logical id -> type.
        self.implicit: dict[str, str] = {}
        #: Physical names decided elsewhere (``Metadata: {eventsim: {name: ...}}``).
        self.named: dict[str, str] = {}
        #: Problems with parameter values, found once (``check_parameters``).
        self.problems: list[Unresolved] = []
        self._given = dict(parameters)
        self._values: dict[str, Any] = {}
        self._conditions: dict[str, bool] = {}
        self._physical: dict[str, str] = {}
        self._busy: set[str] = set()
        self._check_parameters()

    # --- parameters -----------------------------------------------------------------------

    def _check_parameters(self) -> None:
        for name in self._given:
            if name not in self.declared and not name.startswith("AWS::"):
                known = ", ".join(self.declared) or "none"
                self.problems.append(Unresolved(
                    ("Parameters",),
                    f"a value is given for {name!r}, which the template does not declare "
                    f"(its parameters: {known})",
                ))  # fmt: skip
        for name, declaration in self.declared.items():
            try:
                self._parameter(name, ("Parameters", name))
            except Unresolved as exc:
                # A parameter without a value (or read from SSM) is a problem where it is used.
                ssm = str(_mapping(declaration).get("Type", "")).startswith("AWS::SSM::")
                if name in self._given or ("Default" in _mapping(declaration) and not ssm):
                    self.problems.append(exc)

    def _parameter(self, name: str, path: KeyPath) -> Any:
        if name in self._values:
            return self._values[name]
        declaration = _mapping(self.declared.get(name))
        at: KeyPath = ("Parameters", name)
        kind = str(declaration.get("Type", "String"))
        if name in self._given:
            value, origin = self._given[name], "the value given"
        elif "Default" in declaration:
            value, origin = declaration["Default"], "its Default"
        elif kind.startswith("AWS::SSM::Parameter::Value"):
            raise Unresolved(path, f"parameter {name} is read from SSM Parameter Store, which "
                             f"eventsim does not reach: give its value (--parameter-overrides "
                             f"{name}=VALUE, or parameters: in eventsim.yaml)")  # fmt: skip
        else:
            raise Unresolved(path, f"parameter {name} has no Default and no value was given: "
                             f"--parameter-overrides {name}=VALUE, or parameters: "
                             "{" + name + ": VALUE} in eventsim.yaml")  # fmt: skip
        if kind.startswith("AWS::SSM::Parameter::Value") and name not in self._given:
            raise Unresolved(path, f"parameter {name} is read from SSM Parameter Store ("
                             f"{value}), which eventsim does not reach: give its value with "
                             f"--parameter-overrides {name}=VALUE")  # fmt: skip
        listed = kind.startswith("List<") or kind == "CommaDelimitedList"
        if listed:
            items = value if isinstance(value, list) else str(value).split(",")
            values = [_text(v).strip() if kind != "CommaDelimitedList" else _text(v)
                      for v in items]  # fmt: skip
        else:
            values = [_text(value)]
        for item in values:
            problem = _allowed(item, declaration, kind)
            if problem:
                raise Unresolved(at, f"parameter {name}: {origin} {item!r} {problem}")
        result: Any = values if listed else values[0]
        self._values[name] = result
        return result

    # --- conditions -----------------------------------------------------------------------

    def condition(self, name: str, path: KeyPath) -> bool:
        """The value of the template's condition ``name``."""
        if name in self._conditions:
            return self._conditions[name]
        if name not in self.conditions:
            known = ", ".join(self.conditions) or "none"
            raise Unresolved(path, f"no condition {name!r} (the template's: {known})")
        if name in self._busy:
            raise Unresolved(("Conditions", name), f"condition {name} depends on itself")
        self._busy.add(name)
        try:
            value = self.resolve(self.conditions[name], ("Conditions", name))
        finally:
            self._busy.discard(name)
        if not isinstance(value, bool):
            raise Unresolved(("Conditions", name), f"condition {name} is not true or false")
        self._conditions[name] = value
        return value

    def included(self, logical_id: str) -> bool:
        """Whether a resource exists: it has no ``Condition``, or its condition is true."""
        resource = _mapping(self.resources.get(logical_id))
        name = resource.get("Condition")
        if name is None:
            return True
        return self.condition(str(name), ("Resources", logical_id, "Condition"))

    # --- resources ------------------------------------------------------------------------

    def type_of(self, logical_id: str) -> str | None:
        if logical_id in self.implicit:
            return self.implicit[logical_id]
        resource = self.resources.get(logical_id)
        return str(_mapping(resource).get("Type")) if resource is not None else None

    def physical(self, logical_id: str) -> str:
        """The resource's name (see ``names``)."""
        if logical_id in self._physical:
            return self._physical[logical_id]
        type_ = self.type_of(logical_id) or ""
        properties = _mapping(_mapping(self.resources.get(logical_id)).get("Properties"))
        prop, _ = names.NAME_PROPERTY.get(type_, ("", 0))
        at: KeyPath = ("Resources", logical_id, "Properties", prop)
        if logical_id in self.named:
            name = self.named[logical_id]
        elif prop and properties.get(prop) is not None:
            if logical_id in self._busy:
                raise Unresolved(at, f"the name of {logical_id} depends on itself")
            self._busy.add(logical_id)
            try:
                name = self.resolve(properties[prop], at)
            finally:
                self._busy.discard(logical_id)
            if name is NO_VALUE:  # !If [C, name, !Ref AWS::NoValue]: CloudFormation names it
                fifo = self._fifo(type_, properties, logical_id)
                name = names.generated(self.stack, logical_id, type_, fifo=fifo)
            elif not isinstance(name, str | int):
                raise Unresolved(at, f"{prop} is not a string")
            name = str(name)
        elif type_ in names.REST_APIS or type_ in names.HTTP_APIS:
            name = names.api_id(self.stack, logical_id)
        else:
            fifo = self._fifo(type_, properties, logical_id)
            name = names.generated(self.stack, logical_id, type_, fifo=fifo)
        self._physical[logical_id] = name
        return name

    def _fifo(self, type_: str, properties: dict[str, Any], logical_id: str) -> bool:
        key = {names.QUEUE: "FifoQueue", names.TOPIC: "FifoTopic"}.get(type_)
        if key is None or key not in properties:
            return False
        value = self.resolve(properties[key], ("Resources", logical_id, "Properties", key))
        return value is True or str(value).lower() == "true"

    def _ref_resource(self, logical_id: str, path: KeyPath) -> str:
        self._check_included(logical_id, path, f"!Ref {logical_id}")
        type_ = self.type_of(logical_id) or ""
        return names.ref(self.stack, type_, self.physical(logical_id))

    def _check_included(self, logical_id: str, path: KeyPath, what: str) -> None:
        if logical_id not in self.resources and logical_id not in self.implicit:
            guess = did_you_mean(logical_id, [*self.resources, *self.implicit])
            raise Unresolved(path, f"{what} names no resource{guess}")
        if logical_id in self.resources and not self.included(logical_id):
            condition = _mapping(self.resources[logical_id]).get("Condition")
            raise Unresolved(path, f"{what} names {logical_id}, which its condition "
                             f"{condition} leaves out")  # fmt: skip

    def get_att(self, logical_id: str, attr: str, path: KeyPath) -> str:
        what = f"!GetAtt {logical_id}.{attr}"
        self._check_included(logical_id, path, what)
        type_ = self.type_of(logical_id) or ""
        name = self.physical(logical_id)
        if type_ in names.REST_APIS | names.HTTP_APIS and attr == "Stage":
            return self.stage(logical_id, type_ in names.REST_APIS)
        if type_ in names.ATTRIBUTES and attr not in SAM_PROPERTIES:
            value = names.attribute(self.stack, type_, name, attr)
            if value is None:
                known = ", ".join(names.ATTRIBUTES[type_])
                raise Unresolved(path, f"{what}: a {type_} has no attribute {attr} (it has: "
                                 f"{known})")  # fmt: skip
            if attr == "StreamArn" and not self._has_stream(logical_id):
                raise Unresolved(path, f"{what}: {logical_id} has no StreamSpecification")
            return value
        return names.placeholder(self.stack, type_, name, attr)

    def stage(self, logical_id: str, rest: bool) -> str:
        """An API's stage: its ``StageName`` (or ``Globals``'), else SAM's default (``Prod``
        for a REST API, ``$default`` for an HTTP API)."""
        properties = _mapping(_mapping(self.resources.get(logical_id)).get("Properties"))
        section = _mapping(
            _mapping(self.template.data.get("Globals")).get("Api" if rest else "HttpApi")
        )
        if "StageName" in properties:
            stage = self.resolve(properties["StageName"], ("Resources", logical_id, "Properties",
                                                           "StageName"))  # fmt: skip
        elif "StageName" in section:
            stage = self.resolve(section["StageName"], ("Globals", "Api" if rest else "HttpApi",
                                                        "StageName"))  # fmt: skip
        else:
            stage = "Prod" if rest else "$default"
        return str(stage)

    def _has_stream(self, logical_id: str) -> bool:
        properties = _mapping(_mapping(self.resources.get(logical_id)).get("Properties"))
        return properties.get("StreamSpecification") is not None

    # --- resolving ------------------------------------------------------------------------

    def resolve(self, value: Any, path: KeyPath) -> Any:
        """``value`` with every intrinsic function resolved (``NO_VALUE`` for AWS::NoValue)."""
        found = intrinsic(value)
        if found is not None:
            return self._intrinsic(found[0], found[1], value, path)
        if isinstance(value, dict):
            resolved = {k: self.resolve(v, (*path, k)) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(v, (*path, i)) for i, v in enumerate(value)]
            return [v for v in items if v is not NO_VALUE]
        return value

    def _intrinsic(self, name: str, argument: Any, whole: Any, path: KeyPath) -> Any:
        def fail(message: str) -> Unresolved:
            return Unresolved(path, f"{shown(whole)}: {message}")

        def items(count: int | None = None) -> list[Any]:
            if not isinstance(argument, list) or (count is not None and len(argument) != count):
                raise fail(f"expected a list of {count} values" if count else "expected a list")
            return argument

        if name == "Ref":
            if not isinstance(argument, str):
                raise fail("expected the name of a parameter or resource")
            return self._ref(argument, path)
        if name == "Fn::GetAtt":
            parts = items(2)
            logical_id = self.resolve(parts[0], (*path, 0))
            attr = self.resolve(parts[1], (*path, 1))
            return self.get_att(str(logical_id), str(attr), path)
        if name == "Fn::Sub":
            return self._sub(argument, path, fail)
        if name == "Fn::Join":
            delimiter, values = items(2)
            values = self.resolve(values, (*path, 1))
            if not isinstance(values, list):
                raise fail("the second value must be a list")
            return str(delimiter).join(self._string(v, path, fail) for v in values)
        if name == "Fn::Select":
            index, values = items(2)
            index = self.resolve(index, (*path, 0))
            values = self.resolve(values, (*path, 1))
            if not isinstance(values, list):
                raise fail("the second value must be a list")
            position = int(index) if re.fullmatch(r"\d+", _text(index)) else -1
            if not 0 <= position < len(values):
                raise fail(f"index {index!r} is not in a list of {len(values)}")
            return values[position]
        if name == "Fn::Split":
            delimiter, text = items(2)
            text = self.resolve(text, (*path, 1))
            return self._string(text, path, fail).split(str(delimiter))
        if name == "Fn::If":
            condition, then, otherwise = items(3)
            chosen = (then, 1) if self.condition(str(condition), path) else (otherwise, 2)
            return self.resolve(chosen[0], (*path, chosen[1]))
        if name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"):
            return self._boolean(name, argument, path, fail)
        if name == "Fn::FindInMap":
            keys = [self.resolve(k, (*path, i)) for i, k in enumerate(items(3))]
            found: Any = self.mappings
            for depth, key in enumerate(keys):
                if not isinstance(found, dict) or str(key) not in found:
                    where = ".".join(str(k) for k in keys[:depth]) or "Mappings"
                    raise fail(f"{where} has no key {key!r}")
                found = found[str(key)]
            return found
        if name == "Fn::ImportValue":
            export = self._string(self.resolve(argument, path), path, fail)
            if export not in self.imports:
                raise fail(f"no value for the export {export!r}: give it in eventsim.yaml as "
                           f"imports: {{{export}: VALUE}}")  # fmt: skip
            return self.imports[export]
        if name == "Fn::Base64":
            text = self._string(self.resolve(argument, path), path, fail)
            return base64.b64encode(text.encode()).decode()
        if name == "Fn::GetAZs":
            return [f"{self.stack.region}{zone}" for zone in "abc"]
        raise fail("eventsim does not resolve this function")

    def _ref(self, name: str, path: KeyPath) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._given and name.startswith("AWS::"):
            return self._given[name]
        if name.startswith("AWS::"):
            value = self.stack.pseudo(name)
            if value is None:
                raise Unresolved(path, f"!Ref {name}: no such pseudo parameter")
            return value
        if name in self.declared:
            return self._parameter(name, path)
        if name in self.resources or name in self.implicit:
            return self._ref_resource(name, path)
        logical_id, dot, prop = name.partition(".")
        if dot and (logical_id in self.resources or logical_id in self.implicit):
            return self.get_att(logical_id, prop, path)  # SAM's !Ref Api.Stage, Fn.Alias...
        guess = did_you_mean(name, [*self.declared, *self.resources, *self.implicit])
        raise Unresolved(path, f"!Ref {name} names no parameter or resource{guess}")

    def _sub(self, argument: Any, path: KeyPath, fail: Any) -> str:
        variables: dict[str, Any] = {}
        if isinstance(argument, list):
            if len(argument) != 2 or not isinstance(argument[1], dict):
                raise fail("expected a string, or a string and a map of variables")
            text = argument[0]
            variables = {k: self.resolve(v, (*path, 1, k)) for k, v in argument[1].items()}
        else:
            text = argument
        if not isinstance(text, str):
            raise fail("expected a string")

        def substitute(match: re.Match[str]) -> str:
            inner = match[1]
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                return self._string(variables[inner], path, fail)
            if "." in inner and not inner.startswith("AWS::"):
                logical_id, attr = inner.split(".", 1)
                return self.get_att(logical_id, attr, path)
            return self._string(self._ref(inner, path), path, fail)

        return _VARIABLE.sub(substitute, text)

    def _boolean(self, name: str, argument: Any, path: KeyPath, fail: Any) -> bool:
        if name == "Condition":
            return self.condition(str(argument), path)
        if not isinstance(argument, list):
            raise fail("expected a list")
        if name == "Fn::Equals":
            if len(argument) != 2:
                raise fail("expected two values")
            left, right = (self.resolve(v, (*path, i)) for i, v in enumerate(argument))
            return _text(left) == _text(right) if not isinstance(left, list) else left == right
        values = [self.resolve(v, (*path, i)) for i, v in enumerate(argument)]
        if not all(isinstance(v, bool) for v in values):
            raise fail("expected conditions (true or false)")
        if name == "Fn::Not":
            if len(values) != 1:
                raise fail("expected one condition")
            return not values[0]
        return all(values) if name == "Fn::And" else any(values)

    @staticmethod
    def _string(value: Any, path: KeyPath, fail: Any) -> str:
        if isinstance(value, bool | list | dict) or value is None or value is NO_VALUE:
            raise fail(f"expected a string, got {json.dumps(value, default=repr)[:80]}")
        return _text(value)


def _text(value: Any) -> str:
    """A scalar as CloudFormation reads it: ``true``/``false`` lowercase, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _allowed(value: str, declaration: dict[str, Any], kind: str) -> str | None:
    """Why CloudFormation would refuse ``value`` for a parameter, or None."""
    allowed = declaration.get("AllowedValues")
    if isinstance(allowed, list) and value not in [_text(a) for a in allowed]:
        return f"is not one of AllowedValues {[_text(a) for a in allowed]}"
    pattern = declaration.get("AllowedPattern")
    if isinstance(pattern, str):
        try:
            if re.fullmatch(pattern, value) is None:
                return f"does not match AllowedPattern {pattern!r}"
        except re.error:
            pass  # a pattern Python cannot read: CloudFormation's Java regex dialect
    if "MinLength" in declaration and len(value) < int(declaration["MinLength"]):
        return f"is shorter than MinLength {declaration['MinLength']}"
    if "MaxLength" in declaration and len(value) > int(declaration["MaxLength"]):
        return f"is longer than MaxLength {declaration['MaxLength']}"
    if kind in ("Number", "List<Number>"):
        try:
            number = float(value)
        except ValueError:
            return "is not a number"
        if "MinValue" in declaration and number < float(declaration["MinValue"]):
            return f"is below MinValue {declaration['MinValue']}"
        if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
            return f"is above MaxValue {declaration['MaxValue']}"
    return None
