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
    return jsonify({"version": hsds.VERSION, "profile": hsds.PROFILE, "openapi_url": public_url("hsds.hsds_openapi")})


@hsds_bp.get("/openapi.json")
def hsds_openapi():
    return jsonify(hsds.openapi())


@hsds_bp.get("/services")
@replica_reads
def hsds_services():
    try:
        query = hsds_query.ServiceQuery.parse(request.args)
    except ServiceError as exc:
        return _hsds_error(exc.status, str(exc), exc.field)
    total, practices = hsds_query.find(query)
    document = hsds.service if query.full else hsds.service_summary
    return _hsds_page(total, query.page, query.per_page, [document(p) for p in practices])


def _hsds_page(total: int, page: int, per_page: int, contents: list[dict]):
    pages = -(-total // per_page)
    return jsonify(
        {
            "total_items": total,
            "total_pages": pages,
            "page_number": page,
            "size": len(contents),
            "first_page": page == 1,
            "last_page": page >= pages,
            "empty": total == 0,
            "contents": contents,
        }
    )


@hsds_bp.get("/service_at_locations")
@replica_reads
def hsds_service_at_locations():
    try:
        query = hsds_query.ServiceQuery.parse(request.args, "service_at_locations", hsds_query.SAL_PARAMETERS)
    except ServiceError as exc:
        return _hsds_error(exc.status, str(exc), exc.field)
    total, practices = hsds_query.find(query)
    contents = [hsds.service_at_location(p, full=query.full) for p in practices]
    return _hsds_page(total, query.page, query.per_page, contents)


@hsds_bp.get("/service_at_locations/<record_id>")
@replica_reads
def hsds_service_at_location(record_id: str):
    practice = export.listed(number_of(record_id, Kind.SERVICE_AT_LOCATION))
    if practice is None:
        return _hsds_error(404, f"No listed service at location has id {record_id[:40]!r}.")
    return jsonify(hsds.service_at_location(practice, full=True))


@hsds_bp.get("/organizations")
@replica_reads
def hsds_organizations():
    try:
        query = hsds_query.ListQuery.parse(request.args, "organizations", ("full", "full_service"))
    except ServiceError as exc:
        return _hsds_error(exc.status, str(exc), exc.field)
    total, practices = hsds_query.find_organizations(query)
    document = hsds.full_organization if query.full else (lambda p: hsds.organization(p.profile))
    return _hsds_page(total, query.page, query.per_page, [document(p) for p in practices])


@hsds_bp.get("/organizations/<record_id>")
@replica_reads
def hsds_organization(record_id: str):
    practice = export.listed(number_of(record_id, Kind.ORGANIZATION))
    if practice is None:
        return _hsds_error(404, f"No listed organization has id {record_id[:40]!r}.")
    return jsonify(hsds.full_organization(practice))


@hsds_bp.get("/taxonomies")
def hsds_taxonomies():
    try:
        query = hsds_query.ListQuery.parse(request.args, "taxonomies")
    except ServiceError as exc:
        return _hsds_error(exc.status, str(exc), exc.field)
    mine = hsds.taxonomy()
    total, contents = query.window([mine] if query.matches(mine["name"], mine["description"]) else [])
    return _hsds_page(total, query.page, query.per_page, contents)


@hsds_bp.get("/taxonomies/<record_id>")
def hsds_taxonomy(record_id: str):
    if record_id.lower() != hsds.taxonomy_id():
        return _hsds_error(404, f"No taxonomy has id {record_id[:40]!r}.")
    return jsonify(hsds.taxonomy())


@hsds_bp.get("/taxonomy_terms")
def hsds_taxonomy_terms():
    try:
        query = hsds_query.ListQuery.parse(request.args, "taxonomy_terms", ("taxonomy_id", "top_only", "parent_id"))
    except ServiceError as exc:
        return _hsds_error(exc.status, str(exc), exc.field)
    terms = [
        term
        for term in hsds.taxonomy_terms()
        if query.matches(term["name"], term["code"])
        and query.taxonomy_id in (None, term["taxonomy_id"])
        and query.parent_id is None  # our terms are all at the top: none has a parent
    ]
    total, contents = query.window(terms)
    return _hsds_page(total, query.page, query.per_page, contents)


@hsds_bp.get("/taxonomy_terms/<record_id>")
def hsds_taxonomy_term(record_id: str):
    slug = hsds.term_slug(record_id)
    if slug is None:
        return _hsds_error(404, f"No taxonomy term has id {record_id[:40]!r}.")
    return jsonify(hsds.technique_term(slug))


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
