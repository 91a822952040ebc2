"""Health details in search query strings never reach the logs."""

import contextlib
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from directory.logging_privacy import StripQueryStrings, private_request_line, strip_query

ROOT = Path(__file__).resolve().parent.parent


def test_request_lines_lose_their_query_string():
    line = '127.0.0.1 - - [x] "GET /search?location=60601&conditions=pregnancy,cancer_treatment HTTP/1.1" 200 -'
    assert strip_query(line) == '127.0.0.1 - - [x] "GET /search HTTP/1.1" 200 -'
    assert strip_query('"GET /api/v1/search?conditions=fever HTTP/1.1"') == '"GET /api/v1/search HTTP/1.1"'


def test_werkzeug_log_records_are_filtered(app, caplog):
    logger = logging.getLogger("werkzeug")
    assert any(isinstance(f, StripQueryStrings) for f in logger.filters)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('%s - - "%s" %s', "127.0.0.1", "GET /search?conditions=pregnancy HTTP/1.1", "200")
    assert "pregnancy" not in caplog.text and "GET /search HTTP/1.1" in caplog.text


def test_gunicorn_access_log_uses_the_path_without_query():
    config = (Path(__file__).resolve().parent.parent / "gunicorn.conf.py").read_text()
    fmt = re.search(r"access_log_format = '(.+)'", config).group(1)
    assert "%(U)s" in fmt and "%(r)s" not in fmt and "%(q)s" not in fmt


def test_errors_are_logged_without_the_query(client, app, caplog, monkeypatch):
    import directory.search.views as views

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(views, "run_search", boom)
    with caplog.at_level(logging.ERROR):
        response = client.get("/search?location=60601&conditions=cancer_treatment")
    assert response.status_code == 500
    assert "cancer_treatment" not in caplog.text and "/search" in caplog.text


# --- secrets in paths (issue 23, item 8) ------------------------------------------------------

SECRET_PATHS = [
    ("/calendar/k3Y-s3cr3t_Feed.ics", "/calendar/[secret].ics"),
    ("/auth/reset/IjQyIg.Z3xY-_ab.c2lnbmF0dXJl", "/auth/reset/[secret]"),
    ("/auth/confirm/IjQyIg.Z3xY.c2ln", "/auth/confirm/[secret]"),
    ("/auth/email/eyJ1Ijo0Mn0.Z3xY.c2ln", "/auth/email/[secret]"),
]


def test_every_route_argument_named_token_is_a_secret_of_the_logs(app):
    rules = sorted(rule.rule for rule in app.url_map.iter_rules() if "token>" in rule.rule)
    assert rules == ["/auth/confirm/<token>", "/auth/email/<token>", "/auth/reset/<token>", "/calendar/<token>.ics"]
    for path, logged in SECRET_PATHS:
        line = f'203.0.113.5 [07/Dec/2026:23:00:00 +0000] "GET {path}?next=/x HTTP/1.1" 200 512 3ms'
        assert (
            private_request_line(line)
            == f'203.0.113.5 [07/Dec/2026:23:00:00 +0000] "GET {logged} HTTP/1.1" 200 512 3ms'
        )
    assert private_request_line('"GET /therapists/42 HTTP/1.1"') == '"GET /therapists/42 HTTP/1.1"'
    assert private_request_line('"GET /auth/reset/abc/ HTTP/1.1"') == '"GET /auth/reset/[secret]/ HTTP/1.1"'


@pytest.mark.parametrize("path, logged", SECRET_PATHS)
def test_the_dev_server_log_redacts_secret_paths(client, caplog, path, logged):
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('%s - - "%s" %s', "127.0.0.1", f"GET {path} HTTP/1.1", "404")
    secret = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert secret not in caplog.text and f"GET {logged} HTTP/1.1" in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_binds_to_loopback_unless_told_otherwise(monkeypatch):
    """With PROXY_COUNT=1 the app trusts X-Forwarded-For: only the proxy may reach gunicorn."""
    config = ROOT / "gunicorn.conf.py"
    monkeypatch.delenv("BIND", raising=False)
    settings: dict = {}
    exec(compile(config.read_text(), str(config), "exec"), settings)
    assert settings["bind"] == "127.0.0.1:8000"
    monkeypatch.setenv("BIND", "0.0.0.0:8000")
    exec(compile(config.read_text(), str(config), "exec"), settings := {})
    assert settings["bind"] == "0.0.0.0:8000"


def test_gunicorn_access_log_keeps_no_token(app, tmp_path):
    """gunicorn itself, with gunicorn.conf.py: the access log file holds the paths, not the tokens."""
    port, log = _free_port(), tmp_path / "access.log"
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "ACCESS_LOG": str(log),
        "INSTANCE_PATH": str(tmp_path),
    }
    with (tmp_path / "error.log").open("w") as errors:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                    break
                except OSError:
                    alive = server.poll() is None and time.monotonic() < deadline
                    assert alive, (tmp_path / "error.log").read_text()[-2000:]
                    time.sleep(0.3)
            for path, _ in SECRET_PATHS:
                # A wrong token is a 404 (or a page saying the link is bad): the log line is the point.
                with contextlib.suppress(urllib.error.HTTPError):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).close()
            time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = log.read_text()
    for path, logged in SECRET_PATHS:
        secret = path.rsplit("/", 1)[1].removesuffix(".ics")
        assert secret not in text and f" {logged} " in text, text
