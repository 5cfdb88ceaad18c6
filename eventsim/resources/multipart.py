"""Multipart uploads of one bucket (S3's CreateMultipartUpload ... CompleteMultipartUpload).

Parts are files under ``state_dir/buckets/<bucket>.uploads/<upload id>/`` — outside the bucket
folder, so the watcher never sees them — and the uploads and their parts are rows of the
bucket's manifest, so an upload survives a restart as it survives in S3 until completed or
aborted. Completing concatenates the chosen parts into a temporary file in the bucket folder,
renamed into place and announced as ``ObjectCreated:CompleteMultipartUpload`` with S3's
multipart ETag (the MD5 of the parts' MD5s, ``-`` and the number of parts).

Example::

    uploads = Uploads(bucket)
    upload = uploads.create("big.bin", Metadata(), now)
    part = await uploads.put_part(upload.upload_id, 1, body)
    change = await uploads.complete(upload.upload_id, [(1, part.etag)])
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path

from ..errors import MultipartError
from .bucket import Body, BucketSource, Check, ObjectChange
from .manifest import Part, Upload
from .objects import Digests, Metadata, multipart_etag

#: S3's bounds: part numbers, and the least size of every part but the last.
MAX_PARTS = 10_000
MIN_PART_BYTES = 5 * 1024**2


def _no_such_upload(upload_id: str) -> MultipartError:
    return MultipartError(
        "NoSuchUpload",
        f"The specified upload does not exist. The upload ID may be invalid, or the upload "
        f"may have been aborted or completed ({upload_id})",
        404,
    )


class Uploads:
    """The multipart uploads of ``bucket``."""

    def __init__(self, bucket: BucketSource) -> None:
        self._bucket = bucket
        self.folder = bucket.state_folder / f"{bucket.name}.uploads"

    def create(self, key: str, metadata: Metadata, now: datetime) -> Upload:
        self._bucket.path_of(key)  # refuse a key that cannot be stored before any part comes
        upload = Upload(uuid.uuid4().hex, key, now.isoformat(), metadata)
        self._bucket.manifest.add_upload(upload)
        return upload

    def get(self, upload_id: str, key: str | None = None) -> Upload:
        upload = self._bucket.manifest.upload(upload_id)
        if upload is None or (key is not None and upload.key != key):
            raise _no_such_upload(upload_id)
        return upload

    def in_progress(self, prefix: str = "", limit: int = 1000) -> list[Upload]:
        return self._bucket.manifest.uploads(prefix, limit)

    def parts(self, upload_id: str, after: int = 0, limit: int = 1000) -> list[Part]:
        return self._bucket.manifest.parts(upload_id, after, limit)

    async def put_part(
        self,
        upload_id: str,
        number: int,
        body: Body,
        *,
        now: datetime,
        algorithms: tuple[str, ...] = (),
        check: Check | None = None,
    ) -> Part:
        """Store part ``number`` (replacing an earlier one of that number)."""
        self.get(upload_id)
        if not 1 <= number <= MAX_PARTS:
            raise MultipartError(
                "InvalidArgument", f"Part number must be an integer between 1 and {MAX_PARTS}"
            )
        folder = self.folder / upload_id
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        temporary, digests = await self._bucket.receive(body, algorithms, folder)
        try:
            if check is not None:
                check(digests)
            await asyncio.to_thread(os.replace, temporary, folder / str(number))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        part = Part(number, digests.size, digests.etag, digests.checksums(), now.isoformat())
        if self._bucket.manifest.upload(upload_id) is None:  # aborted meanwhile
            await asyncio.to_thread(shutil.rmtree, folder, True)
            raise _no_such_upload(upload_id)
        self._bucket.manifest.put_part(upload_id, part)
        return part

    async def complete(self, upload_id: str, chosen: list[tuple[int, str]]) -> ObjectChange:
        """Join the ``chosen`` parts (number, ETag), in that order, into the object."""
        upload = self.get(upload_id)
        if not chosen:
            raise MultipartError(
                "MalformedXML", "You must specify at least one part to complete an upload"
            )
        numbers = [number for number, _ in chosen]
        if numbers != sorted(set(numbers)):
            raise MultipartError(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part "
                "number.",
            )
        stored = {part.number: part for part in self.parts(upload_id, limit=MAX_PARTS)}
        parts = []
        for number, etag in chosen:
            part = stored.get(number)
            if part is None or part.etag != etag.strip().strip('"'):
                raise MultipartError(
                    "InvalidPart",
                    f"One or more of the specified parts could not be found. The part may not "
                    f"have been uploaded, or the specified entity tag may not match the part's "
                    f"entity tag (part {number})",
                )
            parts.append(part)
        for part in parts[:-1]:
            if part.size < MIN_PART_BYTES:
                raise MultipartError(
                    "EntityTooSmall",
                    f"Your proposed upload is smaller than the minimum allowed object size "
                    f"(part {part.number} is {part.size} bytes; every part but the last must "
                    f"be at least {MIN_PART_BYTES})",
                )
        folder = self.folder / upload_id
        temporary = self._bucket.temporary()
        files = [folder / str(part.number) for part in parts]
        await asyncio.to_thread(_concatenate, files, temporary)
        etag = multipart_etag(bytes.fromhex(part.etag) for part in parts)
        metadata = upload.metadata.replace(
            parts=len(parts), part_sizes=tuple(part.size for part in parts)
        )
        change = await self._bucket.commit(
            upload.key, temporary, etag, kind="CompleteMultipartUpload", metadata=metadata
        )
        await self._drop(upload_id)
        return change

    async def abort(self, upload_id: str) -> None:
        self.get(upload_id)
        await self._drop(upload_id)

    async def _drop(self, upload_id: str) -> None:
        self._bucket.manifest.drop_upload(upload_id)
        await asyncio.to_thread(shutil.rmtree, self.folder / upload_id, True)

    async def copy_part(self, upload_id: str, number: int, source: Body, *, now: datetime) -> Part:
        """Part ``number`` from (a range of) another object's bytes."""
        return await self.put_part(upload_id, number, source, now=now)


def _concatenate(files: list[Path], target: Path) -> None:
    try:
        with open(target, "xb") as out:
            for path in files:
                with open(path, "rb") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def part_digests(algorithms: tuple[str, ...]) -> Digests:
    return Digests(algorithms)
