"""The S3 API through boto3: eventsim next to moto's server mode, in the same run.

    python bench/s3_api.py [--rounds 5] [--small 200] [--large 5] [--keys 10000] [--gb 1]

Both servers run in child processes of their own (neither shares the client's GIL), on
127.0.0.1; one boto3 client per server, same options. Measured in paired interleaved rounds
(eventsim, moto, eventsim, moto...), min/median/max over the rounds:

* PutObject + GetObject round trips of a 1 KB and a 10 MB object (per pair; ratio = moto's
  time / eventsim's, so 2.0x means eventsim is twice as fast);
* ListObjectsV2 over ``--keys`` keys, every page of 1,000 through boto3's paginator (the
  keys are written once beforehand), and the same pages fetched over plain HTTP without
  parsing them (the server's side); the floor beside them is the same pages' XML parsed by
  botocore alone, which no server can beat (on a 2-core machine it takes most of a second);
* a ``--gb`` GB single PutObject (streamed from a file) and its GetObject: the eventsim
  process's peak RSS growth over its RSS before (``VmHWM``, Linux).

Targets (issue #15): small-object round trips >= 2x moto; listing 10,000 keys under 100 ms;
a 1 GB upload with peak RSS growth under 64 MB.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config as BotoConfig

SERVE_EVENTSIM = """
import asyncio, sys
from eventsim import Simulator

