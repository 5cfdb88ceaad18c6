"""The whole config (``Config``) and how it is loaded: ``load_config`` and
``Config.from_dict`` validate a file, a dict or a template once and report every problem in
one ``ConfigError``, sorted by line. The model and its loader share a module because each needs
the other (``from_dict`` validates through the loader, which builds a ``Config``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from .. import yamlpos
from ..config_checks import check_references, declared_names, error_message, prune
from ..errors import ConfigError, ConfigIssue
from ..sam import overlay as sam_overlay
from ..sam import template as sam_template
from ..unconfirmed import DEFAULT_IDLE_TIMEOUT_S
from .fields import EnvGlob, Model, ResolvedPath, WorkFolder
from .files import DEFAULT_CONFIG_PATH, read_text
from .functions import FUNCTION_NAME, FunctionConfig
from .pubsub import BUS_NAME, TOPIC_NAME, BusConfig, TopicConfig
from .resources import BUCKET_NAME, QUEUE_NAME, TABLE_NAME, BucketConfig, QueueConfig, TableConfig
from .settings import LedgerConfig, ServerConfig
from .triggers import Extensions

#: A role's ARN as IAM writes it.
ROLE_ARN = r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,64}$"

#: A template parameter's or import's value, as YAML gives it.
TemplateValue = str | int | float | bool
AliasSection = Literal["functions", "buckets", "queues", "tables", "topics", "buses"]


class Config(Model):
    """A whole eventsim config. Build it with ``load_config`` or ``Config.from_dict``.

    ``state_dir`` (default ``.eventsim`` beside the config file) is a folder, not a system one.
    ``inherit_env``: variables of the developer's environment every handler may see (names or
    globs such as ``MYAPP_*``; see ``FunctionConfig``). ``role_arn``: the role eventsim
    reports (STS ``GetCallerIdentity``...); ``role`` is the effective one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    account: str = Field(default="123456789012", pattern=r"^\d{12}$")
    state_dir: WorkFolder = Field(default=Path(".eventsim"), validate_default=True)
    inherit_env: list[EnvGlob] = Field(default_factory=list)
    role_arn: str | None = Field(default=None, pattern=ROLE_ARN)
    account_concurrency: int = Field(default=1000, ge=1)
    #: Environments eventsim runs at once per function; more concurrent requests wait for one.
    #: AWS would scale further; a laptop cannot run a thousand Python processes.
    max_environments: int = Field(default=10, ge=1, le=1000)
    idle_timeout: float = Field(default=DEFAULT_IDLE_TIMEOUT_S, gt=0, allow_inf_nan=False)
    server: ServerConfig = Field(default_factory=ServerConfig)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    functions: dict[Annotated[str, Field(pattern=FUNCTION_NAME)], FunctionConfig] = Field(
        default_factory=dict
    )
    buckets: dict[Annotated[str, Field(pattern=BUCKET_NAME)], BucketConfig] = Field(
        default_factory=dict
    )
    queues: dict[Annotated[str, Field(pattern=QUEUE_NAME, max_length=80)], QueueConfig] = Field(
        default_factory=dict
    )
    tables: dict[Annotated[str, Field(pattern=TABLE_NAME)], TableConfig] = Field(
        default_factory=dict
    )

    topics: dict[Annotated[str, Field(pattern=TOPIC_NAME, max_length=256)], TopicConfig] = Field(
        default_factory=dict
    )
    buses: dict[Annotated[str, Field(pattern=BUS_NAME)], BusConfig] = Field(default_factory=dict)

    extensions: Extensions = Field(default_factory=Extensions)
    """The resources of plug-in trigger kinds (see ``Extensions``)."""

    template: ResolvedPath | None = None
    """A SAM or CloudFormation template this config starts from; the rest of the file
    overrides and extends what it says (``eventsim.sam.overlay``)."""
    parameters: dict[str, TemplateValue | list[TemplateValue]] = Field(default_factory=dict)
    """Values of the template's parameters (and ``AWS::StackName``, ``AWS::Region``...)."""
    imports: dict[str, TemplateValue] = Field(default_factory=dict)
    """Values of the template's ``Fn::ImportValue`` exports, by export name."""
    aliases: dict[AliasSection, dict[str, str]] = Field(default_factory=dict)
    """Other names of resources, per section: a template's logical ids (``{queues: {Jobs:
    local-Jobs-1A2B3C4D5E6F}}``)."""

    not_honoured: tuple[ConfigIssue, ...] = Field(default=(), exclude=True)
    """What the template asks that eventsim does not do, each at its line (set by loading)."""

    source: Path | None = Field(default=None, exclude=True)
    """The file this config was read from, if any (set by ``load_config``)."""

    @property
    def role(self) -> str:
        """The role ARN eventsim reports: ``role_arn``, else ``role/eventsim`` in ``account``.

        Example: ``Config().role == "arn:aws:iam::123456789012:role/eventsim"``
        """
        return self.role_arn or f"arn:aws:iam::{self.account}:role/eventsim"

    @classmethod
    def from_dict(cls, data: dict[str, Any], base_dir: str | Path | None = None) -> Config:
        """Validate a config given as a dict; relative paths resolve against ``base_dir``."""
        base = Path(base_dir or Path.cwd())
        if data.get("template") is not None:
            return _from_template(data, base, None, yamlpos.Positions())
        return _validate(data, base, None, yamlpos.Positions())


