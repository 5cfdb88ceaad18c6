"""A handler's environment variables: built from an allowlist, as Lambda builds them.

Nothing of the developer's shell reaches a handler unless the config names it
(``inherit_env``, top level and per function; globs allowed). What a handler gets, in order
(later wins):

1. the basics a process needs to run: ``PATH``, ``LD_LIBRARY_PATH``, temporary-folder and
   Windows system variables, from the simulator's environment;
2. the variables ``inherit_env`` names, from the simulator's environment, except the AWS
   variables that would lead an SDK elsewhere (``LEADS_ELSEWHERE``: ``AWS_PROFILE``, other
   endpoints, ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``...), even named or matched by a glob
   such as ``AWS_*``; a function's own ``environment`` may still set them on purpose;
3. the variables the Lambda runtime sets (``FunctionSpec.runtime_environment``) and the
   function's own ``environment``;
4. the closed world, always, whatever the parent or ``inherit_env`` says: placeholder
   credentials; ``AWS_ENDPOINT_URL`` (every SDK's global endpoint) and
   ``AWS_ENDPOINT_URL_<SERVICE>`` pointing at eventsim's edge — or, with no edge running, at a
   closed local port, so a call fails at once instead of reaching AWS; empty AWS config and
   credentials files (no profile of the developer's is read); the EC2 metadata service off;
   ``EVENTSIM_BUCKET_<NAME>``, the folder of each bucket.

``isolation: thread`` shares one process with the simulator (and the test): the same variables
are set in ``os.environ`` while the function's environments exist, and the AWS variables that
could lead elsewhere (other ``AWS_ENDPOINT_URL_*``, ``AWS_PROFILE``...) are removed, but the
rest of the parent's environment stays visible. That is the limit of thread mode.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..unconfirmed import PLACEHOLDER_CREDENTIALS
from .spec import FunctionSpec

#: A process cannot run without these; nothing secret lives in them.
BASICS = ("PATH", "LD_LIBRARY_PATH", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT", "WINDIR", "COMSPEC",
          "PATHEXT")  # fmt: skip
#: Services whose ``AWS_ENDPOINT_URL_<SERVICE>`` is set beside the global ``AWS_ENDPOINT_URL``
#: (the SDKs' names: the service id upper-cased, spaces as ``_``). Those eventsim does not serve
#: point at the edge too, which answers with an error naming the service.
ENDPOINT_SERVICES = ("LAMBDA", "SQS", "DYNAMODB", "DYNAMODB_STREAMS", "STS", "S3", "SNS",
                     "EVENTBRIDGE", "SCHEDULER", "CLOUDWATCH_LOGS")  # fmt: skip
#: Where SDK calls go when no edge runs: a port nothing listens on (connection refused).
NOWHERE = "http://127.0.0.1:9"
#: Variables of the parent that would lead an SDK elsewhere: never inherited, and removed in
#: thread isolation.
LEADS_ELSEWHERE = re.compile(
    r"^AWS_(ENDPOINT_URL(_\w+)?|PROFILE|DEFAULT_PROFILE|CONFIG_FILE|SHARED_CREDENTIALS_FILE|"
    r"ROLE_ARN|WEB_IDENTITY_TOKEN_FILE|ROLE_SESSION_NAME|CONTAINER_\w+|CA_BUNDLE|"
    r"USE_FIPS_ENDPOINT|USE_DUALSTACK_ENDPOINT|S3_US_EAST_1_REGIONAL_ENDPOINT|STS_REGIONAL_ENDPOINTS|"
    r"IGNORE_CONFIGURED_ENDPOINT_URLS|SDK_LOAD_CONFIG|CREDENTIAL_EXPIRATION)$"
)


def bucket_variable(name: str) -> str:
    """``EVENTSIM_BUCKET_<NAME>``: the bucket name upper-cased, other characters as ``_``."""
    return "EVENTSIM_BUCKET_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


@dataclass(frozen=True)
class World:
    """What every handler of one simulator is pointed at."""

    endpoint_url: str | None = None  # the edge, when one runs
    buckets: Mapping[str, Path] = field(default_factory=dict)
    inherit: tuple[str, ...] = ()  # the top-level inherit_env
    aws_files: Path | None = None  # folder of the empty AWS config and credentials files

    def closed(self) -> dict[str, str]:
        """The variables that keep a handler's SDK calls inside eventsim."""
        url = self.endpoint_url or NOWHERE
        env = {"AWS_ENDPOINT_URL": url, **PLACEHOLDER_CREDENTIALS}
        env.update({f"AWS_ENDPOINT_URL_{service}": url for service in ENDPOINT_SERVICES})
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        if self.aws_files is not None:
            env["AWS_CONFIG_FILE"] = str(self.aws_files / "config")
            env["AWS_SHARED_CREDENTIALS_FILE"] = str(self.aws_files / "credentials")
        env.update({bucket_variable(name): str(path) for name, path in self.buckets.items()})
        return env

    def environment(
        self, spec: FunctionSpec, log_stream: str, parent: Mapping[str, str]
    ) -> dict[str, str]:
        """Every variable of one execution environment of ``spec`` (for a child process)."""
        env = {name: parent[name] for name in BASICS if name in parent}
        patterns = (*self.inherit, *spec.inherit_env)
        if patterns:
            env.update(
                {name: value for name, value in parent.items()
                 if any(fnmatch.fnmatchcase(name, p) for p in patterns)
                 and not LEADS_ELSEWHERE.match(name)}
            )  # fmt: skip
        env.update(spec.runtime_environment(log_stream))
        closed = self.closed()
        env.update(closed)
        # The function's own settings may aim an SDK elsewhere on purpose; the parent's may not.
        env.update({k: v for k, v in spec.user_environment.items() if k in closed})
        return env

    def prepare(self) -> None:
        """Create the empty AWS config and credentials files."""
        if self.aws_files is not None:
            self.aws_files.mkdir(parents=True, exist_ok=True)
            for name in ("config", "credentials"):
                (self.aws_files / name).touch()
