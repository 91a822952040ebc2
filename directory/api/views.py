"""JSON API, version 1: each route's request and answers are in the OpenAPI
document (/api/v1/openapi.json), generated from the models below."""

from __future__ import annotations

from flask import current_app, jsonify, render_template
from spectree import Response as Answers

from .. import stats
from ..errors import error_response
from ..extensions import replica_reads
from ..matching.rules import published
from ..search.forms import SearchParameters
from ..search.services import search
from ..service_errors import ServiceError
from ..therapists.services import get_listable
from ..vocabulary import vocabulary
from . import bp
from .contract import contract, document
from .schemas import ErrorAnswer, Rules, SearchAnswer, Therapist, Vocabulary
from .serializers import search_json, therapist_json


@bp.get("/v1/search")
@replica_reads
@contract.validate(query=SearchParameters, resp=Answers(HTTP_200=SearchAnswer), tags=["search"], operation_id="search")
def search_api(query: SearchParameters):
    """Therapists matched to the client, ranked, with reasons, a safety screening and a session plan.

    A condition that rules massage out (`conditions=fever`) is answered, blocked, with or without a
    location. Nothing is guessed: an unknown parameter, a single-valued one given twice, an unknown
    slug, or conditions that cannot apply together is a 400 naming it and listing what is accepted.
    """
    try:
        result = search(query.query(), current_app.extensions["geocoder"])
    except ServiceError as exc:
        return error_response(exc.status, str(exc), field=exc.field, code=exc.code)
    stats.count_shown([m.candidate.id for m in result.outcome.results])
    # The query string can carry the client's health conditions: no shared cache keeps the answer.
    return jsonify(search_json(result)), {"Cache-Control": "private, no-cache"}


@bp.get("/v1/therapists/<int:therapist_id>")
@replica_reads
@contract.validate(
    resp=Answers(HTTP_200=Therapist, HTTP_404=ErrorAnswer),
    tags=["therapists"],
    operation_id="getTherapist",
    path_parameter_descriptions={"therapist_id": "The therapist's id, as search results give it."},
)
def therapist(therapist_id: int):
    """A listed therapist's public profile: credentials, specialties, prices, languages, rating."""
    profile = get_listable(therapist_id)
    if profile is None:
        return error_response(404, f"No listed therapist has id {therapist_id}.")
    return jsonify(therapist_json(profile))


@bp.get("/v1/vocabulary")
@contract.validate(resp=Answers(HTTP_200=Vocabulary), tags=["reference"], operation_id="getVocabulary")
def vocab():
    """Every slug the API accepts or answers with, with its label."""
    return jsonify(vocabulary())


@bp.get("/v1/rules")
@contract.validate(resp=Answers(HTTP_200=Rules), tags=["reference"], operation_id="getRules")
def rules():
    """The safety rules and the goal-to-technique table, exactly as matching applies them."""
    return jsonify(published())


@bp.get("/v1/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/v1/docs")
def docs():
    """The API reference: Swagger UI, vendored under static/swagger-ui/, reading /api/v1/openapi.json."""
    return render_template("api/docs.html")
