"""The ``context`` object a handler receives (docs/aws-behaviour.md §8.2).

Standard library only.
"""

from __future__ import annotations

import sys
import time
from typing import Any


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity_id: str | None = None, pool_id: str | None = None) -> None:
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id


class Client:
    __slots__ = (
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    )

    def __init__(self, client: dict[str, Any]) -> None:
        self.installation_id = client.get("installation_id")
        self.app_title = client.get("app_title")
        self.app_version_name = client.get("app_version_name")
        self.app_version_code = client.get("app_version_code")
        self.app_package_name = client.get("app_package_name")


class ClientContext:
    __slots__ = ("custom", "env", "client")

    def __init__(self, data: dict[str, Any]) -> None:
        self.custom = data.get("custom")
        self.env = data.get("env")
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else None


class LambdaContext:
    """Mirrors awslambdaric's ``LambdaContext``; ``deadline_ms`` is epoch milliseconds."""

    def __init__(
        self,
        *,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: str,
        aws_request_id: str,
        log_group_name: str,
        log_stream_name: str,
        deadline_ms: int,
        client_context: dict[str, Any] | None = None,
        identity: dict[str, Any] | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.tenant_id = tenant_id
        self.identity = CognitoIdentity(
            (identity or {}).get("cognitoIdentityId"), (identity or {}).get("cognitoIdentityPoolId")
        )
        self.client_context = ClientContext(client_context) if client_context else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg: str) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )
