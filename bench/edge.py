"""boto3 against eventsim's edge, next to its peers, in paired rounds of one run.

    pip install -e '.[bench]'
    python bench/edge.py [--rounds 5] [--ops 300] [--depths 0,1000] [--invokes 200]

``eventsim up`` and moto's server mode (``moto_server``) run at the same time, each in its
own process; the rounds alternate between them (eventsim, peer, eventsim, peer...), printed
as min / median / max over the rounds with the per-round ratio eventsim / peer
(``bench/_rounds.py``):

* SQS: one boto3 client doing send + receive + delete, operations/s, with each of
  ``--depths`` messages standing in the queue (filled once; moto's sends slow down as its
  queue grows, so filling stops after 60 s and the label says the depth reached); a round
  stops after ``--ops`` cycles or 3 s. Peer: moto's server;
* Lambda: boto3 ``invoke`` round trip of a trivial handler through ``eventsim up`` (warm,
  process isolation), median ms of ``--invokes`` per round. Peer: python-lambda-local's
  ``call()`` (a fresh process per invoke), median of a tenth as many;
* one-off: ``eventsim invoke`` on the command line (start, spawn, invoke, stop), ms. Peer:
  python-lambda-local's command line.

python-lambda-local 0.1.13 imports ``pkg_resources``, which setuptools 81 and later no longer
ship; when it is missing, the bench gives it a stand-in that answers its one question (its
own version).
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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import boto3
from _rounds import Measure, measure, rounds, table
from botocore.config import Config as BotoConfig

#: A round of SQS operations stops after this many seconds (a slow peer at depth).
BUDGET_S = 3.0
#: Filling a queue stops after this many seconds (moto's sends slow down as the queue grows).
FILL_BUDGET_S = 60.0
HANDLER = "def handler(event, context):\n    return event\n"
#: Stands in for ``pkg_resources`` where setuptools no longer has it (see the docstring).
PKG_RESOURCES = """\
from importlib.metadata import version


class _Distribution:
    def __init__(self, name):
        self.version = version(name)


def require(name):
    return [_Distribution(name)]
"""


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


class Queue:
    """One queue on one server, filled to ``depth`` standing messages (or as far as 60 s go)."""

    def __init__(self, url: str, depth: int) -> None:
        self.sqs = client("sqs", url)
        self.url = self.sqs.create_queue(QueueName=f"bench-{depth}")["QueueUrl"]
        filling, self.reached = time.perf_counter(), 0
        while self.reached < depth and time.perf_counter() - filling < FILL_BUDGET_S:
            entries = [{"Id": str(i), "MessageBody": f"standing {i}"} for i in range(10)]
            entries = entries[: depth - self.reached]
            self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            self.reached += len(entries)

    def ops_per_s(self, ops: int) -> float:
        started = time.perf_counter()
        done = 0
        while done < ops and time.perf_counter() - started < BUDGET_S:
            self.sqs.send_message(QueueUrl=self.url, MessageBody=f"m{done}")
            received = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=1)
            for message in received.get("Messages", []):
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            done += 1
        return 3 * done / (time.perf_counter() - started)


def invoke_ms(lam: Any, n: int) -> float:
    """Median ms of ``n`` boto3 invokes through the edge."""
    times = []
    for i in range(n):
        started = time.perf_counter()
        response = lam.invoke(FunctionName="echo", Payload=json.dumps({"i": i}).encode())
        response["Payload"].read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def lambda_local(code: Path, shim: Path) -> Callable[[int], float]:
    """python-lambda-local's ``call()``, as median ms of ``n`` calls."""
    if importlib.util.find_spec("pkg_resources") is None:
        sys.path.insert(0, str(shim))
    from lambda_local.context import Context  # noqa: PLC0415 - after the stand-in, if needed
    from lambda_local.main import call  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("app", code / "app.py")
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    logging.getLogger().setLevel(logging.WARNING)  # python-lambda-local logs every call

    def median_ms(n: int) -> float:
        times = []
        for i in range(n):
            started = time.perf_counter()
            call(app.handler, {"i": i}, Context(3))
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    return median_ms


def command_ms(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return (time.perf_counter() - started) * 1000


def main(rounds_: int, ops: int, depths: list[int], invokes: int) -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "t")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "t")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        root = Path(tmp)
        code, shim = root / "code", root / "shim"
        code.mkdir()
        shim.mkdir()
        (code / "app.py").write_text(HANDLER)
        (shim / "pkg_resources.py").write_text(PKG_RESOURCES)
        port, moto_port = free_port(), free_port()
        function = f"functions:\n  echo: {{handler: app.handler, code: {code}}}\n"
        (root / "eventsim.yaml").write_text(f"state_dir: state\nserver: {{port: {port}}}\n"
                                            + function)  # fmt: skip
        (root / "one-off.yaml").write_text(f"state_dir: one-off\n{function}")
        eventsim_url, moto_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{moto_port}"
        up = [sys.executable, "-m", "eventsim", "up", "-c", str(root / "eventsim.yaml"),
              "--log-level", "warning"]  # fmt: skip
        servers.enter_context(server(up, f"{eventsim_url}/_eventsim/health"))
        servers.enter_context(server(["moto_server", "-p", str(moto_port)],
                                     f"{moto_url}/moto-api/"))  # fmt: skip

        sqs: list[Measure] = []
        for depth in depths:
            ours, theirs = Queue(eventsim_url, depth), Queue(moto_url, depth)
            pair = rounds(rounds_, partial(ours.ops_per_s, ops), partial(theirs.ops_per_s, ops))
            note = (
                f" (moto filled only {theirs.reached:,} in 60 s)" if theirs.reached < depth else ""
            )
            sqs.append(measure(f"{depth:,} messages standing{note}", "ops/s", "moto server", pair))

        lam = client("lambda", eventsim_url)
        lam.invoke(FunctionName="echo", Payload=b"{}")  # cold start outside
        peer = lambda_local(code, shim)
        peer(3)
        calls = max(5, invokes // 10)
        invoke = rounds(rounds_, partial(invoke_ms, lam, invokes), partial(peer, calls))

        event = root / "event.json"
        event.write_text("{}")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(shim), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
        config = str(root / "one-off.yaml")
        one_off = [sys.executable, "-m", "eventsim", "invoke", "echo", "-c", config, "-e",
                   str(event), "--log-level", "error"]  # fmt: skip
        theirs_cli = ["python-lambda-local", "-f", "handler", str(code / "app.py"), str(event)]
        cli = rounds(rounds_, partial(command_ms, one_off), partial(command_ms, theirs_cli, env))

    table("boto3 SQS send + receive + delete, one client, sequential", sqs)
    table(
        "Lambda invoke",
        [
            measure(f"boto3 invoke via the edge, warm ({invokes}/round; peer {calls})", "ms",
                    "python-lambda-local call()", invoke),
            measure("command line, one invoke", "ms", "python-lambda-local CLI", cli),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=300, help="SQS cycles per round at most")
    parser.add_argument("--depths", default="0,1000", help="standing messages (e.g. 0,1000,10000)")
    parser.add_argument("--invokes", type=int, default=200, help="edge invokes per round")
    args = parser.parse_args()
    main(args.rounds, args.ops, [int(d) for d in args.depths.split(",")], args.invokes)
