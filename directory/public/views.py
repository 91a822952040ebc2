"""Public pages: home, the listing, a profile, and the health check."""

from flask import abort, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import text

from .. import stats, uploads
from ..bookings.availability import next_free
from ..bookings.forms import SearchContext
from ..extensions import db, replica_reads
from ..matching.rules import published
from ..models import TherapistProfile
from ..reviews.services import visible_reviews
from ..service_errors import ServiceError
from ..therapists.services import ListingFilters, get_listable, listed_cities, listing_query
from . import bp


@bp.get("/")
@replica_reads
def home():
    return render_template("public/home.html", cities=listed_cities())


@bp.get("/therapists")
@replica_reads
def therapists():
    try:
        filters = ListingFilters.parse(request.args)
    except ServiceError as exc:
        return render_template(
            "public/therapists.html", page=None, filters=request.args, error=str(exc), field=exc.field
        ), 400
    page = db.paginate(listing_query(filters), per_page=20, max_per_page=50, error_out=False)
    return render_template("public/therapists.html", page=page, filters=filters, error=None, field=None)


@bp.get("/therapists/<int:therapist_id>")
@replica_reads
def therapist(therapist_id: int):
    profile = get_listable(therapist_id)
    if profile is None:
        abort(404)
    if not (current_user.is_authenticated and current_user.id == profile.user_id):
        stats.count_opened(profile.id)
    context = SearchContext.from_args(request.args)  # what the client asked the search, carried on
    return render_template(
        "public/therapist.html",
        t=profile,
        reviews=visible_reviews(profile),
        next_free=next_free(profile, minutes=context.minutes),
        context=context,
    )


@bp.get("/therapists/<int:therapist_id>/photo")
def therapist_photo(therapist_id: int):
    """Photos of listed profiles are public; otherwise only the owner and admins see them.

    A shared cache may keep a public photo but must ask again before each use
    ("no-cache", answered by a cheap 304 while the file is unchanged): once a
    therapist is suspended, the photo is gone from every cache at the next asking.
    """
    profile = db.session.get(TherapistProfile, therapist_id)
    if profile is None or not profile.photo:
        abort(404)
    mine = current_user.is_authenticated and (current_user.id == profile.user_id or current_user.is_admin)
    if not (mine or get_listable(therapist_id)):
        abort(404)
    try:
        response = uploads.send("photos", profile.photo, max_age=0)
    except FileNotFoundError:
        abort(404)
    # Listed photos may be cached, but every cache must ask again (ETag) so a
    # suspended therapist's photo stops being served at once.
    response.headers["Cache-Control"] = "private, no-store" if mine else "public, no-cache"
    return response


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="up")


@bp.get("/about/safety")
def safety():
    return render_template("public/safety.html", rules=published())
