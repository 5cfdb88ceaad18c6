"""Run every bench with its defaults, one after another, each in a fresh process; print each
one's output and wall time, then a summary of the ratios and the total wall time.

    python bench/all.py [--only invoke,sqs] [--json run.jsonl]

The defaults are chosen so that the whole set takes under 10 minutes on a 2-core machine that
others share. Each bench measures eventsim against a floor or a peer in paired interleaved
rounds (``bench/_rounds.py``); the summary gives, per measure, the medians of eventsim and of
the floor and the per-round ratio eventsim / floor as min / median / max. ``--json`` keeps
every row (each round's values) with the machine's description, to compare runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _rounds import number

HERE = Path(__file__).resolve().parent
BENCHES = ["invoke", "sqs", "dynamodb", "schedule", "s3_latency", "recovery", "s3_api", "edge",
           "soak", "scale"]  # fmt: skip


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": model or platform.processor(),
            "python": platform.python_version(), "load": os.getloadavg()}  # fmt: skip


def run(bench: str, rows: Path) -> tuple[float, int]:
    """Run one bench, its output passed through; its wall seconds and exit status."""
    print(f"\n=== python bench/{bench}.py", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "BENCH_JSON": str(rows)}
    status = subprocess.run([sys.executable, str(HERE / f"{bench}.py")], env=env).returncode
    elapsed = time.perf_counter() - started
    print(f"=== {bench}: {elapsed:.1f} s{'' if status == 0 else f', exit status {status}'}")
    return elapsed, status


def summary(rows: list[dict[str, Any]], times: dict[str, tuple[float, int]]) -> None:
    print(f"\n{'summary (medians)':<62}{'eventsim':>10}{'floor':>10}   ratio min / median / max")
    for bench, (elapsed, status) in times.items():
        print(f"{bench} ({elapsed:.0f} s{'' if status == 0 else ', FAILED'})")
        for row in (r for r in rows if r["bench"] == bench):
            label = str(row.get("label", "")).strip()[:60]
            if "ratios" in row:
                low, mid, high = (number(v) for v in _spread(row["ratios"]))
                print(f"  {label:<60}{number(statistics.median(row['ours'])):>10}"
                      f"{number(statistics.median(row['floor'])):>10}   {low} / {mid} / {high}"
                      f"  ({row['unit']}; vs {row['floor_name']})")  # fmt: skip
            elif "vs_smallest" in row:
                print(f"  {label:<60}{number(statistics.median(row['values'])):>10}{'':>10}   "
                      f"{row['vs_smallest']:.2f}x the smallest size ({row['unit']}); stall "
                      f"{row['stall_ms']:.1f} ms, rss {row['rss_mb']:.0f} MB")  # fmt: skip
            elif "values" in row:
                print(
                    f"  {label:<60}{number(statistics.median(row['values'])):>10}{'':>10}   "
                    f"({row['unit']})"
                )
            elif "target" in row:
                print(f"  target {'met   ' if row['met'] else 'MISSED'} {row['target']}")


def _spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def main(only: list[str], keep: Path | None) -> None:
    started = time.perf_counter()
    about = machine()
    print(f"machine: {about['cpus']} CPUs, {about['cpu']}, Python {about['python']}, "
          f"load average {' '.join(f'{x:.1f}' for x in about['load'])}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        rows_file = Path(tmp) / "rows.jsonl"
        rows_file.touch()
        times = {bench: run(bench, rows_file) for bench in only}
        rows = [json.loads(line) for line in rows_file.read_text().splitlines()]
    total = time.perf_counter() - started
    summary(rows, times)
    print(f"\ntotal wall time: {total:.0f} s ({total / 60:.1f} min) for {len(only)} benches")
    if keep is not None:
        about["load_after"] = os.getloadavg()
        benches = {b: {"seconds": t, "status": s} for b, (t, s) in times.items()}
        header = {"machine": about, "total_s": total, "benches": benches}
        keep.write_text("\n".join(json.dumps(r) for r in [header, *rows]) + "\n")
    if any(status for _, status in times.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(BENCHES), help="benches to run, in order")
    parser.add_argument("--json", type=Path, help="keep every row here (JSON lines)")
    args = parser.parse_args()
    main(args.only.split(","), args.json)