def load_config(
    path: str | Path = DEFAULT_CONFIG_PATH, parameters: Mapping[str, Any] | None = None
) -> Config:
    """Read and validate a YAML config file, or a SAM or CloudFormation template; raise
    ``ConfigError`` listing every problem. ``parameters``: values of the template's parameters
    (``--parameter-overrides``), over the config's ``parameters``."""
    path = Path(path)

    def fail(problems: list[yamlpos.YamlProblem]) -> ConfigError:
        return ConfigError(
            [
                ConfigIssue(str(path), p.line, p.column, yamlpos.dotted(p.path), p.message)
                for p in problems
            ]
        )

    text = read_text(path)
    parsed = sam_template.parse(path, text) if sam_template.looks_like_template(text) else None
    if parsed is not None:
        loaded = sam_overlay.load(parsed, {}, parameters=parameters)
        return _loaded(loaded, path.resolve().parent, path)
    try:
        data, positions, duplicates = yamlpos.load(text)
    except yamlpos.YamlError as exc:
        raise fail(exc.problems) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problem = yamlpos.YamlProblem("expected a mapping of settings at the top level", 1, 1)
        raise fail([problem])
    if data.get("template") is not None and not duplicates:
        return _from_template(data, path.resolve().parent, path, positions, parameters)
    try:
        config = _validate(data, path.resolve().parent, path, positions)
    except ConfigError as exc:
        issues = exc.issues
    else:
        if not duplicates:
            return config
        issues = []  # valid, but a duplicate key's first value was silently lost
    raise ConfigError(_in_order([*fail(duplicates).issues, *issues]))


def _from_template(
    data: dict[str, Any],
    base_dir: Path,
    source: Path | None,
    positions: yamlpos.Positions,
    parameters: Mapping[str, Any] | None = None,
) -> Config:
    """A config naming a template: the template's config with this one over it."""
    file = str(source) if source is not None else None
    named = data["template"]
    if not isinstance(named, str) or not named.strip():
        line, column = positions.find(("template",)) or (None, None)
        message = f"expected the path of a SAM or CloudFormation template, got {named!r}"
        raise ConfigError([ConfigIssue(file, line, column, "template", message)])
    template = (base_dir / Path(named).expanduser()).resolve()
    try:
        text = read_text(template)
    except ConfigError as exc:
        line, column = positions.find(("template",)) or (None, None)
        message = f"{template}: {exc.issues[0].message}"
        raise ConfigError([ConfigIssue(file, line, column, "template", message)]) from None
    loaded = sam_overlay.load(
        sam_template.load(template, text), data, overlay_file=source,
        overlay_positions=positions, parameters=parameters,
    )  # fmt: skip
    return _loaded(loaded, base_dir, source)


