"""boto3 against eventsim's edge, next to its peers, in one run.

    pip install -e '.[bench]'
    python bench/edge.py [--ops 300] [--invokes 300]

* SQS: one boto3 client doing send + receive + delete, as operations per second, against
  ``eventsim up`` and against moto's server mode (``moto_server``), each in its own process,
  with 0, 1,000 and 10,000 messages standing in the queue (each cell stops after ``--ops``
  rounds or 20 s; filling stops after 60 s, and the table says the depth reached);
* Lambda: boto3 ``invoke`` round trip of a trivial handler through ``eventsim up`` (warm,
  process isolation), next to python-lambda-local's per-invoke time (its ``call()`` API,
  which runs the handler in a fresh process each time, and its command line).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from lambda_local.context import Context
from lambda_local.main import call

#: A cell stops after this many seconds (a slow peer at depth would take minutes).
BUDGET_S = 20.0
#: Filling a queue stops after this many seconds (moto's sends slow down as the queue grows).
FILL_BUDGET_S = 60.0
HANDLER = "def handler(event, context):\n    return event\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):  # up to 60 s
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error: the server answers
                return
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


@contextmanager
def server(command: list[str], health: str) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(health, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def client(service: str, url: str) -> Any:
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="t",
        aws_secret_access_key="t", config=BotoConfig(retries={"max_attempts": 1}),
    )  # fmt: skip


def sqs_ops_per_s(url: str, depth: int, ops: int) -> tuple[float, int]:
    """Operations/s at ``depth`` standing messages, and the depth actually reached."""
    sqs = client("sqs", url)
    queue = sqs.create_queue(QueueName=f"bench-{depth}")["QueueUrl"]
    filling, reached = time.perf_counter(), 0
    while reached < depth and time.perf_counter() - filling < FILL_BUDGET_S:
        entries = [{"Id": str(i), "MessageBody": f"standing {i}"} for i in range(10)]
        sqs.send_message_batch(QueueUrl=queue, Entries=entries[: depth - reached])
        reached += len(entries[: depth - reached])
    started = time.perf_counter()
    done = 0
    while done < ops and time.perf_counter() - started < BUDGET_S:
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{done}")
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)
        for message in received.get("Messages", []):
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        done += 1
    return 3 * done / (time.perf_counter() - started), reached


def invoke_ms(url: str, n: int) -> list[float]:
    lam = client("lambda", url)
    lam.invoke(FunctionName="echo", Payload=b"{}")  # cold start outside
    times = []
    for i in range(n):
        started = time.perf_counter()
        response = lam.invoke(FunctionName="echo", Payload=json.dumps({"i": i}).encode())
        response["Payload"].read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def lambda_local_ms(code: Path, n: int) -> tuple[list[float], list[float]]:
    spec = importlib.util.spec_from_file_location("app", code / "app.py")
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    logging.getLogger().setLevel(logging.WARNING)  # python-lambda-local logs every call
    api = []
    for i in range(n):
        started = time.perf_counter()
        call(app.handler, {"i": i}, Context(3))
        api.append((time.perf_counter() - started) * 1000)
    event = code / "event.json"
    event.write_text("{}")
    cli = []
    for _ in range(max(3, n // 30)):
        started = time.perf_counter()
        subprocess.run(["python-lambda-local", "-f", "handler", str(code / "app.py"), str(event)],
                       check=True, capture_output=True)  # fmt: skip
        cli.append((time.perf_counter() - started) * 1000)
    return api, cli


def main(ops: int, invokes: int) -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "t")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "t")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        code = root / "code"
        code.mkdir()
        (code / "app.py").write_text(HANDLER)
        port = free_port()
        (root / "eventsim.yaml").write_text(
            f"state_dir: state\nserver: {{port: {port}}}\n"
            f"functions:\n  echo: {{handler: app.handler, code: {code}}}\n"
        )
        eventsim_url, moto_port = f"http://127.0.0.1:{port}", free_port()
        moto_url = f"http://127.0.0.1:{moto_port}"
        results: dict[str, dict[int, tuple[float, int]]] = {"eventsim": {}, "moto": {}}
        up = [sys.executable, "-m", "eventsim", "up", "-c", str(root / "eventsim.yaml"),
              "--log-level", "warning"]  # fmt: skip
        with server(up, f"{eventsim_url}/_eventsim/health"):
            for depth in (0, 1000, 10_000):
                results["eventsim"][depth] = sqs_ops_per_s(eventsim_url, depth, ops)
            ours = invoke_ms(eventsim_url, invokes)
        with server(["moto_server", "-p", str(moto_port)], f"{moto_url}/moto-api/"):
            for depth in (0, 1000, 10_000):
                results["moto"][depth] = sqs_ops_per_s(moto_url, depth, ops)
        api, cli = lambda_local_ms(code, max(10, invokes // 10))

    print("boto3 SQS send+receive+delete, operations/s (one client, sequential)")
    print(f"{'depth':>8}{'eventsim':>12}{'moto server':>14}{'ratio':>9}")
    for depth in (0, 1000, 10_000):
        (e, _), (m, reached) = results["eventsim"][depth], results["moto"][depth]
        note = (
            f"  (moto filled only {reached:,} in {FILL_BUDGET_S:.0f} s)" if reached < depth else ""
        )
        print(f"{depth:>8}{e:>12,.0f}{m:>14,.0f}{e / m:>8.1f}x{note}")
    print("\nLambda invoke, ms per invoke (median / p99)")
    for label, values in (
        ("eventsim edge, boto3 invoke (warm)", ours),
        ("python-lambda-local call() (a process per invoke)", api),
        ("python-lambda-local command line", cli),
    ):
        p99 = sorted(values)[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
        print(f"  {label:<52}{statistics.median(values):>8.2f}{p99:>8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--invokes", type=int, default=300)
    args = parser.parse_args()
    main(args.ops, args.invokes)
