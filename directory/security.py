"""Security on every request: headers, caching of private pages, input no
database can store, and ids no database can hold."""

import re

from flask import abort, current_app, request, session
from werkzeug.routing import IntegerConverter

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'self'; "
    "object-src 'none'; frame-ancestors 'none'"
)

# The largest id an `integer` column holds on PostgreSQL (SQLite holds more):
# one limit for both databases.
DATABASE_ID_MAX = 2**31 - 1
NUL_MESSAGE = "Text cannot contain NUL characters (\\0, %00). Remove them and send it again."


def integers_up_to(limit: int) -> str:
    """A regular expression for the whole numbers 1 to `limit`, written without leading zeros."""
    digits = str(limit)
    options = [rf"[1-9]\d{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []  # the shorter numbers
    for i, digit in enumerate(digits):  # as long as `limit`: its first i digits, then a smaller one
        low, high, rest = (1 if i == 0 else 0), int(digit) - 1, len(digits) - i - 1
        if high >= low:
            options.append(f"{digits[:i]}[{low}-{high}]" + (rf"\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


_DATABASE_ID = re.compile(integers_up_to(DATABASE_ID_MAX))


def database_id(text: str | None) -> int | None:
    """The one parser of ids read from a path, a query or a cookie: the id when
    `text` spells one a database holds (1 to 2**31 - 1, no sign, no leading
    zero, no spaces), else None, so a caller answers 404 or "no match" and the
    number never reaches the database."""
    return int(text) if text is not None and _DATABASE_ID.fullmatch(text) else None


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in our URLs is a database id: 1 to 2**31 - 1. Anything past
    that cannot name a row, so no route matches it (404), rather than reaching
    the database as a number it cannot hold. The range is in the pattern itself:
    werkzeug matches patterns before it converts, so a number refused only on
    conversion would answer 405 where a GET and a POST rule share a path."""

    regex = _DATABASE_ID.pattern

    def __init__(self, map, fixed_digits=0, min=1, max=DATABASE_ID_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_nul_bytes() -> None:
    """No text field of any database we run on stores a NUL byte (PostgreSQL
    refuses it): refuse it in the path, query string, form fields and upload
    names before any view sees it."""
    texts = [request.path]
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            texts += (key, value)
    texts += [f.filename or "" for f in request.files.values()]
    if any("\x00" in t for t in texts):
        abort(400, description=NUL_MESSAGE)


def apply_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    if current_app.config.get("SECURE_COOKIES"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # A page for a signed-in person (their bookings, intakes, account) is kept by
    # no cache, shared or private; a view that knows better sets its own header.
    # (The session says who is signed in without asking the database again.)
    if "Cache-Control" not in headers and session.get("_user_id"):
        headers["Cache-Control"] = "no-store"
    return response
