"""The S3 API through boto3: eventsim next to moto's server mode and to floors, in paired
rounds of one run.

    python bench/s3_api.py [--rounds 5] [--small 100] [--large 5] [--keys 10000] [--gb 0.25]

Both servers run in child processes of their own (neither shares the client's GIL), on
127.0.0.1; one boto3 client per server, same options. The rounds alternate (eventsim, peer or
floor, eventsim...), printed as min / median / max over the rounds with the per-round ratio
eventsim / peer (``bench/_rounds.py``):

* PutObject + GetObject round trips of a 1 KB and a 10 MB object, ms per pair. Peer: moto;
* ListObjectsV2 over ``--keys`` keys, every page of 1,000 through boto3's paginator, ms.
  Floor: the same pages' XML parsed by botocore alone, which no server can beat (on a 2-core
  machine it takes most of a second);
* the same pages fetched over plain HTTP without parsing them (the server's side), ms. Peer:
  moto. The keys are in place before the rounds (eventsim's as files in the bucket folder
  before it starts, moto's through its backend in its process) and a first listing, not
  counted, computes eventsim's ETags;
* a ``--gb`` GB single PutObject (streamed from a file) and its GetObject, s. Floor: copying
  the same file on the same disk, and reading it back; and the eventsim process's peak RSS
  growth over its RSS before (``VmHWM``, Linux), MB, per round.

Targets (issue #15): small-object round trips >= 2x moto (a ratio <= 0.5); listing 10,000
keys under 100 ms (plain HTTP); a 1 GB upload (``--gb 1``) with peak RSS growth under 64 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import requests
from _rounds import measure, rounds, single, table, target
from botocore.config import Config as BotoConfig

SERVE_EVENTSIM = """
import asyncio, sys
from pathlib import Path
from eventsim import Simulator

async def main(folder, keys):
    listed = Path(folder) / "bucket" / "list"
    listed.mkdir(parents=True)
    for n in range(keys):  # objects are files: the keys to list, in place before the start
        (listed / f"{n:06d}").write_bytes(b"x")
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
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""

SERVE_MOTO = """
import socket, sys
from moto.server import ThreadedMotoServer
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
port, keys = int(sys.argv[1]), int(sys.argv[2])
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
backend.create_bucket("bench", "us-east-1")
for n in range(keys):  # the keys to list, in place before the rounds
    backend.put_object("bench", f"list/{n:06d}", b"x")
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


class ParseFloor:
    """botocore parsing eventsim's pages, no server: the least a listing can cost a client."""

    def __init__(self, server: Server) -> None:
        client = server.client
        self.shape = client.meta.service_model.operation_model("ListObjectsV2").output_shape
        self.parser = client._response_parser  # noqa: SLF001 - the floor is botocore's own parser
        self.pages: list[dict[str, Any]] = []
        token = None
        while True:
            params = {"list-type": "2", "prefix": "list/", "encoding-type": "url"}
            if token:
                params["continuation-token"] = token
            answer = requests.get(f"{server.url}/bench", params=params)
            self.pages.append(
                {"body": answer.content, "headers": answer.headers, "status_code": 200}
            )
            token = self.parser.parse(self.pages[-1], self.shape).get("NextContinuationToken")
            if not token:
                break

    def ms(self) -> float:
        started = time.perf_counter()
        for page in self.pages:
            self.parser.parse(page, self.shape)
        return (time.perf_counter() - started) * 1e3


