"""JSON API, version 1."""

from flask import current_app, jsonify, request

from .. import stats
from ..errors import error_response
from ..extensions import replica_reads
from ..matching.rules import published
from ..search.forms import SearchForm, read_args
from ..search.services import search
from ..service_errors import ServiceError
from ..therapists.services import get_listable
from ..vocabulary import vocabulary
from . import bp
from .serializers import search_json, therapist_json


@bp.get("/v1/search")
@replica_reads
def search_api():
    args, not_understood = read_args(request.args)
    if not_understood:
        field, message = not_understood[0]
        return error_response(400, message, field=field, code="invalid")
    form = SearchForm(formdata=args)
    if not form.validate():
        field, message = form.first_error()
        return error_response(400, message, field=field, code="invalid")
    try:
        result = search(form.query(), current_app.extensions["geocoder"])
    except ServiceError as exc:
        return error_response(exc.status, str(exc), field=exc.field, code=exc.code)
    stats.count_shown([m.candidate.id for m in result.outcome.results])
    return jsonify(search_json(result))


@bp.get("/v1/therapists/<int:therapist_id>")
@replica_reads
def therapist(therapist_id: int):
    profile = get_listable(therapist_id)
    if profile is None:
        return error_response(404, f"No listed therapist has id {therapist_id}.")
    return jsonify(therapist_json(profile))


@bp.get("/v1/vocabulary")
def vocab():
    return jsonify(vocabulary())


@bp.get("/v1/rules")
def rules():
    """The safety rules and the goal-to-technique table, exactly as matching applies them."""
    return jsonify(published())
