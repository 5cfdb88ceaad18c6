"""Best guesses about AWS behaviour that no AWS document confirms.

Each value here is marked **Unconfirmed** in docs/aws-behaviour.md, with what eventsim assumes
and why. They live in one module so that a correction is a one-line change; code elsewhere
imports them and never repeats the literal.
"""

from __future__ import annotations

import json
import signal

#: §8.3: the runtime sets TZ; ":UTC" is what handlers observe in practice (docs say "UTC").
TZ = ":UTC"

#: §8.3: the X-Ray daemon address the runtime advertises.
XRAY_DAEMON_ADDRESS = "169.254.79.129:2000"

#: §8.4: newer platform form of the timeout response; the log line after REPORT keeps the
#: classic "<time> <request id> Task timed out after N.NN seconds" form.
TIMEOUT_ERROR_TYPE = "Sandbox.Timedout"


def timeout_message(request_id: str, elapsed_s: float) -> str:
    return f"RequestId: {request_id} Error: Task timed out after {elapsed_s:.2f} seconds"


#: §8.4: a runtime that exits mid-invocation.
EXIT_ERROR_TYPE = "Runtime.ExitError"

# Go's os.ProcessState strings, which is what the Lambda platform prints.
_SIGNAL_TEXT = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGKILL: "killed",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGINT: "interrupt",
}


def exit_message(request_id: str, returncode: int | None) -> str:
    if returncode == 0 or returncode is None:
        detail = "Runtime exited without providing a reason"
    elif returncode < 0:
        sig = signal.Signals(-returncode)
        text = _SIGNAL_TEXT.get(sig) or (signal.strsignal(sig) or sig.name).lower()
        detail = f"Runtime exited with error: signal: {text}"
    else:
        detail = f"Runtime exited with error: exit status {returncode}"
    return f"RequestId: {request_id} Error: {detail}"


#: §8.5: the message of a 429 TooManyRequestsException body.
THROTTLE_MESSAGE = "Rate Exceeded."

#: §8.5: how long an idle execution environment lives before SHUTDOWN (AWS does not say).
DEFAULT_IDLE_TIMEOUT_S = 600

#: Placeholder credentials given to handlers when the simulator's own environment has none, so
#: boto3 can sign requests to eventsim's edge (real Lambda injects role credentials).
PLACEHOLDER_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAEVENTSIMLOCAL000",
    "AWS_SECRET_ACCESS_KEY": "eventsim-local-secret-key",
    "AWS_SESSION_TOKEN": "eventsim-local-session-token",
}

#: §8.4: whether REPORT's Billed Duration includes INIT since the Aug 2025 billing change.
BILLED_DURATION_INCLUDES_INIT = False


#: §8.5: a sync response over 6 MB becomes this function error.
RESPONSE_TOO_LARGE_TYPE = "Function.ResponseSizeTooLarge"


def response_too_large_message(size: int, limit: int) -> str:
    return (
        f"Response payload size ({size} bytes) exceeded maximum allowed payload size "
        f"({limit} bytes)."
    )


#: An Invoke call without a payload: handlers observe an empty object.
EMPTY_PAYLOAD = b"{}"

#: §5.2: whether an HTTP API (v2) event keeps the ``cookie`` header beside ``cookies``.
V2_KEEP_COOKIE_HEADER = False

#: §5.1: which value ``headers`` holds when a REST API request repeats a header.
V1_REPEATED_HEADER_VALUE = "last"

#: §1.3: characters S3 leaves unencoded in event keys besides letters, digits and ``_.-~``
#: (``/`` observed kept; space becomes ``+``).
S3_KEY_SAFE = "/"


def stream_record_size(*parts: object) -> int:
    """§2.1: a DynamoDB stream record's ``SizeBytes``: the UTF-8 size of its keys and images
    as compact JSON (AWS does not publish the formula)."""
    return len(json.dumps(parts, separators=(",", ":")).encode())


#: §6.1: the destination condition of an event sent straight on because the function's reserved
#: concurrency is 0 (LocalStack's name).
ZERO_CONCURRENCY_CONDITION = "ZeroReservedConcurrency"

#: §6.3: a dead-letter message's ``ErrorCode`` attribute: AWS documents it as the HTTP status
#: code; an invocation that ran (and failed in the handler) answered 200.
DLQ_ERROR_CODE = 200

#: §4.4: what an EventBridge Scheduler target receives when it has no Input.
SCHEDULER_DEFAULT_INPUT = "{}"

#: §7.2: the delay before a failed stream batch is retried: doubling from the first value up
#: to the second (AWS retries "with backoff" without publishing the curve).
STREAM_RETRY_BACKOFF_S = (1.0, 60.0)

#: §2.3 sim: one shard per table; its id in tumbling-window events and on-failure records.
STREAM_SHARD_ID = "shardId-00000000000000000001-00000001"

#: §5.4: the API Gateway integration timeouts (REST 29 s, HTTP API 30 s), real seconds.
REST_INTEGRATION_TIMEOUT_S = 29.0
HTTP_INTEGRATION_TIMEOUT_S = 30.0

#: §5.4: what an HTTP API answers for a path no route matches ("Not Found" text unconfirmed).
HTTP_API_NOT_FOUND = "Not Found"
