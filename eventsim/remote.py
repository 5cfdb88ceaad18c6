"""Talking to a running ``eventsim up`` through its edge server (the CLI helpers).

Example::

    remote = Remote("http://127.0.0.1:8642")
    remote.send_message("orders", '{"id": 1}')
    remote.put_item("stock", {"sku": "apple", "count": 5})
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from .errors import RemoteError, ValueRejected
from .events.dynamodb_json import marshal_item


@dataclass(frozen=True)
class RemoteResult:
    status: int
    headers: dict[str, str]
    body: bytes


class Remote:
    def __init__(self, endpoint: str, timeout: float = 60.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> RemoteResult:
        return self._send(
            urllib.request.Request(self.endpoint + path, data=body, headers=headers, method="POST")
        )

    def _send(self, request: urllib.request.Request) -> RemoteResult:
        """The response, whatever its status; ``RemoteError`` if eventsim cannot be reached."""
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return RemoteResult(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return RemoteResult(exc.code, dict(exc.headers), exc.read())
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RemoteError(
                f"cannot reach eventsim at {self.endpoint} ({reason}): is `eventsim up` running? "
                "(--endpoint or EVENTSIM_ENDPOINT to choose another address)"
            ) from None

    def call(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        """One JSON-protocol operation, e.g. ``AmazonSQS.SendMessage``."""
        result = self._post(
            "/", json.dumps(body).encode(),
            {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
        )  # fmt: skip
        payload = json.loads(result.body or b"{}")
        if result.status != 200:
            code = str(payload.get("__type", result.status)).rsplit("#", 1)[-1]
            raise RemoteError(f"{code}: {payload.get('message', '')}")
        return payload  # type: ignore[no-any-return]

    def send_message(self, queue: str, body: str, **options: Any) -> str:
        url = self.call("AmazonSQS.GetQueueUrl", {"QueueName": queue})["QueueUrl"]
        sent = self.call("AmazonSQS.SendMessage", {"QueueUrl": url, "MessageBody": body, **options})
        return str(sent["MessageId"])

    def put_item(self, table: str, item: dict[str, Any], typed: bool = False) -> None:
        try:
            typed_item = item if typed else marshal_item(item)
        except ValueRejected as exc:
            raise RemoteError(f"the item cannot be stored in DynamoDB: {exc}") from None
        self.call("DynamoDB_20120810.PutItem", {"TableName": table, "Item": typed_item})

    def invoke(self, function: str, payload: bytes, invocation_type: str) -> RemoteResult:
        result = self._post(
            f"/2015-03-31/functions/{function}/invocations",
            payload,
            {"X-Amz-Invocation-Type": invocation_type, "X-Amz-Log-Type": "Tail"},
        )
        error_type = result.headers.get("x-amzn-ErrorType")
        if error_type:
            message = json.loads(result.body or b"{}").get("message", "")
            raise RemoteError(f"{error_type}: {message}")
        return result

    def explain(self, **query: str) -> str:
        """What the running eventsim's ledger says about a key, message or item."""
        url = f"{self.endpoint}/_eventsim/explain?{urllib.parse.urlencode(query)}"
        result = self._send(urllib.request.Request(url))
        text = result.body.decode()
        if result.status != 200:
            raise RemoteError(text.strip())
        return text

    def schedules(self, count: int) -> list[dict[str, Any]]:
        """The running eventsim's schedules with their next ``count`` fire times."""
        url = f"{self.endpoint}/_eventsim/schedules?next={count}"
        result = self._send(urllib.request.Request(url))
        if result.status != 200:
            raise RemoteError(result.body.decode(errors="replace").strip())
        found: list[dict[str, Any]] = json.loads(result.body)
        return found

    @staticmethod
    def log_tail(result: RemoteResult) -> str:
        encoded = result.headers.get("X-Amz-Log-Result")
        return base64.b64decode(encoded).decode("utf-8", "replace") if encoded else ""
