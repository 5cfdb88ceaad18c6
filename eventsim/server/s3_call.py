"""One S3 request as the operations see it: the bucket and key it names (see s3_api.py for
how they are told), and S3's two most common refusals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from ..errors import ApiError
from ..resources.bucket import BucketSource

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
