"""Booking pages: choose a time and send an intake (signing in on the way if need
be); the bookings of each side, with messages, moving and cancelling; availability,
policies and the private calendar feed."""

import math
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import Response, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from .. import clock, notifications
from ..auth.decorators import PENDING_BOOKING, therapist_required
from ..errors import flash_error, show_on_form
from ..extensions import limiter
from ..links import public_url
from ..models import Role
from ..receipts.services import Payment
from ..reviews.forms import ReplyForm, ReviewForm
from ..service_errors import Conflict, ServiceError
from ..therapists.services import get_listable
from ..therapists.visibility import Audience, place_of
from . import bp, drafts, services
from .availability import WEEKDAYS, default_length, free_starts
from .forms import (
    BookingForm,
    CancelForm,
    CompleteForm,
    DecisionForm,
    MessageForm,
    PolicyForm,
    RescheduleForm,
    SearchContext,
    TimeOffForm,
    WeeklyHoursForm,
    parse_day,
    parse_start,
)

# --- choosing a time and sending the intake ----------------------------------------------


def _choose(days: dict, day: date | None, start: datetime | None) -> tuple[date | None, str | None]:
    """The day on show and the start time ticked: the one asked for when it is offered."""
    if start is not None and day is None:
        day = next((d for d, starts in days.items() if any(s.astimezone(UTC) == start for s in starts)), None)
    if day not in days:
        day = next(iter(days), None)
    offered = {s.astimezone(UTC) for s in days.get(day, [])}
    return day, start.isoformat() if start is not None and start in offered else None


def _booking_page(profile, form, status=200, *, context=None, resumed=False):
    lengths = [p.minutes for p in profile.prices]
    minutes = request.values.get("minutes", type=int)
    if minutes not in lengths:
        minutes = default_length(lengths)
    days = free_starts(profile, minutes) if minutes else {}
    start = parse_start(form.start.data or request.args.get("start"))
    day, chosen = _choose(days, parse_day(form.day.data or request.values.get("day")), start)
    context = context or SearchContext.from_args(request.args)
    return render_template(
        "bookings/book.html",
        t=profile,
        form=form,
        minutes=minutes,
        lengths=lengths,
        days=days,
        chosen_day=day,
        chosen=chosen,
        zone=profile.zone,
        context=context,
        resumed=resumed,
        policy=services.settings_of(profile),
    ), status


@bp.get("/therapists/<int:therapist_id>/book")
def book(therapist_id: int):
    profile = get_listable(therapist_id)
    if profile is None:
        abort(404)
    form = BookingForm(formdata=None)
    draft = drafts.find(session.get(PENDING_BOOKING))
    if draft is not None and draft.therapist_id == profile.id:
        # Back from signing in: everything typed, as it was.
        form.fill(draft.intake)
        form.start.data = draft.start.isoformat() if draft.start else None
        return _booking_page(profile, form, resumed=True)
    context = SearchContext.from_args(request.args)
    form.goals.data, form.conditions.data = list(context.goals), list(context.conditions)
    return _booking_page(profile, form, context=context)


@bp.post("/therapists/<int:therapist_id>/book")
@limiter.limit("60 per hour")  # a signed-out form is stored as a draft: no flood of them
def request_booking(therapist_id: int):
    """A client's request; anyone else's form is kept while they sign in or sign up."""
    profile = get_listable(therapist_id)
    if profile is None:
        abort(404)
    if current_user.is_authenticated and current_user.role != Role.CLIENT:
        abort(403)
    form = BookingForm()
    start = parse_start(form.start.data) if form.validate_on_submit() else None
    if start is None:  # validate_start refuses what parse_start cannot read
        return _booking_page(profile, form, 400)
    minutes, intake = int(form.minutes.data), form.intake()
    try:
        if not current_user.is_authenticated:
            services.check_request(profile, start, minutes, intake)
            session[PENDING_BOOKING] = drafts.keep(session.get(PENDING_BOOKING), profile.id, start, minutes, intake)
            back = url_for(
                "bookings.book",
                therapist_id=profile.id,
                minutes=minutes,
                day=start.astimezone(profile.zone).date().isoformat(),
            )
            return redirect(url_for("auth.login", next=back))
        booking = services.request_booking(current_user, profile, start, minutes, intake)
    except ServiceError as exc:
        return _booking_page(profile, form, show_on_form(form, exc, default_field="start"))
    drafts.discard(session.pop(PENDING_BOOKING, None))
    flash(f"Request sent to {profile.name}. You will get an email when they answer.", "success")
    return redirect(url_for("bookings.detail", booking_id=booking.id))


