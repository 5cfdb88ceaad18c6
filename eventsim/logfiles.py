"""``eventsim logs``: a function's log streams under ``state_dir/logs/<function>/``.

Each execution environment writes one stream file (see ``runtime.logs``); this prints the
last lines across them in time order, and with ``follow`` keeps printing what is appended
(polling the files twice a second, as ``tail -f`` does).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

FOLLOW_INTERVAL_S = 0.5


def _streams(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime)


def show(folder: Path, lines: int, follow: bool) -> None:
    streams = _streams(folder)
    tail: list[str] = []
    for path in streams:
        tail += path.read_text(encoding="utf-8", errors="replace").splitlines()
    for line in tail[-lines:] if lines > 0 else []:
        print(line)
    sys.stdout.flush()
    if not follow:
        if not streams:
            print(f"(no log yet in {folder})", file=sys.stderr)
        return
    offsets = {path: path.stat().st_size for path in streams}
    try:
        while True:
            time.sleep(FOLLOW_INTERVAL_S)
            for path in _streams(folder):
                size = path.stat().st_size
                start = offsets.get(path, 0)
                if size > start:
                    with path.open("rb") as file:
                        file.seek(start)
                        sys.stdout.write(file.read().decode("utf-8", "replace"))
                    sys.stdout.flush()
                    offsets[path] = size
    except KeyboardInterrupt:
        return
