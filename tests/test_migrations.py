"""`flask db upgrade` on an empty database yields exactly the models' schema."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from directory import ROOT, create_app
from directory.extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with nothing in it: a new SQLite file, or a scratch PostgreSQL database."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path}/migrations.sqlite3"
        return
    base = make_url(url)
    scratch = base.set(database=f"{base.database}_migrations")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    yield scratch.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_matches_models_and_downgrade_removes_everything(empty_database_url, tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url, INSTANCE_PATH=str(tmp_path))
    migrations = str(ROOT / "migrations")
    with app.app_context():
        upgrade(directory=migrations)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == [], f"models and migrations differ: {diff}"
        assert {t.name for t in db.metadata.sorted_tables} <= tables

        downgrade(directory=migrations, revision="base")
        with db.engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert left == set()
        db.engine.dispose()


def test_upgrading_a_database_with_therapists_keeps_every_row(empty_database_url, tmp_path):
    """A migration that rebuilds a table (SQLite's batch mode copies it and drops the old one)
    must not fire the cascades of the tables that refer to it: a profile's license,
    techniques, prices and certifications are all still there afterwards."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url, INSTANCE_PATH=str(tmp_path))
    migrations = str(ROOT / "migrations")
    with app.app_context():
        upgrade(directory=migrations, revision="booking1")
        with db.engine.begin() as conn:
            _therapist(conn, 1, "kept@example.com", npi="1234567893")
            conn.execute(
                text(
                    "INSERT INTO licenses (therapist_id, number, state, expires_on, status, submitted_at) "
                    "VALUES (1, 'IL-1', 'IL', '2030-01-01', 'verified', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO certifications (therapist_id, slug, status, submitted_at) "
                    "VALUES (1, 'prenatal', 'verified', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(text("INSERT INTO therapist_techniques (therapist_id, technique) VALUES (1, 'swedish')"))
            conn.execute(text("INSERT INTO session_prices (therapist_id, minutes, amount) VALUES (1, 60, 90)"))
        upgrade(directory=migrations)
        with db.engine.connect() as conn:
            counts = {
                table: conn.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in ("users", "therapist_profiles", "licenses", "certifications")
                + ("therapist_techniques", "session_prices")
            }
            npi = conn.scalar(text("SELECT npi FROM therapist_profiles"))
        assert counts == dict.fromkeys(counts, 1)
        assert npi == "1234567893"
        # The NPI stays unique where there is one.
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            _therapist(conn, 2, "other@example.com", npi="1234567893")
        db.engine.dispose()


def _therapist(conn, id: int, email: str, *, npi: str) -> None:
    """An account and its profile, written as plain rows (the schema of any revision since paper1)."""
    conn.execute(
        text(
            "INSERT INTO users (id, email, role, name, created_at, session_token) "
            "VALUES (:id, :email, 'therapist', 'Kept', CURRENT_TIMESTAMP, :token)"
        ),
        {"id": id, "email": email, "token": f"token{id}"},
    )
    conn.execute(
        text(
            "INSERT INTO therapist_profiles (id, user_id, name, bio, languages, hsa_fsa, "
            "accepting_new_clients, address, city, state, postal_code, location_label, created_at, "
            "updated_at, search_techniques, search_certifications, search_prices, rating_count, npi) "
            "VALUES (:id, :id, 'Kept', '', 'en', false, true, '', '', 'IL', '', '', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP, 'swedish', '', '60:90.00', 0, :npi)"
        ),
        {"id": id, "npi": npi},
    )
