"""Who may open a page: role decorators, and `next` redirects that stay on the site."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user, login_required

from ..therapists.profiles import ensure_profile


def role_required(check, *, before=None):
    """Anonymous users get the sign-in page; signed-in users failing `check` get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not check(current_user):
                abort(403)
            if before is not None:
                before(current_user)
            return view(*args, **kwargs)

        return wrapper

    return decorator


# The session key of a booking form kept on the server while its visitor signs in
# (bookings/drafts.py): only a random key, never what was typed.
PENDING_BOOKING = "pending_booking"

therapist_required = role_required(lambda user: user.is_therapist, before=ensure_profile)
admin_required = role_required(lambda user: user.is_admin)


def safe_next(target: str | None) -> str | None:
    """`next` only ever leads to a page of this site."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
