"""The DynamoDB Streams API (``X-Amz-Target: DynamoDBStreams_20120810.<Operation>``):
ListStreams, DescribeStream, GetShardIterator and GetRecords over the tables' streams, so
apps and the Kinesis Client Library's DynamoDB Streams adapter read them themselves.

boto3's ``dynamodbstreams`` client signs as ``dynamodb``, so signed requests reach
``DynamoDbApi``, which hands them here; unsigned ones are told by their target prefix.

Each table has one shard (``STREAM_SHARD_ID``). A shard iterator is an opaque token holding
the stream, the position (the last sequence number read) and when it was made; it expires
after 15 minutes on the simulator's clock, as in AWS. Records are the stream records Lambda
gets, as the Streams API shapes them: no ``eventSourceARN``, and ``userIdentity`` (on TTL
deletions) with ``PrincipalId`` and ``Type``.

Example (boto3)::

    streams = boto3.client("dynamodbstreams", endpoint_url=sim.endpoint_url)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..errors import ApiError
from ..resources.table import Table
from ..unconfirmed import STREAM_SHARD_ID
from .dynamodb_protocol import MAX_REQUEST_BYTES, answer, invalid, refusal
from .protocol import optional, require
from .services import Service

if TYPE_CHECKING:
    from ..simulator import Simulator

TARGET_PREFIX = "DynamoDBStreams_20120810"
#: Shard iterators are valid this long (AWS: 15 minutes).
ITERATOR_LIFETIME_S = 15 * 60
MAX_RECORDS = 1000
_ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")

Operation = Callable[["StreamsOperations", dict[str, Any]], Awaitable[dict[str, Any]]]


class StreamsOperations:
    """The four operations over one simulator's tables."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def operation(self, name: str) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        """The operation ``name``, to run on a request body (refusing an unknown name)."""
        method = _OPERATIONS.get(name)

        async def run(body: dict[str, Any]) -> dict[str, Any]:
            if method is None:
                raise ApiError(
                    "UnknownOperationException",
                    f"eventsim does not support {TARGET_PREFIX}.{name}",
                )
            return await method(self, body)

        return run

    def _stream(self, arn: Any) -> Table:
        for table in self._sim.tables.values():
            if table.config.stream is not None and table.stream_arn == arn:
                return table
        raise ApiError(
            "ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found"
        )

    async def list_streams(self, body: dict[str, Any]) -> dict[str, Any]:
        name = optional(body, "TableName")
        limit = optional(body, "Limit", int, 100)
        if not 1 <= limit <= 100:
            raise invalid(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value "
                + ("greater than or equal to 1" if limit < 1 else "less than or equal to 100")
            )
        streams = sorted(
            (table.stream_arn, table.name)
            for table in self._sim.tables.values()
            if table.config.stream is not None and name in (None, table.name)
        )
        start = optional(body, "ExclusiveStartStreamArn")
        if start is not None:
            streams = [s for s in streams if s[0] > start]
        result: dict[str, Any] = {
            "Streams": [
                {"StreamArn": arn, "TableName": table, "StreamLabel": arn.rsplit("/", 1)[-1]}
                for arn, table in streams[:limit]
            ]
        }
        if len(streams) > limit:
            result["LastEvaluatedStreamArn"] = streams[limit - 1][0]
        return result

    async def describe_stream(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._stream(require(body, "StreamArn"))
        c = table.config
        keys = [{"AttributeName": c.partition_key, "KeyType": "HASH"}]
        if c.sort_key is not None:
            keys.append({"AttributeName": c.sort_key, "KeyType": "RANGE"})
        label = table.stream_arn.rsplit("/", 1)[-1]
        created = datetime.strptime(label, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
        first = table.store.first_seq() or table.store.last_seq() + 1
        shard = {
            "ShardId": STREAM_SHARD_ID,
            "SequenceNumberRange": {"StartingSequenceNumber": f"{first:021d}"},
        }
        start = optional(body, "ExclusiveStartShardId")
        return {
            "StreamDescription": {
                "StreamArn": table.stream_arn,
                "StreamLabel": label,
                "StreamStatus": "ENABLED",
                "StreamViewType": c.stream,
                "CreationRequestDateTime": created.timestamp(),
                "TableName": table.name,
                "KeySchema": keys,
                "Shards": [] if start == STREAM_SHARD_ID else [shard],
            }
        }

    async def get_shard_iterator(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._stream(require(body, "StreamArn"))
        if require(body, "ShardId") != STREAM_SHARD_ID:
            raise ApiError(
                "ResourceNotFoundException",
                f"Requested resource not found: Shard does not exist: {body['ShardId']}",
            )
        kind = require(body, "ShardIteratorType")
        if kind not in _ITERATOR_TYPES:
            raise invalid(
                f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed to "
                "satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, "
                "LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
            )
        given = optional(body, "SequenceNumber")
        if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if given is None or not given.isdigit():
                raise invalid(f"A sequence number is required for {kind}")
            number = int(given)
            first = table.store.first_seq()
            if first is not None and number < first:
                raise ApiError(
                    "TrimmedDataAccessException",
                    f"The sequence number {given} is beyond the trim horizon of the stream",
                )
            position = number - 1 if kind == "AT_SEQUENCE_NUMBER" else number
        elif given is not None:
            raise invalid(f"A sequence number cannot be given for {kind}")
        elif kind == "LATEST":
            position = table.store.last_seq()
        else:
            position = 0
        return {"ShardIterator": self._iterator(table, position)}

    def _iterator(self, table: Table, position: int) -> str:
        token = {"arn": table.stream_arn, "after": position, "made": self._sim.clock.time()}
        return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()

    async def get_records(self, body: dict[str, Any]) -> dict[str, Any]:
        given = require(body, "ShardIterator")
        limit = optional(body, "Limit", int, MAX_RECORDS)
        if not 1 <= limit <= MAX_RECORDS:
            raise invalid(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value "
                + ("greater than or equal to 1" if limit < 1 else "less than or equal to 1000")
            )
        try:
            token = json.loads(base64.urlsafe_b64decode(given.encode()))
            arn, after, made = token["arn"], int(token["after"]), float(token["made"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise invalid("Invalid ShardIterator") from None
        table = self._stream(arn)
        now = self._sim.clock.time()
        if now - made > ITERATOR_LIFETIME_S:
            raise ApiError(
                "ExpiredIteratorException",
                f"Iterator expired. The iterator was created at time "
                f"{_shown(made)} while right now it is {_shown(now)}. The iterator is valid "
                f"for {ITERATOR_LIFETIME_S // 60} minutes.",
            )
        changes = table.changes(after, limit)
        records = [_api_record(table.record(change)) for change in changes]
        position = changes[-1].seq if changes else after
        return {"Records": records, "NextShardIterator": self._iterator(table, position)}


_OPERATIONS: dict[str, Operation] = {
    "ListStreams": StreamsOperations.list_streams,
    "DescribeStream": StreamsOperations.describe_stream,
    "GetShardIterator": StreamsOperations.get_shard_iterator,
    "GetRecords": StreamsOperations.get_records,
}


def _shown(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def _api_record(record: dict[str, Any]) -> dict[str, Any]:
    """A stream record as GetRecords shapes it (Lambda's has eventSourceARN, lower-case
    userIdentity keys)."""
    out = {k: v for k, v in record.items() if k not in ("eventSourceARN", "userIdentity")}
    identity = record.get("userIdentity")
    if identity is not None:
        out["userIdentity"] = {"PrincipalId": identity["principalId"], "Type": identity["type"]}
    return out


class DynamoDbStreamsApi:
    """The Streams API as its own service, for requests told by their target prefix
    (unsigned ones); signed ones reach ``DynamoDbApi`` (boto3 signs them as ``dynamodb``)."""

    service: ClassVar[Service] = Service(
        "dynamodbstreams", "json", MAX_REQUEST_BYTES, target_prefix=TARGET_PREFIX
    )

    def __init__(self, sim: Simulator) -> None:
        self.operations = StreamsOperations(sim)

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        return refusal(request, error)

    async def handle(self, request: web.Request) -> web.Response:
        prefix, _, operation = request.headers.get("X-Amz-Target", "").partition(".")
        if prefix != TARGET_PREFIX:
            target = request.headers.get("X-Amz-Target") or "a request without X-Amz-Target"
            unknown = ApiError("UnknownOperationException", f"eventsim does not support {target}")
            return refusal(request, unknown)
        return await answer(request, self.operations.operation(operation))