async def main(folder):
    sim = Simulator.from_dict(
        {"buckets": {"bench": {"path": folder + "/bucket"}},
         "server": {"port": 0}},
        state_dir=folder + "/state", edge=True,
    )
    async with sim:
        print(sim.endpoint_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

import logging, structlog
logging.disable(logging.CRITICAL)
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
asyncio.run(main(sys.argv[1]))
"""

SERVE_MOTO = """
import socket, sys
from moto.server import ThreadedMotoServer
port = int(sys.argv[1])
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
print(f"http://127.0.0.1:{port}", flush=True)
sys.stdin.read()
server.stop()
"""


class Server:
    """A server in a child process; ``url`` once it listens."""

    def __init__(self, name: str, script: str, *args: str) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise SystemExit(f"{name} did not start")
        self.client = boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=BotoConfig(retries={"max_attempts": 1}, max_pool_connections=16),
        )  # fmt: skip

    def rss_kb(self, field: str = "VmRSS") -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def reset_peak(self) -> None:
        """Linux 4.0+: writing 5 to clear_refs resets VmHWM to the current RSS."""
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        except OSError:
            pass

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def summary(values: list[float]) -> str:
    return (
        f"min {min(values):8.3f}  median {statistics.median(values):8.3f}  max {max(values):8.3f}"
    )


def paired(
    servers: list[Server], rounds: int, operation: Callable[[Server], float]
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {s.name: [] for s in servers}
    for _ in range(rounds):
        for server in servers:  # A, B, A, B...
            times[server.name].append(operation(server))
    return times


def report(title: str, times: dict[str, list[float]], unit: str) -> None:
    print(title)
    for name, values in times.items():
        print(f"  {name:9} {summary(values)} {unit}")
    ours, theirs = times["eventsim"], times.get("moto")
    if theirs:
        ratios = [t / o for o, t in zip(ours, theirs, strict=True)]
        print(f"  moto/eventsim per round: {summary(ratios)} x (higher: eventsim faster)")


def round_trips(body: bytes, count: int) -> Callable[[Server], float]:
    def run(server: Server) -> float:
        client = server.client
        started = time.perf_counter()
        for n in range(count):
            key = f"rt/{n % 10}"
            client.put_object(Bucket="bench", Key=key, Body=body)
            client.get_object(Bucket="bench", Key=key)["Body"].read()
        return (time.perf_counter() - started) / count * 1e3

    return run


def fill(server: Server, keys: int) -> None:
    def put(n: int) -> None:
        server.client.put_object(Bucket="bench", Key=f"list/{n:06d}", Body=b"x")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(keys)))


def listing(keys: int) -> Callable[[Server], float]:
    def run(server: Server) -> float:
        paginator = server.client.get_paginator("list_objects_v2")
        started = time.perf_counter()
        found = sum(len(p["Contents"]) for p in paginator.paginate(Bucket="bench", Prefix="list/"))
        elapsed = time.perf_counter() - started
        assert found == keys, (server.name, found)
        return elapsed * 1e3

    return run


def listing_raw(keys: int) -> Callable[[Server], float]:
    """Every page fetched over plain HTTP, unparsed: the server's side of a listing."""
    session = requests.Session()

    def run(server: Server) -> float:
        started = time.perf_counter()
        token, pages = None, 0
        while True:
            params = {"list-type": "2", "prefix": "list/"}
            if token:
                params["continuation-token"] = token
            text = session.get(f"{server.url}/bench", params=params).text
            pages += 1
            start = text.find("<NextContinuationToken>")
            if start < 0:
                break
            end = text.find("</NextContinuationToken>", start)
            token = text[start + len("<NextContinuationToken>") : end]
        elapsed = time.perf_counter() - started
        assert pages == -(-keys // 1000), (server.name, pages)
        return elapsed * 1e3

    return run


def parse_floor(server: Server, rounds: int) -> list[float]:
    """botocore parsing the same pages, no server: the least a listing can cost a client."""
    client = server.client
    shape = client.meta.service_model.operation_model("ListObjectsV2").output_shape
    parser = client._response_parser  # noqa: SLF001 - the floor is botocore's own parser
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        params = {"list-type": "2", "prefix": "list/", "encoding-type": "url"}
        if token:
            params["continuation-token"] = token
        answer = requests.get(f"{server.url}/bench", params=params)
        pages.append({"body": answer.content, "headers": answer.headers, "status_code": 200})
        token = parser.parse(pages[-1], shape).get("NextContinuationToken")
        if not token:
            break
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for page in pages:
            parser.parse(page, shape)
        times.append((time.perf_counter() - started) * 1e3)
    return times


def big_object(server: Server, folder: Path, gigabytes: float) -> None:
    path = folder / "big.bin"
    size = int(gigabytes * 1024**3)
    with open(path, "wb") as file:
        block = os.urandom(1 << 20)
        for _ in range(size // len(block)):
            file.write(block)
    before = server.rss_kb()
    server.reset_peak()
    started = time.perf_counter()
    with open(path, "rb") as file:
        server.client.put_object(Bucket="bench", Key="big.bin", Body=file)
    put_s = time.perf_counter() - started
    put_peak = server.rss_kb("VmHWM")
    server.reset_peak()
    started = time.perf_counter()
    body = server.client.get_object(Bucket="bench", Key="big.bin")["Body"]
    received = sum(len(chunk) for chunk in iter(lambda: body.read(1 << 20), b""))
    get_s = time.perf_counter() - started
    get_peak = server.rss_kb("VmHWM")
    assert received == size
    print(f"{gigabytes:g} GB object, {server.name} (RSS before: {before / 1024:.1f} MB)")
    print(f"  PutObject {put_s:6.2f} s  peak RSS growth {(put_peak - before) / 1024:7.1f} MB")
    print(f"  GetObject {get_s:6.2f} s  peak RSS growth {(get_peak - before) / 1024:7.1f} MB")
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--small", type=int, default=200, help="1 KB round trips per round")
    parser.add_argument("--large", type=int, default=5, help="10 MB round trips per round")
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--gb", type=float, default=1.0, help="0 to skip")
    parser.add_argument("--no-moto", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        servers = [Server("eventsim", SERVE_EVENTSIM, str(folder))]
        if not args.no_moto:
            servers.append(Server("moto", SERVE_MOTO, str(free_port())))
            servers[1].client.create_bucket(Bucket="bench")
        try:
            for server in servers:  # warm up: connections, first imports
                round_trips(b"w", 20)(server)
            small = paired(servers, args.rounds, round_trips(os.urandom(1024), args.small))
            report("PutObject + GetObject, 1 KB (ms per pair)", small, "ms")
            large = paired(servers, args.rounds, round_trips(os.urandom(10 << 20), args.large))
            report("PutObject + GetObject, 10 MB (ms per pair)", large, "ms")
            for server in servers:
                fill(server, args.keys)
            listed = paired(servers, args.rounds, listing(args.keys))
            report(f"ListObjectsV2 over {args.keys:,} keys, all pages, boto3 (ms)", listed, "ms")
            raw = paired(servers, args.rounds, listing_raw(args.keys))
            report(f"ListObjectsV2 over {args.keys:,} keys, all pages, plain HTTP (ms)", raw, "ms")
            floor = parse_floor(servers[0], args.rounds)
            print(f"  floor: botocore parsing those pages alone: {summary(floor)} ms")
            if args.gb > 0:
                big_object(servers[0], folder, args.gb)
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
