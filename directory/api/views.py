"""JSON API, version 1."""
from flask import jsonify

from ..errors import error_response
from ..matching.vocabulary import vocabulary
from ..therapists.services import get_listable
from . import bp
from .serializers import therapist_json


@bp.get("/v1/therapists/<int:therapist_id>")
def therapist(therapist_id: int):
    profile = get_listable(therapist_id)
    if profile is None:
        return error_response(404, f"No listed therapist has id {therapist_id}.")
    return jsonify(therapist_json(profile))


@bp.get("/v1/vocabulary")
def vocab():
    return jsonify(vocabulary())
