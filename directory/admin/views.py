"""/admin/...: the verification queue, therapists, and the audit log. Admins only."""

from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..bookings.forms import HideReviewForm
from ..extensions import db
from ..models import TherapistProfile
from . import bp, emails, services
from .forms import DecisionForm, SuspensionForm, TherapistSearchForm


def admin_required(view):
    """Anonymous users get the login page; everyone but admins gets 403."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


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
    except LookupError:
        abort(404)
    except services.AdminError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.verifications")), 303
    emails.credential_decided(kind, credential)
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
        except services.AdminError as exc:
            flash(str(exc), "error")
        else:
            flash(
                f"{profile.name} is {'suspended: gone from the directory now' if suspend else 'no longer suspended'}.",
                "success",
            )
    return redirect(request.referrer if _same_site(request.referrer) else url_for("admin.therapists"))


def _same_site(url) -> bool:
    from urllib.parse import urlsplit

    from ..accounts.views import safe_next

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
    from ..bookings import reviews
    from ..bookings.services import BookingError
    from ..models import Review

    review = db.session.get(Review, review_id)
    if review is None:
        abort(404)
    form = HideReviewForm()
    if not form.validate_on_submit():
        flash("Give the reason for hiding the review.", "error")
    else:
        try:
            reviews.hide(current_user, review, form.reason.data)
        except BookingError as exc:
            flash(str(exc), "error")
        else:
            flash("Review hidden; the rating no longer counts it.", "success")
    return redirect(url_for("admin.review_list"))
