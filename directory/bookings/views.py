"""Booking pages: choose a time and send an intake; the bookings of each side;
availability."""

from datetime import UTC, date, datetime
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import notifications
from ..auth.decorators import therapist_required
from ..errors import flash_error, show_on_form
from ..models import Role
from ..receipts.services import Payment
from ..reviews.forms import ReplyForm, ReviewForm
from ..service_errors import ServiceError
from ..therapists.services import get_listable
from . import bp, services
from .availability import free_starts
from .forms import BookingForm, CancelForm, CompleteForm, DecisionForm, TimeOffForm, WeeklyHoursForm


def _booking_page(profile, form, status=200):
    lengths = [p.minutes for p in profile.prices]
    minutes = request.values.get("minutes", type=int) or (60 if 60 in lengths else (lengths[0] if lengths else None))
    if minutes not in lengths:
        minutes = lengths[0] if lengths else None
    days = free_starts(profile, minutes) if minutes else {}
    chosen_day = None
    if request.values.get("day"):
        try:
            chosen_day = date.fromisoformat(request.values["day"])
        except ValueError:
            chosen_day = None
    if chosen_day not in days:
        chosen_day = next(iter(days), None)
    return render_template(
        "bookings/book.html",
        t=profile,
        form=form,
        minutes=minutes,
        lengths=lengths,
        days=days,
        chosen_day=chosen_day,
        zone=profile.zone,
    ), status


@bp.get("/therapists/<int:therapist_id>/book")
def book(therapist_id: int):
    profile = get_listable(therapist_id)
    if profile is None:
        abort(404)
    return _booking_page(profile, BookingForm(formdata=None))


@bp.post("/therapists/<int:therapist_id>/book")
@login_required
def request_booking(therapist_id: int):
    profile = get_listable(therapist_id)
    if profile is None:
        abort(404)
    if current_user.role != Role.CLIENT:
        abort(403)
    form = BookingForm()
    if form.validate_on_submit():
        try:
            start = datetime.fromisoformat(form.start.data)
            if start.tzinfo is None:
                raise ValueError
        except ValueError:
            form.start.errors.append("Choose one of the offered start times.")
            return _booking_page(profile, form, 400)
        intake = services.IntakeData(
            concerns=form.concerns.data or "",
            goals=tuple(form.goals.data or ()),
            conditions=tuple(form.conditions.data or ()),
            medications=form.medications.data or "",
            history=form.history.data or "",
        )
        try:
            booking = services.request_booking(current_user, profile, start, int(form.minutes.data), intake)
        except ServiceError as exc:
            return _booking_page(profile, form, show_on_form(form, exc, default_field="start"))
        notifications.booking_requested(booking)
        flash(f"Request sent to {profile.name}. You will get an email when they answer.", "success")
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    return _booking_page(profile, form, 400)


@bp.get("/account/bookings")
@login_required
def mine():
    if current_user.role == Role.CLIENT:
        return render_template(
            "bookings/client_list.html",
            bookings=services.for_client(current_user),
            now=datetime.now(UTC),
        )
    if current_user.role == Role.THERAPIST and current_user.therapist is not None:
        return render_template(
            "bookings/therapist_list.html",
            bookings=services.for_therapist(current_user.therapist),
            now=datetime.now(UTC),
        )
    abort(403)


def _mine_or_404(booking_id: int):
    found = services.visible_to(current_user, booking_id)
    if found is None:
        abort(404)  # another person's booking looks like no booking
    return found


@bp.get("/account/bookings/<int:booking_id>")
@login_required
def detail(booking_id: int):
    booking, side = _mine_or_404(booking_id)
    return _detail_page(booking, side)


def _detail_page(booking, side: str, complete_form: CompleteForm | None = None, status: int = 200):
    if complete_form is None:
        complete_form = CompleteForm(formdata=None)
        complete_form.offer(booking)
    return render_template(
        "bookings/detail.html",
        b=booking,
        side=side,
        decision=DecisionForm(),
        cancel=CancelForm(),
        complete_form=complete_form,
        review_form=ReviewForm(),
        reply_form=ReplyForm(),
        zone=booking.therapist.zone,
        now=datetime.now(UTC),
    ), status


