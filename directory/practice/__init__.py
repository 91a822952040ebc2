from flask import Blueprint

bp = Blueprint("practice", __name__)

from . import views  # noqa: E402,F401
