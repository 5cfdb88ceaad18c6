"""A template as an eventsim config: ``map_template(template, stack, parameters, imports)``.

The result (``build.Mapped``) is a config dict for ``eventsim.config`` to validate, with the
template path of every key (so that an error in the config reads as an error in the
template), the problems found and the notices: everything the template says that eventsim
does not honour, each at its line, listed once.

Functions (``AWS::Serverless::Function`` with ``Globals.Function`` merged in as SAM merges it:
the function's scalars win, mappings merge, lists add up; ``AWS::Lambda::Function``):
``Handler``, ``CodeUri``/``Code`` (a local folder), ``Runtime`` (Python; another runtime is a
notice, and its invocations fail), ``Timeout``, ``MemorySize``, ``Environment.Variables``,
``ReservedConcurrentExecutions``, ``EventInvokeConfig``, ``Events`` (``events``). A function
whose code is not a local folder (an S3 object, an image) is left out, with a notice; inline
code (``InlineCode``, ``Code.ZipFile``) runs as Lambda runs it, as ``index.py`` (see
``inline_code``). The other resources: ``resources`` (queues, tables, buckets, topics, buses) and
``links`` (mappings, subscriptions, rules, schedules, bucket notifications).

Example::

    mapped = map_template(template.load(Path("template.yaml")), Stack(), {}, {})
    mapped.data["functions"]["HelloWorldFunction"]["handler"]       # "app.lambda_handler"
"""

from __future__ import annotations

import getpass
import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import names
from .build import MISSING, Builder, KeyPath, Mapped
from .events import map_events
from .intrinsics import Resolver, Unresolved, intrinsic
from .links import api_notices, invoke_config, map_links
from .resources import map_resources, name_resources, resources
from .template import Template

SERVERLESS = "AWS::Serverless-2016-10-31"

#: Function properties eventsim does not honour, and what it does instead.
NOT_HONOURED = {
    **dict.fromkeys(
        ("Policies", "Role", "PermissionsBoundary", "RolePath", "AssumeRolePolicyDocument"),
        "IAM: eventsim checks no permissions; every call is allowed",
    ),
    "Layers": "layers are not added to the handler's path; install what they hold where "
    "eventsim runs",
    "VpcConfig": "no VPC: handlers reach what this machine reaches",
    "Architectures": "handlers run on this machine's architecture",
    "ProvisionedConcurrencyConfig": "no provisioned concurrency: environments start on demand",
    **dict.fromkeys(
        (
            "AutoPublishAlias",
            "AutoPublishAliasAllProperties",
            "AutoPublishCodeSha256",
            "VersionDescription",
            "DeploymentPreference",
        ),
        "versions and aliases are not simulated: everything is $LATEST",
    ),  # fmt: skip
    **dict.fromkeys(("Tracing", "TracingConfig"), "X-Ray tracing is not simulated"),
    "EphemeralStorage": "the size of /tmp is not enforced",
    "FileSystemConfigs": "EFS file systems are not mounted",
    "LoggingConfig": "logs are written as Lambda's text format, to state_dir/logs/",
    "SnapStart": "SnapStart is not simulated",
    "FunctionUrlConfig": "function URLs are not served (an http trigger in eventsim.yaml can "
    "route to the function)",
    "CodeSigningConfigArn": "code signing is not checked",
    "RecursiveLoop": "recursive loop detection is not simulated",
}
#: Function properties without a local meaning, taken silently.
QUIET = frozenset(
    {"Description", "Tags", "PropagateTags", "KmsKeyArn", "RuntimeManagementConfig",
     "FunctionName", "Metadata"}
)  # fmt: skip
#: What eventsim reads (the rest is noticed as unknown).
READ = frozenset(
    {"Handler", "CodeUri", "Code", "InlineCode", "Runtime", "Timeout", "MemorySize",
     "Environment", "ReservedConcurrentExecutions", "EventInvokeConfig", "Events",
     "DeadLetterQueue", "DeadLetterConfig",
     "PackageType", "ImageUri", "ImageConfig"}
)  # fmt: skip


