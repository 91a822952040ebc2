"""Reviewing a completed visit, and the therapist's one reply. The URLs sit under
the booking and the account they belong to."""

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required

from ..auth.decorators import therapist_required
from ..errors import flash_error
from ..extensions import db
from ..models import Booking, Review
from ..service_errors import ServiceError
from . import bp, services
from .forms import ReplyForm, ReviewForm


@bp.post("/account/bookings/<int:booking_id>/review")
@login_required
def add(booking_id: int):
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.client_id != current_user.id:
        abort(404)  # another person's visit looks like no visit
    form = ReviewForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError(next(iter(form.errors.values()))[0])
        services.add_review(current_user, booking, int(form.rating.data), form.text.data)
        flash("Thank you for your review.", "success")
    except ServiceError as exc:
        flash_error(exc)
    return redirect(url_for("bookings.detail", booking_id=booking_id))


@bp.post("/account/reviews/<int:review_id>/reply")
@therapist_required
def reply(review_id: int):
    review = db.session.get(Review, review_id)
    if review is None or review.therapist_id != current_user.therapist.id:
        abort(404)
    form = ReplyForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError("Write your reply.")
        services.reply(current_user.therapist, review, form.text.data)
        flash("Reply published.", "success")
    except ServiceError as exc:
        flash_error(exc)
    return redirect(url_for("bookings.detail", booking_id=review.booking_id))