class BigObject:
    """A ``gigabytes`` file through PutObject and GetObject, next to a copy on the same disk."""

    def __init__(self, server: Server, folder: Path, gigabytes: float) -> None:
        self.server, self.folder = server, folder
        self.path = folder / "big.bin"
        self.size = int(gigabytes * 1024**3)
        with open(self.path, "wb") as file:
            block = os.urandom(1 << 20)
            for _ in range(self.size // len(block)):
                file.write(block)
        self.size = self.path.stat().st_size
        self.growth_mb: list[float] = []  # peak RSS growth of each PutObject and GetObject

    def put_s(self) -> float:
        before = self.server.rss_kb()
        self.server.reset_peak()
        started = time.perf_counter()
        with open(self.path, "rb") as file:
            self.server.client.put_object(Bucket="bench", Key="big.bin", Body=file)
        elapsed = time.perf_counter() - started
        self.growth_mb.append((self.server.rss_kb("VmHWM") - before) / 1024)
        return elapsed

    def copy_s(self) -> float:
        started = time.perf_counter()
        shutil.copyfile(self.path, self.folder / "copy.bin")
        return time.perf_counter() - started

    def get_s(self) -> float:
        before = self.server.rss_kb()
        self.server.reset_peak()
        started = time.perf_counter()
        body = self.server.client.get_object(Bucket="bench", Key="big.bin")["Body"]
        received = sum(len(chunk) for chunk in iter(lambda: body.read(1 << 20), b""))
        elapsed = time.perf_counter() - started
        self.growth_mb.append((self.server.rss_kb("VmHWM") - before) / 1024)
        assert received == self.size
        return elapsed

    def read_s(self) -> float:
        started = time.perf_counter()
        with open(self.folder / "copy.bin", "rb") as file:
            received = sum(len(chunk) for chunk in iter(lambda: file.read(1 << 20), b""))
        assert received == self.size
        return time.perf_counter() - started


def big_object(server: Server, folder: Path, gigabytes: float, n: int) -> None:
    big = BigObject(server, folder, gigabytes)
    puts = rounds(n, big.put_s, big.copy_s)
    gets = rounds(n, big.get_s, big.read_s)
    table(f"a {gigabytes:g} GB object, streamed", [
        measure("PutObject", "s", "file-copy floor", puts),
        measure("GetObject", "s", "file-read floor", gets),
    ])  # fmt: skip
    single("  eventsim's peak RSS growth, each PutObject and GetObject", "MB", big.growth_mb)
    peak = max(big.growth_mb)
    target(f"a {gigabytes:g} GB upload, peak RSS growth under 64 MB (max {peak:.1f} MB)", peak < 64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--small", type=int, default=100, help="1 KB round trips per round")
    parser.add_argument("--large", type=int, default=5, help="10 MB round trips per round")
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--gb", type=float, default=0.25, help="0 to skip")
    args = parser.parse_args()
    n = args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours = Server("eventsim", SERVE_EVENTSIM, str(folder), str(args.keys))
        moto = Server("moto", SERVE_MOTO, str(free_port()), str(args.keys))
        try:
            for server in (ours, moto):  # warm up: connections, first imports, ETags
                round_trips(b"w", 20)(server)
                listing(args.keys)(server)
            small, large = (
                round_trips(os.urandom(1024), args.small),
                round_trips(os.urandom(10 << 20), args.large),
            )
            listed, raw = listing(args.keys), listing_raw(args.keys)
            floor = ParseFloor(ours)
            round_trip_rows = [
                measure("PutObject + GetObject, 1 KB, per pair", "ms", "moto",
                        rounds(n, partial(small, ours), partial(small, moto))),
                measure("PutObject + GetObject, 10 MB, per pair", "ms", "moto",
                        rounds(n, partial(large, ours), partial(large, moto))),
            ]  # fmt: skip
            table("S3 object round trips through boto3", round_trip_rows)
            listings = [
                measure(f"ListObjectsV2, {args.keys:,} keys, all pages, boto3", "ms",
                        "botocore-parse floor", rounds(n, partial(listed, ours), floor.ms)),
                measure(f"ListObjectsV2, {args.keys:,} keys, all pages, plain HTTP", "ms",
                        "moto", rounds(n, partial(raw, ours), partial(raw, moto))),
            ]  # fmt: skip
            table("listings", listings)
            ratio = statistics.median(round_trip_rows[0].ratios)
            target(f"1 KB round trips >= 2x moto (time ratio {ratio:.2f} <= 0.5)", ratio <= 0.5)
            raw_ms = statistics.median(listings[1].ours)
            target(f"listing {args.keys:,} keys under 100 ms (plain HTTP, median {raw_ms:.0f} ms)",
                   raw_ms < 100)  # fmt: skip
            moto.stop()
            if args.gb > 0:
                big_object(ours, folder, args.gb, n)
        finally:
            for server in (ours, moto):
                server.stop()


if __name__ == "__main__":
    main()
