"""Where the files that jobs build (posters, exports) wait for their download: chosen by LOOPDESK_FILE_STORE.

- ``folder`` (the embedded default): LOOPDESK_JOB_FILES, else ``instance/job_files``. One server,
  or a folder every server and worker mounts.
- ``database``: in the app's own database (PostgreSQL in production), in pieces of
  ``CHUNK_BYTES``: every server and worker reads it with no shared disk and no other service.
- ``s3``: an S3-compatible bucket (AWS, MinIO, Ceph, OSS…) through boto3 (``pip install
  loopdesk[s3]``): LOOPDESK_S3_BUCKET, LOOPDESK_S3_ENDPOINT_URL, LOOPDESK_S3_PREFIX, and boto3's
  own credentials (AWS_ACCESS_KEY_ID…).

Nothing is ever held whole in memory: a finished file is handed over from a local temporary file
and read back a piece at a time. A file is named by a key the store chose; the key and the store's
name are kept with the job run, so a run finished before the setting changed is still found.
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Protocol

from flask import current_app
from sqlalchemy import delete, func, insert, select

from app.extensions import db
from app.models import FileChunk

#: One piece of a file in the database, and one read from any store: 1 MiB.
CHUNK_BYTES = 1 << 20

NAMES = ("folder", "database", "s3")


class FileStore(Protocol):
    name: str

    def put(self, key: str, path: str) -> int:
        """Keep the local file at ``path`` under ``key`` (the file is moved or copied); its size."""

    def chunks(self, key: str) -> Iterator[bytes]:
        """The file's bytes, a piece at a time; FileNotFoundError (at once) when there is none."""

    def local_path(self, key: str) -> str | None:
        """A path this server can send the file from directly, when the store has one."""

    def delete(self, key: str) -> None:
        """Forget the file (no error when it is gone already)."""


def current() -> FileStore:
    """The store new files go to: LOOPDESK_FILE_STORE."""
    return named(current_app.config.get("LOOPDESK_FILE_STORE") or "folder")


def named(name: str) -> FileStore:
    if name == "folder":
        return FolderStore(folder())
    if name == "database":
        return DatabaseStore()
    if name == "s3":
        config = current_app.config
        return S3Store(config["LOOPDESK_S3_BUCKET"], config.get("LOOPDESK_S3_PREFIX") or "",
                       config.get("LOOPDESK_S3_ENDPOINT_URL") or None)
    raise ValueError(f"LOOPDESK_FILE_STORE must be one of {', '.join(NAMES)}, not {name!r}")


def check_settings(config) -> None:
    """At start-up: a store that cannot work is named at once, not at the first export."""
    name = config.get("LOOPDESK_FILE_STORE") or "folder"
    if name not in NAMES:
        raise ValueError(f"LOOPDESK_FILE_STORE must be one of {', '.join(NAMES)}, not {name!r}")
    if name == "s3" and not config.get("LOOPDESK_S3_BUCKET"):
        raise ValueError("LOOPDESK_FILE_STORE=s3 needs LOOPDESK_S3_BUCKET")


def folder() -> str:
    """LOOPDESK_JOB_FILES, else instance/job_files: the folder store's files, and every store's work in progress."""
    path = current_app.config.get("LOOPDESK_JOB_FILES") or os.path.join(current_app.instance_path, "job_files")
    os.makedirs(path, exist_ok=True)
    return path


def scratch_file(prefix: str) -> str:
    """A new local file a job writes before handing it to the store (beside the folder store's, so it moves)."""
    handle, path = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=folder())
    os.close(handle)
    return path


class _ChunkReader(io.RawIOBase):
    """A read-only binary file over an iterator of pieces (for send_file, openpyxl, zipfile…)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces, self._piece, self._at = pieces, memoryview(b""), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._at >= len(self._piece):
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._piece, self._at = memoryview(piece), 0
        n = min(len(buffer), len(self._piece) - self._at)
        buffer[:n] = self._piece[self._at:self._at + n]
        self._at += n
        return n

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()  # a generator gives its database connection back
        super().close()


def open_file(store: FileStore, key: str) -> io.BufferedReader:
    """The stored file as a binary file read a piece at a time; FileNotFoundError when there is none."""
    return io.BufferedReader(_ChunkReader(iter(store.chunks(key))), buffer_size=CHUNK_BYTES)


def copy_to(store: FileStore, key: str, out) -> int:
    """Write the stored file to the binary stream ``out``; its size."""
    size = 0
    for piece in store.chunks(key):
        out.write(piece)
        size += len(piece)
    return size


class FolderStore:
    name = "folder"

    def __init__(self, root: str) -> None:
        self.root = root

    def _path(self, key: str) -> str:
        return os.path.join(self.root, os.path.basename(key))

    def put(self, key: str, path: str) -> int:
        final = self._path(key)
        shutil.move(path, final)  # a rename: scratch files are made in this folder
        return os.path.getsize(final)

    def chunks(self, key: str) -> Iterator[bytes]:
        return self._pieces(open(self._path(key), "rb"))

    @staticmethod
    def _pieces(source) -> Iterator[bytes]:
        with source:
            while piece := source.read(CHUNK_BYTES):
                yield piece

    def local_path(self, key: str) -> str | None:
        path = self._path(key)
        return path if os.path.exists(path) else None

    def delete(self, key: str) -> None:
        try:
            os.remove(self._path(key))
        except FileNotFoundError:
            pass


class DatabaseStore:
    """Pieces in ``file_chunks``, written through Core inserts (the session keeps none of them).

    Like every operation it leaves the commit to the caller (``job_runs.build``)."""

    name = "database"

    def put(self, key: str, path: str) -> int:
        size = 0
        self.delete(key)
        with open(path, "rb") as source:
            seq = 0
            while piece := source.read(CHUNK_BYTES):
                db.session.execute(insert(FileChunk).values(key=key, seq=seq, data=piece))
                size += len(piece)
                seq += 1
        os.remove(path)
        return size

    def chunks(self, key: str) -> Iterator[bytes]:
        """Read on a connection of its own: a download streams on after its request's session is gone."""
        count = db.session.scalar(select(func.count()).select_from(FileChunk).where(FileChunk.key == key))
        if not count:
            raise FileNotFoundError(key)
        return self._pieces(db.engine, key, count)

    @staticmethod
    def _pieces(engine, key: str, count: int) -> Iterator[bytes]:
        with engine.connect() as connection:
            for seq in range(count):  # one piece per query: memory holds one piece at a time
                yield connection.scalar(select(FileChunk.data).where(FileChunk.key == key, FileChunk.seq == seq))

    def local_path(self, key: str) -> str | None:
        return None

    def delete(self, key: str) -> None:
        db.session.execute(delete(FileChunk).where(FileChunk.key == key))


class S3Store:
    name = "s3"

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None) -> None:
        import boto3  # only installs that choose S3 need it (loopdesk[s3])

        self.bucket, self.prefix = bucket, prefix
        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, path: str) -> int:
        size = os.path.getsize(path)
        self.client.upload_file(path, self.bucket, self._key(key))  # multipart above 8 MB, streamed from disk
        os.remove(path)
        return size

    def chunks(self, key: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from error
            raise
        return body.iter_chunks(CHUNK_BYTES)

    def local_path(self, key: str) -> str | None:
        return None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
