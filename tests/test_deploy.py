"""deploy/compose.yaml: the production topology with the official images, and
every application process given the settings it needs (no registry is reachable
here, so the file is checked, not run: README says so)."""

import re

import pytest
import yaml

from directory import ROOT

DEPLOY = ROOT / "deploy"
APP_SERVICES = ("migrate", "web", "worker", "beat")
EVERY_APP_NEEDS = (
    "APP_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "REDIS_URL",
    "STORAGE_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "PUBLIC_URL",
)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]


def test_the_topology_uses_the_official_images(compose):
    assert compose["postgres-primary"]["image"] == "postgres:15"
    assert compose["postgres-replica"]["image"] == "postgres:15"
    assert compose["redis"]["image"] == "redis:7"
    assert compose["minio"]["image"] == "minio/minio"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    for name in APP_SERVICES:
        assert compose[name]["build"]["dockerfile"] == "deploy/Dockerfile", name


def test_the_replica_is_a_streaming_copy_of_the_primary(compose):
    entrypoint = (DEPLOY / "postgres" / "replica-entrypoint.sh").read_text()
    assert "pg_basebackup -h postgres-primary" in entrypoint and " -R " in entrypoint
    assert "wal_level=replica" in compose["postgres-primary"]["command"]
    assert "REPLICATION" in (DEPLOY / "postgres" / "primary-init.sh").read_text()


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_application_process_gets_its_settings(compose, service):
    env = compose[service]["environment"]
    missing = [name for name in EVERY_APP_NEEDS if not env.get(name)]
    assert not missing, f"{service} lacks {missing}"
    assert env["APP_ENV"] == "production"
    assert "postgres-primary" in env["DATABASE_URL"] and "postgres-replica" in env["DATABASE_REPLICA_URL"]
    assert env["STORAGE_URL"].startswith("s3://") and env["REDIS_URL"].startswith("redis://redis:")


def test_every_setting_passed_is_one_the_application_reads(compose):
    """A misspelt variable would be ignored silently: each must be read by config.py,
    gunicorn.conf.py, the flask command or boto3."""
    read = "".join((ROOT / name).read_text() for name in ("config.py", "gunicorn.conf.py", "directory/__init__.py"))
    env = {**compose["web"]["environment"], **compose["beat"]["environment"]}
    unread = [name for name in env if not name.startswith("AWS_") and f'"{name}"' not in read]
    assert not unread, f"settings nothing reads: {unread}"


def test_there_is_one_beat_and_web_runs_several(compose):
    assert compose["web"]["deploy"]["replicas"] >= 2
    assert "replicas" not in compose["beat"].get("deploy", {})


def test_the_readme_shows_every_process(compose):
    readme = (ROOT / "README.md").read_text()
    production = readme[readme.index("## Production") : readme.index("## Accounts and administration")]
    for process in ("web", "worker", "beat", "PostgreSQL primary", "PostgreSQL replica", "Redis", "object storage"):
        assert process in production, process
    assert "What was run and what was not" in production
