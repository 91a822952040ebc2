"""What a security event takes back, in one place.

Sign-out (which ends every session), a password change or reset, an email
change, a suspension and an account deletion all call `revoke_access`: every
session of the account ends, every link still waiting in a mailbox (email
change, password reset) stops working, and the private calendar feed's address
is turned off. Emailed links carry a fingerprint of the session token (see
tokens.py), so the new token that ends the sessions also ends the links.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import BookingDraft, BookingSettings, TherapistProfile, User


def revoke_access(user: User) -> None:
    """End the account's sessions and pending links and turn off its calendar feed.
    No commit: it belongs to the caller's transaction."""
    user.end_sessions()
    profile_id = select(TherapistProfile.id).where(TherapistProfile.user_id == user.id).scalar_subquery()
    db.session.execute(
        update(BookingSettings)
        .where(BookingSettings.therapist_id == profile_id, BookingSettings.calendar_token.is_not(None))
        .values(calendar_token=None)
        .execution_options(synchronize_session="fetch")
    )


def forget_draft(key: str | None) -> None:
    """The booking form this browser kept across sign-in (bookings/drafts.py) goes
    at sign-out: a draft belongs to the browser session that wrote it."""
    if key:
        db.session.execute(delete(BookingDraft).where(BookingDraft.key_is(key)))
