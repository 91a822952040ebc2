"""The feeds' views: parse the query (one parser per feed), find, answer."""

from __future__ import annotations

import json

from flask import Response, jsonify, request

from ..errors import ERROR_BODIES
from ..extensions import replica_reads
from ..links import public_url
from ..security import database_id
from ..service_errors import ServiceError
from ..therapists import export
from . import capability, fhir, fhir_bp, fhir_search, hsds, hsds_bp, hsds_query
from .ids import Kind, number_of

FHIR_JSON = "application/fhir+json"


# HSDS


def _hsds_error(status: int, message: str, field: str | None = None):
    code = {400: "invalid", 404: "not_found"}.get(status, "error")
    return jsonify({"error": {"code": code, "message": message, "field": field}}), status


@hsds_bp.get("/")
@replica_reads
def hsds_root():
    return jsonify({"version": hsds.VERSION, "profile": hsds.PROFILE, "openapi_url": hsds.OPENAPI_URL})


@hsds_bp.get("/services")
@replica_reads
def hsds_services():
    try:
        query = hsds_query.ServiceQuery.parse(request.args)
    except ServiceError as exc:
        return _hsds_error(exc.status, str(exc), exc.field)
    total, practices = hsds_query.find(query)
    pages = -(-total // query.per_page)
    document = hsds.service if query.full else hsds.service_summary
    return jsonify(
        {
            "total_items": total,
            "total_pages": pages,
            "page_number": query.page,
            "size": len(practices),
            "first_page": query.page == 1,
            "last_page": query.page >= pages,
            "empty": total == 0,
            "contents": [document(p) for p in practices],
        }
    )


@hsds_bp.get("/services/<service_id>")
@replica_reads
def hsds_service(service_id: str):
    number = number_of(service_id, Kind.SERVICE)
    practice = export.listed(number)
    if practice is None:
        return _hsds_error(404, f"No listed service has id {service_id[:40]!r}.")
    return jsonify(hsds.service(practice))


# FHIR


def _fhir(document: dict, status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, mimetype=FHIR_JSON)


def _outcome(status: int, message: str, code: str | None = None) -> Response:
    code = code or fhir.ISSUE_CODES.get(status, "processing")
    return _fhir(fhir.operation_outcome(code, message), status)


ERROR_BODIES["/fhir"] = _outcome  # every error under /fhir (404, 405, 429, 500...) is an OperationOutcome


@fhir_bp.get("/")
@replica_reads
def base():
    return _outcome(404, "This is the FHIR base: read /fhir/metadata, or search /fhir/<type>.")


@fhir_bp.get("/metadata")
@replica_reads
def metadata():
    return _fhir(capability.capability_statement())


@fhir_bp.get("/<resource_type>/<resource_id>/_history")
@fhir_bp.get("/<resource_type>/<resource_id>/_history/<version_id>")
def history(resource_type: str, resource_id: str, version_id: str = ""):
    return _outcome(
        404, "No history is kept: vread and _history are not supported (see /fhir/metadata).", "not-supported"
    )


@fhir_bp.get("/<resource_type>")
@replica_reads
def search(resource_type: str):
    if resource_type not in fhir.BUILDERS:
        return _outcome(404, f"No resource type {resource_type[:40]!r} here; served: {', '.join(fhir.BUILDERS)}.")
    try:
        query = fhir_search.FhirSearch.parse(resource_type, request.args)
    except ServiceError as exc:
        return _outcome(400, str(exc))
    total, practices = fhir_search.find(query)
    base = public_url("fhir.search", resource_type=resource_type)
    return _fhir(fhir.searchset(resource_type, practices, total, query.links(base, total), query.includes))


@fhir_bp.get("/<resource_type>/<resource_id>")
@replica_reads
def read(resource_type: str, resource_id: str):
    if resource_type not in fhir.BUILDERS:
        return _outcome(404, f"No resource type {resource_type[:40]!r} here; served: {', '.join(fhir.BUILDERS)}.")
    practice = export.listed(database_id(resource_id))
    if practice is None:
        return _outcome(404, f"No {resource_type} has id {resource_id[:40]!r}.")
    return _fhir(fhir.resource(resource_type, practice))
