"""Fixtures: app, client, runner, db cleanup, and factories.

The same suite runs on SQLite (default) and on PostgreSQL when
TEST_DATABASE_URL is set (make test does both).
"""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text

from directory import create_app
from directory.extensions import db

from .browser import live_server, page  # noqa: F401  (fixtures for the browser tests)
from .factories import Factory
from .servers import s3_endpoint, s3_env, s3_storage, storage_backend  # noqa: F401  (S3 fixtures)

_tmp_root: Path | None = None


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def is_postgres(app) -> bool:
    return db.engine.dialect.name == "postgresql"


class IsolatedClient(FlaskClient):
    """Tests hold an app context for their data; each request must still start
    with its own request state (signed-in user, CSRF token), as on a server.
    Each response is read to its end and closed, as a server does: the work the
    app leaves for after the response (mail, counts) has run when open() returns."""

    def open(self, *args, **kwargs):
        if has_app_context():  # per-request state (signed-in user, CSRF token) starts afresh
            for name in list(g):
                g.pop(name)
        kwargs.setdefault("buffered", True)
        response = super().open(*args, **kwargs)
        # Large test uploads are spooled to a temporary file: close it, as a server would.
        stream = getattr(getattr(response, "request", None), "environ", {}).get("wsgi.input")
        if stream is not None and not isinstance(stream, io.BytesIO):
            stream.close()
        return response


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = database_url(tmp_path_factory)
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        WTF_CSRF_ENABLED=True,
        INSTANCE_PATH=str(tmp_path_factory.mktemp("instance")),
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Every test starts with empty tables, an empty outbox and fresh rate limits."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from directory.extensions import limiter

    with app.app_context():
        limiter.reset()
        for message in app.extensions["mailer"].outbox_dir.glob("*.eml"):
            message.unlink()
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(text(f'DELETE FROM "{t}"'))


# The Redis database the queue and counter tests use (they empty nothing else).
REDIS_TEST_DB = int(os.environ.get("TEST_REDIS_DB", "12"))
REDIS_TEST_URL = f"redis://127.0.0.1:6379/{REDIS_TEST_DB}"


@pytest.fixture
def redis_url() -> str:
    """The test Redis database (TEST_REDIS_DB, default 12); the test is skipped, saying why, without one."""
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"needs Redis at {REDIS_TEST_URL} (set TEST_REDIS_DB for another index): {exc}")
    return REDIS_TEST_URL


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factory(ctx):
    return Factory(db.session)


CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form on `url`, as a browser would submit it."""
    html = client.get(url).get_data(as_text=True)
    match = CSRF_INPUT.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def post_form(client, url: str, data: dict, *, form_page: str | None = None, **kwargs):
    data = dict(data)
    data.setdefault("csrf_token", csrf_token(client, form_page or url))
    return client.post(url, data=data, **kwargs)


PASSWORD = "velvet-harbor-orchid-42"

# Tests that depend on the date run at this moment (the `frozen` fixture): noon in
# Chicago, the same calendar day in every US state's zone. The clock then ticks on.
FROZEN_AT = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
TODAY = FROZEN_AT.date()


@pytest.fixture
def frozen():
    with time_machine.travel(FROZEN_AT, tick=True):
        yield FROZEN_AT


def login(client, email: str, password: str = PASSWORD):
    """Sign in through the form, as a person would. Set-up sign-ins do not count
    toward the sign-in rate limit (tests of that limit post the form themselves)."""
    from directory.extensions import limiter

    with client.application.app_context():
        limiter.reset()
    return post_form(client, "/auth/login", {"email": email, "password": password})


@pytest.fixture
def outbox(app):
    def read():
        return app.extensions["mailer"].outbox()

    return read


@pytest.fixture
def therapist_user(factory):
    """A confirmed therapist with a password, signed out."""
    from directory.auth.passwords import hash_password
    from directory.models import utcnow

    profile = factory.therapist(name="Tess Therapist", commit=False)
    profile.user.password_hash = hash_password(PASSWORD)
    profile.user.email_confirmed_at = utcnow()
    db.session.commit()
    return profile.user


@pytest.fixture
def make_user(factory):
    from directory.auth.passwords import hash_password
    from directory.models import Role, User, utcnow

    def make(role: Role, email: str):
        user = User(
            email=email,
            name=email.split("@")[0],
            role=role,
            password_hash=hash_password(PASSWORD),
            email_confirmed_at=utcnow(),
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


def pytest_terminal_summary(terminalreporter):
    """How many cases schemathesis ran against the OpenAPI document (tests/test_api_contract_fuzz.py)."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        cases = dict(report.user_properties).get("schemathesis_cases")
        if cases and report.when == "call":
            by_operation = ", ".join(f"{label}: {n}" for label, n in cases.items())
            terminalreporter.write_line(f"schemathesis: {sum(cases.values())} cases run ({by_operation})")
