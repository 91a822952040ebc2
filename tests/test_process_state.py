"""Nothing that must be shared lives in one process: every piece of state a web
process keeps for itself is listed here and in README's "What each process keeps",
with the reason it is safe. A new module-level cache, buffer or registry fails
this test until it is listed (or moved to Redis or PostgreSQL)."""

import collections
import importlib
import pkgutil
import threading

from flask.sessions import SecureCookieSessionInterface
from werkzeug.local import LocalProxy

import directory
from directory import ROOT

# Module globals that hold state, and why each may stay in the process.
MODULE_STATE = {
    "directory.geo.gazetteer.gazetteer": "read-only ZIP gazetteer from the zipcodes package, the same everywhere",
    "directory.therapists.importer._slugs_of": "a cache of parsed slug lists (techniques, certifications, "
    "languages): a pure function of the text, the same in every process",
    "directory.therapists.importer._email_domain": "a cache of email-domain syntax checks: a pure function, "
    "the same answer in every process",
    "directory.therapists.importer._amount": "a cache of price texts read as Decimal: a pure function, "
    "the same in every process",
    "directory.therapists.importer._summary_texts": "a cache of a row's listing-summary texts: a pure function "
    "of its lists, the same in every process",
    "directory.feeds.capability.plan_net": "Plan-Net's CapabilityStatement read once from the package's own "
    "file: the same in every process",
    "directory.feeds.hsds._template": "the HSDS OpenAPI document read once from the package's own file: "
    "the same in every process",
    "directory.jobs._thread_lock": "guards the start of this process's outbox delivery thread; "
    "the jobs themselves are rows in the database",
}

# What create_app keeps in app.extensions, per process.
APP_OBJECTS = {
    "geocoder": "stateless client; online answers are cached in PostgreSQL (geocode_cache)",
    "mailer": "SMTP settings; without MAIL_SERVER a development outbox folder (one machine only)",
    "storage": "a folder (one machine) or an S3 client (connection pool only)",
    "database_replica": "the replica's connection pool",
    "celery": "the Celery app: a broker connection pool; jobs themselves live in Redis",
    "jobs_queued": "whether REDIS_URL names a queue: configuration, the same in every process",
    "outbox_thread": "without REDIS_URL, this process's outbox delivery thread: it holds no job, "
    "it claims rows from the database as any worker does",
}

FLASK_EXTENSIONS = {"sqlalchemy", "migrate", "csrf", "limiter"}  # the libraries' own entries
MUTABLE = (dict, list, set, bytearray, collections.deque, type(threading.Lock()))


def module_state() -> set[str]:
    found = set()
    for info in pkgutil.walk_packages(directory.__path__, "directory."):
        module = importlib.import_module(info.name)
        for name, value in list(vars(module).items()):
            if name.startswith("__") or name.isupper() or isinstance(value, LocalProxy):
                continue  # UPPER_CASE tables are constants by the house's convention
            cached = hasattr(value, "cache_info") and getattr(value, "__module__", None) == info.name
            if isinstance(value, MUTABLE) or cached:
                found.add(f"{info.name}.{name}")
    return found


def test_every_piece_of_per_process_state_is_known_and_documented():
    unknown = module_state() - set(MODULE_STATE)
    assert not unknown, f"per-process state nobody has judged: {sorted(unknown)}; list it here and in the README"
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### What each process keeps") :]
    missing = [name for name in sorted(MODULE_STATE) if name.removeprefix("directory.") not in section]
    assert not missing, f"README's 'What each process keeps' lacks {missing}"


def test_the_application_keeps_only_known_objects_and_no_server_side_sessions(app):
    ours = set(app.extensions) - FLASK_EXTENSIONS
    assert ours <= set(APP_OBJECTS), f"unlisted objects in app.extensions: {sorted(ours - set(APP_OBJECTS))}"
    # Sessions are cookies signed with SECRET_KEY: any process with the key reads them, none stores them.
    assert type(app.session_interface) is SecureCookieSessionInterface
