"""Errors answer HTML to a browser and JSON under /api/."""
from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 413: "too_large", 429: "too_many_requests",
    500: "server_error", 503: "unavailable",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, field: str | None = None, code: str | None = None):
    if wants_json():
        body = {"error": {"code": code or CODES.get(status, "error"), "message": message, "field": field}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def register_error_handlers(app):
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_response(400, "The form expired or was not sent from this site. Go back, reload the page and try again.", code="csrf")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        messages = {
            404: "We could not find that page.",
            405: "That action is not allowed here.",
            413: "That upload is too large.",
        }
        return error_response(status, messages.get(status, exc.description or exc.name))

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
