"""/admin/...: the verification queue, therapists, the audit log, bookings and reviews. Admins only.

Every list keeps its search, filters and page in the query string; a form
posted from a list carries them in its action, so the admin lands back where
they were, and a mistake is shown at its field on that same page.
"""

from typing import Any
from urllib.parse import urlencode

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import booking_states, jobs, outbox
from ..auth.decorators import admin_required
from ..errors import flash_error, show_on_form
from ..extensions import db
from ..models import Review, TherapistProfile
from ..reviews import services as reviews
from ..reviews.forms import HideReviewForm
from ..service_errors import NotFound, ServiceError
from . import bp, lists, services
from .forms import (
    AuditFilters,
    BookingFilters,
    DecisionForm,
    ListForm,
    OutboxRetryForm,
    ReviewFilters,
    SuspensionForm,
    TherapistFilters,
    VerificationFilters,
)


@bp.before_request
@admin_required
def _admins_only():
    """Every /admin page, present and future, is for admins only."""


def _list_args(filters: type[ListForm]) -> dict[str, Any]:
    """The list's search, filters and page, as the current URL carries them (its own names only)."""
    return filters.carried(request.args)


def _carrying(filters: type[ListForm]):
    """A form's action that carries the list's search, filters and page along."""

    def with_list_args(url: str) -> str:
        query = urlencode(_list_args(filters))
        return f"{url}?{query}" if query else url

    return with_list_args


def _still_listed(error_at, listed: list, form):
    """Where the form's errors go: at the item's field, or, when the item has left the page
    meanwhile (decided by another admin), at the top."""
    if error_at is None or error_at in listed:
        return error_at
    for message in form.reason.errors if form else ():
        flash(message, "error")
    return None


@bp.get("/verifications")
def verifications():
    return _queue_page()


def _queue_page(error_at: tuple[str, int] | None = None, form: DecisionForm | None = None, status: int = 200):
    """The queue; `error_at` names the decision whose form shows `form`'s errors at its fields."""
    filters = VerificationFilters(request.args)
    page = lists.verification_page(filters.to_query())
    error_at = _still_listed(error_at, [(i.kind, i.credential.id) for i in page.items], form)
    return render_template(
        "admin/verifications.html",
        page=page,
        filters=filters,
        form=form or DecisionForm(formdata=None),
        error_at=error_at,
        with_list_args=_carrying(VerificationFilters),
    ), status


@bp.post("/verifications/<kind>/<int:credential_id>")
def decide(kind: str, credential_id: int):
    if kind not in ("license", "certification"):
        abort(404)
    form = DecisionForm()
    decision = request.form.get("decision")
    back = url_for("admin.verifications", **_list_args(VerificationFilters))
    if not form.validate_on_submit():
        return _queue_page((kind, credential_id), form, 400)
    if decision not in ("approve", "reject"):
        flash("Choose approve or reject.", "error")
        return redirect(back, 303)
    approve = decision == "approve"
    try:
        credential = services.decide(current_user, kind, credential_id, approve=approve, reason=form.reason.data)
    except NotFound:
        abort(404)
    except ServiceError as exc:
        if exc.field == "reason":
            return _queue_page((kind, credential_id), form, show_on_form(form, exc))
        flash_error(exc)
        return redirect(back), 303
    flash(
        f"{'Approved' if approve else 'Rejected'}: {credential.therapist.name}'s {kind}. The therapist was emailed.",
        "success",
    )
    return redirect(back)


@bp.get("/therapists")
def therapists():
    filters = TherapistFilters(request.args)
    page = lists.therapist_page(filters.to_query())
    return render_template(
        "admin/therapists.html", filters=filters, page=page, with_list_args=_carrying(TherapistFilters)
    )


@bp.route("/therapists/<int:therapist_id>/suspension", methods=["GET", "POST"])
def suspension(therapist_id: int):
    """A confirmation step: who, what suspending does, and the reason; then suspend (or lift it)."""
    profile = db.session.get(TherapistProfile, therapist_id)
    if profile is None:
        abort(404)
    form = SuspensionForm(formdata=None) if request.method == "GET" else SuspensionForm()
    back = url_for("admin.therapists", **_list_args(TherapistFilters))
    status = 200
    if request.method == "POST":
        suspend = request.form.get("action") == "suspend"
        if not form.validate_on_submit():
            status = 400
        else:
            try:
                services.set_suspension(current_user, profile, suspend=suspend, reason=form.reason.data)
            except ServiceError as exc:
                status = show_on_form(form, exc)
            else:
                flash(
                    f"{profile.name} is "
                    f"{'suspended: gone from the directory now' if suspend else 'no longer suspended'}."
                    + (" Their future bookings were declined or cancelled and each client emailed." if suspend else ""),
                    "success",
                )
                return redirect(back)
    settled = booking_states.settlement(profile) if profile.suspended_at is None else []
    return render_template(
        "admin/suspension.html",
        t=profile,
        form=form,
        back=back,
        with_list_args=_carrying(TherapistFilters),
        settled=[(b, booking_states.SETTLED[action]) for b, action in settled],
    ), status


@bp.get("/audit")
def audit_log():
    filters = AuditFilters(request.args)
    return render_template("admin/audit.html", filters=filters, page=lists.audit_page(filters.to_query()))


@bp.get("/bookings")
def bookings():
    """Booking metadata only: admins never see a client's intake."""
    filters = BookingFilters(request.args)
    return render_template("admin/bookings.html", filters=filters, page=lists.booking_page(filters.to_query()))


@bp.get("/reviews")
def review_list():
    return _reviews_page()


def _reviews_page(error_at: int | None = None, form: HideReviewForm | None = None, status: int = 200):
    filters = ReviewFilters(request.args)
    page = lists.review_page(filters.to_query())
    error_at = _still_listed(error_at, [r.id for r in page.items], form)
    return render_template(
        "admin/reviews.html",
        filters=filters,
        page=page,
        form=form or HideReviewForm(formdata=None),
        error_at=error_at,
        with_list_args=_carrying(ReviewFilters),
    ), status


@bp.post("/reviews/<int:review_id>/hide")
def hide_review(review_id: int):
    review = db.session.get(Review, review_id)
    if review is None:
        abort(404)
    form = HideReviewForm()
    if not form.validate_on_submit():
        return _reviews_page(review_id, form, 400)
    try:
        reviews.hide(current_user, review, form.reason.data)
    except ServiceError as exc:
        if exc.field == "reason":
            return _reviews_page(review_id, form, show_on_form(form, exc))
        flash_error(exc)
    else:
        flash("Review hidden; the rating no longer counts it.", "success")
    return redirect(url_for("admin.review_list", **_list_args(ReviewFilters)))


@bp.get("/outbox")
def outbox_jobs():
    """Mail and jobs that failed, are being retried, or wait with no worker taking them."""
    return render_template("admin/outbox.html", jobs=outbox.needing_attention(), late=outbox.LATE)


@bp.post("/outbox/<int:job_id>/retry")
def retry_outbox_job(job_id: int):
    if not OutboxRetryForm().validate_on_submit():
        flash("The form expired: try again.", "error")
        return redirect(url_for("admin.outbox_jobs"), 303)
    try:
        services.retry_outbox_job(current_user, job_id)
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash_error(exc)
    else:
        jobs.kick(current_app._get_current_object(), [job_id])  # type: ignore[attr-defined]
        flash(f"Job {job_id} will be tried again now.", "success")
    return redirect(url_for("admin.outbox_jobs"), 303)
