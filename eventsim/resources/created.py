"""Buckets made at run time (S3's CreateBucket): a folder each under ``state_dir/s3/``.

They last across restarts: at start, every folder there named as a bucket is one (besides the
config's). Deleting one (DeleteBucket, refused by the API unless it is empty) removes its
folder, its manifest and its uploads' folder.

Example::

    configs = created_buckets(state_dir, taken=config.buckets)   # {"scratch": BucketConfig}
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Collection
from pathlib import Path

from ..config import BucketConfig
from ..state import part_files
from .bucket import BucketSource

FOLDER = "s3"
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def bucket_config(state_dir: Path, name: str) -> BucketConfig:
    """The config of the bucket ``name`` made at run time."""
    return BucketConfig(path=state_dir / FOLDER / name)


def created_buckets(state_dir: Path, taken: Collection[str]) -> dict[str, BucketConfig]:
    """The buckets made at run time by earlier runs (a config bucket of the same name wins)."""
    root = state_dir / FOLDER
    if not root.is_dir():
        return {}
    return {
        entry.name: bucket_config(state_dir, entry.name)
        for entry in sorted(os.scandir(root), key=lambda e: e.name)
        if entry.is_dir(follow_symlinks=False) and _NAME.match(entry.name)
        and entry.name not in taken
    }  # fmt: skip


async def remove_bucket(bucket: BucketSource, state_dir: Path) -> None:
    """Stop ``bucket`` and remove its folder (emptied of folders only) and its state."""
    await bucket.stop()

    def remove() -> None:
        for folder, _, files in os.walk(bucket.root, topdown=False):
            for name in files:  # only names never announced remain (the API checked)
                os.unlink(os.path.join(folder, name))
            os.rmdir(folder)
        shutil.rmtree(bucket.state_folder / f"{bucket.name}.uploads", ignore_errors=True)
        for path in part_files(state_dir, f"buckets/{bucket.name}"):
            path.unlink(missing_ok=True)

    await asyncio.to_thread(remove)
