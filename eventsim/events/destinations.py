"""What Lambda sends on after asynchronous invocations and failed stream batches (§6, §7.2).

Example::

    invocation_record(request_id=rid, function_arn=arn + ":$LATEST",
                      condition="RetriesExhausted", approximate_invoke_count=3,
                      request_payload=event, response_payload=error,
                      function_error="Unhandled", timestamp=now)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from .common import iso_ms, iso_s

AsyncCondition = Literal[
    "Success", "RetriesExhausted", "EventAgeExceeded", "ZeroReservedConcurrency"
]
StreamCondition = Literal["RetryAttemptsExhausted", "RecordAgeExceeded"]

_NOT_RUN = object()

#: §6.3: a DLQ message's ErrorMessage holds the first 1 KB of the error message.
DLQ_MESSAGE_BYTES = 1024


def invocation_record(
    *,
    request_id: str,
    function_arn: str,
    condition: AsyncCondition,
    approximate_invoke_count: int,
    request_payload: Any,
    timestamp: datetime,
    response_payload: Any = _NOT_RUN,
    function_error: str | None = None,
    executed_version: str = "$LATEST",
) -> dict[str, Any]:
    """The record an async destination receives; ``function_arn`` is the qualified ARN.

    Leave ``response_payload`` out for an event that expired without ever running: the record
    then has no ``responseContext``/``responsePayload`` (unconfirmed, §6.2).
    """
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_ms(timestamp),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": approximate_invoke_count,
        },
        "requestPayload": request_payload,
    }
    if response_payload is not _NOT_RUN:
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
        if function_error is not None:
            response["functionError"] = function_error
        record["responseContext"] = response
        record["responsePayload"] = response_payload
    return record


def dlq_message_attributes(
    *, request_id: str, error_code: int, error_message: str
) -> dict[str, dict[str, str]]:
    """The message attributes of an event sent to a function's dead-letter queue (§6.3)."""
    message = error_message.encode()[:DLQ_MESSAGE_BYTES].decode("utf-8", "ignore")
    return {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": str(error_code)},
        "ErrorMessage": {"DataType": "String", "StringValue": message},
    }


def stream_failure_record(
    *,
    request_id: str,
    function_arn: str,
    condition: StreamCondition,
    approximate_invoke_count: int,
    timestamp: datetime,
    shard_id: str,
    start_sequence_number: str,
    end_sequence_number: str,
    first_arrival: datetime,
    last_arrival: datetime,
    batch_size: int,
    stream_arn: str,
    function_error: str | None = "Unhandled",
    executed_version: str = "$LATEST",
) -> dict[str, Any]:
    """The on-failure record of a discarded DynamoDB stream batch; records are not included."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
    if function_error is not None:
        response["functionError"] = function_error
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": approximate_invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": iso_ms(timestamp),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": start_sequence_number,
            "endSequenceNumber": end_sequence_number,
            "approximateArrivalOfFirstRecord": iso_s(first_arrival),
            "approximateArrivalOfLastRecord": iso_s(last_arrival),
            "batchSize": batch_size,
            "streamArn": stream_arn,
        },
    }