def _act(booking_id: int, action):
    booking, side = _mine_or_404(booking_id)
    try:
        action(booking, side)
    except ServiceError as exc:
        flash_error(exc)
    return redirect(url_for("bookings.detail", booking_id=booking_id))


@bp.post("/account/bookings/<int:booking_id>/decide")
@login_required
def decide(booking_id: int):
    def run(booking, side):
        form = DecisionForm()
        if side != "therapist":
            abort(403)
        if not form.validate_on_submit() or request.form.get("decision") not in ("accept", "decline"):
            raise ServiceError("Choose accept or decline.")
        services.decide(
            booking.therapist, booking, accept=request.form["decision"] == "accept", message=form.message.data
        )
        notifications.booking_decided(booking)
        flash("Answer sent to the client.", "success")

    return _act(booking_id, run)


@bp.post("/account/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    def run(booking, side):
        form = CancelForm()
        if not form.validate_on_submit():
            raise ServiceError("Give a reason for cancelling: the other side will read it.")
        services.cancel(booking, by=side, reason=form.reason.data)
        notifications.booking_cancelled(booking)
        flash("The booking is cancelled and both sides were emailed.", "success")

    return _act(booking_id, run)


@bp.post("/account/bookings/<int:booking_id>/complete")
@login_required
def complete(booking_id: int):
    """The therapist confirms what was paid; the visit is completed and its receipt issued."""
    booking, side = _mine_or_404(booking_id)
    if side != "therapist":
        abort(403)
    form = CompleteForm()
    form.offer(booking)
    if not form.validate_on_submit():
        return _detail_page(booking, side, form, 400)
    amount, tip = form.amount_paid.data or Decimal("0"), form.tip.data or Decimal("0")
    payment = Payment(amount, tip, form.technique.data or None)
    try:
        services.complete(booking, payment)
    except ServiceError as exc:
        if exc.field in form:
            return _detail_page(booking, side, form, show_on_form(form, exc))
        flash_error(exc)
    else:
        flash("Marked completed. The client can now review the visit and download the receipt.", "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))


@bp.route("/account/availability", methods=["GET", "POST"])
@therapist_required
def availability():
    profile = current_user.therapist
    data = {}
    for day, h in services.weekly_hours(profile).items():
        data[f"d{day}_start"], data[f"d{day}_end"] = h.start_time, h.end_time
    form = WeeklyHoursForm(data=data if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.set_weekly_hours(profile, form.spans())
        except ServiceError as exc:
            show_on_form(form, exc)
        else:
            flash("Weekly hours saved.", "success")
            return redirect(url_for("bookings.availability"))
    return _availability_page(profile, form, TimeOffForm(formdata=None), 400 if request.method == "POST" else 200)


def _availability_page(profile, form, off_form, status=200):
    return render_template(
        "bookings/availability.html",
        t=profile,
        form=form,
        off_form=off_form,
        time_off=services.time_off(profile),
        zone=profile.zone,
        today=date.today(),
    ), status


@bp.post("/account/availability/time-off")
@therapist_required
def add_time_off():
    profile = current_user.therapist
    off_form = TimeOffForm()
    if off_form.validate_on_submit():
        services.add_time_off(profile, off_form.starts_on.data, off_form.ends_on.data, off_form.note.data)
        flash("Time off added.", "success")
        return redirect(url_for("bookings.availability"))
    return _availability_page(profile, WeeklyHoursForm(formdata=None), off_form, 400)


@bp.post("/account/availability/time-off/<int:off_id>/remove")
@therapist_required
def remove_time_off(off_id: int):
    if not DecisionForm().validate_on_submit():
        return redirect(url_for("bookings.availability"))
    if not services.remove_time_off(current_user.therapist, off_id):
        abort(404)
    flash("Time off removed.", "success")
    return redirect(url_for("bookings.availability"))
