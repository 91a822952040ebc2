"""Reviews: only after a completed visit, one per booking; one reply; admins may hide."""

from __future__ import annotations

from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..models import Booking, BookingStatus, Review, TherapistProfile, User, utcnow
from ..service_errors import Conflict, Forbidden, ServiceError

MAX_TEXT = 2000


def add_review(client: User, booking: Booking, rating: int, text: str) -> Review:
    if booking.client_id != client.id:
        raise Forbidden("You can only review your own visits.")
    if booking.status != BookingStatus.COMPLETED:
        raise ServiceError("You can review a visit once it is completed.")
    if booking.review is not None:
        raise Conflict("You already reviewed this visit.")
    if not 1 <= int(rating) <= 5:
        raise ServiceError("Choose 1 to 5 stars.", field="rating")
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise ServiceError(f"Write between 1 and {MAX_TEXT} characters.", field="text")
    review = Review(
        booking=booking,
        therapist_id=booking.therapist_id,
        client_id=client.id,
        author_name=_first_name(client),
        rating=int(rating),
        text=text,
    )
    db.session.add(review)
    db.session.flush()
    refresh_rating(booking.therapist)
    db.session.commit()
    return review


def _first_name(user: User) -> str:
    name = (user.name or "").strip().split(" ")
    return f"{name[0]} {name[1][0]}." if len(name) > 1 and name[1] else (name[0] or "A client")


def reply(profile: TherapistProfile, review: Review, text: str) -> Review:
    if review.therapist_id != profile.id:
        raise Forbidden("You can only reply to reviews of your own visits.")
    if review.reply:
        raise Conflict("You already replied to this review.")
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise ServiceError(f"Write between 1 and {MAX_TEXT} characters.", field="text")
    review.reply, review.replied_at = text, utcnow()
    db.session.commit()
    return review


def hide(admin: User, review: Review, reason: str) -> Review:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give the reason for hiding the review.", field="reason")
    if review.hidden_at is not None:
        raise Conflict("This review is already hidden.")
    before = {"hidden_at": None, "hidden_reason": None}
    review.hidden_at, review.hidden_reason = utcnow(), reason
    refresh_rating(db.session.get_one(TherapistProfile, review.therapist_id))
    audit.record(
        admin,
        "review_hidden",
        "review",
        review.id,
        subject_label=f"review of therapist {review.therapist_id}",
        before=before,
        after={"hidden_at": review.hidden_at, "hidden_reason": reason},
        note=reason,
    )
    db.session.commit()
    return review


def refresh_rating(profile: TherapistProfile) -> None:
    """Average and count of visible reviews, kept on the profile for search."""
    count, average = db.session.execute(
        select(func.count(Review.id), func.avg(Review.rating)).where(
            Review.therapist_id == profile.id, Review.hidden_at.is_(None)
        )
    ).one()
    profile.rating_count, profile.rating_average = int(count), (round(float(average), 3) if count else None)


def visible_reviews(profile: TherapistProfile) -> list[Review]:
    return list(
        db.session.scalars(
            select(Review)
            .where(Review.therapist_id == profile.id, Review.hidden_at.is_(None))
            .order_by(Review.created_at.desc())
        )
    )
