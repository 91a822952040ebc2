"""The extension objects, created unbound; create_app() binds them. The
database session sends the reads of views marked @replica_reads to the read
replica when DATABASE_REPLICA_URL is set; everything else goes to the primary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, current_app, has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, Select, UpdateBase
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


# app.extensions[REPLICA]: the engine create_app makes for DATABASE_REPLICA_URL. Not a
# Flask-SQLAlchemy bind: a bind gets a metadata of its own, and create_all/drop_all
# would then run against a server that refuses writes.
REPLICA = "database_replica"


@dataclass
class _Route:
    """Where this request's reads may go: the replica until its first write."""

    replica: bool
    wrote: bool = False


_route: ContextVar[_Route | None] = ContextVar("database_route", default=None)


class RoutingSession(FlaskSession):
    """The application's session: primary for every write and for every read
    after one (a request sees its own writes), and for every request not marked
    @replica_reads; the replica for the reads of marked ones."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        route = _route.get()
        if bind is None and route is not None and route.replica:
            writing = self._flushing or isinstance(clause, UpdateBase) or _locks_rows(clause)
            route.wrote = route.wrote or writing
            replica = current_app.extensions.get(REPLICA)
            if replica is not None and not route.wrote and not (self.new or self.dirty or self.deleted):
                return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _locks_rows(clause) -> bool:
    return isinstance(clause, Select) and clause._for_update_arg is not None


View = TypeVar("View", bound=Callable[..., Any])


@contextmanager
def reading_from(*, replica: bool) -> Iterator[None]:
    """Within this block the session reads from the replica (replica=True, until
    its first write) or from the primary (replica=False)."""
    token = _route.set(_Route(replica=replica))
    try:
        yield
    finally:
        _route.reset(token)


def replica_reads(view: View) -> View:
    """Mark a GET view whose reads may lag the primary by a moment: search, the
    listing, profiles, the API. Never a page that must show the request's own
    write, and never the booking pages (a booking is decided on the primary)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with reading_from(replica=True):
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


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


db = Database(model_class=Base, session_options={"class_": RoutingSession})

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
