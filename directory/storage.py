"""Where uploaded files live: a folder on this machine (the default, so a
development checkout needs nothing) or a bucket of any S3-compatible store that
every web process shares (`STORAGE_URL=s3://bucket[/prefix]`).

A file is addressed by its kind ("photos", "documents") and the random name
uploads.store gave it. Nothing in the bucket is public: a view first checks who
is asking, then the backend sends the bytes with the view's headers.
"""

from __future__ import annotations

import io
import mimetypes
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import Response, send_file

KINDS = frozenset({"photos", "documents"})


class StoredFileMissing(FileNotFoundError):
    """No stored file has that kind and name (or the name could not be one we gave)."""


def check_name(kind: str, name: str) -> None:
    """Refuse anything but a plain file name of a known kind: no folders, no dot files."""
    if kind not in KINDS or not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
        raise StoredFileMissing(f"{kind}/{name}")


class Storage(Protocol):
    def put(self, kind: str, name: str, data: bytes, content_type: str) -> None: ...

    def read(self, kind: str, name: str) -> bytes: ...

    def delete(self, kind: str, name: str) -> None: ...

    def send(self, kind: str, name: str, **send_file_options: Any) -> Response: ...


class LocalStorage:
    """A folder on this machine: one process or one box, never several."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, kind: str, name: str) -> Path:
        check_name(kind, name)
        return self.root / kind / name

    def put(self, kind: str, name: str, data: bytes, content_type: str) -> None:
        path = self._path(kind, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def read(self, kind: str, name: str) -> bytes:
        path = self._path(kind, name)
        if not path.is_file():
            raise StoredFileMissing(f"{kind}/{name}")
        return path.read_bytes()

    def delete(self, kind: str, name: str) -> None:
        self._path(kind, name).unlink(missing_ok=True)

    def send(self, kind: str, name: str, **send_file_options: Any) -> Response:
        path = self._path(kind, name)
        if not path.is_file():
            raise StoredFileMissing(f"{kind}/{name}")
        return send_file(path, **send_file_options)


class S3Storage:
    """A bucket of an S3-compatible store (AWS S3, MinIO, Ceph...), shared by every process.

    boto3 finds the endpoint, keys and region in its standard places
    (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION,
    or an instance role). Objects are written private; the bucket needs no policy.
    """

    def __init__(self, bucket: str, prefix: str = "", client: Any = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            import boto3  # only a deployment with STORAGE_URL=s3://... pays for importing boto3

            client = boto3.client("s3")  # thread-safe: one per process, shared by its threads
        self.client = client

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def key(self, kind: str, name: str) -> str:
        check_name(kind, name)
        return f"{self.prefix}{kind}/{name}"

    def put(self, kind: str, name: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(kind, name), Body=data, ContentType=content_type)

    def _get(self, kind: str, name: str) -> dict:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(kind, name))
        except self.client.exceptions.NoSuchKey:
            raise StoredFileMissing(f"{kind}/{name}") from None

    def read(self, kind: str, name: str) -> bytes:
        return self._get(kind, name)["Body"].read()

    def delete(self, kind: str, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(kind, name))

    def send(self, kind: str, name: str, **send_file_options: Any) -> Response:
        found = self._get(kind, name)
        with found["Body"] as body:
            data = body.read()  # at most a few MB (uploads.py's limits): held, not streamed
        send_file_options.setdefault(
            "mimetype", found.get("ContentType") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        send_file_options.setdefault("last_modified", found.get("LastModified"))
        send_file_options.setdefault("etag", str(found.get("ETag", "")).strip('"') or False)
        return send_file(io.BytesIO(data), **send_file_options)


def from_url(url: str | None, local_root: Path) -> Storage:
    """The backend STORAGE_URL names: empty or file:///path for a folder, s3://bucket[/prefix] for a bucket."""
    if not url:
        return LocalStorage(local_root)
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(Path(parts.path or local_root))
    if parts.scheme == "s3" and parts.netloc:
        return S3Storage(parts.netloc, parts.path)
    raise ValueError(f"STORAGE_URL={url!r}: use s3://BUCKET[/PREFIX] or file:///FOLDER, or leave it unset")
