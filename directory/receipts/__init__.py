"""Receipts for HSA/FSA claims: one per completed visit, a yearly statement,
and the client's letter of medical necessity (/account/receipts)."""

from flask import Blueprint

bp = Blueprint("receipts", __name__)

from . import views  # noqa: E402,F401