def map_template(
    template: Template, stack: names.Stack, parameters: dict[str, Any], imports: dict[str, Any]
) -> Mapped:
    """The eventsim config a template describes (see the module's docstring)."""
    resolver = Resolver(template, stack, parameters, imports)
    builder = Builder(template, resolver)
    for problem in resolver.problems:
        builder.problem(problem.path, problem.message)
    builder.data.update(region=stack.region, account=stack.account)
    _transforms(builder)
    _implicit(builder)
    found = resources(builder)
    name_resources(builder, found)
    functions = {
        logical_id: resource
        for logical_id, resource in found.items()
        if resource["Type"] in names.FUNCTIONS
    }
    read = {
        logical_id: _Function(builder, logical_id, resource)
        for logical_id, resource in functions.items()
    }
    made = {logical_id: f for logical_id, f in read.items() if f.make()}
    map_resources(builder, found)
    for function in made.values():
        function.fill()
    map_links(builder, found)
    _globals(builder)
    if "Rules" in template.data:
        builder.notice(("Rules",), "Rules: the template's parameter assertions are not checked")
    return builder.result()


def _transforms(builder: Builder) -> None:
    transform = builder.template.data.get("Transform")
    given = transform if isinstance(transform, list) else [transform] if transform else []
    for index, name in enumerate(given):
        if name != SERVERLESS:
            at: KeyPath = ("Transform", index) if isinstance(transform, list) else ("Transform",)
            builder.notice(at, f"the transform {name} is not applied by eventsim")


def _implicit(builder: Builder) -> None:
    """Resources SAM adds, which templates may name: the implicit APIs, functions' roles."""
    resolver = builder.resolver
    resolver.implicit.update(
        {
            "ServerlessRestApi": "AWS::Serverless::Api",
            "ServerlessHttpApi": "AWS::Serverless::HttpApi",
        }
    )
    for logical_id, resource in resolver.resources.items():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::Function":
            properties = resource.get("Properties")
            if not isinstance(properties, dict) or "Role" not in properties:
                resolver.implicit[f"{logical_id}Role"] = "AWS::IAM::Role"
    for logical_id in list(resolver.implicit):
        if logical_id in resolver.resources:
            del resolver.implicit[logical_id]


def _globals(builder: Builder) -> None:
    """What ``Globals`` says besides ``Function`` (merged into each function)."""
    section = builder.template.data.get("Globals")
    if section is None:
        return
    if not isinstance(section, dict):
        builder.problem(("Globals",), "expected a mapping of sections (Function, Api...)")
        return
    for name, settings in section.items():
        at: KeyPath = ("Globals", name)
        if name in ("Api", "HttpApi") and isinstance(settings, dict):
            api_notices(builder, name, name, settings, at)
        elif name not in ("Function", "SimpleTable", "Api", "HttpApi", "LayerVersion"):
            builder.notice(at, f"Globals.{name}: not honoured by eventsim")


def inline_code(text: str) -> Path:
    """A folder holding ``text`` as ``index.py``, as Lambda runs inline code.

    The folder is named by the code's digest under the user's temporary folder, written once
    (atomically) and shared by every load of the same code: loading a template writes nothing
    else, and nothing in the project.
    """
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"eventsim-{getpass.getuser()}" / "inline" / digest
    module = folder / "index.py"
    if not module.is_file() or module.read_text() != text:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".index.py.{os.getpid()}"
        partial.write_text(text)
        partial.replace(module)
    return folder


