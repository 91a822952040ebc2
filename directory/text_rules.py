"""One-line texts: names, a street, a city, a short note.

Such a text is written on one line everywhere it goes: a page, a mail's
header, a calendar file's property (where a line break is a syntax error that
made a therapist's feed answer 500), a CSV cell, a log line. So the services
that write them refuse every control character (C0 and C1, DEL, and the
Unicode line and paragraph separators); a tab or a line break in a name is a
paste mistake, never meant.
"""

from __future__ import annotations

import re

from .service_errors import ServiceError

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_RUNS = re.compile(" *[\x00-\x1f\x7f-\x9f\u2028\u2029][ \x00-\x1f\x7f-\x9f\u2028\u2029]*")


def one_line_problem(text: str | None, field: str, what: str) -> ServiceError | None:
    """The error to raise at `field` when `text` holds a control character, else None."""
    if text and _CONTROL.search(text):
        return ServiceError(
            f"Write the {what} on one line, without line breaks, tabs or other control characters.", field=field
        )
    return None


def on_one_line(text: str) -> str:
    """`text` with each run of control characters as one space: for writing out a text
    stored before the services refused them."""
    return _RUNS.sub(" ", text).strip() if _CONTROL.search(text) else text
