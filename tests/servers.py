"""Real servers the scale-out tests talk to: a local S3-compatible store (moto's
server mode, a real HTTP endpoint, not a mock of boto3) and helpers to find
Redis, PostgreSQL and free ports on this machine."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import closing

import pytest

S3_PORTS = range(5300, 5321)
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/8")


def free_port(ports) -> int:
    for port in ports:
        with closing(socket.socket()) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


def answers(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def redis_answers() -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(REDIS_URL)
    return answers(parts.hostname or "127.0.0.1", parts.port or 6379)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, in a thread of the test process, for the whole run."""
    from moto.server import ThreadedMotoServer

    port = free_port(S3_PORTS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch) -> dict[str, str]:
    """The standard variables boto3 reads, pointing at the local S3 server."""
    env = {"AWS_ENDPOINT_URL": s3_endpoint, **S3_KEYS}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def s3_client(endpoint: str):
    """A boto3 client of the test's own, for looking into the bucket behind the application's back."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, **_keys())


def new_bucket(endpoint: str) -> str:
    name = f"uploads-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_KEYS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_KEYS["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_KEYS["AWS_DEFAULT_REGION"],
    }


@pytest.fixture
def s3_storage(s3_env, tmp_path):
    """An S3Storage built the way production builds it: from STORAGE_URL, boto3 reading the environment."""
    from directory.storage import from_url

    bucket = new_bucket(s3_env["AWS_ENDPOINT_URL"])
    return from_url(f"s3://{bucket}/site", tmp_path / "unused")


@pytest.fixture(params=["local", "s3"])
def storage_backend(request, app, tmp_path):
    """Run the test once with uploads in a local folder and once in the S3 server."""
    from directory.storage import LocalStorage

    if request.param == "s3":
        backend = request.getfixturevalue("s3_storage")
    else:
        backend = LocalStorage(tmp_path / "uploads")
    kept = app.extensions["storage"]
    app.extensions["storage"] = backend
    yield backend
    app.extensions["storage"] = kept
