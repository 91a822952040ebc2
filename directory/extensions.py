"""The extension objects, created unbound; create_app() binds them."""

from typing import TYPE_CHECKING, Any

from flask import abort, has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# No listing has more pages than this; a larger ?page= shows the empty page past
# the end, as any page past the end does, instead of an OFFSET no database holds.
MAX_PAGE = 100_000
MAX_PER_PAGE = 100


class Database(SQLAlchemy):
    def paginate(self, select: Any, *, page=None, per_page=None, max_per_page=None, error_out=True, count=True):
        """Flask-SQLAlchemy's paginate, with ?page= and ?per_page= held to sizes a database can use."""
        if has_request_context():
            if page is None:
                page = _whole_number_arg("page", 1, error_out)
            if per_page is None:
                per_page = _whole_number_arg("per_page", 20, error_out)
        if page is not None:
            page = min(max(page, 1), MAX_PAGE)
        if per_page is not None:
            per_page = min(max(per_page, 1), max_per_page or MAX_PER_PAGE)
        return super().paginate(
            select, page=page, per_page=per_page, max_per_page=max_per_page, error_out=error_out, count=count
        )


def _whole_number_arg(name: str, default: int, error_out: bool) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if raw.isascii() and raw.isdigit():
        return int(raw) if len(raw) <= 12 else MAX_PAGE  # clamped by the caller
    if error_out:
        abort(404)
    return default


db = Database(model_class=Base)

# The models' base class. Flask-SQLAlchemy builds `db.Model` at run time; to a
# type checker it is the declarative base it extends.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)
