"""/admin/...: the verification queue, therapists, and the audit log. Admins only."""

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import notifications
from ..auth.decorators import admin_required, safe_next
from ..errors import flash_error
from ..extensions import db
from ..models import Review, TherapistProfile
from ..reviews import services as reviews
from ..reviews.forms import HideReviewForm
from ..service_errors import NotFound, ServiceError
from . import bp, services
from .forms import DecisionForm, SuspensionForm, TherapistSearchForm


@bp.before_request
@admin_required
def _admins_only():
    """Every /admin page, present and future, is for admins only."""


@bp.get("/verifications")
def verifications():
    return render_template("admin/verifications.html", queue=services.pending_queue(), form=DecisionForm())


@bp.post("/verifications/<kind>/<int:credential_id>")
def decide(kind: str, credential_id: int):
    form = DecisionForm()
    if kind not in ("license", "certification"):
        abort(404)
    approve = request.form.get("decision") == "approve"
    if not form.validate_on_submit() or request.form.get("decision") not in ("approve", "reject"):
        flash("Choose approve or reject.", "error")
        return redirect(url_for("admin.verifications"))
    try:
        credential = services.decide(current_user, kind, credential_id, approve=approve, reason=form.reason.data)
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash_error(exc)
        return redirect(url_for("admin.verifications")), 303
    notifications.credential_decided(kind, credential)
    flash(
        f"{'Approved' if approve else 'Rejected'}: {credential.therapist.name}'s {kind}. The therapist was emailed.",
        "success",
    )
    return redirect(url_for("admin.verifications"))


@bp.get("/therapists")
def therapists():
    form = TherapistSearchForm(request.args)
    form.validate()
    query = services.TherapistQuery(
        text=(form.q.data or "").strip(),
        state=form.state.data if form.state.data in dict((c.value, c) for c in form.state.choices) else "",
        status=form.status.data if form.status.data in services.TherapistQuery.STATUSES else "",
    )
    return render_template(
        "admin/therapists.html", form=form, results=services.search_therapists(query), suspend_form=SuspensionForm()
    )


@bp.post("/therapists/<int:therapist_id>/suspension")
def suspension(therapist_id: int):
    profile = db.session.get(TherapistProfile, therapist_id)
    if profile is None:
        abort(404)
    form = SuspensionForm()
    suspend = request.form.get("action") == "suspend"
    if not form.validate_on_submit():
        flash("Give the reason for the suspension change.", "error")
    else:
        try:
            services.set_suspension(current_user, profile, suspend=suspend, reason=form.reason.data)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(
                f"{profile.name} is {'suspended: gone from the directory now' if suspend else 'no longer suspended'}.",
                "success",
            )
    return redirect(request.referrer if _same_site(request.referrer) else url_for("admin.therapists"))


def _same_site(url) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return parts.netloc == request.host and safe_next(parts.path) is not None


@bp.get("/audit")
def audit_log():
    return render_template("admin/audit.html", page=_page(services.audit_entries()))


@bp.get("/bookings")
def bookings():
    """Booking metadata only: admins never see a client's intake."""
    return render_template("admin/bookings.html", page=_page(services.bookings_newest_first()))


@bp.get("/reviews")
def review_list():
    return render_template("admin/reviews.html", page=_page(services.reviews_newest_first()), form=HideReviewForm())


def _page(stmt):
    return db.paginate(stmt, per_page=50, error_out=False)


@bp.post("/reviews/<int:review_id>/hide")
def hide_review(review_id: int):
    review = db.session.get(Review, review_id)
    if review is None:
        abort(404)
    form = HideReviewForm()
    if not form.validate_on_submit():
        flash("Give the reason for hiding the review.", "error")
    else:
        try:
            reviews.hide(current_user, review, form.reason.data)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash("Review hidden; the rating no longer counts it.", "success")
    return redirect(url_for("admin.review_list"))
