"""A fair public API: what every blueprint serving the directory's public,
read-only data gets from one call, `make_fair(blueprint)` (/api now; the HSDS
and FHIR feeds the same way):

- a rate limit per client (its address, as ProxyFix reads it), one budget for
  all the routes of every such blueprint together, `FAIR_API_RATE_LIMIT` (default below), with
  Flask-Limiter's `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
  `X-RateLimit-Reset` (a Unix time) headers and `Retry-After` on a 429;
- CORS for reading (flask-cors): `Access-Control-Allow-Origin: *` on every
  answer, never with credentials, preflights for GET and HEAD answered;
- conditional requests: a strong ETag on every 200 GET/HEAD answer, and an
  `If-None-Match` that matches it answers 304 with no body. Answers are
  `Cache-Control: no-cache` unless the view says otherwise: a cache may keep
  them but asks again each time, so a suspension shows at once and a 304
  saves the transfer.

`describe(document)` writes the same into an OpenAPI document.
"""

from __future__ import annotations

import copy

from flask import Blueprint, Response, current_app, request
from flask_cors import CORS

from .extensions import limiter

DEFAULT_LIMIT = "60 per minute;1000 per hour"
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
EXPOSED_HEADERS = ("ETag", *RATE_HEADERS, "Retry-After")
READ_METHODS = ["GET", "HEAD", "OPTIONS"]


# One budget per client across every fair blueprint (/api/v1, /hsds, /fhir): three
# blueprints must not mean three times the requests.
SCOPE = "fair"


def make_fair(blueprint: Blueprint) -> Blueprint:
    """Rate-limit, open to every origin for reading, and answer conditionally: every route of `blueprint`."""
    limiter.shared_limit(rate_limit, scope=SCOPE, methods=["GET", "HEAD"])(blueprint)
    CORS(
        blueprint,
        origins="*",
        send_wildcard=True,
        supports_credentials=False,
        methods=READ_METHODS,
        allow_headers=["If-None-Match"],
        expose_headers=list(EXPOSED_HEADERS),
        max_age=86400,
    )
    blueprint.after_request(answer_conditionally)
    return blueprint


def rate_limit() -> str:
    """Each client's budget, in Flask-Limiter's notation ("60 per minute;1000 per hour")."""
    return current_app.config.get("FAIR_API_RATE_LIMIT") or DEFAULT_LIMIT


def answer_conditionally(response: Response) -> Response:
    if request.method in ("GET", "HEAD") and response.status_code == 200 and not response.is_streamed:
        response.headers.setdefault("Cache-Control", "no-cache")
        response.add_etag()
        response.make_conditional(request)
    return response


def describe(document: dict, error_schema: str) -> dict:
    """The document with the fair-use terms in its description, and on every
    operation: the 304, the 429 (an `error_schema` answer) and the headers."""
    document = copy.deepcopy(document)
    info = document.setdefault("info", {})
    info["description"] = (info.get("description", "") + "\n\n" + terms()).strip()
    rate_headers = {
        name: {"description": text, "schema": {"type": "integer"}}
        for name, text in zip(
            RATE_HEADERS,
            (
                "Requests allowed in the current window (the limit nearest to running out).",
                "Requests left in that window.",
                "When that window resets, as a Unix time in seconds.",
            ),
        )
    }
    etag = {
        "description": "Strong validator of this answer: send it back in If-None-Match.",
        "schema": {"type": "string"},
    }
    error = {"application/json": {"schema": {"$ref": f"#/components/schemas/{error_schema}"}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("parameters", []).append(
                {
                    "name": "If-None-Match",
                    "in": "header",
                    "required": False,
                    "description": "An ETag from an earlier answer: unchanged answers come back as 304.",
                    "schema": {"type": "string"},
                }
            )
            responses = operation.setdefault("responses", {})
            for status, answer in responses.items():
                answer.setdefault("headers", {}).update(rate_headers)
                if status == "200":
                    answer["headers"]["ETag"] = etag
            responses["304"] = {"description": "Not modified: the answer has not changed since that ETag. No body."}
            responses["429"] = {
                "description": "Too many requests from this client: wait for Retry-After seconds.",
                "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
                "content": error,
            }
    return document


def terms() -> str:
    return (
        f"**Fair use.** Each client (by IP address) may make `{rate_limit()}` requests to these routes, "
        "counted together with the open feeds (/hsds, /fhir); "
        "every answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` "
        "(a Unix time), and a 429 carries `Retry-After` (seconds). Any origin may read the API from a browser "
        "(CORS `Access-Control-Allow-Origin: *`, no credentials). Every 200 answer has an `ETag`: send it in "
        "`If-None-Match` and an unchanged answer comes back as `304 Not Modified`, without a body."
    )
