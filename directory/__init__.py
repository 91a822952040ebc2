"""The therapist directory: create_app() is a short list of register_* steps."""

from __future__ import annotations

import hmac
import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, event
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, normalise_database_url

from . import audit, jobs
from .admin import bp as admin_bp
from .api import bp as api_bp
from .auth import bp as auth_bp
from .bookings import bp as bookings_bp
from .cli import register_cli
from .errors import register_error_handlers
from .extensions import REPLICA, csrf, db, limiter, login_manager, migrate, reading_from
from .feeds import fhir_bp, hsds_bp
from .geocoding import make_geocoder
from .logging_privacy import install as keep_health_details_out_of_logs
from .mail import Mailer
from .models import User
from .practice import bp as practice_bp
from .public import bp as public_bp
from .receipts import bp as receipts_bp
from .reviews import bp as reviews_bp
from .schedule import BEAT_SCHEDULE
from .search import bp as search_bp
from .security import DatabaseIdConverter, apply_security_headers, database_id, refuse_nul_bytes
from .storage import from_url as storage_from_url
from .templating import register as register_template_helpers
from .therapists import listing

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, **overrides) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=overrides.pop("INSTANCE_PATH", None) or os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
    )
    config_name = config_name or os.environ.get("APP_ENV") or "development"
    config = CONFIGS[config_name]
    app.config.from_object(config)
    config.init(app)
    app.config.update(overrides)
    if app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])

    trust_proxies(app)
    register_extensions(app)
    register_session_rules()
    jobs.init_app(app, BEAT_SCHEDULE)
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    app.before_request(refuse_nul_bytes)
    register_blueprints(app)
    app.after_request(apply_security_headers)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    app.logger.setLevel(logging.INFO)
    keep_health_details_out_of_logs(app.logger, [rule.rule for rule in app.url_map.iter_rules()])
    return app


def trust_proxies(app: Flask) -> None:
    """Behind PROXY_COUNT reverse proxies, the client's address (rate limits) and
    scheme come from their X-Forwarded-For and X-Forwarded-Proto; with none, those
    headers are anyone's to forge and are ignored."""
    count = app.config.get("PROXY_COUNT", 0)
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        tune_sqlite(db.engine)
    if app.config.get("DATABASE_REPLICA_URL"):
        replica_url = normalise_database_url(app.config["DATABASE_REPLICA_URL"])
        app.extensions[REPLICA] = create_engine(replica_url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    app.extensions["geocoder"] = make_geocoder(app.config["GEOCODER"], app.config["GEOCODER_USER_AGENT"])
    app.extensions["mailer"] = Mailer(app)
    uploads_folder = Path(app.config.get("UPLOAD_FOLDER") or Path(app.instance_path) / "uploads")
    app.extensions["storage"] = storage_from_url(app.config.get("STORAGE_URL"), uploads_folder)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)


def load_user(session_id: str) -> User | None:
    """The user a session names ("<id>.<session token>", see User.get_id), while
    that token is still theirs: signing out, a new password or a suspension
    changes it and so ends every session on every device. Read from the primary
    even on replica pages, so such a change is seen at once."""
    user_id, _, token = session_id.partition(".")
    number = database_id(user_id)
    if number is None or not token:
        return None
    with reading_from(replica=False):
        user = db.session.get(User, number)
    if user is None or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def register_session_rules() -> None:
    """Rules the application's session keeps: the listing summary stays true, the audit
    log refuses edits and deletes, and jobs wait for the commit of the writes behind them."""
    listing.install(db.session)
    audit.install(db.session)
    jobs.install(db.session)


def tune_sqlite(engine) -> None:
    """SQLite: enforce foreign keys (cascades), and give it the cache a server would have."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA cache_size = -65536")  # 64 MiB
        cursor.execute("PRAGMA mmap_size = 268435456")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(public_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(practice_bp, url_prefix="/account")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(bookings_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(receipts_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(hsds_bp, url_prefix="/hsds")
    app.register_blueprint(fhir_bp, url_prefix="/fhir")
