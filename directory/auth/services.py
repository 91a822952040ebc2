"""Account rules: sign-up, sign-in, confirmation, password reset, and changing one's email or password."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, notifications
from ..account_erasure import erase_client
from ..booking_states import settling
from ..extensions import db
from ..models import Role, User, utcnow
from ..service_errors import Forbidden, ServiceError
from ..text_rules import one_line_problem
from ..therapists.profiles import new_profile
from . import throttle, tokens
from .passwords import hash_password, password_problem, verify_password
from .revocation import forget_draft, revoke_access


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


@dataclass(frozen=True)
class Registration:
    """A sign-up's outcome. The person signing up is told the same either way
    (no one learns which emails have accounts); the mail differs."""

    user: User
    created: bool  # False: the email already had an account, `user` is its owner


def register(name: str, email: str, password: str, role: Role = Role.THERAPIST) -> Registration:
    """A client or therapist account (a therapist gets an empty profile); one transaction."""
    if role not in (Role.CLIENT, Role.THERAPIST):
        raise Forbidden("Accounts are for clients or therapists.")
    if (problem := one_line_problem(name, "name", "name")) is not None:
        raise problem
    email = normalise_email(email)
    password_hash = hash_password(password)  # also for a known email: both answers take as long
    existing = find_user(email)
    if existing is not None:
        return Registration(existing, created=False)
    user = User(email=email, name=name.strip(), role=role, password_hash=password_hash)
    db.session.add(user)
    if role == Role.THERAPIST:
        new_profile(user, name)
    try:
        db.session.commit()
    except IntegrityError:  # the same email signed up at the same moment
        db.session.rollback()
        existing = find_user(email)
        if existing is None:
            raise
        return Registration(existing, created=False)
    return Registration(user, created=True)


def sign_out_everywhere(user: User | None, draft_key: str | None = None) -> None:
    """End every session of this user on every device, with its pending links and
    calendar feed (revocation.py), and the booking draft this browser kept."""
    if user is not None:
        revoke_access(user)
    forget_draft(draft_key)
    db.session.commit()


def delete_client_account(user: User, password: str, *, draft_key: str | None = None) -> None:
    """Remove the account: its health text erased, upcoming bookings cancelled, what must
    be kept kept without it (account_erasure.py says what and why). One transaction."""
    if user.role != Role.CLIENT:
        raise Forbidden("Only client accounts can be deleted here; therapists, please contact us.")
    if not verify_password(user.password_hash, password):
        raise ServiceError("That password is not right.", field="password")
    with settling():
        erase_client(user, draft_key=draft_key)
        revoke_access(user)  # sessions, pending links
        db.session.delete(user)


class SignInPaused(ServiceError):
    """This address must wait before trying this account's password again (throttle.py)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, seconds: int):
        plural = "s" if seconds != 1 else ""
        wait = f"{seconds} second{plural}" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
        super().__init__(
            f"Too many wrong passwords for this account. Try again in {wait}, or choose a new password.",
            field="password",
        )
        self.seconds = seconds


def sign_in(email: str, password: str, address: str) -> User:
    """The account, once its password is given. Guesses are slowed per account and address
    (throttle.py), and a try that is not made to wait is always checked, so the owner is
    never locked out by someone else's failures."""
    email = normalise_email(email)
    wait = throttle.seconds_to_wait(email, address)
    if wait:
        raise SignInPaused(wait)
    user = authenticate(email, password)
    if user is None:
        if throttle.record_failure(email, address):
            notifications.sign_in_failures(find_user(email))
        raise ServiceError("That email and password do not match an account.", field="password")
    throttle.record_success(email, address)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user, or None: the same answer for an unknown email and a wrong password."""
    user = find_user(email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return None
    user.last_login_at = utcnow()
    if user.is_admin:
        audit.record(user, "admin_login", "user", user.id, subject_label=user.email)
    db.session.commit()
    return user


def confirm_email(token: str) -> User:
    data = tokens.read(token, "confirm", tokens.CONFIRM_MAX_AGE)
    user = db.session.get(User, data.get("uid"))
    if user is None or user.email != data.get("email"):
        raise tokens.TokenError("This link is not valid. Ask for a new one below.")
    if user.email_confirmed_at is not None:
        raise tokens.TokenError("This link was already used: your email is confirmed.")
    user.email_confirmed_at = utcnow()
    db.session.commit()
    return user


def user_for_reset(token: str) -> User:
    data = tokens.read(token, "reset", tokens.RESET_MAX_AGE)
    user = db.session.get(User, data.get("uid"))
    if user is None or not tokens.reset_token_matches(data, user):
        raise tokens.TokenError("This link was already used or is no longer valid. Ask for a new one below.")
    return user


def reset_password(token: str, password: str) -> User:
    """The new password; every session of the account ends (User's password rule)."""
    user = user_for_reset(token)
    user.password_hash = hash_password(password)
    revoke_access(user)
    # Following the emailed link proves the address is theirs.
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """A new password, once the current one is given; every other session of the
    account ends (User's password rule gives it a new session token)."""
    if not verify_password(user.password_hash, current):
        raise ServiceError("That is not your current password.", field="current_password")
    problem = password_problem(new, user.email, user.name)
    if problem:
        raise ServiceError(problem, field="password")
    user.password_hash = hash_password(new)
    revoke_access(user)
    notifications.password_changed(user)  # written with the change: never one without the other
    db.session.commit()


@dataclass(frozen=True)
class EmailChange:
    """Where the confirmation goes, and whether that address is free (the answer the
    person sees is the same either way: the mail to the new address says which)."""

    new_email: str
    taken: bool


def request_email_change(user: User, password: str, new_email: str) -> EmailChange:
    """Checked now, made when the link mailed to the new address is followed."""
    if not verify_password(user.password_hash, password):
        raise ServiceError("That is not your current password.", field="current_password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise ServiceError("That is already your email address.", field="email")
    return EmailChange(new_email, taken=find_user(new_email) is not None)


def change_email(token: str) -> tuple[User, str]:
    """Follow the link: the account moves to the new address (confirmed by this very
    link), a security event like a password change. The user and the address it left."""
    data = tokens.read(token, "email-change", tokens.CONFIRM_MAX_AGE)
    user = db.session.get(User, data.get("uid"))
    if user is None:
        raise tokens.TokenError("This link is not valid. Ask for a new one.")
    if user.email != data.get("old"):
        raise tokens.TokenError(
            f"This link was already used or is no longer valid: your account no longer uses {data.get('old')}. "
            "Ask for a new one."
        )
    if not tokens.still_pending(data, user):
        raise tokens.TokenError(tokens.REVOKED)
    old, new = user.email, data.get("new", "")
    if find_user(new) is not None:
        raise tokens.TokenError(f"{new} already has an account of its own; your address was not changed.")
    user.email, user.email_confirmed_at = new, utcnow()
    revoke_access(user)  # every other link and session of the old address ends
    notifications.email_changed(user, old)  # the old address is told, in the change's transaction
    try:
        db.session.commit()
    except IntegrityError:  # taken at the same moment
        db.session.rollback()
        raise tokens.TokenError(f"{new} already has an account of its own; your address was not changed.") from None
    return user, old
