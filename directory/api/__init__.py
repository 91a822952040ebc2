from flask import Blueprint

from ..fair_api import make_fair

bp = make_fair(Blueprint("api", __name__))

from . import views  # noqa: E402,F401
