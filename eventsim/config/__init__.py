"""The config file: pydantic models of it, and the only parser of it.

``load_config(path)`` reads YAML, validates it once, resolves paths against the file's folder
(defaults included) and checks cross references (a trigger's bucket, a destination's
function...). Every problem found is reported together in one ``ConfigError``, sorted by line,
each with ``file:line:column``, the key path and what was expected; the references are checked
over whatever part of the file validated. ``find_config()`` finds the file when none is named.

A SAM or CloudFormation template is a config too (``eventsim.sam``): ``load_config`` knows one
by its top-level keys (``AWSTemplateFormatVersion``, ``Transform``, ``Resources``), and an
eventsim config may name one (``template: template.yaml``) and override or extend what it
says. Errors then point into the template, and ``Config.not_honoured`` lists what eventsim
does not do of what the template asks.

Input is untrusted: a file over 1 MB, not UTF-8, nested too deeply, with an alias bomb or a
``!!python`` tag is refused before anything expands (``yamlpos``). Scalars are strict: an int
key takes an int (``timeout: "3"`` and ``timeout: true`` are errors), a bool key only
``true``/``false``; paths and times are written as strings.

One module per part of the file, every name re-exported here: ``fields`` (the base ``Model``
and the value types the others share), ``triggers`` (``Trigger`` and ``Extensions``, whose
schemas come from the trigger registry), ``functions``, ``resources`` (buckets, queues,
tables), ``pubsub`` (topics, buses), ``settings`` (server, ledger); ``files`` finds and reads
the file, ``loading`` holds the whole ``Config`` and validates it. The checks across sections
are in ``eventsim.config_checks``, outside the package: the SAM reader uses them without the
models.

Example::

    config = load_config("config/eventsim.yaml")
    config.functions["hello"].timeout        # 3 unless set
"""

from __future__ import annotations

from .fields import (
    DESTINATION_KINDS,
    ENV_GLOB,
    Destination,
    DestinationKind,
    DestinationRef,
    EnvGlob,
    FilterPattern,
    Filters,
    Model,
    ResolvedPath,
    Timestamp,
    WorkFolder,
)
from .files import (
    CONFIG_NAMES,
    DEFAULT_CONFIG_PATH,
    MAX_CONFIG_BYTES,
    find_config,
)
from .functions import (
    ENV_KEY,
    ENV_TOTAL_BYTES,
    FUNCTION_NAME,
    RESERVED_ENV,
    FunctionConfig,
)
from .loading import (
    ROLE_ARN,
    AliasSection,
    Config,
    TemplateValue,
    load_config,
)
from .pubsub import (
    BUS_NAME,
    DEFAULT_BUS,
    INPUT_PATH_KEY,
    JSON_PATH,
    PREDEFINED_PLACEHOLDERS,
    RULE_NAME,
    TOPIC_NAME,
    BusConfig,
    EventPattern,
    FilterPolicyScope,
    InputTransformer,
    QueueSubscription,
    RetryPolicy,
    RuleConfig,
    RuleTarget,
    TargetInput,
    TopicConfig,
    check_filter_policy,
)
from .resources import (
    BUCKET_NAME,
    INDEX_NAME,
    KEY_NAME,
    QUEUE_NAME,
    TABLE_NAME,
    BucketConfig,
    GlobalIndexConfig,
    KeyType,
    LocalIndexConfig,
    Projection,
    QueueConfig,
    QueueTags,
    Redrive,
    TableConfig,
    TagKey,
)
from .settings import (
    HOST_NAME,
    ORIGIN,
    LedgerConfig,
    ServerConfig,
)
from .triggers import (
    Extensions,
    Trigger,
)

__all__ = [
    "AliasSection",
    "BUCKET_NAME",
    "BUS_NAME",
    "BucketConfig",
    "BusConfig",
    "CONFIG_NAMES",
    "Config",
    "DEFAULT_BUS",
    "DEFAULT_CONFIG_PATH",
    "DESTINATION_KINDS",
    "Destination",
    "DestinationKind",
    "DestinationRef",
    "ENV_GLOB",
    "ENV_KEY",
    "ENV_TOTAL_BYTES",
    "EnvGlob",
    "EventPattern",
    "Extensions",
    "FUNCTION_NAME",
    "FilterPattern",
    "FilterPolicyScope",
    "Filters",
    "FunctionConfig",
    "GlobalIndexConfig",
    "HOST_NAME",
    "INDEX_NAME",
    "INPUT_PATH_KEY",
    "InputTransformer",
    "JSON_PATH",
    "KEY_NAME",
    "KeyType",
    "LedgerConfig",
    "LocalIndexConfig",
    "MAX_CONFIG_BYTES",
    "Model",
    "ORIGIN",
    "PREDEFINED_PLACEHOLDERS",
    "Projection",
    "QUEUE_NAME",
    "QueueConfig",
    "QueueSubscription",
    "QueueTags",
    "RESERVED_ENV",
    "ROLE_ARN",
    "RULE_NAME",
    "Redrive",
    "ResolvedPath",
    "RetryPolicy",
    "RuleConfig",
    "RuleTarget",
    "ServerConfig",
    "TABLE_NAME",
    "TOPIC_NAME",
    "TableConfig",
    "TagKey",
    "TargetInput",
    "TemplateValue",
    "Timestamp",
    "TopicConfig",
    "Trigger",
    "WorkFolder",
    "check_filter_policy",
    "find_config",
    "load_config",
]
