"""Signed, expiring, single-use tokens for email confirmation, email change and password reset.

Single use: an email-change token names the address it moves from, so it dies
once the move is made; a confirmation token names the email it confirms and is refused once
that email is confirmed; a reset token carries a fingerprint of the password
hash, so it dies the moment the password changes. Email-change and reset tokens
also carry a fingerprint of the account's session token, which every security
event renews (revocation.py): an email change, a password change, a sign-out or
a suspension ends every such link still waiting in a mailbox, so a link from
before a second email change can never move the account back.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..service_errors import ServiceError

CONFIRM_MAX_AGE = 48 * 3600
RESET_MAX_AGE = 3600


class TokenError(ServiceError):
    """A link that is expired, forged or already used."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"directory.{purpose}")


def _fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "no-password").encode()).hexdigest()[:20]


def make_confirm_token(user) -> str:
    return _serializer("confirm").dumps({"uid": user.id, "email": user.email})


def _stamp(user) -> str:
    return hashlib.sha256(f"links:{user.session_token}".encode()).hexdigest()[:20]


def make_reset_token(user) -> str:
    return _serializer("reset").dumps({"uid": user.id, "pw": _fingerprint(user.password_hash), "st": _stamp(user)})


def make_email_change_token(user, new_email: str) -> str:
    """Names the account, its current address and the new one: a link for an address
    the account no longer has, or already moved to, is refused."""
    return _serializer("email-change").dumps({"uid": user.id, "old": user.email, "new": new_email, "st": _stamp(user)})


def read(token: str, purpose: str, max_age: int) -> dict:
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("This link has expired. Ask for a new one below.") from None
    except BadSignature:
        raise TokenError("This link is not valid. Ask for a new one below.") from None


def reset_token_matches(data: dict, user) -> bool:
    return data.get("pw") == _fingerprint(user.password_hash) and still_pending(data, user)


def still_pending(data: dict, user) -> bool:
    """No security event (revocation.py) happened to the account since the link was made."""
    return data.get("st") == _stamp(user)


REVOKED = (
    "This link no longer works: since it was sent, the account's email or password changed, "
    "or it was signed out everywhere. Ask for a new one."
)