# --- the bookings of each side ------------------------------------------------------------


@bp.get("/account/bookings")
@login_required
def mine():
    if current_user.role == Role.CLIENT:
        return render_template(
            "bookings/client_list.html",
            bookings=services.for_client(current_user),
            now=clock.now(),
        )
    if current_user.role == Role.THERAPIST and current_user.therapist is not None:
        return render_template(
            "bookings/therapist_list.html",
            bookings=services.for_therapist(current_user.therapist),
            now=clock.now(),
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


def _detail_page(booking, side: str, complete_form=None, status: int = 200, message_form=None):
    if complete_form is None:
        complete_form = CompleteForm(formdata=None)
        complete_form.offer(booking)
    now = clock.now()
    return render_template(
        "bookings/detail.html",
        b=booking,
        side=side,
        decision=DecisionForm(),
        cancel=CancelForm(),
        complete_form=complete_form,
        review_form=ReviewForm(),
        reply_form=ReplyForm(),
        message_form=message_form or MessageForm(formdata=None),
        messages=services.messages(booking),
        policy=services.settings_of(booking.therapist),
        deadline=services.client_change_deadline(booking),
        zone=booking.therapist.zone,
        now=now,
    ), status


def _act(booking_id: int, action):
    booking, side = _mine_or_404(booking_id)
    try:
        action(booking, side)
    except Conflict as exc:  # the booking changed under this click: say what it is now (409)
        flash_error(exc)
        return _detail_page(booking, side, status=exc.status)
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
        flash("The booking is cancelled and both sides were emailed.", "success")

    return _act(booking_id, run)


# Per person and thread: a conversation's pace, not a flood (each notice mail is folded anyway).
MESSAGE_RATE = "5 per minute;20 per hour"


def _thread_of_signed_in_user() -> str:
    return f"{current_user.get_id()}:{(request.view_args or {}).get('booking_id')}"


def _too_many_messages(limit) -> Response | None:
    """The booking's page again, the text kept in the form, saying when sending works again."""
    booking, side = _mine_or_404(int((request.view_args or {})["booking_id"]))
    seconds = max(1, math.ceil(limit.reset_at - time.time()))
    wait = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    form = MessageForm()
    form.body.errors = [
        f"You have sent {limit.limit.amount} messages on this booking in {_per(limit.limit)}: "
        f"wait {wait}, then send this one. Your text is kept below."
    ]
    page, status = _detail_page(booking, side, status=429, message_form=form)
    return make_response(page, status)


def _per(item) -> str:
    """ "a minute", "an hour" for a limits.RateLimitItem."""
    unit = item.GRANULARITY.name
    return f"{'an' if unit == 'hour' else 'a'} {unit}" if item.multiples == 1 else f"{item.multiples} {unit}s"


@bp.post("/account/bookings/<int:booking_id>/messages")
@limiter.limit(
    MESSAGE_RATE,
    key_func=_thread_of_signed_in_user,
    exempt_when=lambda: not current_user.is_authenticated,
    on_breach=_too_many_messages,
)
@login_required
def message(booking_id: int):
    booking, side = _mine_or_404(booking_id)
    form = MessageForm()
    if not form.validate_on_submit():
        return _detail_page(booking, side, status=400, message_form=form)
    try:
        services.post_message(booking, current_user, side, form.body.data)
    except ServiceError as exc:
        return _detail_page(booking, side, status=show_on_form(form, exc), message_form=form)
    flash(
        "Message sent. The other side gets an email saying new messages wait (at most one every few minutes), "
        "without their text.",
        "success",
    )
    return redirect(url_for("bookings.detail", booking_id=booking_id, _anchor="messages"))


def _client_booking_or_404(booking_id: int):
    booking, side = _mine_or_404(booking_id)
    if side != "client":
        abort(403)
    return booking


def _reschedule_page(booking, form, status=200):
    days = free_starts(booking.therapist, booking.minutes, moving=booking)
    start = parse_start(form.start.data)
    asked = parse_day(form.day.data or request.args.get("day"))
    if asked is None and start is None:  # first shown: the day the booking is on
        asked = booking.starts_at.astimezone(booking.therapist.zone).date()
    day, chosen = _choose(days, asked, start)
    return render_template(
        "bookings/reschedule.html",
        b=booking,
        t=booking.therapist,
        form=form,
        days=days,
        chosen_day=day,
        chosen=chosen,
        zone=booking.therapist.zone,
        deadline=services.client_change_deadline(booking),
    ), status


@bp.get("/account/bookings/<int:booking_id>/reschedule")
@login_required
def reschedule(booking_id: int):
    booking = _client_booking_or_404(booking_id)
    return _reschedule_page(booking, RescheduleForm(formdata=None))


@bp.post("/account/bookings/<int:booking_id>/reschedule")
@login_required
def move(booking_id: int):
    booking = _client_booking_or_404(booking_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        return _reschedule_page(booking, form, 400)
    try:
        services.reschedule(booking, parse_start(form.start.data))  # type: ignore[arg-type]  # validated
    except ServiceError as exc:
        return _reschedule_page(booking, form, show_on_form(form, exc, default_field="start"))
    flash(
        f"Moved to {notifications.when_of(booking)}. The old time is free again; both of you were emailed.", "success"
    )
    return redirect(url_for("bookings.detail", booking_id=booking_id))


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


@bp.post("/account/bookings/<int:booking_id>/no-show")
@login_required
def no_show(booking_id: int):
    def run(booking, side):
        if side != "therapist":
            abort(403)
        if not DecisionForm().validate_on_submit():
            raise ServiceError("The form expired. Reload the page and try again.")
        services.mark_no_show(booking)
        flash("Marked as missed. The client was emailed.", "success")

    return _act(booking_id, run)


# --- availability, policies, calendar ------------------------------------------------------


@bp.route("/account/availability", methods=["GET", "POST"])
@therapist_required
def availability():
    profile = current_user.therapist
    form = WeeklyHoursForm(formdata=None if request.method == "GET" else request.form)
    if request.method == "GET":
        form.load(services.weekly_hours(profile))
    elif form.validate_on_submit():
        source = request.form.get("copy_from", type=int)
        copied = form.copy_to_weekdays(source) if source is not None and 0 <= source < 7 else []
        try:
            services.set_weekly_hours(profile, form.spans(), _settle_choice())
        except services.InTheWay as exc:
            return _availability_page(profile, form, in_the_way=_in_the_way(exc, "bookings.availability"), status=409)
        except ServiceError as exc:
            show_on_form(form, exc)
        else:
            if copied and source is not None:
                flash(f"{WEEKDAYS[source]}'s hours copied to Monday to Friday and saved.", "success")
            else:
                flash("Weekly hours saved." + _settled_words(_settle_choice()), "success")
            return redirect(url_for("bookings.availability"))
    return _availability_page(profile, form, status=400 if request.method == "POST" else 200)


def _policy_form(profile) -> PolicyForm:
    settings = services.settings_of(profile)
    form = PolicyForm(formdata=None)
    form.notice_hours.data, form.buffer_minutes.data = str(settings.notice_hours), str(settings.buffer_minutes)
    form.address_after_confirmation.data, form.phone.data = settings.address_after_confirmation, settings.phone
    return form


SETTLE_FIELDS = ("csrf_token", "settle", "settle_message")


def _settle_choice() -> services.Settle | None:
    """What the therapist chose for booked visits in the way of a change: keep or cancel."""
    choice = request.form.get("settle")
    if choice not in ("keep", "cancel"):
        return None
    return services.Settle(keep=choice == "keep", message=request.form.get("settle_message", ""))


def _settled_words(settle: services.Settle | None) -> str:
    if settle is None:
        return ""
    if settle.keep:
        return " The booked visits in the way are kept."
    return " The booked visits in the way are cancelled and each client was emailed your message."


def _in_the_way(exc, endpoint: str) -> dict:
    """The visits a change would contradict, and the same form again with a choice to make."""
    return {
        "message": str(exc),
        "bookings": exc.bookings,
        "action": url_for(endpoint),
        "fields": [(k, v) for k, v in request.form.items(multi=True) if k not in SETTLE_FIELDS],
        "settle_message": request.form.get("settle_message", ""),
        "needs_message": exc.needs_message,
    }


def _availability_page(profile, form=None, off_form=None, policy_form=None, status=200, in_the_way=None):
    if form is None:
        form = WeeklyHoursForm(formdata=None)
        form.load(services.weekly_hours(profile))
    token = services.settings_of(profile).calendar_token
    return render_template(
        "bookings/availability.html",
        t=profile,
        form=form,
        off_form=off_form or TimeOffForm(formdata=None),
        policy_form=policy_form or _policy_form(profile),
        feed_url=public_url("bookings.calendar_feed", token=token) if token else None,
        time_off=services.time_off(profile),
        in_the_way=in_the_way,
        zone=profile.zone,
        today=clock.today_in(profile.zone),
    ), status


@bp.post("/account/availability/policies")
@therapist_required
def policies():
    profile = current_user.therapist
    form = PolicyForm()
    if form.validate_on_submit():
        try:
            services.set_policies(profile, form.data_for_service(), _settle_choice())
        except services.InTheWay as exc:
            return _availability_page(
                profile, policy_form=form, in_the_way=_in_the_way(exc, "bookings.policies"), status=409
            )
        except ServiceError as exc:
            show_on_form(form, exc)
        else:
            flash("Booking policies saved." + _settled_words(_settle_choice()), "success")
            return redirect(url_for("bookings.availability", _anchor="policies-h"))
    return _availability_page(profile, policy_form=form, status=400)


@bp.post("/account/availability/calendar")
@therapist_required
def calendar_address():
    if DecisionForm().validate_on_submit():
        if request.form.get("action") == "stop":
            services.stop_calendar_feed(current_user.therapist)
            flash("Your calendar feed is off: its address no longer works.", "success")
        else:
            services.new_calendar_address(current_user.therapist)
            flash("Your calendar has a new private address; any older one no longer works.", "success")
    return redirect(url_for("bookings.availability", _anchor="calendar-h"))


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    """A therapist's sessions for their calendar app; the secret address is the only key."""
    profile = services.feed_owner(token)
    if profile is None:
        abort(404)
    entries = [
        (
            b,
            f"Massage: {b.client.name if b.client else 'former client'}"
            + (" (request, not yet accepted)" if b.status.value == "pending" else ""),
            place_of(profile, Audience.THERAPIST).one_line,
            public_url("bookings.detail", booking_id=b.id),
        )
        for b in services.feed_bookings(profile)
    ]
    body = notifications.calendar.feed(f"{profile.name}: bookings", entries, host=notifications.site_host())
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = 'inline; filename="bookings.ics"'
    return response


@bp.post("/account/availability/time-off")
@therapist_required
def add_time_off():
    profile = current_user.therapist
    off_form = TimeOffForm()
    if off_form.validate_on_submit():
        settle = _settle_choice()
        try:
            services.add_time_off(profile, off_form.starts_on.data, off_form.ends_on.data, off_form.note.data, settle)
        except services.InTheWay as exc:
            return _availability_page(
                profile, off_form=off_form, in_the_way=_in_the_way(exc, "bookings.add_time_off"), status=409
            )
        flash("Time off added." + _settled_words(settle), "success")
        return redirect(url_for("bookings.availability"))
    return _availability_page(profile, off_form=off_form, status=400)


@bp.post("/account/availability/time-off/<int:off_id>/remove")
@therapist_required
def remove_time_off(off_id: int):
    if not DecisionForm().validate_on_submit():
        return redirect(url_for("bookings.availability"))
    if not services.remove_time_off(current_user.therapist, off_id):
        abort(404)
    flash("Time off removed.", "success")
    return redirect(url_for("bookings.availability"))