def _loaded(loaded: sam_overlay.Loaded, base_dir: Path, source: Path | None) -> Config:
    """The config of a template (and overlay): the template's problems and the config's are
    reported together."""
    try:
        config = _validate(loaded.data, base_dir, source, yamlpos.Positions(), loaded.locate)
    except ConfigError as exc:
        issues = exc.issues
    else:
        if not loaded.problems:
            return config.model_copy(update={"not_honoured": loaded.notices})
        issues = []
    unique = list(dict.fromkeys([*loaded.problems, *issues]))
    raise ConfigError(_in_order(unique))


def _validate(
    data: dict[str, Any],
    base_dir: Path,
    source: Path | None,
    positions: yamlpos.Positions,
    locate: Callable[[yamlpos.Path, str], ConfigIssue] | None = None,
) -> Config:
    """Validate ``data``; ``locate`` places problems (a template's), else ``positions``."""
    file = str(source) if source is not None else None
    context = {"base_dir": base_dir}

    def issue(path: yamlpos.Path, message: str) -> ConfigIssue:
        if locate is not None:
            return locate(path, message)
        line, column = positions.find(path) or (None, None)
        return ConfigIssue(file, line, column, yamlpos.dotted(path), message)

    try:
        # Strict: YAML gives typed scalars, and "3" or true for an int is a mistake to report.
        config = Config.model_validate(data, strict=True, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        issues = [issue(_key_path(e["loc"]), error_message(e, Config)) for e in errors]
        issues += [issue(path, message) for path, message in _check_the_rest(data, errors, context)]
        raise ConfigError(_in_order(issues)) from None
    found = [*check_references(config), *_check_template_keys(config)]
    problems = [issue(path, message) for path, message in found]
    if problems:
        raise ConfigError(_in_order(problems))
    return config.model_copy(update={"source": source.resolve() if source else None})


def _check_template_keys(config: Config) -> list[tuple[yamlpos.Path, str]]:
    """Parameters and imports belong to a template; each alias names an entry of its section,
    and no entry is named by an alias too."""
    problems: list[tuple[yamlpos.Path, str]] = []
    for key in ("parameters", "imports"):
        if getattr(config, key) and config.template is None:
            problems.append(((key,), f"{key} are a template's: name it with template: FILE"))
    for section, aliases in config.aliases.items():
        names = getattr(config, section)
        for alias, name in aliases.items():
            at = ("aliases", section, alias)
            if name not in names:
                problems.append((at, f"{name!r} is not in {section}"))
            elif alias in names and alias != name:
                problems.append((at, f"{alias!r} names another entry of {section}"))
    return problems


def _check_the_rest(
    data: dict[str, Any], errors: list[Any], context: dict[str, Any]
) -> list[tuple[yamlpos.Path, str]]:
    """Reference problems among the parts of ``data`` that validated, beside schema errors."""
    pruned = prune(data, [tuple(e["loc"]) for e in errors])
    for _ in range(2):
        try:
            partial = Config.model_validate(pruned.data, strict=True, context=context)
        except ValidationError as exc:  # e.g. a required key missing: drop whole entries
            locs = [tuple(e["loc"]) for e in exc.errors(include_url=False)]
            pruned.data = prune(pruned.data, locs, coarse=True).data
            continue
        return check_references(partial, declared_names(data), pruned.kept)
    return []


def _key_path(loc: Any) -> yamlpos.Path:
    return tuple(p for p in loc if p != "[key]")


def _in_order(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    """Sorted by position; issues without a line (whole-file) first."""
    return sorted(issues, key=lambda i: (i.line or 0, i.column or 0))
