"""The one error family services raise: what was wrong, in words a person can
act on, and the input field it came from when there is one.

Views, the API and the CLI map it the same way (see errors.py): a form shows
the message at the field, the API answers `{"error": {"field": ...}}` with the
class's status, the CLI prints it.
"""

from __future__ import annotations


class ServiceError(ValueError):
    """Input or a state the service cannot act on (400)."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems: list[ServiceError] = [self]


def raise_all(problems: list[ServiceError]) -> None:
    """Raise the first problem, carrying all of them (a form shows each at its field)."""
    if problems:
        first = problems[0]
        first.problems = list(problems)
        raise first


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    """The request was fine but the world changed under it (a time just taken, a number on file)."""

    status = 409
    code = "conflict"
