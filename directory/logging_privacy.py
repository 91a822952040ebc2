"""Keep what people tell us out of the logs.

Search parameters (conditions, goals, body areas) travel in query strings, so
request lines are logged with the path only: everything after `?` goes,
whatever it holds. gunicorn.conf.py does the same for gunicorn's access log.

Some paths are themselves a secret: a sign-in or reset link, an email change,
a therapist's calendar address (`/auth/reset/<token>`, `/calendar/<token>.ics`).
Every route argument whose name ends in "token" is logged as "[secret]", by
the same filter, on werkzeug's request log (the dev server) and gunicorn's
access and error logs: a log reader never holds a working link.

Exceptions are logged by where they happened, never by what they say: a
database error's message can quote the failing row (an intake, a password
hash), and other messages can quote form values. `describe_exception` keeps the
traceback's frames, each exception's type and, for database errors, only the
error code, constraint and statement (its parameters are hidden by the engine's
`hide_parameters`).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable

from sqlalchemy.exc import StatementError

# From a "?" to the protocol of the request line ("... HTTP/1.1"), or to the
# end of the text when there is none: the query string, whatever it holds.
_QUERY = re.compile(r"\?.*?(?=\sHTTP/\d(?:\.\d)?(?!.*\sHTTP/\d)|\Z)", re.DOTALL)
# werkzeug (http.server) quotes a malformed request line in its error message.
_BAD_REQUEST_DETAIL = re.compile(r"(Bad request (?:version|syntax|method))\s*\(.*", re.DOTALL)


def strip_query(text: str) -> str:
    """'"GET /search?conditions=pregnancy HTTP/1.1"' -> '"GET /search HTTP/1.1"'."""
    return _QUERY.sub("", _BAD_REQUEST_DETAIL.sub(r"\1", text))


SECRET = "[secret]"  # noqa: S105 what a log shows in place of a secret, not one
_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
_SEGMENT = r"[^/\s?#\"']+"
# One pattern per route that carries a secret, built from the app's URL rules by `install`.
_SECRET_PATHS: dict[str, re.Pattern[str]] = {}


def secret_path_pattern(rule: str) -> re.Pattern[str] | None:
    """A pattern that finds a path of `rule` in a log line, with a group for each of its
    secret arguments (named "...token"); None when the rule carries no secret."""
    parts, secret, end = [], False, 0
    for match in _ARGUMENT.finditer(rule):
        parts.append(re.escape(rule[end : match.start()]))
        is_secret = match.group(1).endswith("token")
        parts.append(f"({_SEGMENT})" if is_secret else f"(?:{_SEGMENT})")
        secret, end = secret or is_secret, match.end()
    if not secret:
        return None
    parts.append(re.escape(rule[end:]))
    return re.compile(r"(?<![^\s\"'])" + "".join(parts) + r"(?=[\s?#/\"']|\Z)")


def redact_secrets(text: str) -> str:
    """'"GET /auth/reset/IjEi.aZ HTTP/1.1"' -> '"GET /auth/reset/[secret] HTTP/1.1"'."""
    for pattern in _SECRET_PATHS.values():
        text = pattern.sub(_redacted, text)
    return text


def _redacted(match: re.Match[str]) -> str:
    found, start = [], match.start()
    for group in range(1, (match.lastindex or 0) + 1):
        found.append(match.string[start : match.start(group)] + SECRET)
        start = match.end(group)
    return "".join(found) + match.string[start : match.end()]


def private_request_line(text: str) -> str:
    """A request log line as it may be kept: no query string, no secret in the path."""
    return redact_secrets(strip_query(text))


class StripQueryStrings(logging.Filter):
    """Request logs: the message is formatted, then its query strings and path secrets removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = private_request_line(message), None
        return True


def _database_facts(exc: BaseException) -> str:
    """What a database error may say in a log: codes and names, never values."""
    orig = getattr(exc, "orig", None)
    facts = [type(orig).__name__] if orig is not None else []
    for name in ("sqlstate", "sqlite_errorname"):
        value = getattr(orig, name, None)
        if value:
            facts.append(f"{name}={value}")
    diag = getattr(orig, "diag", None)
    for name in ("schema_name", "table_name", "column_name", "constraint_name"):
        value = getattr(diag, name, None)
        if value:
            facts.append(f"{name}={value}")
    statement = getattr(exc, "statement", None)
    if statement:
        facts.append(f"statement: {' '.join(str(statement).split())[:500]}")
    return " ".join(facts)


def describe_exception(exc: BaseException) -> str:
    """The traceback of `exc` (and its causes) with every message left out."""
    lines: list[str] = []
    seen: set[int] = set()
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    for position, item in enumerate(reversed(chain)):
        if position:
            lines.append("\nwhich led to:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(item.__traceback__))
        kind = f"{type(item).__module__}.{type(item).__qualname__}"
        detail = _database_facts(item) if isinstance(item, StatementError) else "(message withheld from logs)"
        lines.append(f"{kind}: {detail}\n")
    return "".join(lines).rstrip("\n")


class WithholdExceptionMessages(logging.Filter):
    """A record logged with exc_info carries its traceback without messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{private_request_line(record.getMessage())}\n{describe_exception(record.exc_info[1])}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def install(app_logger: logging.Logger, rules: Iterable[str] = ()) -> None:
    """Filters on the loggers that write requests and errors; `rules` are the app's URL
    rules, whose secret arguments those filters redact."""
    for rule in rules:
        if rule not in _SECRET_PATHS and (pattern := secret_path_pattern(rule)) is not None:
            _SECRET_PATHS[rule] = pattern
    for name in ("werkzeug", "gunicorn.error", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, StripQueryStrings) for f in logger.filters):
            logger.addFilter(StripQueryStrings())
    if not any(isinstance(f, WithholdExceptionMessages) for f in app_logger.filters):
        app_logger.addFilter(WithholdExceptionMessages())
