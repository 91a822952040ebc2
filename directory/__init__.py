"""The therapist directory: create_app() is a short list of register_* steps."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from config import CONFIGS, normalise_database_url

from . import audit
from .admin import bp as admin_bp
from .api import bp as api_bp
from .auth import bp as auth_bp
from .bookings import bp as bookings_bp
from .cli import register_cli
from .errors import register_error_handlers
from .extensions import csrf, db, limiter, login_manager, migrate
from .feeds import fhir_bp, hsds_bp
from .geocoding import make_geocoder
from .logging_privacy import install as keep_health_details_out_of_logs
from .mail import Mailer
from .models import User
from .practice import bp as practice_bp
from .public import bp as public_bp
from .reviews import bp as reviews_bp
from .search import bp as search_bp
from .security import apply_security_headers
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

    register_extensions(app)
    register_session_rules()
    register_blueprints(app)
    app.after_request(apply_security_headers)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    logging.getLogger("directory").setLevel(logging.INFO)
    keep_health_details_out_of_logs()
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    app.extensions["geocoder"] = make_geocoder(app.config["GEOCODER"], app.config["GEOCODER_USER_AGENT"])
    app.extensions["mailer"] = Mailer(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() and len(user_id) < 10 else None


def register_session_rules() -> None:
    """Rules the application's session keeps on every flush: the listing summary
    stays true, and the audit log refuses edits and deletes."""
    listing.install(db.session)
    audit.install(db.session)


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
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(hsds_bp, url_prefix="/hsds")
    app.register_blueprint(fhir_bp, url_prefix="/fhir")
