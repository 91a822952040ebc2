"""Keep what clients tell us about their health out of the logs.

Search parameters (conditions, goals, body areas) travel in query strings, so
request lines are logged with the path only. gunicorn.conf.py does the same
for gunicorn's access log.
"""

import logging
import re

_QUERY = re.compile(r"(\s/[^\s?\"]*)\?[^\s\"]*")


def strip_query(text: str) -> str:
    """'"GET /search?conditions=pregnancy HTTP/1.1"' -> '"GET /search HTTP/1.1"'."""
    return _QUERY.sub(r"\1", text)


class StripQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(strip_query(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = strip_query(record.msg)
        return True


def install() -> None:
    logging.getLogger("werkzeug").addFilter(StripQueryStrings())
