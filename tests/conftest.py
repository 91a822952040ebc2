"""Fixtures: app, client, runner, db cleanup, and factories.

The same suite runs on SQLite (default) and on PostgreSQL when
TEST_DATABASE_URL is set (make test does both).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from directory import create_app
from directory.extensions import db

from .factories import Factory

_tmp_root: Path | None = None


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def is_postgres(app) -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = database_url(tmp_path_factory)
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        WTF_CSRF_ENABLED=True,
        INSTANCE_PATH=str(tmp_path_factory.mktemp("instance")),
    )
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
    """Every test starts with empty tables (those that use the app)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(text(f'DELETE FROM "{t}"'))


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
