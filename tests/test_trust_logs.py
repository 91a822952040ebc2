"""Nothing a person types reaches a log: not an intake, not a password hash
(a database error's message quotes them), not a query string (issue 11, items 1 and 9)."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text
from werkzeug.serving import make_server

from directory.bookings.availability import free_starts
from directory.extensions import db
from directory.logging_privacy import strip_query
from directory.models import Role

from .conftest import PASSWORD, login, post_form

INTAKE_SECRET = "knee pain since the miscarriage"


class Captured(logging.Handler):
    """Every record that reaches the root logger, formatted as a log file would hold it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def captured():
    handler = Captured()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def failing_insert(app):
    """Make the database fail an INSERT into `table` the way a real error would.
    On PostgreSQL the row lands in a twin table whose trigger refuses it with an
    error that quotes the whole row, as "Failing row contains (...)" or "invalid
    input syntax" errors do; on SQLite the twin is missing, and SQLAlchemy's
    message would list the bound parameters."""
    installed = []

    def arm(table: str, columns: list[str]):
        trap = f"{table}_trap"
        with app.app_context():
            postgres = db.engine.dialect.name == "postgresql"
            if postgres:
                with db.engine.begin() as conn:
                    conn.execute(text(f"DROP TABLE IF EXISTS {trap} CASCADE"))
                    conn.execute(text(f"CREATE TABLE {trap} (id serial, {', '.join(c + ' text' for c in columns)})"))
                    conn.execute(
                        text(
                            f"CREATE OR REPLACE FUNCTION {trap}_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                            "$$ BEGIN RAISE EXCEPTION 'refused row %', row_to_json(NEW); END $$"
                        )
                    )
                    conn.execute(
                        text(
                            f"CREATE TRIGGER {trap}_refuse BEFORE INSERT ON {trap} "
                            f"FOR EACH ROW EXECUTE FUNCTION {trap}_refuse()"
                        )
                    )

            def rewrite(conn, cursor, statement, parameters, context, executemany):
                if statement.startswith(f"INSERT INTO {table} "):
                    statement = statement.replace(f"INSERT INTO {table} ", f"INSERT INTO {trap} ", 1)
                    statement = statement.replace(f"RETURNING {table}.", f"RETURNING {trap}.")
                return statement, parameters

            event.listen(db.engine, "before_cursor_execute", rewrite, retval=True)
            installed.append((db.engine, rewrite, trap if postgres else None))

    yield arm
    with app.app_context():
        for engine, rewrite, trap in installed:
            event.remove(engine, "before_cursor_execute", rewrite)
            if trap:
                with engine.begin() as conn:
                    conn.execute(text(f"DROP TABLE IF EXISTS {trap} CASCADE"))
                    conn.execute(text(f"DROP FUNCTION IF EXISTS {trap}_refuse()"))


def test_engines_hide_bound_parameters(app, ctx):
    assert db.engine.hide_parameters is True


def test_a_database_error_during_a_booking_logs_no_intake(client, factory, make_user, failing_insert, captured):
    profile = factory.therapist(prices={60: 90}, commit=False)
    factory.open_for_bookings(profile, PASSWORD)
    db.session.commit()
    carla = make_user(Role.CLIENT, "carla@example.com")
    days = free_starts(profile, 60)
    start = days[next(iter(days))][0].astimezone(UTC)
    failing_insert("intakes", ["booking_id", "concerns", "goals", "conditions", "medications", "history"])
    login(client, carla.email)
    response = post_form(
        client,
        f"/therapists/{profile.id}/book",
        {"start": start.isoformat(), "minutes": "60", "concerns": INTAKE_SECRET, "medications": "sertraline 50mg"},
        form_page=f"/therapists/{profile.id}/book",
    )
    assert response.status_code == 500
    assert "Unhandled error on POST" in captured.text and "Error" in captured.text  # the error is logged...
    assert INTAKE_SECRET not in captured.text and "sertraline" not in captured.text  # ...without the intake


def test_a_database_error_during_sign_up_logs_no_password_hash(client, ctx, failing_insert, captured):
    failing_insert(
        "users",
        [
            "email",
            "password_hash",
            "role",
            "name",
            "email_confirmed_at",
            "created_at",
            "last_login_at",
            "session_token",
        ],
    )
    response = post_form(
        client,
        "/auth/register",
        {
            "name": "Nora Newcomer",
            "email": "nora@example.com",
            "password": "quiet-meadow-lantern-7",
            "confirm": "quiet-meadow-lantern-7",
        },
    )
    assert response.status_code == 500
    assert "Unhandled error on POST /auth/register" in captured.text
    assert "scrypt:" not in captured.text and "quiet-meadow-lantern-7" not in captured.text
    assert "nora@example.com" not in captured.text


def test_the_quote_that_bypassed_the_scrubber_no_longer_does():
    line = '127.0.0.1 - - [x] "GET /search?location="Chicago, IL"&conditions=pregnancy HTTP/1.1" 200 -'
    assert strip_query(line) == '127.0.0.1 - - [x] "GET /search HTTP/1.1" 200 -'
    assert strip_query("GET /search?a=1 HTTP/1.1 conditions=fever HTTP/1.1") == "GET /search HTTP/1.1"
    assert strip_query("code 400, message Bad request syntax ('GET /x?conditions=fever')") == (
        "code 400, message Bad request syntax"
    )


MARKER = "Zq7Xj"
RAW_QUERY_CHARS = st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#")


@st.composite
def query_strings(draw) -> str:
    """A query string holding MARKER among anything a client may send: raw
    quotes, question marks, fake protocol words, percent-encoded text of any kind."""
    parts = draw(
        st.lists(
            st.one_of(
                st.text(RAW_QUERY_CHARS, max_size=12),
                st.text(max_size=12).map(lambda t: quote(t, safe="")),
                st.sampled_from(['"', "%22", "?", "%20HTTP/1.1%20", "HTTP/1.1", "%0A", "&conditions=pregnancy"]),
            ),
            max_size=6,
        )
    )
    at = draw(st.integers(0, len(parts)))
    return "".join(parts[:at]) + MARKER + "".join(parts[at:])


@pytest.fixture
def live_wsgi(app, monkeypatch):
    """werkzeug's development server in a thread; /search fails so the app logs an error too."""
    import directory.search.views as views

    def boom(*args, **kwargs):
        raise RuntimeError(f"failed while searching {MARKER}")

    monkeypatch.setattr(views, "run_search", boom)
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join()
    server.server_close()


def send(port: int, request_target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {request_target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=query_strings())
def test_no_query_string_reaches_any_log(live_wsgi, captured, query):
    """Property: werkzeug's request log and the app's error log never hold any
    part of a query string, whatever it holds."""
    captured.lines.clear()
    answer = send(live_wsgi, f"/search?{query}")
    assert answer.startswith(b"HTTP/1.")
    assert captured.lines, "the request was logged"
    assert MARKER not in captured.text and MARKER.lower() not in captured.text.lower()


def test_the_live_request_log_keeps_the_path(live_wsgi, captured):
    send(live_wsgi, "/search?location=%22Chicago%2C+IL%22&conditions=pregnancy")
    assert "GET /search HTTP/1.1" in captured.text and "Unhandled error on GET /search" in captured.text
    assert "pregnancy" not in captured.text and "Chicago" not in captured.text