class _Function:
    """One function resource, read in two steps: ``make`` (its entry, so that every function
    exists before any event or destination names one) and ``fill`` (events, destinations)."""

    def __init__(self, builder: Builder, logical_id: str, resource: dict[str, Any]) -> None:
        self.builder = builder
        self.logical_id = logical_id
        self.serverless = resource["Type"] == "AWS::Serverless::Function"
        self.at: KeyPath = ("Resources", logical_id, "Properties")
        properties = resource.get("Properties") or {}
        if not isinstance(properties, dict):
            builder.problem(self.at, "expected a mapping of properties")
            properties = {}
        self.properties: dict[str, Any] = properties
        globals_ = builder.template.data.get("Globals")
        section = globals_.get("Function") if isinstance(globals_, dict) else None
        self.globals: dict[str, Any] = (
            section if self.serverless and isinstance(section, dict) else {}
        )
        self.name = ""

    def raw(self, key: str) -> tuple[Any, KeyPath] | None:
        """A property as written (the function's, else ``Globals.Function``'s) and its path."""
        if key in self.properties:
            return self.properties[key], (*self.at, key)
        if key in self.globals:
            return self.globals[key], ("Globals", "Function", key)
        return None

    def get(self, key: str) -> tuple[Any, KeyPath]:
        found = self.raw(key)
        if found is None:
            return MISSING, (*self.at, key)
        value, at = found
        return self.builder.resolve(value, at), at

    def make(self) -> bool:
        builder = self.builder
        code = self._code()
        if code is None:
            return False
        try:
            self.name = builder.resolver.physical(self.logical_id)
        except Unresolved as exc:
            builder.problem(exc.path, exc.message)
            return False
        entry = builder.entry("functions", self.name, self.at[:2], self.logical_id)
        base: KeyPath = ("functions", self.name)
        value, at = code
        builder.put(entry, base, "code", str(value), at)
        handler, at = self.get("Handler")
        if handler is MISSING and self.raw("Handler") is None:
            builder.problem(self.at, "a function needs a Handler (module.function)")
        builder.put(entry, base, "handler", builder.string(handler, at), at)
        self._runtime()
        for key, option in (("Timeout", "timeout"), ("MemorySize", "memory"),
                            ("ReservedConcurrentExecutions", "reserved_concurrency")):  # fmt: skip
            value, at = self.get(key)
            builder.put(entry, base, option, builder.integer(value, at), at)
        self._environment(entry, base)
        for key in sorted({*self.properties, *self.globals}):
            found = self.raw(key)
            assert found is not None
            if key in NOT_HONOURED:
                builder.notice(found[1], f"{key}: {NOT_HONOURED[key]}")
            elif key not in READ and key not in QUIET:
                builder.notice(found[1], f"{key}: an unknown property; eventsim ignores it")
        return True

    def fill(self) -> None:
        """What refers to other resources, once every resource has its name."""
        self._dead_letter(self.builder.data["functions"][self.name], ("functions", self.name))
        config = self.raw("EventInvokeConfig")
        if config is not None:
            settings = self.builder.mapping(self.builder.resolve(*config), config[1])
            invoke_config(self.builder, self.name, settings, config[1])
        events = self.properties.get("Events")
        if events is not None:
            map_events(self.builder, self.name, self.logical_id, events, (*self.at, "Events"))

    def _dead_letter(self, entry: dict[str, Any], base: KeyPath) -> None:
        """SAM's ``DeadLetterQueue: {Type, TargetArn}`` or CloudFormation's ``DeadLetterConfig:
        {TargetArn}``: the function's ``dead_letter_queue``, a queue or a topic."""
        key = "DeadLetterQueue" if self.serverless else "DeadLetterConfig"
        value, at = self.get(key)
        if value is MISSING:
            return
        settings = self.builder.mapping(value, at)
        target = self.builder.get(settings, "TargetArn", at)
        kind = settings.get("Type")
        chosen = self.builder.destination(target, kind, (*at, "TargetArn"))
        if chosen is not None and not chosen.startswith(("queue:", "topic:")):
            self.builder.notice(at, f"{key}: a dead-letter target is an SQS queue or an SNS "
                                "topic; this one receives nothing")  # fmt: skip
            chosen = None
        self.builder.put(entry, base, "dead_letter_queue", chosen or MISSING, at)

    def _code(self) -> tuple[Path, KeyPath] | None:
        """The function's local code folder, or None (noticed) if it has none. What is not a
        folder is told apart before anything in it is resolved (it is not used)."""
        builder, folder = self.builder, self.builder.template.folder
        kind, at = self.get("PackageType")
        if kind == "Image" or self.raw("ImageUri") is not None:
            builder.notice(at if kind == "Image" else (*self.at, "ImageUri"),
                           "a container image function: eventsim runs Python code from a "
                           "folder; this function is left out")  # fmt: skip
            return None
        inline = self.raw("InlineCode")
        code = self.raw("CodeUri" if self.serverless else "Code")
        if inline is None and isinstance(code, tuple) and isinstance(code[0], dict):
            if "ZipFile" in code[0]:
                inline = code
            elif intrinsic(code[0]) is None:
                builder.notice(code[1], "the code is an S3 object: eventsim runs code from a "
                               "local folder; this function is left out (a folder, as `sam "
                               "build` and `aws cloudformation package` take it)")  # fmt: skip
                return None
        if inline is not None:
            text = builder.resolve(*inline)
            text = text.get("ZipFile", MISSING) if isinstance(text, dict) else text
            if not isinstance(text, str):
                if text is not MISSING:
                    builder.problem(inline[1], "inline code is the text of index.py")
                return None
            return inline_code(text), inline[1]
        if code is None:
            if not self.serverless:
                builder.problem(self.at, "a function needs Code")
                return None
            return folder, self.at  # sam build's default: the template's folder
        uri = builder.resolve(*code)
        if uri is MISSING:
            return None  # unresolved: the problem is recorded
        if not isinstance(uri, str) or uri.startswith("s3://"):
            builder.notice(code[1], "the code is an S3 object: eventsim runs code from a local "
                           "folder; this function is left out (a folder, as `sam build` takes "
                           "it)")  # fmt: skip
            return None
        if (folder / uri).is_file():
            builder.notice(code[1], f"the code is a file ({uri}): eventsim runs code from a "
                           "folder; this function is left out (CodeUri: the folder it was "
                           "built from)")  # fmt: skip
            return None
        return folder / uri, code[1]

    def _runtime(self) -> None:
        runtime, at = self.get("Runtime")
        if not isinstance(runtime, str):
            return
        local = f"python{sys.version_info.major}.{sys.version_info.minor}"
        if not runtime.startswith("python"):
            self.builder.notice(at, f"Runtime {runtime}: eventsim runs Python handlers only; "
                                "this function's invocations fail")  # fmt: skip
        elif runtime != local:
            self.builder.notice(at, f"Runtime {runtime}: the handler runs on eventsim's "
                                f"Python ({local})")  # fmt: skip

    def _environment(self, entry: dict[str, Any], base: KeyPath) -> None:
        """``Environment.Variables``: the function's over ``Globals.Function``'s."""
        variables: dict[str, Any] = {}
        sources = [("Globals", "Function", "Environment"), (*self.at, "Environment")]
        origin: KeyPath = self.at
        for owner, at in zip((self.globals, self.properties), sources, strict=True):
            environment = owner.get("Environment")
            if environment is None:
                continue
            origin = (*at, "Variables")
            environment = self.builder.mapping(self.builder.resolve(environment, at), at)
            for key in environment:
                if key != "Variables":
                    self.builder.notice((*at, key), f"Environment.{key}: not honoured")
            given = self.builder.mapping(environment.get("Variables", {}), (*at, "Variables"))
            for name, value in given.items():
                where: KeyPath = (*at, "Variables", name)
                text = self.builder.string(value, where)
                if text is not MISSING:
                    variables[name] = text
                    self.builder.origins[(*base, "environment", name)] = where
        if variables:
            entry["environment"] = variables
            self.builder.origins[(*base, "environment")] = origin
