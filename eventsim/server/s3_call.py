"""One S3 request as the operations see it: the bucket and key it names (see s3_api.py for
how they are told), and S3's most common refusals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from ..errors import ApiError, InvalidKey
from ..resources.bucket import MAX_KEY_BYTES, BucketSource

if TYPE_CHECKING:
    from ..simulator import Simulator


@dataclass
class Call:
    """An addressed S3 request."""

    request: web.Request
    sim: Simulator
    bucket_name: str | None
    key: str | None

    def buckets(self) -> Mapping[str, BucketSource]:
        return self.sim.buckets

    def bucket(self, name: str | None = None) -> BucketSource:
        """The named bucket (default: the request's); ``NoSuchBucket`` if there is none."""
        name = name or self.bucket_name
        assert name is not None
        bucket = self.sim.buckets.get(name)
        if bucket is None:
            raise no_such_bucket(name)
        return bucket

    def object_key(self) -> str:
        assert self.key is not None
        return self.key

    def now(self) -> datetime:
        return self.sim.clock.now()


def no_such_bucket(name: str) -> ApiError:
    return ApiError("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=name)


def no_such_key(key: str) -> ApiError:
    return ApiError("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def not_held(key: str, refused: InvalidKey) -> ApiError:
    """What a read of ``key`` answers when eventsim cannot hold it as a file (``dir/``,
    ``a//b``, ``../x``, a segment over 255 bytes, a path through a link): S3 holds any key,
    so to a client there is simply no such object, ``NoSuchKey`` (the message says why). An
    empty key, and one over S3's own 1,024 bytes, stay refused, as S3 refuses them."""
    if not key or _over_s3_limit(key):
        return ApiError(refused.code, str(refused), 400)
    return ApiError("NoSuchKey", f"The specified key does not exist. ({refused})", 404, Key=key)


def _over_s3_limit(key: str) -> bool:
    try:
        return len(key.encode()) > MAX_KEY_BYTES
    except UnicodeEncodeError:
        return False
