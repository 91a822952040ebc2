"""Public pages: home, the listing, a profile, and the health check."""
from flask import abort, jsonify, render_template, request
from sqlalchemy import text

from ..extensions import db
from ..therapists.services import ListingFilterError, ListingFilters, get_listable, listed_cities, listing_query
from . import bp


@bp.get("/")
def home():
    return render_template("public/home.html", cities=listed_cities())


@bp.get("/therapists")
def therapists():
    try:
        filters = ListingFilters.parse(request.args)
    except ListingFilterError as exc:
        return render_template("public/therapists.html", page=None, filters=request.args, error=str(exc), field=exc.field), 400
    page = db.paginate(listing_query(filters), per_page=20, max_per_page=50, error_out=False)
    return render_template("public/therapists.html", page=page, filters=filters, error=None, field=None)


@bp.get("/therapists/<int:therapist_id>")
def therapist(therapist_id: int):
    profile = get_listable(therapist_id)
    if profile is None:
        abort(404)
    return render_template("public/therapist.html", t=profile)


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
    return render_template("public/safety.html")
