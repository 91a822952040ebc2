"""Errors answer HTML to a browser and JSON under /api/.

A service's `ServiceError` is mapped here, once: at its field on a form
(`show_on_form`), as a flash (`flash_error`), or, when a view lets it through,
as the error page or the API's JSON error with the class's status.
"""

import math
import time
from collections.abc import Callable

from flask import Response, flash, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from .extensions import db, limiter
from .service_errors import ServiceError

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


# Another body for the errors under a path prefix: (status, message) -> response. A room
# above registers its own (the FHIR server answers every error as an OperationOutcome).
ERROR_BODIES: dict[str, Callable[[int, str], Response]] = {}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/hsds/", "/fhir/"))


def error_response(status: int, message: str, field: str | None = None, code: str | None = None):
    for prefix, render in ERROR_BODIES.items():
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return render(status, message)
    if wants_json():
        body = {"error": {"code": code or CODES.get(status, "error"), "message": message, "field": field}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def show_on_form(form, exc: ServiceError, default_field: str | None = None) -> int:
    """Put the service's message on the form field it names (or on `default_field`,
    else on the form as a whole); the HTTP status the page answers with."""
    for problem in exc.problems:
        name = problem.field if problem.field and problem.field in form else default_field
        if name:
            field = form[name]
            field.errors = [*field.errors, str(problem)]
        else:
            form.form_errors.append(str(problem))
    return exc.status


def flash_error(exc: ServiceError) -> None:
    flash(str(exc), "error")


def register_error_handlers(app):
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        return error_response(exc.status, str(exc), field=exc.field, code=exc.code)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_response(
            400, "The form expired or was not sent from this site. Go back, reload the page and try again.", code="csrf"
        )

    @app.errorhandler(SecurityError)
    def unknown_host(exc):
        # A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page either.
        return Response("This site does not answer to that host name.\n", 400, mimetype="text/plain")

    @app.errorhandler(429)
    def rate_limited(exc):
        if getattr(exc, "response", None) is not None:  # the page's own answer (a form shown again)
            return exc.response
        minutes = _minutes_until_reset()
        message = f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        if wants_json():
            response = error_response(429, message, code="too_many_requests")
        else:
            response = render_template("errors/rate_limited.html", minutes=minutes), 429
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        messages = {
            403: "You do not have access to that page.",
            404: "We could not find that page.",
            405: "That action is not allowed here.",
            413: "That upload is too large.",
        }
        response = error_response(status, messages.get(status, exc.description or exc.name))
        # What the exception says of itself beyond its body: a 405's Allow (RFC 9110 requires it),
        # a 401's WWW-Authenticate, a 503's Retry-After.
        rendered = make_response(response)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                rendered.headers[name] = value
        return rendered

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "Something went wrong on our side. Please try again in a moment.")

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        db.session.rollback()
        return error_response(500, "Something went wrong on our side. Please try again in a moment.")


def _minutes_until_reset() -> int:
    limit = getattr(limiter, "current_limit", None)
    reset_at = getattr(limit, "reset_at", None) if limit else None
    seconds = max(0, reset_at - time.time()) if reset_at else 60
    return max(1, math.ceil(seconds / 60))
