"""Health details in search query strings never reach the logs."""

import logging
import re
from pathlib import Path

from directory.logging_privacy import StripQueryStrings, strip_query


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
