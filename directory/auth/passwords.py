"""Password rules: long enough, not common, and hashed with scrypt."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 200
# Checked against a hash when the email is unknown, so both answers take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000", method="scrypt")


def password_problem(password: str, *user_inputs: str) -> str | None:
    """Why this password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    result = zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u])
    if result["score"] < 2:
        hint = result["feedback"].get("warning") or "It is among the passwords attackers try first."
        return f"This password is too common or easy to guess. {hint}".strip()
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)
